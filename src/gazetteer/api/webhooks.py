"""Webhook subscriptions over HTTP (/api/service/webhooks): Atlan has none, so the paths follow its service API's
style. Everything is decided in `gazetteer.webhooks.subscriptions`; these routes only carry it."""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import APIRouter, Body, Path, Query, Request

from gazetteer.credentials.keys import KeyRing
from gazetteer.web.deps import EngineDep, PrincipalDep
from gazetteer.web.openapi import errors
from gazetteer.webhooks import subscriptions
from gazetteer.webhooks.inputs import FORMATS, MAX_NAME, MAX_SECRET, MAX_URL, MIN_SECRET
from gazetteer.webhooks.outbox import EVENT_KINDS

__all__ = ["router"]

router = APIRouter(prefix="/api/service/webhooks", tags=["webhooks"], responses=errors(401))

# The body is checked by gazetteer.webhooks.inputs (one set of messages for the API and the UI); this schema
# only documents it.
_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "maxLength": MAX_NAME},
    "url": {"type": "string", "maxLength": MAX_URL, "description": "The https:// or http:// address events go to"},
    "events": {"type": "array", "items": {"type": "string", "enum": list(EVENT_KINDS)}},
    "format": {"type": "string", "enum": list(FORMATS), "default": "json",
               "description": "json: the event; slack: a Slack incoming-webhook message"},
    "connectionQualifiedName": {"type": ["string", "null"],
                                "description": "Only this connection's events; leave out for all ($admin only)"},
    "assetTypes": {"type": ["array", "null"], "items": {"type": "string"},
                   "description": "Only events about these asset types (Table, View, Column...); empty for all"},
    "secret": {"type": "string", "minLength": MIN_SECRET, "maxLength": MAX_SECRET, "writeOnly": True,
               "description": "Signs the deliveries; leave out on creation and one is generated and answered once"},
    "enabled": {"type": "boolean", "default": True},
}
_CREATE_BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["name", "url", "events"], "properties": _FIELDS}}}}
_UPDATE_BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "properties": _FIELDS}}}}
JsonObject = Annotated[dict[str, Any], Body()]
Guid = Annotated[str, Path(max_length=100, description="The webhook's guid")]


def _keys(request: Request) -> KeyRing:
    return cast(KeyRing, request.app.state.vault.keys)


def _wake(request: Request) -> None:
    dispatcher = getattr(request.app.state, "webhooks", None)
    if dispatcher is not None:
        dispatcher.wake()


@router.post("", responses=errors(403), openapi_extra={"requestBody": _CREATE_BODY})
def create(body: JsonObject, request: Request, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    """Subscribe a URL to events; without a `secret`, the answer carries a generated one, shown this once."""
    return subscriptions.create(engine, _keys(request), principal, body)


@router.get("")
def list_webhooks(engine: EngineDep, principal: PrincipalDep,
                  connection: Annotated[str | None, Query(max_length=1024, description="Only this connection")] = None,
                  limit: Annotated[int, Query(ge=1, le=subscriptions.MAX_SUBSCRIPTIONS)] = 100,
                  offset: Annotated[int, Query(ge=0, le=subscriptions.MAX_SUBSCRIPTIONS)] = 0) -> dict[str, Any]:
    """The subscriptions the caller may manage, each with its last delivery."""
    found = subscriptions.list_subscriptions(engine, principal, connection=connection, limit=limit, offset=offset)
    return {"records": found, "count": len(found)}


@router.get("/{guid}", responses=errors(403, 404))
def get(guid: Guid, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    """One subscription (never its secret)."""
    return subscriptions.get(engine, principal, guid)


@router.post("/{guid}", responses=errors(403, 404), openapi_extra={"requestBody": _UPDATE_BODY})
def update(guid: Guid, body: JsonObject, request: Request, engine: EngineDep,
           principal: PrincipalDep) -> dict[str, Any]:
    """Change the fields given (a new `secret` too; it is not answered)."""
    return subscriptions.update(engine, _keys(request), principal, guid, body)


@router.delete("/{guid}", responses=errors(403, 404))
def delete(guid: Guid, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    """Remove a subscription and its delivery log."""
    return subscriptions.delete(engine, principal, guid)


@router.get("/{guid}/deliveries", responses=errors(403, 404))
def deliveries(guid: Guid, engine: EngineDep, principal: PrincipalDep,
               limit: Annotated[int, Query(ge=1, le=subscriptions.MAX_LOG)] = 50,
               status: Annotated[str | None, Query(max_length=16, description="pending, delivered or failed")] = None,
               ) -> dict[str, Any]:
    """The delivery log, newest first: status, attempts, last HTTP status and error."""
    return subscriptions.deliveries_of(engine, principal, guid, limit=limit, status=status)


@router.post("/{guid}/test", responses=errors(403, 404))
def test(guid: Guid, request: Request, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    """Send a test event now; the answer is its delivery (pending: follow it in the delivery log)."""
    queued = subscriptions.send_test(engine, principal, guid)
    _wake(request)
    return queued
