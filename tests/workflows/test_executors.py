"""The thread executor: a submitted workflow's runs are run to their end, and trouble never escapes a thread."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from gazetteer.credentials.vault import Vault, credentials
from gazetteer.workflows import views
from gazetteer.workflows.executors import ThreadExecutor, start_executor
from gazetteer.workflows.models import runs
from gazetteer.workflows.runner import Runner
from gazetteer.workflows.service import WorkflowService
from tests.workflows.test_service import ADMIN, Recorder, document
from tests.workflows.test_workflow_api import seed

LEASE = 30.0


def wait_for_end(engine, run_name: str, timeout: float = 60) -> views.RunView:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = views.run(engine, run_name)
        if not found.active:
            return found
        time.sleep(0.1)
    raise AssertionError(f"run {run_name} is still {views.run(engine, run_name).phase}")


@pytest.fixture()
def vault(engine, settings) -> Vault:
    return Vault(engine, settings)


@pytest.fixture()
def executor(engine, vault) -> Iterator[ThreadExecutor]:
    executor = ThreadExecutor(Runner(engine, vault, worker="test-worker", lease_seconds=LEASE), threads=2)
    yield executor
    executor.shutdown()


def test_a_submitted_run_is_crawled_to_the_end(engine, vault, executor, glue):
    seed(glue)
    service = WorkflowService(engine, vault, executor)
    name = service.create(document(), ADMIN, submit=True).name
    [first] = views.recent_runs(engine, name, page=1, size=5)[0]

    done = wait_for_end(engine, first.name)
    assert (done.phase, done.progress) == ("Succeeded", "1/1")
    assert done.report["counts"]["tables"] == 4 and done.finished >= done.started
    # A second run of the same workflow finds everything unchanged.
    again = wait_for_end(engine, service.rerun(name, ADMIN).name)
    assert again.phase == "Succeeded" and again.report["changes"]["created"] == 0


def test_a_run_that_cannot_start_ends_as_an_error_that_says_why(engine, vault, executor, glue):
    service = WorkflowService(engine, vault, executor)
    name = service.create(document(), ADMIN, submit=False).name
    with engine.begin() as conn:  # the credential is gone (a vault restored from an older backup, say)
        conn.execute(credentials.delete())

    done = wait_for_end(engine, service.rerun(name, ADMIN).name)
    assert done.phase == "Error"
    assert done.message.startswith("The run could not start: No credential has the guid")


class _Outage:
    """A runner whose database is down for the first call."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.ran = threading.Event()

    def advance(self, workflow_name: str) -> int:
        self.calls.append(workflow_name)
        if len(self.calls) == 1:
            raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))
        self.ran.set()
        return 1

    def close(self) -> list[str]:
        return []


def test_a_failing_advance_is_logged_and_the_pool_keeps_serving(caplog):
    runner = _Outage()
    executor = ThreadExecutor(runner, threads=1)  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="gazetteer.workflows.executors"):
        executor.submit("lake")  # raises in the thread, not here
        executor.submit("pond")
        assert runner.ran.wait(10)
    executor.shutdown()
    assert runner.calls == ["lake", "pond"]
    assert [record.getMessage() for record in caplog.records] == ["the runs of lake could not be started"]


def test_start_executor_ends_orphans_and_runs_what_was_left_pending(engine, vault, settings, glue):
    if engine.dialect.name != "sqlite":
        pytest.skip("only SQLite ends Running runs at start-up; PostgreSQL waits for their leases")
    seed(glue)
    name = WorkflowService(engine, vault, Recorder()).create(document(), ADMIN, submit=True).name
    [pending] = views.recent_runs(engine, name, page=1, size=5)[0]
    orphan = f"{name}-orphan"
    with engine.begin() as conn:  # what a server killed mid-crawl leaves behind
        conn.execute(runs.insert().values(name=orphan, uid=str(uuid.uuid4()), workflow_name="atlan-glue-gone",
                                          template_refs=[], phase="Running", worker="dead", created_by="test",
                                          created_at=datetime.now(UTC), started_at=datetime.now(UTC)))

    executor = start_executor(engine, settings, vault)
    try:
        assert views.run(engine, orphan).phase == "Error"
        assert wait_for_end(engine, pending.name).phase == "Succeeded"
    finally:
        executor.shutdown()

