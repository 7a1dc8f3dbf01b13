"""Crawl benchmark: gazetteer against the floor of plain boto3 reading the same Glue, in one run.

    python bench/crawl.py [--databases 20 --tables 500 --columns 20 --partitions 10]

Seeds a local Glue (moto, in a subprocess) with databases × tables × columns, a third of the tables
partitioned, then measures:
  (a) the floor: plain boto3 making, one after another, the calls that gather the same information
      (GetDatabases, paginated GetTables, paginated GetPartitions for each partitioned table);
  (b) `gazetteer crawl glue` into a fresh SQLite catalog (a separate process: its peak RSS is measured);
  (c) a second crawl of the unchanged catalog (must write nothing);
  (d) a first crawl into another fresh catalog, stopped as its last database starts: the seconds from the
      stop to the crawl's return, undoing what it wrote included (an upper bound on how long SQLite's write
      lock is held for it), and that it leaves no row behind.
Ratios against (a) are what to compare across machines; absolute times drift on shared hardware.
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

import boto3
import sqlalchemy as sa
from botocore.config import Config

from gazetteer.devtools.local_glue import LocalGlue, endpoint_env
from gazetteer.packages.glue.config import parse_config
from gazetteer.packages.glue.crawl import crawl
from gazetteer.store import open_engine
from gazetteer.store.schema import assets, crawl_undo

REGION = "us-east-1"


def floor(url: str) -> tuple[float, dict[str, int]]:
    """Time the sequential boto3 reads a crawl cannot avoid."""
    client = boto3.client("glue", endpoint_url=url, region_name=REGION, aws_access_key_id="x",
                          aws_secret_access_key="x", config=Config(retries={"mode": "standard", "max_attempts": 3}))
    started = time.perf_counter()
    found = {"databases": 0, "tables": 0, "partitions": 0}
    for page in client.get_paginator("get_databases").paginate(PaginationConfig={"PageSize": 100}):
        for database in page["DatabaseList"]:
            found["databases"] += 1
            tables = client.get_paginator("get_tables")
            for table_page in tables.paginate(DatabaseName=database["Name"], PaginationConfig={"PageSize": 100}):
                for table in table_page["TableList"]:
                    found["tables"] += 1
                    if table.get("PartitionKeys"):
                        partitions = client.get_paginator("get_partitions").paginate(
                            DatabaseName=database["Name"], TableName=table["Name"], ExcludeColumnSchema=True,
                            PaginationConfig={"PageSize": 1000})
                        found["partitions"] += sum(len(p["Partitions"]) for p in partitions)
    return time.perf_counter() - started, found


def gazetteer_crawl(url: str, home: Path) -> tuple[float, dict, int]:
    """Run the CLI crawl as a child process; return wall time, its report and its peak RSS in MB."""
    env = {**os.environ, "GAZETTEER_HOME": str(home), **endpoint_env(url)}  # Glue, STS and Lake Formation
    env.pop("GAZETTEER_DATABASE_URL", None)
    command = [sys.executable, "-m", "gazetteer.cli", "crawl", "glue", "--connection-name", "bench",
               "--region", REGION, "--access-key", "x", "--secret-key", "x", "--json"]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    stdout, stderr = process.stdout.read(), process.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"crawl failed:\n{stdout.decode()}\n{stderr.decode()[-3000:]}")
    return elapsed, json.loads(stdout), usage.ru_maxrss // 1024


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
        floor_seconds, found = floor(glue.url)
        print(f"(a) floor, plain boto3:        {floor_seconds:7.2f} s  {found}", flush=True)
        first_seconds, first, first_mb = gazetteer_crawl(glue.url, Path(home))
        print(f"(b) gazetteer crawl, fresh:    {first_seconds:7.2f} s  = {first_seconds / floor_seconds:.2f} × floor"
              f"  peak RSS {first_mb} MB  counts {first['counts']}", flush=True)
        second_seconds, second, second_mb = gazetteer_crawl(glue.url, Path(home))
        writes = sum(second["changes"][k] for k in ("created", "updated", "archived", "restored"))
        print(f"(c) gazetteer crawl, unchanged: {second_seconds:7.2f} s  = {second_seconds / floor_seconds:.2f} × floor"
              f"  peak RSS {second_mb} MB  writes {writes}", flush=True)
        floor_again, _ = floor(glue.url)
        print(f"(a') floor again:              {floor_again:7.2f} s  (noise check)", flush=True)
        undo_seconds, undone, left = rolled_back_crawl(glue.url, Path(home))
        print(f"(d) stopped crawl, rolled back: {undo_seconds:6.2f} s  after the stop, {undone} rows undone, "
              f"{left} left")
        print(json.dumps({
            "floor_seconds": round(floor_seconds, 2), "floor_again_seconds": round(floor_again, 2),
            "crawl_seconds": round(first_seconds, 2), "recrawl_seconds": round(second_seconds, 2),
            "crawl_ratio": round(first_seconds / floor_seconds, 2),
            "recrawl_ratio": round(second_seconds / floor_seconds, 2),
            "crawl_peak_mb": first_mb, "recrawl_peak_mb": second_mb, "recrawl_writes": writes,
            "api_calls": first["api_calls"], "rollback_seconds": round(undo_seconds, 2), "rolled_back_rows": undone,
            "rows_left_after_rollback": left,
        }))


if __name__ == "__main__":
    main()
