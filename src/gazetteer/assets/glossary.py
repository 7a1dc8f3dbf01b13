"""The business glossary: glossaries, their categories and terms, kept as ordinary assets.

What for: pyatlan's `AtlasGlossary.creator`, `AtlasGlossaryCategory.creator` and `AtlasGlossaryTerm.creator`
saved through entity/bulk (`gazetteer.assets.curation` hands glossary types here), `delete_by_guid` and
`purge_by_guid`, and the UI's glossary pages. Everything on a glossary item is people's: there is no crawl.

How they are stored (docs/design.md, Atlan contract §11): as Atlan does, the server names them. A glossary's
qualifiedName is a fresh random id; a category's and a term's is `<random id>@<glossary's qualifiedName>`, so
whatever qualifiedName pyatlan's creators send (a placeholder such as "-1234") is replaced, and the answer's
`mutatedEntities` and `guidAssignments` tell the client. A glossary item belongs to no connection
(`connection_qualified_name` is empty); its glossary (`anchor`) is kept in `schema_qualified_name`, which is
indexed, and its parent in `parent_qualified_name`: a term's is its glossary, a category's its parent category
or, at the top, its glossary. A term's categories are references in its attributes (`categories`), as a
process keeps its inputs. Names are unique as Atlan keeps them: a glossary among glossaries, a term within its
glossary, a category among its siblings (a 409 otherwise).
Who may: `auth.permissions` MANAGE_GLOSSARY.
"""

from __future__ import annotations

import dataclasses
import secrets
import string
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gazetteer.assets import history
from gazetteer.assets.processes import resolve_references
from gazetteer.assets.records import GLOSSARY_TYPES, content_hash
from gazetteer.assets.views import AssetView
from gazetteer.auth.permissions import Action, authorize
from gazetteer.auth.principal import Principal
from gazetteer.errors import Conflict, InvalidRequest, NotFound
from gazetteer.store.generation import bump_generation
from gazetteer.store.schema import assets, term_assignments

__all__ = ["GLOSSARY", "CATEGORY", "TERM", "save_item", "delete_items", "REFERENCE_KEYS", "MAX_NAME"]

GLOSSARY, CATEGORY, TERM = GLOSSARY_TYPES
# The attributes of glossary items that are references to other glossary items (resolved, never stored as sent).
REFERENCE_KEYS = ("anchor", "parentCategory", "categories")
# Relationships pyatlan may send on a glossary item that are read from elsewhere (the other side of a reference),
# or that the catalog does not keep: accepted and ignored, as Atlas ignores what it derives.
_DERIVED = frozenset({"terms", "childrenCategories", "assignedEntities", "meanings", "seeAlso", "synonyms",
                      "antonyms", "preferredTerms", "preferredToTerms", "replacementTerms", "replacedBy",
                      "translationTerms", "translatedTerms", "isA", "classifies", "validValues", "validValuesFor"})
MAX_NAME = 255
_MAX_TEXT = 100_000  # a term's definition (longDescription) or any other text attribute
_MAX_CATEGORIES = 100
_ALPHABET = string.ascii_letters + string.digits


