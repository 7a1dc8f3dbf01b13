"""Glue's column statistics, as GetColumnStatisticsForTable gives them, turned into Atlan's Column attributes.

Pure functions, no I/O. Only what Glue gives is mapped (docs/design.md, Glue facts §15), by the kind of the
statistics (`StatisticsData.Type`):

| Glue | Atlan |
|---|---|
| NumberOfDistinctValues (all but BOOLEAN and BINARY) | columnDistinctValuesCount(Long) |
| NumberOfNulls | columnMissingValuesCount(Long) |
| MinimumValue / MaximumValue of LONG, DOUBLE, DECIMAL | columnMin / columnMax |
| MinimumValue / MaximumValue of DATE | columnMins / columnMaxs: the ISO date, alone in the list |
| AverageLength / MaximumLength of STRING, BINARY | columnAverageLength / columnMaximumStringLength |
| NumberOfTrues / NumberOfFalses of BOOLEAN | columnTopValues: `true` and `false` with their counts |

Atlan's counts are Java ints with a Long twin for larger values: the Long one is always set, the int one when
the value fits. Atlan's columnMin and columnMax are numbers, so a date's bounds go to the string lists instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

__all__ = ["STATISTICS_ATTRIBUTES", "statistics_attributes"]

# Every attribute statistics may set: a column whose statistics are unknown this time has them all None, so
# the catalog keeps what it had (see AssetRecord).
STATISTICS_ATTRIBUTES = (
    "columnDistinctValuesCount", "columnDistinctValuesCountLong", "columnMissingValuesCount",
    "columnMissingValuesCountLong", "columnMin", "columnMax", "columnMins", "columnMaxs", "columnAverageLength",
    "columnMaximumStringLength", "columnTopValues",
)
_INT_MAX = 2**31 - 1
_NUMERIC = ("LONG", "DOUBLE", "DECIMAL")
_LENGTHS = ("STRING", "BINARY")
_KINDS = (*_NUMERIC, *_LENGTHS, "DATE", "BOOLEAN")  # Glue's ColumnStatisticsType


def statistics_attributes(statistics: Mapping[str, Any]) -> dict[str, Any]:
    """One ColumnStatistics as Atlan's attributes; a value Glue does not give, or that makes no sense (a
    negative count, an infinite bound), is left out."""
    data = statistics.get("StatisticsData")
    kind = str(data.get("Type") or "").upper() if isinstance(data, Mapping) else ""
    values = data.get(f"{kind.capitalize()}ColumnStatisticsData") if isinstance(data, Mapping) else None
    if kind not in _KINDS or not isinstance(values, Mapping):
        return {}
    out: dict[str, Any] = {}
    _put_count(out, "columnDistinctValuesCount", values.get("NumberOfDistinctValues"))
    _put_count(out, "columnMissingValuesCount", values.get("NumberOfNulls"))
    if kind in _NUMERIC:
        _put(out, "columnMin", _number(values.get("MinimumValue")))
        _put(out, "columnMax", _number(values.get("MaximumValue")))
    elif kind == "DATE":
        _put(out, "columnMins", _date(values.get("MinimumValue")))
        _put(out, "columnMaxs", _date(values.get("MaximumValue")))
    elif kind in _LENGTHS:
        _put(out, "columnAverageLength", _number(values.get("AverageLength")))
        _put(out, "columnMaximumStringLength", _non_negative(values.get("MaximumLength")))
    elif kind == "BOOLEAN":
        counts = {"true": _non_negative(values.get("NumberOfTrues")),
                  "false": _non_negative(values.get("NumberOfFalses"))}
        known = sorted(((n, v) for v, n in counts.items() if n is not None), key=lambda pair: -pair[0])
        if known:
            out["columnTopValues"] = [{"columnValue": value, "columnValueFrequency": n} for n, value in known]
    return out


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        out[key] = value


def _put_count(out: dict[str, Any], key: str, value: Any) -> None:
    count = _non_negative(value)
    if count is not None:
        out[f"{key}Long"] = count
        if count <= _INT_MAX:
            out[key] = count


def _non_negative(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _number(value: Any) -> int | float | None:
    """A LONG or DOUBLE bound as it is; a DECIMAL one (an unscaled two's-complement integer and a scale) as a
    float, which is what Atlan's columnMin and columnMax hold."""
    if isinstance(value, Mapping):
        unscaled, scale = value.get("UnscaledValue"), value.get("Scale")
        if not isinstance(unscaled, bytes | bytearray) or not isinstance(scale, int) or isinstance(scale, bool):
            return None
        value = float(Decimal(int.from_bytes(unscaled, "big", signed=True)).scaleb(-scale))
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def _date(value: Any) -> list[str] | None:
    """A DATE bound (boto3 gives a datetime at midnight UTC) as ["yyyy-mm-dd"]."""
    if not isinstance(value, datetime):
        return None
    moment = value.astimezone(UTC) if value.tzinfo is not None else value
    return [moment.date().isoformat()]
