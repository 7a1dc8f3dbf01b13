"""The asset search: a parsed `SearchRequest` in, the page of `assets` rows, the total and the facets out.

What for: the Atlan search endpoint (`gazetteer.api.asset_search`, for pyatlan's FluentSearch,
find_connections_by_name, get_by_*(attributes=...)) and the web UI's and CLI's searches
(`gazetteer.assets.text_search`, `gazetteer.assets.browse`) all come here. The query goes through the shared
compiler (`gazetteer.search`) with `AssetFields`; full text is ranked by `gazetteer.assets.fulltext`. Without a
sort, full-text hits come best first (see its tiers), other hits in storage order; `_score` may also be named
in `sort`. `from_`/`size` are honoured exactly (callers cap size at `MAX_PAGE`). The count is exact up to N
when `track_total_hits` is the number N, and exact when it is `True` (pyatlan always asks for that), as in
Elasticsearch; the default N is Elasticsearch's 10,000 (see `gazetteer.search.dsl`): an exact count costs a
pass over every match on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Select
from sqlalchemy.engine import Connection, Engine

from gazetteer.assets.facets import Facet, terms_aggregations
from gazetteer.assets.fulltext import Tier, in_id_order
from gazetteer.assets.ranking import POPULARITY, block_limit, kind_rank, reorder
from gazetteer.assets.relations import related_views
from gazetteer.assets.search_cache import cache_for, count_key, request_key, worth_keeping
from gazetteer.assets.search_fields import HAS_LINEAGE, AssetFields, canonical_types
from gazetteer.assets.views import AssetView
from gazetteer.search import (
    Bool,
    FullText,
    MatchAll,
    Query,
    SearchRequest,
    SortField,
    Term,
    compile_query,
    compile_sort,
)
from gazetteer.store.generation import Generation, current_generation
from gazetteer.store.schema import assets

__all__ = ["SearchResult", "search_assets", "MAX_PAGE"]

MAX_PAGE = 1000
_ACTIVE = Term("__state", "ACTIVE")
# Aggregating on one of these counts every hit, so its buckets give the total without a COUNT query.
_NEVER_NULL = frozenset({"__typeName", "__typeName.keyword", "__state", "__guid", "qualifiedName",
                         "__qualifiedName", "name", "name.keyword", "connectionQualifiedName"})


@dataclass(frozen=True, slots=True)
class SearchResult:
    """What a search found: the total (exact up to `track_total_hits`), the page's assets in order (carrying
    the relationships asked for) and the facets by name."""

    total: int
    assets: tuple[AssetView, ...]
    facets: Mapping[str, Facet]


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


def _split(query: Query) -> tuple[FullText, Query] | None:
    """A full-text clause that every hit must match (a top-level conjunct), and the rest of the query.

    `__state: ACTIVE` beside it is dropped: only active assets are in the full-text index.
    """
    if isinstance(query, FullText):
        return query, MatchAll()
    if not isinstance(query, Bool):
        return None
    for key in ("must", "filter"):
        for i, clause in enumerate(getattr(query, key)):
            if isinstance(clause, FullText):
                kept: dict[str, Any] = {k: tuple(c for c in getattr(query, k) if c != _ACTIVE)
                                        for k in ("must", "filter")}
                kept[key] = tuple(c for j, c in enumerate(getattr(query, key)) if j != i and c != _ACTIVE)
                return clause, dataclasses.replace(query, **kept)
    return None


def _rest_is_everything(query: Query) -> bool:
    return isinstance(query, MatchAll) or (isinstance(query, Bool) and not any(
        (query.must, query.filter, query.should, query.must_not)) and query.minimum_should_match == 0)


def _ranked_ids(conn: Connection, fields: AssetFields, request: SearchRequest, node: FullText,
                rest_query: Query, prefer: bool = False) -> tuple[list[int], int]:
    """The page's ids and the total for a ranked full-text search, one tier at a time.

    A tier is read only while the page is not full, in its own index order, so a word that matches half
    the catalog costs the few rows of the page plus one count over the full-text index. With `prefer` (the
    UI's order), a tier is read in whole blocks, each reordered by `gazetteer.assets.ranking`.
    """
    match = fields.matcher.match(node)
    rest = compile_query(rest_query, fields)
    if request.post_filter is not None:
        rest = sa.and_(rest, compile_query(request.post_filter, fields))
    everything = _rest_is_everything(rest_query) and request.post_filter is None
    postgresql = conn.dialect.name == "postgresql"
    found: list[int]
    wanted, found, seen = request.from_ + request.size, [], set()
    for tier in match.tiers():
        if len(found) >= wanted:
            break
        # Up to `wanted` ids this tier has not seen yet (those of better tiers come back too).
        limit = wanted + len(found)
        rows = [asset_id for (asset_id,) in _tier_rows(conn, tier, rest, everything, postgresql,
                                                      block_limit(limit) if prefer else limit)]
        for asset_id in reorder(conn, rows) if prefer else rows:
            if asset_id not in seen:
                seen.add(asset_id)
                found.append(asset_id)
    page = found[request.from_:wanted]
    if len(found) < wanted:  # every tier was read to its end: the hits are all here
        return page, len(found)
    if everything:  # from the full-text index alone
        cap = request.track_total_hits
        if not isinstance(cap, bool) and fields.matcher.at_least(match) >= 2 * cap:
            return page, cap  # what counting would say, by statistics that say twice as many (see `at_least`)
        return page, _count(conn, request, match.ids())
    return page, _count(conn, request, sa.select(assets.c.id).where(match.predicate(), rest))


def _tier_rows(conn: Connection, tier: Tier, rest: Any, everything: bool, postgresql: bool,
               limit: int) -> Sequence[Any]:
    """A tier's first `limit` ids in its order, with the rest of the query applied."""
    if tier.ids is not None and everything:  # nothing else to check: the full-text index alone
        for query in in_id_order(tier.ids, limit, postgresql):
            rows = conn.execute(query).all()
            if len(rows) >= limit:
                break
        return rows
    return conn.execute(_tier_query(tier, rest, postgresql, limit)).all()


def _tier_query(tier: Tier, rest: Any, postgresql: bool, limit: int) -> Select[Any]:
    if tier.ids is not None and postgresql:
        # Ordered by the index's ids, not the assets': with `assets.id IN (...) ORDER BY assets.id` the planner
        # may merge-join the whole primary key (a million entries) with the handful of hits, hoping to stop early.
        hits = tier.ids.subquery()
        (column,) = hits.c
        return (sa.select(assets.c.id).join_from(assets, hits, column == assets.c.id).where(rest)
                .order_by(column).limit(limit))
    return sa.select(assets.c.id).where(tier.condition, rest).order_by(*tier.order).limit(limit)


def search_assets(engine: Engine, request: SearchRequest, *, relationships: Sequence[str] = (),
                  prefer: bool = False) -> SearchResult:
    """The page of assets matching `request` (carrying the `relationships` named), their count and the
    facets it asks for. `prefer`: full-text hits in the UI's order (`gazetteer.assets.ranking`: tables before
    columns, the most viewed first within a rank); the API never asks for it.

    A search with aggregations keeps its facets, total and page in this process's `search_cache` under the
    catalog's generation: the same search again costs one read of the generation (a few rows) and the
    page's rows, until a crawl ends or an edit commits (then it is computed afresh), or a running crawl's
    pages are older than `search_cache.CRAWL_LAG`.
    """
    request = dataclasses.replace(
        request, query=canonical_types(request.query),
        post_filter=None if request.post_filter is None else canonical_types(request.post_filter))
    key = request_key(request)
    cache = cache_for(engine) if key is not None else None
    with engine.connect() as conn, _prefix_indexes(conn):
        # The generation first, before any asset is read: what is computed below is then at least as new.
        generation, pages = current_generation(conn) if cache is not None else (None, 0)
        cached = cache.get((generation, key), pages) if cache is not None else None
        fields = AssetFields(conn, popularity=prefer)
        split = _split(request.query)
        ranked = split is not None and request.sort in ((), (SortField("_score", "desc"),)) \
            and request.from_ + request.size <= MAX_PAGE
        total = None
        if ranked:
            assert split is not None  # `ranked` implies it
            ids, total = _ranked_ids(conn, fields, request, *split, prefer=prefer)
        where = compile_query(request.query, fields)
        if not ranked:
            # A page ordered by views is not kept: views move without moving the catalog's generation.
            keep = cache is not None and request.size and all(item.field != POPULARITY for item in request.sort)
            page_key = (generation, key, request.from_, request.size, repr(request.sort), prefer)
            cached_ids = cache.get(page_key, pages) if keep and cache is not None else None
            ids = cached_ids if cached_ids is not None else _page_ids(conn, fields, request, where, prefer)
            if keep and cache is not None and cached_ids is None:
                cache.put(page_key, ids, pages)
        # The facets (cached), then the total: from the facets, the page, or a COUNT (cached too).
        facets = cached if cached is not None else terms_aggregations(conn, fields, request.aggregations, where)
        if cache is not None and cached is None and worth_keeping(sum(len(facet.buckets) for facet in facets.values())):
            cache.put((generation, key), facets, pages)
        for agg in request.aggregations:
            if total is None and agg.field in _NEVER_NULL and request.post_filter is None:
                total = facets[agg.name].total
        if total is None:
            total = _short_count(request, len(ids))
        if total is None:
            total = _count(conn, request, sa.select(assets.c.id).where(_page_where(fields, request, where)),
                           None if generation is None else Generation(generation, pages))
        rows = _rows(conn, ids)
        related = related_views(conn, rows, relationships) if relationships else {}
    return SearchResult(total, tuple(AssetView.of(row, related.get(row.id)) for row in rows), facets)


def _page_where(fields: AssetFields, request: SearchRequest, where: Any) -> Any:
    if request.post_filter is None:
        return where
    return sa.and_(where, compile_query(request.post_filter, fields))


def _page_ids(conn: Connection, fields: AssetFields, request: SearchRequest, where: Any,
              prefer: bool = False) -> list[int]:
    """The page in the requested order. Only ids are sorted: sorting whole rows (their JSON) is slow."""
    if not request.size:
        return []
    order = compile_sort(request.sort, fields)
    if not request.sort and fields.matcher.first is not None:
        order.append(fields.matcher.first.score().desc())
        if prefer:  # past the ranked window: the UI's order by sorting (`gazetteer.assets.ranking`)
            order += [kind_rank, fields.column(POPULARITY).expr.desc()]
    query = (sa.select(assets.c.id).where(_page_where(fields, request, where)).order_by(*order, assets.c.id)
             .offset(request.from_).limit(request.size))
    return list(conn.execute(query).scalars())


def _rows(conn: Connection, ids: list[int]) -> list[Any]:
    if not ids:
        return []
    query = sa.select(assets, HAS_LINEAGE.label("has_lineage")).where(assets.c.id.in_(ids))
    by_id = {row.id: row for row in conn.execute(query)}
    return [by_id[i] for i in ids if i in by_id]  # one deleted since the page was read is left out


def _short_count(request: SearchRequest, returned: int) -> int | None:
    """The total when the page tells it, or when no exact one is wanted; None when it must be counted."""
    # A short page (not past the end) already tells the total: skip the COUNT, the costliest part.
    if 0 < returned < request.size or (returned == 0 and request.from_ == 0 and request.size):
        return request.from_ + returned
    if request.track_total_hits is False:
        return request.from_ + returned
    return None


def _count(conn: Connection, request: SearchRequest, ids: Select[Any], known: Generation | None = None) -> int:
    """`_counted`, kept in this process's search cache under the catalog's generation: pyatlan asks for the
    exact total (`track_total_hits: true`) with every page it reads, and a common word's total at 1M assets is
    a count of 100,000 hits (tens of milliseconds) that only a write can change."""
    key = count_key(request)
    if key is None:
        return _counted(conn, request, ids)
    cache = cache_for(conn.engine)
    # Read before counting (unless the search read it already): the count is then at least as new.
    generation, pages = known or current_generation(conn)
    found = cache.get((generation, key), pages)
    if found is None:
        found = _counted(conn, request, ids)
        cache.put((generation, key), found, pages)
    return found


def _counted(conn: Connection, request: SearchRequest, ids: Select[Any]) -> int:
    """How many ids `ids` selects, counting no further than a numeric `track_total_hits`."""
    cap = request.track_total_hits
    if not isinstance(cap, bool):
        ids = ids.limit(cap)
    return int(conn.execute(sa.select(sa.func.count()).select_from(ids.subquery())).scalar_one())
