"""Search benchmark: index_search and get_entity latency over a catalog of a million assets, SQLite or PostgreSQL.

    python bench/search.py [--tables 50000 --columns 20 --queries 200] [--keep PATH] [--write-cost]
    python bench/search.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test \
        [--keep SCHEMA] [--no-analyze | --states] [--explain]

Generates 1 connection, 1 database, 50 schemas, `--tables` tables with `--columns` columns each (names from
business and column vocabularies, half the tables and a third of the columns described) straight into a
fresh SQLite store. Rows are inserted in bulk, but through the real schema: the FTS triggers of migration
0004 index every row as a crawl would. Then each query kind runs `--queries` times with varied inputs and
p50/p95 are printed (after 10 warm-up calls each, as on a running server). `--write-cost` also times the
crawl's Publisher writing 2,000 tables × 20 columns with and without the search structures of migration
0004 (its FTS triggers and three indexes): what search adds to a first crawl's writes.

On PostgreSQL (`--database-url`) the catalog goes into a scratch schema of its own, dropped at the end, or
with `--keep SCHEMA` into that named schema, kept and reused by later runs with the same `--keep`. Rows are
COPYed in batches through the real schema (migration 0009's triggers fill `asset_words`, and PostgreSQL every
index, as on a crawl's inserts). The load ends as a crawl ends: with `refresh_statistics` (VACUUM ANALYZE
when the load is a large share of the catalog), unless `--no-analyze`. `--states` measures three states of one
fresh catalog: right after the load with no statistics at all (autovacuum disabled on `assets` meanwhile),
after `refresh_statistics`, and after `VACUUM ANALYZE`. `--explain` prints EXPLAIN (ANALYZE, BUFFERS) of the
statements each query kind runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from gazetteer.api.asset_search import index_search
from gazetteer.api.entities import get_entity
from gazetteer.assets.publish import Publisher
from gazetteer.assets.records import AssetRecord
from gazetteer.store import open_engine
from gazetteer.store.statistics import refresh_statistics

CONNECTION = "default/glue/1700000000"
DATABASE = f"{CONNECTION}/AwsDataCatalog"
BUSINESS = (  # noqa: SIM905 - a readable word list
    "customer order invoice payment shipment product inventory warehouse supplier account ledger "
    "revenue refund return campaign click session visit device store region country currency price "
    "discount coupon cart checkout subscription plan usage event metric forecast budget employee "
    "payroll contract partner lead opportunity ticket support review rating catalog category brand "
    "vendor purchase receipt tax fraud risk credit loan transaction transfer balance portfolio "
    "position trade quote market exchange fund claim policy premium patient lab").split()
PREFIXES = ("fact", "dim", "stg", "raw", "agg", "int", "rpt", "tmp")
COLUMNS = sorted({f"{word}_{suffix}" for word in BUSINESS[:40] for suffix in ("id", "name", "code", "date")}
                 | {"id", "created_at", "updated_at", "deleted_at", "amount", "quantity", "status", "type",
                    "description", "email", "phone", "address", "city", "zip", "note", "source", "version",
                    "is_active", "is_deleted", "dt", "hour", "year", "month", "day", "ingested_at"})


def _row(rng: random.Random, type_name: str, qn: str, name: str, parent: str | None, schema: str | None,
         attributes: dict, now: datetime) -> tuple:
    guid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return (guid, type_name, qn, name, "ACTIVE", CONNECTION, schema, parent, json.dumps(attributes),
            "0" * 32, now.isoformat(sep=" "), now.isoformat(sep=" "))


COLUMNS_SQL = ("guid, type_name, qualified_name, name, status, connection_qualified_name, schema_qualified_name, "
               "parent_qualified_name, attributes, content_hash, created_at, updated_at")


def rows(tables: int, columns: int, drawn: dict, seed: int = 7):
    """Yield batches of asset rows (tuples in COLUMNS_SQL order); fills `drawn` with what the queries use."""
    rng, now = random.Random(seed), datetime.now(UTC).replace(tzinfo=None)
    base = {"connectionQualifiedName": CONNECTION, "connectionName": "bench", "connectorName": "glue"}
    db = {**base, "databaseName": "AwsDataCatalog", "databaseQualifiedName": DATABASE}
    schemas = [f"{DATABASE}/{word}_{i:02d}" for i, word in enumerate(rng.choices(BUSINESS, k=50))]
    drawn.update(tables=[], schemas=schemas)
    head = [_row(rng, "Connection", CONNECTION, "bench", None, None, {"connectorName": "glue"}, now),
            _row(rng, "Database", DATABASE, "AwsDataCatalog", CONNECTION, None, base, now)]
    head += [_row(rng, "Schema", qn, qn.rsplit("/", 1)[1], DATABASE, qn, db, now) for qn in schemas]
    yield head
    batch: list[tuple] = []
    for i in range(tables):
        schema = schemas[i % len(schemas)]
        words = rng.sample(BUSINESS, 2)
        name = f"{rng.choice(PREFIXES)}_{words[0]}_{words[1]}_{i}"
        qn = f"{schema}/{name}"
        attributes = {**db, "schemaName": schema.rsplit("/", 1)[1], "schemaQualifiedName": schema,
                      "columnCount": columns, "rowCount": rng.randrange(10**7)}
        if rng.random() < 0.5:
            attributes["description"] = f"{words[0].title()} {words[1]}s from the {rng.choice(BUSINESS)} system"
        table = _row(rng, "Table", qn, name, schema, schema, attributes, now)
        batch.append(table)
        drawn["tables"].append((table[0], qn))
        for order, column in enumerate(rng.sample(COLUMNS, columns), 1):
            column_attributes = {**attributes, "tableName": name, "tableQualifiedName": qn, "order": order,
                                 "dataType": rng.choice(("string", "bigint", "timestamp", "decimal(10,2)"))}
            column_attributes.pop("description", None)
            column_attributes.pop("rowCount")
            if rng.random() < 0.3:
                column_attributes["description"] = f"The {column.replace('_', ' ')} of the {words[0]}"
            batch.append(_row(rng, "Column", f"{qn}/{column}", column, qn, schema, column_attributes, now))
        if len(batch) >= 50_000:
            yield batch
            batch = []
    yield batch


def generate(engine, tables: int, columns: int, seed: int = 7) -> dict:
    """Insert the synthetic catalog; returns what the queries draw from (guids, names).

    SQLite: `executemany` of 50,000 rows per transaction (the FTS triggers index each row). PostgreSQL: COPY,
    about 200,000 rows per transaction; the asset_words triggers and every index fire as on INSERT.
    """
    drawn: dict = {}
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            conn = raw.driver_connection  # psycopg 3
            pending = 0
            with conn.cursor() as cursor:
                for batch in rows(tables, columns, drawn, seed):
                    with cursor.copy(f"COPY assets ({COLUMNS_SQL}) FROM STDIN") as copy:
                        for row in batch:
                            copy.write_row(row)
                    pending += len(batch)
                    if pending >= 200_000:
                        conn.commit()
                        pending = 0
            conn.commit()
        else:
            sql = f"INSERT INTO assets ({COLUMNS_SQL}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            cursor = raw.cursor()
            for batch in rows(tables, columns, drawn, seed):
                cursor.executemany(sql, batch)
                raw.commit()
    finally:
        raw.close()
    return drawn


def measure(label: str, runs: int, call: Callable[[int], object]) -> dict:
    for i in range(min(10, runs)):  # warm the page cache, as a running server's is
        call(i)
    times = []
    for i in range(runs):
        started = time.perf_counter()
        call(i)
        times.append((time.perf_counter() - started) * 1000)
    slowest = max(range(runs), key=times.__getitem__)
    times.sort()
    row = {"query": label, "runs": runs, "p50_ms": round(statistics.median(times), 1),
           "p95_ms": round(times[int(0.95 * (runs - 1))], 1), "max_ms": round(times[-1], 1), "slowest_run": slowest}
    print(f"{label:<52} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} {row['max_ms']:>8.1f}", flush=True)
    return row


def kinds(engine, drawn: dict, runs: int) -> list[tuple[str, Callable[[int], object]]]:
    """Each query kind: its label and a call taking the run number (inputs drawn from a fixed seed)."""
    rng = random.Random(11)
    tables, schemas = drawn["tables"], drawn["schemas"]
    words = [rng.choice(BUSINESS) for _ in range(runs)]
    texts = [w if i % 3 else f"{w} {rng.choice(BUSINESS)[:4]}" for i, w in enumerate(words)]
    active = {"term": {"__state": "ACTIVE"}}

    def full_text(i: int, exact: bool = False) -> object:
        return index_search(engine, {"dsl": {"size": 25, **({"track_total_hits": True} if exact else {}),
                                             "query": {"bool": {"must": [{"multi_match": {"query": texts[i]}}],
                                                                "filter": [active]}}}})

    def prefix_table(i: int) -> object:
        return index_search(engine, {"dsl": {"size": 25, "sort": [{"__guid": "asc"}], "query": {"bool": {
            "filter": [active, {"prefix": {"qualifiedName": rng.choice(tables)[1] + "/"}}]}}}})

    def prefix_schema_tables(i: int) -> object:
        return index_search(engine, {"dsl": {"size": 25, "query": {"bool": {
            "filter": [active, {"prefix": {"qualifiedName": rng.choice(schemas) + "/"}},
                       {"term": {"__typeName.keyword": "Table"}}]}}}})

    def prefix_schema(i: int) -> object:
        return index_search(engine, {"dsl": {"size": 25, "query": {"bool": {
            "filter": [active, {"prefix": {"qualifiedName": rng.choice(schemas) + "/"}}]}}}})

    facets = {"types": {"terms": {"field": "__typeName.keyword"}},
              "schemas": {"terms": {"field": "schemaQualifiedName", "size": 10}}}

    def typed(i: int) -> object:
        return index_search(engine, {"dsl": {"from": 25 * rng.randrange(40), "size": 25, "aggregations": facets,
                                             "query": {"bool": {"filter": [
                                                 active, {"term": {"__typeName.keyword": "Table"}}]}}}})

    def by_guid(i: int) -> object:
        return get_entity(engine, guid=rng.choice(tables)[0], relationships=True)

    def by_qualified_name(i: int) -> object:
        return get_entity(engine, type_name="Table", qualified_name=rng.choice(tables)[1])

    return [
        ("full text (multi_match, ranked, 25 hits)", full_text),
        ("full text, exact total (track_total_hits: true)", lambda i: full_text(i, exact=True)),
        ("prefix qualifiedName: a table's columns (by guid)", prefix_table),
        ("prefix qualifiedName + type: a schema's 1,000 tables", prefix_schema_tables),
        ("prefix qualifiedName: all 21,000 assets of a schema", prefix_schema),
        ("type Table + facets __typeName, schemaQualifiedName", typed),
        ("entity by guid, with relationships (20 columns)", by_guid),
        ("entity by type + qualifiedName", by_qualified_name),
    ]


def queries(engine, drawn: dict, runs: int, title: str = "") -> list[dict]:
    print(f"{title or 'query':<52} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}", flush=True)
    return [measure(label, runs, call) for label, call in kinds(engine, drawn, runs)]


def explain(engine, drawn: dict, runs: int, slowest: dict[str, int] | None = None) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) each statement one query of each kind runs (PostgreSQL), as it ran it.

    Full text's inputs depend on the run number only: its runs 0 (two words) and 1 (one word) are explained,
    and the slowest run of the last measurement (`slowest`); the other kinds draw their inputs at random.
    """
    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            captured.append((statement, parameters))

    plans = {}
    for label, call in kinds(engine, drawn, runs):
        plans[label] = []
        picked = dict.fromkeys([0, 1, (slowest or {}).get(label, 0)]) if label.startswith("full text") else (0,)
        for i in picked:
            captured.clear()
            sa.event.listen(engine, "before_cursor_execute", capture)
            try:
                call(i)
            finally:
                sa.event.remove(engine, "before_cursor_execute", capture)
            plans[label] += _explain(engine, f"{label}, run {i}", list(captured))
    return plans


