"""Authorization, generated from the route table: every route × every kind of caller, on a live server.

Each route of the app must have a row in CASES (a new route without one fails the test). Callers: no token,
a malformed token, a revoked token, a $guest, a $member who is not an admin of the connection, a $member who
is, and a $admin. A refused write must leave the catalog, the workflows, the runs and the vault exactly as
they were. The takeover that probing found (a new workflow that names another connection) is tested too.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from gazetteer.settings import Settings
from gazetteer.store import open_engine
from gazetteer.web.app import create_app
from tests.workflows.test_workflow_api import ACCESS_KEY, REGION, SECRET, create, seed, token, wait_for, workflow

ALLY = "service-account-ally"  # the $member named as an admin of the connection
CALLERS = ("anonymous", "malformed", "revoked", "guest", "member", "ally", "admin")
UNAUTHENTICATED = ("anonymous", "malformed", "revoked")
# Who each rule lets through (besides refusing the unauthenticated).
ALLOWED = {
    "public": set(CALLERS),
    "read": {"guest", "member", "ally", "admin"},
    "writer": {"member", "ally", "admin"},
    "connection-admin": {"ally", "admin"},
    "admin": {"admin"},
}
_epochs = itertools.count(1795000000)


@dataclass
class World:
    server: Any
    tokens: dict[str, str | None]
    workflow: str  # W1: its connection names ALLY as an admin
    run: str
    table_guid: str
    table_qn: str
    schema_qn: str
    archive_targets: dict[tuple[str, str], str]  # (family, caller) → a workflow that caller may archive
    app: str  # an app workflow (the app API's slug), its connection naming ALLY as an admin, and scheduled
    app_run: str
    app_targets: dict[str, str]  # caller → an app workflow that caller may delete

    def http(self, who: str):
        client = self.server.client(token=self.tokens[who] or "")
        if self.tokens[who] is None:
            client.headers.pop("Authorization", None)
        return client

    def browser(self, who: str):
        import httpx

        cookies = {"gazetteer_token": self.tokens[who]} if self.tokens[who] else {}
        return httpx.Client(base_url=self.server.url, cookies=cookies, headers={"Origin": self.server.url},
                            follow_redirects=False, timeout=30)


def _new_workflow(**overrides) -> dict:
    return workflow(epoch=next(_epochs), **{"admin_roles": ["$admin"], "admin_users": [ALLY], **overrides})


Request = Callable[[World, str], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # the route's path template, as the app declares it
    rule: str
    request: Request  # → httpx request arguments for this caller
    ui: bool = False
    refusal: tuple[int, ...] = ()  # the statuses that refuse the unauthenticated, when not the usual ones


def _api(method: str, path: str, rule: str, url: Callable[[World, str], str], body: Request | None = None) -> Case:
    return Case(method, path, rule, lambda w, who: {"url": url(w, who), **({"json": body(w, who)} if body else {})})


def _ui(method: str, path: str, rule: str, url: Callable[[World, str], str], form: Request | None = None,
        refusal: tuple[int, ...] = ()) -> Case:
    return Case(method, path, rule, lambda w, who: {"url": url(w, who), **({"data": form(w, who)} if form else {})},
                ui=True, refusal=refusal)


def _bulk_description(w: World, who: str) -> dict:
    return {"entities": [{"typeName": "Table", "attributes": {
        "qualifiedName": w.table_qn, "name": w.table_qn.rsplit("/", 1)[1], "userDescription": f"by {who}"}}]}


def _bulk_new_table(w: World, who: str) -> dict:
    return {"entities": [{"typeName": "Table", "attributes": {
        "qualifiedName": f"{w.schema_qn}/made_by_{who}", "name": f"made_by_{who}"}}]}


def _bulk_new_connection(w: World, who: str) -> dict:
    return {"entities": [{"typeName": "Connection", "attributes": {
        "qualifiedName": f"default/glue/{next(_epochs)}", "name": f"by-{who}",
        "adminUsers": [f"service-account-{who}"]}}]}


def _openlineage_event(w: World, who: str) -> dict:
    """A run event writing the world's table, named as a Hive metastore names it: a process in its connection."""
    database, table = w.table_qn.rsplit("/", 2)[1:]
    return {"eventType": "COMPLETE", "eventTime": "2024-05-01T06:00:00Z", "producer": "https://example.com/tests",
            "job": {"namespace": "tests", "name": f"by-{who}"},
            "outputs": [{"namespace": "hive://metastore:9083", "name": f"{database}.{table}"}]}


