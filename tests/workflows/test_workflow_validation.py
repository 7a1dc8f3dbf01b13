"""Hostile and careless workflow documents: each is a 400 that says what is wrong, and nothing is stored.

The cases are the ones probing found (500s, or invalid workflows accepted and run), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable

from tests.workflows.test_workflow_api import count_rows, workflow


def _connection(document: dict, change: Callable[[dict], None]) -> None:
    parameters = document["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"]
    holder = next(p for p in parameters if p["name"] == "connection")
    connection = json.loads(holder["value"])
    change(connection["attributes"])
    holder["value"] = json.dumps(connection)


def _credential(document: dict) -> dict:
    return next(item["body"] for item in document["payload"] if item.get("type") == "credential")


def _set(key: str, value) -> Callable[[dict], None]:
    return lambda target: target.__setitem__(key, value)


CASES: list[tuple[str, Callable[[dict], None], str]] = [
    ("spec is a string", lambda d: d.__setitem__("spec", "x"), "spec must be a JSON object"),
    ("credential extra is a string", lambda d: _credential(d).__setitem__("extra", "us-east-1"),
     "payload[].body.extra"),
    ("annotations is a list", lambda d: d["metadata"].__setitem__("annotations", [1]), "metadata.annotations"),
    ("namespace of 100 characters", lambda d: d["metadata"].__setitem__("namespace", "n" * 100), "namespace"),
    ("namespace is an object", lambda d: d["metadata"].__setitem__("namespace", {"a": 1}), "namespace"),
    ("password is an object", lambda d: _credential(d).__setitem__("password", {"secret": "x"}),
     "payload[].body.password must be a string"),
    ("payload is an object", lambda d: d.__setitem__("payload", {"type": "credential"}), "payload must be a list"),
    ("workflow name of 10,000 characters", lambda d: d["metadata"].__setitem__("name", "a" * 10_000),
     "not a valid name"),
    ("rowLimit 1e30", lambda d: _connection(d, _set("rowLimit", 1e30)), "row_limit"),
    ("rowLimit past 64 bits", lambda d: _connection(d, _set("rowLimit", 10**30)), "row_limit"),
    ("allowQuery is a string", lambda d: _connection(d, _set("allowQuery", "yes")), "allow_query"),
    ("connection name of 10,000 characters", lambda d: _connection(d, _set("name", "c" * 10_000)),
     "name of 1 to 255 characters"),
    ("admin user of 10,000 characters", lambda d: _connection(d, _set("adminUsers", ["u" * 10_000])), "adminUsers"),
    ("admin users is a string", lambda d: _connection(d, _set("adminUsers", "ann")), "adminUsers"),
    ("include names a 10,000-character database", lambda d: d["spec"]["templates"][0]["dag"]["tasks"][0][
        "arguments"]["parameters"].append({"name": "include-filter", "value": json.dumps(
            {"AwsDataCatalog": {"d" * 10_000: {}}})}), "include"),
]


def test_a_bad_workflow_is_a_400_and_stores_nothing(any_server, glue) -> None:
    # One server per backend for every case: each case is a request, a server start would dwarf it.
    for label, change, needle in CASES:
        document = copy.deepcopy(workflow())
        change(document)
        for path in ("/api/service/workflows?submit=true", "/api/service/package-workflows"):
            answer = any_server.client().post(path, json=document)
            assert answer.status_code == 400, (label, answer.text)
            assert needle in answer.json()["errorMessage"], (label, answer.text)
    for table in ("workflows", "workflow_runs", "credentials", "assets"):
        assert count_rows(any_server, table) == 0, table


def test_an_update_is_validated_like_a_create(server, glue) -> None:
    http = server.client()
    created = http.post("/api/service/workflows", json=workflow())
    assert created.status_code == 200, created.text
    name = created.json()["metadata"]["name"]
    before = http.get(f"/api/service/workflows/{name}").json()
    for label, change, needle in CASES[:7]:
        document = copy.deepcopy(workflow())
        change(document)
        answer = http.post(f"/api/service/workflows/{name}", json=document)
        assert answer.status_code == 400 and needle in answer.json()["errorMessage"], (label, answer.text)
    assert http.get(f"/api/service/workflows/{name}").json() == before


def _deep_connection(document: dict) -> None:
    _connection_value(document, "[" * 1500 + "]" * 1500)


def _connection_value(document: dict, value: str) -> None:
    parameters = document["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"]
    next(p for p in parameters if p["name"] == "connection")["value"] = value


JSON_IN_STRINGS: list[tuple[str, Callable[[dict], None], str]] = [
    ("connection parameter nested 1,500 deep", _deep_connection, "nests deeper than 64 levels"),
    ("include-filter nested 1,500 deep", lambda d: d["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"][
        "parameters"].append({"name": "include-filter", "value": '{"a":' * 1500 + "1" + "}" * 1500}),
     "nests deeper than 64 levels"),
    ("NUL in the connection name inside the parameter", lambda d: _connection(d, _set("name", "a\x00b")),
     "NUL character"),
    ("lone surrogate in an admin inside the parameter", lambda d: _connection(d, _set("adminUsers", ["\ud800"])),
     "lone surrogate"),
]


def test_json_inside_strings_is_held_to_the_body_bounds(server, glue) -> None:
    """JSON carried inside Argo parameters gets the same depth and text checks as a request body."""
    for label, change, needle in JSON_IN_STRINGS:
        document = copy.deepcopy(workflow())
        change(document)
        answer = server.client().post("/api/service/workflows", json=document)
        assert answer.status_code == 400 and needle in answer.json()["errorMessage"], (label, answer.text)
    assert count_rows(server, "workflows") == 0 and count_rows(server, "credentials") == 0
    deep_filter = "%5B" * 1500 + "%5D" * 1500
    nested_and = '{"$and":[' * 900 + '{"username":{"$eq":"x"}}' + "]}" * 900
    for query in (f"filter={deep_filter}", {"filter": nested_and}):
        answer = server.client().get("/api/service/users", params=query)
        assert answer.status_code == 400 and "nests deeper" in answer.json()["errorMessage"], answer.text
