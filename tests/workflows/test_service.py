"""WorkflowService called directly: what each operation stores, and that a refused one changes nothing.

The executor is a recorder: these tests are about the service's bookkeeping, not about running crawls
(test_executors.py runs them).
"""

from __future__ import annotations

import copy
import json
import types
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa

from gazetteer.auth.permissions import Action
from gazetteer.auth.principal import Principal
from gazetteer.auth.service import create_user
from gazetteer.client import GlueCrawler
from gazetteer.credentials.vault import Vault, credentials
from gazetteer.errors import Conflict, InvalidRequest, NotFound, PermissionDenied
from gazetteer.packages.base import CREDENTIAL_PLACEHOLDER
from gazetteer.packages.glue.workflow import GlueCrawlerSettings, glue_workflow_document
from gazetteer.store.schema import assets
from gazetteer.workflows import service as service_module
from gazetteer.workflows import views
from gazetteer.workflows.models import runs, workflows
from gazetteer.workflows.service import WorkflowService
from tests.workflows.test_workflow_api import ACCESS_KEY, REGION, SECRET, workflow

ADMIN = Principal("u0", "root", frozenset({"$admin"}))
ALLY = Principal("u1", "ally", frozenset({"$member"}))  # named an admin of the connections made here
STRANGER = Principal("u2", "stranger", frozenset({"$member"}))
GUEST = Principal("u3", "gus", frozenset({"$guest"}))
EPOCH = 1790000000


@dataclass
class Recorder:
    """An executor that only notes what it was asked: runs stay as the service left them."""

    submitted: list[str] = field(default_factory=list)
    stops: list[str] = field(default_factory=list)

    def submit(self, workflow_name: str) -> None:
        self.submitted.append(workflow_name)

    def request_stop(self, run_name: str) -> None:
        self.stops.append(run_name)

    def shutdown(self) -> None:
        pass


@pytest.fixture()
def executor() -> Recorder:
    return Recorder()


@pytest.fixture()
def service(engine, settings, executor) -> WorkflowService:
    return WorkflowService(engine, Vault(engine, settings), executor)


def document(epoch: int = EPOCH, **overrides: Any) -> dict[str, Any]:
    return workflow(epoch, **{"admin_users": [ALLY.username], **overrides})


def settings_for(**overrides: Any) -> GlueCrawlerSettings:
    values: dict[str, Any] = {"connection_name": "lake", "region": REGION, "access_key": ACCESS_KEY,
                              "secret_key": SECRET, "admin_roles": ("$admin",), "admin_users": (ALLY.username,),
                              "include": ("sales", "hr"), "exclude": ("tmp",), "allow_query": True, "row_limit": 50}
    return GlueCrawlerSettings(**{**values, **overrides})


