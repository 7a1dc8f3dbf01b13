"""The relationships between assets, as Atlas names them, and reading them for a page of assets.

What for: with relationships, a Table or View shows its schema (`atlanSchema`) and `columns`, a Column its
`table` (or `view`), a Schema its `database`, `tables` and `views`, a Database its `schemas`; pyatlan
merges them into the asset's attributes, and the UI lists a table's columns from here.

A nested column (a field of a struct column, `parentColumnQualifiedName` set) is stored below its table like
the table's columns, but as in Atlan it is not one of the table's `columns` and has no `table`: it has its
`parentColumn`, and a column its `nestedColumns` (docs/design.md, Atlan contract §7).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gazetteer.assets.glossary_relations import GLOSSARY_RELATIONSHIPS, glossary_related
from gazetteer.assets.views import AssetView, Related
from gazetteer.store.schema import assets

__all__ = ["RELATIONSHIPS", "RELATIONSHIP_NAMES", "related_views"]

# (type, relationship attribute) → ("parent", parent type) or ("children", child types), or for nested columns
# ("parent column", ...) or ("nested", ...).
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
    ("Column", "parentColumn"): ("parent column", ("Column",)),
    ("Column", "nestedColumns"): ("nested", ("Column",)),
}
# The glossary's relationships and any asset's terms (`meanings`): gazetteer.assets.glossary_relations.
RELATIONSHIP_NAMES = frozenset({*(name for _, name in RELATIONSHIPS), "meanings",
                                *(name for names in GLOSSARY_RELATIONSHIPS.values() for name in names)})


def _nested_in(row: Any) -> str | None:
    """The qualified name of the column a nested column is a field of; None for any other asset."""
    value = (row.attributes or {}).get("parentColumnQualifiedName")
    return value if isinstance(value, str) and value else None


def related_views(conn: Connection, rows: Sequence[Any], names: Iterable[str] | None) -> dict[int, dict[str, Related]]:
    """For each row id, the related assets under the relationship attributes among `names` (None: all) that
    apply to its type: the parent, or the active children in Atlas's order (`order`, then name).

    One query for all parents and one for all children, whatever the number of rows.
    """
    chosen = {(row.id, name, RELATIONSHIPS[(row.type_name, name)]) for row in rows
              for (type_name, name) in RELATIONSHIPS
              if type_name == row.type_name and (names is None or name in names)}
    out: dict[int, dict[str, Related]] = {row.id: {} for row in rows}
    for row_id, found in glossary_related(conn, rows, names).items():
        out[row_id].update(found)
    if not chosen:
        return out
    by_id = {row.id: row for row in rows}
    parent_names = {by_id[i].parent_qualified_name for i, _, (kind, _) in chosen
                    if kind == "parent" and by_id[i].parent_qualified_name}
    parent_names |= {qn for i, _, (kind, _) in chosen if kind == "parent column" and (qn := _nested_in(by_id[i]))}
    # A column's nested columns are stored below its table, as the table's columns are.
    child_parents = {by_id[i].qualified_name for i, _, (kind, _) in chosen if kind == "children"}
    child_parents |= {by_id[i].parent_qualified_name for i, _, (kind, _) in chosen
                      if kind == "nested" and by_id[i].parent_qualified_name}
    parents = _rows_by(conn, assets.c.qualified_name, parent_names)
    children: dict[str, list[Any]] = defaultdict(list)
    for child in _rows_by(conn, assets.c.parent_qualified_name, child_parents, active=True).values():
        for row in child:
            children[row.parent_qualified_name].append(row)
    for row_id, name, (kind, types) in sorted(chosen, key=lambda item: (item[0], item[1])):
        row = by_id[row_id]
        if kind in ("parent", "parent column"):
            # A nested column hangs from its parent column, not from the table it is stored below.
            nested_in = _nested_in(row)
            above = nested_in if kind == "parent column" else None if nested_in else row.parent_qualified_name
            parent = next(iter(parents.get(above, ())), None) if above else None
            if parent is not None and parent.type_name in types:
                out[row_id][name] = AssetView.of(parent)
            continue
        if kind == "children":
            kids = [kid for kid in children.get(row.qualified_name, [])
                    if kid.type_name in types and not _nested_in(kid)]
        else:
            kids = [kid for kid in children.get(row.parent_qualified_name, []) if _nested_in(kid) == row.qualified_name]
        kids.sort(key=lambda kid: (int((kid.attributes or {}).get("order") or 0), kid.name))
        out[row_id][name] = tuple(AssetView.of(kid) for kid in kids)
    return out


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
