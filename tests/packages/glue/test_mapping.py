"""The pure mapping step: Glue API dicts, as boto3 returns them, to AssetRecords named as in Atlan."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from gazetteer.assets.datatypes import normalise_type
from gazetteer.packages.glue.mapping import (
    CrawlScope,
    MappedTable,
    is_resource_link,
    is_view,
    map_database,
    map_schema,
    map_table,
    needs_partition_count,
    schema_qualified_name,
    table_location,
    table_qualified_name,
)
from gazetteer.packages.glue.partitions import NewestPartition, Partitions, newest_of
from gazetteer.packages.glue.types import SparkSchemaError, parse_spark_schema, spark_type_to_hive
from gazetteer.packages.glue.views import decode_view

SCOPE = CrawlScope("default/glue/1795609922", "production", "AwsDataCatalog")
DB_QN = "default/glue/1795609922/AwsDataCatalog"
SCHEMA_QN = f"{DB_QN}/sales"
CREATED = datetime(2024, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)
UPDATED = datetime(2024, 3, 2, 8, 0, 0, tzinfo=timezone(timedelta(hours=2)))  # boto3 gives tzlocal()
CREATED_MS = 1709296215250
UPDATED_MS = 1709359200000

PARENT_ATTRIBUTES = {
    "connectionQualifiedName": "default/glue/1795609922",
    "connectionName": "production",
    "connectorName": "glue",
    "databaseName": "AwsDataCatalog",
    "databaseQualifiedName": DB_QN,
    "schemaName": "sales",
    "schemaQualifiedName": SCHEMA_QN,
}

PARQUET_STORAGE = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {
        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
        "Parameters": {"serialization.format": "1"},
    },
    "Compressed": False,
    "NumberOfBuckets": -1,
    "StoredAsSubDirectories": False,
}


def orders_table(**overrides):
    """A crawler-made, partitioned Parquet table, shaped like a GetTables entry."""
    table = {
        "Name": "orders",
        "DatabaseName": "sales",
        "Description": "One row per order",
        "Owner": "etl-team",
        "CreateTime": CREATED,
        "UpdateTime": UPDATED,
        "LastAccessTime": CREATED,
        "Retention": 0,
        "StorageDescriptor": {
            **PARQUET_STORAGE,
            "Columns": [
                {"Name": "order_id", "Type": "bigint", "Comment": "primary key"},
                {"Name": "total", "Type": "decimal(10, 2)"},
                {
                    "Name": "items",
                    "Type": "array < struct < `sku id`:string, qty:int > >",
                    "Comment": "",
                    "Parameters": {"origin": "crawler"},
                },
                {"Name": "attrs", "Type": "map<string,string>"},
            ],
            "Location": "s3://lake/sales/orders/",
        },
        "PartitionKeys": [
            {"Name": "year", "Type": "string", "Comment": "partition year"},
            {"Name": "month", "Type": "string"},
        ],
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {
            "classification": "parquet",
            "recordCount": "123456",
            "sizeKey": "987654321",
            "objectCount": "42",
            "averageRecordSize": "80",
            "compressionType": "none",
            "typeOfData": "file",
            "UPDATED_BY_CRAWLER": "orders-crawler",
        },
        "CreatedBy": "arn:aws:sts::123456789012:assumed-role/AWSGlueServiceRole/AWS-Crawler",
        "IsRegisteredWithLakeFormation": False,
        "CatalogId": "123456789012",
        "VersionId": "3",
    }
    table.update(overrides)
    return table


def presto_view_text(document) -> str:
    payload = base64.b64encode(json.dumps(document).encode()).decode()
    return f"/* Presto View: {payload} */"


ATHENA_VIEW_JSON = {
    "originalSql": "SELECT order_id, total FROM sales.orders WHERE total > 0",
    "catalog": "awsdatacatalog",
    "schema": "sales",
    "columns": [
        {"name": "order_id", "type": "bigint"},
        {"name": "total", "type": "decimal(10,2)"},
        {"name": "meta", "type": "row(source varchar, at timestamp(3))"},
    ],
    "owner": "arn:aws:iam::123456789012:user/alice",
    "runAsInvoker": False,
    "properties": {},
}


def athena_view(columns=(), view_text=None, **overrides):
    view = {
        "Name": "big_orders",
        "DatabaseName": "sales",
        "Owner": "hadoop",
        "CreateTime": CREATED,
        "UpdateTime": CREATED,
        "Retention": 0,
        "StorageDescriptor": {
            "Columns": [dict(column) for column in columns],
            "Location": "",
            "Compressed": False,
            "NumberOfBuckets": 0,
            "SerdeInfo": {},
            "SortColumns": [],
            "StoredAsSubDirectories": False,
        },
        "PartitionKeys": [],
        "ViewOriginalText": view_text or presto_view_text(ATHENA_VIEW_JSON),
        "ViewExpandedText": "/* Presto View */",
        "TableType": "VIRTUAL_VIEW",
        "Parameters": {"comment": "Presto View", "presto_view": "true"},
    }
    view.update(overrides)
    return view


def by_name(mapped: MappedTable) -> dict:
    return {column.name: column for column in mapped.columns}


def spark_schema(*fields) -> str:
    return json.dumps({"type": "struct", "fields": list(fields)})


def spark_field(name, data_type, comment=None, **metadata):
    if comment is not None:
        metadata["comment"] = comment
    return {"name": name, "type": data_type, "nullable": True, "metadata": metadata}


# --- scope and names -----------------------------------------------------------------------------------


def test_scope_and_qualified_names():
    assert SCOPE.database_qualified_name == DB_QN
    assert SCOPE.database_name == "AwsDataCatalog"
    assert schema_qualified_name(SCOPE, "sales") == SCHEMA_QN
    assert table_qualified_name(SCOPE, "sales", "orders") == f"{SCHEMA_QN}/orders"
    custom = CrawlScope("default/glue/1", "c", "210987654321")
    assert custom.database_qualified_name == "default/glue/1/210987654321"
    with pytest.raises(AttributeError):
        SCOPE.catalog_name = "other"  # type: ignore[misc]


def test_map_database():
    record = map_database(SCOPE, 3)
    assert (record.type_name, record.qualified_name, record.name) == ("Database", DB_QN, "AwsDataCatalog")
    assert record.parent_qualified_name == "default/glue/1795609922"
    assert record.attributes == {
        "connectionQualifiedName": "default/glue/1795609922",
        "connectionName": "production",
        "connectorName": "glue",
        "schemaCount": 3,
    }
    assert map_database(SCOPE, None).attributes["schemaCount"] is None
    assert record.connection_qualified_name == "default/glue/1795609922"


# --- schemas ---------------------------------------------------------------------------------------------


def test_map_schema_with_every_attribute():
    glue_database = {
        "Name": "sales",
        "Description": "Sales data mart",
        "LocationUri": "s3://lake/sales/",
        "Parameters": {"owner_team": "finance"},
        "CreateTime": CREATED,
        "CreateTableDefaultPermissions": [],
        "CatalogId": "123456789012",
    }
    record = map_schema(SCOPE, glue_database, 10, 2)
    assert (record.type_name, record.qualified_name, record.name) == ("Schema", SCHEMA_QN, "sales")
    assert record.parent_qualified_name == DB_QN
    assert record.schema_qualified_name == SCHEMA_QN
    assert record.attributes == {
        "connectionQualifiedName": "default/glue/1795609922",
        "connectionName": "production",
        "connectorName": "glue",
        "databaseName": "AwsDataCatalog",
        "databaseQualifiedName": DB_QN,
        "description": "Sales data mart",
        "externalLocation": "s3://lake/sales/",
        "sourceCreatedAt": CREATED_MS,
        "parameters": {"owner_team": "finance"},
        "isResourceLink": False,
        "tableCount": 10,
        "viewsCount": 2,
    }


def test_map_schema_leaves_out_what_glue_does_not_say():
    record = map_schema(SCOPE, {"Name": "raw", "Parameters": {}, "Description": ""}, None, None)
    for key in ("description", "externalLocation", "sourceCreatedAt", "parameters", "targetDatabase"):
        assert key not in record.attributes
    # Unknown counts stay None: the store then keeps what it had.
    assert record.attributes["tableCount"] is None
    assert record.attributes["viewsCount"] is None


def test_map_schema_resource_link():
    glue_database = {
        "Name": "shared_sales",
        "CreateTime": CREATED,
        "TargetDatabase": {"CatalogId": "210987654321", "DatabaseName": "sales", "Region": "eu-west-1"},
        "CatalogId": "123456789012",
    }
    record = map_schema(SCOPE, glue_database, 0, 0)
    assert record.qualified_name == f"{DB_QN}/shared_sales"
    assert record.attributes["isResourceLink"] is True
    assert record.attributes["targetDatabase"] == "210987654321.sales"


def test_map_schema_without_a_name_is_an_error():
    with pytest.raises(ValueError, match="without a Name"):
        map_schema(SCOPE, {"Description": "x"}, 0, 0)


# --- tables ----------------------------------------------------------------------------------------------


def test_map_table_record_with_every_attribute():
    mapped = map_table(SCOPE, "sales", orders_table(), Partitions(24))
    record = mapped.record
    assert not mapped.is_view and mapped.warnings == ()
    assert (record.type_name, record.qualified_name, record.name) == (
        "Table",
        f"{SCHEMA_QN}/orders",
        "orders",
    )
    assert record.parent_qualified_name == SCHEMA_QN
    assert record.attributes == {
        **PARENT_ATTRIBUTES,
        "description": "One row per order",
        "sourceCreatedAt": CREATED_MS,
        "sourceUpdatedAt": UPDATED_MS,
        "sourceOwners": "etl-team",
        "glueTableType": "EXTERNAL_TABLE",
        "parameters": orders_table()["Parameters"],
        "isResourceLink": False,
        "externalLocation": "s3://lake/sales/orders/",
        "externalLocationFormat": "parquet",
        "rowCount": 123456,
        "sizeBytes": 987654321,
        "objectCount": 42,
        "averageRecordSize": 80,
        "partitionProjection": False,
        "columnCount": 6,
        "nestedColumnCount": 2,  # items' sku id and qty
        "isPartitioned": True,
        "partitionCount": 24,
    }
    assert "tableType" not in record.attributes  # Atlan's enum has no value for a plain Glue table


def test_the_newest_partition_is_the_last_landed_and_one_with_other_columns_is_flagged():
    columns = orders_table()["StorageDescriptor"]["Columns"]
    retyped = [{**column, "Type": "string"} if column["Name"] == "total" else column for column in columns]
    landed = datetime(2024, 5, 2, 3, 0, tzinfo=UTC)
    partitions = Partitions(24, (NewestPartition(("2024", "05"), landed, tuple(columns)),
                                 NewestPartition(("2024", "04"), landed.replace(month=4), tuple(retyped)),
                                 NewestPartition(("2024", "03"), None, None)))  # columns not read: no verdict
    mapped = map_table(SCOPE, "sales", orders_table(), partitions)
    attributes = mapped.record.attributes
    assert attributes["lastPartition"] == "year=2024/month=05"
    assert attributes["lastPartitionCreatedAt"] == int(landed.timestamp() * 1000)
    assert attributes["partitionsWithOtherColumns"] == ["year=2024/month=04"]
    (warning,) = mapped.warnings
    assert "partition year=2024/month=04 has other columns than the table (total is string" in warning
    assert "HIVE_PARTITION_SCHEMA_MISMATCH" in warning
    unknown = map_table(SCOPE, "sales", orders_table(), None).record.attributes  # not read: stored values stay
    assert all(unknown[key] is None for key in ("partitionCount", "lastPartition", "partitionsWithOtherColumns"))


def test_newest_of_counts_everything_and_keeps_the_newest_few():
    entries = [{"Values": [str(day)], "CreationTime": datetime(2024, 1, day, tzinfo=UTC)} for day in range(1, 29)]
    count, newest = newest_of(reversed(entries + [{"Values": ["x"]}]))
    assert count == 29 and [p.values for p in newest] == [("28",), ("27",), ("26",)]


def test_map_table_columns():
    mapped = map_table(SCOPE, "sales", orders_table(), Partitions(24))
    assert [c.name for c in mapped.columns] == ["order_id", "total", "items", "attrs", "year", "month"]
    table_qn = f"{SCHEMA_QN}/orders"
    for position, column in enumerate(mapped.columns, start=1):
        assert column.type_name == "Column"
        assert column.qualified_name == f"{table_qn}/{column.name}"
        assert column.parent_qualified_name == table_qn
        assert column.attributes["order"] == position
        assert column.attributes["tableName"] == "orders"
        assert column.attributes["tableQualifiedName"] == table_qn
        assert "viewName" not in column.attributes
        for key, value in PARENT_ATTRIBUTES.items():
            assert column.attributes[key] == value
    columns = by_name(mapped)
    assert columns["order_id"].attributes == {
        **PARENT_ATTRIBUTES,
        "tableName": "orders",
        "tableQualifiedName": table_qn,
        "description": "primary key",
        "dataType": "bigint",
        "order": 1,
        "isPartition": False,
        "isNested": False,
    }
    total = columns["total"].attributes
    assert (total["dataType"], total["rawDataTypeDefinition"]) == ("decimal(10,2)", "decimal(10, 2)")
    items = columns["items"].attributes
    assert items["dataType"] == "array<struct<`sku id`:string,qty:int>>"
    assert items["rawDataTypeDefinition"] == "array < struct < `sku id`:string, qty:int > >"
    assert items["isNested"] is True
    assert items["parameters"] == {"origin": "crawler"}
    assert "description" not in items  # an empty comment is no description
    assert columns["attrs"].attributes["isNested"] is True
    assert "rawDataTypeDefinition" not in columns["attrs"].attributes
    year, month = columns["year"].attributes, columns["month"].attributes
    assert (year["isPartition"], year["partitionOrder"], year["order"]) == (True, 1, 5)
    assert (month["isPartition"], month["partitionOrder"], month["order"]) == (True, 2, 6)
    assert year["description"] == "partition year"
    assert all("partitionOrder" not in columns[n].attributes for n in ("order_id", "total", "items", "attrs"))


def test_map_table_unknown_values_are_left_out():
    table = orders_table(
        Description="", Owner="", Parameters={}, PartitionKeys=[], UpdateTime=None, TableType=None
    )
    del table["StorageDescriptor"]["Location"]
    table["StorageDescriptor"]["SerdeInfo"] = {}
    del table["StorageDescriptor"]["InputFormat"]
    attributes = map_table(SCOPE, "sales", table, None).record.attributes
    for key in (
        "description",
        "sourceOwners",
        "sourceUpdatedAt",
        "parameters",
        "glueTableType",
        "externalLocation",
        "externalLocationFormat",
        "rowCount",
        "sizeBytes",
        "objectCount",
        "averageRecordSize",
        "partitionCount",
        "tableType",
        "icebergMetadataLocation",
    ):
        assert key not in attributes, key
    assert attributes["isPartitioned"] is False
    assert attributes["columnCount"] == 4


def test_partition_count_unknown_is_none():
    attributes = map_table(SCOPE, "sales", orders_table(), None).record.attributes
    assert attributes["isPartitioned"] is True
    assert "partitionCount" in attributes and attributes["partitionCount"] is None


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({"recordCount": "-1", "sizeKey": "abc"}, {}),
        ({"recordCount": "1000.0", "sizeKey": " 17 "}, {"rowCount": 1000, "sizeBytes": 17}),
        ({"recordCount": "12345678901234567890"}, {"rowCount": 12345678901234567890}),
        ({"objectCount": "nan", "averageRecordSize": "inf"}, {}),
    ],
)
def test_statistics_parameters(parameters, expected):
    attributes = map_table(SCOPE, "sales", orders_table(Parameters=parameters), None).record.attributes
    found = {
        k: attributes[k]
        for k in ("rowCount", "sizeBytes", "objectCount", "averageRecordSize")
        if k in attributes
    }
    assert found == expected


def test_times_naive_datetime_is_utc_and_epoch_seconds_are_accepted():
    naive = orders_table(CreateTime=datetime(2024, 3, 1, 12, 30, 15, 250000), UpdateTime=1709359200)
    attributes = map_table(SCOPE, "sales", naive, None).record.attributes
    assert attributes["sourceCreatedAt"] == CREATED_MS
    assert attributes["sourceUpdatedAt"] == UPDATED_MS
    assert isinstance(attributes["sourceCreatedAt"], int)


def _storage(serde, input_format="org.apache.hadoop.mapred.TextInputFormat"):
    return {
        "Columns": [{"Name": "a", "Type": "string"}],
        "InputFormat": input_format,
        "SerdeInfo": {"SerializationLibrary": serde},
        "Location": "s3://lake/x/",
    }


@pytest.mark.parametrize(
    ("storage", "parameters", "expected"),
    [
        (_storage("org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"), {"classification": "CSV"}, "csv"),
        (PARQUET_STORAGE, {}, "parquet"),
        (
            _storage(
                "org.apache.hadoop.hive.ql.io.orc.OrcSerde", "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat"
            ),
            {},
            "orc",
        ),
        (
            _storage(
                "org.apache.hadoop.hive.serde2.avro.AvroSerDe",
                "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat",
            ),
            {},
            "avro",
        ),
        (_storage("org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"), {}, "csv"),
        (_storage("org.apache.hadoop.hive.serde2.OpenCSVSerde"), {}, "csv"),
        (_storage("org.openx.data.jsonserde.JsonSerDe"), {}, "json"),
        (_storage("org.apache.hive.hcatalog.data.JsonSerDe"), {}, "json"),
        (_storage("com.amazon.ionhiveserde.IonHiveSerDe"), {}, "ion"),
        (_storage("org.apache.hadoop.hive.serde2.RegexSerDe"), {}, None),
        (PARQUET_STORAGE, {"table_type": "ICEBERG"}, "iceberg"),
        (PARQUET_STORAGE, {"table_type": "iceberg", "classification": "parquet"}, "iceberg"),
        (PARQUET_STORAGE, {"spark.sql.sources.provider": "DELTA"}, "delta"),
        (PARQUET_STORAGE, {"table_type": "DELTA", "classification": "parquet"}, "delta"),
        (
            _storage(
                "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                "org.apache.hudi.hadoop.HoodieParquetInputFormat",
            ),
            {},
            "hudi",
        ),
        (
            _storage(
                "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                "org.apache.hadoop.mapred.SequenceFileInputFormat",
            ),
            {"spark.sql.sources.provider": "orc"},
            "orc",
        ),
    ],
)
def test_external_location_format(storage, parameters, expected):
    table = orders_table(StorageDescriptor=storage, Parameters=parameters)
    attributes = map_table(SCOPE, "sales", table, None).record.attributes
    assert attributes.get("externalLocationFormat") == expected


def test_partition_projection():
    parameters = {
        "projection.enabled": "TRUE",
        "projection.year.type": "integer",
        "projection.year.range": "2020,2030",
        "storage.location.template": "s3://lake/sales/orders/${year}/${month}/",
    }
    attributes = map_table(SCOPE, "sales", orders_table(Parameters=parameters), None).record.attributes
    assert attributes["partitionProjection"] is True
    off = map_table(SCOPE, "sales", orders_table(Parameters={"projection.enabled": "false"}), None)
    assert off.record.attributes["partitionProjection"] is False


def test_duplicate_column_names_keep_the_first_and_warn():
    table = orders_table(PartitionKeys=[{"Name": "total", "Type": "string"}])
    mapped = map_table(SCOPE, "sales", table, None)
    assert [c.name for c in mapped.columns] == ["order_id", "total", "items", "attrs"]
    assert len(mapped.warnings) == 1 and "sales.orders" in mapped.warnings[0]
    assert "total" in mapped.warnings[0]


def test_odd_column_entries_do_not_crash():
    table = orders_table(PartitionKeys=None)
    table["StorageDescriptor"]["Columns"] = [
        {"Name": "no_type"},
        {"Type": "int"},
        "junk",
        {"Name": "", "Type": "x"},
    ]
    mapped = map_table(SCOPE, "sales", table, None)
    assert [c.name for c in mapped.columns] == ["no_type"]
    assert "dataType" not in mapped.columns[0].attributes
    assert mapped.columns[0].attributes["isNested"] is False


def test_table_without_a_name_is_an_error():
    with pytest.raises(ValueError, match="without a Name"):
        map_table(SCOPE, "sales", {"DatabaseName": "sales"}, None)


# --- Iceberg ---------------------------------------------------------------------------------------------


def iceberg_table():
    def column(name, data_type, field_id, current="true"):
        return {
            "Name": name,
            "Type": data_type,
            "Parameters": {
                "iceberg.field.current": current,
                "iceberg.field.id": str(field_id),
                "iceberg.field.optional": "true",
            },
        }

    return {
        "Name": "events",
        "DatabaseName": "sales",
        "CreateTime": CREATED,
        "UpdateTime": UPDATED,
        "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": {
            "Columns": [
                column("event_id", "string", 1),
                column("legacy_flag", "boolean", 2, current="false"),
                column("payload", "struct<kind:string,value:double>", 3),
                column("ts", "timestamp", 4),
            ],
            "Location": "s3://lake/sales/events",
            "InputFormat": "org.apache.hadoop.mapred.FileInputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"},
        },
        "PartitionKeys": [],
        "Parameters": {
            "table_type": "ICEBERG",
            "metadata_location": "s3://lake/sales/events/metadata/00012-3f1c.metadata.json",
            "previous_metadata_location": "s3://lake/sales/events/metadata/00011-aa1e.metadata.json",
        },
    }


def test_iceberg_table():
    mapped = map_table(SCOPE, "sales", iceberg_table(), None)
    attributes = mapped.record.attributes
    assert attributes["tableType"] == "ICEBERG"
    assert attributes["glueTableType"] == "EXTERNAL_TABLE"
    assert attributes["externalLocationFormat"] == "iceberg"
    assert attributes["icebergMetadataLocation"] == "s3://lake/sales/events/metadata/00012-3f1c.metadata.json"
    # The dropped column is left out, and the order has no gap.
    assert [(c.name, c.attributes["order"]) for c in mapped.columns] == [
        ("event_id", 1),
        ("payload", 2),
        ("ts", 3),
    ]
    assert attributes["columnCount"] == 3
    assert mapped.columns[0].attributes["parameters"]["iceberg.field.id"] == "1"
    # Iceberg partitioning is hidden in its metadata: unknown, so not stated.
    assert "isPartitioned" not in attributes and "partitionCount" not in attributes
    assert needs_partition_count(iceberg_table()) is False


def test_iceberg_current_flag_only_applies_to_iceberg_tables():
    table = iceberg_table()
    table["Parameters"] = {"classification": "parquet"}
    mapped = map_table(SCOPE, "sales", table, None)
    assert "legacy_flag" in by_name(mapped)
    assert "tableType" not in mapped.record.attributes
    assert mapped.record.attributes["isPartitioned"] is False


# --- Delta / Spark placeholder schemas ----------------------------------------------------------------------


def delta_table(parameters, columns=None):
    return {
        "Name": "customers",
        "DatabaseName": "sales",
        "CreateTime": CREATED,
        "UpdateTime": UPDATED,
        "Owner": "spark",
        "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": {
            "Columns": [{"Name": "col", "Type": "array<string>", "Comment": "from deserializer"}]
            if columns is None
            else columns,
            "Location": "s3://lake/sales/customers-__PLACEHOLDER__",
            "InputFormat": "org.apache.hadoop.mapred.SequenceFileInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveSequenceFileOutputFormat",
            "SerdeInfo": {
                "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                "Parameters": {"path": "s3://lake/sales/customers", "serialization.format": "1"},
            },
        },
        "PartitionKeys": [],
        "Parameters": {
            "spark.sql.sources.provider": "delta",
            "spark.sql.create.version": "3.5.0",
            **parameters,
        },
    }


DELTA_SCHEMA = spark_schema(
    spark_field("id", "long", "customer id"),
    spark_field("age", "integer"),
    spark_field("rank", "short"),
    spark_field("flag", "byte"),
    spark_field("balance", "decimal(10,2)"),
    spark_field("name", "string", __CHAR_VARCHAR_TYPE_STRING="varchar(64)"),
    spark_field("born", "date"),
    spark_field("seen", "timestamp_ntz"),
    spark_field(
        "address",
        {
            "type": "struct",
            "fields": [
                spark_field("street", "string"),
                spark_field("zip code", "integer"),
                spark_field("geo", {"type": "array", "elementType": "double", "containsNull": True}),
            ],
        },
    ),
    spark_field(
        "tags",
        {
            "type": "map",
            "keyType": "string",
            "valueType": {"type": "array", "elementType": "long", "containsNull": True},
            "valueContainsNull": True,
        },
    ),
    spark_field("country", "string", "partition"),
    spark_field("day", "date"),
)


def split_schema(text: str, parts: int) -> dict[str, str]:
    size = -(-len(text) // parts)
    pieces = [text[i * size : (i + 1) * size] for i in range(parts)]
    return {"spark.sql.sources.schema.numParts": str(parts)} | {
        f"spark.sql.sources.schema.part.{i}": piece for i, piece in enumerate(pieces)
    }


def test_delta_placeholder_is_rebuilt_from_the_spark_schema_parts():
    parameters = split_schema(DELTA_SCHEMA, 3) | {
        "spark.sql.sources.schema.numPartCols": "2",
        "spark.sql.sources.schema.partCol.0": "country",
        "spark.sql.sources.schema.partCol.1": "day",
    }
    mapped = map_table(SCOPE, "sales", delta_table(parameters), None)
    assert mapped.warnings == ()
    types = {c.name: c.attributes.get("dataType") for c in mapped.columns}
    assert types == {
        "id": "bigint",
        "age": "int",
        "rank": "smallint",
        "flag": "tinyint",
        "balance": "decimal(10,2)",
        "name": "varchar(64)",
        "born": "date",
        "seen": "timestamp",
        "address": "struct<street:string,`zip code`:int,geo:array<double>>",
        "tags": "map<string,array<bigint>>",
        "country": "string",
        "day": "date",
    }
    columns = by_name(mapped)
    assert columns["id"].attributes["description"] == "customer id"
    assert columns["address"].attributes["isNested"] is True
    assert columns["tags"].attributes["isNested"] is True
    assert columns["country"].attributes["isPartition"] is True
    assert columns["country"].attributes["partitionOrder"] == 1
    assert columns["day"].attributes["partitionOrder"] == 2
    assert [c.attributes["order"] for c in mapped.columns] == list(range(1, 13))
    assert [c.name for c in mapped.columns][-2:] == ["country", "day"]
    attributes = mapped.record.attributes
    assert attributes["externalLocationFormat"] == "delta"
    assert attributes["columnCount"] == 12
    assert attributes["isPartitioned"] is True
    assert attributes["partitionCount"] is None  # Spark-side partitions are not Glue partitions
    assert needs_partition_count(delta_table(parameters)) is False


def test_a_spark_table_shows_where_its_data_is_not_sparks_placeholder():
    """Spark writes `<path>-__PLACEHOLDER__` as a data source table's Location; the path is a SerDe parameter."""
    table = delta_table(split_schema(DELTA_SCHEMA, 2))
    assert map_table(SCOPE, "sales", table, None).record.attributes["externalLocation"] == "s3://lake/sales/customers"
    del table["StorageDescriptor"]["SerdeInfo"]["Parameters"]["path"]
    table["Parameters"]["path"] = "s3://lake/elsewhere/customers"  # some writers keep it with the table's
    assert map_table(SCOPE, "sales", table, None).record.attributes["externalLocation"] == \
        "s3://lake/elsewhere/customers"
    del table["Parameters"]["path"]  # nowhere: no location rather than a fake one
    assert "externalLocation" not in map_table(SCOPE, "sales", table, None).record.attributes
    # Any other location is Glue's, as it is.
    assert table_location({}, {"Location": "s3://lake/t/", "SerdeInfo": {"Parameters": {"path": "s3://x"}}}) == \
        "s3://lake/t/"
    assert table_location({}, {}) is None


