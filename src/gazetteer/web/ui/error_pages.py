"""What the UI says when something a page needs is not there, or no page answers at all.

What for: the services' NotFound messages are written for API callers ("Given instance guid … is invalid",
"find yours with POST /api/service/workflows/indexsearch"); a person following a link needs to know what
happened and where to look instead. `asset` and the `missing_…` blocks look a thing up the way a page does
and turn its absence into a `Missing` page with links. `browser_page` answers a browser for addresses no
route serves (the app's error handlers call it first): API paths and non-browser clients keep Atlan's JSON
errors, which pyatlan reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from fastapi import Request, Response
from sqlalchemy.engine import Engine

from gazetteer.assets.browse import get_asset
from gazetteer.assets.views import AssetView
from gazetteer.errors import NotFound
from gazetteer.web.ui.routing import Missing, error_page, is_htmx

__all__ = ["asset", "browser_page", "missing_run", "missing_webhook", "missing_workflow"]

# Paths that belong to the API, the event intake and the API docs: their errors stay JSON whatever the client.
_MACHINE_PREFIXES = ("/api/", "/events/", "/health", "/docs", "/redoc", "/openapi.json")
_SHOWN = 100  # characters of a name or id from the URL that an error repeats


def _shown(name: str) -> str:
    return repr(name[:_SHOWN] + ("…" if len(name) > _SHOWN else ""))


@contextmanager
def _missing(message: str, *actions: tuple[str, str]) -> Iterator[None]:
    """Within it, a NotFound means what `message` says, with links to `actions`."""
    try:
        yield
    except NotFound:
        raise Missing(message, *actions) from None


def asset(engine: Engine, guid: str) -> AssetView:
    """The asset with this guid (archived ones too), or a page saying it is gone and how to find it."""
    with _missing(f"No asset has the id {_shown(guid)}. It may have been archived and later removed from the "
                  "catalog, or the link was cut short. Search for it by name instead.",
                  ("Search the catalog", "/"), ("Recent changes", "/changes")):
        return get_asset(engine, guid=guid)


def missing_workflow(name: str) -> AbstractContextManager[None]:
    return _missing(f"There is no crawler called {_shown(name)}. It may have been archived, or the link is mistyped; "
                    "every crawler is listed under Connections & crawls.",
                    ("Connections & crawls", "/workflows"), ("Search the catalog", "/"))


def missing_run(name: str) -> AbstractContextManager[None]:
    return _missing(f"There is no run called {_shown(name)}. Runs are listed on their crawler's page; they go when "
                    "the crawler is archived.", ("Connections & crawls", "/workflows"))


def missing_webhook(guid: str) -> AbstractContextManager[None]:
    return _missing(f"No webhook has the id {_shown(guid)}. It may have been removed, or it belongs to a connection "
                    "whose webhooks you do not manage.", ("Webhooks", "/webhooks"))


def _wants_page(request: Request) -> bool:
    """A browser (or htmx) asking for a UI address: it reads HTML, and no API client is told otherwise."""
    if request.url.path.startswith(_MACHINE_PREFIXES):
        return False
    return is_htmx(request) or "text/html" in request.headers.get("accept", "")


_SAY = {
    404: "There is no page at this address. The link may be old or mistyped: search the catalog, or start "
         "from Connections & crawls.",
    405: "This address takes a form, not a link: go back to the page that has the form and use its button.",
}


def browser_page(request: Request, status: int, detail: Any = None) -> Response | None:
    """The error page for a browser asking a UI address no route answered; None for API clients."""
    if not _wants_page(request):
        return None
    message = _SAY.get(status) or (detail if isinstance(detail, str) and status < 500 else
                                   "An internal error occurred; the server log has the details. Nothing was "
                                   "changed by this request.")
    return error_page(request, status, message)
