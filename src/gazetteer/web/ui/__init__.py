"""The web UI: server-rendered pages (Jinja2) with a little htmx, served by the API's FastAPI app at `/`.

`router` carries every UI route, in the order of `PAGES`; `gazetteer.web.app` includes it.

No build step and nothing fetched at run time: `web/static/htmx.min.js` is htmx 2.0.11 (0BSD licence), copied
unmodified from the npm package `htmx.org@2.0.11` (`npm pack htmx.org@2`, file `package/dist/htmx.min.js`);
`app.js` and `style.css` are written by hand. Pages send a Content-Security-Policy allowing only this site's
scripts and styles, so templates use no inline scripts, inline styles or `hx-on` attributes.
"""

from typing import cast

from fastapi import APIRouter
from fastapi.routing import APIRoute

from gazetteer.web.ui import (
    asset_editing,
    asset_page,
    changes_page,
    crawler_form,
    glossary_pages,
    history_page,
    lineage_page,
    routing,
    search_page,
    session,
    webhooks_page,
    workflow_pages,
)

__all__ = ["PAGES", "router"]

# The modules whose routes make up the UI, in the order those routes are tried. Starlette serves the first
# route whose path matches, so a module with catch-all paths comes after every module whose fixed paths they
# would also match: workflow_pages' /workflows/{name} after crawler_form's /workflows/new, asset_editing's
# /assets/{guid}/{field} after lineage_page's /assets/{guid}/lineage (and history_page's /assets/{guid}/history,
# changes_page's /assets/by-name). Each module adds its routes to
# `routing.router` when it is first imported, and that moment depends on who imports it first; this list, not
# import order, decides.
PAGES = (routing, session, search_page, crawler_form, lineage_page, history_page, changes_page, asset_page,
         asset_editing, workflow_pages, webhooks_page, glossary_pages)

router = APIRouter(include_in_schema=False)
for page in PAGES:
    router.routes.extend(routing.routes_of(page.__name__))
_unlisted = ({cast(APIRoute, route).endpoint.__module__ for route in routing.router.routes}
             - {page.__name__ for page in PAGES})
if _unlisted:
    raise RuntimeError(f"UI modules with routes missing from gazetteer.web.ui.PAGES: {', '.join(sorted(_unlisted))}")
