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


BIG = 10**30  # a JSON integer: Python reads it whole, SQLite and PostgreSQL cannot bind it
RUNS_SEARCH, WORKFLOWS_SEARCH = "/api/service/runs/indexsearch", "/api/service/workflows/indexsearch"


def _bools(depth: int) -> dict:
    query: dict = {"match_all": {}}
    for _ in range(depth):
        query = {"bool": {"filter": query}}  # one clause, not a list: two JSON levels per bool
    return query


OUT_OF_BOUNDS = [  # (path, body, what the 400's message says)
    (SEARCH, {"dsl": {"from": BIG}}, "'from': at most 2,147,483,647"),
    (SEARCH, {"dsl": {"from": 2**63}}, "'from': at most"),
    (SEARCH, {"dsl": {"size": BIG}}, "'size': at most"),
    (SEARCH, {"dsl": {"track_total_hits": BIG}}, "'track_total_hits': at most"),
    (SEARCH, {"dsl": {"track_total_hits": -5}}, "'track_total_hits'"),
    (SEARCH, {"dsl": {"aggs": {"t": {"terms": {"field": "__typeName", "size": BIG}}}}}, "terms.size': at most"),
    (SEARCH, {"dsl": {"query": {"range": {"rowCount": {"gte": BIG}}}}}, "range.rowCount.gte is out of range"),
    (SEARCH, {"dsl": {"query": {"range": {"rowCount": {"gte": str(BIG)}}}}}, "number field 'rowCount'"),
    (SEARCH, {"dsl": {"query": {"range": {"__timestamp": {"gte": BIG}}}}}, "out of range"),
    (SEARCH, {"dsl": {"query": {"range": {"__timestamp": {"lt": 2**62}}}}}, "epoch milliseconds"),
    (SEARCH, {"dsl": {"query": {"range": {"sourceCreatedAt": {"gte": BIG}}}}}, "out of range"),
    (SEARCH, {"dsl": {"query": {"range": {"__timestamp": {"gte": "now-99999999999y"}}}}}, "years 1 to 9999"),
    (SEARCH, {"dsl": {"query": {"term": {"rowCount": BIG}}}}, "out of range"),
    (SEARCH, {"dsl": {"query": _bools(21)}}, "more than 20 deep"),
    (SEARCH, {"dsl": {"query": {"regexp": {"qualifiedName": "a{255}{255}{255}{255}"}}}}, "regex engine"),
    (SEARCH, {"dsl": {"query": {"regexp": {"name": "a" * 1001}}}}, "1,001 characters"),
    (SEARCH, {"dsl": {"query": {"wildcard": {"name": "*" * 4097}}}}, "4,097 characters"),
    (SEARCH, {"dsl": {"query": {"match": {"name": "x" * 100_000}}}}, "100,000 characters"),
    (SEARCH, {"dsl": {"query": {"terms": {"name": list(range(10_001))}}}}, "at most 10,000"),
    (SEARCH, {"dsl": {"query": {"bool": {"should": [{"term": {"name": "x"}}] * 2000}}}}, "at most 1,024"),
    (SEARCH, {"dsl": {"sort": [{f"attribute{i}": "asc"} for i in range(3000)]}}, "at most 64"),
    (SEARCH, {"dsl": {"aggs": {f"a{i}": {"terms": {"field": f"attribute{i}"}} for i in range(3000)}}}, "at most 100"),
    (WORKFLOWS_SEARCH, {"from": BIG}, "'from': at most"),
    (RUNS_SEARCH, {"sort": [{"status.startedAt": "asc"}] * 3000}, "at most 64"),
    (WORKFLOWS_SEARCH, {"query": {"range": {"metadata.creationTimestamp": {"gte": BIG}}}}, "out of range"),
    (RUNS_SEARCH, {"size": BIG}, "'size': at most"),
    (RUNS_SEARCH, {"query": {"range": {"status.startedAt": {"gte": "now-99999999999y"}}}}, "years 1 to 9999"),
    (RUNS_SEARCH, {"query": _bools(21)}, "more than 20 deep"),
]


def test_requests_out_of_bounds_are_400s(any_server) -> None:
    with any_server.client() as api:
        for path, body, message in OUT_OF_BOUNDS:
            assert message in _error(api.post(path, json=body), 400), (path, message)
        # Deeper than the request-level JSON limit: refused before the parser (its own cap is tested above).
        _error(api.post(SEARCH, json={"dsl": {"query": _bools(90)}}), 400)
        assert "offset" in _error(api.get("/api/service/users", params={"offset": 2**63}), 400)
        assert api.get("/api/service/users", params={"offset": 2**31 - 1}).status_code == 200
        # PostgreSQL will not run this one (RE2 does): a 400 there, an empty answer on SQLite.
        complex_regexp = api.post(SEARCH, json={"dsl": {"query": {"regexp": {"name": "([a-z]{255}){3}" * 60}}}})
        if "postgresql" in any_server.database_url:
            assert "regular expression is too complex" in _error(complex_regexp, 400)
        else:
            assert complex_regexp.status_code == 200 and complex_regexp.json()["approximateCount"] == 0
        assert api.post(SEARCH, json={"dsl": {"from": 2**31 - 1}}).json()["approximateCount"] == 0
    assert "unexpected error" not in any_server.log()
