"""The UI's router and what every UI page shares: the sign-in cookie, HTML errors, rendering, static files.

What for: UI routes answer HTML, never the API's JSON errors. `UIRoute` wraps each route so that a missing
or revoked sign-in becomes a redirect to /sign-in, a GazetteerError becomes the same page layout with the
message (or a small fragment for htmx requests), and every answer carries the UI's security headers.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Annotated, Any, cast
from urllib.parse import parse_qsl, quote, urlsplit

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, Undefined, select_autoescape
from sqlalchemy.engine import Engine

from gazetteer import __version__
from gazetteer.auth.permissions import Action, may
from gazetteer.auth.principal import Principal
from gazetteer.auth.service import authenticate, list_roles
from gazetteer.errors import GazetteerError, NotFound, Unauthenticated
from gazetteer.web.ui import formatting, lineage_graph

__all__ = ["router", "routes_of", "render", "UserDep", "TOKEN_COOKIE", "HINT_COOKIE", "READ_PRIMARY_COOKIE", "is_htmx",
           "FormDep", "safe_next", "SignInRequired", "read_engine", "Missing", "error_page"]

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
TOKEN_COOKIE = "gazetteer_token"
# Not secret: says "this browser has signed in", so that a link followed from another site (which a
# SameSite=Strict cookie does not accompany) can be retried as a same-site navigation instead of asking
# for the token again.
HINT_COOKIE = "gazetteer_signed_in"
COOKIE_MAX_AGE = 14 * 24 * 3600
# Read-your-writes with a read replica: a browser that sent a form (say, saved a description and is redirected
# to the asset's page) reads the primary for this long, so it sees its own change whatever the replica's lag.
# Not secret and not trusted for anything: a client that keeps it only keeps reading the primary.
READ_PRIMARY_COOKIE = "gazetteer_read_primary"
READ_PRIMARY_SECONDS = 10
_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'")


class SignInRequired(Exception):
    """Raised by the user dependency when the browser has no sign-in cookie."""

    def __init__(self, message: str | None = None, *, clear: bool = False) -> None:
        super().__init__(message or "")
        self.message = message
        self.clear = clear


# ---- static files -----------------------------------------------------------------------------------------

def _static_versions() -> dict[str, str]:
    versions = {}
    for path in sorted(STATIC_DIR.glob("*")):
        if path.is_file():
            versions[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return versions


_STATIC = _static_versions()
_STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon"}


def static_url(name: str) -> str:
    """The URL of a static file with its content hash, so browsers may cache it for good."""
    return f"/static/{name}?v={_STATIC.get(name, __version__)}"


# ---- templates --------------------------------------------------------------------------------------------

env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html"]),
                  trim_blocks=True, lstrip_blocks=True)
env.globals.update(static_url=static_url, version=__version__)


def _defined(function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that sees None for a missing attribute (assets of other types lack many of them)."""
    def wrapper(value: Any, *args: Any, **kwargs: Any) -> Any:
        return function(None if isinstance(value, Undefined) else value, *args, **kwargs)
    return wrapper


env.filters.update({name: _defined(cast(Callable[..., Any], function)) for name, function in {
    "bytes": formatting.human_bytes, "count": formatting.human_count, "epoch": formatting.from_epoch_ms,
    "ago": formatting.relative_time, "argo": formatting.argo_time, "iso": formatting.iso,
    "sql": formatting.highlight_sql, "snippet": formatting.snippet, "duration": formatting.duration,
    "dotted": lineage_graph.dotted_name,
}.items()})


def is_htmx(request: Request) -> bool:
    """A request made by htmx to swap part of a page (not a history restore, which wants the whole page)."""
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-history-restore-request") != "true"


def read_engine(request: Request) -> Engine:
    """The engine of a read-only page: the read replica (the primary when there is none), or the primary
    for a browser that sent a form in the last READ_PRIMARY_SECONDS (it must see what it just changed)."""
    if READ_PRIMARY_COOKIE in request.cookies:
        return cast(Engine, request.app.state.engine)
    return cast(Engine, request.app.state.read_engine)


