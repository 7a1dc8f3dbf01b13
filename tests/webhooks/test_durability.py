"""Nothing is lost: deliveries pending when the server is killed (SIGKILL) all arrive after a restart, one cut
off mid-request is sent again, and two servers sharing a PostgreSQL catalog never send the same one twice."""

from __future__ import annotations

import time
from collections import Counter, defaultdict

import pytest

from tests.webhooks.conftest import FAST, wait_status
from tests.webhooks.test_runs import new_workflow, run
from tests.workflows.test_workflow_api import seed

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
SHARED_KEY = {"GAZETTEER_SECRET_KEY": "a vault key every process of the test shares"}


def _database(request: pytest.FixtureRequest, backend: str) -> str | None:
    return None if backend == "sqlite" else request.getfixturevalue("postgres_url")


def _tried(http, guid: str, count: int, timeout: float = 30) -> list[dict]:
    """The subscription's `count` deliveries once each has been attempted at least once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = http.get(f"/api/service/webhooks/{guid}/deliveries").json()["deliveries"]
        if len(found) == count and all(d["attempts"] >= 1 for d in found):
            return found
        time.sleep(0.1)
    raise AssertionError(f"not every delivery was attempted: {found}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_deliveries_pending_when_the_server_dies_all_arrive_after_a_restart(
        backend, request, start_server, tmp_path, glue, receivers) -> None:
    database = _database(request, backend)
    # Many attempts: the deliveries must still be pending (retrying) when the server is killed.
    env = {**FAST, "GAZETTEER_WEBHOOK_MAX_ATTEMPTS": "50", "GAZETTEER_WEBHOOK_RETRY_SECONDS": "0.3"}
    home = tmp_path / "home"
    first = start_server(home, database, extra_env=env)
    receiver = receivers(started=False)  # down: its port refuses connections
    seed(glue)
    http = first.client()
    name, qn = new_workflow(http)
    made = http.post("/api/service/webhooks", json={"name": "durable", "url": receiver.url, "format": "json",
                                                    "connectionQualifiedName": qn,
                                                    "events": ["run_succeeded", "run_failed"]}).json()
    assert run(http, name)["status"]["phase"] == "Succeeded"
    for _ in range(3):
        assert http.post(f"/api/service/webhooks/{made['guid']}/test").status_code == 200
    # Each has been tried and refused, and waits in the outbox for its next attempt.
    pending = _tried(http, made["guid"], 4)
    assert all(d["status"] == "pending" and d["lastError"].startswith("could not connect") for d in pending)
    expected = {d["eventKey"] for d in pending}
    first.stop(kill=True)

    receiver.start()
    second = start_server(home, database, extra_env=env)
    got = receiver.wait_for(lambda seen: {r.key for r in seen} >= expected, timeout=90)
    assert {r.key for r in got} == expected
    bodies = defaultdict(set)
    for request_seen in got:
        bodies[request_seen.key].add(request_seen.body)
    assert all(len(each) == 1 for each in bodies.values())  # at least once, and always the same body
    first_of = {r.key: r for r in reversed(got)}
    assert Counter(r.headers["x-gazetteer-event"] for r in first_of.values()) == {"test": 3, "run_succeeded": 1}
    assert {d["eventKey"] for d in wait_status(second.client(), made["guid"], "delivered")["deliveries"]} == expected


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_delivery_cut_off_by_a_crash_is_sent_again(backend, request, start_server, tmp_path, receivers) -> None:
    database = _database(request, backend)
    # The claim of an attempt lasts 2 x timeout + 10 s: on PostgreSQL the restarted server waits that long for
    # it to expire (another server might still be sending it); on SQLite, the only process, it frees it at once.
    env = {**FAST, "GAZETTEER_WEBHOOK_TIMEOUT_SECONDS": "3"}
    home = tmp_path / "home"
    first = start_server(home, database, extra_env=env)
    receiver = receivers(delay=2.5)  # answers within the timeout, but the server dies first
    http = first.client()
    made = http.post("/api/service/webhooks", json={"name": "cut off", "url": receiver.url,
                                                    "events": ["run_failed"]}).json()
    http.post(f"/api/service/webhooks/{made['guid']}/test")
    (cut_off,) = receiver.wait_for(lambda seen: len(seen) == 1)
    first.stop(kill=True)  # mid-request: no outcome recorded, the claim stays behind
    receiver.delay = 0

    second = start_server(home, database, extra_env=env)
    again = receiver.wait_for(lambda seen: len(seen) == 2, timeout=60)[1]
    assert again.key == cut_off.key and again.body == cut_off.body  # the receiver can tell it is a repeat
    (delivery,) = wait_status(second.client(), made["guid"], "delivered")["deliveries"]
    assert delivery["attempts"] == 1  # the attempt the crash cut off was never recorded


@pytest.mark.postgres
def test_two_servers_never_send_the_same_delivery(postgres_url, start_server, tmp_path, receivers) -> None:
    # One sender each and a receiver that takes a moment: both servers must work at once to keep up.
    env = {**FAST, **SHARED_KEY, "GAZETTEER_WEBHOOK_SENDERS": "1"}
    servers = [start_server(tmp_path / name, postgres_url, extra_env=env) for name in ("a", "b")]
    receiver = receivers(delay=0.2)
    made = servers[0].client().post("/api/service/webhooks", json={"name": "shared", "url": receiver.url,
                                                                   "events": ["run_failed"]}).json()
    for number in range(30):
        servers[number % 2].client().post(f"/api/service/webhooks/{made['guid']}/test")
    log = wait_status(servers[1].client(), made["guid"], "delivered", timeout=60)
    keys = [r.key for r in receiver.received]
    assert len(log["deliveries"]) == 30 and sorted(keys) == sorted(d["eventKey"] for d in log["deliveries"])
    assert receiver.most_in_flight == 2  # both dispatchers were sending at the same time, never the same one