def _new_id() -> str:
    """A random id of 21 characters, as Atlan's nanoids are."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(21))


def _references(conn: Connection, value: Any, where: str, types: tuple[str, ...], assigned: Mapping[str, str],
                *, single: bool) -> list[dict[str, Any]]:
    """Request references (a placeholder guid of an item created earlier in the request included) resolved to
    active glossary items of `types`."""
    items = [value] if single else value
    if not isinstance(items, list):
        raise InvalidRequest(f"{where}: expected a list of references like {{\"typeName\": \"{types[0]}\", "
                             "\"guid\": \"...\"}")

    def replaced(ref: Any) -> Any:
        if isinstance(ref, Mapping) and ref.get("guid") in assigned:
            return {"guid": assigned[ref["guid"]]}
        return ref

    found: list[dict[str, Any]] = resolve_references(conn, [replaced(ref) for ref in items], where)
    for i, ref in enumerate(found):
        if ref["typeName"] not in types:
            raise InvalidRequest(f"{where}{'' if single else f'[{i}]'}: {ref['uniqueAttributes']['qualifiedName']!r} "
                                 f"is a {ref['typeName']}, not a {' or '.join(types)}")
    return found


def _one(conn: Connection, value: Any, where: str, types: tuple[str, ...], assigned: Mapping[str, str]) -> Any:
    """The active row a single reference names."""
    (ref,) = _references(conn, value, where, types, assigned, single=True)
    return conn.execute(sa.select(assets).where(assets.c.guid == ref["guid"])).one()


def _text_attributes(attributes: Mapping[str, Any], curated: Sequence[str], where: str) -> dict[str, Any]:
    """What a glossary item keeps in its attributes: every plain value sent, bounded (references, derived
    relationships and the `curated` attributes, which `curation` keeps or the server stamps, are left out)."""
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        if key in ("qualifiedName", "name") or key in REFERENCE_KEYS or key in _DERIVED or key in curated:
            continue
        if isinstance(value, str) and len(value) > _MAX_TEXT:
            raise InvalidRequest(f"{where}: {key!r} is longer than {_MAX_TEXT:,} characters")
        if isinstance(value, (Mapping, list)) and len(value) > _MAX_CATEGORIES:
            raise InvalidRequest(f"{where}: {key!r} holds more than {_MAX_CATEGORIES} items")
        out[key] = value
    return {key: value for key, value in out.items() if value is not None}


def _name(attributes: Mapping[str, Any], where: str, type_name: str) -> str:
    name = attributes.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidRequest(f"{where}: a {type_name} needs attributes.name")
    if len(name) > MAX_NAME:
        raise InvalidRequest(f"{where}: a {type_name}'s name may be at most {MAX_NAME} characters")
    return name.strip()


def _clash(conn: Connection, type_name: str, name: str, glossary_qn: str | None, parent_qn: str | None,
           own_id: int | None) -> None:
    """409 when an active item of the same kind and scope has `name` already."""
    query = sa.select(assets.c.qualified_name).where(assets.c.type_name == type_name, assets.c.name == name,
                                                     assets.c.status == "ACTIVE")
    if type_name == TERM:
        query, scope = query.where(assets.c.schema_qualified_name == glossary_qn), "in this glossary"
    elif type_name == CATEGORY:
        query, scope = query.where(assets.c.parent_qualified_name == parent_qn), "under the same parent"
    else:
        scope = "in this catalog"
    if own_id is not None:
        query = query.where(assets.c.id != own_id)
    if conn.execute(query.limit(1)).first() is not None:
        raise Conflict(f"A {type_name} named {name!r} already exists {scope}; choose another name or update it")


def _placement(conn: Connection, type_name: str, attributes: Mapping[str, Any], where: str,
               assigned: Mapping[str, str], row: Any | None) -> tuple[str | None, str | None]:
    """(glossary qualifiedName, parent qualifiedName) of a category or term, from its anchor and parent (an
    update that names no anchor keeps its glossary)."""
    if type_name == GLOSSARY:
        return None, None
    if attributes.get("anchor") is not None:
        glossary_qn = _one(conn, attributes["anchor"], f"{where}.anchor", (GLOSSARY,), assigned).qualified_name
    elif row is not None:
        glossary_qn = row.schema_qualified_name
    else:
        raise InvalidRequest(f"{where}: a {type_name} needs its glossary: attributes.anchor "
                             "(pyatlan: anchor=, glossary_guid= or glossary_qualified_name=)")
    parent_qn = glossary_qn
    if type_name == CATEGORY and attributes.get("parentCategory") is not None:
        parent = _one(conn, attributes["parentCategory"], f"{where}.parentCategory", (CATEGORY,), assigned)
        if parent.schema_qualified_name != glossary_qn:
            raise InvalidRequest(f"{where}.parentCategory: {parent.name!r} belongs to another glossary")
        parent_qn = parent.qualified_name
    return glossary_qn, parent_qn


def _categories(conn: Connection, attributes: Mapping[str, Any], glossary_qn: str | None, where: str,
                assigned: Mapping[str, str]) -> list[dict[str, Any]] | None:
    """A term's categories as stored references (None: not sent, so kept as they are)."""
    value = attributes.get("categories")
    if value is None:
        return None
    if isinstance(value, list) and len(value) > _MAX_CATEGORIES:
        raise InvalidRequest(f"{where}.categories: at most {_MAX_CATEGORIES} categories")
    found = _references(conn, value, f"{where}.categories", (CATEGORY,), assigned, single=False)
    for ref in found:
        row = conn.execute(sa.select(assets.c.schema_qualified_name, assets.c.name)
                           .where(assets.c.guid == ref["guid"])).one()
        if row.schema_qualified_name != glossary_qn:
            raise InvalidRequest(f"{where}.categories: {row.name!r} is a category of another glossary")
    return sorted({ref["guid"]: ref for ref in found}.values(), key=lambda ref: ref["guid"])


