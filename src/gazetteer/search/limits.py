"""How big a search may be: the bounds `gazetteer.search.dsl` enforces while it parses a request.

What for: every value a search carries ends up bound into SQL, compiled into a regex or walked by recursive
code. Past these bounds a request is refused with `InvalidRequest` (a 400) naming what is too big, instead of
reaching SQLite or PostgreSQL as an integer they cannot hold, an expression nested deeper than SQLite's
parser allows (1,000), more bound parameters than it accepts (32,766 by default) or a pattern to match
against every row. Each bound is far above what Atlan's clients send.
"""

from __future__ import annotations

import math
from typing import Any

from gazetteer.errors import InvalidRequest

__all__ = [
    "MAX_AGGREGATIONS",
    "MAX_BUCKETS",
    "MAX_CLAUSES",
    "MAX_DEPTH",
    "MAX_PAGING",
    "MAX_REGEXP_CHARS",
    "MAX_SORT",
    "MAX_TERMS",
    "MAX_TEXT_CHARS",
    "MAX_VALUE_CHARS",
    "check_number",
    "check_text",
]

# `from`, `size`, a terms aggregation's `size` and `track_total_hits` are Java ints in Elasticsearch, which
# refuses anything larger; paging a million assets with `from` stays far inside.
MAX_PAGING = 2**31 - 1
MAX_BUCKETS = 10_000  # a terms aggregation's size is capped here silently, as a page's size is
# Facets are grouped in one query, one column each, and sort keys are ORDER BY terms: SQLite takes 2,000 of
# either, PostgreSQL 1,664 columns. Atlan's UI asks for a handful of each.
MAX_AGGREGATIONS = 100
MAX_SORT = 64
MAX_DEPTH = 20  # bool/nested levels, Elasticsearch's indices.query.bool.max_nested_depth
MAX_CLAUSES = 1024  # clauses in a query (post_filter included), Elasticsearch's classic max_clause_count
MAX_TERMS = 10_000  # values of terms/ids clauses together: each is one bound parameter
MAX_VALUE_CHARS = 4096  # a term, prefix, wildcard or range value; no name or path in a catalog is this long
MAX_REGEXP_CHARS = 1000  # a regexp value: it becomes a regex run against every candidate row
MAX_TEXT_CHARS = 1000  # the text of a match/multi_match clause
_INT64 = 2**63  # what SQLite integers and PostgreSQL bigints hold


def check_text(value: str, limit: int, what: str) -> str:
    """`value`, or a 400 naming `what` when it is longer than `limit` characters."""
    if len(value) > limit:
        raise InvalidRequest(f"{what} is {len(value):,} characters long; at most {limit:,} are accepted")
    return value


def check_number(value: Any, what: str) -> Any:
    """`value`, or a 400 naming `what` when it is a number no database column can compare with.

    Integers must fit in 64 bits (SQLite and PostgreSQL integers; Elasticsearch's long) and floats must be
    finite (Python's JSON reader accepts NaN and Infinity, which no JSON answer can echo back).
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not -_INT64 <= value < _INT64:
        raise InvalidRequest(f"{what} is out of range: integers must fit in 64 bits")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidRequest(f"{what} is not a finite number")
    return value