def test_delta_single_schema_parameter_and_empty_glue_columns():
    schema = spark_schema(spark_field("id", "long"), spark_field("v", "binary"))
    mapped = map_table(SCOPE, "sales", delta_table({"spark.sql.sources.schema": schema}, columns=[]), None)
    assert [(c.name, c.attributes["dataType"], c.attributes["isPartition"]) for c in mapped.columns] == [
        ("id", "bigint", False),
        ("v", "binary", False),
    ]
    assert mapped.record.attributes["isPartitioned"] is False


def test_real_glue_columns_win_over_the_spark_schema():
    columns = [{"Name": "id", "Type": "bigint"}, {"Name": "email", "Type": "string"}]
    schema = spark_schema(spark_field("other", "long"))
    mapped = map_table(
        SCOPE, "sales", delta_table({"spark.sql.sources.schema": schema}, columns=columns), None
    )
    assert [c.name for c in mapped.columns] == ["id", "email"]


@pytest.mark.parametrize(
    "parameters",
    [
        {"spark.sql.sources.schema": '{"type":"struct","fields":[{"name":"id","type":"long"'},
        {"spark.sql.sources.schema": '{"type":"array","elementType":"long"}'},
        {"spark.sql.sources.schema": spark_schema({"name": "x", "type": {"type": "weird"}})},
        {"spark.sql.sources.schema": spark_schema({"type": "long"})},
        {"spark.sql.sources.schema.numParts": "2", "spark.sql.sources.schema.part.0": DELTA_SCHEMA},
        {"spark.sql.sources.schema.numParts": "two"},
        {"spark.sql.sources.schema": DELTA_SCHEMA, "spark.sql.sources.schema.numPartCols": "1"},
    ],
)
def test_malformed_spark_schema_warns_and_keeps_the_glue_columns(parameters):
    mapped = map_table(SCOPE, "sales", delta_table(parameters), None)
    assert len(mapped.warnings) == 1
    assert "sales.customers" in mapped.warnings[0] and "Spark schema" in mapped.warnings[0]
    assert [(c.name, c.attributes["dataType"]) for c in mapped.columns] == [("col", "array<string>")]