def save_item(conn: Connection, type_name: str, attributes: Mapping[str, Any], row: Any | None,
              principal: Principal, assigned: Mapping[str, str], where: str, curated_keys: Sequence[str],
              curated: dict[str, Any], *, restore: bool = False) -> Any:
    """Create (`row` None) or update a glossary, category or term, and return its row. `curated` is what
    `curation` made of the curated attributes sent (`curated_keys`: description, owners, certificate...); an
    archived item is changed only when it is `restore`d (made active again: itself, not what it held)."""
    authorize(principal, Action.MANAGE_GLOSSARY, what=f"({type_name} {attributes.get('name')!r})")
    if row is not None and row.status != "ACTIVE" and not restore:
        raise InvalidRequest(f"{where}: {row.type_name} {row.name!r} is archived; restore it first (status ACTIVE, "
                             "pyatlan's client.asset.restore)")
    name = _name(attributes, where, type_name)
    glossary_qn, parent_qn = _placement(conn, type_name, attributes, where, assigned, row)
    if row is not None and type_name != GLOSSARY and glossary_qn != row.schema_qualified_name:
        raise InvalidRequest(f"{where}: a {type_name} stays in its glossary; its anchor must name the glossary it "
                             "was created in")
    if row is not None and type_name == CATEGORY and attributes.get("parentCategory") is None:
        parent_qn = row.parent_qualified_name  # not sent: kept (pyatlan's updater sends only the anchor)
    if row is not None and type_name == CATEGORY and _below(conn, row.qualified_name, parent_qn):
        raise InvalidRequest(f"{where}: a category cannot be moved below itself or one of its own categories")
    _clash(conn, type_name, name, glossary_qn, parent_qn, row.id if row is not None else None)
    values = _text_attributes(attributes, curated_keys, where)
    if type_name == TERM:
        categories = _categories(conn, attributes, glossary_qn, where, assigned)
        if categories is None and row is not None:
            categories = (row.attributes or {}).get("categories")
        if categories:
            values["categories"] = categories
    now = datetime.now(UTC)
    if row is None:
        qualified_name = _new_id() if type_name == GLOSSARY else f"{_new_id()}@{glossary_qn}"
        conn.execute(assets.insert().values(
            guid=str(uuid.uuid4()), type_name=type_name, qualified_name=qualified_name, name=name, status="ACTIVE",
            connection_qualified_name="", schema_qualified_name=glossary_qn, parent_qualified_name=parent_qn,
            attributes=values, curated=curated or None, content_hash=content_hash(name, parent_qn, None, values),
            created_at=now, updated_at=now, created_by=principal.username, updated_by=principal.username))
        created = conn.execute(sa.select(assets).where(assets.c.qualified_name == qualified_name)).one()
        if history.recording():
            history.record_edit(conn, history.Author(principal.username, "api"), None, created)
        return created
    values = {**(row.attributes or {}), **values}  # attributes not sent are kept, as an update by pyatlan expects
    if (name, parent_qn, values, curated, "ACTIVE") != (row.name, row.parent_qualified_name, row.attributes or {},
                                                         row.curated or {}, row.status):
        conn.execute(assets.update().where(assets.c.id == row.id).values(
            name=name, parent_qualified_name=parent_qn, attributes=values, curated=curated or None, status="ACTIVE",
            content_hash=content_hash(name, parent_qn, None, values), updated_at=now, updated_by=principal.username))
    after = conn.execute(sa.select(assets).where(assets.c.id == row.id)).one()
    if history.recording():
        history.record_edit(conn, history.Author(principal.username, "api"), row, after)
    return after


