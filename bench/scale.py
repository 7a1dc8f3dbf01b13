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
import itertools
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
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
    connections_per_process,
    create_crawl,
    create_token,
    median,
    percentile,
    postgres_schema,
    redis_database,
    search_bodies,
    start_server,
    submit,
    unwind_on_sigterm,
    wait_runs,
)

from gazetteer.devtools.local_glue import LocalGlue
from gazetteer.devtools.processes import ServerProcess, WorkerProcess, clean_env
from gazetteer.store import open_engine

REDIS_URL = "redis://127.0.0.1:6379/15"
# One region of the local Glue per workflow: each connection crawls a catalog of its own.
REGIONS = ("us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-central-1",
           "ap-south-1", "ap-northeast-1", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "sa-east-1",
           "eu-north-1", "eu-west-3", "ap-northeast-2")
SEARCH_REGION = "eu-south-1"


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
        # created, not started: outside the timed part
        names = [create_crawl(http, next(epochs), f"scale-{label}-{i}", region) for i, region in enumerate(regions)]
        calls_before = sum(glue.request_counts().values())
        cpu = CpuWindow({"API server": [server.process.pid], "workers": [w.process.pid for w in pool],
                         "local Glue": [glue._proc.pid],  # noqa: SLF001 - its pid, for the CPU it uses
                         "PostgreSQL": PostgresBackends(env["GAZETTEER_DATABASE_URL"])})
        submitted = datetime.now(UTC)
        run_names = [submit(http, name) for name in names]
        rows = wait_runs(engine, run_names, args.run_timeout)
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

async def load(url: str, token: str, bodies: list[tuple[str, dict]], clients: int, warmup: float, seconds: float,
               client_kind: str, on_measure, probe) -> dict:
    """`clients` concurrent connections sending `bodies` in turn: warm-up, then `seconds` measured."""
    searching = SearchLoad(url, token, bodies, clients, client_kind)
    searching.start(over_seconds=warmup / 2)  # one after another over the first half of the warm-up
    try:
        await asyncio.sleep(warmup)
        phase = searching.measure("measured")
        window = on_measure()
        await asyncio.sleep(seconds / 2)
        probed = probe()  # while every connection is open
        await asyncio.sleep(seconds / 2)
        searching.measure(None)
        cores = window.cores()
    finally:
        await searching.stop()
    searching.check()
    row = phase.summary()
    return {"requests": row["requests"], "seconds": row["seconds"], "rps": row["rps"], "p50_ms": row["p50_ms"],
            "p95_ms": row["p95_ms"], "latencies": phase.latencies, "cpu": cores, "connections_per_process": probed,
            "kind_latencies": phase.by_kind}


def measure_search(args, processes: Processes, env: dict, log: Path, token: str, bodies: list, workers: int) -> dict:
    server = start_server(processes, env, log, workers)
    try:
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
        token = create_token(env, "bench-search")
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

    unwind_on_sigterm()  # and a Redis key neither
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
