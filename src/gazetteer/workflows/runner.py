"""Executing runs in this process: claim, run the workflow's package, keep the lease, end the run.

The same runner serves both executors: the server's threads (the embedded default) and a Celery worker.
Which process runs what is decided by the database (`gazetteer.workflows.leases`), never by this memory:
what is kept here is only how to reach, at once, the runs this very process executes.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gazetteer.credentials.vault import Vault
from gazetteer.errors import GazetteerError
from gazetteer.packages.base import RunProgress
from gazetteer.packages.registry import package_named
from gazetteer.workflows.leases import claim_next, finish, hold, renew
from gazetteer.workflows.models import runs, workflows

__all__ = ["Runner", "SHUTDOWN_MESSAGE"]

log = logging.getLogger(__name__)
# Progress writes are throttled: a crawl reports every Glue page.
_PROGRESS_EVERY = 1.0
SHUTDOWN_MESSAGE = "Interrupted by a shutdown of the process running it; the catalog was left as it was. " \
                   "Re-run the workflow."


@dataclass
class _Local:
    """A run this process executes: how to stop it now, and why it stopped."""

    stop: threading.Event
    lost: bool = False  # the lease went to someone else: this process must not end the run


class Runner:
    """Runs the runs this process claims, one workflow's runs after each other, in submit order."""

    def __init__(self, engine: Engine, vault: Vault, *, worker: str, lease_seconds: float) -> None:
        self.engine, self.vault, self.worker, self.lease_seconds = engine, vault, worker, lease_seconds
        self._lock = threading.Lock()
        self._local: dict[str, _Local] = {}
        self._closing = False

    @property
    def renew_every(self) -> float:
        # Often enough that a stop sent to any process arrives within seconds, and a lease survives a
        # few missed renewals (a slow database) before anyone may take it.
        return min(2.0, self.lease_seconds / 6)

    @property
    def closing(self) -> bool:
        return self._closing

    def advance(self, workflow_name: str) -> int:
        """Run the workflow's Pending runs while none of its runs runs elsewhere; how many were run here."""
        done = 0
        while not self._closing:
            run_name = claim_next(self.engine, workflow_name, self.worker, self.lease_seconds)
            if run_name is None:
                break
            self._execute(run_name)
            done += 1
        return done

    def request_stop(self, run_name: str) -> None:
        """Stop a run at its next page now, if this process runs it (others learn it at their next renewal)."""
        with self._lock:
            local = self._local.get(run_name)
        if local is not None:
            local.stop.set()

    def close(self) -> list[str]:
        """Claim nothing more and stop the runs in progress at their next page; the names of those runs."""
        with self._lock:
            self._closing = True
            for local in self._local.values():
                local.stop.set()
            return list(self._local)

    def _keep_lease(self, run_name: str, local: _Local, done: threading.Event) -> None:
        while not done.wait(self.renew_every):
            try:
                held, stop_requested = renew(self.engine, run_name, self.worker, self.lease_seconds)
            except Exception:  # noqa: BLE001 - a database hiccup: the lease outlives a few missed renewals
                log.warning("run %s: renewing the lease failed; trying again", run_name, exc_info=True)
                continue
            if not held:
                log.error("run %s: worker %s lost its lease (the run was ended elsewhere); stopping it",
                          run_name, self.worker)
                local.lost = True
            if stop_requested or not held:
                local.stop.set()

    def _progress(self, run_name: str) -> Any:
        last = 0.0

        def update(progress: RunProgress) -> None:
            nonlocal last
            if time.monotonic() - last < _PROGRESS_EVERY:
                return
            last = time.monotonic()
            with self.engine.begin() as conn:
                conn.execute(runs.update().where(runs.c.name == run_name, runs.c.worker == self.worker).values(
                    progress=f"{progress.done}/{max(progress.total, 1)}",
                    report={"status": "Running", "counts": progress.counts}))
        return update

    def _execute(self, run_name: str) -> None:
        with self.engine.connect() as conn:
            run = conn.execute(sa.select(runs).where(runs.c.name == run_name)).one()
            workflow = conn.execute(sa.select(workflows).where(workflows.c.name == run.workflow_name)).one()
        local, done = _Local(threading.Event()), threading.Event()
        with self._lock:
            self._local[run_name] = local
            if self._closing or run.stop_requested:
                local.stop.set()
        keeper = threading.Thread(target=self._keep_lease, args=(run_name, local, done), daemon=True,
                                  name=f"lease-{run_name}")
        keeper.start()
        log.info("run %s of %s started on worker %s", run_name, workflow.name, self.worker)
        phase, message, report = "Error", None, None
        try:
            package = package_named(workflow.package)
            spec = package.parse(workflow.document)
            outcome = package.run(self.engine, spec, self.vault.load(workflow.credential_guid),
                                  credential_guid=workflow.credential_guid, key=run_name,
                                  progress=self._progress(run_name), should_stop=local.stop.is_set,
                                  fence=lambda conn: hold(conn, run_name, self.worker))
            phase = "Succeeded" if outcome.succeeded else "Failed"
            message, report = outcome.message, outcome.report
        except GazetteerError as error:
            message = f"The run could not start: {error.message}"
        except Exception as error:  # noqa: BLE001 - a run always ends in a phase the client can see
            log.exception("run %s failed unexpectedly", run_name)
            message = f"Internal error ({type(error).__name__}); the server log has the details. Re-run the workflow."
        finally:
            done.set()
            keeper.join()
            with self._lock:
                self._local.pop(run_name, None)
        if phase == "Failed" and self._closing and not self._stop_requested(run_name):
            phase, message = "Error", SHUTDOWN_MESSAGE  # cut short by the shutdown, not by a user
        if local.lost or not finish(self.engine, run_name, self.worker, phase=phase, message=message,
                                    report=report, progress="1/1"):
            log.warning("run %s: ended elsewhere while worker %s ran it; its end here is not recorded",
                        run_name, self.worker)
            return
        log.info("run %s of %s ended on worker %s: %s", run_name, workflow.name, self.worker, phase)

    def _stop_requested(self, run_name: str) -> bool:
        with self.engine.connect() as conn:
            return bool(conn.execute(sa.select(runs.c.stop_requested).where(runs.c.name == run_name)).scalar())
