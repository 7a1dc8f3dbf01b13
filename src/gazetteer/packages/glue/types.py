"""Glue storage formats and Spark schemas, turned into what a catalog shows.

Column type strings themselves (normalising, nesting, parsing) are not Glue's: see `assets.datatypes`.
Everything here is iterative: a Spark schema nests as deeply as the types it describes (docs/design.md, Glue facts §9).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "SparkField",
    "SparkSchema",
    "SparkSchemaError",
    "parse_spark_schema",
    "read_spark_schema",
    "spark_partition_columns",
    "spark_schema_text",
    "spark_type_to_hive",
    "storage_format",
]

_PLAIN_NAME = re.compile(r"[A-Za-z0-9_]+")

# Spark's JSON names for the types whose Hive/Glue spelling differs; the rest are spelled alike.
_SPARK_TO_HIVE = {
    "long": "bigint",
    "integer": "int",
    "short": "smallint",
    "byte": "tinyint",
    "timestamp_ntz": "timestamp",
    "null": "void",
}
# Spark keeps CHAR/VARCHAR as `string` and records the declared type in the field metadata.
_CHAR_VARCHAR_KEY = "__CHAR_VARCHAR_TYPE_STRING"

_SPARK_FILE_PROVIDERS = frozenset({"parquet", "orc", "avro", "csv", "json"})
# Substrings of lower-cased SerDe / InputFormat class names, first match wins (Hudi is handled before).
_CLASS_MARKERS = (
    ("parquet", "parquet"),
    (".orc.", "orc"),
    ("orcserde", "orc"),
    ("avro", "avro"),
    ("jsonserde", "json"),  # org.openx.data.jsonserde.JsonSerDe, org.apache.hive.hcatalog.data.JsonSerDe
    ("opencsvserde", "csv"),
    ("lazysimpleserde", "csv"),  # Glue's crawler uses it for CSV and other delimited text
    ("ionhiveserde", "ion"),
)

_SCHEMA = "spark.sql.sources.schema"
_SCHEMA_NUM_PARTS = "spark.sql.sources.schema.numParts"
_SCHEMA_PART = "spark.sql.sources.schema.part.{}"
_NUM_PART_COLS = "spark.sql.sources.schema.numPartCols"
_PART_COL = "spark.sql.sources.schema.partCol.{}"


def storage_format(parameters: Mapping[str, Any], storage: Mapping[str, Any]) -> str | None:
    """The data format of a table, lower case, or None if nothing says.

    Open table formats win over `classification`: a Delta or Hudi table's files are Parquet and crawlers
    often classify them so, but the table is Delta or Hudi. Then `classification`, then Spark's provider,
    then the SerDe and InputFormat class names.
    """
    table_type = str(parameters.get("table_type", "")).strip().upper()
    provider = str(parameters.get("spark.sql.sources.provider", "")).strip().lower()
    serde = storage.get("SerdeInfo")
    library = serde.get("SerializationLibrary") if isinstance(serde, Mapping) else None
    classes = f"{library or ''} {storage.get('InputFormat') or ''}".lower()
    if table_type == "ICEBERG":
        return "iceberg"
    if provider == "delta" or table_type == "DELTA":
        return "delta"
    if provider == "hudi" or table_type == "HUDI" or "hoodie" in classes or ".hudi." in classes:
        return "hudi"
    classification = parameters.get("classification")
    if isinstance(classification, str) and classification.strip():
        return classification.strip().lower()
    if provider in _SPARK_FILE_PROVIDERS:
        return provider
    for marker, data_format in _CLASS_MARKERS:
        if marker in classes:
            return data_format
    return None


class SparkSchemaError(ValueError):
    """The Spark schema kept in the table parameters cannot be read."""


@dataclass(frozen=True)
class SparkField:
    """One top-level field of a Spark StructType, its type already in Hive spelling."""

    name: str
    data_type: str
    comment: str | None


@dataclass(frozen=True)
class SparkSchema:
    """A Spark table schema from the table parameters: its fields and its partition column names."""

    fields: tuple[SparkField, ...]
    partition_columns: tuple[str, ...]


def read_spark_schema(parameters: Mapping[str, Any]) -> SparkSchema | None:
    """The Spark schema Spark wrote into the table parameters, or None. Raises SparkSchemaError."""
    text = spark_schema_text(parameters)
    if text is None:
        return None
    return SparkSchema(parse_spark_schema(text), spark_partition_columns(parameters))


def spark_schema_text(parameters: Mapping[str, Any]) -> str | None:
    """The Spark schema JSON kept in the table parameters, or None if there is none.

    Spark writes it whole (`spark.sql.sources.schema`) or, past the metastore's 4,000-character
    parameter limit, in `numParts` pieces (docs/design.md, Glue facts §7). Raises SparkSchemaError on a gap.
    """
    whole = parameters.get(_SCHEMA)
    if isinstance(whole, str) and whole.strip():
        return whole
    count_text = parameters.get(_SCHEMA_NUM_PARTS)
    if count_text is None:
        return None
    count = _non_negative_int(count_text, _SCHEMA_NUM_PARTS)
    pieces = []
    for index in range(count):
        piece = parameters.get(_SCHEMA_PART.format(index))
        if not isinstance(piece, str):
            raise SparkSchemaError(f"{_SCHEMA_PART.format(index)} is missing ({count} parts announced)")
        pieces.append(piece)
    return "".join(pieces) or None


def spark_partition_columns(parameters: Mapping[str, Any]) -> tuple[str, ...]:
    """The partition column names Spark recorded (`numPartCols` + `partCol.N`), in partition order."""
    count_text = parameters.get(_NUM_PART_COLS)
    if count_text is None:
        return ()
    count = _non_negative_int(count_text, _NUM_PART_COLS)
    names = []
    for index in range(count):
        name = parameters.get(_PART_COL.format(index))
        if not isinstance(name, str) or not name:
            raise SparkSchemaError(
                f"{_PART_COL.format(index)} is missing ({count} partition columns announced)"
            )
        names.append(name)
    return tuple(names)


def parse_spark_schema(text: str) -> tuple[SparkField, ...]:
    """The top-level fields of a Spark StructType JSON document. Raises SparkSchemaError if malformed."""
    try:
        document = json.loads(text)
    except RecursionError as error:  # the C decoder recurses; a pathological document must not escape
        raise SparkSchemaError("the schema JSON is nested too deeply to decode") from error
    except ValueError as error:
        raise SparkSchemaError(f"the schema is not valid JSON ({error})") from error
    if not isinstance(document, dict) or document.get("type") != "struct":
        raise SparkSchemaError("the schema is not a Spark StructType")
    fields = document.get("fields")
    if not isinstance(fields, list):
        raise SparkSchemaError("the schema StructType has no field list")
    result = []
    for field in fields:
        name, type_node, metadata = _field_parts(field)
        comment = metadata.get("comment")
        result.append(
            SparkField(
                name=name,
                data_type=_declared_char_type(metadata) or spark_type_to_hive(type_node),
                comment=comment if isinstance(comment, str) and comment else None,
            )
        )
    return tuple(result)


def spark_type_to_hive(node: Any) -> str:
    """A Spark JSON data type as a Hive type string: struct<a:int,b:string>, array<..>, map<k,v>, ...

    Walks an explicit stack: the stack holds either text to emit (str) or a type node (dict) still to
    expand, so a schema nested thousands of levels deep costs memory, never Python stack frames.
    Raises SparkSchemaError on anything that is not a Spark data type.
    """
    out: list[str] = []
    stack: list[Any] = [_primitive(node) if isinstance(node, str) else node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        if not isinstance(item, dict):
            raise SparkSchemaError(f"unexpected Spark type node {type(item).__name__}")
        pieces = _expand(item)
        stack.extend(reversed(pieces))
    return "".join(out)


def _expand(node: dict[str, Any]) -> list[Any]:
    """One complex type node as the text and child nodes that render it, in output order."""
    kind = node.get("type")
    if kind == "struct":
        fields = node.get("fields")
        if not isinstance(fields, list):
            raise SparkSchemaError("a StructType has no field list")
        pieces: list[Any] = ["struct<"]
        for index, field in enumerate(fields):
            name, type_node, metadata = _field_parts(field)
            if index:
                pieces.append(",")
            pieces.append(f"{_quote(name)}:")
            pieces.append(_declared_char_type(metadata) or _child(type_node))
        pieces.append(">")
        return pieces
    if kind == "array":
        return ["array<", _child(_required(node, "elementType")), ">"]
    if kind == "map":
        return ["map<", _child(_required(node, "keyType")), ",", _child(_required(node, "valueType")), ">"]
    if kind == "udt":
        # A user-defined type is stored as its underlying SQL type.
        return [_child(_required(node, "sqlType"))]
    raise SparkSchemaError(f"unknown Spark type {kind!r}")


def _field_parts(field: Any) -> tuple[str, Any, Mapping[str, Any]]:
    if not isinstance(field, dict):
        raise SparkSchemaError("a StructField is not an object")
    name = field.get("name")
    if not isinstance(name, str) or not name:
        raise SparkSchemaError("a StructField has no name")
    metadata = field.get("metadata")
    return name, _required(field, "type"), metadata if isinstance(metadata, dict) else {}


def _required(node: dict[str, Any], key: str) -> Any:
    value = node.get(key)
    if not isinstance(value, (str, dict)):
        raise SparkSchemaError(f"a Spark {node.get('type', 'field')} has no {key}")
    return value


def _child(node: Any) -> Any:
    return _primitive(node) if isinstance(node, str) else node


def _primitive(name: str) -> str:
    return _SPARK_TO_HIVE.get(name, name)


def _declared_char_type(metadata: Mapping[str, Any]) -> str | None:
    declared = metadata.get(_CHAR_VARCHAR_KEY)
    return declared if isinstance(declared, str) and declared else None


def _quote(name: str) -> str:
    if _PLAIN_NAME.fullmatch(name):
        return name
    return "`" + name.replace("`", "``") + "`"


def _non_negative_int(text: Any, key: str) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise SparkSchemaError(f"{key} is not a number: {text!r}") from None
    if value < 0:
        raise SparkSchemaError(f"{key} is negative: {text!r}")
    return value
