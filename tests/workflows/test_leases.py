"""Claims, leases and schedule ticks in the database: the guarantees that hold across processes."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from gazetteer.assets.publish import Publisher
from gazetteer.assets.records import AssetRecord
from gazetteer.store import open_engine
from gazetteer.store.schema import assets, crawl_undo
from gazetteer.workflows.leases import (
    LeaseLost,
    claim_next,
    finish,
    hold,
    mark_dispatched,
    pending_workflows,
    reap_expired,
    renew,
)
from gazetteer.workflows.models import runs, workflows
from gazetteer.workflows.schedules import SCHEDULE, Scheduler

LEASE = 30.0


def _runs(engine, workflow: str, count: int, phase: str = "Pending") -> list[str]:
    names = [f"{workflow}-{uuid.uuid4().hex[:5]}" for _ in range(count)]
    with engine.begin() as conn:
        for name in names:  # one insert each: ids are the submit order
            conn.execute(runs.insert().values(name=name, uid=str(uuid.uuid4()), workflow_name=workflow,
                                              template_refs=[], phase=phase, created_at=datetime.now(UTC),
                                              created_by="test"))
    return names


def _row(engine, name: str):
    with engine.connect() as conn:
        return conn.execute(sa.select(runs).where(runs.c.name == name)).one()


def test_a_workflow_runs_one_run_at_a_time_in_submit_order(engine):
    first, second = _runs(engine, "lake", 2)
    _runs(engine, "pond", 1)
    assert claim_next(engine, "lake", "w1", LEASE) == first
    assert claim_next(engine, "lake", "w2", LEASE) is None  # busy: the second waits
    assert _row(engine, second).phase == "Pending"
    assert pending_workflows(engine) == ["pond"]
    assert finish(engine, first, "w1", phase="Succeeded")
    assert claim_next(engine, "lake", "w2", LEASE) == second
    row = _row(engine, second)
    assert (row.phase, row.worker) == ("Running", "w2") and row.lease_expires_at > datetime.now(UTC)


def test_concurrent_claims_let_exactly_one_worker_win(engine):
    _runs(engine, "lake", 3)
    barrier = threading.Barrier(8)
    won: list[str | None] = []

    def claim(worker: str) -> None:
        barrier.wait()
        won.append(claim_next(engine, "lake", worker, LEASE))

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([name for name in won if name]) == 1
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).where(runs.c.phase == "Running")).scalar() == 1


def test_a_second_running_run_of_a_workflow_is_impossible(engine):
    (name,) = _runs(engine, "lake", 1, phase="Running")
    try:
        _runs(engine, "lake", 1, phase="Running")
    except sa.exc.IntegrityError:
        pass
    else:
        raise AssertionError("the database let two runs of one workflow be Running")
    assert _row(engine, name).phase == "Running"


def test_renewal_carries_stop_requests_and_only_the_holder_renews(engine):
    (name,) = _runs(engine, "lake", 1)
    claim_next(engine, "lake", "w1", 5)
    before = _row(engine, name).lease_expires_at
    assert renew(engine, name, "w1", LEASE) == (True, False)
    assert _row(engine, name).lease_expires_at > before
    assert renew(engine, name, "intruder", LEASE) == (False, False)
    with engine.begin() as conn:
        conn.execute(runs.update().where(runs.c.name == name).values(stop_requested=True))
    assert renew(engine, name, "w1", LEASE) == (True, True)


def test_an_expired_lease_is_reaped_once_and_its_holder_cannot_end_the_run(engine):
    (dead,) = _runs(engine, "lake", 1)
    (alive,) = _runs(engine, "pond", 1)
    claim_next(engine, "lake", "worker@gone:1", LEASE)
    claim_next(engine, "pond", "worker@here:2", LEASE)
    with engine.begin() as conn:
        conn.execute(runs.update().where(runs.c.name == dead)
                     .values(lease_expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert reap_expired(engine, "serve@a:1", LEASE) == ["lake"]
    assert reap_expired(engine, "serve@b:2", LEASE) == []  # nothing left for a second reaper
    row = _row(engine, dead)
    assert row.phase == "Error" and "worker@gone:1 stopped renewing its lease" in row.message
    assert "It left nothing to roll back" in row.message and row.finished_at is not None
    assert not finish(engine, dead, "worker@gone:1", phase="Succeeded")  # too late: it keeps its Error
    assert _row(engine, dead).phase == "Error"
    assert _row(engine, alive).phase == "Running"


def test_lost_dispatches_are_found_again(engine):
    _runs(engine, "lake", 1)
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert pending_workflows(engine, dispatched_before=later) == ["lake"]  # never dispatched
    mark_dispatched(engine, ["lake"])
    assert pending_workflows(engine, dispatched_before=datetime.now(UTC) - timedelta(seconds=60)) == []
    assert pending_workflows(engine, dispatched_before=later + timedelta(seconds=1)) == ["lake"]


def _scheduled_workflow(engine, name: str, cron: str) -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)  # set long before the ticks below
    with engine.begin() as conn:
        conn.execute(workflows.insert().values(
            name=name, uid=str(uuid.uuid4()), package="@atlan/glue", connection_qualified_name=f"default/glue/{name}",
            document={"metadata": {"name": name, "annotations": {SCHEDULE: cron}}, "spec": {}},
            created_at=now, updated_at=now, created_by="test"))


def test_many_schedulers_fire_each_tick_once(engine):
    _scheduled_workflow(engine, "atlan-glue-1000000001", "*/10 * * * *")
    started: list[str] = []
    lock = threading.Lock()

    def start_run(name: str, creator: str) -> None:
        with lock:
            started.append(name)

    schedulers = [Scheduler(engine, start_run) for _ in range(4)]
    t0 = datetime(2026, 11, 25, 9, 55, tzinfo=UTC)
    for scheduler in schedulers:
        assert scheduler.tick(t0) == []
    for tick in (t0 + timedelta(minutes=5, seconds=1), t0 + timedelta(minutes=15, seconds=2)):
        barrier = threading.Barrier(len(schedulers))

        def run(scheduler: Scheduler, at: datetime = tick, start: threading.Barrier = barrier) -> None:
            start.wait()
            scheduler.tick(at)

        threads = [threading.Thread(target=run, args=(s,)) for s in schedulers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert started == ["atlan-glue-1000000001"] * 2  # 10:00 and 10:10, each by one scheduler only


def test_a_worker_that_lost_its_lease_can_write_nothing_more(engine):
    (name,) = _runs(engine, "lake", 1)
    claim_next(engine, "lake", "w1", LEASE)
    publisher = Publisher(engine, actor=name, undoable=True, fence=lambda conn: hold(conn, name, "w1"))
    connection = "default/glue/1700000000"
    publisher.publish([AssetRecord("Connection", connection, "lake", None, {"connectorName": "glue"})])
    with engine.begin() as conn:  # a reaper takes the run over: w1 hung past its lease
        conn.execute(runs.update().where(runs.c.name == name).values(worker="serve@reaper:1"))
    with pytest.raises(LeaseLost, match="no longer held by w1"):
        publisher.publish([AssetRecord("Database", f"{connection}/AwsDataCatalog", "AwsDataCatalog", connection, {})])
    with pytest.raises(LeaseLost):
        publisher.commit()  # nor keep what it wrote: the reaper's rollback still can undo it
    with engine.connect() as conn:
        assert conn.execute(sa.select(assets.c.qualified_name)).scalars().all() == [connection]
        assert conn.execute(sa.select(sa.func.count()).select_from(crawl_undo)).scalar() > 0


def _page_in_flight(engine, name: str, worker: str):
    """A crawl page's transaction, open: the fence taken, not committed."""
    conn = engine.connect()
    conn.begin()
    hold(conn, name, worker)
    return conn