def _explain(engine, label: str, statements: list) -> list[dict]:
    plans = []
    print(f"\n=== {label}: {len(statements)} statement(s)", flush=True)
    with engine.connect() as conn:
        for statement, parameters in statements:
            raw = conn.connection.driver_connection
            with raw.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) " + statement, parameters or None)
                plan = "\n".join(r[0] for r in cursor.fetchall())
            raw.rollback()
            plans.append({"sql": statement, "parameters": repr(parameters), "plan": plan})
            print(f"--- {statement}\n    parameters: {parameters!r}\n{plan}\n", flush=True)
    return plans


def write_cost(home: Path) -> dict:
    """Seconds for the Publisher to write 2,000 tables × 20 columns, with and without 0004's structures."""
    records = []
    for t in range(2000):
        qn = f"{DATABASE}/db_{t % 4}/table_{t}"
        records.append(AssetRecord("Table", qn, f"table_{t}", qn.rsplit("/", 1)[0], {
            "connectionQualifiedName": CONNECTION, "description": f"Table {t} of the lake", "columnCount": 20}))
        records += [AssetRecord("Column", f"{qn}/col_{c}", f"col_{c}", qn,
                                {"connectionQualifiedName": CONNECTION, "order": c, "dataType": "string"})
                    for c in range(1, 21)]  # as a crawl writes them: a table, then its columns in order
    out = {}
    for label in ("with_fts", "without_fts"):
        engine = open_engine(f"sqlite:///{home / label}.db")
        if label == "without_fts":  # everything migration 0004 adds for search: triggers and indexes
            with engine.begin() as conn:
                for trigger in ("insert", "insert_last_column", "insert_lone_column", "delete", "delete_column",
                                "update", "update_column"):
                    conn.exec_driver_sql(f"DROP TRIGGER assets_fts_{trigger}")
                for index in ("lower_name", "type_status_schema", "status_qualified_name"):
                    conn.exec_driver_sql(f"DROP INDEX ix_assets_{index}")
        started = time.perf_counter()
        publisher = Publisher(engine)
        for start in range(0, len(records), 2100):  # pages of 100 tables, as a crawl publishes them
            publisher.publish(records[start:start + 2100])
        out[label] = round(time.perf_counter() - started, 2)
        engine.dispose()
    out["overhead"] = f"{(out['with_fts'] / out['without_fts'] - 1) * 100:.0f}%"
    return out


