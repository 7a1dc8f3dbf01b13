"""How values look in the UI: sizes, counts, times, SQL with highlighting, search snippets.

Everything that returns Markup escapes its input first: view SQL, descriptions and names come from Glue
and from people, and must never become HTML.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup, escape

__all__ = ["human_bytes", "human_count", "from_epoch_ms", "relative_time", "argo_time", "highlight_sql",
           "snippet", "duration", "column_statistics", "partitions"]

_UNITS = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def human_bytes(value: Any) -> str:
    """1536 → '1.5 KiB'; None or nonsense → '—'."""
    try:
        size = float(value)
    except (TypeError, ValueError):
        return "—"
    if size < 0:
        return "—"
    unit = 0
    while size >= 1024 and unit < len(_UNITS) - 1:
        size /= 1024
        unit += 1
    if unit == 0:
        return f"{int(size):,} bytes" if int(size) != 1 else "1 byte"
    return f"{size:,.1f} {_UNITS[unit]}"


def human_count(value: Any) -> str:
    """1284331 → '1,284,331'; None → '—'."""
    if value is None or isinstance(value, bool):
        return "—"
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


def partitions(attributes: Mapping[str, Any], keys: list[str]) -> tuple[str, str | None]:
    """A table's partitions in words, and a note saying why a number is missing: Glue lists none for a Delta
    table (its transaction log holds them), and an Iceberg table's spec is in its own metadata (Glue facts §8)."""
    data_format, count = attributes.get("externalLocationFormat"), attributes.get("partitionCount")
    partitioned = attributes.get("isPartitioned")
    if partitioned is None:
        return "unknown", ("Iceberg keeps its partition spec in its own metadata, not in Glue"
                           if data_format == "iceberg" else None)
    if not partitioned:
        return "not partitioned", None
    by = f"partitioned by {', '.join(keys)}" if keys else "partitioned"
    if data_format == "delta" and not count:
        return by, "Glue lists no partitions for a Delta table: its transaction log holds them"
    if count is None:
        return by, "not counted by the last crawl"
    return human_count(count), "projected by Athena" if attributes.get("partitionProjection") else None


