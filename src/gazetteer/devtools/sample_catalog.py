"""A small but nasty demo catalog, created through ordinary Glue API calls.

Every entry reproduces something real crawlers get wrong (see docs/glue-field-notes.md): several storage
formats and SerDes, partitions, nested and odd type strings, Athena and Spark views (with a CTE, a view over a
view, a ``SELECT *``), an Iceberg table with a dropped column, a Spark-written Delta table with its fake
``col array<string>`` schema, an empty database, resource links, column statistics, and the Glue jobs (their
scripts in S3) and crawler that lineage comes from (see ``sample_jobs``). It works against real Glue as well as
against the local endpoint.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from gazetteer.devtools.sample_jobs import seed_sample_jobs

LAKE = "s3://gazetteer-demo-lake"
ACCOUNT = "123456789012"
PARTNER_ACCOUNT = "210987654321"

_HIVE_TEXT_IN = "org.apache.hadoop.mapred.TextInputFormat"
_HIVE_TEXT_OUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
_FORMATS: dict[str, dict[str, Any]] = {
    "parquet": {
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {
            "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
            "Parameters": {"serialization.format": "1"},
        },
    },
    "csv": {
        "InputFormat": _HIVE_TEXT_IN,
        "OutputFormat": _HIVE_TEXT_OUT,
        "SerdeInfo": {
            "SerializationLibrary": "org.apache.hadoop.hive.serde2.OpenCSVSerde",
            "Parameters": {"separatorChar": ",", "quoteChar": '"', "escapeChar": "\\"},
        },
    },
    "json": {
        "InputFormat": _HIVE_TEXT_IN,
        "OutputFormat": _HIVE_TEXT_OUT,
        "SerdeInfo": {
            "SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe",
            "Parameters": {"paths": "event_id,event_type,occurred_at,context,user_id"},
        },
    },
    "orc": {
        "InputFormat": "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.orc.OrcSerde", "Parameters": {}},
    },
    "avro": {
        "InputFormat": "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat",
        "SerdeInfo": {
            "SerializationLibrary": "org.apache.hadoop.hive.serde2.avro.AvroSerDe",
            "Parameters": {},
        },
    },
}

# The kind of type string that breaks naive parsers: spaces, backticks, maps of structs, deep nesting.
WIDE_EVENTS_TYPE = "array < struct < `user id`:bigint, attrs: map<string, struct<a:int,b:array<string>>> > >"
EVENTS_CONTEXT_TYPE = (
    "struct<device:struct<os:string,version:string>,tags:array<string>,props:map<string,string>>"
)


def _col(name: str, col_type: str, comment: str | None = None, **params: str) -> dict[str, Any]:
    column: dict[str, Any] = {"Name": name, "Type": col_type}
    if comment:
        column["Comment"] = comment
    if params:
        column["Parameters"] = params
    return column


def _stats(records: int, avg_size: int, objects: int) -> dict[str, str]:
    """The table parameters a Glue crawler writes; they are the only row counts most catalogs get."""
    return {
        "recordCount": str(records),
        "averageRecordSize": str(avg_size),
        "objectCount": str(objects),
        "sizeKey": str(records * avg_size),
    }


def _file_table(
    name: str, db: str, fmt: str, columns: list[dict[str, Any]], stats: dict[str, str], **extra: Any
) -> dict[str, Any]:
    params = {"classification": fmt, "EXTERNAL": "TRUE", "typeOfData": "file", **stats}
    params.update(extra.pop("parameters", {}))
    return {
        "Name": name,
        "Owner": extra.pop("owner", "data-platform"),
        "TableType": "EXTERNAL_TABLE",
        "Parameters": params,
        "StorageDescriptor": {
            "Columns": columns,
            "Location": f"{LAKE}/{db}/{name}/",
            "Compressed": False,
            **_FORMATS[fmt],
        },
        "PartitionKeys": extra.pop("partition_keys", []),
        **extra,
    }


def _sales_tables() -> list[dict[str, Any]]:
    orders_cols = [
        _col("order_id", "bigint", "Primary key of the order"),
        _col("customer_id", "string", "References customers.customer_id"),
        _col("amount", "decimal(12,2)", "Order total in EUR, taxes included"),
        _col("currency", "string", "ISO 4217 currency code"),
        _col("ordered_at", "timestamp", "When the customer placed the order (UTC)"),
        _col("status", "string", "One of NEW, PAID, SHIPPED, CANCELLED"),
    ]
    customers_cols = [
        _col("customer_id", "string", "Stable customer identifier"),
        _col("name", "string", "Full name (PII)"),
        _col("email", "string", "Contact e-mail (PII)"),
        _col("country", "string", "ISO 3166-1 alpha-2 country code"),
        _col("signup_date", "string", "yyyy-mm-dd; OpenCSVSerde reads every column as string"),
    ]
    events_cols = [
        _col("event_id", "string", "UUID of the event"),
        _col("event_type", "string", "page_view, click, purchase, ..."),
        _col("occurred_at", "timestamp", "Client timestamp"),
        _col("user_id", "string"),
        _col("context", EVENTS_CONTEXT_TYPE, "Device, tags and free-form properties"),
    ]
    line_items_cols = [
        _col("order_id", "bigint", "References orders.order_id"),
        _col("line_no", "int", "Position within the order"),
        _col("sku", "string", "Stock keeping unit"),
        _col("quantity", "int"),
        _col("unit_price", "decimal(10,2)", "Price per unit in EUR"),
    ]
    clicks_schema = {
        "type": "record",
        "name": "Click",
        "fields": [
            {"name": "click_id", "type": "string"},
            {"name": "url", "type": "string"},
            {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        ],
    }
    # The Avro SerDe derives the columns from the schema literal, hence Hive's "from deserializer".
    clicks_cols = [_col(name, kind, "from deserializer") for name, kind in
                   (("click_id", "string"), ("url", "string"), ("ts", "bigint"))]
    return [
        _file_table(
            "orders", "sales", "parquet", orders_cols, _stats(1_284_331, 96, 48),
            owner="sales-engineering",
            Description="One row per customer order",
            parameters={"compressionType": "snappy"},
            partition_keys=[
                _col("dt", "string", "Order date, yyyy-mm-dd"),
                _col("region", "string", "Sales region"),
            ],
        ),
        _file_table(
            "customers", "sales", "csv", customers_cols, _stats(52_113, 140, 1),
            Description="Customer master data exported nightly from the CRM",
            parameters={"skip.header.line.count": "1", "delimiter": ","},
        ),
        _file_table("events", "sales", "json", events_cols, _stats(9_830_112, 412, 960),
                    Description="Raw clickstream events"),
        _file_table("line_items", "sales", "orc", line_items_cols, _stats(4_020_777, 54, 64),
                    parameters={"orc.compress": "ZLIB"}),
        _file_table("clicks", "sales", "avro", clicks_cols, _stats(120_450, 88, 12),
                    parameters={"avro.schema.literal": json.dumps(clicks_schema)}),
    ]


def _order_partitions() -> list[dict[str, Any]]:
    """3 days x 2 regions; Glue partitions carry their own full StorageDescriptor."""
    base = _FORMATS["parquet"]
    columns = _sales_tables()[0]["StorageDescriptor"]["Columns"]
    partitions = []
    for i, dt in enumerate(("2024-05-01", "2024-05-02", "2024-05-03")):
        for region in ("eu", "us"):
            location = f"{LAKE}/sales/orders/dt={dt}/region={region}/"
            partitions.append({
                "Values": [dt, region],
                "StorageDescriptor": {"Columns": columns, "Location": location, **base},
                "Parameters": {"recordCount": str(40_000 + 1_000 * i), "objectCount": "2"},
            })
    return partitions


def _presto_view_text(sql: str, columns: list[dict[str, str]]) -> str:
    doc = {"originalSql": sql, "catalog": "awsdatacatalog", "schema": "analytics", "columns": columns,
           "owner": f"arn:aws:iam::{ACCOUNT}:user/analyst", "runAsInvoker": False, "properties": {}}
    return "/* Presto View: " + base64.b64encode(json.dumps(doc).encode()).decode() + " */"


def _presto_view(name: str, sql: str, columns: list[tuple[str, str]]) -> dict[str, Any]:
    """An Athena view as Athena writes it: SQL and columns (in Presto types) inside the encoded original text,
    the same columns in Hive types in the StorageDescriptor."""
    presto_cols = [{"name": col, "type": "varchar" if kind == "string" else kind} for col, kind in columns]
    return {"Name": name, "TableType": "VIRTUAL_VIEW", "Owner": "analyst",
            "ViewOriginalText": _presto_view_text(sql, presto_cols),
            "ViewExpandedText": "/* Presto View */",
            "Parameters": {"presto_view": "true", "comment": "Presto View"},
            "StorageDescriptor": {"Columns": [_col(col, kind) for col, kind in columns], "SerdeInfo": {}}}


def _spark_view(name: str, sql: str, expanded: str, columns: list[tuple[str, str]]) -> dict[str, Any]:
    """A Spark view as Spark writes it: the SQL as typed, Spark's qualified rewrite, the output columns twice."""
    out = {f"view.query.out.col.{i}": col for i, (col, _) in enumerate(columns)}
    return {"Name": name, "TableType": "VIRTUAL_VIEW", "Owner": "spark",
            "ViewOriginalText": sql, "ViewExpandedText": expanded,
            "Parameters": {"spark.sql.create.version": "3.5.1", "view.query.out.numCols": str(len(columns)), **out},
            "StorageDescriptor": {"Columns": [_col(col, kind) for col, kind in columns], "SerdeInfo": {}}}