def _new_app(name: str, *, run: bool = False) -> dict:
    """A create body of the app API, as pyatlan 11's AtlanGlue(...).iam(...).connection(...) sends it."""
    connection = {"typeName": "Connection", "attributes": {
        "qualifiedName": f"default/glue/{next(_epochs)}", "name": name, "adminRoles": ["$admin"], "adminUsers": [ALLY]}}
    credential = {"authType": "iam", "username": ACCESS_KEY, "password": SECRET, "extra": {"region": REGION}}
    return {"app_id": "atlan-glue", "name": name, "run": run, "schedule": {"cron": "0 6 * * *"},
            "inputs": {"connection": connection, "credential": credential}}


def _update_body(w: World, who: str) -> dict:
    document = w.http("admin").get(f"/api/service/workflows/{w.workflow}").json()
    document["metadata"].setdefault("annotations", {})["orchestration.atlan.com/schedule"] = "0 6 * * *"
    return document


_FAMILY_CASES = [
    case
    for family in ("workflows", "package-workflows")
    for case in (
        _api("POST", f"/api/service/{family}", "writer", lambda w, who: "/api/service/workflows",
             lambda w, who: _new_workflow()),
        _api("POST", f"/api/service/{family}/submit", "connection-admin", lambda w, who, f=family:
             f"/api/service/{f}/submit", lambda w, who: {"namespace": "default", "resourceKind": "WorkflowTemplate",
                                                          "resourceName": w.workflow}),
        _api("GET", f"/api/service/{family}/{{name}}", "read", lambda w, who, f=family:
             f"/api/service/{f}/{w.workflow}"),
        _api("POST", f"/api/service/{family}/{{name}}/changeownership", "connection-admin", lambda w, who, f=family:
             f"/api/service/{f}/{w.workflow}/changeownership?username={ALLY}"),
        _api("POST", f"/api/service/{family}/{{name}}", "connection-admin", lambda w, who, f=family:
             f"/api/service/{f}/{w.workflow}", _update_body),
        _api("POST", f"/api/service/{family}/{{name}}/plan", "connection-admin", lambda w, who, f=family:
             f"/api/service/{f}/{w.workflow}/plan"),
        # Last of its family: archiving is destructive, so each caller allowed to gets a workflow of its own.
        _api("POST", f"/api/service/{family}/{{name}}/archive", "connection-admin", lambda w, who, f=family:
             f"/api/service/{f}/{w.archive_targets.get((f, who), w.workflow)}/archive"),
    )
]

# Webhooks: one per world on W1's connection, made by the admin on first use; removing one is destructive, so
# each caller allowed to gets one of its own. They point at a closed port and hear of archived assets only.
_webhooks: dict[tuple[int, str], str] = {}


def _webhook_body(w: World, who: str) -> dict:
    return {"name": f"by {who}", "url": "http://127.0.0.1:9/hook", "events": ["asset_archived"],
            "connectionQualifiedName": "/".join(w.table_qn.split("/")[:3])}


def _webhook(w: World, who: str = "") -> str:
    if (id(w), who) not in _webhooks:
        answer = w.http("admin").post("/api/service/webhooks", json=_webhook_body(w, "admin"))
        _webhooks[(id(w), who)] = answer.json()["guid"]
    return _webhooks[(id(w), who)]


def _own_webhook(w: World, who: str, route: str) -> str:
    return _webhook(w, f"{route} {who}" if who in ("ally", "admin") else "")


# The glossary: one glossary with a term per world, made by the admin on first use; deleting is destructive, so
# each caller allowed to gets a glossary of its own.
_glossaries: dict[tuple[int, str], dict[str, str]] = {}


