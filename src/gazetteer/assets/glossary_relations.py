"""The glossary's relationships, as Atlas names them, read for a page of assets (`relations.related_views`).

What for: a term's `anchor` (its glossary), `categories` and `assignedEntities` (the assets it is assigned to); a
category's `anchor`, `parentCategory`, `childrenCategories` and `terms`; a glossary's `terms` and `categories`
(all of them, nested ones too, as Atlan lists them); and any catalog asset's `meanings` (its terms). Where they
are kept: `gazetteer.assets.glossary` and `gazetteer.assets.meanings`. Each relationship costs one query for
the whole page of rows (in bounded IN lists), and lists at most `MAX_RELATED` assets: a category's terms are
looked for among the first `MAX_RELATED` terms of its glossary (the UI's glossary page reads them all).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
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


def _grouped(conn: Connection, query: Any, column: Any, values: set[str]) -> dict[str, list[AssetView]]:
    """The active rows of `query` whose `column` is one of `values`, by that value and then by name, at most
    MAX_RELATED a value; asked in bounded IN lists."""
    out: dict[str, list[AssetView]] = defaultdict(list)
    ordered = sorted(values)
    for start in range(0, len(ordered), 500):
        chunk = query.where(column.in_(ordered[start:start + 500]), _ACTIVE).order_by(assets.c.name, assets.c.id)
        for row in conn.execute(chunk):
            found = out[getattr(row, column.name)]
            if len(found) < MAX_RELATED:
                found.append(AssetView.of(row))
    return out


def _category_guids(row: Any) -> list[str]:
    return [ref["guid"] for ref in (row.attributes or {}).get("categories") or () if isinstance(ref, dict)]


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
        by_qn = _grouped(conn, sa.select(assets), assets.c.qualified_name, anchors | parents)
    category_guids = {guid for row, name in chosen if name == "categories" and row.type_name == TERM
                      for guid in _category_guids(row)}
    if category_guids:
        by_guid = _grouped(conn, sa.select(assets), assets.c.guid, category_guids)
    glossaries = {row.qualified_name for row, name in chosen if row.type_name == GLOSSARY}
    glossaries |= {row.schema_qualified_name for row, name in chosen if (row.type_name, name) == (CATEGORY, "terms")}
    members: dict[str, dict[str, list[AssetView]]] = {TERM: {}, CATEGORY: {}}
    for kind in members if glossaries else ():
        members[kind] = _grouped(conn, sa.select(assets).where(assets.c.type_name == kind),
                                 assets.c.schema_qualified_name, glossaries)
    children: dict[str, list[AssetView]] = {}
    if (CATEGORY, "childrenCategories") in kinds:
        categories = {row.qualified_name for row, name in chosen if name == "childrenCategories"}
        children = _grouped(conn, sa.select(assets).where(assets.c.type_name == CATEGORY),
                            assets.c.parent_qualified_name, categories)
    assigned: dict[str, list[AssetView]] = {}
    if (TERM, "assignedEntities") in kinds:
        terms = {row.guid for row, name in chosen if name == "assignedEntities"}
        query = sa.select(term_assignments.c.term_guid, assets).join(
            assets, assets.c.guid == term_assignments.c.asset_guid)
        assigned = _grouped(conn, query, term_assignments.c.term_guid, terms)
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
            value = members[TERM if name == "terms" else CATEGORY].get(row.qualified_name, [])
        else:  # a category's terms: those of its glossary that name it
            value = [v for v in members[TERM].get(row.schema_qualified_name or "", [])
                     if row.guid in [ref.get("guid") for ref in v.attributes.get("categories") or ()]]
        if name in ("anchor", "parentCategory"):
            if value:
                out[row.id][name] = value[0]
        else:
            out[row.id][name] = tuple(value)
    return out