def test_spark_partition_column_missing_from_the_schema_warns():
    parameters = {
        "spark.sql.sources.schema": spark_schema(spark_field("id", "long")),
        "spark.sql.sources.schema.numPartCols": "1",
        "spark.sql.sources.schema.partCol.0": "region",
    }
    mapped = map_table(SCOPE, "sales", delta_table(parameters), None)
    assert [c.name for c in mapped.columns] == ["id"]
    assert len(mapped.warnings) == 1 and "'region'" in mapped.warnings[0]


def test_spark_udt_and_quoting():
    udt = {
        "type": "udt",
        "class": "org.apache.spark.ml.linalg.VectorUDT",
        "sqlType": {"type": "array", "elementType": "double"},
    }
    assert spark_type_to_hive(udt) == "array<double>"
    struct = {"type": "struct", "fields": [spark_field("we`ird", "null")]}
    assert spark_type_to_hive(struct) == "struct<`we``ird`:void>"
    with pytest.raises(SparkSchemaError):
        spark_type_to_hive({"type": "map", "keyType": "string"})


# --- views -----------------------------------------------------------------------------------------------


def test_athena_view_with_storage_columns():
    columns = [{"Name": "order_id", "Type": "bigint"}, {"Name": "total", "Type": "decimal(10,2)"}]
    view = athena_view(columns)
    assert is_view(view) and not needs_partition_count(view)
    mapped = map_table(SCOPE, "sales", view, None)
    record = mapped.record
    assert mapped.is_view and mapped.warnings == ()
    assert (record.type_name, record.qualified_name) == ("View", f"{SCHEMA_QN}/big_orders")
    assert record.parent_qualified_name == SCHEMA_QN
    assert record.attributes["definition"] == ATHENA_VIEW_JSON["originalSql"]
    assert record.attributes["viewDialect"] == "presto"
    assert record.attributes["glueTableType"] == "VIRTUAL_VIEW"
    assert record.attributes["columnCount"] == 2
    for key in ("isPartitioned", "partitionCount", "partitionProjection", "externalLocation", "tableType"):
        assert key not in record.attributes
    view_qn = f"{SCHEMA_QN}/big_orders"
    for column in mapped.columns:
        assert column.parent_qualified_name == view_qn
        assert column.attributes["viewName"] == "big_orders"
        assert column.attributes["viewQualifiedName"] == view_qn
        assert "tableName" not in column.attributes and "tableQualifiedName" not in column.attributes
        assert column.attributes["schemaQualifiedName"] == SCHEMA_QN


