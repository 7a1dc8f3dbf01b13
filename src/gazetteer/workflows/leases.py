"""Which process runs which run, kept in the database so that it holds across processes and machines.

- A run is claimed, never assigned: `claim_next` turns the oldest Pending run of a workflow Running, only
  when none of that workflow's runs is Running. A partial unique index (migration 0007) makes a second
  Running run of a workflow impossible, so two claims racing from two workers cannot both win.
- A claimed run carries a lease: the worker's name and an expiry. The worker renews it while the run lives
  (`renew`, which also reads whether someone asked the run to stop). A worker that dies stops renewing;
  `reap_expired` ends its runs as Error after putting back what they had written, and their workflows'
  next runs may start.
- Only the lease holder may end its run (`finish` checks the holder): a run that was reaped meanwhile
  keeps the Error the reaper gave it.

Times are the processes' clocks (UTC): machines that share a database must keep their clocks in sync
(NTP), which a lease of tens of seconds tolerates easily.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gazetteer.assets.publish import roll_back
from gazetteer.webhooks.run_events import enqueue_run_end
from gazetteer.workflows.models import runs, workflows

__all__ = ["LeaseLost", "claim_next", "finish", "hold", "mark_dispatched", "pending_workflows", "reap_expired",
           "recover_all_running", "renew", "worker_name"]

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def worker_name(kind: str) -> str:
    """`<kind>@<host>:<pid>`: what logs and the runs table name a process by."""
    return f"{kind}@{socket.gethostname()}:{os.getpid()}"


def claim_next(engine: Engine, workflow_name: str, worker: str, lease_seconds: float) -> str | None:
    """Claim the workflow's oldest Pending run if none of its runs is Running; its name, or None."""
    oldest = (sa.select(runs.c.id).where(runs.c.workflow_name == workflow_name, runs.c.phase == "Pending")
              .order_by(runs.c.id).limit(1).scalar_subquery())  # ids are the database's submit order
    busy = sa.exists().where(runs.c.workflow_name == workflow_name, runs.c.phase == "Running")
    now = _now()
    try:
        with engine.begin() as conn:
            return conn.execute(
                runs.update().where(runs.c.id == oldest, runs.c.phase == "Pending", ~busy)
                .values(phase="Running", started_at=now, worker=worker,
                        lease_expires_at=now + timedelta(seconds=lease_seconds))
                .returning(runs.c.name)).scalar()
    except sa.exc.IntegrityError:
        return None  # another worker claimed a run of this workflow at the same moment: it is busy


class LeaseLost(RuntimeError):
    """The run's lease went to another process: this one must not write for the run any more."""


def hold(conn: Connection, run_name: str, worker: str) -> None:
    """Within a write transaction: check that `worker` still holds the run, and keep it so until the commit.

    On PostgreSQL the row is locked FOR KEY SHARE: a reaper's takeover (which locks it FOR UPDATE first) waits
    for this transaction to end, and then undoes it along with the rest, while the holder's own lease renewals
    and progress updates (plain UPDATEs, which FOR KEY SHARE lets through) do not wait for its pages. SQLite
    has one writer at a time, which gives the same order.
    """
    holder = conn.execute(sa.select(runs.c.worker).where(runs.c.name == run_name, runs.c.phase == "Running")
                          .with_for_update(read=True, key_share=True)).scalar()
    if holder != worker:
        raise LeaseLost(f"run {run_name} is no longer held by {worker} (now: {holder or 'ended'})")


def renew(engine: Engine, run_name: str, worker: str, lease_seconds: float) -> tuple[bool, bool]:
    """Extend the lease: (still held by `worker`, stop requested)."""
    with engine.begin() as conn:
        row = conn.execute(
            runs.update().where(runs.c.name == run_name, runs.c.phase == "Running", runs.c.worker == worker)
            .values(lease_expires_at=_now() + timedelta(seconds=lease_seconds))
            .returning(runs.c.stop_requested)).first()
    return (row is not None, bool(row and row.stop_requested))


