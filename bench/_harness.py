"""What the benchmarks of bench/ share: real local processes, CPU read from /proc, PostgreSQL scratch schemas,
the search request mix and a lean keep-alive client that loads the search API.

Imported by bench/scale.py, bench/load.py, bench/crawl.py and bench/remote_crawl.py (run them from the
repository root; the scripts' folder is on sys.path, so `import _harness` finds this file). Nothing here asserts a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import httpx
import redis
import sqlalchemy as sa
from botocore.config import Config
from botocore.exceptions import ClientError

from gazetteer.client import GlueCrawler
from gazetteer.devtools.processes import GazetteerProcess, ServerProcess
from gazetteer.devtools.scratch_schema import scratch_schema
from gazetteer.packages.glue.mapping import needs_partition_count, statistics_columns
from gazetteer.packages.glue.partitions import newest_of
from gazetteer.workflows.models import runs

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ADMIN_TOKEN = f"gzt-bench-admin-{secrets.token_urlsafe(12)}"
FINISHED = ("Succeeded", "Failed", "Error")
TICKS = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------- processes

class Processes:
    """Every process this bench started; `stop_all` (in a finally) stops those still alive. One interrupted
    while it starts (Ctrl-C) stops itself: GazetteerProcess kills its child when it is not made ready."""

    def __init__(self) -> None:
        self.started: list[GazetteerProcess] = []

    def start(self, kind: type[GazetteerProcess], *args, **kwargs) -> GazetteerProcess:
        process = kind(*args, **kwargs)
        self.started.append(process)
        return process

    def start_many(self, count: int, kind: type[GazetteerProcess], make_args) -> list[GazetteerProcess]:
        """Start `count` processes at once (a worker takes seconds to be ready)."""
        with ThreadPoolExecutor(count) as pool:
            futures = [pool.submit(self.start, kind, *make_args(i)) for i in range(count)]
        return [future.result() for future in futures]

    def stop(self, processes: list[GazetteerProcess]) -> None:
        """SIGTERM them all at once, then wait for each (a clean shutdown), killing one that takes over a minute."""
        for process in processes:
            if process.alive:
                process.process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.process.kill()
                process.process.wait(timeout=10)
            process.stop()  # closes its log

    def stop_all(self) -> None:
        alive = [p for p in self.started if not p._log.closed]  # noqa: SLF001 - closed once stopped
        try:
            self.stop(alive)
        except Exception:  # noqa: BLE001 - last resort: nothing of ours may outlive the bench
            for process in alive:
                if process.alive:
                    process.process.kill()


@contextlib.contextmanager
def postgres_schema(admin_url: str, label: str) -> Iterator[str]:
    """A fresh PostgreSQL schema (dropped afterwards); yields the URL whose search_path is that schema."""
    # application_name: which PostgreSQL backends serve the bench (their CPU is measured)
    with scratch_schema(admin_url, f"gz_bench_{label}", application_name="{schema}") as url:
        yield url




@contextlib.contextmanager
def redis_database(url: str) -> Iterator[str]:
    """The bench's Redis database, emptied at the start and at the end.

    Refused when another client is connected to it: the test sessions hand out databases 1..15 and skip one
    with clients connected, so this bench keeps a connection open on it until it has emptied it at the end.
    """
    client = redis.Redis.from_url(url)
    database = int(client.connection_pool.connection_kwargs.get("db", 0))
    client.ping()  # this connection stays open (the pool keeps it) for the whole part
    me = client.client_id()
    others = [c for c in client.client_list() if int(c.get("db", 0)) == database and int(c["id"]) != me]
    if others:
        client.close()
        raise SystemExit(f"Redis database {database} of {url} is in use ({len(others)} other client(s) connected, "
                         f"e.g. {others[0].get('addr')}): give the bench a free one with --redis-url")
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


# ---------------------------------------------------------------------------------------------------- CPU


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes and their descendants so far (ended descendants too, once
    their parent reaped them: a parent's cutime/cstime)."""
    total, seen, todo = 0, set(), list(pids)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
        except (OSError, IndexError, ValueError):
            continue
        todo += children(pid)
    return total / TICKS