def test_athena_view_without_storage_columns_takes_them_from_the_presto_json():
    mapped = map_table(SCOPE, "sales", athena_view(), None)
    assert [(c.name, c.attributes["dataType"], c.attributes["order"]) for c in mapped.columns] == [
        ("order_id", "bigint", 1),
        ("total", "decimal(10,2)", 2),
        ("meta", "row(source varchar,at timestamp(3))", 3),
    ]
    meta = by_name(mapped)["meta"].attributes
    assert meta["isNested"] is True and meta["isPartition"] is False
    assert mapped.record.attributes["columnCount"] == 3


@pytest.mark.parametrize(
    "view_text",
    [
        "/* Presto View: not%%base64!! */",
        "/* Presto View: " + base64.b64encode(b"\xff\xfe not utf-8").decode() + " */",
        "/* Presto View: " + base64.b64encode(b"{not json").decode() + " */",
        "/* Presto View: " + base64.b64encode(b"[1, 2]").decode() + " */",
        "/* Presto View: " + base64.b64encode(b"[" * 100_000).decode() + " */",
        "/* Presto View: eyJvcmlnaW5hbFNxbCI6",  # cut short: no closing */
    ],
)
def test_malformed_presto_view_text_warns_and_does_not_crash(view_text):
    columns = [{"Name": "order_id", "Type": "bigint"}]
    mapped = map_table(SCOPE, "sales", athena_view(columns, view_text=view_text), None)
    assert mapped.is_view and mapped.record.type_name == "View"
    assert "definition" not in mapped.record.attributes
    assert mapped.record.attributes["viewDialect"] == "presto"
    assert len(mapped.warnings) == 1 and "sales.big_orders" in mapped.warnings[0]
    assert [c.name for c in mapped.columns] == ["order_id"]


