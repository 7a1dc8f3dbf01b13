"""The mapping step of a Glue crawl: GetDatabases / GetTables dicts in, AssetRecords named as in Atlan out.

Pure functions, no I/O. Identity is Atlan's: `<connection>/<catalog>` is the Database, each Glue database
a Schema below it, each Glue table a Table or View, each column `<table qualified name>/<column>`, and each
field of a column's struct a nested Column `<column qualified name>/<field>` (docs/design.md, Atlan contract §7).
An attribute whose value Glue does not tell us is left out, never guessed.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from gazetteer.assets.datatypes import NestedField, is_nested, nested_fields, normalise_type
from gazetteer.assets.records import AssetRecord
from gazetteer.packages.glue.partitions import PARTITION_ATTRIBUTES, Partitions, partition_attributes
from gazetteer.packages.glue.statistics import STATISTICS_ATTRIBUTES, statistics_attributes
from gazetteer.packages.glue.tags import NO_TAGS, SourceTags, column_tag_attributes, tag_attributes
from gazetteer.packages.glue.types import SparkSchemaError, read_spark_schema, storage_format
from gazetteer.packages.glue.views import decode_view

__all__ = [
    "CONNECTOR_NAME",
    "ColumnStatistics",
    "CrawlScope",
    "MAPPING_VERSION",
    "MAX_NESTED_COLUMNS",
    "MAX_NESTED_DEPTH",
    "MappedTable",
    "is_database_link",
    "is_resource_link",
    "is_view",
    "map_database",
    "map_schema",
    "map_table",
    "needs_partition_count",
    "schema_qualified_name",
    "statistics_columns",
    "table_location",
    "table_qualified_name",
]

CONNECTOR_NAME = "glue"
# Bump when the mapping's output changes: re-crawls then map every table again instead of skipping
# tables whose Glue definition is unchanged (see crawl.source_digest).
MAPPING_VERSION = 5  # 5: a Spark table's real location instead of its placeholder
# How far nested Column assets go: fields at most this many levels below their column, and at most this many
# per table (breadth first, so a cut drops the deepest). The type string itself is kept whole, and the asset
# page shows all of it.
MAX_NESTED_DEPTH = 5
MAX_NESTED_COLUMNS = 1000
_VIEW_TABLE_TYPE = "VIRTUAL_VIEW"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Crawler-set statistics parameters (docs/design.md, Glue facts §11) and the attribute each one feeds.
_STATISTICS = {
    "recordCount": "rowCount",
    "sizeKey": "sizeBytes",
    "objectCount": "objectCount",
    "averageRecordSize": "averageRecordSize",
}


# GetColumnStatisticsForTable's answer for one table: a ColumnStatistics per column name; None when it could
# not be read this time.
ColumnStatistics = Mapping[str, Mapping[str, Any]] | None
_NO_STATISTICS: ColumnStatistics = MappingProxyType({})


@dataclass(frozen=True)
class CrawlScope:
    """Where a crawl's assets hang: the connection, and the Glue catalog that is its one Database."""

    connection_qualified_name: str
    connection_name: str
    catalog_name: str  # "AwsDataCatalog", or the configured catalog id

    @property
    def database_name(self) -> str:
        return self.catalog_name

    @property
    def database_qualified_name(self) -> str:
        # An S3 Tables catalog id holds a '/' (`<account>:s3tablescatalog/<bucket>`), and in a qualified name '/'
        # separates levels only (docs/design.md, Glue facts §13).
        return f"{self.connection_qualified_name}/{self.catalog_name.replace('/', ':')}"


@dataclass(frozen=True)
class MappedTable:
    """A Glue table as records: the Table or View, its columns, the nested columns below them (parents first),
    and what could not be read cleanly."""

    record: AssetRecord
    columns: tuple[AssetRecord, ...]
    nested: tuple[AssetRecord, ...]
    warnings: tuple[str, ...]
    is_view: bool


