"""Request dependencies shared by the routers: the catalog engine, the settings and the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine

from gazetteer.auth.principal import Principal
from gazetteer.errors import PermissionDenied, Unauthenticated
from gazetteer.settings import Settings

__all__ = ["EngineDep", "SettingsDep", "PrincipalDep", "AdminDep", "WriterDep"]


def _engine(request: Request) -> Engine:
    return request.app.state.engine


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _principal(request: Request) -> Principal:
    from gazetteer.auth.service import authenticate

    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Missing API token: send the header 'Authorization: Bearer <token>' "
                              "(create one with `gazetteer token create --name NAME`).")
    return authenticate(request.app.state.engine, request.app.state.settings, token.strip())


def _admin(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    if not principal.is_admin:
        raise PermissionDenied(f"User {principal.username!r} lacks the $admin role needed here.")
    return principal


def _writer(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    if not principal.may_write():
        raise PermissionDenied(f"User {principal.username!r} has read-only ($guest) access.")
    return principal


EngineDep = Annotated[Engine, Depends(_engine)]
SettingsDep = Annotated[Settings, Depends(_settings)]
PrincipalDep = Annotated[Principal, Depends(_principal)]
AdminDep = Annotated[Principal, Depends(_admin)]
WriterDep = Annotated[Principal, Depends(_writer)]
