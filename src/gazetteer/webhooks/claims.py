"""The read side of the webhook outbox: dispatchers claim due deliveries, then record what became of them.

- A claim sets `claimed_until` on a batch of due, unclaimed rows. On PostgreSQL they are first locked FOR
  UPDATE SKIP LOCKED, so dispatchers in several processes take different rows and never wait for each other;
  on SQLite (one process, no row locks) the UPDATE's own conditions decide.
- A claim expires: a dispatcher that died leaves rows whose `claimed_until` passes, and any dispatcher claims
  them again (at least once: the receiver may see a delivery twice, with the same X-Gazetteer-Delivery key).
- An outcome is recorded only while the claim is still the one this dispatcher made (its `claimed_until` is
  the fence), so a dispatcher whose claim expired mid-attempt does not overwrite the next one's record.

No transaction stays open across an HTTP request: claiming and recording are short writes of their own.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gazetteer.store.schema import webhook_deliveries as deliveries
from gazetteer.store.schema import webhooks

__all__ = ["MAX_BACKOFF_SECONDS", "Claimed", "Outcome", "claim", "prune", "release_all", "retry_delay", "settle"]

MAX_BACKOFF_SECONDS = 3600.0
ERROR_CHARS = 300  # last_error is a short, plain line


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, repr=False)
class Claimed:
    """A delivery this dispatcher holds until `claimed_until`, with what sending it takes (the sealed secret)."""

    id: int
    claimed_until: datetime
    kind: str
    event_key: str
    body: dict[str, Any]
    attempts: int
    webhook_id: int
    webhook_name: str
    url: str
    format: str
    sealed_secret: str

    def __repr__(self) -> str:  # neither the secret nor the URL (a Slack URL is a credential) reaches a log
        return f"<Claimed delivery {self.id} ({self.kind}) of webhook {self.webhook_id}>"


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: delivered (a 2xx), or not with the status (None: no answer) and why."""

    delivered: bool
    status: int | None = None
    error: str | None = None


def claim(engine: Engine, *, limit: int, lease_seconds: float, now: datetime | None = None) -> list[Claimed]:
    """Claim up to `limit` due deliveries (pending, next attempt passed, unclaimed or claim expired), oldest due
    first."""
    now = now or _now()
    until = now + timedelta(seconds=lease_seconds)
    claimable = sa.and_(deliveries.c.status == "pending",
                        sa.or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until < now))
    due = (sa.select(deliveries.c.id).where(claimable, deliveries.c.next_attempt_at <= now)
           .order_by(deliveries.c.next_attempt_at, deliveries.c.id).limit(limit)
           .with_for_update(skip_locked=True))  # SQLite has no row locks and leaves the clause out
    with engine.begin() as conn:
        # Two statements, not UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED): PostgreSQL may
        # rescan such a subquery for each row, skip the rows the UPDATE itself just changed, and claim more than
        # n. The UPDATE checks again that each row is still claimable, which is all SQLite (no row locks) needs.
        due_ids = conn.execute(due).scalars().all()
        if not due_ids:
            return []
        ids = conn.execute(deliveries.update().where(deliveries.c.id.in_(due_ids), claimable)
                           .values(claimed_until=until).returning(deliveries.c.id)).scalars().all()
        if not ids:
            return []
        rows = conn.execute(
            sa.select(deliveries.c.id, deliveries.c.event_kind, deliveries.c.event_key, deliveries.c.body,
                      deliveries.c.attempts, deliveries.c.webhook_id, webhooks.c.name, webhooks.c.url,
                      webhooks.c.format, webhooks.c.secret)
            .join(webhooks, webhooks.c.id == deliveries.c.webhook_id).where(deliveries.c.id.in_(ids))
            .order_by(deliveries.c.id)).all()
    return [Claimed(row.id, until, row.event_kind, row.event_key, row.body, row.attempts, row.webhook_id, row.name,
                    row.url, row.format, row.secret) for row in rows]


def retry_delay(attempts: int, first_seconds: float) -> float:
    """Seconds before the next attempt after `attempts` failed ones: doubling from `first_seconds`, capped at an
    hour, with jitter (between half and all of it) so receivers coming back are not hit by every retry at once."""
    delay = min(MAX_BACKOFF_SECONDS, first_seconds * 2.0 ** min(attempts - 1, 30))
    return delay / 2 + random.uniform(0, delay / 2)


def settle(engine: Engine, claimed: Claimed, outcome: Outcome, *, max_attempts: int, retry_seconds: float,
           now: datetime | None = None) -> str | None:
    """Record an attempt: delivered, pending again after a backoff, or failed after `max_attempts`. The new
    status, or None when the claim was no longer this dispatcher's (nothing recorded)."""
    now = now or _now()
    attempts = claimed.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "last_status": outcome.status, "claimed_until": None}
    if outcome.delivered:
        values.update(status="delivered", last_error=None, delivered_at=now, next_attempt_at=now)
    else:
        values.update(last_error=(outcome.error or "not delivered")[:ERROR_CHARS])
        if attempts >= max_attempts:
            values.update(status="failed", next_attempt_at=now)
        else:
            values.update(status="pending",
                          next_attempt_at=now + timedelta(seconds=retry_delay(attempts, retry_seconds)))
    with engine.begin() as conn:
        done = conn.execute(deliveries.update().where(
            deliveries.c.id == claimed.id, deliveries.c.status == "pending",
            deliveries.c.claimed_until == claimed.claimed_until).values(**values)).rowcount
    return str(values["status"]) if done else None


def release_all(engine: Engine) -> int:
    """Free every claim: at the start of the only process that delivers (SQLite), its last life's claims are
    orphans, and waiting for them to expire would only delay their deliveries."""
    with engine.begin() as conn:
        return int(conn.execute(deliveries.update().where(deliveries.c.status == "pending",
                                                          deliveries.c.claimed_until.is_not(None))
                                .values(claimed_until=None)).rowcount or 0)


def prune(engine: Engine, older_than: datetime) -> int:
    """Forget delivered and failed deliveries last attempted before `older_than` (the log keeps the rest)."""
    with engine.begin() as conn:
        return int(conn.execute(deliveries.delete().where(deliveries.c.status.in_(("delivered", "failed")),
                                                          deliveries.c.next_attempt_at < older_than)).rowcount or 0)