def _in_thread(call) -> threading.Thread:
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    return thread


def test_the_holder_renews_its_lease_while_a_page_transaction_is_open(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite has one writer at a time")
    (name,) = _runs(engine, "lake", 1)
    claim_next(engine, "lake", "w1", LEASE)
    page = _page_in_flight(engine, name, "w1")
    try:
        results = []
        renewal = _in_thread(lambda: results.append(renew(engine, name, "w1", LEASE)))
        renewal.join(timeout=10)
        # With the fence FOR SHARE, the renewal's UPDATE queued behind every page of the crawl.
        assert results == [(True, False)], "the lease renewal waited for the run's own page transaction"
    finally:
        page.rollback()
        page.close()


def test_a_holder_frozen_inside_its_page_transaction_is_cut_off_and_its_run_reaped(engine, postgres_url):
    """A worker stopped (SIGSTOP, hung) between two statements of a page keeps its fence's lock: the reaper
    would wait for it for ever. The engines of servers and workers end such a session after the run lease."""
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite has one writer at a time")
    (name,) = _runs(engine, "lake", 1)
    claim_next(engine, "lake", "w1", LEASE)
    with engine.begin() as conn:
        conn.execute(runs.update().where(runs.c.name == name)
                     .values(lease_expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    frozen_worker = open_engine(postgres_url, migrate=False, idle_in_transaction_seconds=1)
    try:
        page = _page_in_flight(frozen_worker, name, "w1")  # and then nothing: the process is frozen
        reaped = []
        reaper = _in_thread(lambda: reaped.extend(reap_expired(engine, "serve@reaper:1", LEASE)))
        reaper.join(timeout=15)
        assert not reaper.is_alive(), "the reaper still waits for the frozen worker's transaction"
        assert reaped == ["lake"] and _row(engine, name).phase == "Error"
        with pytest.raises(sa.exc.DBAPIError, match="idle-in-transaction timeout"):  # woken up: session ended
            page.execute(sa.select(1))
        page.close()
    finally:
        frozen_worker.dispose()


def test_a_takeover_waits_for_the_page_transaction_in_flight(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite has one writer at a time")
    (name,) = _runs(engine, "lake", 1)
    claim_next(engine, "lake", "w1", LEASE)
    with engine.begin() as conn:  # w1 hung past its lease, in the middle of a page
        conn.execute(runs.update().where(runs.c.name == name)
                     .values(lease_expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    page = _page_in_flight(engine, name, "w1")
    reaped = []
    reaper = _in_thread(lambda: reaped.extend(reap_expired(engine, "serve@reaper:1", LEASE)))
    reaper.join(timeout=1)
    still_waiting = reaper.is_alive()
    page.commit()  # the page lands; only now may the reaper take the run over (and undo the page with it)
    page.close()
    reaper.join(timeout=10)
    assert still_waiting, "the reaper took the run over while a page of its holder was uncommitted"
    assert reaped == ["lake"] and _row(engine, name).phase == "Error"