@dataclass(frozen=True)
class _ColumnSpec:
    name: str
    raw_type: str | None
    comment: str | None
    parameters: Mapping[str, Any]
    is_partition: bool


def schema_qualified_name(scope: CrawlScope, glue_database_name: str) -> str:
    return f"{scope.database_qualified_name}/{glue_database_name}"


def table_qualified_name(scope: CrawlScope, glue_database_name: str, glue_table_name: str) -> str:
    return f"{schema_qualified_name(scope, glue_database_name)}/{glue_table_name}"


def is_database_link(glue_database: Mapping[str, Any]) -> bool:
    """A shared database listed as a link carries TargetDatabase (docs/design.md, Glue facts §4)."""
    return bool(_mapping(glue_database.get("TargetDatabase")))


def is_resource_link(glue_table: Mapping[str, Any]) -> bool:
    """A resource link carries TargetTable and no StorageDescriptor (docs/design.md, Glue facts §4)."""
    return isinstance(glue_table.get("TargetTable"), Mapping)


def is_view(glue_table: Mapping[str, Any]) -> bool:
    """Whether the table is a view (TableType VIRTUAL_VIEW); a resource link is always mapped as a Table."""
    return glue_table.get("TableType") == _VIEW_TABLE_TYPE and not is_resource_link(glue_table)


def needs_partition_count(glue_table: Mapping[str, Any]) -> bool:
    """Whether counting this table's partitions with GetPartitions is worth the calls."""
    partitioned = bool(_list(glue_table.get("PartitionKeys")))
    return partitioned and not is_view(glue_table) and not is_resource_link(glue_table)


def statistics_columns(glue_table: Mapping[str, Any]) -> list[str]:
    """The columns to ask GetColumnStatisticsForTable about: a table's Glue columns and partition keys; none for
    a view or a resource link, which Glue keeps no statistics for."""
    if is_view(glue_table) or is_resource_link(glue_table):
        return []
    storage = _mapping(glue_table.get("StorageDescriptor"))
    specs = _glue_specs(storage.get("Columns"), is_partition=False) + _glue_specs(
        glue_table.get("PartitionKeys"), is_partition=True)
    return [spec.name for spec in _current_columns(specs, _mapping(glue_table.get("Parameters")))]


def map_database(scope: CrawlScope, schema_count: int | None) -> AssetRecord:
    """The Glue catalog as the connection's single Database."""
    attributes = _connection_attributes(scope)
    attributes["schemaCount"] = schema_count
    return AssetRecord(
        type_name="Database",
        qualified_name=scope.database_qualified_name,
        name=scope.catalog_name,
        parent_qualified_name=scope.connection_qualified_name,
        attributes=attributes,
    )


def map_schema(
    scope: CrawlScope, glue_database: Mapping[str, Any], table_count: int | None, view_count: int | None,
    tags: SourceTags = NO_TAGS,
) -> AssetRecord:
    """A GetDatabases entry as a Schema, with its tags; counts are None when this crawl did not establish them."""
    name = _required_name(glue_database, "database")
    attributes = _database_attributes(scope)
    _put(attributes, "description", _text(glue_database.get("Description")))
    _put(attributes, "externalLocation", _text(glue_database.get("LocationUri")))
    _put(attributes, "sourceCreatedAt", _epoch_ms(glue_database.get("CreateTime")))
    parameters = _mapping(glue_database.get("Parameters"))
    if parameters:
        attributes["parameters"] = dict(parameters)
    attributes.update(tag_attributes(tags, database=True))
    # Shared databases come back as links with TargetDatabase (Glue facts §4). False is stated
    # outright so that a link later replaced by a real database does not keep the flag.
    attributes["isResourceLink"] = link = is_database_link(glue_database)
    if link:
        target = _mapping(glue_database.get("TargetDatabase"))
        _put(attributes, "targetDatabase", _dotted(target.get("CatalogId"), target.get("DatabaseName")))
    attributes["tableCount"] = table_count
    attributes["viewsCount"] = view_count
    return AssetRecord(
        type_name="Schema",
        qualified_name=schema_qualified_name(scope, name),
        name=name,
        parent_qualified_name=scope.database_qualified_name,
        attributes=attributes,
    )


