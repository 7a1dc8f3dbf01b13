"""The write side of the webhook outbox: one pending delivery per interested subscription, in the caller's
transaction.

What for: a change (a crawl's commit, a run's end) and the deliveries that tell of it commit together or not at
all, so a server that dies in between loses nothing; the dispatcher (`gazetteer.webhooks.delivery`) sends them
later, from any process. Writing a row is all a change ever pays: no receiver can slow it down.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from gazetteer.store.schema import webhook_deliveries, webhooks

__all__ = ["EVENT_KINDS", "MAX_ASSETS", "TEST_KIND", "enqueue", "enqueue_one", "event_key"]

EVENT_KINDS = ("breaking_change", "asset_archived", "run_failed", "run_succeeded")
TEST_KIND = "test"  # POST /api/service/webhooks/{guid}/test: to one subscription, whatever it subscribes to
MAX_ASSETS = 100  # per delivery; "moreAssets" says how many more the event had


class _Target(NamedTuple):
    """A subscription as `_deliver` reads it (a `webhooks` row has these columns too)."""

    id: int
    guid: str
    asset_types: Sequence[str] | None


def event_key(subscription_guid: str, key: str) -> str:
    """The idempotency key of one event for one subscription: what receivers see in X-Gazetteer-Delivery."""
    return hashlib.sha256(f"{subscription_guid}\n{key}".encode()).hexdigest()


def _plain(value: Any) -> Any:
    """`value` as stored JSON reads back (datetimes as ISO text), so what is sent is what was written."""
    return json.loads(json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v)))


def _kept(asset_types: Sequence[str] | None, assets: Sequence[Mapping[str, Any]]) -> list[Any] | None:
    """The assets a subscription hears of; None when it wants certain types and the event has only others."""
    if not asset_types:
        return list(assets)
    kept = [asset for asset in assets if asset.get("typeName") in asset_types]
    return kept if kept or not assets else None


def _row(subscription: Any, kind: str, key: str, body: Mapping[str, Any], assets: list[Any],
         now: datetime) -> dict[str, Any]:
    delivery_key = event_key(subscription.guid, key)
    document = {**body, "kind": kind, "eventKey": delivery_key, "assets": assets[:MAX_ASSETS],
                "moreAssets": max(0, len(assets) - MAX_ASSETS)}
    return {"webhook_id": subscription.id, "event_kind": kind, "event_key": delivery_key, "body": document,
            "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}


def _insert(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Insert, skipping event keys already there (ON CONFLICT DO NOTHING: a plain INSERT's unique violation
    would abort the caller's whole transaction on PostgreSQL)."""
    if not rows:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (dialect.insert(webhook_deliveries).values(rows).on_conflict_do_nothing(index_elements=["event_key"])
                 .returning(webhook_deliveries.c.id))  # the rows written (psycopg's rowcount here is -1)
    return len(conn.execute(statement).all())


def _deliver(conn: Connection, subscriptions: Iterable[Any], kind: str, key: str, body: Mapping[str, Any],
             assets: Sequence[Mapping[str, Any]]) -> int:
    now, plain_body, plain_assets = datetime.now(UTC), _plain(dict(body)), _plain(list(assets))
    rows = []
    for subscription in subscriptions:
        kept = _kept(subscription.asset_types, plain_assets)
        if kept is not None:
            rows.append(_row(subscription, kind, key, plain_body, kept, now))
    return _insert(conn, rows)


def enqueue(conn: Connection, kind: str, *, key: str, connection_qualified_name: str | None,
            body: Mapping[str, Any], assets: Sequence[Mapping[str, Any]] = ()) -> int:
    """In the caller's transaction: one pending delivery per enabled subscription that wants `kind` for this
    connection (a subscription without a connection wants every connection).

    `assets` (each a dict with at least typeName, qualifiedName, guid, name; may have action, breaking, diff,
    affected) are filtered to the subscription's asset types; when a subscription has asset types and none of
    `assets` is of them, and `assets` was not empty, it gets no delivery. The delivery body is `body` plus
    {"kind", "eventKey", "assets": filtered (at most MAX_ASSETS, with "moreAssets": how many were left out)}.
    `key` + the subscription make the idempotency key (`event_key`, unique: enqueuing the same key twice for a
    subscription adds nothing). Returns how many deliveries were written.
    """
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown webhook event kind {kind!r}; expected one of {EVENT_KINDS}")
    where: list[sa.ColumnElement[bool]] = [webhooks.c.enabled.is_(True)]
    if connection_qualified_name is None:
        where.append(webhooks.c.connection_qualified_name.is_(None))
    else:
        where.append(sa.or_(webhooks.c.connection_qualified_name.is_(None),
                            webhooks.c.connection_qualified_name == connection_qualified_name))
    found = conn.execute(sa.select(webhooks.c.id, webhooks.c.guid, webhooks.c.events, webhooks.c.asset_types)
                         .where(*where).order_by(webhooks.c.id)).all()
    # `events` is a JSON list: filtered here rather than in SQL, the same way on both backends.
    return _deliver(conn, (row for row in found if kind in (row.events or ())), kind, key, body, assets)


def enqueue_one(conn: Connection, subscription: Any, kind: str, *, key: str, body: Mapping[str, Any]) -> str:
    """One delivery to `subscription` (a `webhooks` row with id and guid) whatever it subscribes to: a test.
    Returns its event key."""
    _deliver(conn, [_Target(subscription.id, subscription.guid, None)], kind, key, body, ())
    return event_key(subscription.guid, key)
