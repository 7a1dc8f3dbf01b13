"""Nested columns are found by their path: a column's name words include those of the columns above it.

Revision ID: 0012
Revises: 0011

A field of a struct column is a Column of its own, named as in Atlan by its own name (`phone`), with the
columns it is nested in listed in its `columnHierarchy` attribute (`carrier`, then `contact`). People look for
it by its path, `carrier.contact.phone`: every word of a full-text search must be a word of the asset, so both
indexes now read a column's name words as its name followed by the names in its `columnHierarchy`
(docs/design.md, Atlan contract §7). Assets without a `columnHierarchy` are indexed exactly as before.

* SQLite: the three triggers that write a column's row of `assets_fts` (0004) are made again with the new name.
* PostgreSQL: `gazetteer_words` (0009) reads the names from the attributes it is already given; its index rows
  are stored, so nothing else changes.

Columns that already have a `columnHierarchy` (written through the API) are indexed again.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Migrations are snapshots: the triggers and the function are rebuilt from the pieces of the revisions that made
# them, which never change, instead of copies of them.
_DISCOVERY = importlib.import_module("gazetteer.store.migrations.versions.0004_discovery")
_POSTGRESQL_SEARCH = importlib.import_module("gazetteer.store.migrations.versions.0009_postgresql_search")
_TRIGGERS = ("assets_fts_insert_last_column", "assets_fts_insert_lone_column", "assets_fts_update")


def _name(row: str) -> str:
    """The name words of an asset: its name and those of the columns in its `columnHierarchy`, if any."""
    return (f"{row}.name || coalesce(' ' || (SELECT group_concat(CASE WHEN h.type = 'object' THEN "
            f"json_extract(h.value, '$.name') END, ' ') FROM json_each({row}.attributes, '$.columnHierarchy') AS h), "
            "'')")


def _index(row: str) -> str:
    """0004's: index an active asset (a table or view with the names of its active columns)."""
    columns = f"CASE WHEN {row}.type_name IN ('Table', 'View') THEN {_DISCOVERY._columns_of(row)} END"
    return (f"INSERT INTO assets_fts (rowid, name, description, columns) SELECT {row}.id, {_name(row)}, "
            f"{_DISCOVERY._description(row)}, {columns} WHERE {row}.status = 'ACTIVE';")


def _index_columns(parent: str) -> str:
    """0004's: index every active column of the table or view named `parent`, in one statement."""
    columns = f"assets AS c WHERE c.parent_qualified_name = {parent} AND +c.type_name = 'Column'"
    return f"""
           DELETE FROM assets_fts WHERE rowid IN (SELECT c.id FROM {columns});
           INSERT INTO assets_fts (rowid, name, description)
               SELECT c.id, {_name('c')}, {_DISCOVERY._description('c')} FROM {columns} AND +c.status = 'ACTIVE';"""


_SQLITE = [
    f"""CREATE TRIGGER assets_fts_insert_last_column AFTER INSERT ON assets
           WHEN {_DISCOVERY._NEW_COLUMN} AND {_DISCOVERY._LAST}
           BEGIN {_index_columns('NEW.parent_qualified_name')}
           {_DISCOVERY._reindex_parent('NEW.parent_qualified_name')} END""",
    f"""CREATE TRIGGER assets_fts_insert_lone_column AFTER INSERT ON assets
           WHEN {_DISCOVERY._NEW_COLUMN} AND {_DISCOVERY._ALONE}
           BEGIN {_index('NEW')} {_DISCOVERY._reindex_parent('NEW.parent_qualified_name')} END""",
    f"""CREATE TRIGGER assets_fts_update AFTER UPDATE OF name, status, attributes, curated, type_name,
           parent_qualified_name ON assets WHEN {_DISCOVERY._INDEXED_CHANGE}
           BEGIN DELETE FROM assets_fts WHERE rowid = OLD.id; {_index('NEW')} END""",
]


def _sqlite_reindex(name: Callable[[str], str]) -> list[str]:
    """Index the assets with a `columnHierarchy` again, their name words being `name` of the row."""
    return [
        """DELETE FROM assets_fts WHERE rowid IN (
               SELECT id FROM assets WHERE json_type(attributes, '$.columnHierarchy') = 'array')""",
        f"""INSERT INTO assets_fts (rowid, name, description)
               SELECT a.id, {name('a')}, {_DISCOVERY._description('a')} FROM assets AS a
               WHERE json_type(a.attributes, '$.columnHierarchy') = 'array' AND a.status = 'ACTIVE'""",
    ]


_HIERARCHY_NAMES = """coalesce((SELECT string_agg(h ->> 'name', ' ') FROM jsonb_array_elements(
             CASE WHEN jsonb_typeof(attributes -> 'columnHierarchy') = 'array' THEN attributes -> 'columnHierarchy'
             END) AS h WHERE jsonb_typeof(h) = 'object'), '')"""
_POSTGRESQL = f"""
CREATE OR REPLACE FUNCTION gazetteer_words(name text, attributes jsonb, curated jsonb, columns text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector('simple', regexp_replace(name || ' ' || {_HIERARCHY_NAMES},
             '[^[:alnum:]]+', ' ', 'g')), 'A')
      || setweight(to_tsvector('simple', regexp_replace(
             coalesce(attributes ->> 'description', '') || ' ' || coalesce(curated ->> 'description', '') || ' '
             || coalesce(curated ->> 'userDescription', ''), '[^[:alnum:]]+', ' ', 'g')), 'B')
      || setweight(to_tsvector('simple', regexp_replace(coalesce(columns, ''), '[^[:alnum:]]+', ' ', 'g')), 'C')
$$"""
_POSTGRESQL_REINDEX = "SELECT gazetteer_index_asset(id) FROM assets WHERE attributes ? 'columnHierarchy'"


def _postgresql_0009() -> str:
    """0009's gazetteer_words, to put back."""
    functions = str(_POSTGRESQL_SEARCH._FUNCTIONS)
    start = functions.index("CREATE FUNCTION gazetteer_words(")
    return "CREATE OR REPLACE" + functions[start + len("CREATE"):functions.index("$$;", start) + 2]


def _recreate(statements: list[str]) -> None:
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger}")
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _recreate(_SQLITE)
        for statement in _sqlite_reindex(_name):
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(_POSTGRESQL)
        op.execute(_POSTGRESQL_REINDEX)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _recreate([statement for statement in _DISCOVERY._SQLITE
                   if any(f"CREATE TRIGGER {trigger} " in statement for trigger in _TRIGGERS)])
        for statement in _sqlite_reindex(lambda row: f"{row}.name"):
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(_postgresql_0009())
        op.execute(_POSTGRESQL_REINDEX)
