"""Scale-out: two API processes and two Celery workers over one PostgreSQL and one Redis (the issue's section 6).

The database keeps the guarantees whatever process does what: one Running run per workflow, runs in submit
order, a dead (or hung) worker's run ended within its lease and rolled back, a stop sent to any process, one
run per schedule tick. The local Glue answers slowly (a delay on every call) so that runs last long enough to
overlap, be killed or be stopped. Leases last 6 s and housekeeping ticks every 0.5 s
(tests/workflows/topology.py). The tests that leave the processes as they found them share one topology and
each work on connections of their own; the one that kills a worker has a topology to itself.

Needs GAZETTEER_TEST_POSTGRES_URL and GAZETTEER_TEST_REDIS_URL (each test skips with the reason otherwise);
the configuration refusals need neither.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx
import pytest
import sqlalchemy as sa
from croniter import croniter

from gazetteer.devtools.processes import clean_env, free_port
from gazetteer.store import assets
from gazetteer.store.schema import crawl_undo
from gazetteer.workflows.models import runs
from gazetteer.workflows.schedules import SCHEDULE, TIMEZONE
from tests.conftest import Server
from tests.workflows.test_pyatlan_snippets import _seed_dev_project
from tests.workflows.test_workflow_api import REGION, create, page_submit, seed, wait_for, workflow

if TYPE_CHECKING:
    from tests.workflows.topology import Topology

# The fixtures start_topology, shared_topology and redis_url (imported here, not above, so that pytest
# rewrites the asserts of the module that holds them).
pytest_plugins = ["tests.workflows.topology"]

FINISHED = ("Succeeded", "Failed", "Error")
# Every Glue call waits this long: a crawl of seed()'s catalog (3 calls, 2 of them side by side) takes ~1 s.
SLOW_GLUE = [{"operation": "*", "delay_seconds": 0.3}]


# -- reading the shared database ---------------------------------------------------------------------------

def run_rows(topology: Topology, *names: str, workflow_name: str | None = None) -> list:
    """Runs by name or of a workflow, in the order the database created them (their ids)."""
    query = sa.select(runs).order_by(runs.c.id)
    query = query.where(runs.c.workflow_name == workflow_name) if workflow_name else query.where(runs.c.name.in_(names))
    with topology.engine.connect() as conn:
        return conn.execute(query).all()


def run_row(topology: Topology, name: str):
    return run_rows(topology, name)[0]


def asset_rows(topology: Topology, connection_qualified_name: str) -> list[tuple]:
    """Every column of every asset of a connection, in id order: what a rollback must restore exactly."""
    with topology.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.select(assets).order_by(assets.c.id).where(
            assets.c.connection_qualified_name == connection_qualified_name))]


def connection_assets(topology: Topology, connection_qualified_name: str) -> list[tuple[str, str]]:
    """(type, qualifiedName) of the connection's ACTIVE assets, sorted."""
    with topology.engine.connect() as conn:
        return sorted(tuple(row) for row in conn.execute(sa.select(assets.c.type_name, assets.c.qualified_name).where(
            assets.c.status == "ACTIVE", assets.c.connection_qualified_name == connection_qualified_name)))


def undo_entries(topology: Topology, run_name: str) -> int:
    with topology.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(crawl_undo)
                            .where(crawl_undo.c.crawl == run_name)).scalar_one()