def _spark_schema_parts() -> tuple[str, str]:
    """A real Spark StructType JSON, split in two the way Spark splits long schemas."""
    def field(name: str, ftype: Any, nullable: bool = True) -> dict[str, Any]:
        return {"name": name, "type": ftype, "nullable": nullable, "metadata": {}}

    schema = {"type": "struct", "fields": [
        field("shipment_id", "long", False),
        field("order_id", "long"),
        field("cost", "decimal(10,2)"),
        field("carrier", {"type": "struct", "fields": [
            field("name", "string"), field("service_level", "string"),
            field("contact", {"type": "struct",
                              "fields": [field("phone", "string"), field("email", "string")]}),
        ]}),
        field("checkpoints", {"type": "array", "elementType": "string", "containsNull": True}),
        field("ship_date", "date"),
    ]}
    text = json.dumps(schema, separators=(",", ":"))
    middle = len(text) // 2
    return text[:middle], text[middle:]


def _lineage_views() -> list[dict[str, Any]]:
    """Views whose lineage takes more than a FROM clause: a CTE and a join, a view over a view, ``o.*``."""
    customer_orders_sql = (
        "WITH paid AS (SELECT order_id, customer_id, amount FROM sales.orders WHERE status = 'PAID') "
        "SELECT c.customer_id, c.country, count(p.order_id) AS order_count, sum(p.amount) AS revenue "
        "FROM paid p JOIN sales.customers c ON c.customer_id = p.customer_id GROUP BY c.customer_id, c.country")
    country_revenue_sql = ("SELECT country, sum(revenue) AS revenue, sum(order_count) AS orders "
                           "FROM analytics.customer_orders GROUP BY country")
    order_lines_sql = ("SELECT o.*, li.sku, li.quantity FROM sales.orders o "
                       "JOIN sales.line_items li ON li.order_id = o.order_id")
    order_lines_expanded = ("SELECT `o`.*, `li`.`sku`, `li`.`quantity` FROM `spark_catalog`.`sales`.`orders` `o` "
                            "JOIN `spark_catalog`.`sales`.`line_items` `li` ON `li`.`order_id` = `o`.`order_id`")
    orders = _sales_tables()[0]
    # What `o.*` stands for: all of orders' columns, its partition keys last, as Glue lists them.
    orders_cols = [(c["Name"], c["Type"]) for c in orders["StorageDescriptor"]["Columns"] + orders["PartitionKeys"]]
    return [
        _presto_view("customer_orders", customer_orders_sql, [
            ("customer_id", "string"), ("country", "string"), ("order_count", "bigint"),
            ("revenue", "decimal(38,2)")]),
        _presto_view("country_revenue", country_revenue_sql, [
            ("country", "string"), ("revenue", "decimal(38,2)"), ("orders", "bigint")]),
        _spark_view("order_lines", order_lines_sql, order_lines_expanded,
                    [*orders_cols, ("sku", "string"), ("quantity", "int")]),
    ]


