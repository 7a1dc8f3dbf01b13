"""Discovery: what people curate on assets, and full-text search structures.

Revision ID: 0004
Revises: 0003

* `assets.curated`: the attributes people edit (userDescription, owners, certificate, announcement...).
  A crawl never writes it, so a re-crawl cannot overwrite what people curated.
* SQLite: an FTS5 table `assets_fts` (rowid = assets.id) of active assets' `name`, `description` (the
  crawled description and the curated ones) and, for tables and views, `columns`: the names of their
  active columns, so a table is found by its columns' names with one index lookup and counted once.
  Triggers keep it in step; `assets_fts_terms` is its vocabulary. unicode61 tokens
  (punctuation and `_` separate words, as in the PostgreSQL vector below) with 2- and 3-letter prefix
  indexes for search-as-you-type.
* PostgreSQL: a generated tsvector (name weighted A, descriptions B) with a GIN index, and a pg_trgm GIN
  index on lower(name) for typo-tolerant name lookups (skipped if the extension cannot be created).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _description(row: str) -> str:
    return (f"coalesce(json_extract({row}.attributes, '$.description'), '') || ' ' || "
            f"coalesce(json_extract({row}.curated, '$.description'), '') || ' ' || "
            f"coalesce(json_extract({row}.curated, '$.userDescription'), '')")


def _columns_of(row: str) -> str:
    # The unary + keeps SQLite on the parent index: the (type, status) one would read every column.
    return (f"(SELECT group_concat(c.name, ' ') FROM assets AS c WHERE c.parent_qualified_name = "
            f"{row}.qualified_name AND +c.type_name = 'Column' AND +c.status = 'ACTIVE')")


def _index(row: str) -> str:
    """Index an active asset; a table or view also holds the names of its active columns."""
    columns = f"CASE WHEN {row}.type_name IN ('Table', 'View') THEN {_columns_of(row)} END"
    return (f"INSERT INTO assets_fts (rowid, name, description, columns) SELECT {row}.id, {row}.name, "
            f"{_description(row)}, {columns} WHERE {row}.status = 'ACTIVE';")


def _reindex_parent(parent: str, when: str = "1") -> str:
    """Index again the table or view named `parent`, whose columns changed."""
    return f"""
           DELETE FROM assets_fts WHERE {when} AND rowid = (SELECT id FROM assets WHERE qualified_name = {parent});
           INSERT INTO assets_fts (rowid, name, description, columns)
               SELECT p.id, p.name, {_description('p')}, {_columns_of('p')} FROM assets AS p
               WHERE {when} AND p.qualified_name = {parent} AND p.status = 'ACTIVE'
                 AND p.type_name IN ('Table', 'View');"""


def _index_columns(parent: str) -> str:
    """Index every active column of the table or view named `parent`, in one statement."""
    columns = f"assets AS c WHERE c.parent_qualified_name = {parent} AND +c.type_name = 'Column'"
    return f"""
           DELETE FROM assets_fts WHERE rowid IN (SELECT c.id FROM {columns});
           INSERT INTO assets_fts (rowid, name, description)
               SELECT c.id, c.name, {_description('c')} FROM {columns} AND +c.status = 'ACTIVE';"""


# Each write statement a trigger makes into the index costs a flush of FTS5's pending terms, and the crawl
# inserts rows one statement each. So a new table's columns are indexed together, with its last column
# (order >= the table's columnCount), which also indexes the table again with their names. Any other
# column written after its table (a later crawl adding it, the API: its created_at is later, where a
# crawl writes a table and its columns together), or whose order or table's count is unknown, is
# indexed on its own at once.
_PARENT = "(SELECT p.{} FROM assets AS p WHERE p.qualified_name = NEW.parent_qualified_name)"
_IS_LAST = (f"json_extract(NEW.attributes, '$.order') >= "
            f"json_extract({_PARENT.format('attributes')}, '$.columnCount')")
_LAST = f"coalesce({_IS_LAST}, 0)"
_ALONE = (f"CASE WHEN ({_IS_LAST}) IS NULL THEN 1 WHEN {_IS_LAST} THEN 0 "
          f"ELSE coalesce(NEW.created_at > {_PARENT.format('created_at')}, 1) END")
_NEW_COLUMN = "NEW.type_name = 'Column' AND NEW.status = 'ACTIVE'"
_INDEXED_CHANGE = f"""OLD.name IS NOT NEW.name OR OLD.status IS NOT NEW.status OR OLD.type_name IS NOT NEW.type_name
             OR OLD.parent_qualified_name IS NOT NEW.parent_qualified_name
             OR ({_description('OLD')}) IS NOT ({_description('NEW')})"""

_SQLITE = [
    """CREATE VIRTUAL TABLE assets_fts USING fts5(
           name, description, columns, tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3')""",
    # Its vocabulary, per column: where misspelt words find their nearest indexed name words.
    "CREATE VIRTUAL TABLE assets_fts_terms USING fts5vocab(assets_fts, 'col')",
    f"""CREATE TRIGGER assets_fts_insert AFTER INSERT ON assets WHEN NEW.type_name <> 'Column'
           BEGIN {_index('NEW')} END""",
    f"""CREATE TRIGGER assets_fts_insert_last_column AFTER INSERT ON assets WHEN {_NEW_COLUMN} AND {_LAST}
           BEGIN {_index_columns('NEW.parent_qualified_name')} {_reindex_parent('NEW.parent_qualified_name')} END""",
    f"""CREATE TRIGGER assets_fts_insert_lone_column AFTER INSERT ON assets
           WHEN {_NEW_COLUMN} AND {_ALONE}
           BEGIN {_index('NEW')} {_reindex_parent('NEW.parent_qualified_name')} END""",
    "CREATE TRIGGER assets_fts_delete AFTER DELETE ON assets BEGIN DELETE FROM assets_fts WHERE rowid = OLD.id; END",
    f"""CREATE TRIGGER assets_fts_delete_column AFTER DELETE ON assets WHEN OLD.type_name = 'Column'
           BEGIN {_reindex_parent('OLD.parent_qualified_name')} END""",
    # The crawl rewrites a row whenever any crawled attribute moved (a row count, say): index it again only
    # when what is indexed changed, which is far rarer and costs a few JSON reads instead of an FTS rewrite.
    f"""CREATE TRIGGER assets_fts_update AFTER UPDATE OF name, status, attributes, curated, type_name,
           parent_qualified_name ON assets WHEN {_INDEXED_CHANGE}
           BEGIN DELETE FROM assets_fts WHERE rowid = OLD.id; {_index('NEW')} END""",
    f"""CREATE TRIGGER assets_fts_update_column AFTER UPDATE OF name, status, parent_qualified_name ON assets
           WHEN NEW.type_name = 'Column' AND (OLD.name IS NOT NEW.name OR OLD.status IS NOT NEW.status
             OR OLD.parent_qualified_name IS NOT NEW.parent_qualified_name)
           BEGIN {_reindex_parent('OLD.parent_qualified_name')}
           {_reindex_parent('NEW.parent_qualified_name', 'OLD.parent_qualified_name IS NOT NEW.parent_qualified_name')}
           END""",
    # Assets crawled before this migration.
    f"""INSERT INTO assets_fts (rowid, name, description, columns)
           SELECT a.id, a.name, {_description('a')},
                  CASE WHEN a.type_name IN ('Table', 'View') THEN {_columns_of('a')} END
           FROM assets AS a WHERE a.status = 'ACTIVE'""",
    # Full-text ranking looks names up case-insensitively (exact, then prefix); type and state ride along
    # so the usual filters need no row reads.
    "CREATE INDEX ix_assets_lower_name ON assets (lower(name), type_name, status)",
]