def _below(conn: Connection, category_qn: str, parent_qn: str | None) -> bool:
    """Whether `parent_qn` is the category `category_qn` or one of the categories below it."""
    seen = 0
    while parent_qn is not None and seen < 1000:  # a category tree is never that deep: a guard, not a limit
        if parent_qn == category_qn:
            return True
        row = conn.execute(sa.select(assets.c.type_name, assets.c.parent_qualified_name)
                           .where(assets.c.qualified_name == parent_qn)).first()
        if row is None or row.type_name != CATEGORY:
            return False
        parent_qn, seen = row.parent_qualified_name, seen + 1
    return False


def _members(conn: Connection, row: Any) -> list[Any]:
    """A glossary's categories and terms (any status), or none for a category or term."""
    if row.type_name != GLOSSARY:
        return []
    return list(conn.execute(sa.select(assets).where(assets.c.schema_qualified_name == row.qualified_name,
                                                     assets.c.type_name.in_((CATEGORY, TERM)))))


def delete_items(engine: Engine, guids: Sequence[str], principal: Principal, *, hard: bool) -> tuple[AssetView, ...]:
    """Archive (soft) or delete for good (hard: HARD and PURGE) glossary items, a glossary with its categories
    and terms; all or nothing. Archiving a term hides it from the assets it is assigned to (the assignments are
    kept and come back with it); deleting it for good removes them. A category deleted for good is taken out of
    its terms, and its child categories move up to its parent."""
    if not guids or len(guids) > 1000:
        raise InvalidRequest("give between 1 and 1,000 guids to delete (query parameter 'guid')")
    authorize(principal, Action.MANAGE_GLOSSARY, what="(delete)")
    deleted: list[AssetView] = []
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for guid in dict.fromkeys(guids):
            row = conn.execute(sa.select(assets).where(assets.c.guid == guid)).first()
            if row is None:
                raise NotFound(f"Given instance guid {guid} is invalid/not found")
            if row.type_name not in GLOSSARY_TYPES:
                raise InvalidRequest(f"{row.type_name} {row.qualified_name!r} is not a glossary item: crawled assets "
                                     "are archived by the crawl that no longer finds them")
            for target in (*_members(conn, row), row):
                if hard:
                    _purge(conn, target)
                elif target.status == "ACTIVE":
                    conn.execute(assets.update().where(assets.c.id == target.id).values(
                        status="DELETED", updated_at=now, updated_by=principal.username))
                deleted.append(dataclasses.replace(AssetView.of(target), status="DELETED"))
        bump_generation(conn)
    return tuple(deleted)


def _purge(conn: Connection, row: Any) -> None:
    if row.type_name == TERM:
        conn.execute(term_assignments.delete().where(term_assignments.c.term_guid == row.guid))
    if row.type_name == CATEGORY:
        conn.execute(assets.update().where(assets.c.parent_qualified_name == row.qualified_name,
                                           assets.c.type_name == CATEGORY)
                     .values(parent_qualified_name=row.parent_qualified_name))
        for term in conn.execute(sa.select(assets.c.id, assets.c.attributes).where(
                assets.c.schema_qualified_name == row.schema_qualified_name, assets.c.type_name == TERM)):
            kept = [ref for ref in (term.attributes or {}).get("categories") or () if ref.get("guid") != row.guid]
            if kept != ((term.attributes or {}).get("categories") or []):
                conn.execute(assets.update().where(assets.c.id == term.id).values(
                    attributes={**term.attributes, "categories": kept}))
    conn.execute(assets.delete().where(assets.c.id == row.id))