class PostgresBackends:
    """The PostgreSQL backends serving the bench's connections to `url` (its application_name names the
    schema), for `CpuWindow`: the server is local, its backends are processes of this machine."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.name = sa.make_url(url).query["application_name"]

    def __call__(self) -> list[int]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.text(
                "SELECT pid FROM pg_stat_activity WHERE application_name = :name AND pid <> pg_backend_pid()"),
                {"name": self.name}).scalars())


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICKS, sum(values[:8]) / TICKS


def backend_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each of these processes (no descendants)."""
    out = {}
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return out


class CpuWindow:
    """CPU used, in cores (CPU seconds per wall second), by groups of processes and the whole machine.

    A group is a list of pids (the processes and their descendants) or a callable that lists the pids of the
    moment (PostgreSQL backends: one born in the window counts from zero, one gone before its end is missed).
    """

    def __init__(self, groups: dict[str, list[int] | PostgresBackends]) -> None:
        self.groups = groups
        self.start = {name: backend_seconds(pids()) if callable(pids) else cpu_seconds(pids)
                      for name, pids in groups.items()}
        self.bench = time.process_time()
        self.machine = machine_busy()
        self.wall = time.perf_counter()

    def _used(self, name: str) -> float:
        pids, start = self.groups[name], self.start[name]
        if callable(pids):
            return sum(seconds - start.get(pid, 0.0) for pid, seconds in backend_seconds(pids()).items())
        return cpu_seconds(pids) - start

    def cores(self) -> dict[str, float]:
        wall = self.elapsed = time.perf_counter() - self.wall
        out = {name: self._used(name) / wall for name in self.groups}
        out["bench (clients)"] = (time.process_time() - self.bench) / wall
        busy, total = machine_busy()
        out["machine"] = (busy - self.machine[0]) / wall
        out["machine_cores"] = (total - self.machine[1]) / wall
        return {name: round(value, 2) for name, value in out.items()}


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))] if ordered else float("nan")



# ------------------------------------------------------------------------------------------------- search

# Words of the synthetic catalog (glue_synthetic): column names (any table of 8 columns or more has them all)
# and the tables' descriptions ("Synthetic benchmark table t_00042 in bench_db_003").
WORDS = ("customer", "amount", "created", "active", "score", "event", "quantity", "synthetic", "benchmark", "date")


