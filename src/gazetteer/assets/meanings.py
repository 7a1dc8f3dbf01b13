"""Glossary terms assigned to assets: Atlan's `meanings` (pyatlan's `assigned_terms`).

What for: entity/bulk (`gazetteer.assets.curation` hands the `meanings` it was sent here: the attribute replaces an
asset's terms, `appendRelationshipAttributes` / `removeRelationshipAttributes` add and remove some, which is
what pyatlan's `append_terms` / `remove_terms` send), the readers (an asset's terms, a term's assets), the asset
search (`__meanings` by the term's qualifiedName, `__meaningsText` by its name) and the UI.

Assignments live in `term_assignments`, apart from anything a crawl writes, so a re-crawl keeps them. They are
read through active terms only: an archived term is hidden from the assets it was on, and comes back with them
when it is restored; a term deleted for good takes its assignments with it (`gazetteer.assets.glossary`).
Assigning terms is curating the asset: its connection's admins and `$admin` may (`auth.permissions`
EDIT_ASSET), and each change is an event in the asset's history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlalchemy.engine import Connection, Engine

from gazetteer.assets import history
from gazetteer.assets.processes import resolve_references
from gazetteer.assets.records import GLOSSARY_TYPES
from gazetteer.assets.service import connection_attributes
from gazetteer.assets.views import AssetView
from gazetteer.auth.permissions import Action, authorize
from gazetteer.auth.principal import Principal
from gazetteer.errors import InvalidRequest
from gazetteer.store.schema import assets, term_assignments

__all__ = ["MAX_TERMS", "TermsChange", "apply_terms", "terms_of", "assets_of_term", "has_term", "term_counts",
           "TERM"]

TERM = "AtlasGlossaryTerm"
MAX_TERMS = 200  # terms on one asset: far more than anyone assigns, and it bounds what a request can write
_TERMS = assets.alias("term")


@dataclass(frozen=True, slots=True)
class TermsChange:
    """The `meanings` of one request entity as sent: a replacement, and terms to add and to remove (None: not
    sent)."""

    replace: Any = None
    append: Any = None
    remove: Any = None

    def __bool__(self) -> bool:
        return any(value is not None for value in (self.replace, self.append, self.remove))


def _resolve(conn: Connection, value: Any, where: str, assigned: Mapping[str, str]) -> list[str]:
    """The guids of the active terms `value` (a list of references) names."""
    if not isinstance(value, list) or len(value) > MAX_TERMS:
        raise InvalidRequest(f"{where}: expected a list of at most {MAX_TERMS} term references like "
                             "{\"typeName\": \"AtlasGlossaryTerm\", \"guid\": \"...\"}")
    refs = [{"guid": assigned[ref["guid"]]} if isinstance(ref, Mapping) and ref.get("guid") in assigned else ref
            for ref in value]
    found = resolve_references(conn, refs, where) if refs else []
    for i, ref in enumerate(found):
        if ref["typeName"] != TERM:
            raise InvalidRequest(f"{where}[{i}]: {ref['uniqueAttributes']['qualifiedName']!r} is a {ref['typeName']}, "
                                 "not an AtlasGlossaryTerm: only terms can be assigned")
    return [ref["guid"] for ref in found]


def _current(conn: Connection, asset_guid: str) -> list[str]:
    return [guid for (guid,) in conn.execute(sa.select(term_assignments.c.term_guid)
                                             .where(term_assignments.c.asset_guid == asset_guid))]


def _names(conn: Connection, guids: Sequence[str]) -> list[str]:
    if not guids:
        return []
    return sorted(name for (name,) in conn.execute(sa.select(assets.c.name).where(assets.c.guid.in_(guids))))


def apply_terms(conn: Connection, row: Any, change: TermsChange, principal: Principal, assigned: Mapping[str, str],
                where: str) -> bool:
    """Change the terms assigned to the asset `row` as `change` says; whether anything changed."""
    if not change:
        return False
    if row.type_name in GLOSSARY_TYPES:
        raise InvalidRequest(f"{where}: terms are assigned to catalog assets (tables, views, columns...), not to "
                             f"a {row.type_name}")
    authorize(principal, Action.EDIT_ASSET, connection_attributes(conn, row.connection_qualified_name)
              or {"name": row.connection_qualified_name}, what=f"in connection {row.connection_qualified_name!r}")
    before = _current(conn, row.guid)
    after = list(before) if change.replace is None else _resolve(conn, change.replace, f"{where}.meanings", assigned)
    if change.append is not None:
        after += _resolve(conn, change.append, f"{where}.appendRelationshipAttributes.meanings", assigned)
    if change.remove is not None:
        gone = set(_resolve(conn, change.remove, f"{where}.removeRelationshipAttributes.meanings", assigned))
        after = [guid for guid in after if guid not in gone]
    after = list(dict.fromkeys(after))
    if len(after) > MAX_TERMS:
        raise InvalidRequest(f"{where}: an asset may have at most {MAX_TERMS} terms")
    added, dropped = [g for g in after if g not in before], [g for g in before if g not in after]
    if not added and not dropped:
        return False
    if dropped:
        conn.execute(term_assignments.delete().where(term_assignments.c.asset_guid == row.guid,
                                                     term_assignments.c.term_guid.in_(dropped)))
    if added:
        now = datetime.now(UTC)
        conn.execute(term_assignments.insert(), [{"asset_guid": row.guid, "term_guid": guid, "created_at": now,
                                                  "created_by": principal.username} for guid in added])
    if history.recording():
        # An event like any edit's: the terms' names before and after, under the attribute pyatlan knows.
        base = dict(row._mapping)
        old, new = _names(conn, before), _names(conn, after)
        history.record_edit(conn, history.Author(principal.username, "api"),
                            SimpleNamespace(**{**base, "curated": {"meanings": old}}),
                            SimpleNamespace(**{**base, "curated": {"meanings": new}}))
    return True


def terms_of(conn: Connection, asset_guids: Sequence[str]) -> dict[str, tuple[AssetView, ...]]:
    """The active terms assigned to each of `asset_guids`, by name."""
    out: dict[str, list[AssetView]] = defaultdict(list)
    ordered = sorted(set(asset_guids))
    for start in range(0, len(ordered), 500):  # bounded IN lists
        query = (sa.select(term_assignments.c.asset_guid, assets)
                 .join(assets, assets.c.guid == term_assignments.c.term_guid)
                 .where(term_assignments.c.asset_guid.in_(ordered[start:start + 500]), assets.c.status == "ACTIVE")
                 .order_by(assets.c.name, assets.c.id))
        for row in conn.execute(query):
            out[row.asset_guid].append(AssetView.of(row))
    return {guid: tuple(views) for guid, views in out.items()}


def assets_of_term(engine: Engine, term_guid: str, *, start: int = 0, size: int = 100
                   ) -> tuple[int, tuple[AssetView, ...]]:
    """How many active assets the term is assigned to, and a page of them by type and name."""
    where = sa.and_(term_assignments.c.term_guid == term_guid, assets.c.status == "ACTIVE")
    joined = term_assignments.join(assets, assets.c.guid == term_assignments.c.asset_guid)
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(joined).where(where)).scalar_one()
        rows = conn.execute(sa.select(assets).select_from(joined).where(where)
                            .order_by(assets.c.type_name, assets.c.name, assets.c.id).offset(start).limit(size))
        return int(total), tuple(AssetView.of(row) for row in rows)


def has_term(by: str, *, ignore_case: bool = False) -> Any:
    """The asset search's `member` for `__meanings` (`by` "qualified_name": the term's qualifiedName, as
    Atlan indexes it) and `__meaningsText` (`by` "name", for a `match` `ignore_case`): assets with an active term
    among the values (any active term, for exists)."""
    def predicate(values: Sequence[Any] | None) -> ColumnElement[bool]:
        # Aliases of its own: inside the terms facet's query (`term_counts`) nothing here may correlate with it.
        assigned, term = term_assignments.alias("assigned"), assets.alias("assigned_term")
        terms = sa.select(assigned.c.asset_guid).join(term, term.c.guid == assigned.c.term_guid).where(
            term.c.status == "ACTIVE")
        if values is not None:
            column = getattr(term.c, by)
            texts = [str(value) for value in values]
            terms = terms.where(sa.func.lower(column).in_([text.lower() for text in texts]) if ignore_case
                                else column.in_(texts))
        return assets.c.guid.in_(terms)
    return predicate


def term_counts(conn: Connection, where: ColumnElement[bool], size: int, by: str = "qualified_name"
                ) -> list[tuple[str, int, int]]:
    """The terms facet of the assets matching `where`: `(term's qualifiedName or name (`by`), assets, assignments
    in all)` rows, the `size` most assigned first (ties by key), as `gazetteer.assets.facets` takes them."""
    # Driven by the assignments (few) with a look-up of each one's asset, never by the hits (maybe all assets).
    hit = sa.exists().where(assets.c.guid == term_assignments.c.asset_guid, where)
    key = getattr(_TERMS.c, by)
    counted = (sa.select(key, sa.func.count(sa.distinct(term_assignments.c.asset_guid)).label("n"))
               .select_from(term_assignments.join(_TERMS, _TERMS.c.guid == term_assignments.c.term_guid))
               .where(_TERMS.c.status == "ACTIVE", hit)
               .group_by(key))
    groups = sorted(((qn, int(n)) for qn, n in conn.execute(counted)), key=lambda item: (-item[1], item[0]))
    total = sum(n for _, n in groups)
    return [(qn, n, total) for qn, n in groups[:size]]
