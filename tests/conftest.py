"""Shared fixtures: a local Glue endpoint over HTTP and a real catalog store (SQLite file or PostgreSQL)."""

from __future__ import annotations

import os
import pty
import select
import sys
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from gazetteer.devtools.local_glue import LocalGlue, endpoint_env
from gazetteer.devtools.processes import ServerProcess, clean_env
from gazetteer.devtools.scratch_schema import scratch_schema
from gazetteer.packages.glue.settings import GlueSettings
from gazetteer.settings import Settings
from gazetteer.store import open_engine

POSTGRES_URL = os.environ.get("GAZETTEER_TEST_POSTGRES_URL")
POSTGRES_SKIP = (
    "PostgreSQL tests are off: set GAZETTEER_TEST_POSTGRES_URL=postgresql+psycopg://USER@HOST:PORT/DB "
    "(.ci/run sets it to the machine's server)"
)


def flat(text: str) -> str:
    """What a command printed as one line of words: without the box typer draws around a usage error, or the
    line breaks rich wraps long lines with (the assertions are about words, not layout)."""
    return " ".join(text.replace("│", " ").split())


def in_terminal(args: list[str], env: dict[str, str], *, typed: str, prompt: bytes) -> tuple[int, str]:
    """`gazetteer ARGS` in a pseudo-terminal (stdin a real terminal), typing `typed` once `prompt` shows: its exit
    code and everything the terminal showed, what it echoed of the typing included."""
    pid, terminal = pty.fork()
    if pid == 0:  # the child: the terminal is its stdin, stdout, stderr and controlling terminal
        os.execve(sys.executable, [sys.executable, "-m", "gazetteer.cli", *args], env)
    shown, sent, deadline = b"", False, time.monotonic() + 180
    while time.monotonic() < deadline:
        if not select.select([terminal], [], [], 1)[0]:
            continue
        try:
            chunk = os.read(terminal, 4096)
        except OSError:  # the child closed the terminal: it has ended
            break
        if not chunk:
            break
        shown += chunk
        # getpass turns echo off, then writes the last of the prompt: only then is typing hidden.
        if not sent and shown.rstrip(b"\r\n").endswith(prompt):
            os.write(terminal, typed.encode() + b"\n")
            sent = True
    os.close(terminal)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


@pytest.fixture(scope="session")
def glue_server() -> Iterator[LocalGlue]:
    """One moto Glue server for the session, paging two items at a time so every NextToken loop runs."""
    with LocalGlue(page_size=2) as server:
        yield server


@pytest.fixture()
def glue(glue_server: LocalGlue, monkeypatch: pytest.MonkeyPatch) -> LocalGlue:
    """The local Glue, emptied, with boto3 pointed at it through the standard endpoint variable."""
    glue_server.reset()
    for name, value in endpoint_env(glue_server.url).items():  # Glue, and STS and Lake Formation: moto answers all
        monkeypatch.setenv(name, value)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return glue_server


@pytest.fixture()
def cli_env(glue: LocalGlue, tmp_path) -> dict[str, str]:
    """The environment of a `gazetteer` command run as a process: a SQLite catalog under tmp_path, the local Glue."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GAZETTEER_", "AWS_"))}
    env.update(GAZETTEER_HOME=str(tmp_path / "home"), GAZETTEER_GLUE_MAX_ATTEMPTS="3", **endpoint_env(glue.url))
    return env


@pytest.fixture()
def settings(tmp_path) -> Settings:
    return Settings(home=tmp_path / "home")


@pytest.fixture()
def glue_settings() -> GlueSettings:
    # Few attempts with real back-off keep fault tests quick; two workers exercise the concurrency.
    return GlueSettings(max_attempts=3, workers=2)


@pytest.fixture()
def postgres_url() -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL schema (dropped afterwards)."""
    if not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP)
    with scratch_schema(POSTGRES_URL) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[sa.Engine]:
    """A fresh, migrated catalog: a SQLite file, and the same tests again on PostgreSQL."""
    url = (f"sqlite:///{tmp_path / 'catalog.db'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_url"))
    engine = open_engine(url)
    yield engine
    engine.dispose()


class Server(ServerProcess):
    """A `gazetteer serve` process on 127.0.0.1 with its own catalog home and an admin token."""

    ADMIN_TOKEN = "gzt-test-admin-token-0123456789"

    def __init__(self, home, glue_url: str | None, database_url: str | None = None,
                 extra_env: dict[str, str] | None = None, workers: int = 1) -> None:
        self.home = home
        self.database_url = database_url or f"sqlite:///{home / 'catalog.db'}"
        env = clean_env(GAZETTEER_HOME=str(home), GAZETTEER_ADMIN_TOKEN=self.ADMIN_TOKEN,
                        GAZETTEER_GLUE_MAX_ATTEMPTS="3", GAZETTEER_DATABASE_URL=self.database_url,
                        **(endpoint_env(glue_url) if glue_url else {}))
        env.update(extra_env or {})  # e.g. GAZETTEER_QUERY_TIMEOUT_SECONDS
        super().__init__(env, home / "server.log", workers=workers)

    def client(self, token: str | None = None):
        import httpx

        token = self.ADMIN_TOKEN if token is None else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@pytest.fixture()
def start_server(glue) -> Iterator:
    """Start servers over a catalog home of your choice (say, the same one twice); all stop at the end."""
    started: list[Server] = []

    def start(home, database_url: str | None = None, glue_url: str | None = None,
              extra_env: dict[str, str] | None = None) -> Server:
        started.append(Server(home, glue_url or glue.url, database_url, extra_env))
        return started[-1]

    yield start
    for running in started:
        running.stop()


@pytest.fixture()
def server(start_server, tmp_path) -> Server:
    """A live server over a fresh SQLite catalog, crawling the local Glue."""
    return start_server(tmp_path / "server-home")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_server(request: pytest.FixtureRequest, start_server, tmp_path) -> Server:
    """A live server over SQLite, and again over PostgreSQL."""
    url = None if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    return start_server(tmp_path / "server-home", url)