def _glossary(w: World, who: str = "") -> dict[str, str]:
    if (id(w), who) not in _glossaries:
        body = {"entities": [
            {"typeName": "AtlasGlossary", "guid": "-1", "attributes": {"qualifiedName": "-1", "name": f"g {who}"}},
            {"typeName": "AtlasGlossaryTerm", "guid": "-2", "attributes": {
                "qualifiedName": "-2", "name": "term", "anchor": {"typeName": "AtlasGlossary", "guid": "-1"}}}]}
        answer = w.http("admin").post("/api/meta/entity/bulk/", json=body)
        assert answer.status_code == 200, answer.text
        assigned = answer.json()["guidAssignments"]
        _glossaries[(id(w), who)] = {"glossary": assigned["-1"], "term": assigned["-2"]}
    return _glossaries[(id(w), who)]


def _bulk_new_term(w: World, who: str, path: str) -> dict:
    return {"entities": [{"typeName": "AtlasGlossaryTerm", "attributes": {
        "qualifiedName": "-1", "name": f"by {who} at {path}",
        "anchor": {"typeName": "AtlasGlossary", "guid": _glossary(w)["glossary"]}}}]}


def _bulk_assign_term(w: World, who: str) -> dict:
    return {"entities": [{"typeName": "Table", "attributes": {
        "qualifiedName": w.table_qn, "name": w.table_qn.rsplit("/", 1)[1]},
        "appendRelationshipAttributes": {"meanings": [{"typeName": "AtlasGlossaryTerm",
                                                       "guid": _glossary(w)["term"]}]}}]}


_GLOSSARY_CASES = [
    *[case for path in ("/api/meta/entity/bulk/", "/api/meta/entity/bulk") for case in (
        _api("POST", path, "writer", lambda w, who, p=path: p, lambda w, who, p=path: _bulk_new_term(w, who, p)),
        _api("POST", path, "connection-admin", lambda w, who, p=path: p, _bulk_assign_term),
        _api("DELETE", path, "writer", lambda w, who, p=path: p + "?guid=" + _glossary(
            w, f"{p} {who}" if who in ALLOWED["writer"] else "")["glossary"]),
    )],
    _ui("GET", "/glossary", "read", lambda w, who: "/glossary"),
    _ui("GET", "/glossary/{guid}", "read", lambda w, who: f"/glossary/{_glossary(w)['glossary']}"),
    _ui("GET", "/glossary/term/{guid}", "read", lambda w, who: f"/glossary/term/{_glossary(w)['term']}"),
]

_WEBHOOK_CASES = [
    _api("POST", "/api/service/webhooks", "connection-admin", lambda w, who: "/api/service/webhooks", _webhook_body),
    _api("GET", "/api/service/webhooks", "read", lambda w, who: "/api/service/webhooks"),  # only those one manages
    _api("GET", "/api/service/webhooks/{guid}", "connection-admin",
         lambda w, who: f"/api/service/webhooks/{_webhook(w)}"),
    _api("POST", "/api/service/webhooks/{guid}", "connection-admin",
         lambda w, who: f"/api/service/webhooks/{_webhook(w)}", lambda w, who: {"name": f"renamed by {who}"}),
    _api("GET", "/api/service/webhooks/{guid}/deliveries", "connection-admin",
         lambda w, who: f"/api/service/webhooks/{_webhook(w)}/deliveries"),
    _api("POST", "/api/service/webhooks/{guid}/test", "connection-admin",
         lambda w, who: f"/api/service/webhooks/{_webhook(w)}/test"),
    _api("DELETE", "/api/service/webhooks/{guid}", "connection-admin",
         lambda w, who: f"/api/service/webhooks/{_own_webhook(w, who, 'api')}"),
    _ui("GET", "/webhooks", "read", lambda w, who: "/webhooks"),
    _ui("POST", "/webhooks", "connection-admin", lambda w, who: "/webhooks", lambda w, who: {
        "name": f"by {who}", "url": "http://127.0.0.1:9/hook", "events": "asset_archived",
        "connection": _webhook_body(w, who)["connectionQualifiedName"]}),
    _ui("GET", "/webhooks/{guid}", "connection-admin", lambda w, who: f"/webhooks/{_webhook(w)}"),
    _ui("POST", "/webhooks/{guid}/test", "connection-admin", lambda w, who: f"/webhooks/{_webhook(w)}/test"),
    _ui("POST", "/webhooks/{guid}/delete", "connection-admin",
        lambda w, who: f"/webhooks/{_own_webhook(w, who, 'ui')}/delete"),
]

