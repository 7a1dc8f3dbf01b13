"""Atlan's identity endpoints (Heracles, /api/service): roles, whoami, users, groups and API keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from gazetteer.auth import service
from gazetteer.web.deps import EngineDep, PrincipalDep
from gazetteer.web.openapi import errors

__all__ = ["router"]

router = APIRouter(prefix="/api/service", tags=["identity"], responses=errors(401))

# pyatlan sends count=True for roles and count=true elsewhere; FastAPI's bool parsing takes both. The
# counts are always returned, because pyatlan reads totalRecord and filterRecord as plain keys.
Count = Annotated[bool, Query(description="Whether to count the records (they are always counted)")]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1, description="Index of the first record")]  # Heracles' int
Limit = Annotated[int | None, Query(ge=0, le=10_000, description="Records per page (default: all)")]
Sort = Annotated[str | None, Query(description="Field to sort on; '-' in front for descending")]
Filter = Annotated[str | None, Query(alias="filter", description='JSON, e.g. {"name":{"$ilike":"$%"}}')]


@router.get("/roles")
def roles(_caller: PrincipalDep, engine: EngineDep, count: Count = True, offset: Offset = 0,
          limit: Limit = None, sort: Sort = None, filter_: Filter = None) -> dict[str, Any]:
    """Workspace roles; pyatlan's role cache loads them with filter {"name":{"$ilike":"$%"}}."""
    return service.list_roles(engine, filter_, offset, limit, sort).to_json()


@router.get("/whoami")
def whoami(caller: PrincipalDep, engine: EngineDep) -> dict[str, Any]:
    """The caller; pyatlan picks /workflows ($admin) or /package-workflows from its roles."""
    return service.whoami(engine, caller)


@router.get("/users/current")
def current_user(caller: PrincipalDep, engine: EngineDep) -> dict[str, Any]:
    """The caller again, where pyatlan's `client.user.get_current()` asks."""
    return service.whoami(engine, caller)


# `columns` (repeated) and `maxLoginEvents` are accepted and ignored: every record carries all its fields.
@router.get("/users")
def users(_caller: PrincipalDep, engine: EngineDep, count: Count = True, offset: Offset = 0,
          limit: Limit = None, sort: Sort = None, filter_: Filter = None) -> dict[str, Any]:
    """People, paged; a page past the end is empty, which is where pyatlan stops."""
    return service.list_users(engine, filter_, offset, limit, sort).to_json()


@router.get("/v2/groups")
def groups(_caller: PrincipalDep, engine: EngineDep, count: Count = True, offset: Offset = 0,
           limit: Limit = None, sort: Sort = None, filter_: Filter = None) -> dict[str, Any]:
    """Groups, paged like users."""
    return service.list_groups(engine, filter_, offset, limit, sort).to_json()


@router.get("/apikeys")
def apikeys(_caller: PrincipalDep, engine: EngineDep, count: Count = True, offset: Offset = 0,
            limit: Limit = None, sort: Sort = None, filter_: Filter = None) -> dict[str, Any]:
    """Active API tokens (never their secret or hash); pyatlan resolves service-account-<name> here."""
    return service.list_tokens(engine, filter_, offset, limit, sort, include_revoked=False).to_json()
