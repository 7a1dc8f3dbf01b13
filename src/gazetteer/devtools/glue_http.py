"""Wire-level helpers for the local Glue endpoint: Glue's JSON error format and raw WSGI plumbing."""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from xml.sax.saxutils import escape

JSON_CONTENT_TYPE = "application/x-amz-json-1.1"


class ErrorAnswer(Exception):
    """What the local endpoint answers for a call AWS would refuse: its HTTP status, error code and message
    (rendered by ``glue_error``)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def status_line(status: int) -> str:
    """WSGI's status line for an HTTP status, with its standard phrase ("Error" for a code without one)."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Error"

def glue_error(status: int, code: str, message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """Build (status line, headers, body) of an error the way Glue sends it.

    botocore reads the code from ``x-amzn-ErrorType`` or ``__type``; both are set so that any parser
    version agrees.
    """
    body = json.dumps({"__type": code, "Message": message}).encode()
    headers = [
        ("Content-Type", JSON_CONTENT_TYPE),
        ("x-amzn-ErrorType", code),
        ("x-amzn-RequestId", "local-glue-fault"),
        ("Content-Length", str(len(body))),
    ]
    return status_line(status), headers, body


def sts_error(status: int, code: str, message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """(status line, headers, body) of an error the way STS (an XML query-protocol service) sends it."""
    body = (f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
            "<RequestId>local-glue-fault</RequestId></ErrorResponse>").encode()
    return status_line(status), [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))], body


def signed_by(environ: dict[str, Any]) -> tuple[str, str]:
    """(access key id, service) from the SigV4 Authorization header; empty strings when unsigned."""
    parts = _credential(environ)
    return (parts[0] if parts else ""), (parts[3] if len(parts) > 3 else "")


def read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body and put it back, so moto can read it again."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw: bytes
    if length > 0:
        raw = stream.read(length)
    elif environ.get("wsgi.input_terminated"):
        raw = stream.read()  # chunked upload: werkzeug ends the stream for us
    else:
        raw = b""
    environ["wsgi.input"] = io.BytesIO(raw)
    environ["CONTENT_LENGTH"] = str(len(raw))
    return raw


def _credential(environ: dict[str, Any]) -> list[str]:
    """The SigV4 credential of the Authorization header: [access key id, date, region, service, ...]."""
    auth = str(environ.get("HTTP_AUTHORIZATION", ""))
    if "Credential=" not in auth:
        return []
    return auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")


def credential_scope(environ: dict[str, Any]) -> str:
    """'AKID/region' from the SigV4 Authorization header: moto keys its backends by account and region."""
    parts = _credential(environ)
    if not parts:
        return ""
    return f"{parts[0]}/{parts[2]}" if len(parts) > 2 else parts[0]


def region_of(environ: dict[str, Any]) -> str | None:
    scope = credential_scope(environ)
    return scope.split("/", 1)[1] if "/" in scope else None


def drop_connection(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Close the TCP connection without an answer, as a dying load balancer would."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    # werkzeug's attempt to write this then fails with a broken pipe, which it handles quietly.
    start_response("500 Internal Server Error", [("Content-Length", "0")])
    return [b""]


def json_response(start_response: Callable[..., Any], status: str, data: Any,
                  content_type: str = "application/json") -> Iterable[bytes]:
    payload = json.dumps(data, default=str).encode()
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(payload)))])
    return [payload]