def wait_until(condition, what: str, timeout: float = 60.0, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def finished(topology: Topology, names: list[str], timeout: float = 90.0) -> list:
    """The runs once all of them have ended, in id order."""
    def ended() -> list | None:
        rows = run_rows(topology, *names)
        return rows if len(rows) == len(names) and all(row.phase in FINISHED for row in rows) else None
    try:
        return wait_until(ended, f"runs {names} to end", timeout)
    except AssertionError as error:
        phases = [(row.name, row.phase, row.worker) for row in run_rows(topology, *names)]
        raise AssertionError(f"{error}: {phases}\n{topology.log_tails()}") from None


def running_and_writing(topology: Topology, run_name: str):
    """The run's row once it is Running and has written something (its undo log has entries), else None."""
    row = run_row(topology, run_name)
    return row if row.phase == "Running" and undo_entries(topology, run_name) else None


def submit(http: httpx.Client, workflow_name: str) -> str:
    answer = http.post("/api/service/workflows/submit", json=page_submit(workflow_name))
    assert answer.status_code == 200, answer.text
    return answer.json()["metadata"]["name"]


def overlap(first, second) -> bool:
    return first.started_at < second.finished_at and second.started_at < first.finished_at


def seed_more(glue, tables: int = 12) -> None:
    """A new database whose tables take several pages (2 a page), and a change to an existing table: a re-run
    then both inserts and updates assets, page after page, for a while."""
    client = glue.client(REGION)
    client.create_database(DatabaseInput={"Name": "events"})
    for index in range(tables):
        client.create_table(DatabaseName="events", TableInput={
            "Name": f"e{index:02d}", "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "int"}]}})
    client.update_table(DatabaseName="sales", TableInput={"Name": "a", "StorageDescriptor": {
        "Columns": [{"Name": "id", "Type": "int"}, {"Name": "note", "Type": "string"}]}})


# -- 1. one workflow, many re-runs over two API processes ---------------------------------------------------

@pytest.mark.postgres
def test_concurrent_reruns_over_two_servers_run_one_at_a_time_in_submit_order(shared_topology, glue):
    topology = shared_topology
    seed(glue)
    name, first = create(topology.a.client(), workflow(epoch=1790000101, connection_name="reruns"))
    assert wait_for(topology.a.client(), first)["status"]["phase"] == "Succeeded"
    glue.set_faults([{"operation": "*", "delay_seconds": 0.15}])  # runs of ~0.5 s: 20 of them one after another

    # 4 threads, 5 re-runs each, every other one to A then B: 20 submits, concurrent across threads and
    # ordered within each (a thread sends its next submit once the last one was answered).
    def submitter(thread: int) -> list[str]:
        with topology.a.client() as a, topology.b.client() as b:
            return [submit((a, b)[(thread + i) % 2], name) for i in range(5)]

    with ThreadPoolExecutor(4) as pool:
        submitted = dict(enumerate(pool.map(submitter, range(4))))
    names = [run for sequence in submitted.values() for run in sequence]
    assert len(set(names)) == 20

    done = finished(topology, names)  # in id order: the database's creation order
    assert [row.phase for row in done] == ["Succeeded"] * 20, [(row.name, row.phase, row.message) for row in done]
    # Never two at once, and each started after the one created before it had finished.
    for before, after in zip(done, done[1:], strict=False):
        assert before.finished_at <= after.started_at, (before.name, after.name)
    assert [row.name for row in sorted(done, key=lambda row: row.started_at)] == [row.name for row in done]
    ids = {row.name: row.id for row in done}
    for thread, sequence in submitted.items():  # where submits were ordered, start order follows them
        assert [ids[run] for run in sequence] == sorted(ids[run] for run in sequence), thread
    # The run documents say the same (Argo times are whole seconds, hence <=).
    documents = [topology.b.client().get(f"/api/service/runs/{row.name}").json() for row in done]
    for before, after in zip(documents, documents[1:], strict=False):
        assert before["status"]["finishedAt"] <= after["status"]["startedAt"]
        assert before["metadata"]["creationTimestamp"] <= after["metadata"]["creationTimestamp"]
    # Servers with a broker enqueue runs and never execute them: the workers did.
    assert {row.worker for row in done} <= {topology.worker_name(worker) for worker in topology.workers}

    with topology.engine.connect() as conn:
        connections = conn.execute(sa.select(sa.func.count()).select_from(assets).where(
            assets.c.type_name == "Connection", assets.c.connection_qualified_name == "default/glue/1790000101")
        ).scalar_one()
        duplicates = conn.execute(sa.select(assets.c.qualified_name).where(assets.c.status == "ACTIVE")
                                  .group_by(assets.c.qualified_name).having(sa.func.count() > 1)).all()
    assert connections == 1 and duplicates == []


# -- 2. several workflows at once, on both workers ----------------------------------------------------------

@pytest.mark.postgres
def test_three_workflows_run_side_by_side_on_both_workers(shared_topology, glue):
    topology = shared_topology
    seed(glue)
    glue.set_faults(SLOW_GLUE)
    servers = [topology.a, topology.b, topology.a]
    started = [create(server.client(), workflow(epoch=1790000201 + index, connection_name=f"side-{index}"))
               for index, server in enumerate(servers)]
    done = finished(topology, [run for _, run in started])
    assert [row.phase for row in done] == ["Succeeded"] * 3, [(row.name, row.message) for row in done]
    assert any(overlap(one, other) for i, one in enumerate(done) for other in done[i + 1:]), \
        [(row.started_at, row.finished_at) for row in done]

    ran_on: dict[str, list] = {}
    for row in done:
        ran_on.setdefault(row.worker, []).append(row)
    assert set(ran_on) == {topology.worker_name(worker) for worker in topology.workers}
    for worker in topology.workers:
        log = worker.log()
        for row in ran_on[topology.worker_name(worker)]:
            assert f"run {row.name} of {row.workflow_name} started on worker {topology.worker_name(worker)}" in log


# -- 3. a worker dies mid-run ---------------------------------------------------------------------------------

@pytest.mark.postgres
def test_a_killed_worker_s_run_ends_as_error_rolled_back_and_the_next_run_goes_to_the_other(start_topology, glue):
    topology = start_topology(concurrency=1)
    seed(glue)
    http = topology.a.client()
    name, first = create(http, workflow(epoch=1790000301, connection_name="doomed"))
    assert wait_for(http, first)["status"]["phase"] == "Succeeded"
    before = asset_rows(topology, "default/glue/1790000301")
    seed_more(glue)
    glue.set_faults([{"operation": "*", "delay_seconds": 1.0}])  # 1 + 1 + 6 pages: a re-run takes ~8 s

    victim = submit(http, name)
    running = wait_until(lambda: running_and_writing(topology, victim), "the re-run to write", timeout=30)
    waiting = submit(topology.b.client(), name)  # queued behind the running one
    assert run_row(topology, waiting).phase == "Pending"
    doomed_worker = topology.worker_named(running.worker)
    survivor = next(worker for worker in topology.workers if worker is not doomed_worker)
    killed_at = time.monotonic()
    doomed_worker.stop(kill=True)
    # The next run's first Glue call (listing databases, before it writes anything) waits 3 s: a window to
    # see what the catalog looks like between the reaper's rollback and the next run's writes.
    glue.set_faults([{"operation": "GetDatabases", "delay_seconds": 3, "times": 1},
                     {"operation": "*", "delay_seconds": 0.05}])

    ended = wait_until(lambda: (row if (row := run_row(topology, victim)).phase != "Running" else None),
                       "the killed worker's run to end", timeout=topology.lease_seconds + 30, every=0.05)
    took = time.monotonic() - killed_at
    after_reap = asset_rows(topology, "default/glue/1790000301")
    next_run = run_row(topology, waiting)
    assert ended.phase == "Error", (ended.phase, ended.message)
    assert took < topology.lease_seconds + 3 * topology.housekeeping_seconds + 10, f"ended {took:.1f} s after the kill"
    assert f"worker {running.worker} stopped renewing its lease" in ended.message
    assert "rolled back" in ended.message and ended.lease_expires_at is None
    assert undo_entries(topology, victim) == 0
    # What the killed run wrote is gone (checked before the next run could write anything).
    assert next_run.phase in ("Pending", "Running") and undo_entries(topology, waiting) == 0, next_run
    assert after_reap == before

    (rerun,) = finished(topology, [waiting], timeout=60)
    assert rerun.phase == "Succeeded", rerun.message
    assert rerun.worker == topology.worker_name(survivor)
    assert rerun.report["counts"]["tables"] == 4 + 12
    assert f"run {waiting} of {name} started on worker {rerun.worker}" in survivor.log()
    assert [row.phase for row in run_rows(topology, workflow_name=name)] == ["Succeeded", "Error", "Succeeded"]
    with topology.engine.connect() as conn:
        assert conn.execute(sa.select(runs.c.name).where(runs.c.phase == "Running")).all() == []


# -- 3b. a worker hangs mid-run, then wakes up --------------------------------------------------------------

@pytest.mark.postgres
def test_a_hung_worker_that_wakes_up_after_its_run_was_reaped_writes_nothing(shared_topology, glue):
    """SIGSTOP rather than SIGKILL: the worker is frozen past its lease, its run is reaped (Error, rolled
    back), then it resumes mid-crawl. It must neither write (every crawl write is fenced by the lease) nor
    record an end of the run."""
    topology = shared_topology
    connection = "default/glue/1790000351"
    seed(glue)
    http = topology.a.client()
    name, first = create(http, workflow(epoch=1790000351, connection_name="frozen"))
    assert wait_for(http, first)["status"]["phase"] == "Succeeded"
    before = asset_rows(topology, connection)
    seed_more(glue)
    glue.set_faults([{"operation": "*", "delay_seconds": 1.0}])

    victim = submit(http, name)
    running = wait_until(lambda: running_and_writing(topology, victim), "the re-run to write", timeout=30)
    frozen = topology.worker_named(running.worker)
    frozen.process.send_signal(signal.SIGSTOP)
    try:
        ended = wait_until(lambda: (row if (row := run_row(topology, victim)).phase != "Running" else None),
                           "the frozen worker's run to be reaped", timeout=topology.lease_seconds + 30)
        assert ended.phase == "Error" and "stopped renewing its lease" in ended.message, ended.message
        assert asset_rows(topology, connection) == before
    finally:
        frozen.process.send_signal(signal.SIGCONT)
    glue.set_faults([{"operation": "*", "delay_seconds": 0.05}])  # let it reach its next page soon
    wait_until(lambda: f"run {victim}: ended elsewhere while worker {running.worker} ran it" in frozen.log(),
               "the woken worker to give the run up", timeout=30)

    assert run_row(topology, victim) == ended, "the woken worker must not record an end of the run"
    assert asset_rows(topology, connection) == before and undo_entries(topology, victim) == 0
    after = submit(topology.b.client(), name)  # the workflow is free again, and the woken worker works
    (rerun,) = finished(topology, [after], timeout=60)
    assert rerun.phase == "Succeeded" and rerun.report["counts"]["tables"] == 4 + 12, rerun.message


# -- 4. schedules under two API processes ------------------------------------------------------------------

PERIOD = 5  # seconds between ticks: wide enough that a tick fired late under load is still told apart


@pytest.mark.postgres
def test_a_schedule_fires_once_per_tick_with_two_servers(shared_topology, glue):
    """croniter takes a sixth field, seconds, and schedule_of lets it through: '* * * * * */5' ticks every 5 s,
    so a few ticks pass in ~20 s. Both API processes tick their schedulers every 0.5 s: each tick must start
    exactly one run, promptly; ticks from before the schedule was set are never made up (Argo fires a new
    CronWorkflow at its first tick after creation). The one tolerance ("the first partial one"): a tick that
    fell during, or at most one period before, the update that set the schedule may fire once."""
    topology = shared_topology
    seed(glue)
    http = topology.a.client()
    document = workflow(epoch=1790000401, connection_name="cron")
    name, first = create(http, document)
    assert wait_for(http, first)["status"]["phase"] == "Succeeded"
    cron = f"* * * * * */{PERIOD}"
    document["metadata"]["annotations"].update({SCHEDULE: cron, TIMEZONE: "UTC"})
    # As in any deployment, the servers have been up for a while when the schedule is set: several ticks
    # have passed since their schedulers started, and none of those may fire.
    up_since = topology.started_at + timedelta(seconds=4 * PERIOD)
    time.sleep(max(0.0, (up_since - datetime.now(UTC)).total_seconds()))
    try:
        set_from = datetime.now(UTC)
        answer = http.post(f"/api/service/workflows/{name}", json=document)
        set_until = datetime.now(UTC)
        assert answer.status_code == 200, answer.text
        # Watch until halfway between two ticks, 4 ticks on: every tick up to then has had 1.5 s to fire.
        last_tick = croniter(cron, set_until).get_next(datetime)
        for _ in range(3):
            last_tick = croniter(cron, last_tick).get_next(datetime)
        until = last_tick + timedelta(seconds=PERIOD / 2)
        time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()))
    finally:
        http.post(f"/api/service/workflows/{name}/archive")
    fired = [row for row in run_rows(topology, workflow_name=name)
             if row.created_by == "scheduler" and row.created_at <= until]

    def ticks(start: datetime, end: datetime) -> list[datetime]:
        found, tick = [], croniter(cron, start).get_next(datetime)
        while tick <= end:
            found.append(tick)
            tick = croniter(cron, tick).get_next(datetime)
        return found

    expected = ticks(set_until, until)
    partial = ticks(set_from - timedelta(seconds=PERIOD), set_until)
    tick_of = [croniter(cron, row.created_at).get_prev(datetime) for row in fired]
    seen = (f"schedule set between {set_from:%H:%M:%S.%f} and {set_until:%H:%M:%S.%f}; ticks since: "
            f"{[f'{tick:%H:%M:%S}' for tick in expected]}; runs created at "
            f"{[f'{row.created_at.astimezone(UTC):%H:%M:%S.%f}' for row in fired]}")
    assert len(fired) in (len(expected), len(expected) + 1), f"{len(fired)} runs for {len(expected)} ticks: {seen}"
    assert len(set(tick_of)) == len(tick_of), f"two runs for one tick: {seen}"
    assert set(expected) <= set(tick_of), f"a tick did not fire: {seen}"
    assert set(tick_of) - set(expected) <= set(partial), f"a tick from before the schedule fired: {seen}"
    for row, tick in zip(fired, tick_of, strict=True):  # each fired promptly, at its tick
        # Within the period: a later run would be taken for the next tick's (the fixture's housekeeping is 0.5 s).
        assert row.created_at - tick < timedelta(seconds=PERIOD), seen


# -- 5. a stop sent to one process ends a run on a worker ----------------------------------------------------

@pytest.mark.postgres
def test_a_stop_sent_to_server_a_ends_the_run_on_a_worker_and_rolls_it_back(shared_topology, glue):
    topology = shared_topology
    seed(glue)
    http = topology.a.client()
    name, first = create(http, workflow(epoch=1790000501, connection_name="stoppable"))
    assert wait_for(http, first)["status"]["phase"] == "Succeeded"
    before = asset_rows(topology, "default/glue/1790000501")
    seed_more(glue)
    glue.set_faults([{"operation": "*", "delay_seconds": 0.5}])  # ~4 s of crawl

    run = submit(topology.b.client(), name)
    running = wait_until(lambda: running_and_writing(topology, run), "the re-run to write", timeout=30)
    assert running.worker in {topology.worker_name(worker) for worker in topology.workers}
    stopped_at = time.monotonic()
    answer = http.post(f"/api/service/runs/{run}/stop")
    assert answer.status_code == 200, answer.text
    (ended,) = finished(topology, [run], timeout=30)
    took = time.monotonic() - stopped_at
    assert ended.phase == "Failed" and "Stopped on request" in ended.message, (ended.phase, ended.message)
    # The worker learns of the stop at its next lease renewal, then stops at its next page and rolls back.
    renew_every = min(2.0, topology.lease_seconds / 6)  # runner.Runner.renew_every
    assert took < renew_every + 0.5 + 5, f"the run ended {took:.1f} s after the stop"
    assert asset_rows(topology, "default/glue/1790000501") == before and undo_entries(topology, run) == 0


# -- 6. the Glue package page's pyatlan snippets --------------------------------------------------------------------

@pytest.mark.postgres
def test_the_page_pyatlan_snippets_pass_against_server_b(shared_topology, glue, monkeypatch):
    """The page's two snippets, verbatim, through pyatlan 10.0.0 against API process B; the workers run them.

    A compact equivalent of test_pyatlan_snippets' body: that body asserts on the whole catalog (one Glue
    workflow in all, exactly these tables, none left after delete), which this module's shared database holds
    more of; here the assertions are about this crawler's connection. (Its full body also passes against a
    fresh topology, but its fixed 14 s and 8 s Glue delays would double this file's time.)"""
    topology = shared_topology
    _seed_dev_project(glue)
    monkeypatch.setenv("ATLAN_BASE_URL", topology.b.url)
    monkeypatch.setenv("ATLAN_API_KEY", topology.b.ADMIN_TOKEN)

    # --- the first snippet, verbatim ---------------------------------------------------------------
    from pyatlan.client.atlan import AtlanClient
    from pyatlan.model.packages import GlueCrawler

    client = AtlanClient()

    crawler = (
        GlueCrawler( # (1)
            client=client,  # (2)
            connection_name="production", # (3)
            admin_roles=[client.role_cache.get_id_for_name("$admin")], # (4)
            admin_groups=None,
            admin_users=None,
            row_limit=0, # (5)
            allow_query=False, # (6)
            allow_query_preview=False, # (7)
        )
        .iam_user_auth( # (8)
            access_key="your-access-key",
            secret_key="your-secret-key",
        )
        .direct(region="ap-south-1") # (9)
        .include(assets=['dev-project']) # (10)
        .exclude(assets=[]) # (11)
        .to_workflow() # (12)
    )
    response = client.workflow.run(crawler) # (13)
    # -------------------------------------------------------------------------------------------------
    from pyatlan.model.enums import AtlanWorkflowPhase, WorkflowPackage

    assert client.workflow.monitor(response) == AtlanWorkflowPhase.SUCCESS
    connection = f"default/glue/{crawler.metadata.name.rsplit('-', 1)[1]}"
    crawled = connection_assets(topology, connection)
    tables = sorted(qn.rsplit("/", 2)[1:] for kind, qn in crawled if kind == "Table")
    assert tables == [["dev-project", "customers"], ["dev-project", "orders"]]

    # --- the second snippet, verbatim (n = 0) --------------------------------------------------------
    existing = client.workflow.find_by_type(  # (1)
      prefix=WorkflowPackage.GLUE, max_results=5
    )
    n = 0
    # Determine which Glue workflow (n)
    # from the list of results you want to re-run.
    response = client.workflow.rerun(existing[n]) # (2)
    # -------------------------------------------------------------------------------------------------
    assert existing[0].id == crawler.metadata.name, "the newest Glue workflow comes first"
    assert client.workflow.monitor(response) == AtlanWorkflowPhase.SUCCESS
    assert connection_assets(topology, connection) == crawled, "a re-run must not duplicate or lose assets"
    done = run_rows(topology, workflow_name=crawler.metadata.name)
    assert [row.phase for row in done] == ["Succeeded", "Succeeded"]
    assert {row.worker for row in done} <= {topology.worker_name(worker) for worker in topology.workers}
    for process in [*topology.servers, *topology.workers]:
        assert "your-secret-key" not in process.log()


# -- 7. configuration refusals and health -------------------------------------------------------------------

def test_configurations_that_cannot_work_are_refused_at_start(tmp_path):
    sqlite = {"GAZETTEER_HOME": str(tmp_path / "home"), "GAZETTEER_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}"}
    broker = {"GAZETTEER_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0"}
    postgres = {"GAZETTEER_HOME": str(tmp_path / "home"),
                "GAZETTEER_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    cases = [
        (["worker"], postgres, "set GAZETTEER_BROKER_URL"),
        (["worker"], {**sqlite, **broker}, "A worker needs a database that several processes share"),
        (["serve", "--port", str(free_port()), "--workers", "2"], sqlite,
         "--workers 2 needs a database that several processes share"),
        (["serve", "--port", str(free_port())], {**sqlite, **broker},
         "Running workflows on workers (GAZETTEER_BROKER_URL) needs a database that several processes share"),
    ]

    def attempt(args: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "gazetteer.cli", *args], env=clean_env(**env),
                              capture_output=True, text=True, timeout=60)
        return time.monotonic() - started, done

    with ThreadPoolExecutor(len(cases)) as pool:
        outcomes = list(pool.map(lambda case: attempt(case[0], case[1]), cases))
    for (args, _, needle), (took, done) in zip(cases, outcomes, strict=True):
        said = " ".join((done.stdout + done.stderr).split())  # the console wraps long lines
        assert done.returncode != 0 and needle in said, (args, done.returncode, said)
        if "several processes share" in needle:
            assert "GAZETTEER_DATABASE_URL=postgresql" in said, said
        assert took < 30, f"gazetteer {args[0]} took {took:.0f} s to refuse"  # it does not start and hang


