"""Schedules: pyatlan's add_schedule / get_all_scheduled_runs / remove_schedule, and the scheduler's clock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from gazetteer.errors import InvalidRequest
from gazetteer.workflows.models import runs, workflows
from gazetteer.workflows.schedules import SCHEDULE, TIMEZONE, Scheduler, schedule_of


def _workflow(engine, name, annotations, now=datetime(2026, 11, 24, tzinfo=UTC)):
    """A workflow whose schedule was set at `now` (by default long before the schedulers start)."""
    with engine.begin() as conn:
        conn.execute(workflows.insert().values(
            name=name, uid=str(uuid.uuid4()), package="@atlan/glue",
            connection_qualified_name=f"default/glue/{name.rsplit('-', 1)[1]}",
            document={"metadata": {"name": name, "annotations": annotations}, "spec": {}},
            created_at=now, updated_at=now, created_by="test"))


def test_scheduler_starts_due_runs_once_and_skips_busy_workflows(engine):
    _workflow(engine, "atlan-glue-1000000001", {SCHEDULE: "0 * * * *", TIMEZONE: "Europe/Paris"})
    _workflow(engine, "atlan-glue-1000000002", {SCHEDULE: "*/10 * * * *"})
    _workflow(engine, "atlan-glue-1000000003", {})
    started: list[str] = []
    scheduler = Scheduler(engine, lambda name, creator: started.append(name))
    t0 = datetime(2026, 11, 25, 9, 55, tzinfo=UTC)
    assert scheduler.tick(t0) == []  # the clock starts now: nothing is made up
    assert scheduler.tick(t0 + timedelta(minutes=4)) == []
    assert sorted(scheduler.tick(t0 + timedelta(minutes=5, seconds=1))) == ["atlan-glue-1000000001",
                                                                              "atlan-glue-1000000002"]
    assert scheduler.tick(t0 + timedelta(minutes=6)) == []
    with engine.begin() as conn:
        conn.execute(runs.insert().values(name="atlan-glue-1000000002-abcde", uid=str(uuid.uuid4()),
                                          workflow_name="atlan-glue-1000000002", phase="Running",
                                          template_refs=[], created_at=t0, created_by="x"))
    assert scheduler.tick(t0 + timedelta(minutes=15, seconds=1)) == []  # still running: no pile-up
    assert sorted(started) == ["atlan-glue-1000000001", "atlan-glue-1000000002"]


def test_a_schedule_set_between_ticks_waits_for_the_next_and_a_late_tick_fires_once(engine):
    started: list[str] = []
    scheduler = Scheduler(engine, lambda name, creator: started.append(name))
    t0 = datetime(2026, 11, 25, 9, 55, tzinfo=UTC)
    assert scheduler.tick(t0) == []
    _workflow(engine, "atlan-glue-1000000004", {SCHEDULE: "*/10 * * * *"}, now=t0 + timedelta(minutes=7))
    assert scheduler.tick(t0 + timedelta(minutes=8)) == []  # the 10:00 tick came before the schedule
    assert scheduler.tick(t0 + timedelta(minutes=15, seconds=1)) == ["atlan-glue-1000000004"]  # 10:10
    # Behind by three ticks (10:20, 10:30, 10:40): the latest fires, once.
    assert scheduler.tick(t0 + timedelta(minutes=45, seconds=30)) == ["atlan-glue-1000000004"]
    assert scheduler.tick(t0 + timedelta(minutes=46)) == []
    assert started == ["atlan-glue-1000000004"] * 2


@pytest.mark.parametrize(("annotations", "needle"), [
    ({SCHEDULE: "every day"}, "not a cron expression"),
    ({SCHEDULE: "0 6 * * *", TIMEZONE: "Mars/Olympus"}, "Time zone 'Mars/Olympus' is unknown"),
])
def test_bad_schedules_are_refused(annotations, needle):
    with pytest.raises(InvalidRequest) as caught:
        schedule_of({"metadata": {"annotations": annotations}})
    assert needle in caught.value.message


def test_pyatlan_schedule_calls(server, glue, monkeypatch):
    glue.client("us-east-1").create_database(DatabaseInput={"Name": "ops"})
    monkeypatch.setenv("ATLAN_BASE_URL", server.url)
    monkeypatch.setenv("ATLAN_API_KEY", server.ADMIN_TOKEN)
    from pyatlan.client.atlan import AtlanClient
    from pyatlan.model.enums import AtlanWorkflowPhase, WorkflowPackage
    from pyatlan.model.packages import GlueCrawler
    from pyatlan.model.workflow import WorkflowSchedule

    client = AtlanClient()
    admin = client.role_cache.get_id_for_name("$admin")
    crawler = (GlueCrawler(client=client, connection_name="ops", admin_roles=[admin])
               .iam_user_auth(access_key="a", secret_key="b").direct(region="us-east-1").to_workflow())
    schedule = WorkflowSchedule(cron_schedule="30 6 * * *", timezone="Europe/Paris")
    response = client.workflow.run(crawler, workflow_schedule=schedule)
    assert client.workflow.monitor(response) == AtlanWorkflowPhase.SUCCESS
    scheduled = client.workflow.get_all_scheduled_runs()
    assert [(s.spec.schedule, s.spec.timezone) for s in scheduled] == [("30 6 * * *", "Europe/Paris")]
    assert client.workflow.get_scheduled_run(response.metadata.name).spec.schedule == "30 6 * * *"
    existing = client.workflow.find_by_type(prefix=WorkflowPackage.GLUE, max_results=5)
    client.workflow.remove_schedule(existing[0])
    assert not client.workflow.get_all_scheduled_runs()  # pyatlan turns an empty list into None
    client.workflow.add_schedule(existing[0], WorkflowSchedule(cron_schedule="0 * * * *", timezone="UTC"))
    assert [s.spec.schedule for s in client.workflow.get_all_scheduled_runs()] == ["0 * * * *"]


def test_pyatlan_update_owner(server, glue, monkeypatch):
    import subprocess
    import sys

    glue.client("us-east-1").create_database(DatabaseInput={"Name": "ops"})
    subprocess.run([sys.executable, "-m", "gazetteer.cli", "token", "create", "--name", "owner-bot"],
                   env=server.env, check=True, capture_output=True)
    monkeypatch.setenv("ATLAN_BASE_URL", server.url)
    monkeypatch.setenv("ATLAN_API_KEY", server.ADMIN_TOKEN)
    from pyatlan.client.atlan import AtlanClient
    from pyatlan.errors import NotFoundError
    from pyatlan.model.packages import GlueCrawler

    client = AtlanClient()
    admin = client.role_cache.get_id_for_name("$admin")
    crawler = (GlueCrawler(client=client, connection_name="ops", admin_roles=[admin])
               .iam_user_auth(access_key="a", secret_key="b").direct(region="us-east-1").to_workflow())
    name = client.workflow.run(crawler).metadata.name
    owned = client.workflow.update_owner(workflow_name=name, username="service-account-owner-bot")
    assert owned.metadata.labels["workflows.argoproj.io/creator"] == "service-account-owner-bot"
    with pytest.raises(NotFoundError):
        client.workflow.update_owner(workflow_name=name, username="nobody")