# Atlan tags: a tag the admin defines on first use, put on and taken off the world's table; defining and deleting
# tags is for $admin only, so only the admin's own tag is ever deleted.
_tags: dict[tuple[int, str], str] = {}


def _tag(w: World, label: str = "world") -> str:
    """The internal name of a tag the admin defined (once per world and label)."""
    if (id(w), label) not in _tags:
        answer = w.http("admin").post("/api/meta/types/typedefs/",
                                      json={"classificationDefs": [{"displayName": f"{label} tag"}]})
        _tags[(id(w), label)] = answer.json()["classificationDefs"][0]["name"]
    return _tags[(id(w), label)]


def _on_table(w: World, who: str) -> str:
    return f"/api/meta/entity/uniqueAttribute/type/Table?attr:qualifiedName={w.table_qn}"


_TAG_CASES = [
    *[case for path in ("/api/meta/types/typedefs/", "/api/meta/types/typedefs") for case in (
        _api("GET", path, "read", lambda w, who, p=path: p + "?type=CLASSIFICATION"),
        _api("POST", path, "admin", lambda w, who, p=path: p,
             lambda w, who, p=path: {"classificationDefs": [{"displayName": f"by {who} at {p.count('/')}"}]}),
        _api("PUT", path, "admin", lambda w, who, p=path: p, lambda w, who: {"classificationDefs": [
            {"name": _tag(w), "displayName": "world tag", "description": f"by {who}"}]}),
    )],
    _api("GET", "/api/meta/types/typedef/name/{name}", "read",
         lambda w, who: f"/api/meta/types/typedef/name/{_tag(w)}"),
    _api("DELETE", "/api/meta/types/typedef/name/{name}", "admin",
         lambda w, who: f"/api/meta/types/typedef/name/{_tag(w, 'doomed' if who == 'admin' else 'world')}"),
    _api("POST", "/api/meta/entity/guid/{guid}/classifications", "connection-admin",
         lambda w, who: f"/api/meta/entity/guid/{w.table_guid}/classifications",
         lambda w, who: [{"typeName": _tag(w), "propagate": who == "admin"}]),
    _api("PUT", "/api/meta/entity/guid/{guid}/classifications", "connection-admin",
         lambda w, who: f"/api/meta/entity/guid/{w.table_guid}/classifications",
         lambda w, who: [{"typeName": _tag(w), "propagate": who != "admin"}]),
    _api("DELETE", "/api/meta/entity/guid/{guid}/classification/{tag}", "connection-admin",
         lambda w, who: f"/api/meta/entity/guid/{w.table_guid}/classification/{_tag(w)}"),
    _api("POST", "/api/meta/entity/uniqueAttribute/type/{type_name}/classifications", "connection-admin",
         lambda w, who: _on_table(w, who).replace("?", "/classifications?"), lambda w, who: [{"typeName": _tag(w)}]),
    _api("PUT", "/api/meta/entity/uniqueAttribute/type/{type_name}/classifications", "connection-admin",
         lambda w, who: _on_table(w, who).replace("?", "/classifications?"), lambda w, who: [{"typeName": _tag(w)}]),
    _api("DELETE", "/api/meta/entity/uniqueAttribute/type/{type_name}/classification/{tag}", "connection-admin",
         lambda w, who: _on_table(w, who).replace("?", f"/classification/{_tag(w)}?")),
]