def _number(value: Any) -> str:
    """A statistic: whole numbers with thousands separators, others to 6 significant digits."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.6g}" if abs(value) < 1e15 else f"{value:.6g}"
    return human_count(value)


def _first(values: Any) -> Any:
    return values[0] if isinstance(values, list) and values else None


def column_statistics(attributes: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A column's statistics (Atlan's attributes, as a Glue crawl maps them) as (label, value) pairs, in the
    order the page shows them; empty when it has none."""
    def count(name: str) -> Any:  # Atlan's Long twin holds what the int one cannot
        return attributes.get(f"{name}Long", attributes.get(name))

    shown = [
        ("Distinct values", count("columnDistinctValuesCount")),
        ("Nulls", count("columnMissingValuesCount")),
        ("Minimum", attributes.get("columnMin", _first(attributes.get("columnMins")))),
        ("Maximum", attributes.get("columnMax", _first(attributes.get("columnMaxs")))),
        ("Average length", attributes.get("columnAverageLength")),
        ("Maximum length", attributes.get("columnMaximumStringLength")),
    ]
    top = attributes.get("columnTopValues")
    shown += [(str(entry.get("columnValue")), entry.get("columnValueFrequency")) for entry in top
              if isinstance(entry, Mapping)] if isinstance(top, list) else []
    return [(label, value if isinstance(value, str) else _number(value)) for label, value in shown
            if value is not None]


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def from_epoch_ms(value: Any) -> str:
    """Epoch milliseconds (Atlan's timestamps) → '2024-05-01 13:45 UTC'."""
    moment = _moment(value)
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def argo_time(value: Any) -> str:
    """Argo's '2024-05-01T13:45:10Z' → '2024-05-01 13:45:10 UTC'."""
    moment = _moment(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"


def iso(value: Any) -> str:
    moment = _moment(value)
    return moment.isoformat() if moment else ""


def relative_time(value: Any, now: datetime | None = None) -> str:
    """'3 minutes ago', 'in 2 days'."""
    moment = _moment(value)
    if moment is None:
        return ""
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    future, seconds = seconds < 0, abs(seconds)
    for size, name in ((86400 * 365, "year"), (86400 * 30, "month"), (86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            amount = int(seconds // size)
            text = f"{amount} {name}{'s' if amount != 1 else ''}"
            return f"in {text}" if future else f"{text} ago"
    return "just now"


def duration(seconds: Any) -> str:
    """62.5 → '1 min 3 s'."""
    try:
        total = float(seconds)
    except (TypeError, ValueError):
        return "—"
    if total < 10:
        return f"{total:.1f} s"
    minutes, secs = divmod(int(round(total)), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


# ---- SQL --------------------------------------------------------------------------------------------------

_KEYWORDS = frozenset([
    "add", "all", "alter", "and", "any", "array", "as", "asc", "between", "by", "case", "cast", "create", "cross",
    "cube", "current_date", "current_timestamp", "delete", "desc", "distinct", "drop", "else", "end", "except",
    "exists", "explain", "false", "filter", "first", "following", "from", "full", "group", "grouping", "having",
    "if", "ilike", "in", "inner", "insert", "intersect", "interval", "into", "is", "join", "last", "lateral",
    "left", "like", "limit", "map", "natural", "not", "null", "nulls", "offset", "on", "or", "order", "outer",
    "over", "partition", "preceding", "range", "recursive", "replace", "right", "rollup", "row", "rows", "select",
    "set", "some", "table", "tablesample", "then", "true", "unbounded", "union", "unnest", "update", "using",
    "values", "view", "when", "where", "window", "with", "within"
])
_TOKENS = re.compile(r"""
    (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<string>'(?:[^']|'')*(?:'|\Z))
  | (?P<quoted>"(?:[^"]|"")*(?:"|\Z)|`(?:[^`]|``)*(?:`|\Z))
  | (?P<number>\b\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b)
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<other>\s+|.)
""", re.VERBOSE | re.DOTALL)


def highlight_sql(sql: str | None) -> Markup:
    """SQL as escaped HTML with keywords, strings, numbers and comments in spans (classes sql-kw, ...)."""
    parts: list[str] = []
    for match in _TOKENS.finditer(sql or ""):
        kind, text = match.lastgroup, match.group()
        if kind == "word" and text.lower() in _KEYWORDS:
            parts.append(f'<span class="sql-kw">{escape(text)}</span>')
        elif kind in ("comment", "string", "number"):
            parts.append(f'<span class="sql-{kind[:3]}">{escape(text)}</span>')
        elif kind == "quoted":
            parts.append(f'<span class="sql-id">{escape(text)}</span>')
        else:
            parts.append(str(escape(text)))
    return Markup("".join(parts))


# ---- search results ---------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")


def snippet(text: str | None, query: str | None, limit: int = 220) -> Markup:
    """A description cut to `limit` characters around the first matched word, matches in <mark>."""
    text = " ".join((text or "").split())
    if not text:
        return Markup("")
    words = [w.lower() for w in _WORD.findall(query or "") if len(w) > 1]
    pattern = re.compile("|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)),
                         re.IGNORECASE) if words else None
    start = 0
    if pattern and len(text) > limit:
        first = pattern.search(text)
        if first and first.start() > limit // 2:
            start = first.start() - limit // 3
    end = min(len(text), start + limit)
    piece = text[start:end]
    prefix, suffix = ("…" if start else ""), ("…" if end < len(text) else "")
    if pattern is None:
        return Markup(escape(prefix + piece + suffix))
    out, last = [str(escape(prefix))], 0
    for found in pattern.finditer(piece):
        out.append(str(escape(piece[last:found.start()])))
        out.append(f"<mark>{escape(found.group())}</mark>")
        last = found.end()
    out.append(str(escape(piece[last:] + suffix)))
    return Markup("".join(out))
