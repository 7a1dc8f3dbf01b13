"""Runs end to end: a real crawl of the local Glue by a real server tells run_succeeded, a failing one run_failed,
a re-crawl its breaking schema changes and what it archived, and a receiver that takes its time never slows a
crawl."""

from __future__ import annotations

import itertools
import time

from gazetteer.devtools.sample_catalog import change_columns
from gazetteer.webhooks.signing import verify
from tests.webhooks.conftest import FAST, wait_status
from tests.workflows.test_workflow_api import REGION, SECRET, page_submit, seed, wait_for, workflow

_epochs = itertools.count(1797500000)
REFUSED_KEYS = [{"operation": "GetDatabases", "status": 400, "code": "UnrecognizedClientException",
                 "message": "The security token included in the request is invalid."}]


def new_workflow(http) -> tuple[str, str]:
    """A workflow (not run yet) over a new connection: (its name, the connection's qualified name)."""
    epoch = next(_epochs)
    answer = http.post("/api/service/workflows", json=workflow(epoch=epoch))
    assert answer.status_code == 200, answer.text
    return answer.json()["metadata"]["name"], f"default/glue/{epoch}"


def run(http, name: str) -> dict:
    started = http.post("/api/service/workflows/submit", json=page_submit(name))
    assert started.status_code == 200, started.text
    return wait_for(http, started.json()["metadata"]["name"])


def test_a_crawl_tells_run_succeeded_and_a_failing_one_run_failed(hook_server, glue, receivers) -> None:
    seed(glue)
    http = hook_server.client()
    name, qn = new_workflow(http)
    _, other_qn = new_workflow(http)
    receiver, elsewhere = receivers(), receivers()
    made = http.post("/api/service/webhooks", json={"name": "runs", "url": receiver.url, "connectionQualifiedName": qn,
                                                    "events": ["run_succeeded", "run_failed"]}).json()
    http.post("/api/service/webhooks", json={"name": "other connection", "url": elsewhere.url,
                                             "connectionQualifiedName": other_qn, "events": ["run_succeeded"]})

    succeeded = run(http, name)
    assert succeeded["status"]["phase"] == "Succeeded"
    (told,) = receiver.wait_for(lambda seen: len(seen) == 1)
    body = told.json()
    assert told.headers["x-gazetteer-event"] == "run_succeeded" and body["kind"] == "run_succeeded"
    assert body["run"] == succeeded["metadata"]["name"] and body["workflow"] == name and body["phase"] == "Succeeded"
    assert body["connectionQualifiedName"] == qn and body["counts"]["tables"] == 4 and body["assets"] == []
    assert body["startedAt"] and body["finishedAt"] and body["eventKey"] == told.key
    assert verify(made["secret"], told.body, told.headers["x-gazetteer-timestamp"],
                  told.headers["x-gazetteer-signature"])

    glue.set_faults(REFUSED_KEYS)
    failed = run(http, name)
    assert failed["status"]["phase"] == "Failed"
    told = receiver.wait_for(lambda seen: len(seen) == 2)[1]
    body = told.json()
    assert told.headers["x-gazetteer-event"] == "run_failed" and body["phase"] == "Failed"
    assert body["run"] == failed["metadata"]["name"] and "access key" in body["message"]
    assert SECRET not in told.body.decode()  # the crawl's credential never travels
    wait_status(http, made["guid"], "delivered")
    time.sleep(0.5)
    assert elsewhere.received == []  # a subscription to another connection heard nothing


def test_a_recrawl_tells_its_breaking_changes_and_what_it_archived(hook_server, glue, receivers) -> None:
    seed(glue)
    http = hook_server.client()
    name, qn = new_workflow(http)
    receiver = receivers()
    http.post("/api/service/webhooks", json={"name": "schema", "url": receiver.url, "connectionQualifiedName": qn,
                                             "events": ["breaking_change", "asset_archived"]})
    assert run(http, name)["status"]["phase"] == "Succeeded"
    time.sleep(0.5)
    assert receiver.received == []  # a first crawl creates: nothing breaks, nothing is archived

    client = glue.client(REGION)
    change_columns(client, "sales", "a", retype=("id", "smallint"))  # narrowing: breaking
    change_columns(client, "sales", "b", add=("note", "string"))  # additive: not told
    client.delete_table(DatabaseName="hr", Name="b")
    recrawl = run(http, name)["metadata"]["name"]

    got = receiver.wait_for(lambda seen: {r.headers["x-gazetteer-event"] for r in seen} >= {
        "breaking_change", "asset_archived"})
    (breaking,) = [r.json() for r in got if r.headers["x-gazetteer-event"] == "breaking_change"]
    assert breaking["run"] == recrawl and breaking["connectionQualifiedName"] == qn
    assert [(a["qualifiedName"], a["breaking"]) for a in breaking["assets"]] == [(f"{qn}/AwsDataCatalog/sales/a", True)]
    assert breaking["summary"] == f"1 breaking schema change in run {recrawl}"
    (archived,) = [r.json() for r in got if r.headers["x-gazetteer-event"] == "asset_archived"]
    gone = f"{qn}/AwsDataCatalog/hr/b"
    assert [(a["typeName"], a["qualifiedName"]) for a in archived["assets"]] == [
        ("Table", gone), ("Column", f"{gone}/id")]  # tables before their columns
    assert all(a["action"] == "archived" for a in archived["assets"])


def _timed_run(http, name: str) -> tuple[float, dict]:
    began = time.monotonic()
    ended = run(http, name)
    assert ended["status"]["phase"] == "Succeeded", ended["status"]
    return time.monotonic() - began, ended


def test_a_slow_receiver_does_not_slow_a_crawl(start_server, tmp_path, glue, receivers) -> None:
    delay = 10.0
    # A timeout above the receiver's delay: its deliveries do land, each after `delay` seconds.
    server = start_server(tmp_path / "home", extra_env={**FAST, "GAZETTEER_WEBHOOK_TIMEOUT_SECONDS": "30"})
    seed(glue, databases=("sales", "hr", "ops"))
    http = server.client()
    name, qn = new_workflow(http)
    without, _ = _timed_run(http, name)  # no webhooks yet

    slow = receivers(delay=delay)
    for number in range(3):
        http.post("/api/service/webhooks", json={"name": f"slow {number}", "url": slow.url,
                                                 "connectionQualifiedName": qn, "events": ["run_succeeded"]})
    glue.client(REGION).delete_table(DatabaseName="hr", Name="a")  # the crawl archives a table: more to tell
    with_webhooks, ended = _timed_run(http, name)
    again, _ = _timed_run(http, name)  # while every sender still waits on the receiver
    assert with_webhooks < delay / 2 and again < delay / 2, (without, with_webhooks, again)
    assert with_webhooks < without + delay / 2 and again < without + delay / 2
    # The receiver was busy all along: the deliveries arrive (slowly), every one of them.
    got = slow.wait_for(lambda seen: len({r.key for r in seen}) == 6, timeout=60)
    assert {r.json()["run"] for r in got} >= {ended["metadata"]["name"]}
