"""Request dependencies shared by the routers: the catalog engines and the caller (permissions: auth.permissions).

`EngineDep` is the primary: every write, and every read that must see the caller's own writes at once (tokens,
workflows and runs, which pyatlan polls right after a submit). `ReadEngineDep` is the read replica
(GAZETTEER_READ_DATABASE_URL; the primary when unset), for reads that may lag it by the replica's delay:
asset searches and lookups."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request
from sqlalchemy.engine import Engine

from gazetteer.auth.principal import Principal
from gazetteer.auth.service import authenticate
from gazetteer.errors import Unauthenticated

__all__ = ["EngineDep", "ReadEngineDep", "PrincipalDep"]


def _engine(request: Request) -> Engine:
    return cast(Engine, request.app.state.engine)


def _read_engine(request: Request) -> Engine:
    return cast(Engine, request.app.state.read_engine)


def _principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Missing API token: send the header 'Authorization: Bearer <token>' "
                              "(create one with `gazetteer token create --name NAME`).")
    return authenticate(request.app.state.engine, request.app.state.settings, token.strip())


EngineDep = Annotated[Engine, Depends(_engine)]
ReadEngineDep = Annotated[Engine, Depends(_read_engine)]
PrincipalDep = Annotated[Principal, Depends(_principal)]
