"""Reading the glossary for the web UI: the glossaries, one glossary's category tree and terms, a term's assets.

What for: the UI's glossary pages ask here in Python terms (`gazetteer.web.ui.glossary_pages`); how glossary items
are kept is in `gazetteer.assets.glossary`. Everything is bounded: at most `MAX_LISTED` glossaries and categories,
and terms and assets a page at a time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gazetteer.assets.records import GLOSSARY_TYPES
from gazetteer.assets.views import AssetView
from gazetteer.errors import NotFound
from gazetteer.store.schema import assets

__all__ = ["GlossarySummary", "CategoryNode", "GlossaryContents", "list_glossaries", "glossary_contents",
           "MAX_LISTED"]

GLOSSARY, CATEGORY, TERM = GLOSSARY_TYPES
MAX_LISTED = 1000
_ACTIVE = assets.c.status == "ACTIVE"


@dataclass(frozen=True, slots=True)
class GlossarySummary:
    glossary: AssetView
    terms: int
    categories: int


@dataclass(frozen=True, slots=True)
class CategoryNode:
    """A category, the categories below it, and how many terms name it."""

    category: AssetView
    children: tuple[CategoryNode, ...]
    terms: int


@dataclass(frozen=True, slots=True)
class GlossaryContents:
    """A glossary, its category tree (top level first, by name), a page of its terms (by name) and their total;
    the terms of one category only when `category` is set."""

    glossary: AssetView
    tree: tuple[CategoryNode, ...]
    terms: tuple[AssetView, ...]
    total: int
    category: AssetView | None


def list_glossaries(engine: Engine) -> tuple[GlossarySummary, ...]:
    """The active glossaries by name, with how many active terms and categories each holds."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(assets).where(assets.c.type_name == GLOSSARY, _ACTIVE)
                            .order_by(assets.c.name, assets.c.id).limit(MAX_LISTED)).all()
        counts: dict[tuple[str, str], int] = {}
        if rows:
            counted = (sa.select(assets.c.schema_qualified_name, assets.c.type_name, sa.func.count())
                       .where(assets.c.schema_qualified_name.in_([row.qualified_name for row in rows]),
                              assets.c.type_name.in_((CATEGORY, TERM)), _ACTIVE)
                       .group_by(assets.c.schema_qualified_name, assets.c.type_name))
            counts = {(qn, kind): int(n) for qn, kind, n in conn.execute(counted)}
    return tuple(GlossarySummary(AssetView.of(row), counts.get((row.qualified_name, TERM), 0),
                                 counts.get((row.qualified_name, CATEGORY), 0)) for row in rows)


def _term_categories(term: AssetView) -> list[str]:
    return [ref["guid"] for ref in term.attributes.get("categories") or () if isinstance(ref, dict) and "guid" in ref]


def glossary_contents(engine: Engine, guid: str, *, category_guid: str | None = None, start: int = 0,
                      size: int = 100) -> GlossaryContents:
    """A glossary (`guid` may name one of its categories or terms too: their glossary), its tree, and a page of
    its terms (or of the category's `category_guid`)."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(assets).where(assets.c.guid == guid)).first()
        if row is None or row.type_name not in GLOSSARY_TYPES:
            raise NotFound(f"There is no glossary with the guid {guid[:40]!r}: it may have been deleted.")
        if row.type_name != GLOSSARY:
            row = conn.execute(sa.select(assets).where(assets.c.qualified_name == row.schema_qualified_name)).one()
        members = [(AssetView.of(member), member.parent_qualified_name) for member in conn.execute(
            sa.select(assets).where(assets.c.schema_qualified_name == row.qualified_name, _ACTIVE,
                                    assets.c.type_name == CATEGORY).order_by(assets.c.name, assets.c.id)
            .limit(MAX_LISTED))]
        # A category's terms are read from the terms' references, so the glossary's terms are read once for the
        # tree's counts; a glossary of many thousands of terms still costs only their `categories`.
        named: dict[str, int] = defaultdict(int)
        for (attributes,) in conn.execute(sa.select(assets.c.attributes).where(
                assets.c.schema_qualified_name == row.qualified_name, assets.c.type_name == TERM, _ACTIVE)):
            for ref in (attributes or {}).get("categories") or ():
                if isinstance(ref, dict) and "guid" in ref:
                    named[ref["guid"]] += 1
        category = next((c for c, _ in members if c.guid == category_guid), None)
        if category_guid is not None and category is None:
            raise NotFound(f"This glossary has no category with the guid {category_guid[:40]!r}.")
        terms_query = sa.select(assets).where(assets.c.schema_qualified_name == row.qualified_name,
                                              assets.c.type_name == TERM, _ACTIVE)
        if category is not None:
            ids = [term.id for term in conn.execute(terms_query)
                   if category.guid in _term_categories(AssetView.of(term))]
            terms_query = terms_query.where(assets.c.id.in_(ids[:10_000]))
        total = conn.execute(sa.select(sa.func.count()).select_from(terms_query.subquery())).scalar_one()
        terms = tuple(AssetView.of(term) for term in conn.execute(
            terms_query.order_by(assets.c.name, assets.c.id).offset(start).limit(size)))
    return GlossaryContents(AssetView.of(row), _tree(members, row.qualified_name, named), terms, int(total), category)


def _tree(categories: list[tuple[AssetView, str]], glossary_qn: str, named: dict[str, int]
          ) -> tuple[CategoryNode, ...]:
    """The categories (each with its parent's qualifiedName) as a tree below the glossary, by name; built
    bottom-up without recursion. A category whose parent is missing (archived with it) is left out."""
    parent = {view.qualified_name: parent_qn for view, parent_qn in categories}
    by_parent: dict[str, list[AssetView]] = defaultdict(list)
    for view, parent_qn in categories:
        by_parent[parent_qn].append(view)

    def depth(qualified_name: str) -> int:
        steps = 0
        while qualified_name in parent and steps <= len(parent):
            qualified_name, steps = parent[qualified_name], steps + 1
        return steps

    nodes: dict[str, CategoryNode] = {}
    for view, _ in sorted(categories, key=lambda item: -depth(item[0].qualified_name)):  # deepest first
        kids = tuple(nodes[kid.qualified_name] for kid in by_parent.get(view.qualified_name, ()))
        nodes[view.qualified_name] = CategoryNode(view, kids, named.get(view.guid, 0))
    return tuple(nodes[view.qualified_name] for view in by_parent.get(glossary_qn, ()))
