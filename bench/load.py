"""Search under load: 30 clients searching while a crawl of about 25,000 assets publishes, on SQLite and PostgreSQL.

    python bench/load.py [--quick] [--backend sqlite|postgresql|both] [--postgres-url URL]
                         [--databases 10 --tables 258 --columns 8 --partitions 4]
                         [--clients 30 --seconds 20 --warmup 3] [--broker redis://127.0.0.1:6379/15]

Everything is a real local process: a local Glue (moto, in a subprocess) holding one synthetic catalog of
databases × tables × columns (a third of the tables partitioned; about 25,000 assets by default), and
`gazetteer serve`: `--workers 2` on PostgreSQL (a schema of its own, dropped at the end), one process on a
SQLite file (multi-process serve is refused there). Runs execute in threads of the API process that took the
submit (no broker: the embedded default) unless `--broker` is given (PostgreSQL only: runs go to one
`gazetteer worker` over that Redis database, flushed at the start and the end).

Per backend:
  0. the crawl alone: a connection crawls the catalog with nothing else going on. Its duration is the
     baseline of phase B, and its assets are what the searches find from the first request on;
  A. quiet: `--clients` keep-alive clients search for `--seconds` (after `--warmup`, during which they connect
     one after another), the request mix of bench/scale.py: ranked full text (multi_match, 25 hits), a table's
     columns by qualifiedName prefix sorted by __guid (as pyatlan does), a page of tables with facets on
     __typeName and schemaQualifiedName;
  B. under load: a second connection's crawl of the same catalog is submitted, and the clients search on
     until its run has ended (its finish in the database).
Reported per phase: requests, errors (a non-200 answer or a connection error; the first few are printed),
req/s, p50/p95/max overall and per query kind, CPU (in cores) per kind of process, and the ratios B/A of p95
and crawl under load / crawl alone. On PostgreSQL also what its backends were waiting on (pg_stat_activity,
sampled every 50 ms) and, with 2 API processes, the latencies of the clients whose connection is held by the
process running the crawl against the others'.

Exit status 1 when any request failed or a crawl did not succeed. `--quick` is a smoke run of under a minute
(a catalog of about 1,200 assets, 3 s of quiet search). The machines are shared and noisy: ratios measured in
the same run are the result; the load average is printed at the start and the end. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa
from _harness import (
    ADMIN_TOKEN,
    POSTGRES_URL,
    CpuWindow,
    PostgresBackends,
    Processes,
    SearchLoad,
    children,
    connection_owners,
    create_crawl,
    create_token,
    finished_runs,
    latency_ms,
    postgres_schema,
    redis_database,
    search_bodies,
    start_server,
    submit,
    unwind_on_sigterm,
    wait_runs,
)

from gazetteer.devtools.local_glue import LocalGlue
from gazetteer.devtools.processes import WorkerProcess, clean_env
from gazetteer.store import open_engine

REGION = "eu-west-1"
RUN_TIMEOUT = 1800.0
epochs = itertools.count(1_795_000_000)  # one per connection: its qualifiedName prefix


# ------------------------------------------------------------------------------------------ environment


@contextlib.contextmanager
def catalog_url(args, backend: str, home: Path) -> Iterator[str]:
    """The catalog database of one backend's measurement: a new SQLite file, or a PostgreSQL scratch schema."""
    if backend == "sqlite":
        yield f"sqlite:///{home / 'catalog.db'}"
    else:
        with postgres_schema(args.postgres_url, "load") as url:
            yield url


@contextlib.contextmanager
def broker_url(args, backend: str) -> Iterator[str | None]:
    """The Redis database of `--broker` (PostgreSQL only: SQLite's server executes its runs itself)."""
    if args.broker and backend == "postgresql":
        with redis_database(args.broker) as url:
            yield url
    else:
        yield None