def _analytics_tables() -> list[dict[str, Any]]:
    presto_sql = ("SELECT dt, sum(amount) AS revenue, count(*) AS order_count\n"
                  "FROM sales.orders\nWHERE status <> 'CANCELLED'\nGROUP BY dt")
    spark_sql = ("SELECT c.customer_id, c.name, sum(o.amount) AS total_spent FROM sales.customers c "
                 "JOIN sales.orders o ON o.customer_id = c.customer_id GROUP BY c.customer_id, c.name "
                 "ORDER BY total_spent DESC LIMIT 100")
    spark_expanded = ("SELECT `c`.`customer_id`, `c`.`name`, sum(`o`.`amount`) AS `total_spent` FROM "
                      "`spark_catalog`.`sales`.`customers` `c` JOIN `spark_catalog`.`sales`.`orders` `o` ON "
                      "`o`.`customer_id` = `c`.`customer_id` GROUP BY `c`.`customer_id`, `c`.`name` "
                      "ORDER BY `total_spent` DESC LIMIT 100")
    part0, part1 = _spark_schema_parts()
    def iceberg(field_id: int, optional: bool, current: bool = True) -> dict[str, str]:
        return {"iceberg.field.current": str(current).lower(), "iceberg.field.id": str(field_id),
                "iceberg.field.optional": str(optional).lower()}

    inventory_cols = [
        _col("sku", "string", "Stock keeping unit", **iceberg(1, False)),
        _col("warehouse", "string", "Warehouse code", **iceberg(2, False)),
        _col("on_hand", "int", "Units on hand", **iceberg(3, True)),
        _col("updated_at", "timestamp", None, **iceberg(4, True)),
        # Dropped from the Iceberg schema but still listed by Glue: a crawler must leave it out.
        _col("legacy_sku", "string", "Replaced by sku", **iceberg(5, True, current=False)),
    ]
    wide_struct = "struct<" + ",".join(f"f_{i:03d}:{'string' if i % 3 else 'map<string,array<int>>'}"
                                      for i in range(200)) + ">"
    return [
        _presto_view("daily_revenue", presto_sql, [("dt", "string"), ("revenue", "decimal(38,2)"),
                                                   ("order_count", "bigint")]),
        _spark_view("top_customers", spark_sql, spark_expanded, [
            ("customer_id", "string"), ("name", "string"), ("total_spent", "decimal(38,2)")]),
        {"Name": "inventory", "TableType": "EXTERNAL_TABLE", "Owner": "supply-chain",
         "Description": "Current stock per warehouse (Iceberg)",
         "Parameters": {"table_type": "ICEBERG",
                        "metadata_location": f"{LAKE}/analytics/inventory/metadata/"
                                             "00003-5b6a9e1c-7f2d-4c1e-9a0b-2d8e6f4c3a21.metadata.json",
                        "previous_metadata_location": f"{LAKE}/analytics/inventory/metadata/"
                                                      "00002-1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f.metadata.json"},
         "StorageDescriptor": {"Columns": inventory_cols, "Location": f"{LAKE}/analytics/inventory"}},
        {"Name": "shipments", "TableType": "EXTERNAL_TABLE", "Owner": "spark",
         "Parameters": {"spark.sql.sources.provider": "delta", "spark.sql.create.version": "3.5.1",
                        "spark.sql.partitionProvider": "catalog", "EXTERNAL": "TRUE",
                        "spark.sql.sources.schema.numParts": "2",
                        "spark.sql.sources.schema.part.0": part0, "spark.sql.sources.schema.part.1": part1,
                        "spark.sql.sources.schema.numPartCols": "1",
                        "spark.sql.sources.schema.partCol.0": "ship_date"},
         # What Spark writes for a Delta table: a placeholder schema; the real one is in the parameters.
         "StorageDescriptor": {
             "Columns": [_col("col", "array<string>", "from deserializer")],
             "Location": f"{LAKE}/analytics/shipments-__PLACEHOLDER__",
             "InputFormat": "org.apache.hadoop.mapred.SequenceFileInputFormat",
             "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveSequenceFileOutputFormat",
             "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                           "Parameters": {"path": f"{LAKE}/analytics/shipments",
                                          "serialization.format": "1"}}}},
        _file_table("wide_events", "analytics", "parquet",
                    [_col("event_id", "string"),
                     _col("payload", WIDE_EVENTS_TYPE, "Nested payload with odd spacing"),
                     _col("wide_struct", wide_struct, "A 200-field struct")],
                    _stats(77_000, 2_048, 30)),
        # A resource link: no StorageDescriptor at all, only where the real table lives.
        {"Name": "partner_orders",
         "TargetTable": {"CatalogId": PARTNER_ACCOUNT, "DatabaseName": "partners", "Name": "orders"}},
        *_lineage_views(),
        _file_table("daily_sales", "analytics", "parquet",
                    [_col("dt", "string"), _col("region", "string"), _col("revenue", "decimal(38,2)"),
                     _col("items", "bigint")],
                    _stats(2_190, 40, 36), Description="Revenue and items sold per day and region"),
    ]


