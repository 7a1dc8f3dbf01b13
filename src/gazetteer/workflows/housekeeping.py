"""The loop every server process runs: end runs whose worker died, hand out lost runs, fire schedules, and
delete history older than GAZETTEER_HISTORY_DAYS.

Each step is safe with any number of processes doing it at once: each claims its work in the database
with a conditional update first (see `gazetteer.workflows.leases` and `gazetteer.workflows.schedules`).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from gazetteer.assets import history
from gazetteer.workflows.executors import Executor
from gazetteer.workflows.leases import mark_dispatched, pending_workflows, reap_expired
from gazetteer.workflows.schedules import Scheduler

__all__ = ["Housekeeping", "REDISPATCH_AFTER"]

log = logging.getLogger(__name__)
# A Pending run of an idle workflow that no executor took this long after it was handed out is handed out
# again: its message may have been lost (a broker restarted without persistence). Duplicates are harmless.
REDISPATCH_AFTER = timedelta(seconds=60)
# History is kept in days: pruning hourly keeps it within an hour of the setting.
PRUNE_EVERY = timedelta(hours=1)


class Housekeeping:
    def __init__(self, engine: Engine, executor: Executor, scheduler: Scheduler, *, reaper: str,
                 lease_seconds: float, interval: float, history_days: int | None = None) -> None:
        self.engine, self.executor, self.scheduler = engine, executor, scheduler
        self.reaper, self.lease_seconds, self.interval = reaper, lease_seconds, interval
        self.history_days = history_days
        self._pruned: datetime | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="gazetteer-housekeeping", daemon=True)

    def start(self) -> Housekeeping:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick(datetime.now(UTC))
            except Exception:  # noqa: BLE001 - a bad tick (the database away) must not end housekeeping for good
                log.exception("housekeeping failed; trying again in %s s", self.interval)

    def tick(self, now: datetime) -> None:
        freed = reap_expired(self.engine, self.reaper, self.lease_seconds)
        stranded = pending_workflows(self.engine, dispatched_before=now - REDISPATCH_AFTER)
        waiting = list(dict.fromkeys([*freed, *stranded]))
        mark_dispatched(self.engine, waiting)
        for workflow_name in waiting:
            self.executor.submit(workflow_name)
        self.scheduler.tick(now)
        if self.history_days and (self._pruned is None or now - self._pruned >= PRUNE_EVERY):
            # Every server prunes: deleting what another already deleted costs an indexed look-up.
            self._pruned = now
            if pruned := history.prune(self.engine, self.history_days, now=now):
                log.info("deleted %d history events older than %d days", pruned, self.history_days)
