"""Column statistics for the local Glue endpoint, which moto does not implement.

Glue keeps statistics per column (`UpdateColumnStatisticsForTable`, what Glue's statistics tasks and Athena's
ANALYZE write) and hands them out at most 100 columns a call (`GetColumnStatisticsForTable`). Tests seed them
with boto3's `update_column_statistics_for_table` and the crawler reads them over HTTP, so this store answers
both in Glue's JSON, as Glue does: the statistics kept are returned as they were written; a requested column
without any is in `Errors` with `EntityNotFoundException`, and a table without any statistics at all is an
`EntityNotFoundException` of the whole call. Dropping a table or a database drops its statistics.
"""

from __future__ import annotations

import threading
from typing import Any

from gazetteer.devtools.glue_http import ErrorAnswer

__all__ = ["ColumnStatisticsStore", "OPERATIONS"]

OPERATIONS = ("GetColumnStatisticsForTable", "UpdateColumnStatisticsForTable")
# The real API's limits on one call.
_GET_LIMIT = 100
_UPDATE_LIMIT = 25


class ColumnStatisticsStore:
    """Statistics by region, database, table and column, as their last update wrote them (JSON, as sent)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tables: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {}

    def answer(self, operation: str, region: str, body: dict[str, Any]) -> dict[str, Any]:
        """The answer to one call of `OPERATIONS`; raises ErrorAnswer for what Glue refuses."""
        key = (region, _name(body, "DatabaseName"), _name(body, "TableName"))
        if operation == "UpdateColumnStatisticsForTable":
            return self._update(key, body.get("ColumnStatisticsList"))
        return self._get(key, body.get("ColumnNames"))

    def _update(self, key: tuple[str, str, str], statistics: Any) -> dict[str, Any]:
        if not isinstance(statistics, list) or len(statistics) > _UPDATE_LIMIT:
            raise ErrorAnswer(400, "InvalidInputException",
                                  f"ColumnStatisticsList must be a list of at most {_UPDATE_LIMIT} entries")
        for entry in statistics:
            if not isinstance(entry, dict) or not isinstance(entry.get("ColumnName"), str):
                raise ErrorAnswer(400, "InvalidInputException", "every entry needs a ColumnName")
        with self._lock:
            columns = self._tables.setdefault(key, {})
            columns.update({entry["ColumnName"]: entry for entry in statistics})
        return {"Errors": []}

    def _get(self, key: tuple[str, str, str], names: Any) -> dict[str, Any]:
        if not isinstance(names, list) or len(names) > _GET_LIMIT:
            raise ErrorAnswer(400, "InvalidInputException",
                                  f"ColumnNames must be a list of at most {_GET_LIMIT} names")
        with self._lock:
            columns = dict(self._tables.get(key, {}))
        if not columns:
            raise ErrorAnswer(400, "EntityNotFoundException",
                                  f"No column statistics found for table {key[1]}.{key[2]}")
        return {
            "ColumnStatisticsList": [columns[name] for name in names if name in columns],
            "Errors": [{"ColumnName": name, "Error": {"ErrorCode": "EntityNotFoundException",
                                                      "ErrorMessage": f"No statistics for column {name}"}}
                       for name in names if name not in columns],
        }

    def forget(self, region: str, database: str, table: str | None = None) -> None:
        """Drop the statistics of a table, or of every table of a database (both dropped from Glue)."""
        with self._lock:
            for key in [k for k in self._tables if k[:2] == (region, database) and table in (None, k[2])]:
                del self._tables[key]

    def clear(self) -> None:
        with self._lock:
            self._tables.clear()


def _name(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ErrorAnswer(400, "InvalidInputException", f"{key} is required")
    return value
