"""Walking the catalog's hierarchy: an asset's children, ancestors and columns, the connections, one asset by name.

What for: the web UI's asset, search and workflow pages show these; they ask here in Python terms, and the
searches are built from `gazetteer.search`'s clauses for `gazetteer.assets.search`, never as Elasticsearch JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Row
from sqlalchemy.engine import Engine

from gazetteer.assets.render import attributes_of, related_rows
from gazetteer.assets.search import search_assets
from gazetteer.errors import InvalidRequest
from gazetteer.search import Bool, Query, SearchRequest, SortField, Term, Terms
from gazetteer.search.limits import MAX_PAGING
from gazetteer.store.schema import assets

__all__ = ["AssetView", "Page", "Ancestor", "ACTIVE", "BY_NAME", "children_of", "ancestors_of", "columns_of",
           "active_connections", "asset_named"]

ACTIVE = Term("__state", "ACTIVE")
BY_NAME = (SortField("name.keyword", "asc"),)
_LOOKUP_SIZE = 1000
# A parent type → the attribute naming it on its children, and their types.
_CHILDREN: dict[str, tuple[str, tuple[str, ...]]] = {
    "Connection": ("connectionQualifiedName", ("Schema",)),
    "Database": ("databaseQualifiedName", ("Schema",)),
    "Schema": ("schemaQualifiedName", ("Table", "View")),
}
# The ancestors an asset names, in breadcrumb order: their type, and the attribute holding their qualified name.
_ANCESTORS = (("Connection", "connectionQualifiedName"), ("Database", "databaseQualifiedName"),
              ("Schema", "schemaQualifiedName"), ("Table", "tableQualifiedName"), ("View", "viewQualifiedName"))


@dataclass(frozen=True, slots=True)
class AssetView:
    """An asset as pages show it; `attributes` are the crawled ones, the curated ones on top (`attributes_of`)."""

    guid: str
    type_name: str
    qualified_name: str
    name: str
    attributes: Mapping[str, Any]

    @classmethod
    def of(cls, row: Row[Any]) -> AssetView:
        return cls(row.guid, row.type_name, row.qualified_name, row.name, attributes_of(row))


@dataclass(frozen=True, slots=True)
class Page:
    """One page of assets, and how many there are in all (exact up to 10,000, as the search counts)."""

    total: int
    assets: tuple[AssetView, ...]


@dataclass(frozen=True, slots=True)
class Ancestor:
    type_name: str
    qualified_name: str
    asset: AssetView | None  # None when the catalog does not hold it


def _find(engine: Engine, query: Query, *, start: int = 0, size: int = _LOOKUP_SIZE,
          sort: tuple[SortField, ...] = ()) -> Page:
    result = search_assets(engine, SearchRequest(from_=start, size=size, query=query, sort=sort))
    return Page(result.total, tuple(AssetView.of(row) for row in result.rows))


def children_of(engine: Engine, type_name: str, qualified_name: str, *, start: int = 0, size: int = 100
                ) -> Page | None:
    """The active assets one level down, by name: a connection's and a database's schemas, a schema's tables
    and views; None for other types."""
    if type_name not in _CHILDREN:
        return None
    if start > MAX_PAGING:  # what the search would be refused as over the API
        raise InvalidRequest(f"malformed 'from': at most {MAX_PAGING:,} is accepted")
    field, types = _CHILDREN[type_name]
    query = Bool(filter=(Terms("__typeName.keyword", types), ACTIVE, Term(field, qualified_name)))
    return _find(engine, query, start=start, size=size, sort=BY_NAME)


def ancestors_of(engine: Engine, attributes: Mapping[str, Any]) -> tuple[Ancestor, ...]:
    """The ancestors an asset's `attributes` name (archived ones too), from its connection down."""
    wanted = [(kind, attributes[key]) for kind, key in _ANCESTORS
              if attributes.get(key) and attributes[key] != attributes["qualifiedName"]]
    found: dict[str, AssetView] = {}
    if wanted:
        page = _find(engine, Terms("qualifiedName", tuple(qualified_name for _, qualified_name in wanted)))
        found = {asset.qualified_name: asset for asset in page.assets}
    return tuple(Ancestor(kind, qualified_name, found.get(qualified_name)) for kind, qualified_name in wanted)


def columns_of(engine: Engine, guid: str) -> tuple[AssetView, ...]:
    """The active columns of the table or view `guid`, in their order (as its `columns` relationship)."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(assets).where(assets.c.guid == guid)).first()
        if row is None:
            return ()
        columns = related_rows(conn, [row], ["columns"]).get(row.id, {}).get("columns", [])
    return tuple(AssetView.of(column) for column in columns)


def active_connections(engine: Engine) -> tuple[AssetView, ...]:
    """The active connections, by name."""
    query = Bool(filter=(Term("__typeName.keyword", "Connection"), ACTIVE))
    return _find(engine, query, sort=BY_NAME).assets


def asset_named(engine: Engine, type_name: str, qualified_name: str) -> AssetView | None:
    """The asset of this type and qualified name, archived or not; None if the catalog does not hold it."""
    page = _find(engine, Bool(filter=(Term("qualifiedName", qualified_name), Term("__typeName.keyword", type_name))),
                 size=1)
    return page.assets[0] if page.assets else None
