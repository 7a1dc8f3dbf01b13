"""Searching by words: the search page's faceted search.

What for: the web UI describes a search in Python terms (`FacetedQuery`), and gets typed answers;
the request is built from `gazetteer.search`'s clauses for `gazetteer.assets.search`, never as Elasticsearch JSON
(`gazetteer search` asks for the same page without the facets: `ranked_search`).

Facets are disjunctive, as people expect: the counts of one facet are those of the search with every *other*
facet's filter applied, so ticking "Table" still shows how many Views there are. One search answers the page
and the facets without a filter; each facet with a filter costs one more count-only search.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy.engine import Engine

from gazetteer.assets.browse import ACTIVE, BY_NAME
from gazetteer.assets.facets import Bucket, Facet
from gazetteer.assets.ranking import POPULARITY
from gazetteer.assets.search import search_assets
from gazetteer.assets.tagging import tag_facet
from gazetteer.assets.views import AssetView
from gazetteer.errors import InvalidRequest
from gazetteer.search import Bool, FullText, Query, Range, SearchRequest, SortField, Term, Terms, TermsAgg
from gazetteer.search.limits import MAX_TEXT_CHARS, MAX_VALUE_CHARS, check_text

__all__ = ["FACET_FIELDS", "FACET_SIZE", "SORTS", "FacetedQuery", "FacetedPage", "faceted_search", "ranked_search"]

# The search page's facets by name, and the field each counts.
FACET_FIELDS: Mapping[str, str] = {
    "type": "__typeName.keyword",
    "connection": "connectionQualifiedName",
    "schema": "schemaQualifiedName",
    "format": "externalLocationFormat",
    "partitioned": "isPartitioned",
    "certificate": "certificateStatus",
    "owner": "ownerUsers",  # arrays: each of an asset's owners counts (gazetteer.assets.facets)
    "owner_group": "ownerGroups",
    "term": "__meaningsText",  # glossary terms by name (gazetteer.assets.meanings)
}
FACET_SIZE = 25
# The "landed" facet: when a table's newest partition was created (its `lastPartitionCreatedAt`), in disjoint
# windows back from now, newest first (days ago: from, to).
LANDED: Mapping[str, tuple[int | None, int | None]] = {"day": (1, None), "week": (7, 1), "month": (30, 7),
                                                       "older": (None, 30)}
# The orders a faceted search offers. "relevance" is the UI's ranking of full-text hits (`gazetteer.assets.ranking`);
# without words there is none, and hits come by name.
SORTS: Mapping[str, tuple[SortField, ...]] = {
    "relevance": (),
    "name": BY_NAME,
    "changed": (SortField("__modificationTimestamp", "desc"), *BY_NAME),
    "popular": (SortField(POPULARITY, "desc"), *BY_NAME),
}


@dataclass(frozen=True, slots=True)
class FacetedQuery:
    """Words every hit must hold (all of them; none: every asset, by name), and a filter per facet: an asset
    passes one with any of its values (none given: no filter)."""

    text: str = ""
    types: tuple[str, ...] = ()
    connections: tuple[str, ...] = ()
    schemas: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    partitioned: bool | None = None
    landed: tuple[str, ...] = ()  # keys of LANDED
    tags: tuple[str, ...] = ()  # Atlan tags (display or internal names), or a Glue / LF-tag's `key=value`
    certificates: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()  # users
    owner_groups: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()  # names of glossary terms
    start: int = 0
    size: int = 20
    sort: str = "relevance"  # a key of SORTS


@dataclass(frozen=True, slots=True)
class FacetedPage:
    """The page of hits, their total, every facet of `FACET_FIELDS` (in its order), then "landed" and "tag"."""

    total: int
    assets: tuple[AssetView, ...]
    facets: Mapping[str, Facet]


def _filters(query: FacetedQuery) -> dict[str, Query]:
    """The facets' filters by facet name, in the order of `FACET_FIELDS`."""
    values = {"type": query.types, "connection": query.connections, "schema": query.schemas,
              "format": query.formats, "certificate": query.certificates, "owner": query.owners,
              "owner_group": query.owner_groups, "term": query.terms}
    filters: dict[str, Query] = {name: Terms(FACET_FIELDS[name], chosen) for name, chosen in values.items() if chosen}
    if query.partitioned is not None:
        filters["partitioned"] = Term(FACET_FIELDS["partitioned"], query.partitioned)
    windows = [_landed(key) for key in query.landed if key in LANDED]
    if windows:
        filters["landed"] = Bool(should=tuple(windows), minimum_should_match=1)
    if query.tags:  # put on or propagated; a source's own tags too (gazetteer.assets.search_fields)
        filters["tag"] = Terms("__classificationNames", query.tags)
    for i, clause in enumerate(filters.values(), start=1):  # what the API refuses, as it refuses it
        for value in clause.values if isinstance(clause, Terms) else ():
            check_text(str(value), MAX_VALUE_CHARS,
                       f"a value of {cast(Terms, clause).field!r} in the 'terms' clause at query.bool.filter[{i}]")
    return filters


