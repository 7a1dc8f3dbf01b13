"""The workflow REST API at the HTTP level: the Glue package page's raw calls, bad input, secrets, restarts."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from gazetteer.client import GlueCrawler
from gazetteer.store import open_engine

REGION = "eu-west-1"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYSECRETKEY"
ACCESS_KEY = "AKIAGAZETTEERTESTKEY"

# The two raw REST bodies of Atlan's Glue assets package page, verbatim (its "// (1)" annotations removed).
PAGE_INDEXSEARCH = {
    "from": 0, "size": 5,
    "query": {"bool": {"filter": [{"nested": {"path": "metadata", "query": {
        "prefix": {"metadata.name.keyword": {"value": "atlan-glue"}}}}}]}},
    "sort": [{"metadata.creationTimestamp": {"nested": {"path": "metadata"}, "order": "desc"}}],
    "track_total_hits": True,
}


def page_submit(name: str) -> dict:
    return {"namespace": "default", "resourceKind": "WorkflowTemplate", "resourceName": name}


def seed(glue, databases=("sales", "hr")) -> None:
    client = glue.client(REGION)
    for database in databases:
        client.create_database(DatabaseInput={"Name": database})
        for table in ("a", "b"):
            client.create_table(DatabaseName=database, TableInput={
                "Name": table, "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "int"}]}})


def workflow(epoch: int = 1790000000, **overrides) -> dict:
    values = {"connection_name": "lake", "admin_roles": ["$admin"]}
    values.update(overrides)
    return (GlueCrawler(epoch=epoch, **values).iam_user_auth(access_key=ACCESS_KEY, secret_key=SECRET)
            .direct(region=REGION).to_workflow())


def wait_for(http, run_name: str, phases=("Succeeded", "Failed", "Error"), timeout=120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = {"from": 0, "size": 1, "query": {"bool": {"filter": [{"term": {"_id": {"value": run_name}}}]}}}
        hits = http.post("/api/service/runs/indexsearch", json=body).json()["hits"]["hits"]
        if hits and hits[0]["_source"]["status"]["phase"] in phases:
            return hits[0]["_source"]
        time.sleep(0.3)
    raise AssertionError(f"run {run_name} did not reach {phases}")


def latest_run(http, workflow_name: str) -> dict:
    of_workflow = {"term": {"spec.workflowTemplateRef.name.keyword": {"value": workflow_name}}}
    body = {"from": 0, "size": 1, "sort": [{"status.startedAt": {"order": "desc"}}],
            "query": {"bool": {"filter": [{"nested": {"path": "spec", "query": of_workflow}}]}}}
    return http.post("/api/service/runs/indexsearch", json=body).json()["hits"]["hits"][0]["_source"]


def create(http, document: dict) -> tuple[str, str]:
    answer = http.post("/api/service/workflows?submit=true", json=document)
    assert answer.status_code == 200, answer.text
    name = answer.json()["metadata"]["name"]
    return name, latest_run(http, name)["metadata"]["name"]


def count_rows(server, table: str) -> int:
    engine = open_engine(server.database_url)
    with engine.connect() as conn:
        count = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
    engine.dispose()
    return count


def token(server, name: str, role: str) -> str:
    done = subprocess.run([sys.executable, "-m", "gazetteer.cli", "token", "create", "--name", name, "--role", role],
                          env=server.env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_the_page_raw_rest_calls(any_server, glue):
    server = any_server
    seed(glue)
    http = server.client()
    name, first = create(http, workflow())
    assert wait_for(http, first)["status"]["phase"] == "Succeeded"

    found = http.post("/api/service/workflows/indexsearch", json=PAGE_INDEXSEARCH).json()
    assert found["hits"]["total"]["value"] == 1
    assert found["hits"]["hits"][0]["_source"]["metadata"]["name"] == name

    rerun = http.post("/api/service/workflows/submit", json=page_submit(name))
    assert rerun.status_code == 200 and rerun.json()["metadata"]["name"].startswith(f"{name}-")
    done = wait_for(http, rerun.json()["metadata"]["name"])
    assert done["status"]["phase"] == "Succeeded" and done["spec"]["workflowTemplateRef"]["name"] == name
    report = done["status"]["report"]
    assert report["counts"]["tables"] == 4 and report["changes"]["created"] == 0
    assert report["changes"]["unchanged"] > 0

    also = http.post("/api/service/package-workflows/submit", json=page_submit(name))
    assert wait_for(http, also.json()["metadata"]["name"])["status"]["phase"] == "Succeeded"
    runs = http.post("/api/service/runs/indexsearch", json={"size": 10, "query": {"term": {
        "spec.workflowTemplateRef.name.keyword": name}}}).json()
    assert runs["hits"]["total"]["value"] == 3
    assert count_rows(server, "assets WHERE type_name = 'Connection'") == 1


def test_bad_input_is_refused_and_nothing_is_stored(server, glue):
    http = server.client()
    good = workflow()
    unknown_package = json.loads(json.dumps(good))
    unknown_package["metadata"]["annotations"]["package.argoproj.io/name"] = "@atlan/snowflake"
    unknown_package["spec"]["workflowMetadata"]["annotations"]["package.argoproj.io/name"] = "@atlan/snowflake"
    no_admin = json.loads(json.dumps(good))
    parameters = no_admin["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"]
    connection = next(p for p in parameters if p["name"] == "connection")
    attributes = json.loads(connection["value"])
    attributes["attributes"]["adminRoles"] = []
    connection["value"] = json.dumps(attributes)
    no_region = GlueCrawler(epoch=1790000001, connection_name="x", admin_roles=["$admin"]).iam_user_auth(
        access_key="a", secret_key="b").to_workflow()
    bad_filter = json.loads(json.dumps(good))
    bad_filter["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"].append(
        {"name": "include-filter", "value": "{not json"})
    bad_region = json.loads(json.dumps(good).replace(REGION, "atlantis-1"))

    cases = [
        ("post", "/api/service/workflows?submit=true", {"content": b"{not json"}, 400, "not valid JSON"),
        ("post", "/api/service/workflows?submit=true", {"json": [1, 2]}, 400, "Invalid request"),
        ("post", "/api/service/workflows?submit=true", {"json": unknown_package}, 400, "Unknown package"),
        ("post", "/api/service/workflows?submit=true", {"json": no_admin}, 400, "at least one admin"),
        ("post", "/api/service/workflows?submit=true", {"json": no_region}, 400, "no region"),
        ("post", "/api/service/workflows?submit=true", {"json": bad_filter}, 400, "include-filter"),
        ("post", "/api/service/workflows?submit=true", {"json": bad_region}, 400, "unknown AWS region"),
        ("post", "/api/service/workflows?submit=true", {"content": b"{" + b" " * (6 << 20) + b"}"}, 413, "larger"),
        ("post", "/api/service/workflows/submit", {"json": {"resourceName": 12}}, 400, "resourceName"),
        ("post", "/api/service/workflows/submit", {"json": page_submit("atlan-glue-1234567890")}, 404,
         "does not exist"),
        ("post", "/api/service/runs/nope/stop", {}, 404, "does not exist"),
        ("post", "/api/service/workflows/indexsearch", {"json": {"query": {"fuzzy": {"x": "y"}}}}, 400, "fuzzy"),
        ("post", "/api/service/runs/indexsearch", {"json": {"query": {"term": {"secret": "x"}}}}, 400, "secret"),
    ]
    for method, path, kwargs, status, needle in cases:
        answer = getattr(http, method)(path, headers={"content-type": "application/json"}, **kwargs)
        assert answer.status_code == status, (path, answer.text)
        assert needle in answer.json()["errorMessage"] and answer.json()["errorCode"], (path, answer.text)

    anonymous = server.client(token="")
    assert anonymous.post("/api/service/workflows?submit=true", json=good).status_code == 401
    wrong = server.client(token="gzt_not-a-real-token")
    assert wrong.post("/api/service/workflows/indexsearch", json={}).json()["errorMessage"]
    guest = server.client(token=token(server, "visitor", "$guest"))
    refused = guest.post("/api/service/workflows?submit=true", json=good)
    assert refused.status_code == 403 and "read-only" in refused.json()["errorMessage"]
    assert count_rows(server, "workflows") == 0 and count_rows(server, "workflow_runs") == 0
    assert count_rows(server, "credentials") == 0 and count_rows(server, "assets") == 0
    assert "Traceback" not in server.log()


def test_only_connection_admins_may_rerun_stop_or_archive(server, glue):
    seed(glue)
    admin = server.client()
    name, first = create(admin, workflow())
    wait_for(admin, first)
    member = server.client(token=token(server, "analyst", "$member"))
    for path, body in (("/api/service/package-workflows/submit", page_submit(name)),
                       (f"/api/service/workflows/{name}/archive", None), (f"/api/service/runs/{first}/stop", None)):
        answer = member.post(path, json=body)
        assert answer.status_code == 403 and "not an admin of connection 'lake'" in answer.json()["errorMessage"]
    # A workflow whose connection names the member's user as admin is theirs to run.
    mine, run = create(member, workflow(epoch=1790000002, connection_name="mine", admin_roles=None,
                                        admin_users=["service-account-analyst"]))
    assert wait_for(member, run)["status"]["phase"] == "Succeeded"
    again = member.post("/api/service/package-workflows/submit", json=page_submit(mine))
    assert again.status_code == 200


def test_secrets_never_leave_the_vault(server, glue):
    seed(glue)
    http = server.client()
    answers = []
    created = http.post("/api/service/workflows?submit=true", json=workflow())
    answers.append(created.text)
    name = created.json()["metadata"]["name"]
    run = latest_run(http, name)["metadata"]["name"]
    answers.append(json.dumps(wait_for(http, run)))
    answers.append(http.post("/api/service/workflows/indexsearch", json=PAGE_INDEXSEARCH).text)
    answers.append(http.post("/api/service/workflows/submit", json=page_submit(name)).text)
    answers.append(http.get(f"/api/service/workflows/{name}").text)
    stored = b"".join(path.read_bytes() for path in server.home.glob("catalog.db*"))
    assert stored
    for secret in (SECRET, ACCESS_KEY):
        assert secret not in "".join(answers) and secret not in server.log()
        assert secret.encode() not in stored, "credentials must be encrypted at rest"
    assert "{{credentialGuid}}" not in answers[0]


def test_runs_of_one_workflow_never_overlap(server, glue):
    seed(glue)
    http = server.client()
    name, first = create(http, workflow())
    wait_for(http, first)
    glue.set_faults([{"operation": "GetTables", "delay_seconds": 3, "times": 1}])
    runs = [http.post("/api/service/workflows/submit", json=page_submit(name)).json()["metadata"]["name"]
            for _ in range(2)]
    def phase(run: str) -> str:
        return wait_for(http, run, phases=("Pending", "Running", "Succeeded", "Failed", "Error"))["status"]["phase"]

    phases = set()
    while True:
        # Two reads are two moments: the first run may end and the second start between them. Reading the first
        # again after the second proves an overlap, since a phase only moves forward.
        first_before, second, first_after = phase(runs[0]), phase(runs[1]), phase(runs[0])
        assert not (first_before == second == first_after == "Running"), "two runs of one workflow ran at once"
        phases.add((first_after, second))
        if first_after == second == "Succeeded":
            break
        time.sleep(0.2)
    assert ("Running", "Pending") in phases


@pytest.mark.timeout(240)
def test_a_restart_ends_interrupted_runs_and_a_rerun_recovers(glue, start_server, tmp_path):
    seed(glue)
    server = start_server(tmp_path / "home")
    http = server.client()
    name, first = create(http, workflow())
    clean = wait_for(http, first)["status"]["report"]
    active = count_rows(server, "assets WHERE status = 'ACTIVE'")
    glue.set_faults([{"operation": "GetTables", "delay_seconds": 30, "times": 1}])
    interrupted = http.post("/api/service/workflows/submit", json=page_submit(name)).json()["metadata"]["name"]
    wait_for(http, interrupted, phases=("Running",))
    server.stop(kill=True)
    glue.clear_faults()

    restarted = start_server(tmp_path / "home")
    http = restarted.client()
    ended = wait_for(http, interrupted)
    assert ended["status"]["phase"] == "Error" and "Interrupted" in ended["status"]["message"]
    rerun = http.post("/api/service/workflows/submit", json=page_submit(name)).json()["metadata"]["name"]
    report = wait_for(http, rerun)["status"]["report"]
    assert report["status"] == "Succeeded" and report["counts"] == clean["counts"]
    assert report["changes"]["created"] == 0 and report["changes"]["archived"] == 0
    assert count_rows(restarted, "assets WHERE status = 'ACTIVE'") == active == clean["changes"]["created"] + 1


def test_an_unreachable_glue_fails_the_run_with_a_message(start_server, tmp_path):
    server = start_server(tmp_path / "home", glue_url="http://127.0.0.1:9")
    http = server.client()
    _, run = create(http, workflow())
    ended = wait_for(http, run)
    assert ended["status"]["phase"] == "Failed"
    assert "AWS_ENDPOINT_URL_GLUE" in ended["status"]["message"] and SECRET not in json.dumps(ended)
    assert ended["status"]["report"]["status"] == "Failed" and ended["status"]["progress"] == "1/1"