class WaitSampler:
    """What the bench's PostgreSQL backends are doing, sampled every 50 ms in a thread: per phase, how many
    were active on average and the share of samples of each wait event ("CPU" when active and not waiting)."""

    QUERY = sa.text("SELECT state, wait_event_type, wait_event, left(query, 70) AS query FROM pg_stat_activity "
                    "WHERE application_name = :name AND pid <> pg_backend_pid() AND state = 'active'")

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.name = sa.make_url(url).query["application_name"]
        self.phase: str | None = None
        self.samples: Counter = Counter()
        self.events: dict[str, Counter] = {}
        self.locked: dict[str, Counter] = {}  # the statements waiting on a lock
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        with self.engine.connect() as conn:
            while not self.stopped.wait(0.05):
                phase = self.phase
                if phase is None:
                    continue
                rows = conn.execute(self.QUERY, {"name": self.name}).all()
                conn.commit()  # pg_stat_activity is a snapshot per transaction
                self.samples[phase] += 1
                events = self.events.setdefault(phase, Counter())
                for row in rows:
                    events[f"{row.wait_event_type}:{row.wait_event}" if row.wait_event_type else "CPU"] += 1
                    if row.wait_event_type == "Lock":
                        self.locked.setdefault(phase, Counter())[row.query] += 1

    def summary(self, phase: str) -> dict:
        samples, events = self.samples[phase] or 1, self.events.get(phase, Counter())
        return {"active_backends": round(sum(events.values()) / samples, 2),
                "top": {event: round(count / samples, 2) for event, count in events.most_common(6)},
                "waiting_on_a_lock": dict(self.locked.get(phase, Counter()).most_common(3))}

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        self.engine.dispose()


# ---------------------------------------------------------------------------------------------- crawls


def crawl_alone(http: httpx.Client, engine: sa.Engine, cpu_groups: dict) -> dict:
    """Crawl the catalog into a new connection with nothing else running: phase B's baseline, the search data."""
    name = create_crawl(http, next(epochs), "load-alone", REGION)
    window = CpuWindow(cpu_groups)
    run = wait_runs(engine, [submit(http, name)], RUN_TIMEOUT)[0]
    return {**run_summary(run), "cpu": window.cores()}


def run_summary(run) -> dict:
    return {"run": run.name, "phase": run.phase, "message": run.message, "worker": run.worker,
            "seconds": round((run.finished_at - run.started_at).total_seconds(), 2)}


async def crawl(http: httpx.Client, engine: sa.Engine, workflow: str) -> object:
    """Submit a run of the workflow and poll until it has ended; its row. Both in threads: the clients share
    this event loop."""
    run_name = await asyncio.to_thread(submit, http, workflow)
    deadline = time.perf_counter() + RUN_TIMEOUT
    while (rows := await asyncio.to_thread(finished_runs, engine, [run_name])) is None:
        if time.perf_counter() > deadline:
            raise SystemExit(f"the run {run_name} was still going after {RUN_TIMEOUT:.0f} s")
        await asyncio.sleep(0.1)
    return rows[0]


# ---------------------------------------------------------------------------------------------- phases


async def phases(args, server, engine, http, token: str, bodies: list, cpu_groups: dict,
                 sampler: WaitSampler | None) -> dict:
    """Warm-up, phase A (quiet) and phase B (a crawl publishing), with the same clients throughout."""
    searching = SearchLoad(server.url, token, bodies, args.clients, think=args.think)
    searching.start(over_seconds=args.warmup / 2)
    try:
        await asyncio.sleep(args.warmup / 2)
        await balance(searching, server)
        await asyncio.sleep(args.warmup / 2)
        owners = await asyncio.to_thread(connection_owners, server)
        ports = searching.local_ports()
        quiet, _, quiet_cpu = await measure_phase(searching, sampler, "A quiet", cpu_groups,
                                                  asyncio.sleep(args.seconds))
        workflow = await asyncio.to_thread(create_crawl, http, next(epochs), "load-busy", REGION)  # not timed
        busy, run, busy_cpu = await measure_phase(searching, sampler, "B under load", cpu_groups,
                                                  crawl(http, engine, workflow))
    finally:
        await searching.stop()
    return {"quiet": quiet, "busy": busy, "cpu": {"A quiet": quiet_cpu, "B under load": busy_cpu},
            "run": run_summary(run), "server_pids": [server.process.pid, *children(server.process.pid)],
            "errors": searching.errors, "missing": sorted(set(searching.kinds) - searching.found),
            "process_of_client": {client: owners.get(port) for client, port in ports.items()}}