CASES: list[Case] = [
    _api("GET", "/health", "public", lambda w, who: "/health"),
    *[_api("GET", f"/api/service/{path}", "read", lambda w, who, p=path: f"/api/service/{p}")
      for path in ("roles", "whoami", "users/current", "users", "v2/groups", "apikeys", "runs/cron")],
    _api("GET", "/api/service/runs/cron/{cron_name}", "read",
         lambda w, who: f"/api/service/runs/cron/{w.workflow}-cron"),
    _api("POST", "/api/service/workflows/indexsearch", "read", lambda w, who: "/api/service/workflows/indexsearch",
         lambda w, who: {}),
    _api("POST", "/api/service/runs/indexsearch", "read", lambda w, who: "/api/service/runs/indexsearch",
         lambda w, who: {}),
    _api("GET", "/api/service/runs/{run_name}", "read", lambda w, who: f"/api/service/runs/{w.run}"),
    _api("POST", "/api/service/runs/{run_name}/stop", "connection-admin",
         lambda w, who: f"/api/service/runs/{w.run}/stop"),
    _api("POST", "/api/meta/search/indexsearch", "read", lambda w, who: "/api/meta/search/indexsearch",
         lambda w, who: {"dsl": {"size": 1}}),
    _api("GET", "/api/meta/search/text", "read", lambda w, who: "/api/meta/search/text?q=orders&size=1"),
    _api("GET", "/api/meta/entity/guid/{guid}", "read", lambda w, who: f"/api/meta/entity/guid/{w.table_guid}"),
    _api("GET", "/api/meta/entity/uniqueAttribute/type/{type_name}", "read",
         lambda w, who: f"/api/meta/entity/uniqueAttribute/type/Table?attr:qualifiedName={w.table_qn}"),
    _api("PUT", "/api/meta/entity/uniqueAttribute/type/{type_name}", "connection-admin",
         lambda w, who: f"/api/meta/entity/uniqueAttribute/type/Table?attr:qualifiedName={w.table_qn}",
         lambda w, who: {"entity": {"typeName": "Table", "attributes": {
             "qualifiedName": w.table_qn, "certificateStatus": "DRAFT", "certificateStatusMessage": f"by {who}"}}}),
    *[case for path in ("/api/meta/entity/bulk/", "/api/meta/entity/bulk") for case in (
        _api("POST", path, "connection-admin", lambda w, who, p=path: p, _bulk_description),
        _api("POST", path, "connection-admin", lambda w, who, p=path: p, _bulk_new_table),
        _api("POST", path, "writer", lambda w, who, p=path: p, _bulk_new_connection),
    )],
    _api("POST", "/api/meta/lineage/list", "read", lambda w, who: "/api/meta/lineage/list",
         lambda w, who: {"guid": w.table_guid, "depth": 1}),
    _api("POST", "/api/meta/entity/auditSearch", "read", lambda w, who: "/api/meta/entity/auditSearch",
         lambda w, who: {"dsl": {"size": 1, "query": {"term": {"entityId": w.table_guid}}}}),
    _api("POST", "/events/openlineage/{connector}/api/v1/lineage", "connection-admin",
         lambda w, who: "/events/openlineage/spark/api/v1/lineage", _openlineage_event),
    *_FAMILY_CASES,
    _api("GET", "/api/service/v1/apps/{app_id}", "read", lambda w, who: "/api/service/v1/apps/atlan-glue"),
    _api("GET", "/api/service/v1/apps/{app_id}/inputs", "read",
         lambda w, who: "/api/service/v1/apps/atlan-glue/inputs"),
    _api("POST", "/api/service/v1/app", "writer", lambda w, who: "/api/service/v1/app",
         lambda w, who: _new_app(f"app-by-{who}")),
    _api("GET", "/api/service/v1/app", "read", lambda w, who: "/api/service/v1/app"),
    _api("GET", "/api/service/v1/app/runs/{run_id}", "read", lambda w, who: f"/api/service/v1/app/runs/{w.app_run}"),
    _api("POST", "/api/service/v1/app/runs/{run_id}/cancel", "connection-admin",
         lambda w, who: f"/api/service/v1/app/runs/{w.app_run}/cancel"),
    _api("GET", "/api/service/v1/app/{slug}", "read", lambda w, who: f"/api/service/v1/app/{w.app}"),
    _api("PUT", "/api/service/v1/app/{slug}", "connection-admin", lambda w, who: f"/api/service/v1/app/{w.app}",
         lambda w, who: {"inputs": {"exclude_table_regex": f"^{who}_"}}),
    _api("POST", "/api/service/v1/app/{slug}/submit", "connection-admin",
         lambda w, who: f"/api/service/v1/app/{w.app}/submit"),
    _api("POST", "/api/service/v1/app/{slug}/schedule", "connection-admin",
         lambda w, who: f"/api/service/v1/app/{w.app}/schedule", lambda w, who: {"cron": "0 7 * * *"}),
    _api("DELETE", "/api/service/v1/app/{slug}/schedule/{trigger_id}", "connection-admin",
         lambda w, who: f"/api/service/v1/app/{w.app}/schedule/{w.app}-cron"),
    # Deleting is destructive, so each caller allowed to gets an app workflow of its own.
    _api("DELETE", "/api/service/v1/app/{slug}", "connection-admin",
         lambda w, who: f"/api/service/v1/app/{w.app_targets.get(who, w.app)}"),
    # The web UI (cookie sign-in; forms must come from this site).
    _ui("GET", "/static/{name}", "public", lambda w, who: "/static/style.css"),
    _ui("GET", "/sign-in", "public", lambda w, who: "/sign-in"),
    _ui("POST", "/sign-in", "read", lambda w, who: "/sign-in", lambda w, who: {"token": w.tokens[who] or ""},
        refusal=(400, 401)),
    _ui("POST", "/sign-out", "public", lambda w, who: "/sign-out"),
    _ui("GET", "/", "read", lambda w, who: "/"),
    _ui("GET", "/assets/{guid}", "read", lambda w, who: f"/assets/{w.table_guid}"),
    _ui("GET", "/assets/{guid}/lineage", "read", lambda w, who: f"/assets/{w.table_guid}/lineage"),
    _ui("GET", "/assets/{guid}/history", "read", lambda w, who: f"/assets/{w.table_guid}/history"),
    _ui("GET", "/assets/by-name", "read", lambda w, who: f"/assets/by-name?qn={w.table_qn}"),
    _ui("GET", "/changes", "read", lambda w, who: "/changes"),
    _ui("GET", "/assets/{guid}/{field}", "read", lambda w, who: f"/assets/{w.table_guid}/description"),
    _ui("GET", "/assets/{guid}/{field}/edit", "connection-admin",  # a 403 page saying who may
        lambda w, who: f"/assets/{w.table_guid}/description/edit"),
    _ui("POST", "/assets/{guid}/{field}", "connection-admin", lambda w, who: f"/assets/{w.table_guid}/description",
        lambda w, who: {"userDescription": f"by {who} in the browser"}),
    _ui("POST", "/assets/{guid}/owners/adopt", "connection-admin",
        lambda w, who: f"/assets/{w.table_guid}/owners/adopt"),
    _ui("GET", "/owners/suggestions", "read", lambda w, who: "/owners/suggestions?add=ad"),
    _ui("GET", "/workflows", "read", lambda w, who: "/workflows"),
    _ui("GET", "/workflows/new", "writer", lambda w, who: "/workflows/new"),
    _ui("POST", "/workflows/new", "writer", lambda w, who: "/workflows/new", lambda w, who: {"connection_name": ""}),
    _ui("POST", "/workflows/new/databases", "writer", lambda w, who: "/workflows/new/databases",
        lambda w, who: {"region": "x"}),
    _ui("GET", "/workflows/{name}", "read", lambda w, who: f"/workflows/{w.workflow}"),
    _ui("GET", "/runs/{name}", "read", lambda w, who: f"/runs/{w.run}"),
    _ui("POST", "/workflows/{name}/rerun", "connection-admin", lambda w, who: f"/workflows/{w.workflow}/rerun"),
    _ui("POST", "/workflows/{name}/plan", "connection-admin", lambda w, who: f"/workflows/{w.workflow}/plan"),
    _ui("POST", "/runs/{name}/stop", "connection-admin", lambda w, who: f"/runs/{w.run}/stop"),
    *_WEBHOOK_CASES,
    *_TAG_CASES,
    *_GLOSSARY_CASES,
]
# Served by FastAPI itself, not by Gazetteer's routers.
_FRAMEWORK = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def _routes(app) -> set[tuple[str, str]]:
    def walk(routes):
        for route in routes:
            if hasattr(route, "original_router"):
                yield from walk(route.original_router.routes)
            else:
                yield route
    return {(method, route.path) for route in walk(app.routes) if route.path not in _FRAMEWORK
            for method in (route.methods or ()) if method != "HEAD"}


