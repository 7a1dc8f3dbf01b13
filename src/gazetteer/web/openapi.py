"""Make /openapi.json say what the API answers: the Atlan error body on every failure, and no 422.

FastAPI documents a 422 with its own validation body on every route that takes parameters; this app
answers those as 400 in the Atlan shape (web/errors.py), and RequestHygiene answers 400 on any route for a
hostile URL or body. So every operation documents 400 and every operation with a body 413, here; the
routers and routes declare the rest (401 for the token, 403, 404, 409) with `errors(...)`, and each
operation that documents a 401 names the bearer token it wants.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from gazetteer.web.limits import MAX_BODY_BYTES

__all__ = ["AtlanError", "errors", "install_openapi"]

TOKEN_SCHEME = "apiToken"


class AtlanError(BaseModel):
    """The body of every failure, as Atlan's APIs answer."""

    errorCode: str = Field(description="A stable code for the kind of failure", examples=["ATLAS-404-00-009"])
    errorMessage: str = Field(description="What went wrong and where, for people")


_DESCRIPTIONS = {
    400: "The request is malformed: a bad parameter or body, a NUL character, bytes that are not UTF-8, a lone "
         "surrogate, or a JSON body nested too deeply",
    401: "No API token, or one that is not valid or was revoked",
    403: "The caller's roles do not allow this",
    404: "Nothing by that name (or guid) exists",
    409: "It exists already",
    413: f"The body is larger than {MAX_BODY_BYTES // 1024} KiB",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a router or route: these statuses, each with the Atlan error body."""
    return {status: {"model": AtlanError, "description": _DESCRIPTIONS[status]} for status in statuses}


def _error(status: int) -> dict[str, Any]:
    return {"description": _DESCRIPTIONS[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AtlanError"}}}}


def _document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.setdefault("AtlanError", AtlanError.model_json_schema())
    for name in ("HTTPValidationError", "ValidationError"):  # referenced only by the 422s dropped below
        schemas.pop(name, None)
    components["securitySchemes"] = {TOKEN_SCHEME: {
        "type": "http", "scheme": "bearer",
        "description": "An API token: `gazetteer token create --name NAME`, or the admin token of the server"}}
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            responses.setdefault("400", _error(400))
            if "requestBody" in operation:
                responses.setdefault("413", _error(413))
            if "401" in responses:
                operation["security"] = [{TOKEN_SCHEME: []}]
    return schema


def install_openapi(app: FastAPI) -> None:
    """Serve the schema FastAPI generates, with the error responses above, built once on first request."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