def finish(engine: Engine, run_name: str, worker: str, **values: Any) -> bool:
    """End a run the worker holds; False when it no longer does (the run was reaped and keeps its Error).

    The webhooks' run_succeeded or run_failed is queued in the same transaction: none is lost, none is told twice.
    """
    with engine.begin() as conn:
        ended = conn.execute(
            runs.update().where(runs.c.name == run_name, runs.c.phase == "Running", runs.c.worker == worker)
            .values(**values, lease_expires_at=None, finished_at=_now())
            .returning(runs.c.workflow_name, runs.c.phase, runs.c.message, runs.c.report, runs.c.started_at,
                       runs.c.finished_at)).first()
        if ended is None:
            return False
        connection = conn.execute(sa.select(workflows.c.connection_qualified_name)
                                  .where(workflows.c.name == ended.workflow_name)).scalar()
        enqueue_run_end(conn, run=run_name, workflow=ended.workflow_name, phase=ended.phase, message=ended.message,
                        report=ended.report, connection_qualified_name=connection, started_at=ended.started_at,
                        finished_at=ended.finished_at)
        return True


def _end_abandoned(engine: Engine, run_name: str, holder: str, message: str, lease_seconds: float) -> bool:
    """Take over an abandoned run's lease, put back what it wrote, and end it as Error.

    Taking the lease first means only one process does this, and should that process die too, the run is
    still Running under an expiring lease and the next reaper retries.
    """
    with engine.begin() as conn:
        # FOR UPDATE waits for the holder's page transactions (`hold`); the UPDATE alone would not.
        conn.execute(sa.select(runs.c.id).where(runs.c.name == run_name).with_for_update())
        taken = conn.execute(
            runs.update().where(runs.c.name == run_name, runs.c.phase == "Running",
                                sa.or_(runs.c.lease_expires_at.is_(None), runs.c.lease_expires_at < _now()))
            .values(worker=holder, lease_expires_at=_now() + timedelta(seconds=lease_seconds))).rowcount
    if not taken:
        return False
    undone = roll_back(engine, run_name)
    detail = ("What it had written was rolled back: the catalog is as it was before the run. " if undone
              else "It left nothing to roll back. ")
    finish(engine, run_name, holder, phase="Error", message=f"{message} {detail}Re-run the workflow.")
    return True


def reap_expired(engine: Engine, reaper: str, lease_seconds: float) -> list[str]:
    """End every Running run whose lease expired (its worker died); the workflows whose runs were ended."""
    with engine.connect() as conn:
        expired = conn.execute(sa.select(runs.c.name, runs.c.workflow_name, runs.c.worker).where(
            runs.c.phase == "Running", runs.c.lease_expires_at < _now())).all()
    ended = []
    for row in expired:
        message = f"Interrupted: worker {row.worker} stopped renewing its lease on this run (it died or hung)."
        if _end_abandoned(engine, row.name, reaper, message, lease_seconds):
            log.warning("run %s of %s: the lease of worker %s expired; ended as Error",
                        row.name, row.workflow_name, row.worker)
            ended.append(row.workflow_name)
    return ended


def recover_all_running(engine: Engine, reaper: str, lease_seconds: float) -> None:
    """At the start of the only process that runs runs (SQLite): every Running run is an orphan of its last
    life; end them all now rather than when their leases expire."""
    with engine.begin() as conn:
        conn.execute(runs.update().where(runs.c.phase == "Running").values(lease_expires_at=None))
    with engine.connect() as conn:
        orphans = conn.execute(sa.select(runs.c.name).where(runs.c.phase == "Running")).scalars().all()
    for name in orphans:
        _end_abandoned(engine, name, reaper, "Interrupted: the server stopped while this run was running.",
                       lease_seconds)


def pending_workflows(engine: Engine, *, dispatched_before: datetime | None = None) -> list[str]:
    """Workflows with a Pending run and none Running, oldest first; with `dispatched_before`, only those whose
    oldest Pending run was last handed to an executor before then (its message may have been lost)."""
    oldest = (sa.select(runs.c.workflow_name, sa.func.min(runs.c.id).label("id"))
              .where(runs.c.phase == "Pending").group_by(runs.c.workflow_name).subquery())
    running = sa.select(runs.c.workflow_name).where(runs.c.phase == "Running")
    query = (sa.select(oldest.c.workflow_name).join(runs, runs.c.id == oldest.c.id)
             .where(oldest.c.workflow_name.not_in(running)).order_by(runs.c.id))
    if dispatched_before is not None:
        query = query.where(sa.or_(runs.c.dispatched_at.is_(None), runs.c.dispatched_at < dispatched_before))
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


def mark_dispatched(engine: Engine, workflow_names: list[str]) -> None:
    """Note that these workflows' Pending runs were just handed to an executor."""
    if workflow_names:
        with engine.begin() as conn:
            conn.execute(runs.update().where(runs.c.workflow_name.in_(workflow_names), runs.c.phase == "Pending")
                         .values(dispatched_at=_now()))
