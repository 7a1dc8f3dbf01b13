"""Fast synthetic catalogs for benchmarks, written straight into moto's Glue backend.

Creating 10,000 tables over HTTP costs about 30 s against moto; benchmarks want to measure the crawler,
not the setup. This runs inside the local Glue server process (via ``POST /_local_glue/seed-synthetic``)
and fills ``moto.glue.models.glue_backends[account][region]`` directly. The result is indistinguishable,
through the API, from tables created with CreateTable/BatchCreatePartition.

Everything is derived from the indices, so the same arguments always produce the same catalog.
"""

from __future__ import annotations

from typing import Any

# A realistic mix, including the nested types that trip up type parsers.
_COLUMN_KINDS: list[tuple[str, str, str]] = [
    ("id", "bigint", "Surrogate key"),
    ("customer_id", "string", "Customer identifier from the CRM"),
    ("amount", "decimal(18,2)", "Amount in the account currency"),
    ("created_at", "timestamp", "When the record was created (UTC)"),
    ("is_active", "boolean", "Whether the record is active"),
    ("score", "double", "Model score between 0 and 1"),
    ("event_date", "date", "Business date of the event"),
    ("quantity", "int", "Number of units"),
    ("tags", "array<string>", "Free-form labels"),
    ("attributes", "map<string,string>", "Additional key/value attributes"),
    (
        "address",
        "struct<street:string,city:string,zip:string,geo:struct<lat:double,lon:double>>",
        "Postal address",
    ),
    ("country_code", "string", "ISO 3166-1 alpha-2 country code"),
]


def _columns(count: int) -> list[dict[str, Any]]:
    columns = []
    for i in range(count):
        base, col_type, comment = _COLUMN_KINDS[i % len(_COLUMN_KINDS)]
        # Suffix only on repeats, so narrow tables keep natural names.
        name = base if i < len(_COLUMN_KINDS) else f"{base}_{i // len(_COLUMN_KINDS)}"
        columns.append({"Name": name, "Type": col_type, "Comment": comment})
    return columns


def _partitioned(index: int, tables: int, fraction: float) -> bool:
    """Spread round(tables * fraction) partitioned tables evenly over the indices."""
    wanted = round(tables * fraction)
    return (index * wanted) // tables != ((index + 1) * wanted) // tables if tables else False


def _table_input(
    db: str, name: str, d: int, t: int, columns: list[dict[str, Any]], partitioned: bool
) -> dict[str, Any]:
    location = f"s3://bench-lake-{d % 4}/{db}/{name}/"
    record_count = (d * 7919 + t * 104729) % 50_000_000 + 1_000
    average_size = 80 + (t % 17) * 12
    objects = 1 + record_count // 250_000
    table_input: dict[str, Any] = {
        "Name": name,
        "Description": f"Synthetic benchmark table {name} in {db}",
        "Owner": f"team_{d % 7}",
        "TableType": "EXTERNAL_TABLE",
        "Retention": 0,
        "Parameters": {
            "classification": "parquet",
            "compressionType": "snappy",
            "typeOfData": "file",
            "recordCount": str(record_count),
            "averageRecordSize": str(average_size),
            "objectCount": str(objects),
            "sizeKey": str(record_count * average_size // 4),
            "EXTERNAL": "TRUE",
        },
        "StorageDescriptor": {
            "Columns": columns,
            "Location": location,
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "Compressed": False,
            "NumberOfBuckets": -1,
            "SerdeInfo": {
                "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                "Parameters": {"serialization.format": "1"},
            },
            "BucketColumns": [],
            "SortColumns": [],
            "StoredAsSubDirectories": False,
        },
        "PartitionKeys": [],
    }
    if partitioned:
        table_input["PartitionKeys"] = [
            {"Name": "dt", "Type": "string", "Comment": "Partition date (yyyy-mm-dd)"},
            {"Name": "region", "Type": "string", "Comment": "Sales region"},
        ]
    return table_input


def _partition_input(table_input: dict[str, Any], p: int) -> dict[str, Any]:
    regions = ("eu", "us", "apac")
    day = 1 + p // len(regions)
    # Dates stay valid for any P: roll over months within 2024 and then years.
    year, month, dom = 2024 + (day - 1) // 336, 1 + ((day - 1) // 28) % 12, 1 + (day - 1) % 28
    dt = f"{year:04d}-{month:02d}-{dom:02d}"
    region = regions[p % len(regions)]
    sd = table_input["StorageDescriptor"]
    return {
        "Values": [dt, region],
        "StorageDescriptor": {
            # Shared list: moto only reads it, and copying 10^5 column lists would dominate the run time.
            "Columns": sd["Columns"],
            "Location": f"{sd['Location']}dt={dt}/region={region}/",
            "InputFormat": sd["InputFormat"],
            "OutputFormat": sd["OutputFormat"],
            "SerdeInfo": sd["SerdeInfo"],
        },
        "Parameters": {"recordCount": str(1000 + p * 37), "objectCount": "1"},
    }


def seed_synthetic(
    region: str = "us-east-1",
    databases: int = 1,
    tables: int = 10,
    columns: int = 10,
    partitioned_fraction: float = 0.333,
    partitions_per_table: int = 0,
    account_id: str = "123456789012",
    database_prefix: str = "bench_db_",
) -> dict[str, Any]:
    """Create ``databases`` databases with ``tables`` tables each (so databases * tables in total).

    Existing databases and tables are kept, which makes a repeated call cheap and idempotent.
    Returns how many databases, tables and partitions now exist from this seeding, and how many were new.
    """
    from moto.glue.models import glue_backends  # only the server process has (and needs) moto loaded

    if databases < 0 or tables < 0 or columns < 0 or partitions_per_table < 0:
        raise ValueError("counts must not be negative")
    if not 0.0 <= partitioned_fraction <= 1.0:
        raise ValueError("partitioned_fraction must be within [0, 1]")
    backend = glue_backends[account_id][region]
    created = {"databases": 0, "tables": 0, "partitions": 0}
    totals = {"databases": 0, "tables": 0, "partitioned_tables": 0, "partitions": 0, "columns": 0}
    for d in range(databases):
        db_name = f"{database_prefix}{d:03d}"
        if db_name not in backend.databases:
            backend.create_database(
                db_name,
                {
                    "Name": db_name,
                    "Description": f"Synthetic benchmark database {d}",
                    "LocationUri": f"s3://bench-lake-{d % 4}/{db_name}/",
                    "Parameters": {"owner_team": f"team_{d % 7}"},
                },
            )
            created["databases"] += 1
        database = backend.databases[db_name]
        totals["databases"] += 1
        for t in range(tables):
            name = f"t_{t:05d}"
            partitioned = _partitioned(t, tables, partitioned_fraction)
            if name not in database.tables:
                table_input = _table_input(db_name, name, d, t, _columns(columns), partitioned)
                table = backend.create_table(db_name, name, table_input)
                created["tables"] += 1
                if partitioned:
                    for p in range(partitions_per_table):
                        table.create_partition(_partition_input(table_input, p))
                    created["partitions"] += partitions_per_table
            table = database.tables[name]
            totals["tables"] += 1
            totals["columns"] += len((table.as_dict().get("StorageDescriptor") or {}).get("Columns") or [])
            if partitioned:
                totals["partitioned_tables"] += 1
                totals["partitions"] += len(table.partitions)
    return {**totals, "created": created, "region": region, "account_id": account_id}
