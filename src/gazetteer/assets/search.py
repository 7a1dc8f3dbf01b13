"""Atlan's asset search (POST /api/meta/search/indexsearch) over the catalog store.

What for: pyatlan's FluentSearch, find_connections_by_name, get_by_*(attributes=...) and the web UI all
send `{attributes, dsl: {from, size, query, sort, aggregations, track_total_hits}, relationAttributes}`.
The DSL goes through the shared compiler (`gazetteer.search`) with `AssetFields`; full text is ranked by
`gazetteer.assets.fulltext`. Without a sort, full-text hits come best first (then shorter names), other
hits in storage order; `_score` may also be named in `sort`. `from`/`size` are honoured exactly (size is
capped at `MAX_PAGE`), and a page past the end has no `entities` key, as Atlas answers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gazetteer.assets.render import RELATIONSHIP_NAMES, entity_header, relationships_of
from gazetteer.assets.search_fields import AssetFields, canonical_types
from gazetteer.errors import InvalidRequest
from gazetteer.search import (
    SearchRequest,
    compile_query,
    compile_sort,
    compile_terms_agg,
    parse_search_request,
    terms_agg_result,
)
from gazetteer.store.schema import assets

__all__ = ["index_search", "MAX_PAGE"]

MAX_PAGE = 1000
# Aggregating on one of these counts every hit, so its buckets give the total without a COUNT query.
_NEVER_NULL = frozenset({"__typeName", "__typeName.keyword", "__state", "__guid", "qualifiedName",
                         "__qualifiedName", "name", "name.keyword", "connectionQualifiedName"})


def _names(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidRequest(f"malformed {what!r}: expected a list of attribute names")
    return value


def _parse(body: Any) -> tuple[SearchRequest, dict[str, Any], list[str], list[str]]:
    if not isinstance(body, Mapping):
        raise InvalidRequest("malformed search request: expected a JSON object with a 'dsl' object")
    dsl = body.get("dsl", {})
    if not isinstance(dsl, Mapping):
        raise InvalidRequest("malformed 'dsl': expected an object")
    request = parse_search_request(dsl, max_size=MAX_PAGE)
    request = dataclasses.replace(
        request, query=canonical_types(request.query),
        post_filter=None if request.post_filter is None else canonical_types(request.post_filter))
    return request, dict(dsl), _names(body.get("attributes"), "attributes"), \
        _names(body.get("relationAttributes"), "relationAttributes")


@contextmanager
def _prefix_indexes(conn: Connection) -> Iterator[None]:
    """Let SQLite serve prefix filters (LIKE 'x%') from the ordinary indexes while the search runs.

    SQLite's LIKE ignores ASCII case, so it can only use an index with NOCASE collation; the compiler
    confirms the exact prefix anyway (see gazetteer.search.compile), so a case-sensitive LIKE gives the
    same rows and lets the unique index on qualified_name (or the connection index) answer.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql("PRAGMA case_sensitive_like = ON")
    try:
        yield
    finally:
        conn.exec_driver_sql("PRAGMA case_sensitive_like = OFF")


def index_search(engine: Engine, body: Any) -> dict[str, Any]:
    """The answer to POST /api/meta/search/indexsearch: matching assets, their count and facets."""
    request, dsl, wanted, related = _parse(body)
    with engine.connect() as conn, _prefix_indexes(conn):
        fields = AssetFields(conn)
        where = compile_query(request.query, fields)
        page_where = where if request.post_filter is None else sa.and_(
            where, compile_query(request.post_filter, fields))
        order = compile_sort(request.sort, fields)
        if not request.sort and fields.matcher.score is not None:
            order += [fields.matcher.score.desc(), sa.func.length(assets.c.name)]
        rows = []
        if request.size:
            query = (sa.select(assets).where(page_where).order_by(*order, assets.c.id)
                     .offset(request.from_).limit(request.size))
            rows = conn.execute(query).all()
        aggregations, total = {}, None
        for agg in request.aggregations:
            result = conn.execute(compile_terms_agg(agg, fields, assets, where)).all()
            aggregations[agg.name] = terms_agg_result(result)
            if agg.field in _NEVER_NULL and request.post_filter is None:
                total = sum(b["doc_count"] for b in aggregations[agg.name]["buckets"]) \
                    + aggregations[agg.name]["sum_other_doc_count"]
        if total is None:
            total = _count(conn, page_where, request, len(rows))
        names = [name for name in wanted if name in RELATIONSHIP_NAMES]
        relations = relationships_of(conn, rows, names, related) if names and rows else {}
    answer: dict[str, Any] = {
        "queryType": "INDEX",
        "searchParameters": {"attributes": wanted, "relationAttributes": related, "dsl": dsl},
        "approximateCount": total,
    }
    if rows:
        answer["entities"] = [entity_header(row, wanted, relations.get(row.id)) for row in rows]
    if aggregations:
        answer["aggregations"] = aggregations
    return answer


def _count(conn: Connection, where: Any, request: SearchRequest, returned: int) -> int:
    # A short page (not past the end) already tells the total: skip the COUNT, the costliest part.
    if 0 < returned < request.size or (returned == 0 and request.from_ == 0 and request.size):
        return request.from_ + returned
    if request.track_total_hits is False:
        return request.from_ + returned
    return int(conn.execute(sa.select(sa.func.count()).select_from(assets).where(where)).scalar_one())