def _column_statistics(name: str, kind: str, **values: Any) -> dict[str, Any]:
    """One ColumnStatistics as UpdateColumnStatisticsForTable takes it (what Glue's statistics task writes)."""
    data_key = f"{kind.capitalize()}ColumnStatisticsData"
    return {"ColumnName": name, "ColumnType": kind.lower(), "AnalyzedTime": datetime(2024, 5, 4, 6, 0, tzinfo=UTC),
            "StatisticsData": {"Type": kind, data_key: values}}


def _decimal(value: str) -> dict[str, Any]:
    """Glue's DecimalNumber: the unscaled value as big-endian two's complement bytes, and the scale."""
    number = Decimal(value)
    scale = -int(number.as_tuple().exponent)
    unscaled = int(number.scaleb(scale))
    return {"UnscaledValue": unscaled.to_bytes((unscaled.bit_length() + 8) // 8, "big", signed=True), "Scale": scale}


def _sales_statistics() -> dict[str, list[dict[str, Any]]]:
    return {
        "orders": [
            _column_statistics("order_id", "LONG", MinimumValue=1, MaximumValue=1_284_331, NumberOfNulls=0,
                               NumberOfDistinctValues=1_284_331),
            _column_statistics("amount", "DECIMAL", MinimumValue=_decimal("0.99"), MaximumValue=_decimal("4999.00"),
                               NumberOfNulls=12, NumberOfDistinctValues=48_120),
            _column_statistics("currency", "STRING", MaximumLength=3, AverageLength=3.0, NumberOfNulls=0,
                               NumberOfDistinctValues=4),
            _column_statistics("status", "STRING", MaximumLength=9, AverageLength=5.4, NumberOfNulls=0,
                               NumberOfDistinctValues=4),
        ],
        "line_items": [
            _column_statistics("quantity", "LONG", MinimumValue=1, MaximumValue=48, NumberOfNulls=0,
                               NumberOfDistinctValues=48),
        ],
    }


def seed_sample_catalog(glue_client: Any, lake_formation: Any = None, *, s3: Any = None) -> dict[str, Any]:
    """Create the demo catalog with ``glue_client`` and return a summary of what was created; with a Lake
    Formation client, LF-tags too (`domain` on the sales database, `pii` on the customers' email column). The
    Glue jobs are always created; their scripts only with an ``s3`` client (bucket `sample_jobs.SCRIPTS_BUCKET`):
    without one, a job's ``ScriptLocation`` names an object that does not exist."""
    databases: list[dict[str, Any]] = [
        {"Name": "sales", "Description": "Orders, customers and clickstream of the web shop",
         "LocationUri": f"{LAKE}/sales/", "Parameters": {"owner_team": "sales-engineering"}},
        {"Name": "analytics", "Description": "Curated views and modelled tables",
         "LocationUri": f"{LAKE}/analytics/"},
        {"Name": "staging_empty", "Description": "Landing zone; intentionally empty"},
        {"Name": "shared_marketing", "Description": "Resource link to the marketing account",
         "TargetDatabase": {"CatalogId": PARTNER_ACCOUNT, "DatabaseName": "marketing"}},
    ]
    for database in databases:
        glue_client.create_database(DatabaseInput=database)
    tables: dict[str, list[str]] = {db["Name"]: [] for db in databases}
    views: list[str] = []
    for db, table_inputs in (("sales", _sales_tables()), ("analytics", _analytics_tables())):
        for table_input in table_inputs:
            glue_client.create_table(DatabaseName=db, TableInput=table_input)
            tables[db].append(table_input["Name"])
            if table_input.get("TableType") == "VIRTUAL_VIEW":
                views.append(f"{db}.{table_input['Name']}")
    partitions = _order_partitions()
    answer = glue_client.batch_create_partition(
        DatabaseName="sales", TableName="orders", PartitionInputList=partitions
    )
    if answer.get("Errors"):
        raise RuntimeError(f"BatchCreatePartition failed: {answer['Errors']}")
    for table, statistics in _sales_statistics().items():
        glue_client.update_column_statistics_for_table(DatabaseName="sales", TableName=table,
                                                       ColumnStatisticsList=statistics)
    # Glue tags databases (not tables).
    region = glue_client.meta.region_name
    glue_client.tag_resource(ResourceArn=f"arn:aws:glue:{region}:{ACCOUNT}:database/sales",
                             TagsToAdd={"team": "sales-engineering", "cost-center": "4410"})
    if lake_formation is not None:
        lake_formation.create_lf_tag(TagKey="domain", TagValues=["sales", "analytics"])
        lake_formation.create_lf_tag(TagKey="pii", TagValues=["true", "false"])
        lake_formation.add_lf_tags_to_resource(Resource={"Database": {"Name": "sales"}},
                                               LFTags=[{"TagKey": "domain", "TagValues": ["sales"]}])
        lake_formation.add_lf_tags_to_resource(
            Resource={"TableWithColumns": {"DatabaseName": "sales", "Name": "customers", "ColumnNames": ["email"]}},
            LFTags=[{"TagKey": "pii", "TagValues": ["true"]}])
    jobs_and_crawlers = seed_sample_jobs(glue_client, s3, LAKE, ACCOUNT)
    return {
        "databases": [db["Name"] for db in databases],
        "tables": tables,
        "table_count": sum(len(names) for names in tables.values()),  # views and resource links too
        "views": views,
        "partitions": {"sales.orders": len(partitions)},
        "column_statistics": {f"sales.{table}": len(entries) for table, entries in _sales_statistics().items()},
        "iceberg": ["analytics.inventory"],
        "delta": ["analytics.shipments"],
        "resource_links": {"databases": ["shared_marketing"], "tables": ["analytics.partner_orders"]},
        "empty_databases": ["staging_empty", "shared_marketing"],
        **jobs_and_crawlers,
    }


def change_columns(glue_client: Any, database: str, table: str, *, drop: str | None = None,
                   retype: tuple[str, str] | None = None, add: tuple[str, str] | None = None) -> None:
    """Change a table's columns in Glue as someone upstream would: drop one, change one's type, add one (the
    demo's "what breaks" step, and the history tests)."""
    found = glue_client.get_table(DatabaseName=database, Name=table)["Table"]
    keep = ("Name", "Description", "Owner", "StorageDescriptor", "PartitionKeys", "TableType", "Parameters",
            "ViewOriginalText", "ViewExpandedText")
    table_input = {key: value for key, value in found.items() if key in keep}
    columns = [column for column in table_input["StorageDescriptor"]["Columns"] if column["Name"] != drop]
    if retype:
        columns = [{**column, "Type": retype[1]} if column["Name"] == retype[0] else column for column in columns]
    if add:
        columns.append({"Name": add[0], "Type": add[1]})
    table_input["StorageDescriptor"]["Columns"] = columns
    glue_client.update_table(DatabaseName=database, TableInput=table_input)
