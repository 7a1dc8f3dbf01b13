"""Atlan's Glue app API (pyatlan 11.6.0's `AtlanGlue` and `client.app`) against a live server.

pyatlan 11 cannot share a virtualenv with the pyatlan 10.0.0 the other tests run (11 has no GlueCrawler and no
client.workflow), so it gets its own, built once and reused (`.venv-pyatlan116/` at the top of the repository),
and runs user-style scripts there as subprocesses. The error cases are plain HTTP.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import re
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from gazetteer.api.asset_search import index_search
from gazetteer.credentials.vault import Vault
from gazetteer.devtools.processes import clean_env
from gazetteer.errors import InvalidRequest
from gazetteer.settings import Settings
from gazetteer.store import open_engine
from gazetteer.workflows.models import runs, workflows

pytestmark = pytest.mark.timeout(900)  # the first session builds pyatlan 11's virtualenv

PYATLAN = "pyatlan==11.6.0"
VENV = Path(__file__).resolve().parents[2] / ".venv-pyatlan116"
REGION = "eu-west-1"
ACCESS_KEY = "AKIAGAZETTEERAPPKEY1"
SECRET = "app-api-secret/K7MDENG+bPxRfiCY"
ROLE_ARN = "arn:aws:iam::123456789012:role/atlan-glue"
EXTERNAL_ID = "ext-123-external"
_UNREACHABLE = ("NewConnectionError", "Failed to establish a new connection", "Temporary failure in name resolution",
                "Network is unreachable", "ConnectTimeout", "ProxyError", "No matching distribution found")
_epochs = itertools.count(1796000000)
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="session")
def pyatlan116() -> Path:
    """The python of a virtualenv with pyatlan 11.6.0 (made once: a marker file says it is complete)."""
    marker, lock_file = VENV / f".{PYATLAN}", VENV.with_name(f"{VENV.name}.lock")
    lock_file.touch()
    with open(lock_file) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two sessions at once build it once
        if not marker.exists():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True, capture_output=True)
            done = subprocess.run([str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", PYATLAN],
                                  capture_output=True, text=True, timeout=800)
            if done.returncode != 0:
                output = done.stdout + done.stderr
                if any(sign in output for sign in _UNREACHABLE):
                    pytest.skip(f"PyPI is unreachable, so {PYATLAN} cannot be installed: {output[-300:]}")
                pytest.fail(f"pip install {PYATLAN} failed:\n{output[-3000:]}")
            marker.touch()
    return VENV / "bin" / "python"


@pytest.fixture()
def pyatlan(pyatlan116, server, glue, tmp_path):
    """Run a script body with pyatlan 11.6.0 against the server; it fills `out`, which comes back parsed.

    The body sees `client` (an AtlanClient from ATLAN_BASE_URL / ATLAN_API_KEY), `P` (the keyword arguments),
    `wait(run_id)` (polls get_run until is_terminal) and the usual pyatlan imports."""
    scripts = itertools.count()

    def run(body: str, **params) -> dict:
        script = tmp_path / f"script_{next(scripts)}.py"
        script.write_text(PRELUDE + textwrap.dedent(body) + "\nprint(json.dumps(out, default=str))\n")
        env = clean_env(ATLAN_BASE_URL=server.url, ATLAN_API_KEY=server.ADMIN_TOKEN, **glue.env(REGION))
        done = subprocess.run([str(pyatlan116), str(script), json.dumps(params)], env=env, capture_output=True,
                              text=True, timeout=240)
        assert done.returncode == 0, f"{done.stderr}\n--- server log ---\n{server.log()[-4000:]}"
        return json.loads(done.stdout.strip().splitlines()[-1])
    return run


PRELUDE = '''
import json, sys, time
from pyatlan.client.atlan import AtlanClient
from pyatlan.errors import AtlanError, ConflictError, InvalidRequestError, NotFoundError
from pyatlan.model.apps import AtlanGlue

client = AtlanClient()
P = json.loads(sys.argv[1])
out = {}

def wait(run_id, seconds=120):
    deadline = time.monotonic() + seconds
    run = client.app.get_run(run_id)
    while not run.is_terminal:
        assert time.monotonic() < deadline, f"run {run_id} still {run.status}"
        time.sleep(0.3)
        run = client.app.get_run(run_id)
    return run
'''


def seed(glue) -> None:
    client = glue.client(REGION)
    for database, tables in (("sales", ("orders", "customers", "tmp_orders")), ("hr", ("people",)),
                             ("scratch", ("junk",))):
        client.create_database(DatabaseInput={"Name": database})
        for table in tables:
            client.create_table(DatabaseName=database, TableInput={
                "Name": table, "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "int"}]}})


def rows(server, sql: str) -> list:
    engine = open_engine(server.database_url)
    with engine.connect() as conn:
        found = conn.execute(sa.text(sql)).all()
    engine.dispose()
    return [tuple(row) for row in found]


def tables(server) -> dict[str, str]:
    """Crawled table name → status."""
    return {qn.rsplit("/", 2)[1] + "." + qn.rsplit("/", 1)[1]: status for qn, status in
            rows(server, "SELECT qualified_name, status FROM assets WHERE type_name = 'Table'")}


def token(server, name: str, role: str) -> str:
    done = subprocess.run([sys.executable, "-m", "gazetteer.cli", "token", "create", "--name", name, "--role", role],
                          env=server.env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def app_body(name: str, *, admins: dict | None = None, credential: dict | None = None, run: bool = False,
             qualified_name: str | None = None, **inputs) -> dict:
    """A create body as pyatlan's builder sends it (a raw IAM credential unless told otherwise)."""
    attributes = {"qualifiedName": qualified_name or f"default/glue/{next(_epochs)}", "connectorName": "glue",
                  "name": name, **({"adminRoles": ["$admin"]} if admins is None else admins)}
    raw = {"authType": "iam", "name": "default-glue-0-0", "connectorConfigName": "atlan-connectors-glue",
           "connectorType": "glue", "username": ACCESS_KEY, "password": SECRET, "extra": {"region": REGION}}
    body = {"connection": {"typeName": "Connection", "attributes": attributes}, "extraction_method": "direct",
            "credential_guid": "", "agent_json": None, "catalog_id": "AwsDataCatalog", "include_filter": "{}",
            "exclude_filter": "{}", "exclude_table_regex": "", "credential": raw if credential is None else credential}
    body.update(inputs)
    return {"app_id": "atlan-glue", "name": name, "inputs": {k: v for k, v in body.items() if v != "omit"}, "run": run}


