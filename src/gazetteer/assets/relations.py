"""The relationships between assets, as Atlas names them, and reading them for a page of assets.

What for: with relationships, a Table or View shows its schema (`atlanSchema`) and `columns`, a Column its
`table` (or `view`), a Schema its `database`, `tables` and `views`, a Database its `schemas`; pyatlan
merges them into the asset's attributes, and the UI lists a table's columns from here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gazetteer.assets.views import AssetView, Related
from gazetteer.store.schema import assets

__all__ = ["RELATIONSHIPS", "RELATIONSHIP_NAMES", "related_views"]

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


def related_views(conn: Connection, rows: Sequence[Any], names: Iterable[str] | None) -> dict[int, dict[str, Related]]:
    """For each row id, the related assets under the relationship attributes among `names` (None: all) that
    apply to its type: the parent, or the active children in Atlas's order (`order`, then name).

    One query for all parents and one for all children, whatever the number of rows.
    """
    chosen = {(row.id, name, RELATIONSHIPS[(row.type_name, name)]) for row in rows
              for (type_name, name) in RELATIONSHIPS
              if type_name == row.type_name and (names is None or name in names)}
    out: dict[int, dict[str, Related]] = {row.id: {} for row in rows}
    if not chosen:
        return out
    by_id = {row.id: row for row in rows}
    parent_names = {by_id[i].parent_qualified_name for i, _, (kind, _) in chosen
                    if kind == "parent" and by_id[i].parent_qualified_name}
    child_parents = {by_id[i].qualified_name for i, _, (kind, _) in chosen if kind == "children"}
    parents = _rows_by(conn, assets.c.qualified_name, parent_names)
    children: dict[str, list[Any]] = defaultdict(list)
    for child in _rows_by(conn, assets.c.parent_qualified_name, child_parents, active=True).values():
        for row in child:
            children[row.parent_qualified_name].append(row)
    for row_id, name, (kind, types) in sorted(chosen, key=lambda item: (item[0], item[1])):
        row = by_id[row_id]
        if kind == "parent":
            parent = next(iter(parents.get(row.parent_qualified_name, ())), None)
            if parent is not None and parent.type_name in types:
                out[row_id][name] = AssetView.of(parent)
        else:
            kids = [kid for kid in children.get(row.qualified_name, []) if kid.type_name in types]
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
