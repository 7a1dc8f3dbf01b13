"""The glossary's relationships, as Atlas names them, read for a page of assets (`relations.related_views`).

What for: a term's `anchor` (its glossary), `categories` and `assignedEntities` (the assets it is assigned to); a
category's `anchor`, `parentCategory`, `childrenCategories` and `terms`; a glossary's `terms` and `categories`
(all of them, nested ones too, as Atlan lists them); and any catalog asset's `meanings` (its terms). Where they
are kept: `gazetteer.assets.glossary` and `gazetteer.assets.meanings`. Each relationship costs one query for
the whole page of rows, and lists at most `MAX_RELATED` assets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gazetteer.assets.meanings import terms_of
from gazetteer.assets.records import GLOSSARY_TYPES
from gazetteer.assets.views import AssetView, Related
from gazetteer.store.schema import assets, term_assignments

__all__ = ["GLOSSARY_RELATIONSHIPS", "glossary_related", "MAX_RELATED"]

GLOSSARY, CATEGORY, TERM = GLOSSARY_TYPES
MAX_RELATED = 1000
GLOSSARY_RELATIONSHIPS: dict[str, tuple[str, ...]] = {
    GLOSSARY: ("terms", "categories"),
    CATEGORY: ("anchor", "parentCategory", "childrenCategories", "terms"),
    TERM: ("anchor", "categories", "assignedEntities"),
}
_ACTIVE = assets.c.status == "ACTIVE"


def _grouped(conn: Connection, query: Any, key: Callable[[Any], Iterable[str]]) -> dict[str, list[AssetView]]:
    """Active rows of `query` by each of the keys `key` gives them, by name, at most MAX_RELATED a key."""
    out: dict[str, list[AssetView]] = defaultdict(list)
    for row in conn.execute(query.where(_ACTIVE).order_by(assets.c.name, assets.c.id)):
        for value in key(row):
            if len(out[value]) < MAX_RELATED:
                out[value].append(AssetView.of(row))
    return out


def _category_guids(row: Any) -> list[str]:
    return [ref["guid"] for ref in (row.attributes or {}).get("categories") or () if isinstance(ref, dict)]


def _chunked_in(column: Any, values: set[str]) -> Any:
    return column.in_(sorted(values)[:10_000])  # a page of at most 1,000 rows asks for at most that many


def glossary_related(conn: Connection, rows: Sequence[Any], names: Iterable[str] | None
                     ) -> dict[int, dict[str, Related]]:
    """For each row id, its glossary relationships among `names` (None: all) and, for catalog assets, its
    `meanings`."""
    wanted = set(names) if names is not None else None
    chosen = [(row, name) for row in rows
              for name in (*GLOSSARY_RELATIONSHIPS.get(row.type_name, ()), "meanings")
              if (wanted is None or name in wanted) and not (name == "meanings" and row.type_name in GLOSSARY_TYPES)]
    out: dict[int, dict[str, Related]] = defaultdict(dict)
    if not chosen:
        return out
    kinds = {(row.type_name, name) for row, name in chosen}
    by_guid: dict[str, list[AssetView]] = {}
    by_qn: dict[str, list[AssetView]] = {}
    meanings = terms_of(conn, [row.guid for row, name in chosen if name == "meanings"])
    anchors = {row.schema_qualified_name for row, name in chosen if name == "anchor" and row.schema_qualified_name}
    parents = {row.parent_qualified_name for row, name in chosen if name == "parentCategory"
               and row.parent_qualified_name}
    if anchors or parents:
        by_qn = _grouped(conn, sa.select(assets).where(_chunked_in(assets.c.qualified_name, anchors | parents)),
                         lambda row: [row.qualified_name])
    category_guids = {guid for row, name in chosen if name == "categories" and row.type_name == TERM
                      for guid in _category_guids(row)}
    if category_guids:
        by_guid = _grouped(conn, sa.select(assets).where(_chunked_in(assets.c.guid, category_guids)),
                           lambda row: [row.guid])
    glossaries = {row.qualified_name for row, name in chosen if row.type_name == GLOSSARY}
    glossaries |= {row.schema_qualified_name for row, name in chosen if (row.type_name, name) == (CATEGORY, "terms")}
    members: dict[str, list[AssetView]] = {}
    if glossaries:
        members = _grouped(conn, sa.select(assets).where(_chunked_in(assets.c.schema_qualified_name, glossaries)),
                           lambda row: [row.schema_qualified_name])
    children: dict[str, list[AssetView]] = {}
    if (CATEGORY, "childrenCategories") in kinds:
        categories = {row.qualified_name for row, name in chosen if name == "childrenCategories"}
        children = _grouped(conn, sa.select(assets).where(_chunked_in(assets.c.parent_qualified_name, categories),
                                                          assets.c.type_name == CATEGORY),
                            lambda row: [row.parent_qualified_name])
    assigned: dict[str, list[AssetView]] = {}
    if (TERM, "assignedEntities") in kinds:
        terms = {row.guid for row, name in chosen if name == "assignedEntities"}
        query = sa.select(term_assignments.c.term_guid, assets).join(
            assets, assets.c.guid == term_assignments.c.asset_guid).where(_chunked_in(term_assignments.c.term_guid,
                                                                                      terms))
        assigned = _grouped(conn, query, lambda row: [row.term_guid])
    for row, name in chosen:
        value: list[AssetView]
        if name == "meanings":
            value = list(meanings.get(row.guid, ()))
        elif name == "anchor":
            value = by_qn.get(row.schema_qualified_name or "", [])
        elif name == "parentCategory":
            value = [v for v in by_qn.get(row.parent_qualified_name or "", []) if v.type_name == CATEGORY]
        elif name == "childrenCategories":
            value = children.get(row.qualified_name, [])
        elif name == "assignedEntities":
            value = assigned.get(row.guid, [])
        elif (row.type_name, name) == (TERM, "categories"):
            value = [view for guid in _category_guids(row) for view in by_guid.get(guid, [])]
        elif row.type_name == GLOSSARY:
            value = [v for v in members.get(row.qualified_name, []) if v.type_name == (TERM if name == "terms"
                                                                                       else CATEGORY)]
        else:  # a category's terms: those of its glossary that name it
            value = [v for v in members.get(row.schema_qualified_name or "", []) if v.type_name == TERM
                     and row.guid in [ref.get("guid") for ref in v.attributes.get("categories") or ()]]
        if name in ("anchor", "parentCategory"):
            if value:
                out[row.id][name] = value[0]
        else:
            out[row.id][name] = tuple(value)
    return out
