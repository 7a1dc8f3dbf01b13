"""The OpenAPI document is the contract: it says what each route answers, and a fuzzer holds the server to it.

Schemathesis reads /openapi.json from a live server (SQLite, then PostgreSQL) and, for every operation,
sends requests that the document allows and requests that it does not, authenticated as the admin. Any
5xx, and any answer whose body the document does not describe, is a finding; the test runs every operation
and then lists every finding with a curl command that reproduces it. Hypothesis is derandomized and keeps
no database, so a run finds the same things in CI as on a laptop.
"""

from __future__ import annotations

import time

import hypothesis
import hypothesis.errors
import pytest
import requests
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.errors import FailureGroup

from gazetteer.settings import Settings
from gazetteer.web.app import create_app

# Per operation and per mode (valid, invalid): about 1,500 requests in all, within about a minute and a half
# per backend.
EXAMPLES = 25
SETTINGS = hypothesis.settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                               phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
                               verbosity=hypothesis.Verbosity.quiet)


def _load(server) -> schemathesis.BaseSchema:
    # An explicit, empty Config: a schemathesis.toml lying around must not change what CI runs.
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json", config=schemathesis.Config())
    schema.config.update(base_url=server.url)
    schema.config.checks.update(included_check_names=["not_a_server_error", "response_schema_conformance"])
    return schema


def _fuzz(operation, mode: GenerationMode, session: requests.Session, headers: dict[str, str],
          findings: dict[tuple[str, ...], str]) -> None:
    """Send one operation's generated requests; record each distinct failure (not raise it, so all run)."""

    @SETTINGS
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        try:
            case.call_and_validate(session=session, headers=headers)
        except FailureGroup as failed:
            key = (operation.label, *sorted({failure.title for failure in failed.exceptions}))
            findings.setdefault(key, str(failed))

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        # An operation without parameters or body (GET /health) has no invalid request to send.
        if mode is not GenerationMode.NEGATIVE:
            raise


def test_no_server_errors_and_every_answer_as_documented(any_server) -> None:
    schema = _load(any_server)
    headers = {"Authorization": f"Bearer {any_server.ADMIN_TOKEN}"}
    findings: dict[tuple[str, ...], str] = {}
    started = time.monotonic()
    with requests.Session() as session:
        for path in schema:
            for method in schema[path]:
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    _fuzz(schema[path][method], mode, session, headers, findings)
    elapsed = time.monotonic() - started
    assert not findings, (f"{len(findings)} finding(s) in {elapsed:.0f} s:\n\n"
                          + "\n\n".join(f"== {' / '.join(key)}\n{report}" for key, report in findings.items()))


# ---- the document itself ----------------------------------------------------------------------------------

def _operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


ADMIN_TOKEN = "gzt-fuzz-admin-token-0123456789"


@pytest.fixture()
def app_client(tmp_path) -> TestClient:
    """The app in process (no lifespan: these routes need no workflow executor)."""
    return TestClient(create_app(Settings(home=tmp_path / "home", admin_token=ADMIN_TOKEN)),
                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})


@pytest.fixture()
def document(app_client) -> dict:
    return app_client.get("/openapi.json").json()


def test_errors_are_documented_in_the_atlan_shape_and_422_is_gone(document) -> None:
    error = document["components"]["schemas"]["AtlanError"]
    assert set(error["required"]) == {"errorCode", "errorMessage"}
    assert "HTTPValidationError" not in document["components"]["schemas"]
    statuses = {(method, path): set(operation["responses"]) for method, path, operation in _operations(document)}
    assert all("422" not in found and "400" in found for found in statuses.values())
    atlan_error = {"$ref": "#/components/schemas/AtlanError"}
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            # 202: OpenLineage's answer, plain text for its producers; 204: no body (a tag deleted or taken off).
            success = status in ("200", "202", "204")
            schema = None if success else response["content"]["application/json"]["schema"]
            if (method, path, status) == ("POST", "/api/service/v1/app", "409"):
                # pyatlan 11 reads the existing slug from this one's body: {message, slug, version}, no errorCode.
                assert schema["anyOf"] == [{"$ref": "#/components/schemas/NameTaken"}, atlan_error]
            elif not success:
                assert schema == atlan_error, (method, path, status)
        if path != "/health":
            assert "401" in operation["responses"] and operation["security"] == [{"apiToken": []}], (method, path)
        if "requestBody" in operation:
            assert "413" in operation["responses"], (method, path)
    assert {"403", "404"} <= statuses[("POST", "/api/meta/entity/bulk/")]
    assert {"403", "409"} <= statuses[("POST", "/api/service/workflows")]
    assert {"403", "404"} <= statuses[("POST", "/api/service/workflows/{name}/archive")]
    assert "404" in statuses[("GET", "/api/meta/entity/guid/{guid}")]
    assert "404" in statuses[("GET", "/api/service/runs/{run_name}")]
    assert statuses[("GET", "/health")] == {"200", "400"}


def test_the_qualified_name_is_a_required_parameter(app_client, document) -> None:
    operation = document["paths"]["/api/meta/entity/uniqueAttribute/type/{type_name}"]["get"]
    parameter = next(p for p in operation["parameters"] if p["name"] == "attr:qualifiedName")
    assert parameter["required"] is True and parameter["in"] == "query"
    missing = app_client.get("/api/meta/entity/uniqueAttribute/type/Table")
    assert missing.status_code == 400
    assert missing.json() == {"errorCode": "GAZETTEER-400-001",
                              "errorMessage": "query parameter 'attr:qualifiedName' is required"}
    empty = app_client.get("/api/meta/entity/uniqueAttribute/type/Table", params={"attr:qualifiedName": ""})
    assert empty.status_code == 400 and empty.json()["errorMessage"].startswith("query parameter 'attr:qualifiedName'")


def test_a_405_names_every_method_of_the_path(app_client) -> None:
    # GET /workflows/{name} and POST /workflows/indexsearch are different routes; both serve this path.
    answer = app_client.delete("/api/service/workflows/indexsearch")
    assert answer.status_code == 405 and answer.headers["allow"] == "GET, POST"
    assert answer.json()["errorCode"] == "GAZETTEER-405-000"
    assert app_client.put("/health").headers["allow"] == "GET"
    assert app_client.get("/api/meta/search/indexsearch").headers["allow"] == "POST"
    assert app_client.post("/").headers["allow"] == "GET"  # UI pages too
