"""Webhook subscriptions: create, list, read, change, remove, test, and their delivery log.

Who may: `Action.MANAGE_WEBHOOKS` (gazetteer.auth.permissions) on the subscription's connection, as the catalog
stores it: a $admin, or an admin the connection names. A subscription to every connection (no connection) is
a $admin's only. The same rule decides what a caller sees: the URL of a subscription can itself be a
credential (a Slack incoming webhook's is), so nobody sees a subscription they may not manage.

The secret is sealed with the credential vault's key (`KeyRing.seal`) and never read back here: no answer
carries it, except the creation answer when the secret was generated (the only time anyone can learn it).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gazetteer.assets.service import connection_attributes
from gazetteer.assets.views import epoch_ms
from gazetteer.auth.permissions import Action, authorize, may
from gazetteer.auth.principal import Principal
from gazetteer.credentials.keys import KeyRing
from gazetteer.errors import InvalidRequest, NotFound, PermissionDenied
from gazetteer.store.schema import webhook_deliveries as deliveries
from gazetteer.store.schema import webhooks
from gazetteer.webhooks import outbox, signing
from gazetteer.webhooks.inputs import WebhookInput, parse

__all__ = ["MAX_SUBSCRIPTIONS", "MAX_LOG", "DELIVERY_STATUSES", "create", "delete", "deliveries_of", "get",
           "list_subscriptions", "send_test", "update"]

MAX_SUBSCRIPTIONS = 1000  # in the whole catalog: every event reads the matching ones
MAX_LOG = 500  # deliveries one log request returns
DELIVERY_STATUSES = ("pending", "delivered", "failed")
_PUBLIC = [column for column in webhooks.c if column.name != "secret"]  # what is ever read for an answer


def _now() -> datetime:
    return datetime.now(UTC)


# ---- permissions --------------------------------------------------------------------------------------------

def _connection(engine: Engine | Connection, qualified_name: str) -> Mapping[str, Any]:
    found = connection_attributes(engine, qualified_name)
    if found is None:
        raise InvalidRequest(f"Unknown connection {qualified_name[:200]!r}: give the qualified name of a connection "
                             "in the catalog (e.g. default/glue/1700000000), or leave it out for every connection "
                             "($admin only).")
    return found


def _may_manage(engine: Engine, principal: Principal, qualified_name: str | None) -> bool:
    if qualified_name is None:
        return may(principal, Action.MANAGE_WEBHOOKS, None)
    return may(principal, Action.MANAGE_WEBHOOKS, connection_attributes(engine, qualified_name))


def _authorize(engine: Engine, principal: Principal, qualified_name: str | None) -> None:
    if qualified_name is None:
        if not may(principal, Action.MANAGE_WEBHOOKS, None):
            raise PermissionDenied(f"User {principal.username!r} may not manage webhooks for every connection: "
                                   "that takes $admin. Name a connection you are an admin of "
                                   "(connectionQualifiedName).")
        return
    # A connection gone since the subscription was made names no admins: $admin only.
    connection = connection_attributes(engine, qualified_name) or {"name": qualified_name}
    authorize(principal, Action.MANAGE_WEBHOOKS, connection, what=f"(webhooks of {qualified_name!r})")


# ---- documents ----------------------------------------------------------------------------------------------

def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else epoch_ms(moment)


def _delivery(row: Any) -> dict[str, Any]:
    return {"id": row.id, "eventKind": row.event_kind, "eventKey": row.event_key, "status": row.status,
            "attempts": row.attempts, "lastStatus": row.last_status, "lastError": row.last_error,
            "createdAt": _ms(row.created_at), "nextAttemptAt": _ms(row.next_attempt_at) if row.status == "pending"
            else None, "deliveredAt": _ms(row.delivered_at)}


def _document(row: Any, last: Any | None) -> dict[str, Any]:
    return {"guid": row.guid, "name": row.name, "url": row.url, "format": row.format,
            "connectionQualifiedName": row.connection_qualified_name, "assetTypes": row.asset_types or [],
            "events": list(row.events or ()), "enabled": bool(row.enabled), "createdBy": row.created_by,
            "createdAt": _ms(row.created_at), "updatedAt": _ms(row.updated_at),
            "lastDelivery": None if last is None else _delivery(last)}


def _last_deliveries(conn: Connection, ids: list[int]) -> dict[int, Any]:
    if not ids:
        return {}
    latest = (sa.select(sa.func.max(deliveries.c.id)).where(deliveries.c.webhook_id.in_(ids))
              .group_by(deliveries.c.webhook_id).scalar_subquery())
    rows = conn.execute(sa.select(deliveries).where(deliveries.c.id.in_(latest))).all()
    return {row.webhook_id: row for row in rows}


def _row(conn: Engine | Connection, guid: str) -> Any:
    query = sa.select(*_PUBLIC).where(webhooks.c.guid == guid)
    if isinstance(conn, Engine):
        with conn.connect() as connection:
            row = connection.execute(query).first()
    else:
        row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"No webhook has the guid {guid[:100]!r} (GET /api/service/webhooks lists them).")
    return row


def _answer(engine: Engine, guid: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = _row(conn, guid)
        return _document(row, _last_deliveries(conn, [row.id]).get(row.id))


# ---- operations ---------------------------------------------------------------------------------------------

def create(engine: Engine, keys: KeyRing, principal: Principal, body: Any) -> dict[str, Any]:
    """Add a subscription; the answer has the generated secret when the body gave none (shown this once)."""
    given = parse(body, partial=False)
    qualified_name = given.columns.get("connection_qualified_name")
    if qualified_name is not None:
        _connection(engine, qualified_name)
    _authorize(engine, principal, qualified_name)
    with engine.connect() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(webhooks)).scalar_one() >= MAX_SUBSCRIPTIONS:
            raise InvalidRequest(f"The catalog has {MAX_SUBSCRIPTIONS:,} webhooks already, the most it keeps: remove "
                                 "some first.")
    secret = given.secret or signing.new_secret()
    sealed = keys.seal(secret.encode("utf-8"))  # a key derivation (scrypt): before the write, not inside it
    now, guid = _now(), str(uuid.uuid4())
    with engine.begin() as conn:
        conn.execute(webhooks.insert().values({
            "format": "json", "enabled": True, **given.columns, "guid": guid, "secret": sealed,
            "created_by": principal.username, "created_at": now, "updated_at": now}))
    answer = _answer(engine, guid)
    return answer if given.secret else {**answer, "secret": secret}


def list_subscriptions(engine: Engine, principal: Principal, *, connection: str | None = None,
                       limit: int = MAX_SUBSCRIPTIONS, offset: int = 0) -> list[dict[str, Any]]:
    """The subscriptions `principal` may manage (of one connection, if given), oldest first."""
    query = sa.select(*_PUBLIC).order_by(webhooks.c.id)
    if connection is not None:
        query = query.where(webhooks.c.connection_qualified_name == connection)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    allowed: dict[str | None, bool] = {}
    visible = []
    for row in rows:
        qualified_name = row.connection_qualified_name
        if qualified_name not in allowed:
            allowed[qualified_name] = _may_manage(engine, principal, qualified_name)
        if allowed[qualified_name]:
            visible.append(row)
    visible = visible[offset:offset + limit]
    with engine.connect() as conn:
        last = _last_deliveries(conn, [row.id for row in visible])
    return [_document(row, last.get(row.id)) for row in visible]


def get(engine: Engine, principal: Principal, guid: str) -> dict[str, Any]:
    """One subscription, with its last delivery."""
    _authorize(engine, principal, _row(engine, guid).connection_qualified_name)
    return _answer(engine, guid)


def update(engine: Engine, keys: KeyRing, principal: Principal, guid: str, body: Any) -> dict[str, Any]:
    """Change the fields the body gives (a new secret too); moving it to another connection needs the say-so of
    both connections' admins."""
    row = _row(engine, guid)
    _authorize(engine, principal, row.connection_qualified_name)
    given: WebhookInput = parse(body, partial=True)
    columns = dict(given.columns)
    if "connection_qualified_name" in columns and columns["connection_qualified_name"] != row.connection_qualified_name:
        if columns["connection_qualified_name"] is not None:
            _connection(engine, columns["connection_qualified_name"])
        _authorize(engine, principal, columns["connection_qualified_name"])
    if given.secret is not None:
        columns["secret"] = keys.seal(given.secret.encode("utf-8"))
    with engine.begin() as conn:
        conn.execute(webhooks.update().where(webhooks.c.id == row.id).values(**columns, updated_at=_now()))
    return _answer(engine, guid)