def map_table(
    scope: CrawlScope,
    glue_database_name: str,
    glue_table: Mapping[str, Any],
    partitions: Partitions | None,
    column_statistics: ColumnStatistics = _NO_STATISTICS,
    tags: SourceTags = NO_TAGS,
) -> MappedTable:
    """A GetTables entry as a Table or View plus its Columns, with their statistics (None: unknown this time)
    and tags. One odd table gives warnings, not an error."""
    name = _required_name(glue_table, "table")
    label = f"table {glue_database_name}.{name}"
    parameters = _mapping(glue_table.get("Parameters"))
    attributes = _schema_attributes(scope, glue_database_name)
    _put(attributes, "description", _text(glue_table.get("Description")))
    _put(attributes, "sourceCreatedAt", _epoch_ms(glue_table.get("CreateTime")))
    _put(attributes, "sourceUpdatedAt", _epoch_ms(glue_table.get("UpdateTime")))
    _put(attributes, "sourceOwners", _text(glue_table.get("Owner")))
    _put(attributes, "glueTableType", _text(glue_table.get("TableType")))
    if parameters:
        attributes["parameters"] = dict(parameters)
    attributes.update(tag_attributes(tags))
    attributes["isResourceLink"] = link = is_resource_link(glue_table)
    view = is_view(glue_table)
    qualified_name = table_qualified_name(scope, glue_database_name, name)
    parent = schema_qualified_name(scope, glue_database_name)
    if link:
        # The columns live with the target, which may be in another account: no columns, no count.
        target = _mapping(glue_table.get("TargetTable"))
        parts = (target.get("CatalogId"), target.get("DatabaseName"), target.get("Name"))
        _put(attributes, "targetTable", _dotted(*parts))
        record = AssetRecord("Table", qualified_name, name, parent, attributes)
        return MappedTable(record=record, columns=(), nested=(), warnings=(), is_view=False)

    warnings: list[str] = []
    storage = _mapping(glue_table.get("StorageDescriptor"))
    glue_columns = _glue_specs(storage.get("Columns"), is_partition=False)
    partition_keys = _glue_specs(glue_table.get("PartitionKeys"), is_partition=True)
    if view:
        text = decode_view(glue_table)
        if text.problem:
            warnings.append(f"{label}: {text.problem}; its definition is left out")
        _put(attributes, "definition", text.definition)
        _put(attributes, "viewDialect", text.dialect)
        specs = glue_columns + partition_keys
        if not glue_columns and text.columns:
            # Athena may leave the StorageDescriptor empty; the encoded JSON lists the columns (Glue facts §6).
            view_columns = [_ColumnSpec(c.name, c.data_type, None, {}, False) for c in text.columns]
            specs = view_columns + partition_keys
    else:
        spark_specs = _spark_specs(parameters, glue_columns, partition_keys, label, warnings)
        specs = glue_columns + partition_keys if spark_specs is None else spark_specs
        _put_table_attributes(attributes, parameters, storage)

    columns, nested = _column_records(
        scope, glue_database_name, name, view, _current_columns(specs, parameters), column_statistics, tags, warnings
    )
    attributes["columnCount"] = len(columns)  # the top-level ones, as in Atlan
    _put(attributes, "nestedColumnCount", len(nested) or None)
    if not view:
        if any(column.attributes["isPartition"] for column in columns):
            attributes["isPartitioned"] = True
            if partitions is None:  # not read this time: unknown, so the stored values stay
                attributes.update(dict.fromkeys(PARTITION_ATTRIBUTES))
            else:
                found, problems = partition_attributes(partitions, [key.name for key in partition_keys],
                                                       storage.get("Columns") or (), label)
                attributes.update(found)
                warnings.extend(problems)
        elif not _is_iceberg(parameters) or partition_keys:
            attributes["isPartitioned"] = False
        # Otherwise an Iceberg table without Glue partition keys: its partition spec lives in the Iceberg
        # metadata, so whether it is partitioned is unknown here and the attribute stays out.
    record = AssetRecord("View" if view else "Table", qualified_name, name, parent, attributes)
    return MappedTable(record=record, columns=columns, nested=nested, warnings=tuple(warnings), is_view=view)


