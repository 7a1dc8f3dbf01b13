"""Terms aggregations (facets) of the asset search, several in one pass over the hits.

What for: the web UI asks for several facets at once (type, connection, schema, format, partitioned,
certificate, and the owners, whose values are arrays: each owner counts once per asset). With
`gazetteer.search.compile_terms_agg` each costs a pass over the hits, and hits found by full text (or a
facet read from the attributes JSON) mean reading every hit's row. Here the hits are read once, grouped
by all the facet fields together, and each facet is summed from those groups in Python; when the groups
would be too many (facets on near-unique fields), each facet gets its own query as before. The results
are kept between requests until the catalog changes (`gazetteer.assets.search_cache`), so the search page
with no text costs this pass once per crawl page or edit, not on every load.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, FromClause
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection

from gazetteer.assets.meanings import term_counts
from gazetteer.errors import InvalidRequest
from gazetteer.search import FieldResolver, ResolvedField, TermsAgg, compile_terms_agg
from gazetteer.store.schema import assets

__all__ = ["Bucket", "Facet", "terms_aggregations", "MAX_GROUPS"]

MAX_GROUPS = 5000
# Terms facets (gazetteer.assets.meanings): by the term's qualifiedName, or by its name.
_TERM_FIELDS = {"__meanings": "qualified_name", "__meaningsText": "name", "__meaningNames": "name"}


@dataclass(frozen=True, slots=True)
class Bucket:
    key: Any  # the value as the store holds it: a str, number, bool or datetime
    count: int


@dataclass(frozen=True, slots=True)
class Facet:
    """One terms aggregation's result: its top buckets, most frequent first (ties by key), and how many hits
    hold a value outside them."""

    buckets: tuple[Bucket, ...]
    other: int

    @property
    def total(self) -> int:
        """The hits with a value."""
        return sum(bucket.count for bucket in self.buckets) + self.other

    def __deepcopy__(self, memo: dict[int, Any]) -> Facet:
        return self  # immutable all through: the search cache's copy of each value it hands out needs none


def _facet(rows: Iterable[Sequence[Any]]) -> Facet:
    """A facet from `(key, doc_count, total_count)` rows, as `gazetteer.search.compile_terms_agg` gives them."""
    buckets, total = [], 0
    for key, doc_count, total_count in rows:
        total = int(total_count)
        buckets.append(Bucket(key, int(doc_count)))
    return Facet(tuple(buckets), total - sum(bucket.count for bucket in buckets))


def _key(value: Any) -> tuple[str, Any]:
    return (type(value).__name__, value)  # ties by key, without comparing a str with an int


def _resolved(fields: FieldResolver, agg: TermsAgg) -> ResolvedField:
    try:
        return fields.column(agg.field)
    except InvalidRequest as exc:
        raise InvalidRequest(f"{exc.message} (at aggregations.{agg.name})") from exc


def _elements(conn: Connection, key: str) -> FromClause:
    """The elements (as text) of the JSON array attribute `key` of each asset, curated before crawled, as a table
    valued function to join beside `assets` (a value that is not an array has none)."""
    if conn.dialect.name == "postgresql":
        def raw(column: Any) -> Any:
            return sa.type_coerce(column.op("->")(sa.literal_column(f"'{key}'")), JSONB)
        array = sa.case(*((sa.func.jsonb_typeof(raw(column)) == "array", raw(column))
                          for column in (assets.c.curated, assets.c.attributes)),
                        else_=sa.literal_column("'[]'::jsonb"))
        return sa.func.jsonb_array_elements_text(array).table_valued("value").lateral()
    path = f'$."{key}"'
    array = sa.case(*((sa.func.json_type(column, path) == "array", sa.func.json_extract(column, path))
                      for column in (assets.c.curated, assets.c.attributes)), else_="[]")
    return sa.func.json_each(array).table_valued("value")


def _array_facet(conn: Connection, agg: TermsAgg, where: ColumnElement[bool]) -> Facet:
    """A terms aggregation on an array attribute (owners, tags): each element counts once per asset holding it."""
    elements = _elements(conn, agg.field.removesuffix(".keyword"))
    key = elements.c.value
    grouped = (sa.select(key, sa.func.count()).select_from(assets).join(elements, sa.true()).where(where)
               .group_by(key).limit(MAX_GROUPS + 1))
    counts = {value: int(count) for value, count in conn.execute(grouped) if value is not None}
    total = sum(counts.values())
    top = sorted(counts.items(), key=lambda item: (-item[1], _key(item[0])))[:agg.size]
    return _facet([(value, count, total) for value, count in top])


def _values(value: Any, is_array: bool) -> tuple[Any, ...]:
    """The keys one group's value counts for: an array's scalar elements (JSON text on SQLite, a list once
    decoded), else the value itself."""
    if value is None:
        return ()
    if not is_array:
        return (value,)
    if isinstance(value, str) and value.startswith("["):
        value = json.loads(value)
    items = value if isinstance(value, list) else [value]
    return tuple(item for item in items if isinstance(item, (str, int, float, bool)))


def terms_aggregations(conn: Connection, fields: FieldResolver, aggs: Sequence[TermsAgg],
                       where: ColumnElement[bool]) -> dict[str, Facet]:
    """The facets by name, in the order of `aggs`, of the assets matching `where`.

    An array attribute (owners) is grouped by its whole value beside the others, in the same pass (people give
    few distinct lists of owners), and each element of a group's list gets the group's count."""
    # The terms facet counts the assignments table, not a column of the hits: a query of its own.
    by_term = {agg.name: _facet(term_counts(conn, where, agg.size, _TERM_FIELDS[agg.field.removesuffix(".keyword")]))
               for agg in aggs if agg.field.removesuffix(".keyword") in _TERM_FIELDS}
    if by_term:
        rest = terms_aggregations(conn, fields, [agg for agg in aggs if agg.name not in by_term], where)
        return {agg.name: by_term.get(agg.name) or rest[agg.name] for agg in aggs}
    resolved = [_resolved(fields, agg) for agg in aggs]

    def one_by_one() -> dict[str, Facet]:
        return {agg.name: _array_facet(conn, agg, where) if field.is_array
                else _facet(conn.execute(compile_terms_agg(agg, fields, assets, where)).all())
                for agg, field in zip(aggs, resolved, strict=True)}

    if len(aggs) < 2:
        return one_by_one()
    # A subquery, so GROUP BY names columns (PostgreSQL rejects a JSON path repeated with new parameters).
    inner = sa.select(*(field.expr.label(f"k{i}") for i, field in enumerate(resolved))).where(where).subquery()
    grouped = sa.select(*inner.c, sa.func.count()).group_by(*inner.c).limit(MAX_GROUPS + 1)
    groups = conn.execute(grouped).all()
    if len(groups) > MAX_GROUPS:
        return one_by_one()
    out = {}
    for i, (agg, field) in enumerate(zip(aggs, resolved, strict=True)):
        counts: Counter[Any] = Counter()
        for group in groups:
            for key in _values(group[i], field.is_array):
                counts[key] += group[-1]
        total = sum(counts.values())
        top = sorted(counts.items(), key=lambda item: (-item[1], _key(item[0])))[:agg.size]
        out[agg.name] = _facet([(key, count, total) for key, count in top])
    return out