def _sqlite(args, report: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep) if args.keep else Path(tmp) / "catalog.db"
        fresh = not path.exists()
        engine = open_engine(f"sqlite:///{path}")
        if fresh:
            started = time.perf_counter()
            drawn = generate(engine, args.tables, args.columns)
            seconds = time.perf_counter() - started
            report["load_seconds"] = round(seconds, 1)
            print(f"generated {report['assets']:,} assets in {seconds:.0f} s ({report['assets'] / seconds:,.0f} "
                  f"rows/s with FTS triggers); file {path.stat().st_size / 2**20:,.0f} MB", flush=True)
        else:
            drawn = _drawn(engine)
        report["results"] = queries(engine, drawn, args.queries)
        engine.dispose()
        if args.write_cost:
            report["write_cost_seconds"] = write_cost(Path(tmp))
            print(f"publish 42,000 assets: {report['write_cost_seconds']}")


def _drawn(engine) -> dict:
    with engine.connect() as conn:
        tables = conn.execute(sa.text("SELECT guid, qualified_name FROM assets WHERE type_name = 'Table' ORDER BY id"))
        drawn = {"tables": [tuple(r) for r in tables]}
        drawn["schemas"] = [r[0] for r in conn.execute(sa.text(
            "SELECT qualified_name FROM assets WHERE type_name = 'Schema' ORDER BY id"))]
    return drawn


