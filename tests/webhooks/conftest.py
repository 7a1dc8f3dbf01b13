"""Webhook test parts: real HTTP receivers on 127.0.0.1 (ThreadingHTTPServer in a thread, recording what they
are sent) and servers whose dispatcher polls and retries quickly."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gazetteer.devtools.processes import free_port

# Quick polls and retries, a short timeout: a test sees an outcome within a second or two.
FAST = {"GAZETTEER_WEBHOOK_POLL_SECONDS": "0.1", "GAZETTEER_WEBHOOK_RETRY_SECONDS": "0.2",
        "GAZETTEER_WEBHOOK_TIMEOUT_SECONDS": "2", "GAZETTEER_WEBHOOK_MAX_ATTEMPTS": "3",
        "GAZETTEER_PUBLIC_URL": "https://catalog.example.com"}


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]  # lower-case names
    body: bytes
    at: float

    def json(self):
        return json.loads(self.body)

    @property
    def key(self) -> str:
        return self.headers["x-gazetteer-delivery"]


@dataclass
class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records every POST and answers `statuses` in turn (then `status`),
    after `delay` seconds. `stop()` closes the port (connection refused); `start()` opens it again."""

    port: int = 0
    status: int = 200
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.port = self.port or free_port()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.in_flight = self.most_in_flight = 0  # requests being answered at once

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _answer(self) -> int:
        with self._lock:
            return self.statuses.pop(0) if self.statuses else self.status

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the standard library's name
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver._lock:
                    receiver.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body,
                                                      time.monotonic()))
                    receiver.in_flight += 1
                    receiver.most_in_flight = max(receiver.most_in_flight, receiver.in_flight)
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver._lock:
                    receiver.in_flight -= 1
                status = receiver._answer()
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False  # a slow handler still sleeping does not hold up the test's end
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True, name=f"receiver-{self.port}").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                seen = list(self.received)
            if predicate(seen):
                return seen
            time.sleep(0.05)
        raise AssertionError(f"the receiver did not get what was expected in {timeout} s; it got "
                             f"{[(r.headers.get('x-gazetteer-event'), r.key) for r in self.received]}")

    def of_kind(self, kind: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.headers.get("x-gazetteer-event") == kind]


@pytest.fixture()
def receivers() -> Iterator[Callable[..., Receiver]]:
    """Make receivers (started unless `started=False`); all stop at the end."""
    made: list[Receiver] = []

    def make(started: bool = True, **options) -> Receiver:
        made.append(Receiver(**options))
        return made[-1].start() if started else made[-1]

    yield make
    for receiver in made:
        receiver.stop()


@pytest.fixture()
def receiver(receivers) -> Receiver:
    return receivers()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def hook_server(request: pytest.FixtureRequest, start_server, tmp_path):
    """A live server whose dispatcher polls and retries quickly (FAST), over SQLite and over PostgreSQL."""
    url = None if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    return start_server(tmp_path / "server-home", url, extra_env=FAST)


def wait_status(http, guid: str, status: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = http.get(f"/api/service/webhooks/{guid}/deliveries").json()
        if log["deliveries"] and all(d["status"] == status for d in log["deliveries"]):
            return log
        time.sleep(0.1)
    raise AssertionError(f"deliveries of {guid} did not all become {status}: {log}")
