"""The web UI: server-rendered pages (Jinja2) with a little htmx, served by the API's FastAPI app at `/`.

`router` carries every UI route; `gazetteer.web.app` includes it. Modules register their routes on import,
in an order that keeps `/workflows/new` ahead of `/workflows/{name}`.

No build step and nothing fetched at run time: `web/static/htmx.min.js` is htmx 2.0.11 (0BSD licence), copied
unmodified from the npm package `htmx.org@2.0.11` (`npm pack htmx.org@2`, file `package/dist/htmx.min.js`);
`app.js` and `style.css` are written by hand. Pages send a Content-Security-Policy allowing only this site's
scripts and styles, so templates use no inline scripts, inline styles or `hx-on` attributes.
"""

from gazetteer.web.ui import asset_page, crawler_form, search_page, session, workflow_pages  # noqa: F401
from gazetteer.web.ui.routing import router

__all__ = ["router"]