def test_presto_view_payload_with_line_breaks_and_no_padding():
    payload = base64.b64encode(json.dumps({"originalSql": "SELECT 1", "columns": []}).encode()).decode()
    payload = payload.rstrip("=")
    wrapped = "\n".join(payload[i : i + 20] for i in range(0, len(payload), 20))
    text = decode_view({"ViewOriginalText": f"/* Presto View: {wrapped} */"})
    assert (text.definition, text.dialect, text.problem) == ("SELECT 1", "presto", None)


def test_spark_view():
    view = {
        "Name": "active_customers",
        "DatabaseName": "sales",
        "CreateTime": CREATED,
        "TableType": "VIRTUAL_VIEW",
        "ViewOriginalText": "SELECT id, name FROM sales.customers WHERE active",
        "ViewExpandedText": "SELECT `customers`.`id` FROM `spark_catalog`.`sales`.`customers`",
        "StorageDescriptor": {
            "Columns": [{"Name": "id", "Type": "bigint"}, {"Name": "name", "Type": "string"}],
            "SerdeInfo": {},
        },
        "PartitionKeys": [],
        "Parameters": {
            "spark.sql.create.version": "3.5.0",
            "view.catalogAndNamespace.numParts": "2",
            "view.query.out.col.0": "id",
            "transient_lastDdlTime": "1709296215",
        },
    }
    mapped = map_table(SCOPE, "sales", view, None)
    assert mapped.record.attributes["definition"] == "SELECT id, name FROM sales.customers WHERE active"
    assert mapped.record.attributes["viewDialect"] == "spark"
    assert [c.name for c in mapped.columns] == ["id", "name"]


