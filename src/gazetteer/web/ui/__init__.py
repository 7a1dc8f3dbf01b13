"""The web UI: server-rendered pages (Jinja2) with a little htmx, served by the API's FastAPI app at `/`.

`router` carries every UI route; `gazetteer.web.app` includes it. Modules register their routes on import,
in an order that keeps `/workflows/new` ahead of `/workflows/{name}`.
"""

from gazetteer.web.ui import asset_page, crawler_form, search_page, session, workflow_pages  # noqa: F401
from gazetteer.web.ui.routing import router

__all__ = ["router"]
