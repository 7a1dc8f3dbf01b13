"""One place that turns every failure into an Atlan-style error body: {"errorCode", "errorMessage"}."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gazetteer.errors import GazetteerError

__all__ = ["install_error_handlers", "error_response"]

log = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"errorCode": code, "errorMessage": message})


def _describe(error: dict) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
    if error.get("type") == "json_invalid":
        return f"the body is not valid JSON ({error.get('ctx', {}).get('error', 'parse error')})"
    return f"{where}: {error.get('msg')}"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GazetteerError)
    async def _gazetteer(_request: Request, exc: GazetteerError) -> JSONResponse:
        return error_response(exc.status_code, exc.error_code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(_describe(error) for error in exc.errors()[:10])
        return error_response(400, "GAZETTEER-400-001", f"Invalid request: {problems}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = "ATLAS-404-00-005" if exc.status_code == 404 else f"GAZETTEER-{exc.status_code}-000"
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error on %s %s: %s", request.method, request.url.path, type(exc).__name__,
                  exc_info=exc)
        return error_response(500, "GAZETTEER-500-000",
                              "Internal error; the server log has the details. Nothing was changed by this request.")
