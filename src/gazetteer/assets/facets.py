"""Terms aggregations (facets) of the asset search, several in one pass over the hits.

What for: the web UI asks for five facets at once (type, connection, schema, format, partitioned). With
`gazetteer.search.compile_terms_agg` each costs a pass over the hits, and hits found by full text (or a
facet read from the attributes JSON) mean reading every hit's row. Here the hits are read once, grouped
by all the facet fields together, and each facet is summed from those groups in Python; when the groups
would be too many (facets on near-unique fields), each facet gets its own query as before. The results
are kept between requests until the catalog changes (`gazetteer.assets.search_cache`), so the search page
with no text costs this pass once per crawl page or edit, not on every load.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlalchemy.engine import Connection

from gazetteer.errors import InvalidRequest
from gazetteer.search import FieldResolver, TermsAgg, compile_terms_agg, terms_agg_result
from gazetteer.store.schema import assets

__all__ = ["terms_aggregations", "MAX_GROUPS"]

MAX_GROUPS = 5000


def _key(value: Any) -> tuple[str, Any]:
    return (type(value).__name__, value)  # ties by key, without comparing a str with an int


def terms_aggregations(conn: Connection, fields: FieldResolver, aggs: Sequence[TermsAgg],
                       where: ColumnElement[bool]) -> dict[str, dict[str, Any]]:
    """ES terms-aggregation results by name, for the assets matching `where`."""
    def one_by_one() -> dict[str, dict[str, Any]]:
        return {agg.name: terms_agg_result(conn.execute(compile_terms_agg(agg, fields, assets, where)).all())
                for agg in aggs}

    if len(aggs) < 2:
        return one_by_one()
    exprs = []
    for agg in aggs:
        try:
            resolved = fields.column(agg.field)
        except InvalidRequest as exc:
            raise InvalidRequest(f"{exc.message} (at aggregations.{agg.name})") from exc
        if resolved.is_array:
            raise InvalidRequest(f"terms aggregation on the array field {agg.field!r} is not supported")
        exprs.append(resolved.expr)
    # A subquery, so GROUP BY names columns (PostgreSQL rejects a JSON path repeated with new parameters).
    inner = sa.select(*(expr.label(f"k{i}") for i, expr in enumerate(exprs))).where(where).subquery()
    grouped = sa.select(*inner.c, sa.func.count()).group_by(*inner.c).limit(MAX_GROUPS + 1)
    groups = conn.execute(grouped).all()
    if len(groups) > MAX_GROUPS:
        return one_by_one()
    out = {}
    for i, agg in enumerate(aggs):
        counts: Counter[Any] = Counter()
        for group in groups:
            if group[i] is not None:
                counts[group[i]] += group[-1]
        total = sum(counts.values())
        top = sorted(counts.items(), key=lambda item: (-item[1], _key(item[0])))[:agg.size]
        out[agg.name] = terms_agg_result([(key, count, total) for key, count in top])
    return out
