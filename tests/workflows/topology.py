"""A scaled-out Gazetteer for tests: K API processes and M Celery workers over one PostgreSQL schema and one
Redis database, the way a deployment runs it (used by tests/workflows/test_scale_out.py).

Fixtures (import them into the test module that uses them):

- `redis_url`: a Redis database of this test's own. Several test sessions may run on one machine at once
  (other people's, CI's): each test takes the next of databases 1..14 with an atomic INCR on a counter in
  database 0 (passing over any database another client is connected to), and empties it before and after,
  so that no two concurrent tests share a queue.
- `start_topology`: start servers and workers over a fresh PostgreSQL schema and `redis_url`, crawling the
  local Glue; all of it stops at the end of the test.
- `shared_topology`: one topology (servers A and B, workers 1 and 2) for a whole test module, over a schema and
  a Redis database of its own. Starting four Python processes takes ~10 s on a small machine, so the tests that
  leave the processes as they found them share one; each of them works on its own workflows and connections.
"""

from __future__ import annotations

import contextlib
import os
import socket
import string
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import sqlalchemy as sa

from gazetteer.devtools.local_glue import endpoint_env
from gazetteer.devtools.processes import WorkerProcess, clean_env
from gazetteer.devtools.scratch_schema import scratch_schema
from gazetteer.store import open_engine
from tests.conftest import POSTGRES_SKIP, POSTGRES_URL, Server

__all__ = ["HOUSEKEEPING_SECONDS", "LEASE_SECONDS", "Topology", "redis_url", "shared_topology", "start_topology"]

REDIS_URL = os.environ.get("GAZETTEER_TEST_REDIS_URL")
REDIS_SKIP = (
    "Redis tests are off: set GAZETTEER_TEST_REDIS_URL=redis://HOST:6379/0 (.ci/run sets it to the machine's "
    "server); each test then uses a database of its own among 1..14"
)
REDIS_COUNTER = "gazetteer-tests:next-database"
REDIS_DATABASES = 14  # databases 1..14 are handed out; 0 holds only the counter, 15 is the benches'

# Short enough that the scale-out tests take a couple of minutes, long enough that a busy machine (2 CPUs,
# other sessions) never lets a healthy worker's lease lapse: it is renewed every lease / 6 = 1 s.
LEASE_SECONDS = 6.0
HOUSEKEEPING_SECONDS = 0.5
SECRET_KEY = "gazetteer-scale-out-tests-vault-key-0123456789"