def test_every_route_has_a_row_in_the_table(tmp_path) -> None:
    declared = _routes(create_app(Settings(home=tmp_path)))
    covered = {(case.method, case.path) for case in CASES}
    assert declared - covered == set(), "routes without an authorization row"
    assert covered - declared == set(), "rows for routes that no longer exist"


def _snapshot(database_url: str) -> dict[str, list]:
    """Everything a write could change (run progress aside, which finished runs no longer have)."""
    engine = open_engine(database_url, migrate=False)
    queries = {
        "assets": "SELECT qualified_name, status, name, attributes, curated, updated_by FROM assets",
        "workflows": "SELECT name, document, archived, created_by, generation FROM workflows",
        "runs": "SELECT name, phase, stop_requested FROM workflow_runs",
        "credentials": "SELECT id, ciphertext FROM credentials",
        "webhooks": "SELECT guid, name, url, events, enabled, connection_qualified_name, secret FROM webhooks",
        "webhook_deliveries": "SELECT event_key FROM webhook_deliveries",
        "tag_defs": "SELECT name, display_name, description, options, version FROM tag_defs",
        "asset_tags": "SELECT asset_id, tag_id, source_asset_id, propagate FROM asset_tags",
        "term_assignments": "SELECT asset_guid, term_guid FROM term_assignments",
    }
    with engine.connect() as conn:
        snapshot = {key: sorted(map(repr, conn.execute(sa.text(sql)).all())) for key, sql in queries.items()}
    engine.dispose()
    return snapshot


