"""History benchmark: what recording asset history costs a crawl, history on against history off, in one run.

    python bench/history.py [--databases 10 --tables 300 --columns 20 --partitions 10] [--rounds 5] \
        [--changed 0.1] [--postgres URL]

Seeds a local Glue (moto, in a subprocess, every listing read cold as in bench/crawl.py) with databases × tables
× columns, a third of the tables partitioned, and crawls it with `gazetteer crawl glue --json` (a child process
each time) into two catalogs: "on" records history as by default, "off" runs with GAZETTEER_HISTORY_DAYS=0
(settings are read once per process, so it is set in the child's environment). Both are SQLite files under
GAZETTEER_HOMEs of their own, or with `--postgres URL` two fresh schemas of that server (dropped afterwards).
It measures:
  (1) the first crawl into each: a first crawl records a created event per asset, so history costs it something;
  (2) unchanged re-crawls, `--rounds` of them into each catalog, interleaved (on, off, off, on, ...): history must
      cost nothing measurable here, and the "on" catalog must gain no row in asset_events (else a FAIL line and
      exit status 1);
  (3) `--changed` re-crawls: before each round, a share of the tables (every 10th by default) is changed in Glue,
      alternately a column added to all of them and the `id` column of a third of them narrowed from bigint to
      int (additive and breaking diffs), then the column dropped and `id` widened back (breaking and additive);
      both catalogs then crawl it, which first alternating per round. Events written per round in "on" (and none
      in "off").
Times are wall seconds of the child process; CPU is its user + system time less that of a CLI start-up. The
machine is shared and noisy, so the results are ratios on / off: medians of the rounds, and per round the ratio
of the pair, whose range is the spread. No absolute time is asserted.

At the default size (3,000 tables) a run takes 12-15 minutes on the 2-core development machine; pick a smaller
size (`--databases 2 --tables 100`) to try it out. Run it from the repository root.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from _harness import Counted, median, postgres_schema

from gazetteer.devtools.local_glue import LocalGlue, endpoint_env

REGION = "us-east-1"
ADDED = "hist_bench_note"  # the column the changed rounds add and drop again
# What UpdateTable takes of what GetTable answers.
TABLE_INPUT_KEYS = ("Name", "Description", "Owner", "Retention", "StorageDescriptor", "PartitionKeys",
                    "ViewOriginalText", "ViewExpandedText", "TableType", "Parameters")
WRITES = ("created", "updated", "archived", "restored")


@dataclass
class Catalog:
    """One catalog the bench crawls into: its child processes' environment and a connection to count its events."""

    name: str
    home: Path
    database_url: str | None  # None: SQLite under home
    history: bool
    engine: sa.Engine = field(init=False)
    first: dict[str, float] = field(default_factory=dict)
    unchanged: list[dict[str, float]] = field(default_factory=list)
    changed: list[dict[str, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        url = self.database_url or f"sqlite:///{self.home / 'catalog.db'}"
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)

    def env(self, glue_url: str) -> dict[str, str]:
        env = {**os.environ, "GAZETTEER_HOME": str(self.home), **endpoint_env(glue_url)}
        env.pop("GAZETTEER_DATABASE_URL", None)
        env.pop("GAZETTEER_HISTORY_DAYS", None)
        if self.database_url:
            env["GAZETTEER_DATABASE_URL"] = self.database_url
        if not self.history:
            env["GAZETTEER_HISTORY_DAYS"] = "0"
        return env

    def events(self) -> tuple[int, int]:
        """Rows in asset_events, and how many of them are breaking (0, 0 before the first crawl made the table)."""
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("asset_events"):
                return 0, 0
            total, breaking = conn.execute(sa.text(
                "SELECT count(*), coalesce(sum(CASE WHEN breaking THEN 1 ELSE 0 END), 0) FROM asset_events")).one()
        return int(total), int(breaking)


def gazetteer_crawl(glue_url: str, catalog: Catalog, *args: str) -> tuple[float, float, dict[str, Any]]:
    """Run the CLI crawl as a child process; its wall and CPU seconds and its report. With `args` (--help), a
    process that starts and does nothing else: its start-up."""
    command = [sys.executable, "-m", "gazetteer.cli", "crawl", "glue", "--connection-name", "bench",
               "--region", REGION, "--access-key", "x", "--secret-key", "x", "--json", *args]
    # Files, not pipes: nobody has to drain them while the child runs (a report may be large).
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=catalog.env(glue_url))
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise SystemExit(f"crawl into {catalog.name!r} failed:\n{stdout.decode()[-3000:]}\n{stderr.decode()[-3000:]}")
    report = {} if args else json.loads(stdout)
    if report and report.get("status") != "Succeeded":
        raise SystemExit(f"crawl into {catalog.name!r} did not succeed: {report.get('message')}")
    return elapsed, usage.ru_utime + usage.ru_stime, report


