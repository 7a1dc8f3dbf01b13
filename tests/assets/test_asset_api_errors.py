"""Bad requests to the asset API of a live server: every error in Atlan's shape, with the right status."""

from __future__ import annotations

import subprocess
import sys

import pytest

SEARCH = "/api/meta/search/indexsearch"
BULK = "/api/meta/entity/bulk/"


def _token(server, name: str, role: str) -> str:
    made = subprocess.run([sys.executable, "-m", "gazetteer.cli", "token", "create", "--name", name, "--role", role],
                          env=server.env, capture_output=True, text=True, check=True)
    return made.stdout.strip()


def _error(response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"errorCode", "errorMessage"} and body["errorMessage"]
    return body["errorMessage"]


@pytest.fixture()
def api(server):
    with server.client() as client:
        yield client


def test_search_errors_name_what_is_wrong(api) -> None:
    bad_json = api.post(SEARCH, content=b'{"dsl": {"query": ', headers={"content-type": "application/json"})
    assert "not valid JSON" in _error(bad_json, 400)
    assert "'fuzzy'" in _error(api.post(SEARCH, json={"dsl": {"query": {"fuzzy": {"name": "x"}}}}), 400)
    message = _error(api.post(SEARCH, json={"dsl": {"query": {"bool": {"filter": [{"term": {"name": "a"}},
                                                                                  {"percolate": {}}]}}}}), 400)
    assert "'percolate'" in message and "query.bool.filter[1]" in message
    assert "'dsl'" in _error(api.post(SEARCH, json={"dsl": []}), 400)
    assert "'size'" in _error(api.post(SEARCH, json={"dsl": {"size": "ten"}}), 400)
    # An empty catalog: a count of 0 and no entities key, as Atlas answers.
    answer = api.post(SEARCH, json={"dsl": {"from": 0, "size": 5000, "query": {"match_all": {}}}}).json()
    assert answer["approximateCount"] == 0 and "entities" not in answer and answer["queryType"] == "INDEX"


def test_tokens_and_roles(server, api) -> None:
    with server.client(token="") as anonymous:
        for response in (anonymous.post(SEARCH, json={"dsl": {}}), anonymous.get("/api/meta/entity/guid/x"),
                         anonymous.post(BULK, json={"entities": []})):
            assert "Bearer" in _error(response, 401)
    with server.client(token="gzt_wrong") as wrong:
        _error(wrong.post(SEARCH, json={"dsl": {}}), 401)

    connection = {"typeName": "Connection", "attributes": {"qualifiedName": "default/glue/1700000000",
                                                           "name": "lake", "connectorName": "glue",
                                                           "adminUsers": ["someone-else"]}}
    with server.client(token=_token(server, "viewer", "$guest")) as guest:
        assert guest.post(SEARCH, json={"dsl": {}}).status_code == 200  # guests read
        assert "read-only" in _error(guest.post(BULK, json={"entities": [connection]}), 403)
    with server.client(token=_token(server, "analyst", "$member")) as member:
        assert "not an admin" in _error(member.post(BULK, json={"entities": [connection]}), 403)
    created = api.post(BULK, params={"replaceTags": "false", "appendTags": "false"},
                       json={"entities": [{**connection, "guid": "-42"}]})
    assert created.status_code == 200, created.text
    assert list(created.json()["guidAssignments"]) == ["-42"]
    assert "replaceTags" in _error(api.post(BULK, params={"replaceTags": "maybe"}, json={"entities": [connection]}),
                                   400)


def test_missing_and_malformed_entities(api) -> None:
    message = _error(api.get("/api/meta/entity/uniqueAttribute/type/Table",
                             params={"attr:qualifiedName": "default/glue/1/x/y/z", "minExtInfo": "false",
                                     "ignoreRelationships": "true"}), 404)
    assert message == "Instance Table with unique attribute {qualifiedName=default/glue/1/x/y/z} does not exist"
    assert api.get("/api/meta/entity/uniqueAttribute/type/Table").json()["errorMessage"].startswith(
        "query parameter 'attr:qualifiedName'")
    missing = api.get("/api/meta/entity/guid/4b0c8f6e-0000-4000-8000-000000000000")
    assert "is invalid/not found" in _error(missing, 404)
    assert missing.json()["errorCode"].startswith("ATLAS-404")
    assert "ignoreRelationships" in _error(api.get("/api/meta/entity/guid/x", params={"ignoreRelationships": "1"}),
                                           400)
    assert "unknown typeName 'Dashboard'" in _error(api.post(BULK, json={"entities": [
        {"typeName": "Dashboard", "attributes": {"qualifiedName": "q", "name": "n"}}]}), 400)
    assert "entities" in _error(api.post(BULK, json={"entity": {}}), 400)
    assert "Schema" in _error(api.post(BULK, json={"entities": [{"typeName": "Table", "attributes": {
        "qualifiedName": "default/glue/1/AwsDataCatalog/none/t", "name": "t"}}]}), 404)
    # Without the trailing slash pyatlan never sends, the same route answers (no redirect to retry).
    assert api.post("/api/meta/entity/bulk", json={"entities": []}).status_code == 400
