"""Requests the catalog cannot hold are refused with a 400 before any route runs, and nothing is stored.

A NUL character (PostgreSQL refuses it in text), bytes that are not UTF-8, a lone surrogate (it cannot be
encoded) and JSON nested deeper than 64 levels used to reach the routes and end in 500s; each is now a 400
in the Atlan error shape that says what is wrong and where.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time

import httpx
import pytest
import uvicorn

from gazetteer.settings import Settings
from gazetteer.web.app import create_app
from gazetteer.web.requests import MAX_JSON_DEPTH, body_problem
from gazetteer.web.ui.routing import TOKEN_COOKIE

SEARCH = "/api/meta/search/indexsearch"
BULK = "/api/meta/entity/bulk/"
QUALIFIED_NAME = "default/glue/5555555599"
BY_NAME = "/api/meta/entity/uniqueAttribute/type/Connection"


def _refused(response, code: str) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["errorCode"] == code, body
    return body["errorMessage"]


def _connection(**attributes) -> dict:
    return {"entities": [{"typeName": "Connection", "attributes": {
        "qualifiedName": QUALIFIED_NAME, "name": "s", "adminRoles": ["$admin"], **attributes}}]}


def test_a_nul_or_bytes_not_utf8_in_the_url_is_refused(any_server) -> None:
    with any_server.client() as api:
        message = _refused(api.get(f"{BY_NAME.replace('Connection', 'Table')}?attr:qualifiedName=a%00b"),
                           "GAZETTEER-400-002")
        assert message == "The query parameter 'attr:qualifiedName' has a NUL character (%00) in its value."
        message = _refused(api.get("/api/service/workflows/a%00b"), "GAZETTEER-400-002")
        assert message == "The URL path has a NUL character (%00) in the segment 'a%00b'."
        message = _refused(api.get("/api/service/workflows/a%FFb"), "GAZETTEER-400-002")
        assert message == "The URL path has bytes that are not valid UTF-8 in the segment 'a%FFb'."
        message = _refused(api.get(f"{BY_NAME}?attr:qualifiedName=caf%E9"), "GAZETTEER-400-002")
        assert "'attr:qualifiedName' has bytes that are not valid UTF-8" in message
        message = _refused(api.get("/api/service/users?a%00=1"), "GAZETTEER-400-002")
        assert message == "The name of the query parameter 'a\\x00' has a NUL character (%00)."
        # Ordinary UTF-8, escaped or not, passes.
        assert api.get(f"{BY_NAME}?attr:qualifiedName=caf%C3%A9").status_code == 404
    with any_server.client(token="") as anonymous:  # refused before authentication too
        _refused(anonymous.get("/api/service/workflows/a%00b"), "GAZETTEER-400-002")
    # The UI's search box sends q; the page is never rendered for it.
    with httpx.Client(base_url=any_server.url, cookies={TOKEN_COOKIE: any_server.ADMIN_TOKEN}) as browser:
        message = _refused(browser.get("/?q=a%00b"), "GAZETTEER-400-002")
        assert message == "The query parameter 'q' has a NUL character (%00) in its value."
        assert browser.get("/?q=caf%C3%A9").status_code == 200


def test_a_nul_or_lone_surrogate_in_a_json_body_is_refused_and_nothing_is_stored(any_server) -> None:
    json_type = {"content-type": "application/json"}
    with any_server.client() as api:
        answer = api.post(SEARCH, headers=json_type,
                          content=rb'{"dsl":{"query":{"term":{"name.keyword":"a\u0000b"}}}}')
        assert _refused(answer, "GAZETTEER-400-003") == (
            'The JSON body has a NUL character (\\u0000) at $.dsl.query.term["name.keyword"].')

        answer = api.post(BULK, headers=json_type, content=json.dumps(_connection(userDescription="\ud800")))
        assert _refused(answer, "GAZETTEER-400-003") == (
            "The JSON body has a lone surrogate (\\ud800) at $.entities[0].attributes.userDescription.")
        answer = api.post(BULK, headers=json_type, content=json.dumps(_connection(userDescription="a\x00b")))
        assert "NUL character (\\u0000) at $.entities[0].attributes.userDescription" in _refused(
            answer, "GAZETTEER-400-003")
        answer = api.post(BULK, headers=json_type, content=json.dumps(_connection(**{"user\x00Description": "x"})))
        assert _refused(answer, "GAZETTEER-400-003") == (
            'The JSON body has a NUL character (\\u0000) in the key "user\\u0000Description" '
            "at $.entities[0].attributes.")
        # A surrogate sent as raw UTF-8-style bytes, and a body in UTF-16, are caught as well.
        raw = json.dumps(_connection(userDescription="@")).encode().replace(b"@", b"\xed\xa0\x80")
        assert "lone surrogate (\\ud800)" in _refused(api.post(BULK, headers=json_type, content=raw),
                                                      "GAZETTEER-400-003")
        utf16 = json.dumps(_connection(userDescription="a\x00b")).encode("utf-16-le")
        _refused(api.post(BULK, headers=json_type, content=utf16), "GAZETTEER-400-003")
        assert api.get(BY_NAME, params={"attr:qualifiedName": QUALIFIED_NAME}).status_code == 404

        # Routes that read JSON from a body of any declared type are covered too.
        answer = api.post("/api/service/workflows/nope/changeownership", headers={"content-type": "text/plain"},
                          content=rb'{"username": "a\u0000b"}')
        assert "at $.username" in _refused(answer, "GAZETTEER-400-003")

        # Text outside ASCII, and surrogate pairs that make one character, are stored as sent.
        kept = "caf\u00e9 \U0001f600 \ud55c"
        answer = api.post(BULK, headers=json_type, content=json.dumps(_connection(userDescription=kept)))
        assert answer.status_code == 200, answer.text
        stored = api.get(BY_NAME, params={"attr:qualifiedName": QUALIFIED_NAME}).json()
        assert stored["entity"]["attributes"]["userDescription"] == kept


def _nested(depth: int) -> bytes:
    return b'{"dsl":' + b'{"a":' * (depth - 1) + b"1" + b"}" * depth


def test_json_nested_too_deeply_is_refused(any_server) -> None:
    json_type = {"content-type": "application/json"}
    with any_server.client() as api:
        message = _refused(api.post(SEARCH, headers=json_type, content=_nested(MAX_JSON_DEPTH + 1)),
                           "GAZETTEER-400-004")
        assert message.startswith(f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels (at $.dsl.a.a.")
        # At the bound the body reaches the route, which says what it thinks of it.
        answer = api.post(SEARCH, headers=json_type, content=_nested(MAX_JSON_DEPTH))
        assert answer.status_code == 400 and answer.json()["errorCode"] != "GAZETTEER-400-004"
        # Deeper than Python's own recursion limit: refused, not a RecursionError.
        message = _refused(api.post(SEARCH, headers=json_type, content=b"[" * 100_000 + b"]" * 100_000),
                           "GAZETTEER-400-004")
        assert message == f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels."


@pytest.mark.parametrize("body", [
    rb'{"a": "\u0000"}', rb'{"a": ["\uD800"]}', rb'{"a": "\udfff"}', b'{"a": "\xed\xb0\x80"}',
    '{"a": "\\u0000"}'.encode("utf-16"), '{"a": "\\ud800"}'.encode("utf-32-le"),
    b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1),
])
def test_every_spelling_of_a_bad_body_is_caught(body: bytes) -> None:
    assert body_problem(body, "application/json") is not None


@pytest.mark.parametrize("body", [
    rb'{"a": "\\u0000"}', rb'{"a": "\ud83d\ude00"}', rb'{"a": "\ud55c"}', '{"a": "\ud55c"}'.encode(),
    "{\"a\": \"caf\u00e9\"}".encode("utf-16"), b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH, b"{not json",
    b"", b"3",
])
def test_good_bodies_and_non_json_pass(body: bytes) -> None:
    assert body_problem(body, "application/json") is None


def test_an_unexpected_error_is_a_logged_500_that_keeps_the_connection(tmp_path, caplog) -> None:
    app = create_app(Settings(home=tmp_path / "home"))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("kaboom")

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        with caplog.at_level(logging.ERROR):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/boom")
            failed = connection.getresponse()
            assert failed.status == 500 and json.loads(failed.read())["errorCode"] == "GAZETTEER-500-000"
            assert failed.getheader("connection") != "close"
            socket = connection.sock
            connection.request("GET", "/health")  # on the same connection: the server kept it
            answer = connection.getresponse()
            assert answer.status == 200 and json.loads(answer.read())["status"] == "ok"
            assert connection.sock is socket
            connection.close()
        logged = [record for record in caplog.records if record.exc_info and record.exc_info[0] is RuntimeError]
        assert len(logged) == 1 and "GET /boom" in logged[0].getMessage()  # once, with its traceback
    finally:
        server.should_exit = True
        thread.join(timeout=30)