def delete(engine: Engine, principal: Principal, guid: str) -> dict[str, Any]:
    """Remove a subscription and its delivery log (pending deliveries are not sent)."""
    row = _row(engine, guid)
    _authorize(engine, principal, row.connection_qualified_name)
    with engine.begin() as conn:
        # Deliveries first: SQLite enforces the cascade only with its foreign keys on, which they are, but this
        # does not depend on it.
        conn.execute(deliveries.delete().where(deliveries.c.webhook_id == row.id))
        conn.execute(webhooks.delete().where(webhooks.c.id == row.id))
    return {"guid": row.guid, "name": row.name, "deleted": True}


def deliveries_of(engine: Engine, principal: Principal, guid: str, *, limit: int = 50,
                  status: str | None = None) -> dict[str, Any]:
    """The subscription's most recent deliveries, newest first: status, attempts, last answer and error."""
    if status is not None and status not in DELIVERY_STATUSES:
        raise InvalidRequest(f"Unknown delivery status {status[:50]!r}: use {', '.join(DELIVERY_STATUSES)}.")
    row = _row(engine, guid)
    _authorize(engine, principal, row.connection_qualified_name)
    query = sa.select(deliveries).where(deliveries.c.webhook_id == row.id)
    counts = sa.select(deliveries.c.status, sa.func.count()).where(deliveries.c.webhook_id == row.id)
    if status is not None:
        query = query.where(deliveries.c.status == status)
    with engine.connect() as conn:
        found = conn.execute(query.order_by(deliveries.c.id.desc()).limit(min(limit, MAX_LOG))).all()
        totals: dict[str, int] = dict(conn.execute(counts.group_by(deliveries.c.status)).tuples().all())
    return {"guid": row.guid, "counts": {name: int(totals.get(name, 0)) for name in DELIVERY_STATUSES},
            "deliveries": [_delivery(delivery) for delivery in found]}


def send_test(engine: Engine, principal: Principal, guid: str) -> dict[str, Any]:
    """Queue a test event to this subscription only (whatever it subscribes to, enabled or not); its delivery."""
    row = _row(engine, guid)
    _authorize(engine, principal, row.connection_qualified_name)
    now = _now()
    body = {"connectionQualifiedName": row.connection_qualified_name, "at": now.isoformat(),
            "webhook": {"guid": row.guid, "name": row.name}, "sentBy": principal.username,
            "message": "A test delivery from Gazetteer: if you can read this, the webhook works."}
    with engine.begin() as conn:
        key = outbox.enqueue_one(conn, row, outbox.TEST_KIND, key=f"test:{uuid.uuid4()}", body=body)
        delivery = conn.execute(sa.select(deliveries).where(deliveries.c.event_key == key)).one()
    return _delivery(delivery)
