"""Lineage benchmark: `lineage_list` at depth 5 over a graph of 100,000 processes, on SQLite and PostgreSQL.

    python bench/lineage.py [--backend sqlite|postgresql|both] [--postgres-url URL]
                            [--processes 100000 --tables 100000 --layers 20 --starts 200] [--profile]

The issue's target: a lineage list at depth 5 on a graph of 100,000 processes answers with a p95 of 50 ms.

The graph is layered as a warehouse's is (raw → staging → marts): `--layers` layers of tables, each process reads
1–3 tables of one layer and writes 1–2 tables of the next. Most of what a process reads and writes sits near its
own place in its layer (90%, within a few dozen tables: a domain's pipelines), the rest anywhere in the layer, so
a depth-5 walk reaches a neighbourhood that grows hop by hop without being the whole layer. Four processes in
five are views (a line of SQL), one in five a Glue job keeping its script (`--code-bytes`) in `code`, as the
crawl stores them: a walk reads whole rows. Everything is seeded.

Rows go straight into `assets` (SQLite: `executemany`; PostgreSQL: COPY into a scratch schema, dropped at the end),
through the real schema: migration 0013's triggers fill `lineage_edges`, the full-text triggers index every row.
On PostgreSQL the load ends as a crawl's does, with `refresh_statistics` (which analyzes `lineage_edges` too);
autovacuum is off during the run so that it cannot analyze behind the bench's back.

Measured per backend, from `--starts` random tables that have 5 layers beyond them in the walk's direction (each
kind after 10 warm-up calls, as on a running server, and the kinds' calls interleaved): `lineage_list` downstream
and upstream, depth 5, pages of 10 (pyatlan's default) and 100; the API's whole answer (`lineage_list_answer`, no
HTTP) for pages of 100; and, as the baseline of the ratios, `get_asset` by guid on the same catalog. Printed per
kind: p50, p95 and max of the wall time, the median CPU of this process, p95 over the baseline's p50, and the
entities and depth a page reached. `--profile` prints cProfile's view of the core call at size 100. Nothing
asserts a time: the machines are shared and noisy, the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from _harness import POSTGRES_URL, percentile, postgres_schema

from gazetteer.api.lineage import lineage_list_answer
from gazetteer.assets.browse import get_asset
from gazetteer.assets.lineage import LineageQuery, lineage_list
from gazetteer.assets.processes import Endpoint, reference
from gazetteer.store import open_engine
from gazetteer.store.statistics import refresh_statistics

CONNECTION = "default/glue/1700000000"
DATABASE = f"{CONNECTION}/AwsDataCatalog"
COLUMNS_SQL = ("guid, type_name, qualified_name, name, status, connection_qualified_name, schema_qualified_name, "
               "parent_qualified_name, attributes, content_hash, created_at, updated_at")
DEPTH = 5
LOCAL = 0.9  # the share of a process's inputs and outputs near its own place in its layer
SPREAD = 12  # how near: the standard deviation of that offset, in tables
BATCH = 20_000
BASELINE = "baseline: get_asset by guid"
PROFILED = "lineage_list downstream, depth 5, size 100"


@dataclass
class Graph:
    """What the measurements draw from: each table's guid by layer, and how many processes read and write it."""

    layers: list[list[tuple[str, str]]] = field(default_factory=list)  # (guid, qualified name)
    readers: Counter[str] = field(default_factory=Counter)
    writers: Counter[str] = field(default_factory=Counter)
    rows: int = 0


def _row(rng: random.Random, type_name: str, qn: str, name: str, parent: str | None, schema: str | None,
         attributes: dict, now: str) -> tuple:
    guid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return (guid, type_name, qn, name, "ACTIVE", CONNECTION, schema, parent, json.dumps(attributes), "0" * 32, now, now)


def _near(rng: random.Random, layer: list[tuple[str, str]], centre: float, count: int) -> list[tuple[str, str]]:
    picked: dict[int, None] = {}
    while len(picked) < count:
        local = rng.random() < LOCAL
        picked[round(centre + rng.gauss(0, SPREAD)) % len(layer) if local else rng.randrange(len(layer))] = None
    return [layer[i] for i in picked]