def wait_run(http, run_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = http.get(f"/api/service/v1/app/runs/{run_id}").json()
        if run["status"] in ("Succeeded", "Failed", "Stopped"):
            return run
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} did not end")


def probe(slug: str) -> dict:
    """pyatlan 11's search for an active run of a workflow (client.app.submit(slug, idempotent=True)), verbatim."""
    return {"attributes": ["appWorkflowRunStatus"],
            "dsl": {"from": 0, "size": 1, "aggregations": {}, "track_total_hits": True, "query": {"bool": {"filter": [
                {"term": {"__state": {"value": "ACTIVE", "case_insensitive": False}}},
                {"term": {"__typeName.keyword": {"value": "AppWorkflowRun", "case_insensitive": False}}},
                {"prefix": {"qualifiedName": {"value": f"default/apps/automation_engine/workflows/{slug}/",
                                              "case_insensitive": False}}},
                {"terms": {"appWorkflowRunStatus": ["Pending", "Running"]}}]}},
                "sort": [{"__guid": {"order": "asc"}}]},
            "requestMetadata": {"saveSearchLog": False, "utmTags": ["project_sdk_python"]}}


def test_the_glue_app_from_create_to_delete(pyatlan, server, glue):
    seed(glue)
    http = server.client()
    answers = []

    first = pyatlan('''
        info = client.app.describe("atlan-glue")
        contract = client.app.get_input_contract("atlan-glue")
        created = (
            AtlanGlue(client)
            .iam(username=P["key"], password=P["secret"], region=P["region"])
            .connection(name="glue-prod", admin_roles=[client.role_cache.get_id_for_name("$admin")])
            .include_metadata({"AwsDataCatalog": ["sales", "scratch"]})
            .exclude_metadata({"AwsDataCatalog": ["scratch"]})
            .run(name="glue-prod")
        )
        out.update(slug=created.slug, version=created.version, run_id=created.run_id,
                   status=wait(created.run_id).status, native_ready=info.native_ready,
                   entrypoints=[e.name for e in info.entrypoints], fields=contract.field_names(),
                   credential_field=contract.credential_field())
    ''', key=ACCESS_KEY, secret=SECRET, region=REGION)
    slug, run_id = first["slug"], first["run_id"]
    assert re.fullmatch(r"atlan-glue-\d{10}", slug) and first["version"] == 1 and first["status"] == "Succeeded"
    assert first["native_ready"] and first["entrypoints"] == ["default"] and first["credential_field"] == "credential"
    assert {"connection", "catalog_id", "include_filter", "exclude_filter", "exclude_table_regex"} <= set(
        first["fields"])
    assert tables(server) == {"sales.orders": "ACTIVE", "sales.customers": "ACTIVE", "sales.tmp_orders": "ACTIVE"}
    # A normal workflow: the Argo searches (and so pyatlan 10's find_by_type) see it and its run.
    found = http.post("/api/service/workflows/indexsearch", json={"query": {"bool": {"filter": [{"nested": {
        "path": "metadata", "query": {"prefix": {"metadata.name.keyword": {"value": "atlan-glue"}}}}}]}}}).json()
    assert [hit["_source"]["metadata"]["name"] for hit in found["hits"]["hits"]] == [slug]
    runs = http.post("/api/service/runs/indexsearch", json={"query": {"term": {
        "spec.workflowTemplateRef.name.keyword": slug}}}).json()
    assert [hit["_id"] for hit in runs["hits"]["hits"]] == [run_id]
    assert http.post("/api/meta/search/indexsearch", json=probe(slug)).json() == {
        "queryType": "INDEX", "approximateCount": 0,
        "searchParameters": {"attributes": ["appWorkflowRunStatus"], "relationAttributes": [],
                             "dsl": probe(slug)["dsl"]}}

    # Idempotent submits: the second is refused by pyatlan itself (ATLAN-PYTHON-400-080), a plain one by the
    # server (409); cancelling stops the run at its next page and it ends Stopped, the catalog as it was.
    before = tables(server)
    glue.set_faults([{"operation": "GetTables", "delay_seconds": 6, "times": 1}])
    second = pyatlan('''
        rerun = client.app.submit(P["slug"], idempotent=True)
        try:
            client.app.submit(P["slug"], idempotent=True)
        except InvalidRequestError as err:
            out["guarded"] = err.error_code.error_id
        try:
            client.app.submit(P["slug"])
        except ConflictError as err:
            out["refused"] = str(err)
        cancelled = client.app.cancel_run(rerun.run_id)
        out.update(rerun=[rerun.run_id, rerun.status, rerun.slug], cancelled=[cancelled.cancelled, cancelled.status],
                   final=wait(rerun.run_id).status)
    ''', slug=slug)
    assert second["guarded"] == "ATLAN-PYTHON-400-080"
    assert "already" in second["refused"] and "cancel" in second["refused"]
    assert second["rerun"][1] in ("Pending", "Running") and second["rerun"][2] == slug
    assert second["cancelled"] == [True, "Stopped"] and second["final"] == "Stopped"
    assert tables(server) == before

    # The same name again reuses the workflow (409 → its slug): no second workflow, no run, no new credential.
    counts = [rows(server, f"SELECT count(*) FROM {table}")[0][0] for table in ("workflows", "workflow_runs",
                                                                                "credentials")]
    third = pyatlan('''
        again = (AtlanGlue(client).iam(username="AKIAOTHERKEY", password="other", region=P["region"])
                 .connection(name="glue-prod", admin_roles=[client.role_cache.get_id_for_name("$admin")])
                 .create(name="glue-prod"))
        sched = client.app.add_schedule(P["slug"], cron="0 9 * * *", timezone="Asia/Kolkata")
        scheduled = client.app.get(P["slug"])
        listing = client.app.get_all(name="glue-prod")
        removed = client.app.remove_schedule(P["slug"], sched.trigger_id)
        updated = AtlanGlue(client).load(P["slug"]).exclude_table_regex("^tmp_").update()
        out.update(again=[again.slug, again.run_id], sched=[sched.trigger_id, sched.cron, sched.timezone],
                   scheduled=scheduled.schedules, listed=[[w.slug, w.name, w.app_id] for w in listing.workflows],
                   has_more=listing.has_more, removed=removed.deleted, after=client.app.get(P["slug"]).schedules,
                   updated=[updated.slug, updated.version], args=client.app.get(P["slug"]).dict()["dag"])
    ''', slug=slug, region=REGION)
    assert third["again"] == [slug, None]
    assert [rows(server, f"SELECT count(*) FROM {table}")[0][0] for table in ("workflows", "workflow_runs",
                                                                              "credentials")] == counts
    assert third["sched"] == [f"{slug}-cron", "0 9 * * *", "Asia/Kolkata"]
    assert third["scheduled"] == [{"trigger_id": f"{slug}-cron", "cron": "0 9 * * *", "timezone": "Asia/Kolkata"}]
    assert third["listed"] == [[slug, "glue-prod", "atlan-glue"]] and third["has_more"] is False
    assert third["removed"] is True and third["after"] == []
    assert third["updated"][0] == slug and third["updated"][1] == 4  # create, schedule, unschedule, update
    args = third["args"]["extract"]["inputs"]["args"]
    guid = rows(server, "SELECT credential_guid FROM workflows")[0][0]
    assert args["credential_guid"] == args["connection"]["attributes"]["defaultCredentialGuid"] == guid
    assert args["exclude_table_regex"] == "^tmp_" and args["catalog_id"] == "AwsDataCatalog"
    assert json.loads(args["include_filter"]) == {"AwsDataCatalog": {"sales": {}, "scratch": {}}}
    assert json.loads(args["exclude_filter"]) == {"AwsDataCatalog": {"scratch": {}}}
    answers.append(json.dumps(third))
    # The connection names its credential (defaultCredentialGuid): the builder reads the connection back, as here,
    # to reuse the credential of a connection it is given by qualified name alone.
    read_back = pyatlan('out["connection"] = AtlanGlue(client)._load_existing_connection(P["qn"])',
                        qn=args["connection"]["attributes"]["qualifiedName"])
    assert read_back["connection"]["attributes"]["defaultCredentialGuid"] == guid
    assert read_back["connection"]["attributes"]["name"] == "glue-prod"

    # The next run honours the new regex: tmp_orders is archived, the rest stays.
    fourth = pyatlan('out["status"] = wait(client.app.submit(P["slug"]).run_id).status', slug=slug)
    assert fourth["status"] == "Succeeded"
    assert tables(server) == {"sales.orders": "ACTIVE", "sales.customers": "ACTIVE", "sales.tmp_orders": "DELETED"}

    fifth = pyatlan('''
        try:
            (AtlanGlue(client).iam(username=P["key"], password=P["secret"], region=P["region"])
             .connection(name="bad", admin_roles=[client.role_cache.get_id_for_name("$admin")])
             .exclude_table_regex("(unclosed").run(name="bad-regex"))
        except InvalidRequestError as err:
            out["bad"] = str(err)
        deleted = client.app.delete(P["slug"])
        try:
            client.app.get(P["slug"])
        except NotFoundError:
            out["gone"] = True
        out.update(deleted=[deleted.slug, deleted.archived], listed=client.app.get_all(name="glue-prod").workflows)
    ''', key=ACCESS_KEY, secret=SECRET, region=REGION, slug=slug)
    assert "exclude table regex '(unclosed' is not a valid regular expression" in fifth["bad"]
    assert fifth["deleted"] == [slug, True] and fifth["gone"] and fifth["listed"] == []
    assert rows(server, "SELECT name, archived FROM workflows") == [(slug, True)]

    # Its connection lives on: a builder naming it by qualified name reads it back (through the asset search)
    # and crawls into it with the credential its workflow used; nothing is duplicated.
    connection = args["connection_qualified_name"]
    sixth = pyatlan('''
        created = AtlanGlue(client).connection(qualified_name=P["qn"]).run(name="glue-prod-again")
        out.update(slug=created.slug, status=wait(created.run_id).status,
                   args=client.app.get(created.slug).dict()["dag"]["extract"]["inputs"]["args"])
    ''', qn=connection)
    assert sixth["status"] == "Succeeded" and sixth["slug"] != slug
    assert sixth["args"]["connection_qualified_name"] == connection and sixth["args"]["credential_guid"] == guid
    assert sixth["args"]["connection"]["attributes"]["name"] == "glue-prod"
    assert rows(server, "SELECT count(*) FROM assets WHERE type_name = 'Connection'") == [(1,)]
    documents = "".join(str(row) for row in rows(server, "SELECT document FROM workflows"))
    for secret in (SECRET, ACCESS_KEY):
        assert secret not in server.log() and secret not in "".join(answers) and secret not in documents


