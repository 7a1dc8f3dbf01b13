"""One place that turns every failure into an Atlan-style error body: {"errorCode", "errorMessage"}."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gazetteer.errors import GazetteerError
from gazetteer.store.budget import refusal

__all__ = ["install_error_handlers", "error_response", "PageHook"]

log = logging.getLogger(__name__)

# Answers a request no route answered (status, detail) with a page instead of JSON, or None to leave it JSON:
# the web UI's, for browsers on its addresses (gazetteer.web.ui.error_pages.browser_page).
PageHook = Callable[[Request, int, Any], Response | None]


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"errorCode": code, "errorMessage": message}, headers=headers)


_PARAMETER_PLACES = ("query", "path", "header", "cookie")


def _describe(errors: list[dict[str, Any]]) -> str:
    """Parameter problems named as the routes name them ("query parameter 'x' ..."), then body problems."""
    parameters, body = [], []
    for error in errors[:10]:
        loc = error.get("loc", ())
        if loc and loc[0] in _PARAMETER_PLACES:
            what = f"{loc[0]} parameter {'.'.join(str(part) for part in loc[1:])!r}"
            missing = error.get("type") == "missing"
            parameters.append(f"{what} is required" if missing else f"{what}: {error.get('msg')}")
        elif error.get("type") == "json_invalid":
            body.append(f"the body is not valid JSON ({error.get('ctx', {}).get('error', 'parse error')})")
        else:
            body.append(f"{'.'.join(str(part) for part in loc if part != 'body') or 'body'}: {error.get('msg')}")
    return "; ".join(parameters + ([f"Invalid request: {'; '.join(body)}"] if body else []))


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path; the router's own 405 names only the first route's.

    Each method is tried against the routes as the router would, so routes in included routers count too.
    """
    routes = request.app.router.routes
    return ", ".join(method for method in _METHODS
                     if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s %s: %s", request.method, request.url.path, type(exc).__name__, exc_info=exc)
    page: PageHook | None = getattr(request.app.state, "error_page", None)
    if page is not None and (answer := await run_in_threadpool(page, request, 500, None)) is not None:
        return answer
    return error_response(500, "GAZETTEER-500-000",
                          "Internal error; the server log has the details. Nothing was changed by this request.")


class _AnswerUnexpected:
    """Answer an unexpected exception with the 500 body, log it, and keep the connection open.

    Starlette hands such an exception to the handler registered for Exception (in its ServerErrorMiddleware),
    sends that answer, then re-raises so that the server may log it; uvicorn, seeing the application raise,
    closes the keep-alive connection, and a client that pools connections fails its next request. Here the
    traceback goes to the log and the exception stops. One raised after the answer began is re-raised: half
    an answer cannot be finished, and only closing the connection tells the client so.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 - logged with its traceback by _unexpected
            if started:
                raise
            response = await _unexpected(Request(scope), exc)
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI, page: PageHook | None = None) -> None:
    """Atlan's JSON errors everywhere, except where `page` answers a request no route answered with a page."""
    app.state.error_page = page

    @app.exception_handler(GazetteerError)
    async def _gazetteer(_request: Request, exc: GazetteerError) -> JSONResponse:
        return error_response(exc.status_code, exc.error_code, exc.message)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> Response:
        # A query stopped by the time budget, or a regex PostgreSQL will not run: the request asked too much.
        refused = refusal(exc)
        if refused is None:
            return await _unexpected(request, exc)
        return error_response(refused.status_code, refused.error_code, refused.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, "GAZETTEER-400-001", _describe(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        # The page reads the sign-in cookie (a database query): in the thread pool, off the event loop.
        if page is not None and (answer := await run_in_threadpool(page, request, exc.status_code,
                                                                   exc.detail)) is not None:
            answer.headers.update(headers)
            return answer
        code = "ATLAS-404-00-005" if exc.status_code == 404 else f"GAZETTEER-{exc.status_code}-000"
        return error_response(exc.status_code, code, str(exc.detail), headers)

    # Errors inside the routers stop at _AnswerUnexpected; this handler answers those of middleware outside it.
    app.add_exception_handler(Exception, _unexpected)
    app.add_middleware(_AnswerUnexpected)
