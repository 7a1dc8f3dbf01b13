"""Where runs execute. The service only sees the Executor interface; threads are the embedded default."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from sqlalchemy.engine import Engine

from gazetteer.credentials.vault import Vault
from gazetteer.settings import Settings

__all__ = ["Executor", "ThreadExecutor", "start_executor"]

log = logging.getLogger(__name__)


class Executor(Protocol):
    """Runs runs. Implementations must never execute two runs of one workflow at the same time."""

    def submit(self, run_name: str, workflow_name: str) -> None: ...

    def request_stop(self, run_name: str) -> None: ...

    def shutdown(self) -> None: ...


class ThreadExecutor:
    """A pool of threads in the server process; runs of one workflow queue behind each other."""

    def __init__(self, engine: Engine, settings: Settings, vault: Vault, workers: int) -> None:
        self.engine, self.settings, self.vault = engine, settings, vault
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="gazetteer-run")
        self._lock = threading.Lock()
        self._busy: set[str] = set()
        self._waiting: defaultdict[str, deque[str]] = defaultdict(deque)
        self._stops: dict[str, threading.Event] = {}
        self._closed = False

    def submit(self, run_name: str, workflow_name: str) -> None:
        with self._lock:
            self._stops[run_name] = threading.Event()
            if workflow_name in self._busy:
                self._waiting[workflow_name].append(run_name)
                return
            self._busy.add(workflow_name)
        self._pool.submit(self._run, run_name, workflow_name)

    def _run(self, run_name: str, workflow_name: str) -> None:
        from gazetteer.workflows.runner import execute_run

        while run_name is not None:
            try:
                execute_run(self.engine, self.settings, self.vault, run_name, self._stops[run_name])
            except Exception:  # noqa: BLE001 - the queue must go on whatever one run did
                log.exception("run %s could not be executed", run_name)
            with self._lock:
                self._stops.pop(run_name, None)
                queue = self._waiting[workflow_name]
                if queue and not self._closed:
                    run_name = queue.popleft()  # the next run of this workflow, on this same thread
                else:
                    self._busy.discard(workflow_name)
                    self._waiting.pop(workflow_name, None)
                    run_name = None

    def request_stop(self, run_name: str) -> None:
        with self._lock:
            event = self._stops.get(run_name)
        if event is not None:
            event.set()

    def shutdown(self) -> None:
        """Stop running crawls at their next page, wait for them, and mark them interrupted (Error)."""
        with self._lock:
            self._closed = True
            interrupted = list(self._stops)
            for event in self._stops.values():
                event.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        if interrupted:
            from gazetteer.workflows.models import runs

            message = "Interrupted by a server shutdown; the catalog was left as it was. Re-run the workflow."
            with self.engine.begin() as conn:
                # Runs a user stopped keep their Failed; the rest were cut short by the shutdown itself.
                conn.execute(runs.update().where(runs.c.name.in_(interrupted), runs.c.stop_requested.is_(False),
                                                 runs.c.phase.in_(("Failed", "Running")))
                             .values(phase="Error", message=message))


def start_executor(engine: Engine, settings: Settings, vault: Vault) -> ThreadExecutor:
    """The embedded executor, after ending runs a previous server left behind and re-queueing Pending ones."""
    from gazetteer.workflows.service import recover_interrupted

    executor = ThreadExecutor(engine, settings, vault, settings.run_workers)
    for run_name, workflow_name in recover_interrupted(engine):
        executor.submit(run_name, workflow_name)
    return executor