def test_a_role_credential_is_vaulted_and_never_shown(pyatlan, server):
    created = pyatlan('''
        catalog = "123456789012:s3tablescatalog/my-bucket"
        created = (AtlanGlue(client)
                   .role(aws_role_arn=P["role"], aws_external_id=P["external"], region=P["region"])
                   .connection(name="glue-role", admin_roles=[client.role_cache.get_id_for_name("$admin")])
                   .catalog_id(catalog)
                   .include_metadata({catalog: ["sales", "marketing"]})
                   .exclude_table_regex("^tmp_.*")
                   .create(name="glue-role"))
        updated = AtlanGlue(client).load(created.slug).update()
        out.update(created=[created.slug, created.run_id, created.version], updated=updated.version,
                   got=client.app.get(created.slug).dict(), listing=client.app.get_all().dict())
    ''', role=ROLE_ARN, external=EXTERNAL_ID, region=REGION)
    slug, run_id, version = created["created"]
    assert run_id is None and version == 1 and created["updated"] == 2
    args = created["got"]["dag"]["extract"]["inputs"]["args"]
    assert args["catalog_id"] == "123456789012:s3tablescatalog/my-bucket"
    assert json.loads(args["include_filter"]) == {"123456789012:s3tablescatalog/my-bucket": {"sales": {},
                                                                                            "marketing": {}}}
    assert args["exclude_table_regex"] == "^tmp_.*" and "credential" not in args
    shown = json.dumps(created) + server.log() + "".join(str(row) for row in rows(server,
                                                                                    "SELECT * FROM workflows"))
    assert ROLE_ARN not in shown and EXTERNAL_ID not in shown
    assert rows(server, "SELECT count(*), min(auth_type) FROM credentials") == [(1, "role")]
    engine = open_engine(server.database_url)
    vaulted = Vault(engine, Settings(home=server.home)).load(args["credential_guid"])
    engine.dispose()
    assert vaulted["authType"] == "role" and vaulted["extra"] == {
        "aws_role_arn": ROLE_ARN, "aws_external_id": EXTERNAL_ID, "region": REGION}


