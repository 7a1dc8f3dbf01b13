"""Request dependencies shared by the routers: the catalog engine and the caller (permissions: auth.permissions)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine

from gazetteer.auth.principal import Principal
from gazetteer.errors import Unauthenticated

__all__ = ["EngineDep", "PrincipalDep"]


def _engine(request: Request) -> Engine:
    return request.app.state.engine


def _principal(request: Request) -> Principal:
    from gazetteer.auth.service import authenticate

    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Missing API token: send the header 'Authorization: Bearer <token>' "
                              "(create one with `gazetteer token create --name NAME`).")
    return authenticate(request.app.state.engine, request.app.state.settings, token.strip())


EngineDep = Annotated[Engine, Depends(_engine)]
PrincipalDep = Annotated[Principal, Depends(_principal)]