def _settle(http, timeout: float = 120) -> None:
    """Wait until no run is Pending or Running, so that a snapshot only moves when a request moves it."""
    active = {"terms": {"status.phase.keyword": ["Pending", "Running"]}}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = http.post("/api/service/runs/indexsearch", json={"size": 0, "query": active}).json()
        if answer["hits"]["total"]["value"] == 0:
            return
        time.sleep(0.3)
    raise AssertionError("runs did not settle")


def _world(server, glue) -> World:
    seed(glue, databases=("sales",))
    admin = server.client()
    tokens: dict[str, str | None] = {"anonymous": None, "malformed": "gzt_not-a-real-token",
                                     "admin": server.ADMIN_TOKEN}
    for who, role in (("guest", "$guest"), ("member", "$member"), ("ally", "$member"), ("revoked", "$member")):
        tokens[who] = token(server, who, role)
    subprocess.run([sys.executable, "-m", "gazetteer.cli", "token", "revoke", "revoked"], env=server.env,
                   check=True, capture_output=True)
    name, run = create(admin, _new_workflow())
    wait_for(admin, run)
    table = admin.post("/api/meta/search/indexsearch", json={"dsl": {"size": 1, "query": {"bool": {"filter": [
        {"term": {"__typeName.keyword": "Table"}}, {"term": {"name.keyword": "a"}}]}}},
        "attributes": ["schemaQualifiedName"]}).json()["entities"][0]
    targets = {}
    for family, who in itertools.product(("workflows", "package-workflows"), ("ally", "admin")):
        answer = admin.post("/api/service/workflows", json=_new_workflow())
        assert answer.status_code == 200, answer.text
        targets[(family, who)] = answer.json()["metadata"]["name"]
    app = admin.post("/api/service/v1/app", json=_new_app("world", run=True)).json()
    wait_for(admin, app["run_id"])
    app_targets = {who: admin.post("/api/service/v1/app", json=_new_app(f"doomed-{who}")).json()["slug"]
                   for who in ("ally", "admin")}
    return World(server, tokens, name, run, table["guid"], table["attributes"]["qualifiedName"],
                 table["attributes"]["schemaQualifiedName"], targets, app["slug"], app["run_id"], app_targets)