@contextlib.contextmanager
def _schema(args):
    """The URL of the bench's own schema: a scratch one, or the named `--keep` one (created if missing)."""
    if not args.keep:
        from gazetteer.devtools.scratch_schema import scratch_schema

        with scratch_schema(args.database_url, prefix="bench_search") as url:
            yield url
        return
    from gazetteer.devtools.scratch_schema import create_schema

    admin = sa.create_engine(args.database_url)
    with admin.begin() as conn:
        create_schema(conn, args.keep)
    admin.dispose()
    url = sa.make_url(args.database_url).update_query_dict({"options": f"-csearch_path={args.keep}"})
    yield url.render_as_string(hide_password=False)


def _postgresql(args, report: dict) -> None:
    with _schema(args) as url:
        engine = open_engine(url)
        with engine.connect() as conn:
            count = conn.execute(sa.text("SELECT count(*) FROM assets")).scalar()
        fresh = count == 0
        if fresh:
            # Statistics are what is measured: autovacuum must not analyze the table behind the bench's back.
            with engine.begin() as conn:
                conn.execute(sa.text("ALTER TABLE assets SET (autovacuum_enabled = false)"))
            started = time.perf_counter()
            drawn = generate(engine, args.tables, args.columns)
            seconds = time.perf_counter() - started
            report["load_seconds"] = round(seconds, 1)
            with engine.connect() as conn:
                size = conn.execute(sa.text("SELECT pg_total_relation_size('assets')")).scalar()
                index_sizes = dict(conn.execute(sa.text(
                    "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index "
                    "WHERE indrelid = 'assets'::regclass")).all())
            report["size_mb"] = round(size / 2**20)
            report["index_mb"] = {k: round(v / 2**20) for k, v in index_sizes.items()}
            print(f"loaded {report['assets']:,} assets in {seconds:.0f} s ({report['assets'] / seconds:,.0f} rows/s, "
                  f"COPY through the asset_words triggers and indexes); assets with indexes "
                  f"{size / 2**20:,.0f} MB; indexes {report['index_mb']}", flush=True)
        else:
            drawn = _drawn(engine)
            print(f"reusing the {count:,} assets of schema {args.keep}", flush=True)
        changed = report["assets"] if fresh else 0
        try:
            if args.states:
                if not fresh:
                    print("--states needs a freshly loaded catalog (never analyzed): measuring its current state only")
                else:
                    report["states"] = {"no statistics (right after the load, --no-analyze)":
                                        queries(engine, drawn, args.queries, "no statistics")}
                    _analyze(engine, changed, report)
                    report["states"]["after refresh_statistics (what a crawl leaves)"] = queries(
                        engine, drawn, args.queries, "after refresh_statistics")
                    _vacuum(engine, report)
                    report["states"]["after VACUUM ANALYZE"] = queries(engine, drawn, args.queries,
                                                                       "after VACUUM ANALYZE")
            else:
                if fresh and not args.no_analyze:
                    _analyze(engine, changed, report)
                report["results"] = queries(engine, drawn, args.queries)
        finally:
            if fresh:
                with engine.begin() as conn:
                    conn.execute(sa.text("ALTER TABLE assets RESET (autovacuum_enabled)"))
        if args.explain:
            last = report.get("results") or list(report.get("states", {}).values())[-1]
            report["explain"] = explain(engine, drawn, args.queries, {r["query"]: r["slowest_run"] for r in last})
        engine.dispose()