# What SQLite's planner should assume about `assets` until ANALYZE measures the real catalog: rows per
# value of each index's leading columns, for a catalog of a million assets. Without them it takes any
# equality to be selective, and would read every active asset through the index led by `status`
# rather than a schema's few through the schema index. They are tuned so the plans of the usual
# searches stay right (see bench/search.py); a later ANALYZE replaces them with measurements.
_PLANNER_STATS = {
    "sqlite_autoindex_assets_1": "1000000 1",  # guid
    "sqlite_autoindex_assets_2": "1000000 1",  # qualified_name
    "ix_assets_connection_type_status": "1000000 100000 2000 2000",
    "ix_assets_schema_qualified_name": "1000000 2000",
    "ix_assets_parent_qualified_name": "1000000 20",
    # Types are skewed (columns are most of a catalog, connections a handful): estimating a type's rows
    # low keeps the planner on these indexes rather than scanning in id order, hoping to stop early.
    "ix_assets_type_name_name": "1000000 2000 20",
    "ix_assets_type_status_schema": "1000000 2000 2000 200",
    # Most assets are active, yet an estimate that high makes a qualifiedName prefix on this index look
    # worse than reading a whole type through the one above; a range here narrows far more in practice.
    "ix_assets_status_qualified_name": "1000000 20000 1 1",
    "ix_assets_lower_name": "1000000 20 20 20",
}


