"""The core's typed reads of workflows and runs: paging, latest runs without a query per workflow."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from gazetteer.credentials.vault import Vault
from gazetteer.devtools.statements import statements
from gazetteer.errors import NotFound
from gazetteer.workflows import views
from gazetteer.workflows.models import runs
from gazetteer.workflows.service import WorkflowService
from tests.workflows.test_service import ADMIN, Recorder, document

START = datetime(2030, 1, 1, tzinfo=UTC)


def add_runs(engine, workflow_name: str, count: int, phase: str = "Succeeded") -> list[str]:
    """`count` runs, a minute apart; returns their names oldest first."""
    names = [f"{workflow_name}-{uuid.uuid4().hex[:5]}" for _ in range(count)]
    with engine.begin() as conn:
        for minute, name in enumerate(names):
            conn.execute(runs.insert().values(name=name, uid=str(uuid.uuid4()), workflow_name=workflow_name,
                                              template_refs=[workflow_name, name], phase=phase, progress="3/7",
                                              created_at=START + timedelta(minutes=minute), created_by="test",
                                              report={"warnings": [{"message": "m", "table": "t", "column": "c"},
                                                                   {"message": "n", "database": "d"}]}))
    return names


def test_recent_runs_pages_newest_first(engine):
    names = add_runs(engine, "lake", 5)
    add_runs(engine, "pond", 2)
    first, total = views.recent_runs(engine, "lake", page=1, size=2)
    last, _ = views.recent_runs(engine, "lake", page=3, size=2)
    assert total == 5
    assert [run.name for run in first] == [names[4], names[3]]
    assert [run.name for run in last] == [names[0]]
    run = first[0]
    assert (run.workflow, run.done, run.total, run.active) == ("lake", 3, 7, False)
    assert run.warning_keys == ["table", "column", "database"]


def test_a_missing_run_or_workflow_is_not_found(engine):
    with pytest.raises(NotFound, match="Run 'nope'"):
        views.run(engine, "nope")
    with pytest.raises(NotFound, match="Workflow 'nope' does not exist"):
        views.workflow(engine, "nope")


def test_workflows_by_connection_reads_every_latest_run_in_one_query(engine, settings):
    service = WorkflowService(engine, Vault(engine, settings), Recorder())
    names = [service.create(document(1790000000 + i, connection_name=f"c{i}"), ADMIN, submit=False).name
             for i in range(4)]
    latest = {name: add_runs(engine, name, i + 1, phase="Failed")[-1] for i, name in enumerate(names[:3])}
    service.archive(names[0], ADMIN)

    with statements(engine) as run:
        listed = views.workflows_by_connection(engine)
    assert len(run) == 2  # the workflows, then the latest run of each
    assert set(listed) == {f"default/glue/{1790000000 + i}" for i in (1, 2, 3)}  # the archived one is gone
    by_name = {workflow.name: workflow for group in listed.values() for workflow in group}
    assert by_name[names[2]].latest.name == latest[names[2]] and by_name[names[2]].run_count == 3
    assert by_name[names[1]].run_count == 2 and by_name[names[1]].latest.phase == "Failed"
    assert by_name[names[3]].latest is None and by_name[names[3]].run_count == 0
    assert by_name[names[3]].connection["name"] == "c3"
