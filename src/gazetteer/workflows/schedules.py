"""Schedules: a cron expression and a time zone in a workflow's annotations, as pyatlan's add_schedule sets.

A scheduler thread in the server starts a run whenever a schedule comes due, unless one is still active.
Missed times while the server was down are not made up: the next due time counts from start-up.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from croniter import croniter
from sqlalchemy.engine import Engine

from gazetteer.errors import InvalidRequest
from gazetteer.workflows.documents import argo_time
from gazetteer.workflows.models import ACTIVE_PHASES, runs, workflows

__all__ = ["SCHEDULE", "TIMEZONE", "schedule_of", "Scheduler", "cron_document"]

SCHEDULE = "orchestration.atlan.com/schedule"
TIMEZONE = "orchestration.atlan.com/timezone"
log = logging.getLogger(__name__)


def schedule_of(document: dict[str, Any]) -> tuple[str, ZoneInfo] | None:
    """The (cron, zone) of a workflow document, or None; InvalidRequest when either is malformed."""
    annotations = (document.get("metadata") or {}).get("annotations") or {}
    cron = annotations.get(SCHEDULE)
    if not cron:
        return None
    if not isinstance(cron, str) or not croniter.is_valid(cron):
        raise InvalidRequest(f"Schedule {cron!r} is not a cron expression such as '0 6 * * *' (06:00 daily)")
    zone = annotations.get(TIMEZONE) or "UTC"
    try:
        return cron, ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRequest(f"Time zone {zone!r} is unknown: use an IANA name such as Europe/Paris") from None


def cron_document(row: Any) -> dict[str, Any] | None:
    """A workflow's schedule in the CronWorkflow shape of GET /api/service/runs/cron."""
    found = schedule_of(row.document)
    if found is None:
        return None
    cron, zone = found
    return {
        "metadata": {"name": f"{row.name}-cron", "namespace": row.namespace,
                     "creationTimestamp": argo_time(row.updated_at)},
        "spec": {"schedule": cron, "timezone": zone.key, "concurrencyPolicy": "Forbid",
                 "workflowSpec": {"workflowTemplateRef": {"name": row.name}}},
        "workflowMetadata": {"name": row.name, "namespace": row.namespace},
    }


class Scheduler:
    """Checks the schedules every `interval` seconds and starts the runs that came due."""

    def __init__(self, engine: Engine, start_run: Any, interval: float = 15.0) -> None:
        self.engine = engine
        self.start_run = start_run
        self.interval = interval
        self._since: dict[str, datetime] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="gazetteer-scheduler", daemon=True)

    def start(self) -> Scheduler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick(datetime.now(UTC))
            except Exception:  # noqa: BLE001 - a bad tick must not end scheduling for good
                log.exception("scheduler tick failed")

    def tick(self, now: datetime) -> list[str]:
        """Start the runs due at `now`; returns the names of the workflows started."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(workflows).where(workflows.c.archived.is_(False))).all()
            active = set(conn.execute(sa.select(runs.c.workflow_name).where(runs.c.phase.in_(ACTIVE_PHASES))).scalars())
        started = []
        for row in rows:
            try:
                found = schedule_of(row.document)
            except InvalidRequest:
                continue
            if found is None:
                self._since.pop(row.name, None)
                continue
            cron, zone = found
            since = self._since.setdefault(row.name, now)
            due = croniter(cron, since.astimezone(zone)).get_next(datetime)
            if due <= now:
                self._since[row.name] = now
                if row.name not in active:
                    self.start_run(row.name, "scheduler")
                    started.append(row.name)
        return started
