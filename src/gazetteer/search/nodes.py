"""The frozen, typed clauses a parsed search body is made of (see `gazetteer.search.dsl`).

What for: `gazetteer.search.dsl` builds these, `gazetteer.search.compile` turns them into SQL. They are
immutable and compare by value; `at` (the clause's position, for error messages) takes no part in that.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as _field
from datetime import datetime
from typing import Any, Literal

from gazetteer.search.lucene import lucene_regex, resolve_date_math

Scalar = str | int | float | bool


def _at() -> Any:
    return _field(default="query", compare=False, repr=False)


@dataclass(frozen=True)
class DateMath:
    """An ES date-math expression (``now-2h``, ``now/d``, ``2024-01-01||+1M``), resolved at compile time."""

    text: str
    anchor: datetime | None  # None means "now"
    ops: tuple[tuple[str, int, str], ...]  # ("+", 2, "h") or ("/", 0, "d")

    def resolve(self, now: datetime, *, round_up: bool = False) -> datetime:
        """The instant it denotes; `round_up` gives ES's gt/lte rounding (last millisecond of the unit)."""
        return resolve_date_math(self.anchor or now, self.ops, round_up=round_up)


@dataclass(frozen=True)
class MatchAll:
    at: str = _at()


@dataclass(frozen=True)
class MatchNone:
    at: str = _at()


@dataclass(frozen=True)
class Term:
    field: str
    value: Scalar
    case_insensitive: bool = False
    at: str = _at()


@dataclass(frozen=True)
class Terms:
    """Any of `values` (also what ``ids`` parses to, on the field ``_id``)."""

    field: str
    values: tuple[Scalar, ...]
    at: str = _at()


@dataclass(frozen=True)
class Prefix:
    field: str
    value: str
    case_insensitive: bool = False
    at: str = _at()


@dataclass(frozen=True)
class Wildcard:
    """Lucene wildcard: ``*`` any run, ``?`` one character, ``\\`` escapes; matches the whole value."""

    field: str
    value: str
    case_insensitive: bool = False
    at: str = _at()


@dataclass(frozen=True)
class Regexp:
    """Lucene regexp; `pattern` is its translation to a regex anchored to the whole value (^...$)."""

    field: str
    value: str
    case_insensitive: bool = False
    at: str = _at()
    pattern: str = _field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", lucene_regex(self.value, at=self.at))


RangeValue = int | float | str | DateMath


@dataclass(frozen=True)
class Range:
    field: str
    gt: RangeValue | None = None
    gte: RangeValue | None = None
    lt: RangeValue | None = None
    lte: RangeValue | None = None
    at: str = _at()


@dataclass(frozen=True)
class Exists:
    field: str
    at: str = _at()


@dataclass(frozen=True)
class FullText:
    """``match``/``multi_match``: kept as text for the resolver, which owns full-text search."""

    text: str
    fields: tuple[str, ...]
    operator: Literal["or", "and"] = "or"
    kind: Literal["match", "multi_match"] = "match"
    type: str = "best_fields"
    at: str = _at()


@dataclass(frozen=True)
class Nested:
    """ES nested query; on our stores it is just its inner query (every field is under `path`)."""

    path: str
    query: Query
    at: str = _at()


@dataclass(frozen=True)
class Bool:
    must: tuple[Query, ...] = ()
    filter: tuple[Query, ...] = ()
    should: tuple[Query, ...] = ()
    must_not: tuple[Query, ...] = ()
    minimum_should_match: int = 0  # how many `should` clauses must match, already resolved to a count
    at: str = _at()


Query = (
    MatchAll
    | MatchNone
    | Bool
    | Term
    | Terms
    | Prefix
    | Wildcard
    | Regexp
    | Range
    | Exists
    | Nested
    | FullText
)


@dataclass(frozen=True)
class SortField:
    field: str
    order: Literal["asc", "desc"] = "asc"
    missing: Literal["_first", "_last"] = "_last"
    nested_path: str | None = None
    at: str = _field(default="sort", compare=False, repr=False)


@dataclass(frozen=True)
class TermsAgg:
    name: str
    field: str
    size: int = 10


@dataclass(frozen=True)
class SearchRequest:
    """A whole search body: paging, query, sort, aggregations (terms only) and an optional post_filter."""

    from_: int = 0
    size: int = 10
    query: Query = MatchAll()
    sort: tuple[SortField, ...] = ()
    track_total_hits: bool | int = 10_000  # gazetteer.search.dsl.DEFAULT_TRACK_TOTAL_HITS
    aggregations: tuple[TermsAgg, ...] = ()
    post_filter: Query | None = None


__all__ = [
    "Bool",
    "DateMath",
    "Exists",
    "FullText",
    "MatchAll",
    "MatchNone",
    "Nested",
    "Prefix",
    "Query",
    "Range",
    "RangeValue",
    "Regexp",
    "Scalar",
    "SearchRequest",
    "SortField",
    "Term",
    "Terms",
    "TermsAgg",
    "Wildcard",
]