def _gist(text: str) -> str:
    """What an answer says, in one short line (the message of a JSON error, the heading of a page)."""
    import re

    found = re.search(r'"errorMessage":\s*"([^"]*)"|<h1[^>]*>(.*?)</h1>|<p class="error[^>]*>(.*?)</p>', text, re.S)
    return " ".join((next(g for g in found.groups() if g) if found else text[:120]).split())


def _refused(case: Case, who: str, status: int, location: str) -> bool:
    if case.refusal and who in UNAUTHENTICATED:
        return status in case.refusal
    if case.ui and who in UNAUTHENTICATED:
        return status in (302, 303) and location.startswith("/sign-in")
    return status == (401 if who in UNAUTHENTICATED else 403)


def test_every_route_for_every_caller(server, glue) -> None:
    world = _world(server, glue)
    admin = server.client()
    problems = []
    for case, who in itertools.product(CASES, CALLERS):
        allowed = who in ALLOWED[case.rule]
        client = world.browser(who) if case.ui else world.http(who)
        arguments = case.request(world, who)
        if not allowed:
            _settle(admin)
            before = _snapshot(server.database_url)
        answer = client.request(case.method, **arguments)
        refused = _refused(case, who, answer.status_code, answer.headers.get("location", ""))
        where = f"{case.method} {arguments['url']} as {who}: {answer.status_code} {_gist(answer.text)}"
        if allowed and (answer.status_code in (401, 403) or answer.status_code >= 500
                        or (refused and case.rule != "public")):  # signing out ends on the sign-in page
            problems.append(f"refused but allowed ({case.rule}): {where}")
        if not allowed:
            if not refused:
                problems.append(f"not refused ({case.rule}): {where}")
            _settle(admin)
            if _snapshot(server.database_url) != before:
                problems.append(f"a refused request changed something: {where}")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("family", ["workflows", "package-workflows"])
def test_a_member_cannot_take_over_another_connection(any_server, glue, family: str) -> None:
    """A new workflow naming an existing connection needs that connection's admins; nothing is stored else."""
    seed(glue, databases=("sales",))
    admin = any_server.client()
    victim = _new_workflow(connection_name="finance", admin_users=["service-account-ally"])
    name, run = create(admin, victim)
    wait_for(admin, run)
    connection_qn = "default/glue/" + name.rsplit("-", 1)[1]
    mallory = any_server.client(token=token(any_server, "mallory", "$member"))
    before = _snapshot(any_server.database_url)
    attack = workflow(epoch=int(connection_qn.rsplit("/", 1)[1]), connection_name="mine",
                      admin_users=["service-account-mallory"], admin_roles=[])
    attack["metadata"]["name"] = f"atlan-glue-{next(_epochs)}"
    answer = mallory.post(f"/api/service/{family}?submit=true", json=attack)
    assert answer.status_code == 403, answer.text
    assert "not an admin of connection 'finance'" in answer.json()["errorMessage"]
    assert _snapshot(any_server.database_url) == before  # no workflow, no run, no credential, no rename
    # The connection's own admin still may not create a second workflow over it while the first lives...
    ally = any_server.client(token=token(any_server, "ally", "$member"))
    attack["metadata"]["name"] = f"atlan-glue-{next(_epochs)}"
    answer = ally.post(f"/api/service/{family}", json=attack)
    assert answer.status_code == 409 and name in answer.json()["errorMessage"], answer.text
    assert _snapshot(any_server.database_url) == before
    # ...but after archiving it, may crawl the connection again with a new one.
    assert ally.post(f"/api/service/{family}/{name}/archive").status_code == 200
    assert ally.post(f"/api/service/{family}", json=attack).status_code == 200
    # Mallory, refused everywhere on that connection, cannot edit its assets either.
    table = admin.post("/api/meta/search/indexsearch", json={"dsl": {"size": 1, "query": {
        "term": {"__typeName.keyword": "Table"}}}}).json()["entities"][0]
    edit = {"entities": [{"typeName": "Table", "guid": table["guid"], "attributes": {
        "qualifiedName": table["attributes"]["qualifiedName"], "name": table["attributes"]["name"],
        "userDescription": "mine now"}}]}
    assert mallory.post("/api/meta/entity/bulk/", json=edit).status_code == 403