def test_bad_requests_are_refused_and_nothing_is_stored(server, glue):
    http = server.client()
    cases = [
        ("get", "/api/service/v1/apps/snowflake-crawler", {}, 404, "atlan-glue"),
        ("get", "/api/service/v1/apps/snowflake-crawler/inputs", {}, 404, "atlan-glue"),
        ("get", "/api/service/v1/apps/atlan-glue/inputs?entrypoint=crawler", {}, 400, "entrypoint"),
        ("post", "/api/service/v1/app", {"json": {**app_body("x"), "app_id": "snowflake-crawler"}}, 404, "atlan-glue"),
        ("post", "/api/service/v1/app", {"content": b"{not json", "headers": JSON}, 400, "not valid JSON"),
        ("post", "/api/service/v1/app", {"json": []}, 400, "Invalid request"),
        ("post", "/api/service/v1/app", {"json": {"app_id": "atlan-glue", "inputs": {}}}, 400, "name"),
        ("post", "/api/service/v1/app", {"json": {**app_body("x"), "run": "yes"}}, 400, "run"),
        ("post", "/api/service/v1/app", {"json": {**app_body("x"), "extra": 1}}, 400, "extra"),
        ("post", "/api/service/v1/app", {"json": {**app_body("x"), "inputs": "{}"}}, 400, "inputs"),
        ("post", "/api/service/v1/app", {"json": app_body("x", include_filter="{nope")}, 400, "include_filter"),
        ("post", "/api/service/v1/app", {"json": app_body("x", exclude_filter={"AwsDataCatalog": "sales"})}, 400,
         "exclude_filter"),
        ("post", "/api/service/v1/app", {"json": app_body("x", exclude_table_regex="a(")}, 400, "regex"),
        ("post", "/api/service/v1/app", {"json": app_body("x", catalog_id="12345")}, 400, "catalog id"),
        ("post", "/api/service/v1/app", {"json": app_body("x", catalog_id=12)}, 400, "catalog_id"),
        ("post", "/api/service/v1/app", {"json": app_body("x", extraction_method="agent")}, 400, "agent"),
        ("post", "/api/service/v1/app", {"json": app_body("x", include_filters="{}")}, 400, "include_filters"),
        ("post", "/api/service/v1/app", {"json": app_body("x", connection="not json")}, 400, "connection"),
        ("post", "/api/service/v1/app", {"json": app_body("x", credential="omit")}, 400, "no credential"),
        ("post", "/api/service/v1/app", {"json": app_body("x", credential={"authType": "basic"})}, 400, "basic"),
        ("post", "/api/service/v1/app", {"json": app_body("x", credential={"authType": "role",
                                                                           "extra": {"region": REGION}})}, 400,
         "aws_role_arn"),
        ("post", "/api/service/v1/app", {"json": app_body("x", admins={"adminRoles": "$admin"})}, 400, "adminRoles"),
        ("post", "/api/service/v1/app", {"json": app_body("x", admins={})}, 400, "at least one admin"),
        ("post", "/api/service/v1/app", {"json": app_body("x", qualified_name="default/snowflake/1")}, 400,
         "default/glue/"),
        ("post", "/api/service/v1/app", {"json": {**app_body("x"), "schedule": {"cron": "every day"}}}, 400,
         "cron"),
        ("post", "/api/service/v1/app", {"json": {**app_body("x"), "schedule": {"cron": "0 9 * * *",
                                                                                 "timezone": "Mars/Olympus"}}}, 400,
         "Mars/Olympus"),
        ("post", "/api/service/v1/app", {"json": app_body("x", credential_guid="no-such-guid", credential="omit")},
         404, "no-such-guid"),
        ("get", "/api/service/v1/app?cursor=nonsense", {}, 400, "cursor"),
        ("get", "/api/service/v1/app?limit=0", {}, 400, "limit"),
        ("get", "/api/service/v1/app/atlan-glue-1234567890", {}, 404, "does not exist"),
        ("put", "/api/service/v1/app/atlan-glue-1234567890", {"json": {"inputs": {}}}, 404, "does not exist"),
        ("delete", "/api/service/v1/app/atlan-glue-1234567890", {}, 404, "does not exist"),
        ("post", "/api/service/v1/app/atlan-glue-1234567890/submit", {}, 404, "does not exist"),
        ("post", "/api/service/v1/app/atlan-glue-1234567890/schedule", {"json": {"cron": "0 9 * * *"}}, 404,
         "does not exist"),
        ("get", "/api/service/v1/app/runs/nope", {}, 404, "does not exist"),
        ("post", "/api/service/v1/app/runs/nope/cancel", {}, 404, "does not exist"),
    ]
    for method, path, kwargs, status, needle in cases:
        answer = http.request(method, path, **kwargs)
        assert answer.status_code == status, (path, needle, answer.text)
        assert needle in answer.json()["errorMessage"] and answer.json()["errorCode"], (path, kwargs, answer.text)
    for table in ("workflows", "workflow_runs", "credentials", "assets"):
        assert rows(server, f"SELECT count(*) FROM {table}") == [(0,)], table
    assert "Traceback" not in server.log()