def test_hive_view_falls_back_to_the_expanded_text():
    view = {
        "Name": "v",
        "TableType": "VIRTUAL_VIEW",
        "ViewExpandedText": "SELECT `orders`.`order_id` FROM `sales`.`orders`",
        "StorageDescriptor": {"Columns": [{"Name": "order_id", "Type": "bigint"}]},
        "Parameters": {"transient_lastDdlTime": "1709296215"},
    }
    attributes = map_table(SCOPE, "sales", view, None).record.attributes
    assert attributes["definition"] == "SELECT `orders`.`order_id` FROM `sales`.`orders`"
    assert attributes["viewDialect"] == "hive"


def test_view_of_unknown_origin_has_no_dialect_or_definition():
    view = {"Name": "v", "TableType": "VIRTUAL_VIEW", "ViewExpandedText": "/* Presto View */"}
    mapped = map_table(SCOPE, "sales", view, None)
    assert "definition" not in mapped.record.attributes
    assert "viewDialect" not in mapped.record.attributes
    assert mapped.columns == () and mapped.warnings == ()


# --- resource links --------------------------------------------------------------------------------------


def test_table_resource_link():
    link = {
        "Name": "orders_link",
        "DatabaseName": "sales",
        "CreateTime": CREATED,
        "TargetTable": {
            "CatalogId": "210987654321",
            "DatabaseName": "finance",
            "Name": "orders",
            "Region": "eu-west-1",
        },
        "CatalogId": "123456789012",
        "IsRegisteredWithLakeFormation": False,
    }
    assert is_resource_link(link) and not is_view(link) and not needs_partition_count(link)
    mapped = map_table(SCOPE, "sales", link, None)
    assert mapped.columns == () and mapped.warnings == () and not mapped.is_view
    record = mapped.record
    assert (record.type_name, record.qualified_name) == ("Table", f"{SCHEMA_QN}/orders_link")
    assert record.attributes == {
        **PARENT_ATTRIBUTES,
        "sourceCreatedAt": CREATED_MS,
        "isResourceLink": True,
        "targetTable": "210987654321.finance.orders",
    }