def _landed(key: str) -> Query:
    """Tables whose newest partition landed in this window. Only tables have partitions: the type (indexed)
    narrows the count to them before any attribute is read (a twentieth of a big catalog)."""
    # From the hour, not the instant: the same search stays the same request for an hour, so its counts are
    # cached like any other (a search relative to "now" never is); a window's edges may be an hour late.
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    since, until = (None if days is None else (hour - timedelta(days=days)).isoformat() for days in LANDED[key])
    return Bool(filter=(Term("__typeName.keyword", "Table"), Range("lastPartitionCreatedAt", gte=since, lt=until)))


def _landed_facet(engine: Engine, text: str, filters: Mapping[str, Query]) -> Facet:
    """How many hits landed in each window (the other facets' filters applied): a count search each."""
    others = [clause for name, clause in filters.items() if name != "landed"]
    buckets = []
    for key in LANDED:
        counted = search_assets(engine, SearchRequest(size=0, query=_query(text, [*others, _landed(key)]),
                                                      track_total_hits=True))
        buckets.append(Bucket(key, counted.total))
    return Facet(tuple(bucket for bucket in buckets if bucket.count), 0)


def _query(text: str, filters: Iterable[Query]) -> Query:
    must = (FullText(text, (), "and", "multi_match"),) if text else ()
    return Bool(must=must, filter=(ACTIVE, *filters))


def _page_request(query: FacetedQuery, filters: Mapping[str, Query], facets: bool) -> SearchRequest:
    """The search of `query`'s page of hits, in its order; with `facets`, counting those without a filter."""
    text = check_text(query.text, MAX_TEXT_CHARS, "the query text of the 'multi_match' clause at query.bool.must[0]")
    if query.sort not in SORTS:
        raise InvalidRequest(f"{query.sort[:40]!r} is not a way to sort: choose one of {', '.join(SORTS)}.")
    return SearchRequest(
        from_=query.start, size=query.size, query=_query(text, filters.values()),
        sort=SORTS[query.sort] or (() if text else BY_NAME),
        aggregations=tuple(TermsAgg(name, field, FACET_SIZE) for name, field in FACET_FIELDS.items()
                           if facets and name not in filters))


def ranked_search(engine: Engine, query: FacetedQuery) -> list[AssetView]:
    """The search page's hits for `query`, in its order, without its facets: what `gazetteer search` prints
    (on the local catalog, or through a server's GET /api/meta/search/text)."""
    return list(search_assets(engine, _page_request(query, _filters(query), facets=False), prefer=True).assets)


def faceted_search(engine: Engine, query: FacetedQuery) -> FacetedPage:
    """The page of active assets matching `query` in its order (relevance: best first, by name without words),
    and its facets."""
    filters = _filters(query)
    request = _page_request(query, filters, facets=True)
    text = query.text
    result = search_assets(engine, request, prefer=True)
    facets = dict(result.facets)
    for name, field in FACET_FIELDS.items():
        if name not in facets:
            others = (clause for other, clause in filters.items() if other != name)
            counted = search_assets(engine, SearchRequest(size=0, query=_query(text, others),
                                                          aggregations=(TermsAgg(name, field, FACET_SIZE),)))
            facets.update(counted.facets)
    untagged = _query(text, (clause for name, clause in filters.items() if name != "tag"))
    return FacetedPage(result.total, result.assets, {**{name: facets[name] for name in FACET_FIELDS},
                                                     "landed": _landed_facet(engine, text, filters),
                                                     "tag": tag_facet(engine, untagged, FACET_SIZE)})