def _put_table_attributes(
    attributes: dict[str, Any], parameters: Mapping[str, Any], storage: Mapping[str, Any]
) -> None:
    _put(attributes, "externalLocation", table_location(parameters, storage))
    _put(attributes, "externalLocationFormat", storage_format(parameters, storage))
    for parameter, attribute in _STATISTICS.items():
        _put(attributes, attribute, _count(parameters.get(parameter)))
    if _is_iceberg(parameters):
        # Atlan's tableType enum only has TEMPORARY/ICEBERG/KUDU and clients reject other values
        # (docs/design.md, Atlan contract §5); Glue's own TableType goes to glueTableType instead.
        attributes["tableType"] = "ICEBERG"
        _put(attributes, "icebergMetadataLocation", _text(parameters.get("metadata_location")))
    # Partition projection lives in `projection.*` parameters (Glue facts §10): Athena computes partitions.
    attributes["partitionProjection"] = (
        str(parameters.get("projection.enabled", "")).strip().lower() == "true"
    )


# What Spark writes as the Location of a data source table (Delta, or parquet through saveAsTable), appended to
# the real path: `s3://lake/db/t-__PLACEHOLDER__` (Glue facts §7).
_SPARK_PLACEHOLDER = "__PLACEHOLDER__"


def table_location(parameters: Mapping[str, Any], storage: Mapping[str, Any]) -> str | None:
    """Where the table's data is: the StorageDescriptor's Location, or for a table Spark wrote the `path` it
    keeps in the SerDe parameters (or the table's); None rather than Spark's placeholder when neither says."""
    location = _text(storage.get("Location"))
    if location is None or _SPARK_PLACEHOLDER not in location:
        return location
    serde = _mapping(storage.get("SerdeInfo"))
    return _text(_mapping(serde.get("Parameters")).get("path")) or _text(parameters.get("path"))


def _spark_specs(
    parameters: Mapping[str, Any],
    glue_columns: list[_ColumnSpec],
    partition_keys: list[_ColumnSpec],
    label: str,
    warnings: list[str],
) -> list[_ColumnSpec] | None:
    """The columns from the Spark schema parameters when Glue only shows Spark's placeholder (Glue facts §7)."""
    placeholder = not glue_columns or (
        len(glue_columns) == 1
        and glue_columns[0].name == "col"
        and normalise_type(glue_columns[0].raw_type or "") == "array<string>"
    )
    if not placeholder:
        return None
    try:
        schema = read_spark_schema(parameters)
    except SparkSchemaError as error:
        warnings.append(
            f"{label}: the Spark schema in its parameters is unusable ({error}); showing the Glue columns"
        )
        return None
    if schema is None:
        return None
    fields = schema.fields
    partition_names = schema.partition_columns or tuple(key.name for key in partition_keys)
    in_partition = set(partition_names)
    specs = [
        _ColumnSpec(f.name, f.data_type, f.comment, {}, False) for f in fields if f.name not in in_partition
    ]
    by_name = {f.name: f for f in fields}
    glue_keys = {key.name: key for key in partition_keys}
    for partition_name in partition_names:
        field = by_name.get(partition_name)
        if field is not None:
            specs.append(_ColumnSpec(field.name, field.data_type, field.comment, {}, True))
        elif partition_name in glue_keys:
            specs.append(glue_keys[partition_name])
        else:
            warnings.append(f"{label}: Spark partition column {partition_name!r} is not in its schema")
    return specs