def _remember_write(request: Request, response: Response) -> None:
    if request.method == "POST" and response.status_code < 400 \
            and request.app.state.read_engine is not request.app.state.engine:
        response.set_cookie(READ_PRIMARY_COOKIE, "1", max_age=READ_PRIMARY_SECONDS, path="/", httponly=True,
                            samesite="strict", secure=request.url.scheme == "https")


def _context(request: Request, context: Mapping[str, Any]) -> dict[str, Any]:
    user = getattr(request.state, "ui_user", None)
    return {"request": request, "user": user, "path": request.url.path,
            "can_create": user is not None and may(user, Action.CREATE_WORKFLOW), **context}


def render(request: Request, template: str, context: Mapping[str, Any] | None = None, *, status: int = 200,
           headers: Mapping[str, str] | None = None) -> HTMLResponse:
    """A whole page (or a fragment template) rendered with the signed-in user in its context."""
    html = env.get_template(template).render(_context(request, context or {}))
    response = HTMLResponse(html, status_code=status, headers=dict(headers or {}))
    response.headers["Vary"] = "HX-Request"
    return response


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site only (never //host or a scheme)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


async def form_data(request: Request) -> dict[str, list[str]]:
    """A url-encoded form body as name → values (what browsers and htmx send).

    Used as a dependency (`FormDep`), so that the route itself can be a plain `def`: FastAPI runs those in
    its thread pool, and the catalog and Glue calls they make never block the event loop.
    """
    body = (await request.body()).decode("utf-8", errors="replace")
    out: dict[str, list[str]] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        out.setdefault(key, []).append(value)
    return out


FormDep = Annotated[dict[str, list[str]], Depends(form_data)]


# ---- sign-in and errors -----------------------------------------------------------------------------------

def current_user(request: Request) -> Principal:
    """The signed-in caller, from the HttpOnly cookie; SignInRequired or Unauthenticated otherwise."""
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        raise SignInRequired()
    try:
        principal = authenticate(request.app.state.engine, request.app.state.settings, token)
    except Unauthenticated as exc:
        raise SignInRequired(exc.message, clear=True) from None
    request.state.ui_user = principal
    return principal


UserDep = Annotated[Principal, Depends(current_user)]


def _sign_in_redirect(request: Request, exc: SignInRequired) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET" or is_htmx(request):
        # Come back to the page the user was on, not to a fragment or a form action.
        source = urlsplit(request.headers.get("hx-current-url") or request.headers.get("referer") or "/")
        target = source.path + (f"?{source.query}" if source.query else "")
    location = "/sign-in?next=" + quote(safe_next(target), safe="")
    if exc.message:
        location += "&reason=expired"
    if is_htmx(request):
        response: Response = Response(status_code=204, headers={"HX-Redirect": location})
    else:
        response = RedirectResponse(location, status_code=303)
    if exc.clear:
        clear_sign_in(response)
    return response


def clear_sign_in(response: Response) -> None:
    response.delete_cookie(TOKEN_COOKIE, path="/", httponly=True, samesite="strict")
    response.delete_cookie(HINT_COOKIE, path="/", samesite="lax")


def set_sign_in(response: Response, request: Request, token: str) -> None:
    secure = request.url.scheme == "https"
    response.set_cookie(TOKEN_COOKIE, token, max_age=COOKIE_MAX_AGE, path="/", httponly=True, samesite="strict",
                        secure=secure)
    set_hint(response, request)


def set_hint(response: Response, request: Request) -> None:
    response.set_cookie(HINT_COOKIE, "1", max_age=COOKIE_MAX_AGE, path="/", httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")


_TITLES = {400: "That did not work", 401: "Please sign in", 403: "Not allowed", 404: "Not found",
           405: "Not a page", 409: "Already exists", 413: "Too large", 429: "Too many requests",
           500: "Something went wrong", 503: "Not available right now", 504: "That took too long"}
# Where to go from an error page when the error names nowhere better.
_ELSEWHERE = (("Search the catalog", "/"), ("Connections & crawls", "/workflows"))


class Missing(NotFound):
    """Something a page names is not in the catalog, said in the UI's words, with where to look instead."""

    def __init__(self, message: str, *actions: tuple[str, str]) -> None:
        super().__init__(message)
        self.actions = actions


def error_response(request: Request, status: int, message: str,
                   actions: tuple[tuple[str, str], ...] = ()) -> HTMLResponse:
    """The error in the page layout, or as a fragment for htmx (which swaps it where the answer goes), with
    links (label, path) to what to do next."""
    title = _TITLES.get(status, "Something went wrong")
    if is_htmx(request):
        return render(request, "_error.html", {"title": title, "message": message}, status=status)
    return render(request, "error.html", {"title": title, "message": message, "status": status,
                                          "actions": actions or _ELSEWHERE}, status=status)


def error_page(request: Request, status: int, message: str) -> Response:
    """An error page for a request no UI route answered (an unknown address, a form URL opened as a link),
    showing the navigation of the browser's user when its sign-in cookie is good."""
    try:
        current_user(request)
    except (SignInRequired, GazetteerError):
        pass  # the page is the same without the navigation
    return _secure(error_response(request, status, message))


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True  # older browsers; SameSite=Strict still keeps the cookie off cross-site posts
    return urlsplit(origin).netloc == request.headers.get("host")


def _secure(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


class UIRoute(APIRoute):
    """An APIRoute whose failures are pages: sign-in redirects, GazetteerError messages, never JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            if request.method == "POST" and not _same_origin(request):
                return _secure(error_response(request, 403, "This form was sent from another site, so it was "
                                                            "refused. Reload the page and try again."))
            try:
                response = await original(request)
            except SignInRequired as exc:
                response = _sign_in_redirect(request, exc)
            except GazetteerError as exc:
                response = error_response(request, exc.status_code, exc.message, getattr(exc, "actions", ()))
            except RequestValidationError as exc:
                problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}"
                                     for e in exc.errors()[:5])
                response = error_response(request, 400, f"The request was not understood ({problems}).")
            except Exception as exc:  # noqa: BLE001 - a page, not a stack trace
                log.error("UI error on %s %s", request.method, request.url.path, exc_info=exc)
                response = error_response(request, 500, "An internal error occurred; the server log has the "
                                                        "details. Nothing was changed by this request.")
            if getattr(request.state, "ui_user", None) is not None and HINT_COOKIE not in request.cookies:
                set_hint(response, request)
            _remember_write(request, response)
            return _secure(response)

        return handler


# Every UI module adds its routes here when imported; `gazetteer.web.ui` serves them in the order of its PAGES.
router = APIRouter(include_in_schema=False, route_class=UIRoute)


def routes_of(module: str) -> list[APIRoute]:
    """The routes `module` (a dotted name) added to `router`, in the order it added them."""
    return [route for route in router.routes if isinstance(route, APIRoute) and route.endpoint.__module__ == module]


@router.get("/static/{name}")
def static_file(name: str, v: str | None = None) -> Response:
    """Vendored htmx, the script and the stylesheet; cached for good when asked by content hash."""
    if name not in _STATIC:
        raise NotFound(f"No static file {name!r}.")
    path = STATIC_DIR / name
    cache = "public, max-age=31536000, immutable" if v == _STATIC[name] else "public, max-age=300"
    response = FileResponse(path, media_type=_STATIC_TYPES.get(path.suffix, "application/octet-stream"))
    response.headers["Cache-Control"] = cache
    return response


def role_names(engine: Any) -> dict[str, str]:
    """Role id → name, to show the roles a connection names by id (as pyatlan sends them)."""
    return {record["id"]: record["name"] for record in list_roles(engine).records}
