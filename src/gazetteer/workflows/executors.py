"""Where runs execute: threads in the server (the embedded default) or Celery workers (GAZETTEER_BROKER_URL).

The service only tells an executor "this workflow has a run waiting" (`submit`). Whoever executes it claims
the run in the database, so a duplicate or a late message does no harm: the claim fails and nothing runs.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from sqlalchemy.engine import Engine

from gazetteer.credentials.vault import Vault
from gazetteer.settings import Settings
from gazetteer.workflows.leases import mark_dispatched, pending_workflows, recover_all_running, worker_name
from gazetteer.workflows.runner import Runner

__all__ = ["CeleryExecutor", "Executor", "ThreadExecutor", "start_executor"]

log = logging.getLogger(__name__)


class Executor(Protocol):
    """Executes the waiting runs of workflows, never two runs of one workflow at once (the claim sees to it)."""

    def submit(self, workflow_name: str) -> None: ...

    def request_stop(self, run_name: str) -> None: ...

    def shutdown(self) -> None: ...


class ThreadExecutor:
    """A pool of threads in the server process, each running one workflow's waiting runs in turn."""

    def __init__(self, runner: Runner, threads: int) -> None:
        self.runner = runner
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="gazetteer-run")

    def submit(self, workflow_name: str) -> None:
        self._pool.submit(self._advance, workflow_name)

    def _advance(self, workflow_name: str) -> None:
        try:
            self.runner.advance(workflow_name)
        except Exception:  # noqa: BLE001 - a database outage: the housekeeping loop hands the runs out again
            log.exception("the runs of %s could not be started", workflow_name)

    def request_stop(self, run_name: str) -> None:
        self.runner.request_stop(run_name)

    def shutdown(self) -> None:
        """Stop running crawls at their next page and wait for them: they roll back and end as Error."""
        self.runner.close()
        self._pool.shutdown(wait=True, cancel_futures=True)


class CeleryExecutor:
    """Hands waiting runs to Celery workers over the broker; they renew their leases and poll for stops."""

    def __init__(self, broker_url: str) -> None:
        from gazetteer.workflows.celery_app import ADVANCE, celery_app

        self._app, self._task = celery_app(broker_url), ADVANCE

    def submit(self, workflow_name: str) -> None:
        try:
            self._app.send_task(self._task, args=[workflow_name])
        except Exception as error:  # noqa: BLE001 - kombu raises several kinds; the run is safe in the database
            log.warning("the broker did not take the runs of %s (%s); they wait Pending and are handed out "
                        "again once it answers", workflow_name, type(error).__name__)

    def request_stop(self, run_name: str) -> None:
        """Nothing to send: the worker reads the stop request at its next lease renewal (within seconds)."""

    def shutdown(self) -> None:
        self._app.pool.force_close_all()


def start_executor(engine: Engine, settings: Settings, vault: Vault) -> Executor:
    """The executor the settings ask for, with the runs a previous process left behind handled."""
    executor: Executor
    if settings.broker_url:
        executor = CeleryExecutor(settings.broker_url)
    else:
        runner = Runner(engine, vault, worker=worker_name("serve"), lease_seconds=settings.run_lease_seconds)
        if engine.dialect.name == "sqlite":
            # SQLite has one server process, so whatever is Running is an orphan of its last life: end it now.
            # On PostgreSQL other processes may be running runs: their leases tell (see housekeeping).
            recover_all_running(engine, runner.worker, settings.run_lease_seconds)
        executor = ThreadExecutor(runner, settings.run_workers)
    waiting = pending_workflows(engine)
    mark_dispatched(engine, waiting)
    for workflow_name in waiting:
        executor.submit(workflow_name)
    return executor
