"""Refuse, before any route runs, requests carrying text the catalog cannot hold or code cannot walk.

PostgreSQL refuses a NUL character in text, a lone surrogate (half of a UTF-16 pair, which JSON's "\\ud800"
escape can spell) cannot be encoded as UTF-8, bytes that are not UTF-8 decode to replacement characters
nobody typed, and a body nested thousands of levels deep ends recursive code in a RecursionError. Left to
the routes, each is a 500 from deep inside a query, or, on SQLite, a value stored that PostgreSQL would
refuse. `RequestHygiene` checks the URL path, the query string and the body once, here, and answers 400 in
the Atlan error shape naming the problem and where it is, so no route ever sees such a request.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gazetteer.jsontext import MAX_DEPTH, json_problem
from gazetteer.web.limits import send_error

__all__ = ["RequestHygiene", "MAX_JSON_DEPTH", "url_problem", "body_problem"]

MAX_JSON_DEPTH = MAX_DEPTH
URL_CODE = "GAZETTEER-400-002"  # the path, the query string or a url-encoded form
TEXT_CODE = "GAZETTEER-400-003"  # a string or key of a JSON body
DEPTH_CODE = "GAZETTEER-400-004"
_NUL = "a NUL character (%00)"
_NOT_UTF8 = "bytes that are not valid UTF-8"
_FORM = "application/x-www-form-urlencoded"
_INLINE_BYTES = 64 * 1024


def _bytes_problem(raw: bytes) -> str | None:
    """What is wrong with one percent-decoded URL part or form field, if anything."""
    if b"\x00" in raw:
        return _NUL
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return _NOT_UTF8
    return None


def _shown(raw: bytes) -> str:
    """A decoded name, quoted, safe to put in a message whatever bytes it holds."""
    return repr(raw.decode("utf-8", "backslashreplace"))


def _pairs_problem(encoded: bytes, what: str) -> str | None:
    """The first bad name or value in a query string or url-encoded form body (`what`: how to name a field)."""
    for pair in encoded.split(b"&"):
        raw_name, _, raw_value = pair.partition(b"=")
        name = unquote_to_bytes(raw_name.replace(b"+", b" "))
        if problem := _bytes_problem(name):
            return f"The name of the {what} {_shown(name)} has {problem}."
        if problem := _bytes_problem(unquote_to_bytes(raw_value.replace(b"+", b" "))):
            return f"The {what} {_shown(name)} has {problem} in its value."
    return None


def url_problem(scope: Scope) -> str | None:
    """What is wrong with the request's path or query string, or None."""
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogatepass")
    for segment in raw_path.split(b"/"):
        if problem := _bytes_problem(unquote_to_bytes(segment)):
            return f"The URL path has {problem} in the segment {segment.decode('ascii', 'backslashreplace')!r}."
    query = scope.get("query_string") or b""
    return _pairs_problem(query, "query parameter") if query else None


# JSON spells a NUL only as the escape \u0000 (a raw control character is not valid JSON), and a lone
# surrogate as an escape \uD800-\uDFFF or as the raw bytes ED A0-BF (which json.loads lets through). A body
# with none of these bytes holds neither, so its strings need no walk. \uD000-\uD7FF and ED 80-9F are
# ordinary characters that merely send a body on to the walk. A NUL byte marks a UTF-16 or UTF-32 body
# (any JSON text starts with an ASCII character), whose escapes these bytes would not match.
_SUSPECT = (b"\x00", b"\\u0000", b"\\ud", b"\\uD", b"\xed")


def _within_depth(document: Any) -> bool:
    """Whether no container nests deeper than MAX_JSON_DEPTH: level by level, keeping no paths (the fast case).

    json.loads makes plain dicts and lists only, so exact type tests do, and they are the cheapest.
    """
    level = [document] if type(document) is dict or type(document) is list else []
    for _ in range(MAX_JSON_DEPTH):
        below = []
        for node in level:
            for value in node.values() if type(node) is dict else node:
                if type(value) is dict or type(value) is list:
                    below.append(value)
        if not below:
            return True
        level = below
    return False


def body_problem(body: bytes, content_type: str) -> tuple[str, str] | None:
    """(error code, message) for a body the routes must not see, or None.

    A url-encoded form is checked field by field. Anything else that parses as JSON is walked, whatever its
    declared type, because routes parse JSON from bodies of any type; a body that does not parse is left to
    the route, which says it is not valid JSON.
    """
    if content_type.split(";")[0].strip().lower() == _FORM:
        problem = _pairs_problem(body, "form field")
        return (URL_CODE, problem) if problem else None
    try:
        document = json.loads(body)
    except RecursionError:
        return DEPTH_CODE, f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels."
    except ValueError:
        return None
    if not any(marker in body for marker in _SUSPECT) and _within_depth(document):
        return None
    found = json_problem(document)
    return ((DEPTH_CODE if found[0] == "depth" else TEXT_CODE), found[1]) if found else None


def _declares_body(scope: Scope) -> bool:
    for name, value in scope.get("headers") or ():
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() not in (b"", b"0")):
            return True
    return False


async def _refuse(scope: Scope, receive: Receive, send: Send, code: str, message: str) -> None:
    """The 400: Atlan's JSON error, or the page the app's error hook makes of it for a browser on a UI page."""
    page = getattr(getattr(scope.get("app"), "state", None), "error_page", None)
    answer = await run_in_threadpool(page, Request(scope), 400, message) if page is not None else None
    if answer is not None:
        await answer(scope, receive, send)
    else:
        await send_error(send, 400, code, message)


class RequestHygiene:
    """Answer 400 before routing for a NUL, bad UTF-8, a lone surrogate or too deep a JSON body.

    A body is read whole (BodySizeLimit, outside this middleware, bounds it), checked once, and handed on
    to the app unchanged.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if problem := url_problem(scope):
            await _refuse(scope, receive, send, URL_CODE, problem)
            return
        if not _declares_body(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client is gone: there is no one to answer
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        content_type = next((value.decode("latin-1") for name, value in scope.get("headers") or ()
                             if name == b"content-type"), "")
        # A large body takes milliseconds to parse and walk: off the event loop, other requests go on meanwhile.
        found = (await run_in_threadpool(body_problem, body, content_type) if len(body) > _INLINE_BYTES
                 else body_problem(body, content_type))
        if found:
            await _refuse(scope, receive, send, *found)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body, only the disconnect remains to wait for
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