async def balance(searching: SearchLoad, server, rounds: int = 30) -> None:
    """Spread the connections evenly over the API processes, as a proxy in front of them would.

    uvicorn's processes share one listening socket and the one that wakes first accepts: even connecting one
    after another, a busy machine gave 29 + 1. A connection of the fullest process is closed and reopened
    (between two requests) until no process holds more than one more than another."""
    for _ in range(rounds):
        owners = await asyncio.to_thread(connection_owners, server)
        ports = searching.local_ports()
        held: dict[int, list[int]] = {}
        for client, port in ports.items():
            if port in owners:
                held.setdefault(owners[port], []).append(client)
        if sum(map(len, held.values())) < searching.clients:
            await asyncio.sleep(0.1)  # still connecting
            continue
        if len(children(server.process.pid)) < 2:
            return  # one API process: nothing to balance
        counts = sorted((len(clients), pid) for pid, clients in held.items())
        if len(counts) > 1 and counts[-1][0] - counts[0][0] <= 1:
            return
        for client in held[counts[-1][1]][:max(1, (counts[-1][0] - (counts[0][0] if len(counts) > 1 else 0)) // 2)]:
            searching.reconnect(client)
        await asyncio.sleep(0.3)  # their next requests reconnect


async def measure_phase(searching: SearchLoad, sampler, name: str, cpu_groups: dict, until) -> tuple:
    """Record a phase from now until the awaitable `until` completes: the phase, its result, the CPU used."""
    window = await asyncio.to_thread(CpuWindow, cpu_groups)  # it asks PostgreSQL for its backends: not in the loop
    phase = searching.measure(name)
    if sampler is not None:
        sampler.phase = name
    result = await until
    searching.measure(None)
    if sampler is not None:
        sampler.phase = None
    return phase, result, await asyncio.to_thread(window.cores)


def by_process(phase, process_of_client: dict, crawler_pid: int | None) -> dict | None:
    """The phase's latencies of the clients held by the API process that ran the crawl, and of the others."""
    if crawler_pid is None:
        return None
    mine = [x for client, values in phase.by_client.items() if process_of_client.get(client) == crawler_pid
            for x in values]
    others = [x for client, values in phase.by_client.items() if process_of_client.get(client) != crawler_pid
              for x in values]
    clients = Counter(pid == crawler_pid for pid in process_of_client.values())
    return {"crawling process": {"clients": clients[True], **latency_ms(mine)},
            "other process": {"clients": clients[False], **latency_ms(others)}}


def crawler_pid(run: dict, server_pids: list[int]) -> int | None:
    """The pid of the API process that ran the crawl (the runs table names it `serve@host:pid`)."""
    worker = run["worker"] or ""
    if not worker.startswith("serve@"):
        return None
    pid = int(worker.rsplit(":", 1)[1])
    return pid if pid in server_pids else None


# --------------------------------------------------------------------------------------------- backend


def bench_backend(args, backend: str, glue: LocalGlue, processes: Processes, home: Path) -> dict:
    home.mkdir(parents=True)
    workers = 2 if backend == "postgresql" else 1
    with catalog_url(args, backend, home) as url, broker_url(args, backend) as broker:
        settings = {"GAZETTEER_BROKER_URL": broker} if broker else {}
        env = clean_env(GAZETTEER_HOME=str(home), GAZETTEER_DATABASE_URL=url, GAZETTEER_ADMIN_TOKEN=ADMIN_TOKEN,
                        GAZETTEER_SECRET_KEY=secrets.token_urlsafe(32), **settings, **glue.env(REGION))
        token = create_token(env, "bench-load")  # before the server: on SQLite the CLI also migrates the file
        server = start_server(processes, env, home / "server.log", workers)
        pool = processes.start_many(1, WorkerProcess, lambda i: (env, home / "worker.log")) if broker else []
        engine = open_engine(url, migrate=False)
        http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=120)
        sampler = WaitSampler(url) if backend == "postgresql" else None
        try:
            cpu_groups = cpu_groups_of(server, pool, glue, url, backend)
            alone = crawl_alone(http, engine, cpu_groups)
            with engine.connect() as conn:
                assets = conn.execute(sa.text("SELECT count(*) FROM assets")).scalar()
            bodies = search_bodies(engine, 600)
            result = asyncio.run(phases(args, server, engine, http, token, bodies, cpu_groups, sampler))
        finally:
            if sampler is not None:
                sampler.stop()
            http.close()
            engine.dispose()
            processes.stop([server, *pool])
    return report_backend(backend, workers, broker, assets, alone, result, sampler)


def cpu_groups_of(server, pool: list, glue: LocalGlue, url: str, backend: str) -> dict:
    """The processes whose CPU each phase reports: the API processes (each one too, when there are several),
    the worker, the local Glue and PostgreSQL's backends."""
    groups: dict = {"API processes": [server.process.pid]}
    api = children(server.process.pid)
    if len(api) > 1:  # uvicorn's supervisor and its API processes
        groups |= {f"API pid {pid}": [pid] for pid in api}
    if pool:
        groups["worker"] = [w.process.pid for w in pool]
    groups["local Glue"] = [glue._proc.pid]  # noqa: SLF001 - its pid, for the CPU it uses
    if backend == "postgresql":
        groups["PostgreSQL"] = PostgresBackends(url)
    return groups


def report_backend(backend, workers, broker, assets, alone, result, sampler) -> dict:
    run = result["run"]
    quiet, busy = result["quiet"].summary(), result["busy"].summary()
    pid = crawler_pid(run, result["server_pids"])
    out = {
        "backend": backend, "api_processes": workers, "runs_on": "worker (broker)" if broker else "API process threads",
        "assets": assets, "crawl_alone": alone, "crawl_under_load": run,
        "crawl_ratio": round(run["seconds"] / alone["seconds"], 2),
        "phases": {"A quiet": quiet, "B under load": busy},
        "p95_ratio": round(busy["p95_ms"] / quiet["p95_ms"], 2), "cpu_cores": result["cpu"],
        "by_process": {name: by_process(result[key], result["process_of_client"], pid)
                       for name, key in (("A quiet", "quiet"), ("B under load", "busy"))},
        "clients_per_process": dict(Counter(result["process_of_client"].values())),
        "errors": len(result["errors"]), "first_errors": result["errors"][:5], "missing": result["missing"],
    }
    if sampler is not None:
        out["postgres_waits"] = {name: sampler.summary(name) for name in ("A quiet", "B under load")}
    print_backend(out)
    return out


def print_backend(out: dict) -> None:
    print(f"\n== {out['backend']}: {out['api_processes']} API process(es), runs in {out['runs_on']}, "
          f"{out['assets']:,} assets after the first crawl", flush=True)
    kinds = list(out["phases"]["A quiet"]["by_kind"])
    print(f"  {'phase':<13} {'requests':>8} {'errors':>6} {'req/s':>6} {'p50':>6} {'p95':>6} {'max':>7}  "
          + "  ".join(f"{kind} p50/p95/max" for kind in kinds))
    for name, row in out["phases"].items():
        print(f"  {name:<13} {row['requests']:>8} {row['errors']:>6} {row['rps']:>6.1f} {row['p50_ms']:>6.0f} "
              f"{row['p95_ms']:>6.0f} {row['max_ms']:>7.0f}  "
              + "  ".join(f"{v['p50_ms']:.0f}/{v['p95_ms']:.0f}/{v['max_ms']:.0f}" for v in row["by_kind"].values()))
    alone, busy = out["crawl_alone"], out["crawl_under_load"]
    print(f"  p95 B/A: {out['p95_ratio']:.2f}; crawl alone {alone['seconds']:.1f} s ({alone['phase']}), under load "
          f"{busy['seconds']:.1f} s ({busy['phase']}): × {out['crawl_ratio']:.2f}")
    print(f"  CPU cores, crawl alone: {alone['cpu']}")
    for name, cores in out["cpu_cores"].items():
        print(f"  CPU cores, {name}: {cores}")
    print(f"  clients per API process (pid: clients): {out['clients_per_process']}; the crawl ran in "
          f"{out['crawl_under_load']['worker']}")
    for name, split in out["by_process"].items():
        if split:
            print(f"  {name} by API process: {split}")
    for name, waits in out.get("postgres_waits", {}).items():
        print(f"  PostgreSQL, {name}: {waits}")
    if out["errors"]:
        print(f"  {out['errors']} requests failed, e.g.:\n    " + "\n    ".join(out["first_errors"]))


# ------------------------------------------------------------------------------------------------ main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run of under a minute")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres-url", default=os.environ.get("GAZETTEER_BENCH_POSTGRES_URL", POSTGRES_URL))
    parser.add_argument("--broker", help="PostgreSQL only: a Redis database of the bench's own (flushed); runs "
                                         "then execute on a `gazetteer worker`, not in an API process")
    parser.add_argument("--databases", type=int, default=10)
    parser.add_argument("--tables", type=int, default=258, help="tables of each database (10 × 258 × 8: ~25,000 "
                                                                "assets)")
    parser.add_argument("--columns", type=int, default=8)
    parser.add_argument("--partitions", type=int, default=4, help="partitions of each partitioned table")
    parser.add_argument("--clients", type=int, default=30, help="concurrent search connections")
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds of phase A")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of load before phase A")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean seconds each client waits between an answer and its next request (default 0: "
                             "closed loop, each client always has a request in flight)")
    parser.add_argument("--keep-logs", type=Path, help="copy the processes' logs here")
    args = parser.parse_args()
    if args.quick:
        args.databases, args.tables, args.seconds, args.warmup = 2, 40, 3, 2
    return args


