"""View definitions as Glue stores them: Athena/Presto's encoded JSON, or plain Spark/Hive SQL."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ViewColumn", "ViewText", "decode_view"]

# Athena writes `/* Presto View: <base64 JSON> */` into ViewOriginalText and a bare `/* Presto View */`
# into ViewExpandedText (docs/design.md, Glue facts §6). Trino's Hive connector writes the same envelope.
_ENCODED_VIEW = re.compile(
    r"\s*/\*\s*(?:Presto|Trino) View:\s*(?P<payload>.*?)\s*\*/\s*", re.DOTALL | re.IGNORECASE
)
_ENCODED_MARKER = re.compile(r"\s*/\*\s*(?:Presto|Trino) View\b", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")
# Spark writes these table parameters on the views it creates; Hive's metastore only its DDL time.
_SPARK_PARAMETER_PREFIXES = ("spark.sql.", "view.sqlConfig.", "view.catalogAndNamespace.", "view.query.out.")
_HIVE_PARAMETER = "transient_lastDdlTime"


@dataclass(frozen=True)
class ViewColumn:
    """A column listed in an Athena view's JSON; `data_type` is Presto's spelling, e.g. row(a varchar)."""

    name: str
    data_type: str | None


@dataclass(frozen=True)
class ViewText:
    """What a Glue view says about itself. `problem` explains a definition that could not be read."""

    definition: str | None
    dialect: str | None
    columns: tuple[ViewColumn, ...] = ()
    problem: str | None = None


def decode_view(glue_table: Mapping[str, Any]) -> ViewText:
    """The SQL, dialect and (for Athena views) columns of a VIRTUAL_VIEW table dict from GetTables."""
    original = _text(glue_table.get("ViewOriginalText"))
    expanded = _text(glue_table.get("ViewExpandedText"))
    parameters = glue_table.get("Parameters")
    parameters = parameters if isinstance(parameters, Mapping) else {}

    if original and _ENCODED_MARKER.match(original):
        return _decode_presto(original)
    definition = original or (expanded if expanded and not _ENCODED_MARKER.match(expanded) else None)
    return ViewText(definition=definition, dialect=_plain_sql_dialect(parameters))


def _decode_presto(original: str) -> ViewText:
    match = _ENCODED_VIEW.fullmatch(original)
    if match is None:
        return ViewText(definition=None, dialect="presto", problem="the Presto view envelope is malformed")
    payload = _WHITESPACE.sub("", match.group("payload"))
    try:
        raw = base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
        document = json.loads(raw.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError) as error:
        return ViewText(
            definition=None, dialect="presto", problem=f"the Presto view JSON cannot be decoded ({error})"
        )
    if not isinstance(document, dict):
        return ViewText(definition=None, dialect="presto", problem="the Presto view JSON is not an object")
    sql = document.get("originalSql")
    return ViewText(
        definition=sql if isinstance(sql, str) and sql.strip() else None,
        dialect="presto",
        columns=_presto_columns(document.get("columns")),
        problem=None if isinstance(sql, str) else "the Presto view JSON has no originalSql",
    )


def _presto_columns(raw: Any) -> tuple[ViewColumn, ...]:
    if not isinstance(raw, list):
        return ()
    columns = []
    for entry in raw:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"]:
            data_type = entry.get("type")
            columns.append(ViewColumn(entry["name"], data_type if isinstance(data_type, str) else None))
    return tuple(columns)


def _plain_sql_dialect(parameters: Mapping[str, Any]) -> str | None:
    if str(parameters.get("presto_view", "")).lower() == "true":  # Athena's own marker
        return "presto"
    keys = [key for key in parameters if isinstance(key, str)]
    if any(key.startswith(_SPARK_PARAMETER_PREFIXES) for key in keys):
        return "spark"
    if _HIVE_PARAMETER in parameters:
        return "hive"
    return None  # created through the Glue API or an unknown engine: we cannot tell


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None