def test_duplicates_connections_and_permissions(any_server, glue):
    server = any_server
    seed(glue)
    admin = server.client()
    created = admin.post("/api/service/v1/app", json=app_body(
        "team-a", admins={"adminUsers": ["service-account-alice"]}, run=True,
        include_filter='{"AwsDataCatalog": {"sales": {}}}'))
    assert created.status_code == 200, created.text
    slug, run_id = created.json()["slug"], created.json()["run_id"]
    assert wait_run(admin, run_id)["status"] == "Succeeded"
    team_a = admin.get(f"/api/service/v1/app/{slug}").json()
    qualified_name = team_a["dag"]["extract"]["inputs"]["args"]["connection_qualified_name"]
    guid = team_a["dag"]["extract"]["inputs"]["args"]["credential_guid"]

    def counts() -> list:
        return [rows(server, f"SELECT count(*) FROM {table}")[0][0] for table in ("workflows", "workflow_runs",
                                                                                   "credentials")]
    before = counts()
    # The same name: 409 with the existing slug and version, and no errorCode (pyatlan then reuses it).
    taken = admin.post("/api/service/v1/app", json=app_body("team-a", run=True))
    assert taken.status_code == 409 and taken.json() == {
        "message": f"An app workflow named 'team-a' already exists: {slug} (submit it to crawl again)",
        "slug": slug, "version": 1}
    # A second workflow on a connection that a live one crawls: 409 naming it.
    second = admin.post("/api/service/v1/app", json=app_body("team-a-again", credential="omit",
                                                             qualified_name=qualified_name, credential_guid=guid))
    assert second.status_code == 409 and slug in second.json()["errorMessage"], second.text
    assert counts() == before

    alice = server.client(token=token(server, "alice", "$member"))
    mallory = server.client(token=token(server, "mallory", "$member"))
    mine = {"adminUsers": ["service-account-mallory"]}
    # Nobody borrows another team's credential: not by guid, not as the connection's defaultCredentialGuid.
    for borrowed in (app_body("mallory-1", admins=mine, credential="omit", credential_guid=guid),
                     app_body("mallory-2", admins={**mine, "defaultCredentialGuid": guid}, credential="omit")):
        refused = mallory.post("/api/service/v1/app", json=borrowed)
        assert refused.status_code == 403 and "team-a" in refused.json()["errorMessage"], refused.text
    # Nor changes, runs, schedules or deletes a workflow whose connection does not name them.
    for method, path, kwargs in (
            ("put", f"/api/service/v1/app/{slug}", {"json": {"inputs": {"exclude_table_regex": "^x"}}}),
            ("post", f"/api/service/v1/app/{slug}/submit", {}),
            ("post", f"/api/service/v1/app/{slug}/schedule", {"json": {"cron": "0 9 * * *"}}),
            ("post", f"/api/service/v1/app/runs/{run_id}/cancel", {}),
            ("delete", f"/api/service/v1/app/{slug}", {})):
        refused = mallory.request(method, path, **kwargs)
        assert refused.status_code == 403 and "not an admin of connection 'team-a'" in refused.json()[
            "errorMessage"], (path, refused.text)
    assert counts() == before and admin.get(f"/api/service/v1/app/{slug}").json() == team_a
    # The connection's admin may reuse its credential for a new connection of theirs, and run the workflow.
    reused = alice.post("/api/service/v1/app", json=app_body(
        "alice-b", admins={"adminUsers": ["service-account-alice"]}, credential="omit", credential_guid=guid))
    assert reused.status_code == 200, reused.text
    assert rows(server, f"SELECT credential_guid FROM workflows WHERE name = '{reused.json()['slug']}'") == [(guid,)]
    # New keys for a workflow that shares its credential become a credential of its own: team-a keeps its keys.
    sealed = rows(server, f"SELECT ciphertext FROM credentials WHERE id = '{guid}'")
    rekeyed = alice.put(f"/api/service/v1/app/{reused.json()['slug']}", json={"inputs": {"credential": {
        "authType": "iam", "username": "AKIAALICEKEY", "password": "alice-secret", "extra": {"region": REGION}}}})
    assert rekeyed.status_code == 200 and rekeyed.json()["version"] == 2, rekeyed.text
    own = rows(server, f"SELECT credential_guid FROM workflows WHERE name = '{reused.json()['slug']}'")[0][0]
    assert own != guid and rows(server, f"SELECT ciphertext FROM credentials WHERE id = '{guid}'") == sealed

    # While a run is active: the probe pyatlan sends finds it, and a submit is refused with 409.
    glue.set_faults([{"operation": "GetTables", "delay_seconds": 4, "times": 1}])
    running = alice.post(f"/api/service/v1/app/{slug}/submit")
    assert running.status_code == 200, running.text
    found = alice.post("/api/meta/search/indexsearch", json=probe(slug)).json()
    assert found["approximateCount"] == 1
    entity = found["entities"][0]
    assert entity["typeName"] == "AppWorkflowRun" and entity["status"] == "ACTIVE"
    assert entity["attributes"]["qualifiedName"] == (f"default/apps/automation_engine/workflows/{slug}/"
                                                     f"{running.json()['run_id']}")
    assert entity["attributes"]["appWorkflowRunStatus"] in ("Pending", "Running")
    again = alice.post(f"/api/service/v1/app/{slug}/submit")
    assert again.status_code == 409 and "already" in again.json()["errorMessage"]
    assert wait_run(alice, running.json()["run_id"])["status"] == "Succeeded"
    assert alice.post("/api/meta/search/indexsearch", json=probe(slug)).json()["approximateCount"] == 0

    # A brand-new connection whose minted qualified name another workflow has (two builders in one second)
    # gets the next free one.
    twin = admin.post("/api/service/v1/app", json=app_body("twin", qualified_name=qualified_name))
    assert twin.status_code == 200, twin.text
    twin_qn = admin.get(f"/api/service/v1/app/{twin.json()['slug']}").json()["dag"]["extract"]["inputs"]["args"][
        "connection_qualified_name"]
    assert twin_qn != qualified_name and re.fullmatch(r"default/glue/\d{10}", twin_qn)

    # Paging: one at a time, with an opaque cursor, every live app workflow exactly once.
    seen, cursor = [], None
    while True:
        page = admin.get("/api/service/v1/app", params={"limit": 1, **({"cursor": cursor} if cursor else {})}).json()
        seen += [app["slug"] for app in page["workflows"]]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted([slug, reused.json()["slug"], twin.json()["slug"]])
    assert "Traceback" not in server.log() and SECRET not in server.log()


