"""Asset rows in Atlan's entity shapes, and the relationships between them.

What for: the search results, the entity endpoints and the mutation answers all describe assets the same
way. Attributes are the crawled ones overlaid with the curated ones; values pyatlan validates as enums are
left out unless valid, and tag lists are always empty (docs/design.md, Atlan contract §5).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gazetteer.store.schema import assets

__all__ = ["RELATIONSHIPS", "ENUMS", "attributes_of", "entity_header", "full_entity", "reference",
           "related_rows", "relationships_of", "epoch_ms"]

# Enum-typed attributes and the values pyatlan accepts.
ENUMS: dict[str, frozenset[str]] = {
    "tableType": frozenset({"TEMPORARY", "ICEBERG", "KUDU"}),
    "certificateStatus": frozenset({"DRAFT", "VERIFIED", "DEPRECATED"}),
    "announcementType": frozenset({"information", "warning", "issue"}),
}
# (type, relationship attribute) → ("parent", parent type) or ("children", child types).
RELATIONSHIPS: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("Database", "schemas"): ("children", ("Schema",)),
    ("Schema", "database"): ("parent", ("Database",)),
    ("Schema", "tables"): ("children", ("Table",)),
    ("Schema", "views"): ("children", ("View",)),
    ("Table", "atlanSchema"): ("parent", ("Schema",)),
    ("Table", "columns"): ("children", ("Column",)),
    ("View", "atlanSchema"): ("parent", ("Schema",)),
    ("View", "columns"): ("children", ("Column",)),
    ("Column", "table"): ("parent", ("Table",)),
    ("Column", "view"): ("parent", ("View",)),
}
RELATIONSHIP_NAMES = frozenset(name for _, name in RELATIONSHIPS)


def epoch_ms(moment: datetime) -> int:
    """Atlan's timestamps are epoch milliseconds; SQLite hands back naive datetimes, which are UTC here."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def attributes_of(row: Any) -> dict[str, Any]:
    """All attributes of a row: crawled, then curated on top, then its identity; invalid enums dropped."""
    merged = {**(row.attributes or {}), **(row.curated or {}), "qualifiedName": row.qualified_name,
              "name": row.name}
    for key, allowed in ENUMS.items():
        if key in merged and merged[key] not in allowed:
            del merged[key]
    return merged


def entity_header(row: Any, wanted: Iterable[str] | None = None, related: dict[str, Any] | None = None
                  ) -> dict[str, Any]:
    """A search hit or mutation entry: qualifiedName, name and only the `wanted` attributes."""
    merged = attributes_of(row)
    attributes = {"qualifiedName": row.qualified_name, "name": row.name}
    for key in wanted or ():
        if key in merged:
            attributes[key] = merged[key]
    attributes.update(related or {})
    return {
        "typeName": row.type_name,
        "guid": row.guid,
        "status": row.status,
        "attributes": attributes,
        "displayText": row.name,
        "classificationNames": [],
        "meaningNames": [],
        "meanings": [],
        "labels": [],
        "isIncomplete": False,
        "createdBy": row.created_by,
        "updatedBy": row.updated_by,
        "createTime": epoch_ms(row.created_at),
        "updateTime": epoch_ms(row.updated_at),
    }


def full_entity(row: Any, relationships: dict[str, Any] | None) -> dict[str, Any]:
    """The entity of GET /entity/...: every attribute, and relationshipAttributes when asked for."""
    entity = entity_header(row)
    entity["attributes"] = attributes_of(row)
    entity.update(classifications=[], version=0)
    if relationships is not None:
        entity["relationshipAttributes"] = relationships
    return entity


def reference(row: Any, wanted: Sequence[str] = ()) -> dict[str, Any]:
    """A related asset as Atlas shows it: guid, type, unique attributes (plus any `wanted` attributes)."""
    merged = attributes_of(row)
    attributes = {"qualifiedName": row.qualified_name, "name": row.name}
    attributes.update({key: merged[key] for key in wanted if key in merged})
    return {"guid": row.guid, "typeName": row.type_name, "entityStatus": row.status, "displayText": row.name,
            "uniqueAttributes": {"qualifiedName": row.qualified_name}, "attributes": attributes}


def related_rows(conn: Connection, rows: Sequence[Any], names: Iterable[str] | None) -> dict[int, dict[str, Any]]:
    """For each row id, the related rows under the relationship attributes among `names` (None: all) that apply
    to its type: the parent's row, or the active children's rows in Atlas's order (`order`, then name).

    One query for all parents and one for all children, whatever the number of rows.
    """
    chosen = {(row.id, name, RELATIONSHIPS[(row.type_name, name)]) for row in rows
              for (type_name, name) in RELATIONSHIPS
              if type_name == row.type_name and (names is None or name in names)}
    if not chosen:
        return {}
    by_id = {row.id: row for row in rows}
    parent_names = {by_id[i].parent_qualified_name for i, _, (kind, _) in chosen
                    if kind == "parent" and by_id[i].parent_qualified_name}
    child_parents = {by_id[i].qualified_name for i, _, (kind, _) in chosen if kind == "children"}
    parents = _rows_by(conn, assets.c.qualified_name, parent_names)
    children: dict[str, list[Any]] = defaultdict(list)
    for child in _rows_by(conn, assets.c.parent_qualified_name, child_parents, active=True).values():
        for row in child:
            children[row.parent_qualified_name].append(row)
    out: dict[int, dict[str, Any]] = defaultdict(dict)
    for row_id, name, (kind, types) in sorted(chosen, key=lambda item: (item[0], item[1])):
        row = by_id[row_id]
        if kind == "parent":
            parent = next(iter(parents.get(row.parent_qualified_name, ())), None)
            if parent is not None and parent.type_name in types:
                out[row_id][name] = parent
        else:
            kids = [kid for kid in children.get(row.qualified_name, []) if kid.type_name in types]
            kids.sort(key=lambda kid: (int((kid.attributes or {}).get("order") or 0), kid.name))
            out[row_id][name] = kids
    return out


def relationships_of(conn: Connection, rows: Sequence[Any], names: Iterable[str] | None,
                     wanted: Sequence[str] = ()) -> dict[int, dict[str, Any]]:
    """`related_rows` as Atlas shows them: references (with the `wanted` attributes), a list for children."""
    return {row_id: {name: [reference(kid, wanted) for kid in value] if isinstance(value, list)
                     else reference(value, wanted) for name, value in related.items()}
            for row_id, related in related_rows(conn, rows, names).items()}


def _rows_by(conn: Connection, column: Any, values: set[str], *, active: bool = False) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = defaultdict(list)
    ordered = sorted(values)
    for start in range(0, len(ordered), 500):  # bounded IN lists
        query = sa.select(assets).where(column.in_(ordered[start:start + 500]))
        if active:
            query = query.where(assets.c.status == "ACTIVE")
        for row in conn.execute(query):
            found[getattr(row, column.name)].append(row)
    return found
