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
from typing import cast

from sqlalchemy.engine import Engine

from gazetteer.assets.browse import ACTIVE, BY_NAME
from gazetteer.assets.facets import Facet
from gazetteer.assets.search import search_assets
from gazetteer.assets.views import AssetView
from gazetteer.search import Bool, FullText, Query, SearchRequest, Term, Terms, TermsAgg
from gazetteer.search.limits import MAX_TEXT_CHARS, MAX_VALUE_CHARS, check_text

__all__ = ["FACET_FIELDS", "FACET_SIZE", "FacetedQuery", "FacetedPage", "faceted_search", "best_matches"]

# The search page's facets by name, and the field each counts.
FACET_FIELDS: Mapping[str, str] = {
    "type": "__typeName.keyword",
    "connection": "connectionQualifiedName",
    "schema": "schemaQualifiedName",
    "format": "externalLocationFormat",
    "partitioned": "isPartitioned",
}
FACET_SIZE = 25


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
    start: int = 0
    size: int = 20


@dataclass(frozen=True, slots=True)
class FacetedPage:
    """The page of hits, their total, and every facet of `FACET_FIELDS` (in its order)."""

    total: int
    assets: tuple[AssetView, ...]
    facets: Mapping[str, Facet]


def _filters(query: FacetedQuery) -> dict[str, Query]:
    """The facets' filters by facet name, in the order of `FACET_FIELDS`."""
    values = {"type": query.types, "connection": query.connections, "schema": query.schemas,
              "format": query.formats}
    filters: dict[str, Query] = {name: Terms(FACET_FIELDS[name], chosen) for name, chosen in values.items() if chosen}
    if query.partitioned is not None:
        filters["partitioned"] = Term(FACET_FIELDS["partitioned"], query.partitioned)
    for i, clause in enumerate(filters.values(), start=1):  # what the API refuses, as it refuses it
        for value in clause.values if isinstance(clause, Terms) else ():
            check_text(str(value), MAX_VALUE_CHARS,
                       f"a value of {cast(Terms, clause).field!r} in the 'terms' clause at query.bool.filter[{i}]")
    return filters


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
    return FacetedPage(result.total, result.assets,
                       {name: facets[name] for name in FACET_FIELDS})


def best_matches(engine: Engine, text: str, *, type_name: str | None = None, limit: int = 50
                 ) -> tuple[AssetView, ...]:
    """Active assets (of `type_name` only, if given) with any of the words in their name, description or
    columns, best first."""
    text = check_text(text, MAX_TEXT_CHARS, "the query text of the 'multi_match' clause at query.bool.must[0]")
    filters: tuple[Query, ...] = (ACTIVE, Term("__typeName.keyword", type_name)) if type_name else (ACTIVE,)
    query = Bool(must=(FullText(text, ("name", "description", "columns"), "or", "multi_match"),), filter=filters)
    return search_assets(engine, SearchRequest(size=limit, query=query)).assets