def rows(args: argparse.Namespace, graph: Graph) -> Iterator[list[tuple]]:
    """Batches of asset rows (COLUMNS_SQL order): the connection, a schema per layer and its tables, then the
    processes between each layer and the next."""
    rng, now = random.Random(7), datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    base = {"connectionQualifiedName": CONNECTION, "connectionName": "bench", "connectorName": "glue"}
    batch = [_row(rng, "Connection", CONNECTION, "bench", None, None, {"connectorName": "glue"}, now),
             _row(rng, "Database", DATABASE, "AwsDataCatalog", CONNECTION, None, base, now)]
    per_layer = args.tables // args.layers
    for k in range(args.layers):
        schema = f"{DATABASE}/layer_{k:02d}"
        batch.append(_row(rng, "Schema", schema, f"layer_{k:02d}", DATABASE, schema, base, now))
        graph.layers.append([])
        for j in range(per_layer):
            name = f"t_{k:02d}_{j:05d}"
            row = _row(rng, "Table", f"{schema}/{name}", name, schema, schema,
                       {**base, "schemaQualifiedName": schema, "columnCount": 12, "rowCount": rng.randrange(10**7),
                        "description": f"Layer {k} table {j}"}, now)
            batch.append(row)
            graph.layers[k].append((row[0], row[2]))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    per_gap = args.processes // (args.layers - 1)
    code = "# Glue job script\n" + "x = spark.read.table('a')\n" * (args.code_bytes // 26)
    for k in range(args.layers - 1):
        for j in range(per_gap + (k < args.processes % (args.layers - 1))):
            centre = j * per_layer / per_gap
            inputs = _near(rng, graph.layers[k], centre, rng.randint(1, 3))
            outputs = _near(rng, graph.layers[k + 1], centre, rng.randint(1, 2))
            graph.readers.update(qn for _, qn in inputs)
            graph.writers.update(qn for _, qn in outputs)
            job = rng.random() < 0.2
            name = f"{'job' if job else 'view'}_{k:02d}_{j:05d}"
            attributes = {**base, "inputs": [reference(Endpoint("Table", g, qn)) for g, qn in inputs],
                          "outputs": [reference(Endpoint("Table", g, qn)) for g, qn in outputs]}
            if job:
                attributes["code"] = code
            else:
                attributes["sql"] = ("SELECT " + ", ".join(f"c{i}" for i in range(12)) + " FROM "
                                     + " JOIN ".join(qn.rsplit("/", 2)[-1] for _, qn in inputs) + " WHERE dt = '1'")
            batch.append(_row(rng, "Process", f"{CONNECTION}/lineage/bench/{name}", name, CONNECTION, None,
                              attributes, now))
            if len(batch) >= BATCH:
                yield batch
                batch = []
    yield batch


def load(engine: sa.Engine, args: argparse.Namespace) -> Graph:
    """Insert the graph: SQLite `executemany` per batch, PostgreSQL COPY (the triggers fire as on INSERT)."""
    graph = Graph()
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            conn = raw.driver_connection  # psycopg 3
            with conn.cursor() as cursor:
                for batch in rows(args, graph):
                    with cursor.copy(f"COPY assets ({COLUMNS_SQL}) FROM STDIN") as copy:
                        for row in batch:
                            copy.write_row(row)
                    graph.rows += len(batch)
                    conn.commit()
        else:
            cursor = raw.cursor()
            for batch in rows(args, graph):
                cursor.executemany(f"INSERT INTO assets ({COLUMNS_SQL}) VALUES ({', '.join('?' * 12)})", batch)
                graph.rows += len(batch)
                raw.commit()
    finally:
        raw.close()
    return graph


def describe(graph: Graph) -> dict:
    tables = [qn for layer in graph.layers for _, qn in layer]
    read = [graph.readers[qn] for qn in tables[:-len(graph.layers[-1])]]  # the last layer feeds nothing
    return {"tables": len(tables), "rows": graph.rows,
            "processes_per_table_mean": round(statistics.mean(read), 2), "processes_per_table_max": max(read),
            "tables_read_by_none": round(sum(n == 0 for n in read) / len(read), 3)}


def starts(graph: Graph, count: int, downstream: bool) -> list[str]:
    """`count` random tables (guids) with `DEPTH` layers beyond them in the walk's direction, and a process
    touching them on that side."""
    layers = graph.layers[:-DEPTH] if downstream else graph.layers[DEPTH:]
    touching = graph.readers if downstream else graph.writers
    pool = [guid for layer in layers for guid, qn in layer if touching[qn]]
    return random.Random(11 + downstream).sample(pool, count)


def _summary(entities: Any) -> tuple[int, int]:
    """How many entities an answer (a LineagePage, or the API's JSON) holds, and the deepest of them."""
    depths = [e["depth"] if isinstance(e, dict) else e.depth for e in entities]
    return len(depths), max(depths, default=0)


def kinds(engine: sa.Engine, graph: Graph, runs: int) -> list[tuple[str, Callable[[int], Any]]]:
    """Each kind of call: its label and a call taking the run number (its start drawn from a fixed seed)."""
    down, up = starts(graph, runs, True), starts(graph, runs, False)
    guids = [guid for layer in graph.layers for guid, _ in layer]
    picked = random.Random(5).choices(guids, k=runs)

    def walk(guids: list[str], downstream: bool, size: int) -> Callable[[int], Any]:
        def call(i: int) -> Any:
            query = LineageQuery(guids[i], downstream=downstream, depth=DEPTH, size=size)
            return _summary(lineage_list(engine, query).entities)
        return call

    def answer(i: int) -> Any:
        body = {"guid": down[i], "depth": DEPTH, "direction": "OUTPUT", "size": 100, "immediateNeighbours": True,
                "attributes": ["name", "qualifiedName"]}
        return _summary(lineage_list_answer(engine, body)["entities"])

    def baseline(i: int) -> Any:
        get_asset(engine, guid=picked[i])
        return 0, 0

    return [(BASELINE, baseline)] + [
        (f"lineage_list {'down' if d else 'up'}stream, depth 5, size {size}", walk(down if d else up, d, size))
        for d in (True, False) for size in (10, 100)] + [("API answer, downstream, size 100 (no HTTP)", answer)]


def measure_all(engine: sa.Engine, graph: Graph, runs: int, title: str) -> list[dict]:
    """Every kind, its calls interleaved (run i of each kind, then run i + 1...): the machine's load, which comes
    and goes, weighs on all of them alike, so the ratios hold even when the absolute times drift."""
    calls = kinds(engine, graph, runs)
    for _, call in calls:
        for i in range(min(10, runs)):  # warm the caches, as a running server's are
            call(i)
    samples: dict[str, list[tuple[float, float, int, int]]] = {label: [] for label, _ in calls}
    for i in range(runs):
        for label, call in calls:
            started, cpu = time.perf_counter(), time.process_time()
            entities, deepest = call(i)
            samples[label].append(((time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000,
                                   entities, deepest))
    print(f"\n{title:<44} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'CPU p50':>8} {'p95/base':>9} "
          f"{'entities':>9} {'deepest':>8}")
    base = statistics.median(wall for wall, *_ in samples[BASELINE])
    rows = []
    for label, measured in samples.items():
        walls = [wall for wall, *_ in measured]
        row = {"kind": label, "runs": runs, "p50_ms": round(statistics.median(walls), 2),
               "p95_ms": round(percentile(walls, 0.95), 2), "max_ms": round(max(walls), 2),
               "cpu_p50_ms": round(statistics.median(cpu for _, cpu, *_ in measured), 2),
               "p95_x_baseline": round(percentile(walls, 0.95) / base, 1),
               "entities_mean": round(statistics.mean(n for *_, n, _ in measured), 1),
               "deepest_mean": round(statistics.mean(d for *_, d in measured), 1)}
        print(f"{label:<44} {row['p50_ms']:>8.2f} {row['p95_ms']:>8.2f} {row['max_ms']:>8.2f} "
              f"{row['cpu_p50_ms']:>8.2f} {row['p95_x_baseline']:>8.1f}× {row['entities_mean']:>9} "
              f"{row['deepest_mean']:>8}", flush=True)
        rows.append(row)
    return rows


def profile(engine: sa.Engine, graph: Graph, runs: int) -> None:
    """cProfile of the core call at pyatlan's largest usual page: where a walk's time goes."""
    call = dict(kinds(engine, graph, runs))[PROFILED]
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(runs):
        call(i)
    profiler.disable()
    print(f"\ncProfile of {runs} calls of '{PROFILED}':")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


def build(engine: sa.Engine, args: argparse.Namespace, report: dict) -> Graph:
    started = time.perf_counter()
    graph = load(engine, args)
    report["build_seconds"] = round(time.perf_counter() - started, 1)
    with engine.connect() as conn:
        report["edges"] = conn.execute(sa.text("SELECT count(*) FROM lineage_edges")).scalar()
        report["processes"] = conn.execute(sa.text("SELECT count(*) FROM assets WHERE type_name = 'Process'")).scalar()
    report["graph"] = describe(graph)
    print(f"built {graph.rows:,} assets ({report['processes']:,} processes) in {report['build_seconds']} s; "
          f"lineage_edges {report['edges']:,}; {report['graph']}", flush=True)
    return graph


def run_sqlite(args: argparse.Namespace) -> dict:
    report: dict = {"backend": "sqlite"}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "catalog.db"
        engine = open_engine(f"sqlite:///{path}")
        graph = build(engine, args, report)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        report["database_mb"] = round(path.stat().st_size / 2**20)
        print(f"SQLite file {report['database_mb']:,} MB", flush=True)
        report["results"] = measure_all(engine, graph, args.starts, "SQLite")
        if args.profile:
            profile(engine, graph, args.starts)
        engine.dispose()
    return report


def _pg_sizes(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        sizes = dict(conn.execute(sa.text(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'")).all())
    return {"database_mb": round(sum(sizes.values()) / 2**20), "assets_mb": round(sizes["assets"] / 2**20),
            "lineage_edges_mb": round(sizes["lineage_edges"] / 2**20)}


def run_postgresql(args: argparse.Namespace) -> dict:
    report: dict = {"backend": "postgresql"}
    with postgres_schema(args.postgres_url, "lineage") as url:
        engine = open_engine(url)
        with engine.begin() as conn:  # the statistics are part of what is measured: no autovacuum meanwhile
            for table in ("assets", "lineage_edges", "asset_words"):
                conn.execute(sa.text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
        graph = build(engine, args, report)
        started = time.perf_counter()
        refresh_statistics(engine, graph.rows)
        report["refresh_statistics_seconds"] = round(time.perf_counter() - started, 1)
        report.update(_pg_sizes(engine))
        print(f"refresh_statistics in {report['refresh_statistics_seconds']} s; schema {report['database_mb']:,} MB "
              f"(assets {report['assets_mb']:,} MB, lineage_edges {report['lineage_edges_mb']:,} MB)", flush=True)
        report["results"] = measure_all(engine, graph, args.starts, "PostgreSQL, as a crawl leaves it")
        if args.profile:
            profile(engine, graph, args.starts)
        engine.dispose()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres-url", default=os.environ.get("GAZETTEER_BENCH_POSTGRES_URL", POSTGRES_URL))
    parser.add_argument("--processes", type=int, default=100_000)
    parser.add_argument("--tables", type=int, default=100_000)
    parser.add_argument("--layers", type=int, default=20, help=f"more than {DEPTH + 1}")
    parser.add_argument("--code-bytes", type=int, default=8000, help="size of a Glue job process's script")
    parser.add_argument("--starts", type=int, default=200, help="start tables (calls) per kind")
    parser.add_argument("--profile", action="store_true", help="cProfile the slowest kind")
    args = parser.parse_args()
    if args.layers <= DEPTH + 1:
        parser.error(f"--layers must be more than {DEPTH + 1}: the walks start {DEPTH} layers from an end")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still drop the scratch schema when killed
    reports = []
    if args.backend in ("sqlite", "both"):
        reports.append(run_sqlite(args))
    if args.backend in ("postgresql", "both"):
        reports.append(run_postgresql(args))
    json.dump(reports, sys.stdout)
    print()


if __name__ == "__main__":
    main()