def _current_columns(specs: list[_ColumnSpec], parameters: Mapping[str, Any]) -> list[_ColumnSpec]:
    """Iceberg keeps dropped columns, marked `iceberg.field.current = false` (Glue facts §8); they are not shown."""
    if not _is_iceberg(parameters):
        return specs
    return [s for s in specs if str(s.parameters.get("iceberg.field.current", "")).strip().lower() != "false"]


def _column_records(
    scope: CrawlScope,
    glue_database_name: str,
    table_name: str,
    view: bool,
    specs: list[_ColumnSpec],
    column_statistics: ColumnStatistics,
    tags: SourceTags,
    warnings: list[str],
) -> tuple[tuple[AssetRecord, ...], tuple[AssetRecord, ...]]:
    """The columns of a table with their statistics and LF-tags, and the nested columns below them."""
    label = f"table {glue_database_name}.{table_name}"
    table_qn = table_qualified_name(scope, glue_database_name, table_name)
    parent = _schema_attributes(scope, glue_database_name)
    parent["viewName" if view else "tableName"] = table_name
    parent["viewQualifiedName" if view else "tableQualifiedName"] = table_qn
    records: list[AssetRecord] = []
    nested: list[AssetRecord] = []
    # Two records with one qualified name would overwrite each other in the store.
    seen: set[str] = set()
    partition_order = 0
    cut = False
    for spec in specs:
        qualified_name = f"{table_qn}/{spec.name}"
        if qualified_name in seen:
            warnings.append(f"{label}: duplicate column {spec.name!r} left out")
            continue
        seen.add(qualified_name)
        attributes = dict(parent)
        _put(attributes, "description", spec.comment)
        data_type = normalise_type(spec.raw_type) if spec.raw_type is not None else None
        if data_type:
            attributes["dataType"] = data_type
            if data_type != spec.raw_type:
                attributes["rawDataTypeDefinition"] = spec.raw_type
        attributes["order"] = len(records) + 1
        attributes["isPartition"] = spec.is_partition
        if spec.is_partition:
            partition_order += 1
            attributes["partitionOrder"] = partition_order
        attributes["isNested"] = is_nested(data_type)
        if spec.parameters:
            attributes["parameters"] = dict(spec.parameters)
        if column_statistics is None:
            attributes.update(dict.fromkeys(STATISTICS_ATTRIBUTES))
        else:
            attributes.update(statistics_attributes(column_statistics.get(spec.name) or {}))
        attributes.update(column_tag_attributes(tags, spec.name))
        fields: list[NestedField] = []
        if attributes["isNested"]:
            fields, more = nested_fields(data_type or "", max_depth=MAX_NESTED_DEPTH,
                                         limit=MAX_NESTED_COLUMNS - len(nested))
            cut = cut or more
        below = _nested_records(qualified_name, spec.name, fields, parent, table_qn, seen, label, warnings)
        _put(attributes, "nestedColumnCount",
             sum(record.attributes["parentColumnQualifiedName"] == qualified_name for record in below) or None)
        records.append(AssetRecord("Column", qualified_name, spec.name, table_qn, attributes))
        nested.extend(below)
    if cut:
        warnings.append(f"{label}: only {MAX_NESTED_COLUMNS:,} of its nested fields are columns in the catalog "
                        f"(the shallowest); the full types are on its columns")
    return tuple(records), tuple(nested)


