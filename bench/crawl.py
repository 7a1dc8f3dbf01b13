"""Crawl benchmark: gazetteer against the floor of plain boto3 reading the same Glue, in one run.

    python bench/crawl.py [--databases 20 --tables 500 --columns 20 --partitions 10]

Seeds a local Glue (moto, in a subprocess) with databases × tables × columns, a third of the tables
partitioned, then measures:
  (a) the floor: plain boto3 making, one after another, the calls a crawl makes (GetDatabases, paginated
      GetTables, GetColumnStatisticsForTable per table, paginated GetPartitions and BatchGetPartition for each
      partitioned table, and for tags: GetCallerIdentity and ListLFTags once, GetTags per database);
  (b) `gazetteer crawl glue` into a fresh SQLite catalog (a separate process: its peak RSS is measured);
  (c) a second crawl of the unchanged catalog (must write nothing);
  (d) a first crawl into another fresh catalog, stopped as its last database starts: the seconds from the
      stop to the crawl's return, undoing what it wrote included (an upper bound on how long SQLite's write
      lock is held for it), and that it leaves no row behind.
CPU is each process's user + system time (the crawl's less that of a CLI start-up, measured alike), reported
per 1,000 tables. Ratios against (a) are what to compare across machines; absolute times drift on shared
hardware.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from _harness import Counted, sequential_read

from gazetteer.devtools.local_glue import LocalGlue, endpoint_env
from gazetteer.packages.glue.config import parse_config
from gazetteer.packages.glue.crawl import crawl
from gazetteer.store import open_engine
from gazetteer.store.schema import assets, crawl_undo

REGION = "us-east-1"


def floor(url: str) -> tuple[float, float, dict[str, int], int]:
    """Time the sequential boto3 reads a crawl cannot avoid: wall and CPU seconds, what was found, calls."""
    client = Counted(url, "x", REGION)
    started, cpu = time.perf_counter(), time.process_time()
    found = sequential_read(client, tags=True)
    return time.perf_counter() - started, time.process_time() - cpu, found, client.calls


def gazetteer_crawl(url: str, home: Path, *args: str) -> tuple[float, dict, int, float]:
    """Run the CLI crawl as a child process; return wall time, its report, its peak RSS in MB and its CPU
    seconds. With `args` (e.g. --help), a process that starts and does nothing else: its start-up."""
    env = {**os.environ, "GAZETTEER_HOME": str(home), **endpoint_env(url)}  # Glue, STS and Lake Formation
    env.pop("GAZETTEER_DATABASE_URL", None)
    command = [sys.executable, "-m", "gazetteer.cli", "crawl", "glue", "--connection-name", "bench",
               "--region", REGION, "--access-key", "x", "--secret-key", "x", "--json", *args]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    stdout, stderr = process.stdout.read(), process.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"crawl failed:\n{stdout.decode()}\n{stderr.decode()[-3000:]}")
    return elapsed, {} if args else json.loads(stdout), usage.ru_maxrss // 1024, usage.ru_utime + usage.ru_stime


def rolled_back_crawl(url: str, home: Path) -> tuple[float, int, int]:
    """Stop a first crawl as its last database starts; return the seconds from the stop to its return, the rows
    it had written and the rows (assets and undo log) left afterwards."""
    os.environ.update(endpoint_env(url))
    engine = open_engine(f"sqlite:///{home / 'rolled-back.db'}")
    config = parse_config(connection_name="bench", region=REGION, access_key="x", secret_key="x")
    progress: dict = {}
    stopped: list[tuple[float, int]] = []

    def last_database_started() -> bool:
        if not stopped and progress and progress["databases_done"] >= progress["databases_total"] - 1:
            with engine.connect() as conn:
                written = conn.execute(sa.select(sa.func.count()).select_from(assets)).scalar()
            stopped.append((time.perf_counter(), written))
        return bool(stopped)

    report = crawl(engine, config, progress=progress.update,
                   should_stop=last_database_started)
    seconds = time.perf_counter() - stopped[0][0]
    if report.status != "Failed":
        raise SystemExit(f"the crawl to roll back was not stopped: {report.to_dict()}")
    with engine.connect() as conn:
        left = sum(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
                   for table in (assets, crawl_undo))
    engine.dispose()
    return seconds, stopped[0][1], left


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", type=int, default=20)
    parser.add_argument("--tables", type=int, default=500)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--partitions", type=int, default=10, help="partitions of each partitioned table")
    args = parser.parse_args()

    # Every listing is read cold from moto: no first page is served from an earlier reader's snapshot.
    with LocalGlue(reuse_first_pages=False) as glue, tempfile.TemporaryDirectory() as home:
        started = time.perf_counter()
        seeded = glue.seed_synthetic(region=REGION, databases=args.databases, tables=args.tables,
                                     columns=args.columns, partitioned_fraction=1 / 3,
                                     partitions_per_table=args.partitions)
        print(f"seeded {seeded} in {time.perf_counter() - started:.1f} s", flush=True)
        floor_seconds, floor_cpu, found, floor_calls = floor(glue.url)
        per_k = 1000 / found["tables"]
        print(f"(a) floor, plain boto3:        {floor_seconds:7.2f} s  CPU {floor_cpu:.2f} s = "
              f"{floor_cpu * per_k:.2f} s per 1,000 tables  {floor_calls} calls  {found}", flush=True)
        _, _, _, startup_cpu = gazetteer_crawl(glue.url, Path(home), "--help")
        first_seconds, first, first_mb, first_cpu = gazetteer_crawl(glue.url, Path(home))
        first_cpu -= startup_cpu
        print(f"(b) gazetteer crawl, fresh:    {first_seconds:7.2f} s  = {first_seconds / floor_seconds:.2f} × floor"
              f"  CPU {first_cpu:.2f} s = {first_cpu * per_k:.2f} s per 1,000 tables ({first_cpu / floor_cpu:.2f} × "
              f"the floor's)  peak RSS {first_mb} MB  {first['api_calls']} calls  counts {first['counts']}",
              flush=True)
        second_seconds, second, second_mb, second_cpu = gazetteer_crawl(glue.url, Path(home))
        second_cpu -= startup_cpu
        writes = sum(second["changes"][k] for k in ("created", "updated", "archived", "restored"))
        print(f"(c) gazetteer crawl, unchanged: {second_seconds:7.2f} s  = {second_seconds / floor_seconds:.2f} × floor"
              f"  CPU {second_cpu:.2f} s = {second_cpu * per_k:.2f} s per 1,000 tables "
              f"({second_cpu / floor_cpu:.2f} × the floor's)  peak RSS {second_mb} MB  writes {writes}", flush=True)
        floor_again, floor_cpu_again, _, _ = floor(glue.url)
        print(f"(a') floor again:              {floor_again:7.2f} s  CPU {floor_cpu_again:.2f} s  (noise check)",
              flush=True)
        undo_seconds, undone, left = rolled_back_crawl(glue.url, Path(home))
        print(f"(d) stopped crawl, rolled back: {undo_seconds:6.2f} s  after the stop, {undone} rows undone, "
              f"{left} left")
        print(json.dumps({
            "floor_seconds": round(floor_seconds, 2), "floor_again_seconds": round(floor_again, 2),
            "floor_cpu_seconds": round(floor_cpu, 2), "crawl_cpu_seconds": round(first_cpu, 2),
            "recrawl_cpu_seconds": round(second_cpu, 2), "startup_cpu_seconds": round(startup_cpu, 2),
            "crawl_cpu_per_1000_tables": round(first_cpu * per_k, 2),
            "recrawl_cpu_per_1000_tables": round(second_cpu * per_k, 2),
            "crawl_seconds": round(first_seconds, 2), "recrawl_seconds": round(second_seconds, 2),
            "crawl_ratio": round(first_seconds / floor_seconds, 2),
            "recrawl_ratio": round(second_seconds / floor_seconds, 2),
            "crawl_peak_mb": first_mb, "recrawl_peak_mb": second_mb, "recrawl_writes": writes,
            "api_calls": first["api_calls"], "rollback_seconds": round(undo_seconds, 2), "rolled_back_rows": undone,
            "rows_left_after_rollback": left,
        }))


if __name__ == "__main__":
    main()