def test_resource_link_with_odd_fields_does_not_crash():
    link = {
        "Name": "odd_link",
        "TargetTable": {"DatabaseName": "finance", "Name": "orders"},
        "TableType": "VIRTUAL_VIEW",
        "PartitionKeys": [{"Name": "dt", "Type": "string"}],
        "StorageDescriptor": None,
        "Parameters": None,
    }
    assert not is_view(link) and not needs_partition_count(link)
    mapped = map_table(SCOPE, "sales", link, 3)
    assert mapped.record.type_name == "Table" and mapped.columns == ()
    assert mapped.record.attributes["targetTable"] == "finance.orders"


def test_needs_partition_count():
    assert needs_partition_count(orders_table()) is True
    assert needs_partition_count(orders_table(PartitionKeys=[])) is False
    assert needs_partition_count({"Name": "t"}) is False


# --- type strings: long, deep, spaced ----------------------------------------------------------------------


def test_type_of_131072_characters():
    field = "c{} : array < map < string , struct < x : int , `y z` : string > > >"
    pieces, index = [], 0
    while len("struct < " + " , ".join(pieces) + " >") < 131_072 - 200:
        pieces.append(field.format(index))
        index += 1
    raw = "struct < " + " , ".join(pieces) + " >"
    raw = raw[:-1] + " " * (131_072 - len(raw)) + ">"  # pad with spaces to the exact maximum
    assert len(raw) == 131_072
    expected = (
        "struct<"
        + ",".join(f"c{i}:array<map<string,struct<x:int,`y z`:string>>>" for i in range(index))
        + ">"
    )
    assert normalise_type(raw) == expected
    table = orders_table()
    table["StorageDescriptor"]["Columns"] = [{"Name": "wide", "Type": raw}]
    column = map_table(SCOPE, "sales", table, None).columns[0]
    assert column.attributes["dataType"] == expected
    assert column.attributes["rawDataTypeDefinition"] == raw
    assert column.attributes["isNested"] is True


