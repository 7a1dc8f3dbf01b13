"""Search benchmark: index_search and get_entity latency over a catalog of a million assets, on SQLite.

    python bench/search.py [--tables 50000 --columns 20 --queries 200] [--keep PATH] [--write-cost]

Generates 1 connection, 1 database, 50 schemas, `--tables` tables with `--columns` columns each (names from
business and column vocabularies, half the tables and a third of the columns described) straight into a
fresh SQLite store. Rows are inserted in bulk, but through the real schema: the FTS triggers of migration
0004 index every row as a crawl would. Then each query kind runs `--queries` times with varied inputs and
p50/p95 are printed (after 10 warm-up calls each, as on a running server). `--write-cost` also times the
crawl's Publisher writing 2,000 tables × 20 columns with and without the search structures of migration
0004 (its FTS triggers and three indexes): what search adds to a first crawl's writes.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from gazetteer.assets.entities import get_entity
from gazetteer.assets.publish import Publisher
from gazetteer.assets.records import AssetRecord
from gazetteer.assets.search import index_search
from gazetteer.store import open_engine

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


def generate(engine, tables: int, columns: int, seed: int = 7) -> dict:
    """Insert the synthetic catalog; returns what the queries draw from (guids, names)."""
    rng, now = random.Random(seed), datetime.now(UTC).replace(tzinfo=None)
    base = {"connectionQualifiedName": CONNECTION, "connectionName": "bench", "connectorName": "glue"}
    db = {**base, "databaseName": "AwsDataCatalog", "databaseQualifiedName": DATABASE}
    schemas = [f"{DATABASE}/{word}_{i:02d}" for i, word in enumerate(rng.choices(BUSINESS, k=50))]
    sql = ("INSERT INTO assets (guid, type_name, qualified_name, name, status, connection_qualified_name, "
           "schema_qualified_name, parent_qualified_name, attributes, content_hash, created_at, updated_at) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    head = [_row(rng, "Connection", CONNECTION, "bench", None, None, {"connectorName": "glue"}, now),
            _row(rng, "Database", DATABASE, "AwsDataCatalog", CONNECTION, None, base, now)]
    head += [_row(rng, "Schema", qn, qn.rsplit("/", 1)[1], DATABASE, qn, db, now) for qn in schemas]
    raw = engine.raw_connection()
    drawn: dict = {"tables": [], "schemas": schemas}
    try:
        cursor = raw.cursor()
        cursor.executemany(sql, head)
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
                cursor.executemany(sql, batch)
                raw.commit()
                batch.clear()
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
    times.sort()
    row = {"query": label, "runs": runs, "p50_ms": round(statistics.median(times), 1),
           "p95_ms": round(times[int(0.95 * (runs - 1))], 1), "max_ms": round(times[-1], 1)}
    print(f"{label:<52} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} {row['max_ms']:>8.1f}", flush=True)
    return row


def queries(engine, drawn: dict, runs: int) -> list[dict]:
    rng = random.Random(11)
    tables, schemas = drawn["tables"], drawn["schemas"]
    words = [rng.choice(BUSINESS) for _ in range(runs)]
    texts = [w if i % 3 else f"{w} {rng.choice(BUSINESS)[:4]}" for i, w in enumerate(words)]
    active = {"term": {"__state": "ACTIVE"}}

    def full_text(i: int) -> object:
        return index_search(engine, {"dsl": {"size": 25, "query": {"bool": {
            "must": [{"multi_match": {"query": texts[i]}}], "filter": [active]}}}})

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

    print(f"{'query':<52} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    return [
        measure("full text (multi_match, ranked, 25 hits)", runs, full_text),
        measure("prefix qualifiedName: a table's columns (by guid)", runs, prefix_table),
        measure("prefix qualifiedName + type: a schema's 1,000 tables", runs, prefix_schema_tables),
        measure("prefix qualifiedName: all 21,000 assets of a schema", runs, prefix_schema),
        measure("type Table + facets __typeName, schemaQualifiedName", runs, typed),
        measure("entity by guid, with relationships (20 columns)", runs, by_guid),
        measure("entity by type + qualifiedName", runs, by_qualified_name),
    ]


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", type=int, default=50_000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="reuse (or keep) the generated catalog at this path")
    parser.add_argument("--write-cost", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "catalog.db"
        fresh = not path.exists()
        engine = open_engine(f"sqlite:///{path}")
        if fresh:
            started = time.perf_counter()
            drawn = generate(engine, args.tables, args.columns)
            total = 52 + args.tables * (1 + args.columns)
            seconds = time.perf_counter() - started
            print(f"generated {total:,} assets in {seconds:.0f} s ({total / seconds:,.0f} rows/s with FTS triggers); "
                  f"file {path.stat().st_size / 2**20:,.0f} MB", flush=True)
        else:
            import sqlalchemy as sa

            with engine.connect() as conn:
                rows = conn.exec_driver_sql("SELECT guid, qualified_name FROM assets WHERE type_name = 'Table'")
                drawn = {"tables": [tuple(r) for r in rows], "schemas": [r[0] for r in conn.execute(sa.text(
                    "SELECT qualified_name FROM assets WHERE type_name = 'Schema'"))]}
        results = queries(engine, drawn, args.queries)
        engine.dispose()
        report = {"assets": 52 + args.tables * (1 + args.columns), "results": results}
        if args.write_cost:
            report["write_cost_seconds"] = write_cost(Path(tmp))
            print(f"publish 42,000 assets: {report['write_cost_seconds']}")
        json.dump(report, sys.stdout)
        print()


if __name__ == "__main__":
    main()