def measure(glue_url: str, catalog: Catalog, startup_cpu: float) -> dict[str, float]:
    """One crawl into `catalog`: its seconds, CPU (less a start-up's), writes and the events it added."""
    before, before_breaking = catalog.events()
    seconds, cpu, report = gazetteer_crawl(glue_url, catalog)
    after, after_breaking = catalog.events()
    return {"seconds": seconds, "cpu": cpu - startup_cpu, "writes": sum(report["changes"][k] for k in WRITES),
            "events": after - before, "breaking": after_breaking - before_breaking,
            "api_calls": report["api_calls"]}


# ------------------------------------------------------------------------------------------- changing Glue

class Changer:
    """Changes `share` of the seeded tables in Glue, a round at a time (UpdateTable from each table's input as
    seeded): even rounds add a column to each and narrow `id` (bigint → int) on a third of them, odd rounds drop
    the column and widen `id` back."""

    def __init__(self, glue_url: str, databases: int, tables: int, share: float) -> None:
        self.client = Counted(glue_url, "x", REGION)
        step = max(1, round(1 / share)) if share > 0 else 0
        names = [(f"bench_db_{d:03d}", f"t_{t:05d}") for d in range(databases) for t in range(tables)]
        chosen = names[::step] if step else []
        self.inputs = []
        for database, table in chosen:
            found = self.client("get_table", DatabaseName=database, Name=table)["Table"]
            self.inputs.append((database, {key: found[key] for key in TABLE_INPUT_KEYS if key in found}))

    def apply(self, round_number: int) -> tuple[int, int]:
        """Change the tables for this round; how many were changed, and how many had `id` narrowed or widened."""
        adding = round_number % 2 == 0
        retyped = 0
        for i, (database, table_input) in enumerate(self.inputs):
            changed = copy.deepcopy(table_input)
            columns = changed["StorageDescriptor"]["Columns"]
            if adding:
                columns.append({"Name": ADDED, "Type": "string", "Comment": "Added by bench/history.py"})
            if i % 3 == 0:
                retyped += 1
                for column in columns:
                    if column["Name"] == "id":
                        column["Type"] = "int" if adding else "bigint"
            self.client("update_table", DatabaseName=database, TableInput=changed)
        return len(self.inputs), retyped


# ---------------------------------------------------------------------------------------------- reporting

def ratio(on: float, off: float) -> float:
    return on / off if off else float("nan")


def summary(on: list[dict[str, float]], off: list[dict[str, float]], key: str) -> dict[str, Any]:
    """Medians of each side, the ratio of the medians, and the per-round ratios (their spread)."""
    a, b = [m[key] for m in on], [m[key] for m in off]
    pairs = [ratio(x, y) for x, y in zip(a, b, strict=True)]
    return {"on_median": round(median(a), 2), "off_median": round(median(b), 2),
            "on_range": [round(min(a), 2), round(max(a), 2)], "off_range": [round(min(b), 2), round(max(b), 2)],
            "ratio_of_medians": round(ratio(median(a), median(b)), 3), "round_ratios": [round(r, 3) for r in pairs],
            "round_ratio_median": round(median(pairs), 3),
            "round_ratio_range": [round(min(pairs), 3), round(max(pairs), 3)]}


def print_summary(title: str, on: list[dict[str, float]], off: list[dict[str, float]]) -> dict[str, Any]:
    out = {key: summary(on, off, key) for key in ("seconds", "cpu")}
    for key, unit in (("seconds", "wall"), ("cpu", "CPU ")):
        s = out[key]
        print(f"  {title} {unit}: on {s['on_median']:7.2f} s ({s['on_range'][0]}-{s['on_range'][1]})  "
              f"off {s['off_median']:7.2f} s ({s['off_range'][0]}-{s['off_range'][1]})  "
              f"on/off {s['ratio_of_medians']:.3f} (rounds: median {s['round_ratio_median']:.3f}, "
              f"{s['round_ratio_range'][0]:.3f}-{s['round_ratio_range'][1]:.3f})", flush=True)
    return out


def line(label: str, catalog: Catalog, m: dict[str, float]) -> None:
    print(f"  {label:<22} {catalog.name:<3}  {m['seconds']:7.2f} s  CPU {m['cpu']:6.2f} s  writes {m['writes']:7d}  "
          f"events {m['events']:7d} (breaking {m['breaking']})", flush=True)


# ---------------------------------------------------------------------------------------------------- run