def search_bodies(engine, count: int, seed: int = 5) -> list[tuple[str, dict]]:
    """`count` request bodies, the three kinds in turn, their inputs drawn from the crawled catalog."""
    with engine.connect() as conn:
        tables = conn.execute(sa.text("SELECT qualified_name FROM assets WHERE type_name = 'Table'")).scalars().all()
    rng = random.Random(seed)
    active = {"term": {"__state": "ACTIVE"}}
    facets = {"types": {"terms": {"field": "__typeName.keyword"}},
              "schemas": {"terms": {"field": "schemaQualifiedName", "size": 10}}}
    attributes = ["name", "qualifiedName", "description", "userDescription", "certificateStatus", "ownerUsers"]
    bodies = []
    for i in range(count):
        kind = i % 3
        if kind == 0:  # the UI's / FluentSearch's ranked full text, as in bench/search.py
            text = rng.choice(WORDS) if i % 2 else f"{rng.choice(WORDS)} {rng.choice(WORDS)[:4]}"
            bodies.append(("full text", {"dsl": {"from": 0, "size": 25, "query": {"bool": {
                "must": [{"multi_match": {"query": text}}], "filter": [active]}}}, "attributes": attributes}))
        elif kind == 1:  # a table's columns, pyatlan's default sort by __guid
            of_table = {"prefix": {"qualifiedName": rng.choice(tables) + "/"}}
            bodies.append(("table's columns", {"dsl": {"from": 0, "size": 25, "sort": [{"__guid": {"order": "asc"}}],
                                                       "query": {"bool": {"filter": [active, of_table]}}},
                                               "attributes": attributes}))
        else:  # browsing tables with facets, a random page
            page = 25 * rng.randrange(max(1, len(tables) // 25))
            bodies.append(("tables + 2 facets", {"dsl": {"from": page, "size": 25, "aggregations": facets,
                                                         "query": {"bool": {"filter": [
                                                             active, {"term": {"__typeName.keyword": "Table"}}]}}},
                                                 "attributes": attributes}))
    return bodies


class RawClient:
    """One keep-alive HTTP/1.1 connection, POSTing prepared requests (a lean client: the cores are shared)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, request: bytes) -> tuple[int, bytes]:
        for attempt in (0, 1):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            try:
                self.writer.write(request)
                status_line = await self.reader.readline()
                if not status_line:
                    raise ConnectionResetError("closed")
                status, length, close = int(status_line.split(b" ", 2)[1]), None, False
                while (line := await self.reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"connection" and value.strip().lower() == b"close":
                        close = True
                if length is None:
                    raise RuntimeError("the answer has no Content-Length")
                body = await self.reader.readexactly(length)
                if close:
                    await self.close()
                return status, body
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None



class Phase:
    """The answers to the requests sent while a phase lasted (a request counts in the phase it was sent in)."""

    def __init__(self, name: str, kinds: list[str]) -> None:
        self.name = name
        self.latencies: list[float] = []
        self.by_kind: dict[str, list[float]] = {kind: [] for kind in kinds}
        self.by_client: dict[int, list[float]] = {}
        self.errors: list[str] = []
        self.began, self.ended = time.perf_counter(), None

    def record(self, client: int, kind: str, elapsed: float) -> None:
        self.latencies.append(elapsed)
        self.by_kind[kind].append(elapsed)
        self.by_client.setdefault(client, []).append(elapsed)

    @property
    def seconds(self) -> float:
        return (self.ended or time.perf_counter()) - self.began

    def summary(self) -> dict:
        """requests, errors, req/s, p50/p95/max in ms, overall and by query kind."""
        return {"requests": len(self.latencies), "errors": len(self.errors), "seconds": round(self.seconds, 2),
                "rps": round(len(self.latencies) / self.seconds, 1), **latency_ms(self.latencies),
                "by_kind": {kind: latency_ms(values) for kind, values in self.by_kind.items()}}


def latency_ms(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(values, 0.5) * 1000, 1), "p95_ms": round(percentile(values, 0.95) * 1000, 1),
            "max_ms": round(max(values, default=float("nan")) * 1000, 1)}


class SearchLoad:
    """`clients` concurrent keep-alive connections POSTing `bodies` in turn to /api/meta/search/indexsearch,
    each answer recorded into the phase of the moment (none: not recorded). Every non-200 answer and every
    connection error counts as an error (in `errors`, and in its phase); the client then carries on.

    `client_kind` "raw" is `RawClient`, ~0.3 ms of CPU a request; "httpx" is httpx.AsyncClient, ~8 ms: on a
    machine of 2 cores the clients share with the servers, that would be measuring the client."""

    def __init__(self, url: str, token: str, bodies: list[tuple[str, dict]], clients: int,
                 client_kind: str = "raw", think: float = 0.0) -> None:
        self.url, self.bodies, self.clients, self.client_kind = url, bodies, clients, client_kind
        self.think = think  # mean seconds a client waits between an answer and its next request (0: none)
        self.random = random.Random(7)
        self.to_reconnect: set[int] = set()
        self.host, port = url.removeprefix("http://").split(":")
        self.port = int(port)
        self.kinds = list(dict.fromkeys(kind for kind, _ in bodies))
        self.encoded = [json.dumps(body).encode() for _, body in bodies]
        self.raw = [(f"POST /api/meta/search/indexsearch HTTP/1.1\r\nHost: {url.removeprefix('http://')}\r\n"
                     f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(b)}\r\n\r\n").encode() + b for b in self.encoded]
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.next_body = itertools.count()
        self.phase: Phase | None = None
        self.errors: list[str] = []
        self.found: set[str] = set()
        self.connections: dict[int, RawClient] = {}
        self.stopping = False
        self.tasks: list[asyncio.Task] = []
        self.shared: httpx.AsyncClient | None = None

    def measure(self, name: str | None) -> Phase | None:
        """End the current phase and start `name` (None: stop recording); returns the new phase."""
        if self.phase is not None:
            self.phase.ended = time.perf_counter()
        self.phase = Phase(name, self.kinds) if name is not None else None
        return self.phase

    def start(self, over_seconds: float) -> None:
        """Connect the clients one after another over `over_seconds`, not in one burst: uvicorn's processes share
        one listening socket, and the first to wake accepts a whole burst (a keep-alive connection then stays
        with its process for good)."""
        if self.client_kind == "httpx":
            self.shared = httpx.AsyncClient(base_url=self.url, headers=self.headers, timeout=60, limits=httpx.Limits(
                max_connections=self.clients, max_keepalive_connections=self.clients))
        stagger = over_seconds / self.clients
        self.tasks = [asyncio.create_task(self._client(i, i * stagger)) for i in range(self.clients)]

    async def stop(self) -> None:
        self.measure(None)
        self.stopping = True
        done, pending = await asyncio.wait(self.tasks, timeout=60)
        for task in pending:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for connection in self.connections.values():
            await connection.close()
        if self.shared is not None:
            await self.shared.aclose()

    def reconnect(self, client: int) -> None:
        """Have the client open a new connection before its next request (never in the middle of one)."""
        self.to_reconnect.add(client)

    def local_ports(self) -> dict[int, int]:
        """client index -> the local port of its connection (raw clients only), to tell which process serves it."""
        return {i: c.writer.get_extra_info("sockname")[1] for i, c in self.connections.items() if c.writer}

    async def _post(self, client: int, i: int) -> tuple[int, bytes]:
        if self.shared is not None:
            answer = await self.shared.post("/api/meta/search/indexsearch", content=self.encoded[i])
            return answer.status_code, answer.content
        return await asyncio.wait_for(self.connections[client].post(self.raw[i]), 120)

    async def _client(self, client: int, delay: float) -> None:
        if self.shared is None:
            self.connections[client] = RawClient(self.host, self.port)
        await asyncio.sleep(delay)
        while not self.stopping:
            if client in self.to_reconnect:
                self.to_reconnect.discard(client)
                await self.connections[client].close()
            i = next(self.next_body) % len(self.bodies)
            kind, phase = self.bodies[i][0], self.phase
            began = time.perf_counter()
            try:
                status, body = await self._post(client, i)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, RuntimeError, ValueError,
                    httpx.HTTPError) as error:
                status, body = None, f"{type(error).__name__}: {error}".encode()
                if self.shared is None:
                    await self.connections[client].close()  # the next request reconnects
            elapsed = time.perf_counter() - began
            if status != 200:
                error = f"{kind}: {status or 'connection error'}: {body[:300]!r}"
                self.errors.append(error)
                if phase is not None:
                    phase.errors.append(error)
                continue
            if kind not in self.found and b'"entities"' in body:
                self.found.add(kind)
            if phase is not None:
                phase.record(client, kind, elapsed)
            if self.think:  # exponential: the clients do not fall into step
                await asyncio.sleep(self.random.expovariate(1 / self.think))

    def check(self) -> None:
        """Exit if any request failed, or a kind of search never found anything (a wrong catalog)."""
        if self.errors:
            raise SystemExit(f"{len(self.errors)} search requests failed, e.g. {self.errors[:3]}")
        if set(self.kinds) - self.found:
            raise SystemExit(f"these searches never found an asset: {sorted(set(self.kinds) - self.found)}")


def children(pid: int) -> list[int]:
    """The direct children of a process (every thread's)."""
    out = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                out += [int(c) for c in (task / "children").read_text().split()]
    return out


def connection_owners(server: ServerProcess) -> dict[int, int]:
    """The established connections to the server's port: the client's port -> the pid of the API process holding
    it (uvicorn's processes share one listening socket: a keep-alive connection stays with the one that
    accepted it)."""
    port_hex = f":{server.port:04X}"
    remote_port = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(port_hex) and fields[3] == "01":  # 01: ESTABLISHED
            remote_port[fields[9]] = int(fields[2].rsplit(":", 1)[1], 16)  # inode -> the client's port
    owners = {}
    for pid in [server.process.pid, *children(server.process.pid)]:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:[") and target[8:-1] in remote_port:
                        owners[remote_port[target[8:-1]]] = pid
    return owners


def connections_per_process(server: ServerProcess) -> list[int]:
    """How many established connections each API process holds, most first."""
    counts: dict[int, int] = {}
    for pid in connection_owners(server).values():
        counts[pid] = counts.get(pid, 0) + 1
    return sorted(counts.values(), reverse=True)


def start_server(processes: Processes, env: dict, log: Path, workers: int) -> ServerProcess:
    """`gazetteer serve --workers N`, once all N API processes are up (/health is answered by the first one: the
    clients' connections would all go to it)."""
    server = processes.start(ServerProcess, env, log, workers=workers)
    deadline = time.monotonic() + 120
    while server.log().count("Application startup complete") < workers:
        if time.monotonic() > deadline:
            raise SystemExit(f"not all {workers} API processes started:\n{server.log()[-3000:]}")
        time.sleep(0.1)
    return server


def create_token(env: dict, name: str) -> str:
    """An admin API token (what pyatlan sends), made with the CLI (which also migrates the catalog)."""
    return subprocess.run([sys.executable, "-m", "gazetteer.cli", "token", "create", "--name", name, "--role",
                           "$admin"], env=env, capture_output=True, text=True, check=True, timeout=120).stdout.strip()


def unwind_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, through every finally: no process or schema outlives the bench."""

    def interrupted(signum, frame) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)


# ------------------------------------------------------------------------------------------------- crawls


def create_crawl(http: httpx.Client, epoch: int, connection_name: str, region: str) -> str:
    """Create (not submit) a Glue crawler workflow of a new connection crawling `region`; its name."""
    document = (GlueCrawler(epoch=epoch, connection_name=connection_name, admin_roles=["$admin"])
                .iam_user_auth(access_key="bench", secret_key="bench").direct(region=region).to_workflow())
    answer = http.post("/api/service/workflows", json=document)
    answer.raise_for_status()
    return answer.json()["metadata"]["name"]


def submit(http: httpx.Client, workflow_name: str) -> str:
    """Submit a run of the workflow; the run's name."""
    answer = http.post("/api/service/workflows/submit", json={
        "namespace": "default", "resourceKind": "WorkflowTemplate", "resourceName": workflow_name})
    answer.raise_for_status()
    return answer.json()["metadata"]["name"]


def finished_runs(engine: sa.Engine, run_names: list[str]) -> list | None:
    """The runs' rows once every one of them has ended (its finish in the database), else None."""
    query = sa.select(runs.c.name, runs.c.phase, runs.c.message, runs.c.started_at, runs.c.finished_at,
                      runs.c.worker).where(runs.c.name.in_(run_names))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return rows if len(rows) == len(run_names) and all(r.phase in FINISHED for r in rows) else None


def wait_runs(engine: sa.Engine, run_names: list[str], timeout: float) -> list:
    """Poll until every run has ended; their rows."""
    deadline = time.perf_counter() + timeout
    while (rows := finished_runs(engine, run_names)) is None:
        if time.perf_counter() > deadline:
            raise SystemExit(f"runs still going after {timeout} s: {run_names}")
        time.sleep(0.1)
    return rows


# -------------------------------------------------------------------------------------------- the Glue floor

class Counted:
    """Plain boto3 clients of a local Glue (Glue, STS, Lake Formation), whose calls are counted: the floor's
    count is compared to the crawl's. `client(operation, ...)` is a Glue call, `client.of(service)` another's."""

    def __init__(self, url: str, key: str, region: str, *, pool: int = 10) -> None:
        config = Config(retries={"mode": "standard", "max_attempts": 8}, max_pool_connections=pool)
        self.clients = {service: boto3.client(service, endpoint_url=url, region_name=region, aws_access_key_id=key,
                                              aws_secret_access_key=key, config=config)
                        for service in ("glue", "sts", "lakeformation")}
        self.calls = 0

    def __call__(self, operation: str, service: str = "glue", **params: Any) -> dict[str, Any]:
        self.calls += 1
        return getattr(self.clients[service], operation)(**params)

    def pages(self, operation: str, key: str, **params: Any) -> Iterator[list[dict[str, Any]]]:
        token = None
        while True:
            answer = self(operation, **params, **({"NextToken": token} if token else {}))
            yield answer.get(key, [])
            if not (token := answer.get("NextToken")):
                return


def sequential_read(client: Counted, *, tags: bool = False, progress: Callable[[str], None] = lambda _: None,
                    seconds: dict[str, float] | None = None) -> dict[str, int]:
    """The floor of a crawl: one after another, the calls `GlueReader` makes in a crawl, with the same
    parameters (so the same listings); only a table of more than 1,000 partitions is paged instead of read in
    segments. With `tags`, also what a crawl reading tags asks: the account once (for the ARNs), whether any
    LF-tag is defined once, and each database's Glue tags (a catalog without LF-tags, as the synthetic one, asks
    no resource for them). How many databases, tables and partitions it found; the seconds each database took go
    into `seconds`."""
    found = {"databases": 0, "tables": 0, "partitions": 0}
    databases = [db for page in client.pages("get_databases", "DatabaseList", MaxResults=100,
                                            ResourceShareType="ALL") for db in page]
    if tags:
        account = client("get_caller_identity", "sts")["Account"]
        if client("list_lf_tags", "lakeformation", ResourceShareType="ALL", MaxResults=1).get("LFTags"):
            raise SystemExit("the floor does not read LF-tags resource by resource: seed a catalog without any")
    for database in databases:
        name = database["Name"]
        found["databases"] += 1
        progress(f"{name}: {found['tables']} tables read so far")
        started = time.perf_counter()
        if tags:
            client("get_tags", ResourceArn=f"arn:aws:glue:{client.clients['glue'].meta.region_name}:{account}:"
                                           f"database/{name}")
        for page in client.pages("get_tables", "TableList", DatabaseName=name, MaxResults=100):
            for table in page:
                found["tables"] += 1
                if needs_partition_count(table):
                    entries = [entry for part in client.pages(
                        "get_partitions", "Partitions", DatabaseName=name, TableName=table["Name"],
                        MaxResults=1000, ExcludeColumnSchema=True) for entry in part]
                    count, newest = newest_of(entries)
                    found["partitions"] += count
                    if newest:
                        client("batch_get_partition", DatabaseName=name, TableName=table["Name"],
                               PartitionsToGet=[{"Values": list(p.values)} for p in newest])
                columns = statistics_columns(table)
                for start in range(0, len(columns), 100):
                    try:
                        client("get_column_statistics_for_table", DatabaseName=name, TableName=table["Name"],
                               ColumnNames=columns[start:start + 100])
                    except ClientError as error:
                        if error.response["Error"]["Code"] != "EntityNotFoundException":
                            raise
                        break  # what GlueReader.column_statistics does: this table has none
        if seconds is not None:
            seconds[name] = time.perf_counter() - started
    return found
