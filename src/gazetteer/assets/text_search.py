"""Searching by words: the search page's faceted search, and the CLI's best matches.

What for: the web UI and the CLI describe a search in Python terms (`FacetedQuery`), and get typed answers;
the request is built from `gazetteer.search`'s clauses for `gazetteer.assets.search`, never as Elasticsearch JSON.

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
from gazetteer.assets.search import search_assets
from gazetteer.assets.views import AssetView
from gazetteer.search import Bool, FullText, Query, Range, SearchRequest, Term, Terms, TermsAgg
from gazetteer.search.limits import MAX_TEXT_CHARS, MAX_VALUE_CHARS, check_text

__all__ = ["FACET_FIELDS", "FACET_SIZE", "FacetedQuery", "FacetedPage", "faceted_search", "best_matches"]

# The search page's facets by name, and the field each counts.
FACET_FIELDS: Mapping[str, str] = {
    "type": "__typeName.keyword",
    "connection": "connectionQualifiedName",
    "schema": "schemaQualifiedName",
    "format": "externalLocationFormat",
    "partitioned": "isPartitioned",
    "term": "__meaningsText",  # glossary terms by name (gazetteer.assets.meanings)
}
FACET_SIZE = 25
# The "landed" facet: when a table's newest partition was created (its `lastPartitionCreatedAt`), in disjoint
# windows back from now, newest first (days ago: from, to).
LANDED: Mapping[str, tuple[int | None, int | None]] = {"day": (1, None), "week": (7, 1), "month": (30, 7),
                                                       "older": (None, 30)}


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
    terms: tuple[str, ...] = ()  # names of glossary terms
    start: int = 0
    size: int = 20


@dataclass(frozen=True, slots=True)
class FacetedPage:
    """The page of hits, their total, every facet of `FACET_FIELDS` (in its order) and then "landed"."""

    total: int
    assets: tuple[AssetView, ...]
    facets: Mapping[str, Facet]


def _filters(query: FacetedQuery) -> dict[str, Query]:
    """The facets' filters by facet name, in the order of `FACET_FIELDS`."""
    values = {"type": query.types, "connection": query.connections, "schema": query.schemas,
              "format": query.formats, "term": query.terms}
    filters: dict[str, Query] = {name: Terms(FACET_FIELDS[name], chosen) for name, chosen in values.items() if chosen}
    if query.partitioned is not None:
        filters["partitioned"] = Term(FACET_FIELDS["partitioned"], query.partitioned)
    windows = [_landed(key) for key in query.landed if key in LANDED]
    if windows:
        filters["landed"] = Bool(should=tuple(windows), minimum_should_match=1)
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


def faceted_search(engine: Engine, query: FacetedQuery) -> FacetedPage:
    """The page of active assets matching `query`, best first (by name without words), and its facets."""
    text = check_text(query.text, MAX_TEXT_CHARS, "the query text of the 'multi_match' clause at query.bool.must[0]")
    filters = _filters(query)
    request = SearchRequest(
        from_=query.start, size=query.size, query=_query(text, filters.values()), sort=() if text else BY_NAME,
        aggregations=tuple(TermsAgg(name, field, FACET_SIZE) for name, field in FACET_FIELDS.items()
                           if name not in filters))
    result = search_assets(engine, request)
    facets = dict(result.facets)
    for name, field in FACET_FIELDS.items():
        if name not in facets:
            others = (clause for other, clause in filters.items() if other != name)
            counted = search_assets(engine, SearchRequest(size=0, query=_query(text, others),
                                                          aggregations=(TermsAgg(name, field, FACET_SIZE),)))
            facets.update(counted.facets)
    return FacetedPage(result.total, result.assets, {**{name: facets[name] for name in FACET_FIELDS},
                                                     "landed": _landed_facet(engine, text, filters)})


def best_matches(engine: Engine, text: str, *, type_name: str | None = None, limit: int = 50
                 ) -> tuple[AssetView, ...]:
    """Active assets (of `type_name` only, if given) with any of the words in their name, description or
    columns, best first."""
    text = check_text(text, MAX_TEXT_CHARS, "the query text of the 'multi_match' clause at query.bool.must[0]")
    filters: tuple[Query, ...] = (ACTIVE, Term("__typeName.keyword", type_name)) if type_name else (ACTIVE,)
    query = Bool(must=(FullText(text, ("name", "description", "columns"), "or", "multi_match"),), filter=filters)
    return search_assets(engine, SearchRequest(size=limit, query=query)).assets