def _with_database(url: str, index: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{index}", parts.query, parts.fragment))


@contextlib.contextmanager
def redis_database() -> Iterator[str]:
    """An empty Redis database that no concurrent test uses; emptied again afterwards."""
    if not REDIS_URL:
        pytest.skip(REDIS_SKIP)
    import redis

    counter = redis.Redis.from_url(_with_database(REDIS_URL, 0))
    try:
        for _ in range(REDIS_DATABASES):
            index = int(counter.incr(REDIS_COUNTER)) % REDIS_DATABASES + 1
            # Processes that did not take their database from the counter (a bench, someone's server left
            # running) may be on it: never share, nor empty, a database another client is connected to.
            if not any(int(client.get("db", 0)) == index for client in counter.client_list()):
                break
        else:
            pytest.skip(f"Redis databases 1..{REDIS_DATABASES} all have clients connected: no free one")
    finally:
        counter.close()
    url = _with_database(REDIS_URL, index)
    mine = redis.Redis.from_url(url)
    mine.flushdb()
    try:
        yield url
    finally:
        mine.flushdb()
        mine.close()


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a fresh PostgreSQL schema, dropped afterwards (conftest's `postgres_url`, for any scope)."""
    if not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP)
    with scratch_schema(POSTGRES_URL) as url:
        yield url


@pytest.fixture()
def redis_url() -> Iterator[str]:
    """The URL of an empty Redis database no other test (of this or any concurrent session) uses now."""
    with redis_database() as url:
        yield url


class Topology:
    """Servers A, B, ... and workers 1, 2, ... sharing one database, one broker and one vault key.

    Each process has a home of its own (its log lives there); the vault key is the explicit
    GAZETTEER_SECRET_KEY they all share, as a deployment over several machines sets it.
    """

    def __init__(self, root: Path, *, database_url: str, broker_url: str, glue_url: str, servers: int = 2,
                 workers: int = 2, concurrency: int = 2, extra_env: dict[str, str] | None = None) -> None:
        self.root, self.database_url, self.broker_url, self.glue_url = root, database_url, broker_url, glue_url
        self.lease_seconds, self.housekeeping_seconds = LEASE_SECONDS, HOUSEKEEPING_SECONDS
        self.shared = {
            "GAZETTEER_SECRET_KEY": SECRET_KEY,
            "GAZETTEER_BROKER_URL": broker_url,
            "GAZETTEER_RUN_LEASE_SECONDS": str(LEASE_SECONDS),
            "GAZETTEER_HOUSEKEEPING_SECONDS": str(HOUSEKEEPING_SECONDS),
            **(extra_env or {}),
        }
        self.servers: list[Server] = []
        self.workers: list[WorkerProcess] = []
        self._engine: sa.Engine | None = None
        try:
            # The first process migrates the schema alone; the others then start side by side.
            self.servers.append(self._server(0))
            with ThreadPoolExecutor(servers + workers) as pool:
                more_servers = [pool.submit(self._server, index) for index in range(1, servers)]
                more_workers = [pool.submit(self._worker, index, concurrency) for index in range(workers)]
            # Keep every process that started, so that a failed start stops the others too.
            self.servers += [future.result() for future in more_servers if future.exception() is None]
            self.workers += [future.result() for future in more_workers if future.exception() is None]
            for future in [*more_servers, *more_workers]:
                if future.exception() is not None:
                    raise future.exception()
        except BaseException:
            self.stop()
            raise
        self.started_at = datetime.now(UTC)  # every process is up (and its housekeeping ticking)

    def _server(self, index: int) -> Server:
        return Server(self.root / f"server-{string.ascii_lowercase[index]}", self.glue_url, self.database_url,
                      extra_env=self.shared)

    def _worker(self, index: int, concurrency: int) -> WorkerProcess:
        home = self.root / f"worker-{index + 1}"
        env = clean_env(GAZETTEER_HOME=str(home), GAZETTEER_DATABASE_URL=self.database_url,
                        GAZETTEER_GLUE_MAX_ATTEMPTS="3", **endpoint_env(self.glue_url), **self.shared)
        return WorkerProcess(env, home / "worker.log", concurrency=concurrency)

    @property
    def a(self) -> Server:
        return self.servers[0]

    @property
    def b(self) -> Server:
        return self.servers[1]

    @property
    def engine(self) -> sa.Engine:
        """The shared catalog database, for the tests' own reads."""
        if self._engine is None:
            self._engine = open_engine(self.database_url)
        return self._engine

    @staticmethod
    def worker_name(process: WorkerProcess) -> str:
        """What the runs table's `worker` column and the logs call this worker (leases.worker_name)."""
        return f"worker@{socket.gethostname()}:{process.process.pid}"

    def worker_named(self, name: str | None) -> WorkerProcess:
        for process in self.workers:
            if self.worker_name(process) == name:
                return process
        raise AssertionError(f"{name!r} is none of the workers {[self.worker_name(w) for w in self.workers]}")

    def log_tails(self, lines: int = 15) -> str:
        """The last lines of every process's log: what a failed wait shows."""
        return "\n".join(f"--- {process.log_path.parent.name}:\n" + "\n".join(process.log().splitlines()[-lines:])
                         for process in [*self.servers, *self.workers])

    def stop(self) -> None:
        """Workers first (their runs stop at the next page and roll back), then the servers."""
        for process in [*self.workers, *self.servers]:
            process.stop()
        if self._engine is not None:
            self._engine.dispose()


@pytest.fixture()
def start_topology(glue, redis_url: str, tmp_path: Path) -> Iterator:
    """start_topology(servers=2, workers=2, concurrency=2) -> Topology over a fresh schema; stopped after."""
    with contextlib.ExitStack() as stack:
        started: list[Topology] = []

        def start(**kwargs) -> Topology:
            database_url = stack.enter_context(postgres_schema())
            started.append(Topology(tmp_path / f"topology-{len(started)}", database_url=database_url,
                                    broker_url=redis_url, glue_url=glue.url, **kwargs))
            return started[-1]

        yield start
        glue.clear_faults()  # delayed Glue calls would slow down the workers' shutdown
        for topology in started:
            topology.stop()


@pytest.fixture(scope="module")
def shared_topology(glue_server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    """One topology for the module's tests that kill nothing: servers A and B, workers 1 and 2 (2 threads)."""
    with redis_database() as broker_url, postgres_schema() as database_url:
        topology = Topology(tmp_path_factory.mktemp("shared-topology"), database_url=database_url,
                            broker_url=broker_url, glue_url=glue_server.url)
        try:
            yield topology
        finally:
            glue_server.clear_faults()
            topology.stop()