@contextlib.contextmanager
def catalogs(postgres: str | None) -> Iterator[tuple[Catalog, Catalog]]:
    with contextlib.ExitStack() as stack:
        homes = [Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"gz-history-{n}-")))
                 for n in ("on", "off")]
        urls = [stack.enter_context(postgres_schema(postgres, f"history_{n}")) for n in ("on", "off")] \
            if postgres else [None, None]
        pair = (Catalog("on", homes[0], urls[0], history=True), Catalog("off", homes[1], urls[1], history=False))
        try:
            yield pair
        finally:
            for catalog in pair:
                catalog.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", type=int, default=10)
    parser.add_argument("--tables", type=int, default=300)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--partitions", type=int, default=10, help="partitions of each partitioned table")
    parser.add_argument("--rounds", type=int, default=5, help="re-crawls of each catalog, per kind")
    parser.add_argument("--changed", type=float, default=0.1, help="share of the tables changed before each round")
    parser.add_argument("--postgres", metavar="URL", default=None,
                        help="crawl into two fresh schemas of this PostgreSQL server instead of SQLite files")
    args = parser.parse_args()
    failures: list[str] = []

    began = time.perf_counter()
    with LocalGlue(reuse_first_pages=False) as glue, catalogs(args.postgres) as (on, off):
        started = time.perf_counter()
        seeded = glue.seed_synthetic(region=REGION, databases=args.databases, tables=args.tables,
                                     columns=args.columns, partitioned_fraction=1 / 3,
                                     partitions_per_table=args.partitions)
        print(f"seeded {({k: seeded[k] for k in ('databases', 'tables', 'partitions', 'columns')})} in "
              f"{time.perf_counter() - started:.1f} s; backend "
              f"{'PostgreSQL' if args.postgres else 'SQLite'}; load average {os.getloadavg()[0]:.2f}", flush=True)
        changer = Changer(glue.url, args.databases, args.tables, args.changed)

        startup_cpu = median([gazetteer_crawl(glue.url, c, "--help")[1] for c in (on, off, off, on)])
        print(f"CLI start-up CPU {startup_cpu:.2f} s (subtracted from each crawl's CPU)", flush=True)

        print("(1) first crawl", flush=True)
        for catalog in (on, off):
            catalog.first = measure(glue.url, catalog, startup_cpu)
            line("first crawl", catalog, catalog.first)
        first = {key: round(ratio(on.first[key], off.first[key]), 3) for key in ("seconds", "cpu")}
        print(f"  first crawl on/off: wall {first['seconds']:.3f}  CPU {first['cpu']:.3f}  "
              f"({on.first['events']} events for {on.first['writes']} assets written)", flush=True)
        if off.first["events"]:
            failures.append(f"the first crawl with history off wrote {off.first['events']} events")

        print(f"(2) unchanged re-crawls, {args.rounds} rounds, interleaved", flush=True)
        for r in range(args.rounds):
            for catalog in ((on, off) if r % 2 == 0 else (off, on)):
                m = measure(glue.url, catalog, startup_cpu)
                catalog.unchanged.append(m)
                line(f"unchanged round {r + 1}", catalog, m)
                if m["events"] or m["writes"]:
                    failures.append(f"unchanged re-crawl {r + 1} into {catalog.name!r} wrote {m['writes']} assets "
                                    f"and {m['events']} events")
        unchanged = print_summary("unchanged", on.unchanged, off.unchanged)

        print(f"(3) re-crawls with {args.changed:.0%} of the tables changed, {args.rounds} rounds", flush=True)
        rounds_changed = []
        for r in range(args.rounds):
            started = time.perf_counter()
            tables, retyped = changer.apply(r)
            rounds_changed.append(tables)
            print(f"  round {r + 1}: {tables} tables {'given a column' if r % 2 == 0 else 'lost the column'}, "
                  f"{retyped} of them `id` {'narrowed' if r % 2 == 0 else 'widened'} "
                  f"({time.perf_counter() - started:.1f} s)", flush=True)
            for catalog in ((on, off) if r % 2 == 0 else (off, on)):
                m = measure(glue.url, catalog, startup_cpu)
                catalog.changed.append(m)
                line(f"changed round {r + 1}", catalog, m)
            if off.changed[-1]["events"]:
                failures.append(f"changed round {r + 1}: history off wrote {off.changed[-1]['events']} events")
            if not on.changed[-1]["events"]:
                failures.append(f"changed round {r + 1}: history on wrote no event")
        changed = print_summary("changed", on.changed, off.changed)
        events = [m["events"] for m in on.changed]
        print(f"  events per changed round (on): median {median(events):.0f} ({min(events)}-{max(events)}), "
              f"breaking {[m['breaking'] for m in on.changed]}; writes {[m['writes'] for m in on.changed]}; "
              f"off: {[m['events'] for m in off.changed]} events", flush=True)

        for failure in failures:
            print(f"FAIL: {failure}", flush=True)
        print(json.dumps({
            "backend": "postgresql" if args.postgres else "sqlite", "seeded": {
                k: seeded[k] for k in ("databases", "tables", "partitions", "columns")},
            "rounds": args.rounds, "changed_tables_per_round": rounds_changed, "startup_cpu": round(startup_cpu, 2),
            "first": {"on": {k: round(v, 2) for k, v in on.first.items()},
                      "off": {k: round(v, 2) for k, v in off.first.items()}, "ratio": first},
            "unchanged": unchanged, "changed": changed,
            "changed_events_on": events, "changed_breaking_on": [m["breaking"] for m in on.changed],
            "changed_events_off": [m["events"] for m in off.changed],
            "unchanged_events_on": [m["events"] for m in on.unchanged],
            "total_seconds": round(time.perf_counter() - began, 1), "failures": failures,
        }))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