def test_type_nested_2000_deep():
    depth = 2000
    raw = "struct < a : " * depth + "array < map < string , int > >" + " >" * depth
    expected = "struct<a:" * depth + "array<map<string,int>>" + ">" * depth
    table = orders_table()
    table["StorageDescriptor"]["Columns"] = [{"Name": "deep", "Type": raw, "Comment": "very deep"}]
    column = map_table(SCOPE, "sales", table, None).columns[0]
    assert column.attributes["dataType"] == expected
    assert column.attributes["isNested"] is True


def _deep_spark_type(depth: int) -> dict:
    node: object = "long"
    for _ in range(depth):
        node = {"type": "struct", "fields": [{"name": "a", "type": node, "nullable": True, "metadata": {}}]}
    return node  # type: ignore[return-value]


def test_spark_type_nested_2000_deep_converts_without_recursion():
    assert spark_type_to_hive(_deep_spark_type(2000)) == "struct<a:" * 2000 + "bigint" + ">" * 2000


def test_spark_schema_nested_deeper_than_json_can_decode_warns_instead_of_crashing():
    # json.loads recurses in C; a schema this deep cannot be decoded and must fall back, not blow up.
    leaf = '"long"'
    text = leaf
    for _ in range(2000):
        text = '{"type":"struct","fields":[{"name":"a","type":' + text + ',"nullable":true,"metadata":{}}]}'
    schema = '{"type":"struct","fields":[{"name":"deep","type":' + text + ',"nullable":true,"metadata":{}}]}'
    parameters = {"spark.sql.sources.schema": schema}
    mapped = map_table(SCOPE, "sales", delta_table(parameters), None)
    columns = [(c.name, c.attributes["dataType"]) for c in mapped.columns]
    if mapped.warnings:  # CPython's decoder gives up: the Glue columns stay
        assert columns == [("col", "array<string>")]
        assert "sales.customers" in mapped.warnings[0]
    else:
        assert columns == [("deep", "struct<a:" * 2000 + "bigint" + ">" * 2000)]


def test_parse_spark_schema_moderately_deep_round_trip():
    fields = parse_spark_schema(spark_schema(spark_field("n", _deep_spark_type(150), "nested")))
    assert fields[0].data_type == "struct<a:" * 150 + "bigint" + ">" * 150
    assert fields[0].comment == "nested"