def test_the_run_probe_answers_from_the_runs_of_app_workflows(engine):
    """pyatlan's probe on both databases: only runs of app workflows, with their app status, paged and sorted."""
    now = datetime.now(UTC)
    workflow = {"namespace": "default", "package": "@atlan/glue", "document": {}, "created_at": now,
                "updated_at": now, "created_by": "admin"}
    with engine.begin() as conn:
        conn.execute(workflows.insert(), [
            {**workflow, "name": "atlan-glue-1796000001", "uid": "w1", "connection_qualified_name": "default/glue/1",
             "app_name": "app"},
            {**workflow, "name": "atlan-glue-1796000002", "uid": "w2", "connection_qualified_name": "default/glue/2",
             "app_name": None}])
        conn.execute(runs.insert(), [
            {"name": f"{slug}-{phase.lower()}{int(stopped)}", "uid": f"{slug[-1]}-{phase}-{stopped}",
             "workflow_name": slug, "template_refs": [], "phase": phase, "stop_requested": stopped, "created_at": now,
             "created_by": "admin", "started_at": None if phase == "Pending" else now}
            for slug in ("atlan-glue-1796000001", "atlan-glue-1796000002")
            for phase, stopped in (("Pending", False), ("Running", False), ("Failed", True), ("Error", False))])
    active = index_search(engine, probe("atlan-glue-1796000001"))
    assert active["approximateCount"] == 2  # pyatlan asks for one, the first by __guid
    assert [(e["attributes"]["qualifiedName"], e["attributes"]["appWorkflowRunStatus"], e["guid"])
            for e in active["entities"]] == [
        ("default/apps/automation_engine/workflows/atlan-glue-1796000001/atlan-glue-1796000001-pending0", "Pending",
         "1-Pending-False")]
    every = index_search(engine, {"attributes": ["appWorkflowRunStartedAt"], "dsl": {"size": 10, "query": {
        "term": {"__typeName.keyword": "AppWorkflowRun"}}, "sort": [{"appWorkflowRunStatus": {"order": "desc"}}]}})
    assert every["approximateCount"] == 4  # the other workflow is no app's
    assert [(e["attributes"]["name"].rsplit("-", 1)[1], "appWorkflowRunStartedAt" in e["attributes"])
            for e in every["entities"]] == [("failed1", True), ("running0", True), ("pending0", False),
                                            ("error0", True)]
    with pytest.raises(InvalidRequest, match="secret"):
        index_search(engine, {"dsl": {"query": {"bool": {"filter": [
            {"term": {"__typeName.keyword": "AppWorkflowRun"}}, {"term": {"secret": "x"}}]}}}})
