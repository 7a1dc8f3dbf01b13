"""Remote-Glue crawl benchmark: every Glue call 60 ms away, the crawl against a sequential floor, in one run.

    python bench/remote_crawl.py [--databases 8 --tables 150 --columns 5 --partitions 20]
                                 [--big-partitions 100000] [--delay 0.06] [--throttle 0.1]

Seeds a local Glue (moto, in a subprocess) with databases × tables × columns, a third of the tables partitioned
with `--partitions` partitions each, plus one more database holding one table of `--big-partitions` partitions.
Checks that the local Glue answers calls at once, reads every listing once without latency and untimed (see
`warm_up`), then delays every Glue call by `--delay` seconds in the server and measures, in this order:
  (a) the floor: plain boto3 making, one after another, the very calls a crawl makes, with the same parameters
      (GetDatabases, GetTables pages, GetColumnStatisticsForTable per table, GetPartitions pages and
      BatchGetPartition per partitioned table; only the big table is paged instead of read in segments);
  (b) a crawl with today's settings (adaptive: 4 calls in flight at first, at most 32);
  (c) a crawl with max_concurrency = workers = 4, the "before": a fixed pool of 4;
  (d) while a seeded `--throttle` share of all calls is answered ThrottlingException (after the delay): (b),
      and (c) (a crawl's limit never goes below its workers: with max_concurrency = workers it is fixed);
  (e) the big table alone: GlueReader.partitions (10 GetPartitions segments at once) against a sequential
      paged count, 1,000 partitions a page.
Each crawl runs in this process into a fresh SQLite catalog, without tags (the local Glue answers them, but
this bench measures the table reads); its CPU is getrusage(RUSAGE_SELF) around it, the local Glue's is read
from /proc. Ratios to (a) are what to compare: absolute times drift on shared machines.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _harness import Counted, children, cpu_seconds, machine_busy, sequential_read

import gazetteer.packages.glue.crawl as crawl_module
from gazetteer.devtools.local_glue import LocalGlue
from gazetteer.packages.glue.client import GlueReader
from gazetteer.packages.glue.concurrency import AdaptiveLimit
from gazetteer.packages.glue.config import parse_config
from gazetteer.packages.glue.settings import GlueSettings
from gazetteer.store import open_engine

REGION = "us-east-1"
# The crawl's and the floor's calls must be signed alike: the local Glue keys its listings' snapshots by
# access key and region, and a listing read under another key would be read cold from moto again.
KEY = "bench"
BIG_DATABASE_PREFIX = "bench_big_"
# The local Glue keeps this many listings' snapshots (LocalGlueMiddleware's max_snapshots), the least
# recently used evicted first; a catalog with more listings than that cannot be read warm throughout.
SNAPSHOTS = 512


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class RecordingLimit(AdaptiveLimit):
    """The crawl's AdaptiveLimit, also integrating its calls in flight over time: the mean is how much of the
    allowed concurrency the crawl actually used (`timed_crawl` has the crawl build this instead)."""

    made: list[RecordingLimit] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._counting = threading.Lock()
        self.calls_in_flight = 0
        self.started = self.changed = time.perf_counter()
        self.in_flight_seconds = 0.0
        RecordingLimit.made.append(self)

    def _count(self, change: int) -> None:
        with self._counting:
            now = time.perf_counter()
            self.in_flight_seconds += self.calls_in_flight * (now - self.changed)
            self.changed = now
            self.calls_in_flight += change

    @contextmanager
    def slot(self) -> Iterator[int]:
        with super().slot() as epoch:
            self._count(+1)
            try:
                yield epoch
            finally:
                self._count(-1)

    def mean_in_flight(self) -> float:
        return self.in_flight_seconds / max(1e-9, self.changed - self.started)


def point_at(url: str) -> None:
    """Send the crawl's AWS calls to the local Glue, its other services' too (never to AWS itself)."""
    os.environ["AWS_ENDPOINT_URL_GLUE"] = os.environ["AWS_ENDPOINT_URL"] = url


def timed_crawl(url: str, home: Path, label: str, settings: GlueSettings,
                exclude: str | None = None) -> dict[str, Any]:
    """Crawl into a fresh SQLite catalog in this process: wall and CPU seconds, the report's counters, and how
    the concurrency limit behaved.
    `exclude`: a database left out."""
    point_at(url)
    # The crawl builds its limit by this module-level name; the subclass only adds bookkeeping.
    crawl_module.AdaptiveLimit = RecordingLimit
    engine = open_engine(f"sqlite:///{home / f'{label}.db'}")
    config = parse_config(connection_name="bench", region=REGION, access_key=KEY, secret_key=KEY,
                          exclude=[exclude] if exclude else None)
    RecordingLimit.made.clear()
    with Meter() as meter:
        report = crawl_module.crawl(engine, config, settings=settings)
    engine.dispose()
    if report.status != "Succeeded":
        raise SystemExit(f"crawl {label} failed: {report.to_dict()}")
    limit = RecordingLimit.made[0]
    return {**meter.figures, "api_calls": report.api_calls, "throttled": report.throttled,
            "tables": report.counts["tables"], "peak": limit.peak, "decreases": limit.decreases,
            "mean_in_flight": limit.mean_in_flight()}


def warm_up(glue: LocalGlue, big: str | None) -> float:
    """Read every listing once, before any latency: moto answers a first page by serialising the whole listing
    (about 1 ms a partition: minutes for the big table) in one GIL-bound process, which real Glue does not do,
    and the local Glue keeps that answer as a snapshot to page from. Read warm, a call costs what the injected
    delay says plus the HTTP and JSON work of both sides, for the floor and the crawls alike."""
    started = time.perf_counter()

    def progress(message: str) -> None:
        if big and message.startswith(big):
            log(f"  warm-up: {message}; now the big table, whose first page is minutes of moto's serialiser")
        else:
            log(f"  warm-up: {message}")

    sequential_read(Counted(glue.url, KEY, REGION), progress=progress)
    return time.perf_counter() - started


def concurrency_check(url: str, calls: int = 32) -> tuple[float, float]:
    """(one call, `calls` calls at once) in seconds: the local Glue must answer concurrently (werkzeug's threaded
    server; the delay is a sleep, which releases the GIL), or no crawl could beat the floor."""
    client = Counted(url, KEY, REGION, pool=calls).clients["glue"]
    client.get_databases(MaxResults=1)  # connects
    one = min(_timed(lambda: client.get_databases(MaxResults=1)) for _ in range(3))
    with ThreadPoolExecutor(calls) as pool:
        list(pool.map(lambda _: client.get_databases(MaxResults=1), range(calls)))  # a connection each
        together = _timed(lambda: list(pool.map(lambda _: client.get_databases(MaxResults=1), range(calls))))
    return one, together


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


class Meter:
    """Wall seconds, CPU seconds of this process (getrusage: every thread of the crawl) and of the local Glue
    (its process, from /proc), and the cores the whole machine kept busy meanwhile (other people's work too)."""

    def __enter__(self) -> Meter:
        self.figures: dict[str, float] = {}
        self._start = (time.perf_counter(), own_cpu(), cpu_seconds(children(os.getpid())), machine_busy()[0])
        return self

    def __exit__(self, *exc_info: object) -> None:
        wall, own, server, machine = self._start
        self.figures["seconds"] = time.perf_counter() - wall
        self.figures["cpu"] = own_cpu() - own
        self.figures["glue_cpu"] = cpu_seconds(children(os.getpid())) - server
        self.figures["machine_cores_busy"] = (machine_busy()[0] - machine) / self.figures["seconds"]


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def big_table(url: str, database: str, table: str) -> dict[str, dict[str, float]]:
    """The big table alone: GlueReader.partitions as a crawl reads it (today's adaptive limit) against plain
    boto3 paging through it 1,000 partitions a page. Each: wall and CPU seconds, calls, partitions counted."""
    point_at(url)
    config = parse_config(connection_name="bench", region=REGION, access_key=KEY, secret_key=KEY)
    defaults = GlueSettings()
    reader = GlueReader(config, max_attempts=defaults.max_attempts,
                        calls=AdaptiveLimit(initial=defaults.workers, maximum=defaults.max_concurrency))
    with Meter() as meter:
        segmented = reader.partitions(database, table)
    out = {"segmented": {**meter.figures, "calls": reader.api_calls, "partitions": segmented.count}}
    client = Counted(url, KEY, REGION)
    with Meter() as meter:
        count = sum(len(page) for page in client.pages("get_partitions", "Partitions", DatabaseName=database,
                                                         TableName=table, MaxResults=1000, ExcludeColumnSchema=True))
    out["sequential"] = {**meter.figures, "calls": client.calls, "partitions": count}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", type=int, default=8)
    parser.add_argument("--tables", type=int, default=150, help="tables of each database")
    parser.add_argument("--columns", type=int, default=5)
    parser.add_argument("--partitions", type=int, default=20, help="partitions of each partitioned table")
    parser.add_argument("--big-partitions", type=int, default=100_000,
                        help="partitions of the one big table (0: no big table)")
    parser.add_argument("--delay", type=float, default=0.06, help="seconds every Glue call waits in the server")
    parser.add_argument("--throttle", type=float, default=0.1, help="share of calls throttled in (d)")
    args = parser.parse_args()

    # Tags are left out, of the floor as of the crawls: what is measured here is how the crawl overlaps the
    # calls that read tables (bench/crawl.py reads tags).
    adaptive = GlueSettings(workers=4, max_concurrency=32, read_tags=False)
    fixed = GlueSettings(workers=4, max_concurrency=4, read_tags=False)
    delay_rule = {"operation": "*", "delay_seconds": args.delay}
    # First match wins: a throttled call is delayed too, then answered ThrottlingException (HTTP 400).
    throttle_rule = {"operation": "*", "probability": args.throttle, "seed": 11, "code": "ThrottlingException",
                     "delay_seconds": args.delay}
    load_before = os.getloadavg()
    figures: dict[str, Any] = {"args": vars(args), "load_before": load_before}
    with LocalGlue(reuse_first_pages=True) as glue, tempfile.TemporaryDirectory() as home_dir:
        home = Path(home_dir)
        started = time.perf_counter()
        seeded = glue.seed_synthetic(region=REGION, databases=args.databases, tables=args.tables,
                                     columns=args.columns, partitioned_fraction=1 / 3,
                                     partitions_per_table=args.partitions)
        big = None
        if args.big_partitions:
            big = f"{BIG_DATABASE_PREFIX}000"
            glue.seed_synthetic(region=REGION, databases=1, tables=1, columns=args.columns,
                                partitioned_fraction=1.0, partitions_per_table=args.big_partitions,
                                database_prefix=BIG_DATABASE_PREFIX)
        log(f"seeded {seeded['tables']} tables ({seeded['partitioned_tables']} partitioned, {seeded['partitions']} "
            f"partitions) + a table of {args.big_partitions} partitions in {time.perf_counter() - started:.1f} s")
        listings = 1 + args.databases + seeded["partitioned_tables"] + (2 if big else 0)
        if listings > SNAPSHOTS:
            log(f"WARNING: {listings} listings, but the local Glue keeps {SNAPSHOTS} snapshots: some will be read "
                "cold (moto's serialiser) in the timed runs, which then measure moto, not the latency")
        glue.set_faults([delay_rule])
        one, together = concurrency_check(glue.url)
        print(f"local Glue: one call {one * 1000:.0f} ms, 32 at once {together * 1000:.0f} ms (one after another: "
              f"{32 * one * 1000:.0f} ms){'' if together < 8 * one else '  -- NOT ANSWERING CONCURRENTLY'}",
              flush=True)
        figures["concurrency_check"] = {"one_ms": one * 1000, "thirty_two_ms": together * 1000}
        glue.clear_faults()
        log(f"warm-up pass (no latency): {warm_up(glue, big):.1f} s")
        glue.set_faults([delay_rule])

        client = Counted(glue.url, KEY, REGION)
        by_database: dict[str, float] = {}
        with Meter() as meter:
            found = sequential_read(client, seconds=by_database)
        floor = meter.figures["seconds"]
        figures["floor"] = {**meter.figures, "calls": client.calls, **found}
        print(f"(a) floor, sequential boto3:   {floor:7.2f} s  {client.calls} calls, "
              f"{floor / client.calls * 1000:.1f} ms a call, CPU {meter.figures['cpu']:.1f} s, local Glue's CPU "
              f"{meter.figures['glue_cpu']:.1f} s, machine {meter.figures['machine_cores_busy']:.1f} cores busy  "
              f"{found}", flush=True)

        def show(label: str, run: dict[str, Any], versus: float = floor, extra: str = "") -> None:
            print(f"{label} {run['seconds']:7.2f} s  = {run['seconds'] / versus:.3f} × floor  {run['api_calls']} "
                  f"calls, {run['throttled']} throttled, limit peak {run['peak']} ({run['decreases']} halvings), "
                  f"{run['mean_in_flight']:.1f} in flight on average, CPU {run['cpu']:.1f} s = "
                  f"{run['cpu'] / run['tables'] * 1000:.1f} s per 1,000 tables, local Glue's CPU "
                  f"{run['glue_cpu']:.1f} s, machine {run['machine_cores_busy']:.1f} cores busy{extra}", flush=True)

        figures["adaptive"] = timed_crawl(glue.url, home, "adaptive", adaptive)
        show("(b) crawl, adaptive 4..32:    ", figures["adaptive"])
        figures["fixed"] = timed_crawl(glue.url, home, "fixed", fixed)
        show("(c) crawl, fixed pool of 4:   ", figures["fixed"])
        if big:
            # The same without the big table's database, against the floor without the seconds it spent there.
            figures["floor"]["seconds_without_big"] = floor_without_big = floor - by_database[big]
            figures["adaptive_without_big"] = timed_crawl(glue.url, home, "adaptive-without-big", adaptive,
                                                          exclude=big)
            show("(b') the same, no big table:  ", figures["adaptive_without_big"], versus=floor_without_big,
                 extra=f" (floor without it: {floor_without_big:.2f} s)")

        throttled = (("adaptive", adaptive, "adaptive 4..32"), ("fixed", fixed, "fixed pool of 4"))
        for name, settings, title in throttled:
            glue.set_faults([throttle_rule, delay_rule])  # anew: the same seeded pattern for each crawl
            run = figures[f"{name}_throttled"] = timed_crawl(glue.url, home, f"{name}-throttled", settings)
            run["rule_fired"] = glue.faults()[0]["fired"]
            show(f"(d) {title}, {args.throttle:.0%} thr.:".ljust(30), run,
                 extra=f"; {run['seconds'] / figures[name]['seconds']:.2f} × unthrottled")
        glue.set_faults([delay_rule])

        if big:
            figures["big_table"] = big_table(glue.url, big, "t_00000")
            segmented, sequential = figures["big_table"]["segmented"], figures["big_table"]["sequential"]
            print(f"(e) {args.big_partitions} partitions: segmented {segmented['seconds']:.2f} s "
                  f"(CPU {segmented['cpu']:.2f} s, {segmented['calls']} calls), sequential "
                  f"{sequential['seconds']:.2f} s (CPU {sequential['cpu']:.2f} s, {sequential['calls']} calls): "
                  f"{segmented['seconds'] / sequential['seconds']:.2f} ×; the crawl process's CPU a page of 1,000: "
                  f"{sequential['cpu'] / sequential['calls'] * 1000:.0f} ms", flush=True)
    figures["load_after"] = os.getloadavg()
    print(f"load average {load_before[0]:.2f} before, {figures['load_after'][0]:.2f} after (2 cores shared)")
    print(json.dumps(rounded(figures)))


def rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(item) for item in value]
    return value


if __name__ == "__main__":
    main()