def _nested_records(
    column_qn: str,
    column_name: str,
    fields: list[NestedField],
    parent: Mapping[str, Any],
    table_qn: str,
    seen: set[str],
    label: str,
    warnings: list[str],
) -> list[AssetRecord]:
    """A column's nested fields as Columns, with Atlan's parent, depth and hierarchy attributes.

    In the store they hang below the table, like its columns: a re-crawl of the table lists them completely,
    so one that disappears is archived, and archiving the table archives them (docs/design.md, Atlan
    contract §7).
    """
    made: dict[int, tuple[str, str, dict[str, Any]]] = {}  # by index in `fields`: qualified name, name, attributes
    for index, field in enumerate(fields):
        up = made.get(field.parent) if field.parent is not None else None
        if field.parent is not None and up is None:
            continue  # below a duplicate that was left out
        qualified_name = f"{column_qn}/{'/'.join(field.path)}"
        if qualified_name in seen:
            warnings.append(f"{label}: duplicate nested field {'.'.join((column_name, *field.path))!r} left out")
            continue
        seen.add(qualified_name)
        parent_qn, parent_name = (up[0], up[1]) if up is not None else (column_qn, column_name)
        hierarchy = list(up[2]["columnHierarchy"]) if up is not None else []
        hierarchy.append({"depth": str(field.depth), "qualifiedName": parent_qn, "name": parent_name})
        made[index] = (qualified_name, field.name, {
            **parent,
            "dataType": field.data_type,
            "order": field.order,
            "nestedColumnOrder": str(field.order),
            "isNested": is_nested(field.data_type),
            "parentColumnQualifiedName": parent_qn,
            "parentColumnName": parent_name,
            "columnDepthLevel": field.depth,
            "columnHierarchy": hierarchy,
        })
    children = Counter(attributes["parentColumnQualifiedName"] for _, _, attributes in made.values())
    for qualified_name, _, attributes in made.values():
        _put(attributes, "nestedColumnCount", children[qualified_name] or None)
    return [AssetRecord("Column", qualified_name, name, table_qn, attributes)
            for qualified_name, name, attributes in made.values()]


def _glue_specs(raw_columns: Any, *, is_partition: bool) -> list[_ColumnSpec]:
    specs = []
    for column in _list(raw_columns):
        if isinstance(column, Mapping) and _text(column.get("Name")):
            raw_type = column.get("Type")
            raw_type = raw_type if isinstance(raw_type, str) else None
            comment, parameters = _text(column.get("Comment")), _mapping(column.get("Parameters"))
            specs.append(_ColumnSpec(column["Name"], raw_type, comment, parameters, is_partition))
    return specs


def _connection_attributes(scope: CrawlScope) -> dict[str, Any]:
    qn, name = scope.connection_qualified_name, scope.connection_name
    return {"connectionQualifiedName": qn, "connectionName": name, "connectorName": CONNECTOR_NAME}


def _database_attributes(scope: CrawlScope) -> dict[str, Any]:
    qn, name = scope.database_qualified_name, scope.database_name
    return {**_connection_attributes(scope), "databaseName": name, "databaseQualifiedName": qn}


def _schema_attributes(scope: CrawlScope, glue_database_name: str) -> dict[str, Any]:
    qn = schema_qualified_name(scope, glue_database_name)
    return {**_database_attributes(scope), "schemaName": glue_database_name, "schemaQualifiedName": qn}


def _is_iceberg(parameters: Mapping[str, Any]) -> bool:
    return str(parameters.get("table_type", "")).strip().upper() == "ICEBERG"


def _required_name(entry: Mapping[str, Any], kind: str) -> str:
    name = entry.get("Name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"a Glue {kind} without a Name: {sorted(entry)!r}")
    return name


def _epoch_ms(value: Any) -> int | None:
    """Glue times as epoch milliseconds. boto3 gives aware datetimes; a naive one is taken as UTC."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return int((value - _EPOCH) // timedelta(milliseconds=1))
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return int(value * 1000)  # botocore without timestamp parsing hands back epoch seconds
    return None


def _count(value: Any) -> int | None:
    """A statistics parameter as a non-negative int; crawlers write them as strings, sometimes "-1"."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    try:
        number = int(text)
    except ValueError:
        try:
            number = int(float(text))  # "1.2E7" and "1000.0" occur too
        except (ValueError, OverflowError):
            return None
    return number if number >= 0 else None


def _dotted(*parts: Any) -> str | None:
    present = [str(part) for part in parts if part]
    return ".".join(present) or None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> Sequence[Any]:
    return value if isinstance(value, (list, tuple)) else ()


def _put(attributes: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        attributes[key] = value
