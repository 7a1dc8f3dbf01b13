"""Reading assets: one asset by guid or name, its children, ancestors and columns, the connections.

What for: the web UI's asset, search and workflow pages show these; they ask here in Python terms, and the
searches are built from `gazetteer.search`'s clauses for `gazetteer.assets.search`, never as Elasticsearch JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gazetteer.assets.records import ASSET_TYPES, GLOSSARY_TYPES
from gazetteer.assets.relations import related_views
from gazetteer.assets.search import search_assets
from gazetteer.assets.search_fields import HAS_LINEAGE
from gazetteer.assets.views import AssetView, Related
from gazetteer.errors import InvalidRequest, NotFound
from gazetteer.search import Bool, Query, SearchRequest, SortField, Term, Terms
from gazetteer.search.limits import MAX_PAGING
from gazetteer.store.schema import assets

__all__ = ["Page", "Ancestor", "ACTIVE", "BY_NAME", "get_asset", "children_of", "ancestors_of", "columns_of",
           "nested_column_guids", "active_connections", "asset_named"]

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
    return Page(result.total, result.assets)


def get_asset(engine: Engine, *, guid: str | None = None, type_name: str | None = None,
              qualified_name: str | None = None, relationships: bool = False) -> AssetView:
    """The asset with this guid (any status), or the active one of this type and qualified name; with
    `relationships`, carrying all its related assets. NotFound (in Atlas's words) when there is none."""
    if guid is not None:
        query = sa.select(assets, HAS_LINEAGE.label("has_lineage")).where(assets.c.guid == guid)
        missing = f"Given instance guid {guid} is invalid/not found"
    elif type_name is not None and qualified_name is not None:
        if type_name not in ASSET_TYPES:
            raise InvalidRequest(f"Given typename {type_name} was invalid; this catalog holds {', '.join(ASSET_TYPES)}")
        query = sa.select(assets, HAS_LINEAGE.label("has_lineage")).where(
            assets.c.qualified_name == qualified_name, assets.c.type_name == type_name,
            # An archived glossary item is found too: pyatlan's restore() reads it so, then saves it ACTIVE.
            assets.c.status == "ACTIVE" if type_name not in GLOSSARY_TYPES else sa.true())
        missing = f"Instance {type_name} with unique attribute {{qualifiedName={qualified_name}}} does not exist"
    else:
        raise InvalidRequest("Give a guid, or a type name and attr:qualifiedName")
    with engine.connect() as conn:
        row = conn.execute(query).first()
        if row is None:
            raise NotFound(missing)
        if relationships:
            related: Mapping[str, Related] | None = related_views(conn, [row], None)[row.id]
        else:  # an asset's terms are part of its header in Atlas, relationships or not
            terms = related_views(conn, [row], ("meanings",))[row.id]
            related = terms if terms.get("meanings") else None
    return AssetView.of(row, related)


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
    """The ancestors an asset's `attributes` name (archived ones too), from its connection down: a nested
    column's also the columns above it (its `columnHierarchy`)."""
    wanted = [(kind, attributes[key]) for kind, key in _ANCESTORS
              if attributes.get(key) and attributes[key] != attributes["qualifiedName"]]
    hierarchy = attributes.get("columnHierarchy")
    wanted += [("Column", entry["qualifiedName"]) for entry in hierarchy if isinstance(entry, Mapping)
               and isinstance(entry.get("qualifiedName"), str)] if isinstance(hierarchy, list) else []
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
        columns = related_views(conn, [row], ["columns"])[row.id].get("columns", ())
    return columns if isinstance(columns, tuple) else ()


def nested_column_guids(engine: Engine, container: str, below: str | None = None) -> dict[str, str]:
    """The guids of the active columns stored below the table or view `container`, nested ones included, by
    qualified name; with `below`, only those below that column of it."""
    query = sa.select(assets.c.qualified_name, assets.c.guid).where(
        assets.c.parent_qualified_name == container, assets.c.type_name == "Column", assets.c.status == "ACTIVE")
    if below is not None:
        query = query.where(assets.c.qualified_name.startswith(below + "/", autoescape=True))
    with engine.connect() as conn:
        return {qualified_name: guid for qualified_name, guid in conn.execute(query)}


def active_connections(engine: Engine) -> tuple[AssetView, ...]:
    """The active connections, by name."""
    query = Bool(filter=(Term("__typeName.keyword", "Connection"), ACTIVE))
    return _find(engine, query, sort=BY_NAME).assets


def asset_named(engine: Engine, type_name: str, qualified_name: str) -> AssetView | None:
    """The asset of this type and qualified name, archived or not; None if the catalog does not hold it."""
    page = _find(engine, Bool(filter=(Term("qualifiedName", qualified_name), Term("__typeName.keyword", type_name))),
                 size=1)
    return page.assets[0] if page.assets else None