def _sqlite_planner_stats() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql("ANALYZE alembic_version")  # creates sqlite_stat1 if it is missing
    existing = set(bind.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'assets'").scalars())
    bind.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE tbl = 'assets'")
    for index, stat in _PLANNER_STATS.items():
        if index in existing:
            bind.exec_driver_sql("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('assets', ?, ?)", (index, stat))
    bind.exec_driver_sql("ANALYZE sqlite_schema")  # load them into this connection's planner


_NORMALISE = "regexp_replace({text}, '[^[:alnum:]]+', ' ', 'g')"
_VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, " + _NORMALISE.format(text="name") + "), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, " + _NORMALISE.format(
        text="coalesce(attributes ->> 'description', '') || ' ' || coalesce(curated ->> 'description', '') "
             "|| ' ' || coalesce(curated ->> 'userDescription', '')") + "), 'B')"
)


def _postgresql() -> None:
    # Words are what is left between runs of non-alphanumerics, as SQLite's unicode61 tokenizer sees them,
    # so both engines find the same assets ('customer_id' holds 'customer' and 'id').
    op.execute(f"ALTER TABLE assets ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({_VECTOR}) STORED")
    op.execute("CREATE INDEX ix_assets_search_vector ON assets USING gin (search_vector)")
    # Prefix filters on qualified names (LIKE 'x%') need an index that compares bytes.
    op.execute("CREATE INDEX ix_assets_qualified_name_pattern ON assets (qualified_name text_pattern_ops)")
    op.execute("CREATE INDEX ix_assets_lower_name ON assets (lower(name) text_pattern_ops)")
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError:
        return  # no typo tolerance without pg_trgm; everything else works
    # The extension may live in any schema: name its operator class explicitly.
    schema = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'").scalar_one()
    op.execute(f'CREATE INDEX ix_assets_name_trgm ON assets USING gin (lower(name) "{schema}".gin_trgm_ops)')


def upgrade() -> None:
    json = sa.JSON().with_variant(JSONB(), "postgresql")
    op.add_column("assets", sa.Column("curated", json, nullable=True))
    # What pyatlan and the UI filter on most, answered from these indexes without reading the (wide) rows:
    # type + state (facets on schema too), and state + qualifiedName prefix (+ type).
    op.create_index("ix_assets_type_status_schema", "assets", ["type_name", "status", "schema_qualified_name"])
    if op.get_bind().dialect.name == "sqlite":  # PostgreSQL combines its pattern index with the others
        op.create_index("ix_assets_status_qualified_name", "assets", ["status", "qualified_name", "type_name"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE:
            op.execute(statement)
        _sqlite_planner_stats()
    elif dialect == "postgresql":
        _postgresql()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("insert", "insert_last_column", "insert_lone_column", "delete", "delete_column", "update",
                        "update_column"):
            op.execute(f"DROP TRIGGER IF EXISTS assets_fts_{trigger}")
        op.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'assets'")  # 0004's planner estimates
        op.execute("DROP INDEX IF EXISTS ix_assets_lower_name")
        op.execute("DROP INDEX IF EXISTS ix_assets_status_qualified_name")
        op.execute("DROP TABLE IF EXISTS assets_fts_terms")
        op.execute("DROP TABLE IF EXISTS assets_fts")
    elif dialect == "postgresql":
        for index in ("ix_assets_name_trgm", "ix_assets_qualified_name_pattern", "ix_assets_search_vector",
                      "ix_assets_lower_name"):
            op.execute(f"DROP INDEX IF EXISTS {index}")
        op.execute("ALTER TABLE assets DROP COLUMN IF EXISTS search_vector")
    op.drop_index("ix_assets_type_status_schema", "assets")
    with op.batch_alter_table("assets") as batch:
        batch.drop_column("curated")
