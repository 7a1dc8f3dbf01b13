"""Scale benchmark: workflow runs per minute against Celery workers, search requests per second against API processes.

    python bench/scale.py [--quick] [--repeats 2] [--only runs|search]
                          [--workflows 8 --databases 4 --tables 60 --columns 8 --partitions 4 --delay 0.06]
                          [--search-databases 10 --search-tables 50 --clients 32 --seconds 20]
                          [--postgres-url URL] [--redis-url redis://127.0.0.1:6379/15]

Everything runs on this machine as real processes: a local Glue (moto, in a subprocess), `gazetteer serve`,
`gazetteer worker`, over PostgreSQL (a schema of its own, dropped at the end) and Redis (one database,
flushed at the start and the end).

(1) Runs per minute vs workers. Every Glue call is delayed by `--delay` (60 ms, a distant region). Each of
    `--workflows` workflows crawls its own connection: a synthetic catalog of its own (its own region of the
    local Glue) of databases × tables × columns, a third of the tables partitioned. One API server
    (`gazetteer serve`, the broker set: it enqueues, never executes) and 1, 2 and 4 `gazetteer worker`
    processes of concurrency 1 (workers = runs at once). The workflows are created (submit=false) before
    the clock starts; then all their runs are submitted at once and timed until the last one has ended
    (the database's finish time of the last run). Every run must be Succeeded (else exit 1). Each
    measurement creates fresh workflows (new connections): every run is a first crawl.
(2) Search throughput. One catalog is crawled once (no delay) into another schema; then `gazetteer serve
    --workers 1` and `--workers 2` answer POST /api/meta/search/indexsearch to `--clients` concurrent
    keep-alive connections on loopback, a round-robin mix of three queries (ranked full text, a table's
    columns by qualifiedName prefix sorted by __guid, tables of the catalog with two facets), with an API
    token (as pyatlan sends). The clients connect one after another during the warm-up (how many connections
    each API process got is printed). They are a lean asyncio HTTP/1.1 loop, ~0.3 ms of CPU a request
    (`--client httpx` uses httpx.AsyncClient instead: ~8 ms a request, as much as the server's work); they
    share the machine's cores with the servers and PostgreSQL, so the CPU each side used is printed too.

CPU is read from /proc: the processes of each kind (their descendants included), PostgreSQL's backends
serving the bench's connections (told apart by their application_name), and the whole machine ("machine":
cores busy out of "machine_cores", other people's work included).

Each configuration is measured `--repeats` times, the order alternating (1, 2, 4 then 4, 2, 1); medians are
reported. `--quick` is a smoke run of under a minute (4 workflows of 2 × 20 tables, 1 and 2 workers, 3 s of
search load on a smaller catalog, no repeat); the full bench takes about 4 minutes. Ratios against the
smallest configuration, measured in the same run, are the result: the machines are shared and noisy, absolute
figures drift. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
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
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import redis
import sqlalchemy as sa

from gazetteer.client import GlueCrawler
from gazetteer.devtools.local_glue import LocalGlue
from gazetteer.devtools.processes import GazetteerProcess, ServerProcess, WorkerProcess, clean_env
from gazetteer.devtools.scratch_schema import scratch_schema
from gazetteer.store import open_engine
from gazetteer.workflows.models import runs

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/15"
# One region of the local Glue per workflow: each connection crawls a catalog of its own.
REGIONS = ("us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-central-1",
           "ap-south-1", "ap-northeast-1", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "sa-east-1",
           "eu-north-1", "eu-west-3", "ap-northeast-2")
SEARCH_REGION = "eu-south-1"
ADMIN_TOKEN = f"gzt-bench-admin-{secrets.token_urlsafe(12)}"
FINISHED = ("Succeeded", "Failed", "Error")
TICKS = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------- plumbing


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
            for task in Path(f"/proc/{pid}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue
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


# ---------------------------------------------------------------------------------- (1) runs per minute


def bench_runs(args, glue: LocalGlue, processes: Processes, home: Path) -> dict:
    regions = REGIONS[:args.workflows]
    started = time.perf_counter()
    seeded = [glue.seed_synthetic(region=region, databases=args.databases, tables=args.tables, columns=args.columns,
                                  partitioned_fraction=1 / 3, partitions_per_table=args.partitions)
              for region in regions]
    print(f"(1) seeded {len(regions)} catalogs of {args.databases} databases × {args.tables} tables × "
          f"{args.columns} columns ({seeded[0]['partitioned_tables']} partitioned, {args.partitions} partitions "
          f"each) in {time.perf_counter() - started:.1f} s", flush=True)
    glue.set_faults([{"operation": "*", "delay_seconds": args.delay}])
    epochs = itertools.count(1_790_000_000)
    with postgres_schema(args.postgres_url, "runs") as url, redis_database(args.redis_url) as broker:
        env = clean_env(GAZETTEER_HOME=str(home / "runs"), GAZETTEER_DATABASE_URL=url,
                        GAZETTEER_BROKER_URL=broker, GAZETTEER_SECRET_KEY=secrets.token_urlsafe(32),
                        GAZETTEER_ADMIN_TOKEN=ADMIN_TOKEN, **glue.env())
        server = processes.start(ServerProcess, env, home / "runs" / "server.log")
        engine = open_engine(url, migrate=False)
        http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=60)
        counts = [w for w in (1, 2, 4) if w <= args.max_workers]
        results: dict[int, list[dict]] = {w: [] for w in counts}
        try:
            for repeat in range(args.repeats):
                for workers in (counts if repeat % 2 == 0 else counts[::-1]):
                    label = f"{repeat}-{workers}"
                    row = measure_runs(args, glue, processes, server, http, engine, env, home, regions, workers,
                                       epochs, label)
                    results[workers].append(row)
        finally:
            http.close()
            engine.dispose()
            processes.stop([server])
    base = median([r["runs_per_minute"] for r in results[1]])
    summary = []
    print(f"\n(1) {args.workflows} runs submitted at once, {args.delay * 1000:.0f} ms per Glue call, median of "
          f"{args.repeats}:")
    print(f"{'workers':>8} {'runs/min':>9} {'× 1 worker':>10} {'wall s':>7} {'run s (median)':>15} "
          f"{'CPU s/run':>10} {'machine cores busy':>19}")
    for workers in counts:
        rows = results[workers]
        rpm = median([r["runs_per_minute"] for r in rows])
        summary.append({
            "workers": workers, "runs_per_minute": round(rpm, 1), "ratio": round(rpm / base, 2),
            "runs_per_minute_each": [r["runs_per_minute"] for r in rows],
            "seconds_each": [r["seconds"] for r in rows],
            "run_seconds_median": round(median([s for r in rows for s in r["run_seconds"]]), 2),
            "worker_cpu_s_per_run": round(median([r["worker_cpu_s_per_run"] for r in rows]), 2),
            "total_cpu_s_per_run": round(median([r["total_cpu_s_per_run"] for r in rows]), 2),
            "machine_cores_busy": [r["cpu"]["machine"] for r in rows],
            "cpu_cores": rows[len(rows) // 2]["cpu"],
        })
        print(f"{workers:>8} {rpm:>9.1f} {rpm / base:>10.2f} {median([r['seconds'] for r in rows]):>7.1f} "
              f"{summary[-1]['run_seconds_median']:>15.2f} {summary[-1]['total_cpu_s_per_run']:>10.2f} "
              f"{', '.join(f'{c:.2f}' for c in summary[-1]['machine_cores_busy']):>19}")
    return {"catalog_per_workflow": {k: seeded[0][k] for k in ("databases", "tables", "partitioned_tables",
                                                               "partitions", "columns")},
            "glue_calls_per_run": results[counts[0]][0]["glue_calls_per_run"], "results": summary}


def measure_runs(args, glue, processes, server, http, engine, env, home, regions, workers, epochs, label) -> dict:
    pool = processes.start_many(workers, WorkerProcess,
                                lambda i: (env, home / "runs" / f"worker-{label}-{i}.log"))
    try:
        names = []
        for i, region in enumerate(regions):  # created, not started: outside the timed part
            document = (GlueCrawler(epoch=next(epochs), connection_name=f"scale-{label}-{i}", admin_roles=["$admin"])
                        .iam_user_auth(access_key="bench", secret_key="bench").direct(region=region).to_workflow())
            answer = http.post("/api/service/workflows", json=document)
            answer.raise_for_status()
            names.append(answer.json()["metadata"]["name"])
        calls_before = sum(glue.request_counts().values())
        cpu = CpuWindow({"API server": [server.process.pid], "workers": [w.process.pid for w in pool],
                         "local Glue": [glue._proc.pid],  # noqa: SLF001 - its pid, for the CPU it uses
                         "PostgreSQL": PostgresBackends(env["GAZETTEER_DATABASE_URL"])})
        submitted = datetime.now(UTC)
        clock = time.perf_counter()
        run_names = []
        for name in names:
            answer = http.post("/api/service/workflows/submit", json={
                "namespace": "default", "resourceKind": "WorkflowTemplate", "resourceName": name})
            answer.raise_for_status()
            run_names.append(answer.json()["metadata"]["name"])
        query = sa.select(runs.c.name, runs.c.phase, runs.c.message, runs.c.started_at, runs.c.finished_at,
                          runs.c.worker).where(runs.c.name.in_(run_names))
        deadline = clock + args.run_timeout
        while True:
            with engine.connect() as conn:
                rows = conn.execute(query).all()
            if len(rows) == len(run_names) and all(r.phase in FINISHED for r in rows):
                break
            if time.perf_counter() > deadline:
                raise SystemExit(f"runs still going after {args.run_timeout} s: "
                                 f"{[(r.name, r.phase) for r in rows]}")
            time.sleep(0.1)
        cores = cpu.cores()
        ours = sum(v for k, v in cores.items() if not k.startswith(("machine", "bench")))
        failed = [(r.name, r.phase, r.message) for r in rows if r.phase != "Succeeded"]
        if failed:
            raise SystemExit(f"runs did not succeed: {failed}")
        seconds = (max(r.finished_at for r in rows) - submitted).total_seconds()
        row = {
            "workers": workers, "seconds": round(seconds, 2), "runs_per_minute": round(len(rows) / seconds * 60, 1),
            "run_seconds": sorted(round((r.finished_at - r.started_at).total_seconds(), 2) for r in rows),
            "first_start_s": round((min(r.started_at for r in rows) - submitted).total_seconds(), 2),
            "workers_used": len({r.worker for r in rows}),
            "glue_calls_per_run": round((sum(glue.request_counts().values()) - calls_before) / len(rows)),
            "cpu": cores,
            # CPU seconds one run costs: in the worker, and everywhere (worker, local Glue, PostgreSQL, server)
            "worker_cpu_s_per_run": round(cores["workers"] * cpu.elapsed / len(rows), 2),
            "total_cpu_s_per_run": round(ours * cpu.elapsed / len(rows), 2),
        }
        print(f"  {workers} worker(s): {len(rows)} runs in {seconds:6.2f} s = {row['runs_per_minute']:5.1f} runs/min; "
              f"each run {min(row['run_seconds']):.2f}–{max(row['run_seconds']):.2f} s on {row['workers_used']} "
              f"worker(s), first started after {row['first_start_s']:.2f} s; CPU s per run: "
              f"{row['worker_cpu_s_per_run']} in the worker, {row['total_cpu_s_per_run']} in all\n"
              f"      CPU cores: {cores}", flush=True)
        return row
    finally:
        processes.stop(pool)


# ------------------------------------------------------------------------------------- (2) search throughput

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


async def load(url: str, token: str, bodies: list[tuple[str, dict]], clients: int, warmup: float, seconds: float,
               client_kind: str, on_measure, probe) -> dict:
    """`clients` concurrent connections sending `bodies` in turn: warm-up, then `seconds` measured."""
    host, port = url.removeprefix("http://").split(":")
    encoded = [json.dumps(body).encode() for _, body in bodies]
    raw = [(f"POST /api/meta/search/indexsearch HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(b)}\r\n\r\n").encode() + b for b in encoded]
    next_body = itertools.count()
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {kind: [] for kind, _ in bodies}
    errors: list[str] = []
    found: set[str] = set()
    state = {"measuring": False, "stop": False}
    shared = (httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}",
                                                       "Content-Type": "application/json"}, timeout=60,
                                limits=httpx.Limits(max_connections=clients, max_keepalive_connections=clients))
              if client_kind == "httpx" else None)

    async def client(delay: float) -> None:
        connection = RawClient(host, int(port)) if shared is None else None
        await asyncio.sleep(delay)
        try:
            while not state["stop"]:
                i = next(next_body) % len(bodies)
                began = time.perf_counter()
                if shared is None:
                    status, body = await connection.post(raw[i])
                else:
                    answer = await shared.post("/api/meta/search/indexsearch", content=encoded[i])
                    status, body = answer.status_code, answer.content
                elapsed = time.perf_counter() - began
                if status != 200:
                    errors.append(f"{status}: {body[:300]!r}")
                    continue
                kind = bodies[i][0]
                if kind not in found and b'"entities"' in body:
                    found.add(kind)
                if state["measuring"]:
                    latencies.append(elapsed)
                    by_kind[kind].append(elapsed)
        finally:
            if connection is not None:
                await connection.close()

    # Clients arrive one after another over the first half of the warm-up, not in one burst: uvicorn's processes
    # share one listening socket, and the first to wake accepts a whole burst (a keep-alive connection then stays
    # with its process for good).
    stagger = warmup / 2 / clients
    tasks = [asyncio.create_task(client(i * stagger)) for i in range(clients)]
    try:
        await asyncio.sleep(warmup)
        state["measuring"] = True
        window = on_measure()
        began = time.perf_counter()
        await asyncio.sleep(seconds / 2)
        probed = probe()  # while every connection is open
        await asyncio.sleep(seconds / 2)
        state["measuring"] = False
        wall = time.perf_counter() - began
        cores = window.cores()
        state["stop"] = True
        await asyncio.gather(*tasks)
    finally:
        state["stop"] = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if shared is not None:
            await shared.aclose()
    if errors:
        raise SystemExit(f"{len(errors)} search requests failed, e.g. {errors[:3]}")
    if set(by_kind) - found:
        raise SystemExit(f"these searches never found an asset: {sorted(set(by_kind) - found)}")
    return {"requests": len(latencies), "seconds": round(wall, 2), "rps": round(len(latencies) / wall, 1),
            "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
            "p95_ms": round(percentile(latencies, 0.95) * 1000, 1), "latencies": latencies, "cpu": cores,
            "connections_per_process": probed,
            "kind_latencies": by_kind}


def connections_per_process(server: ServerProcess) -> list[int]:
    """How many established connections to the server's port each of its processes holds (uvicorn shares
    one listening socket: a keep-alive connection stays with the process that accepted it)."""
    port_hex = f":{server.port:04X}"
    established = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(port_hex) and fields[3] == "01":
            established.add(fields[9])  # inode
    pids = [server.process.pid]
    for task in Path(f"/proc/{server.process.pid}/task").iterdir():
        with contextlib.suppress(OSError):
            pids += [int(c) for c in (task / "children").read_text().split()]
    out = []
    for pid in pids:
        inodes = set()
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
        if inodes & established:
            out.append(len(inodes & established))
    return sorted(out, reverse=True)


def measure_search(args, processes: Processes, env: dict, log: Path, token: str, bodies: list, workers: int) -> dict:
    server = processes.start(ServerProcess, env, log, workers=workers)
    try:
        # /health answered from one process: wait for all of them, or the clients' connections go to the first
        deadline = time.monotonic() + 120
        while server.log().count("Application startup complete") < workers:
            if time.monotonic() > deadline:
                raise SystemExit(f"not all {workers} API processes started:\n{server.log()[-3000:]}")
            time.sleep(0.1)
        cpu = {"API processes": [server.process.pid], "PostgreSQL": PostgresBackends(env["GAZETTEER_DATABASE_URL"])}
        row = asyncio.run(load(server.url, token, bodies, args.clients, args.warmup, args.seconds, args.client,
                               lambda: CpuWindow(cpu), lambda: connections_per_process(server)))
    finally:
        processes.stop([server])
    kinds = "; ".join(f"{kind} {percentile(v, 0.5) * 1000:.0f}/{percentile(v, 0.95) * 1000:.0f}"
                      for kind, v in row["kind_latencies"].items())
    print(f"  --workers {workers}: {row['rps']:7.1f} req/s  p50 {row['p50_ms']:6.1f} ms  p95 {row['p95_ms']:6.1f} ms  "
          f"({row['requests']} requests in {row['seconds']} s; connections per process "
          f"{row['connections_per_process']})\n      p50/p95 ms by query: {kinds}\n      CPU cores: {row['cpu']}",
          flush=True)
    return row


def bench_search(args, glue: LocalGlue, processes: Processes, home: Path) -> dict:
    glue.clear_faults()
    seeded = glue.seed_synthetic(region=SEARCH_REGION, databases=args.search_databases, tables=args.search_tables,
                                 columns=args.columns, partitioned_fraction=1 / 3, partitions_per_table=args.partitions)
    with postgres_schema(args.postgres_url, "search") as url:
        env = clean_env(GAZETTEER_HOME=str(home / "search"), GAZETTEER_DATABASE_URL=url,
                        GAZETTEER_SECRET_KEY=secrets.token_urlsafe(32), GAZETTEER_ADMIN_TOKEN=ADMIN_TOKEN,
                        **glue.env(SEARCH_REGION))
        started = time.perf_counter()
        crawl = subprocess.run([sys.executable, "-m", "gazetteer.cli", "crawl", "glue", "--connection-name",
                                "search-bench", "--region", SEARCH_REGION, "--json"], env=env, capture_output=True,
                               text=True, timeout=1800)
        if crawl.returncode != 0:
            raise SystemExit(f"the crawl failed:\n{crawl.stdout[-3000:]}\n{crawl.stderr[-3000:]}")
        counts = json.loads(crawl.stdout)["counts"]
        token = subprocess.run([sys.executable, "-m", "gazetteer.cli", "token", "create", "--name", "bench-search",
                                "--role", "$admin"], env=env, capture_output=True, text=True, check=True,
                               timeout=120).stdout.strip()
        engine = open_engine(url, migrate=False)
        with engine.connect() as conn:
            total = conn.execute(sa.text("SELECT count(*) FROM assets")).scalar()
        bodies = search_bodies(engine, 600)
        engine.dispose()
        print(f"(2) crawled {total:,} assets ({seeded['tables']} tables, {counts}) in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        results: dict[int, list[dict]] = {1: [], 2: []}
        for repeat in range(args.repeats):
            for workers in ((1, 2) if repeat % 2 == 0 else (2, 1)):
                log = home / "search" / f"server-{repeat}-{workers}.log"
                results[workers].append(measure_search(args, processes, env, log, token, bodies, workers))
    base = median([r["rps"] for r in results[1]])
    summary = []
    print(f"\n(2) indexsearch, {args.clients} concurrent clients ({args.client}), {total:,} assets, median of "
          f"{args.repeats}:")
    print(f"{'API processes':>14} {'req/s':>8} {'× 1':>6} {'p50 ms':>7} {'p95 ms':>7}")
    for workers in (1, 2):
        rows = results[workers]
        rps = median([r["rps"] for r in rows])
        pooled = [x for r in rows for x in r["latencies"]]
        kinds = {kind: [x for r in rows for x in r["kind_latencies"][kind]] for kind in rows[0]["kind_latencies"]}
        summary.append({"api_processes": workers, "rps": round(rps, 1), "ratio": round(rps / base, 2),
                        "rps_each": [r["rps"] for r in rows],
                        "p50_ms": round(percentile(pooled, 0.5) * 1000, 1),
                        "p95_ms": round(percentile(pooled, 0.95) * 1000, 1),
                        "p50_p95_ms_by_query": {kind: [round(percentile(v, 0.5) * 1000, 1),
                                                       round(percentile(v, 0.95) * 1000, 1)]
                                                for kind, v in kinds.items()},
                        "connections_per_process": [r["connections_per_process"] for r in rows],
                        "cpu_cores": rows[len(rows) // 2]["cpu"]})
        print(f"{workers:>14} {rps:>8.1f} {rps / base:>6.2f} {summary[-1]['p50_ms']:>7.1f} "
              f"{summary[-1]['p95_ms']:>7.1f}")
    return {"assets": total, "results": summary}


# ----------------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer workflows, shorter windows")
    parser.add_argument("--only", choices=("runs", "search"), help="only one of the two parts")
    parser.add_argument("--repeats", type=int, default=2, help="measurements of each configuration (median)")
    parser.add_argument("--workflows", type=int, default=8)
    parser.add_argument("--max-workers", type=int, default=4, help="largest worker count of (1): 1, 2, 4")
    parser.add_argument("--databases", type=int, default=4, help="databases of each workflow's catalog")
    parser.add_argument("--tables", type=int, default=60, help="tables of each database")
    parser.add_argument("--columns", type=int, default=8)
    parser.add_argument("--partitions", type=int, default=4, help="partitions of each partitioned table")
    parser.add_argument("--delay", type=float, default=0.06, help="seconds added to every Glue call in (1)")
    parser.add_argument("--run-timeout", type=float, default=900)
    parser.add_argument("--search-databases", type=int, default=10)
    parser.add_argument("--search-tables", type=int, default=50, help="tables of each database in (2)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent search connections")
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds of each search load")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of load before each measurement")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw")
    parser.add_argument("--postgres-url", default=os.environ.get("GAZETTEER_BENCH_POSTGRES_URL", POSTGRES_URL))
    parser.add_argument("--redis-url", default=REDIS_URL, help="a Redis database of the bench's own (flushed)")
    parser.add_argument("--keep-logs", type=Path, help="copy the processes' logs here")
    args = parser.parse_args()
    if args.quick:
        args.workflows, args.max_workers, args.repeats = 4, 2, 1
        args.databases, args.tables = 2, 20
        args.search_databases, args.search_tables, args.seconds, args.warmup = 4, 20, 3, 1

    def interrupted(signum, frame) -> None:
        raise KeyboardInterrupt

    # SIGTERM unwinds like Ctrl-C, through every finally below: no process, schema or Redis key outlives the bench.
    signal.signal(signal.SIGTERM, interrupted)
    processes = Processes()
    report: dict = {"date": datetime.now(UTC).date().isoformat(), "cores": os.cpu_count(), "quick": args.quick}
    began = time.perf_counter()
    # Every listing read from moto: no first page is served from an earlier reader's snapshot.
    with tempfile.TemporaryDirectory(prefix="gz-bench-scale-") as tmp, LocalGlue(reuse_first_pages=False) as glue:
        home = Path(tmp)
        try:
            if args.only in (None, "runs"):
                report["runs"] = bench_runs(args, glue, processes, home)
            if args.only in (None, "search"):
                report["search"] = bench_search(args, glue, processes, home)
        finally:
            processes.stop_all()
            if args.keep_logs:
                import shutil

                shutil.copytree(home, args.keep_logs, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.key"))
    report["bench_seconds"] = round(time.perf_counter() - began, 1)
    print(f"\nbench took {report['bench_seconds']:.0f} s")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