def _analyze(engine, changed: int, report: dict) -> None:
    started = time.perf_counter()
    done = refresh_statistics(engine, changed)
    report["analyze_seconds"] = round(time.perf_counter() - started, 1)
    print(f"refresh_statistics({changed:,} changed rows): analyzed={done} in {report['analyze_seconds']} s", flush=True)


def _vacuum(engine, report: dict) -> None:
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE assets"))
    report["vacuum_analyze_seconds"] = round(time.perf_counter() - started, 1)
    print(f"VACUUM ANALYZE assets in {report['vacuum_analyze_seconds']} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", type=int, default=50_000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--database-url", help="run on this PostgreSQL database (in a schema of the bench's own)")
    parser.add_argument("--keep", help="reuse (or keep) the generated catalog: a file path on SQLite, a schema "
                                       "name on PostgreSQL")
    states = parser.add_mutually_exclusive_group()
    states.add_argument("--no-analyze", action="store_true",
                        help="PostgreSQL: no refresh_statistics after the load (the behaviour before it)")
    states.add_argument("--states", action="store_true", help="PostgreSQL: measure with no statistics, after "
                        "refresh_statistics and after VACUUM ANALYZE (needs a fresh load)")
    parser.add_argument("--explain", action="store_true",
                        help="PostgreSQL: EXPLAIN (ANALYZE, BUFFERS) each query kind's statements at the end")
    parser.add_argument("--write-cost", action="store_true", help="SQLite only")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still drop the scratch schema when killed
    report: dict = {"assets": 52 + args.tables * (1 + args.columns)}
    if args.database_url:
        _postgresql(args, report)
    else:
        _sqlite(args, report)
    report.pop("explain", None)  # printed above, too long for the summary line
    json.dump(report, sys.stdout)
    print()


if __name__ == "__main__":
    main()