@pytest.mark.postgres
def test_health_reports_the_database_and_the_broker(shared_topology, glue, postgres_url, tmp_path):
    for server in shared_topology.servers:
        answer = httpx.get(f"{server.url}/health", timeout=10)
        assert answer.status_code == 200 and answer.json()["status"] == "ok", answer.text
        assert (answer.json()["database"], answer.json()["broker"]) == ("ok", "ok")

    password = "broker-password-never-logged"
    closed = f"redis://:{password}@127.0.0.1:{free_port()}/0"  # nothing listens there
    broken = Server(tmp_path / "broken", glue.url, postgres_url,
                    extra_env={"GAZETTEER_BROKER_URL": closed})
    try:
        # It starts: the broker is contacted only to hand out runs and to answer /health. Without its broker
        # the catalog still serves, so the process is "degraded", not down (503 is for a missing database).
        answer = httpx.get(f"{broken.url}/health", timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "degraded"
        assert (answer.json()["database"], answer.json()["broker"]) == ("ok", "unreachable")
        http = broken.client()
        searched = http.post("/api/service/workflows/indexsearch", json={})
        assert searched.status_code == 200 and searched.json()["hits"]["total"]["value"] == 0
        # A run submitted meanwhile is kept, Pending, for when the broker answers again.
        seed(glue)
        _, run = create(http, workflow(epoch=1790000701, connection_name="no-broker"))
        assert http.get(f"/api/service/runs/{run}").json()["status"]["phase"] == "Pending"
        assert password not in broken.log()
    finally:
        broken.stop()