def main() -> None:
    args = parse_args()
    unwind_on_sigterm()
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    report: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "cores": os.cpu_count(),
                    "clients": args.clients, "think_seconds": args.think,
                    "load_average_start": os.getloadavg(), "quick": args.quick, "backends": []}
    print(f"load average at the start: {report['load_average_start']}", flush=True)
    processes = Processes()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gz-bench-load-") as tmp, LocalGlue(reuse_first_pages=False) as glue:
        try:
            seeded = glue.seed_synthetic(region=REGION, databases=args.databases, tables=args.tables,
                                         columns=args.columns, partitioned_fraction=1 / 3,
                                         partitions_per_table=args.partitions)
            report["catalog"] = {k: seeded[k] for k in ("databases", "tables", "partitioned_tables", "partitions",
                                                        "columns")}
            print(f"catalog: {report['catalog']}", flush=True)
            for backend in backends:
                report["backends"].append(bench_backend(args, backend, glue, processes, Path(tmp) / backend))
        finally:
            processes.stop_all()
            if args.keep_logs:
                import shutil

                shutil.copytree(tmp, args.keep_logs, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.key"))
    report["load_average_end"] = os.getloadavg()
    report["bench_seconds"] = round(time.perf_counter() - began, 1)
    print(f"\nload average at the end: {report['load_average_end']}; bench took {report['bench_seconds']:.0f} s")
    print(json.dumps(report))
    failed = [b["backend"] for b in report["backends"] if b["errors"] or b["missing"]
              or b["crawl_alone"]["phase"] != "Succeeded" or b["crawl_under_load"]["phase"] != "Succeeded"]
    if failed:
        sys.exit(f"failed on {', '.join(failed)}: a request errored, a search found nothing or a crawl did not "
                 "succeed (see above)")


if __name__ == "__main__":
    main()
