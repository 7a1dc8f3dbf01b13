"""Schedules: a cron expression and a time zone in a workflow's annotations, as pyatlan's add_schedule sets.

The housekeeping loop of every server process ticks the scheduler; a due tick starts a run unless one is
still active. Missed times while the servers were down are not made up: due times count from start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from croniter import croniter
from sqlalchemy.engine import Engine

from gazetteer.errors import InvalidRequest
from gazetteer.workflows.models import ACTIVE_PHASES, runs, workflows

__all__ = ["SCHEDULE", "TIMEZONE", "cron_name", "schedule_of", "Scheduler"]

SCHEDULE = "orchestration.atlan.com/schedule"
TIMEZONE = "orchestration.atlan.com/timezone"


def cron_name(workflow_name: str) -> str:
    """A workflow's schedule's name (Argo's CronWorkflow): what pyatlan's schedule calls take."""
    return f"{workflow_name}-cron"


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


class Scheduler:
    """Starts the runs whose schedules came due; any number of processes may tick, each tick fires once.

    A tick is the latest cron time at or before now. It fires when it is later than the last tick fired, the
    workflow's last change (a schedule set at 10:07 does not fire the 10:05 tick) and this process's first
    tick; ticks missed while every server was down are not made up, and a late tick fires once, not once
    for each tick it missed. The tick a process fires is claimed in the database first (`workflows.scheduled_at`): two
    processes that find the same tick due race for one conditional update, and only its winner starts a run.
    A workflow that is still busy when its tick comes skips that tick (Argo's concurrencyPolicy: Forbid).
    """

    def __init__(self, engine: Engine, start_run: Callable[[str, str], object]) -> None:
        self.engine = engine
        self.start_run = start_run
        self._started: datetime | None = None

    def tick(self, now: datetime) -> list[str]:
        """Start the runs due at `now`; returns the names of the workflows started."""
        self._started = self._started or now
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(workflows).where(workflows.c.archived.is_(False))).all()
        started = []
        for row in rows:
            try:
                found = schedule_of(row.document)
            except InvalidRequest:
                continue
            if found is None:
                continue
            cron, zone = found
            due = croniter(cron, now.astimezone(zone)).get_prev(datetime)
            since = max(moment for moment in (row.scheduled_at, row.updated_at, self._started) if moment)
            if due > since and self._claim(row.id, due) and not self._busy(row.name):
                self.start_run(row.name, "scheduler")
                started.append(row.name)
        return started

    def _claim(self, workflow_id: int, due: datetime) -> bool:
        with self.engine.begin() as conn:
            return bool(conn.execute(workflows.update().where(
                workflows.c.id == workflow_id,
                sa.or_(workflows.c.scheduled_at.is_(None), workflows.c.scheduled_at < due))
                .values(scheduled_at=due)).rowcount)

    def _busy(self, workflow_name: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(runs.c.id).where(
                runs.c.workflow_name == workflow_name, runs.c.phase.in_(ACTIVE_PHASES)).limit(1)).first() is not None