def without_connection_guid(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with the connection's temporary guid (random for every document built) taken out."""
    spec = copy.deepcopy(spec)
    for parameter in spec["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"]:
        if parameter["name"] == "connection":
            connection = json.loads(parameter["value"])
            del connection["guid"]
            parameter["value"] = connection
    return spec


def snapshot(engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row a workflow operation may touch: a refused one must leave all of them as they were."""
    with engine.connect() as conn:
        return {table.name: sorted(tuple(map(repr, row)) for row in conn.execute(sa.select(table)))
                for table in (workflows, runs, credentials, assets)}


def run_rows(engine, workflow_name: str) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(sa.select(runs).where(runs.c.workflow_name == workflow_name)
                            .order_by(runs.c.id)).all()


def stored_row(engine, name: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.select(workflows).where(workflows.c.name == name)).one()


def test_create_vaults_the_credential_publishes_the_connection_and_queues_a_first_run(engine, service, executor):
    created = service.create(document(), ALLY, submit=True)

    assert (created.name, created.creator, created.generation) == (f"atlan-glue-{EPOCH}", "ally", 1)
    assert created.connection_qn == f"default/glue/{EPOCH}" and created.connection["name"] == "lake"
    row = stored_row(engine, created.name)
    stored = json.dumps(row.document)
    # The secret lives in the vault only; the document refers to it by guid.
    assert SECRET not in stored and "payload" not in row.document and CREDENTIAL_PLACEHOLDER not in stored
    assert row.credential_guid in stored
    assert service.vault.load(row.credential_guid)["password"] == SECRET
    with engine.connect() as conn:
        connection = conn.execute(sa.select(assets).where(assets.c.type_name == "Connection")).one()
    assert connection.qualified_name == created.connection_qn
    [first] = run_rows(engine, created.name)
    assert (first.phase, first.created_by, first.progress) == ("Pending", "ally", "0/1")
    assert first.template_refs == [created.name, first.name]
    assert executor.submitted == [created.name]


def test_create_without_submit_starts_nothing(engine, service, executor):
    service.create(document(), ADMIN, submit=False)
    assert run_rows(engine, f"atlan-glue-{EPOCH}") == [] and executor.submitted == []


def test_the_typed_crawler_document_is_the_one_the_client_builds():
    settings = settings_for(admin_groups=("stewards",), allow_query_preview=True)
    expected = (GlueCrawler(connection_name="lake", admin_roles=["$admin"], admin_groups=["stewards"],
                            admin_users=[ALLY.username], allow_query=True, allow_query_preview=True, row_limit=50,
                            epoch=EPOCH, guid_factory=lambda: "-7")
                .iam_user_auth(access_key=ACCESS_KEY, secret_key=SECRET).direct(region=REGION)
                .include(["sales", "hr"]).exclude(["tmp"]).to_workflow())
    assert glue_workflow_document(settings, epoch=EPOCH, guid="-7") == expected
    assert json.dumps(glue_workflow_document(settings, epoch=EPOCH, guid="-7")) == json.dumps(expected)


def test_create_crawler_stores_the_workflow_and_starts_it_taking_the_next_free_second(
        engine, service, executor, monkeypatch):
    monkeypatch.setattr(service_module, "time", types.SimpleNamespace(time=lambda: EPOCH + 0.4))
    first = service.create_crawler(settings_for(), ALLY)
    second = service.create_crawler(settings_for(connection_name="pond"), ALLY)

    assert (first.name, second.name) == (f"atlan-glue-{EPOCH}", f"atlan-glue-{EPOCH + 1}")
    assert (first.include, first.exclude) == (("sales", "hr"), ("tmp",))
    connection = first.connection
    assert (connection["name"], connection["allowQuery"], connection["rowLimit"]) == ("lake", True, 50)
    # What the API stores when pyatlan sends the same workflow: the credential swapped for its vault guid.
    row = stored_row(engine, first.name)
    submitted = glue_workflow_document(settings_for(), epoch=EPOCH, guid="-1")
    assert row.document["metadata"] == submitted["metadata"]
    expected_spec = json.loads(json.dumps(submitted["spec"]).replace(CREDENTIAL_PLACEHOLDER, row.credential_guid))
    assert without_connection_guid(row.document["spec"]) == without_connection_guid(expected_spec)
    assert service.vault.load(row.credential_guid) == submitted["payload"][0]["body"]
    assert [r.phase for r in run_rows(engine, first.name)] == ["Pending"]
    assert executor.submitted == [first.name, second.name]


def test_create_crawler_gives_up_after_six_taken_seconds(engine, service, monkeypatch):
    monkeypatch.setattr(service_module, "time", types.SimpleNamespace(time=lambda: EPOCH))
    for offset in range(6):
        service.create(document(EPOCH + offset, connection_name=f"c{offset}"), ADMIN, submit=False)
    before = snapshot(engine)
    with pytest.raises(Conflict, match="already exists"):
        service.create_crawler(settings_for(), ADMIN)
    assert snapshot(engine) == before


def test_create_refuses_a_taken_name_or_a_crawled_connection_and_leaves_no_credential(engine, service):
    service.create(document(), ADMIN, submit=False)
    before = snapshot(engine)
    with pytest.raises(Conflict, match="already exists"):
        service.create(document(), ADMIN, submit=True)
    # Another name, the same connection: two workflows would undo each other's crawls.
    same_connection = document(EPOCH + 1)
    same_connection["metadata"]["name"] = "atlan-glue-other"
    parameters = same_connection["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"]
    for parameter in parameters:
        parameter["value"] = parameter["value"].replace(f"default/glue/{EPOCH + 1}", f"default/glue/{EPOCH}")
    with pytest.raises(Conflict, match="already crawled by workflow"):
        service.create(same_connection, ADMIN, submit=True)
    assert snapshot(engine) == before


@pytest.mark.parametrize(("who", "message"), [(GUEST, "read-only"), (STRANGER, "not an admin")])
def test_refused_creates_store_nothing(engine, service, executor, who, message):
    if who is STRANGER:  # a member may create workflows, but not one for a connection others administer
        service.create(document(connection_name="theirs", admin_users=["someone"]), ADMIN, submit=False)
        again = document(EPOCH + 1, connection_name="theirs", admin_users=[STRANGER.username])
        service.archive(f"atlan-glue-{EPOCH}", ADMIN)
        parameters = again["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"]
        for parameter in parameters:
            parameter["value"] = parameter["value"].replace(f"default/glue/{EPOCH + 1}", f"default/glue/{EPOCH}")
    else:
        again = document()
    before = snapshot(engine)
    with pytest.raises(PermissionDenied, match=message):
        service.create(again, who, submit=True)
    assert snapshot(engine) == before and executor.submitted == []


def test_create_refuses_a_document_without_a_credential(engine, service):
    bare = document()
    bare["payload"] = []
    with pytest.raises(InvalidRequest, match="no credential"):
        service.create(bare, ADMIN, submit=True)
    assert snapshot(engine)["workflows"] == []


def test_rerun_queues_another_run_for_its_admins_only(engine, service, executor):
    name = service.create(document(), ADMIN, submit=True).name
    run = service.rerun(name, ALLY)
    assert (run.workflow, run.phase, run.creator, run.active) == (name, "Pending", "ally", True)
    assert run.name.startswith(f"{name}-") and len(run_rows(engine, name)) == 2
    assert executor.submitted == [name, name]

    before = snapshot(engine)
    for who in (STRANGER, GUEST):
        with pytest.raises(PermissionDenied):
            service.rerun(name, who)
    with pytest.raises(NotFound, match="does not exist"):
        service.rerun("atlan-glue-0000000001", ADMIN)
    assert snapshot(engine) == before and len(executor.submitted) == 2


def test_stop_ends_a_pending_run_at_once_and_flags_a_running_one(engine, service, executor):
    name = service.create(document(), ADMIN, submit=True).name
    pending = run_rows(engine, name)[0].name
    running = service.rerun(name, ADMIN).name
    with engine.begin() as conn:
        conn.execute(runs.update().where(runs.c.name == running).values(phase="Running", worker="w"))

    before = snapshot(engine)
    with pytest.raises(PermissionDenied):
        service.stop(pending, STRANGER)
    assert snapshot(engine) == before and executor.stops == []

    stopped = service.stop(pending, ALLY)
    assert (stopped.phase, stopped.message, stopped.stop_requested) == ("Failed", "Stopped before it started.", True)
    assert stopped.finished is not None and not stopped.active
    flagged = service.stop(running, ALLY)
    assert (flagged.phase, flagged.stop_requested, flagged.finished) == ("Running", True, None)
    assert executor.stops == [pending, running]
    with pytest.raises(NotFound):
        service.stop("nope", ADMIN)


def test_update_replaces_the_document_and_the_credential(engine, service):
    name = service.create(document(), ADMIN, submit=False).name
    guid = stored_row(engine, name).credential_guid
    changed = document(connection_name="renamed", admin_users=[ALLY.username, "bea"])
    changed["payload"][0]["body"]["password"] = "another-secret"
    updated = service.update(name, changed, ALLY)
    assert (updated.generation, updated.connection["name"]) == (2, "renamed")
    assert updated.connection["adminUsers"] == ["ally", "bea"]
    assert service.vault.load(guid)["password"] == "another-secret"
    with engine.connect() as conn:  # the connection's admins change now, not at the next run
        attributes = conn.execute(sa.select(assets.c.attributes).where(assets.c.type_name == "Connection")).scalar()
    assert attributes["adminUsers"] == ["ally", "bea"]

    without_credential = copy.deepcopy(changed)
    without_credential["payload"] = []
    assert service.update(name, without_credential, ADMIN).generation == 3
    assert service.vault.load(guid)["password"] == "another-secret"  # kept when the update carries none


def test_refused_updates_change_nothing(engine, service):
    name = service.create(document(), ADMIN, submit=False).name
    other_connection = document(EPOCH + 1)
    other_connection["metadata"]["name"] = name
    wrong_name = document()
    wrong_name["metadata"]["name"] = "atlan-glue-1111111111"
    before = snapshot(engine)
    with pytest.raises(PermissionDenied):
        service.update(name, document(), STRANGER)
    with pytest.raises(InvalidRequest, match="connection cannot change"):
        service.update(name, other_connection, ADMIN)
    with pytest.raises(InvalidRequest, match="metadata.name"):
        service.update(name, wrong_name, ADMIN)
    with pytest.raises(NotFound):
        service.update("atlan-glue-0000000001", document(), ADMIN)
    assert snapshot(engine) == before


def test_archive_stops_active_runs_and_hides_the_workflow(engine, service, executor):
    name = service.create(document(), ADMIN, submit=True).name
    before = snapshot(engine)
    with pytest.raises(PermissionDenied):
        service.archive(name, STRANGER)
    assert snapshot(engine) == before

    archived = service.archive(name, ALLY)
    assert archived.name == name and archived.namespace == "default"
    with pytest.raises(NotFound):
        views.workflow(engine, name)
    [run] = run_rows(engine, name)
    assert (run.phase, run.stop_requested) == ("Failed", True)
    assert executor.stops == [run.name]
    # The connection can be crawled by a new workflow now.
    assert service.create(document(EPOCH + 1), ADMIN, submit=False).name == f"atlan-glue-{EPOCH + 1}"


def test_change_owner(engine, service):
    name = service.create(document(), ADMIN, submit=False).name
    create_user(engine, "bea", "$member")
    assert service.change_owner(name, "bea", ALLY).creator == "bea"
    assert stored_row(engine, name).created_by == "bea"

    before = snapshot(engine)
    with pytest.raises(NotFound, match="User 'nobody'"):
        service.change_owner(name, "nobody", ADMIN)
    with pytest.raises(InvalidRequest, match="username"):
        service.change_owner(name, "", ADMIN)
    with pytest.raises(PermissionDenied):
        service.change_owner(name, "bea", STRANGER)
    assert snapshot(engine) == before


def test_may_reads_the_stored_connection_admins(service):
    name = service.create(document(), ADMIN, submit=False).name
    assert service.may(ALLY, Action.RUN_WORKFLOW, name)
    assert not service.may(STRANGER, Action.RUN_WORKFLOW, name)
    assert not service.may(GUEST, Action.RUN_WORKFLOW, name)
