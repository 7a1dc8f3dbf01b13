"""Discovery: what people curate on assets, and full-text search structures.

Revision ID: 0004
Revises: 0003

* `assets.curated`: the attributes people edit (userDescription, owners, certificate, announcement...).
  A crawl never writes it, so a re-crawl cannot overwrite what people curated.
* SQLite: an FTS5 table `assets_fts` (rowid = assets.id) of active assets' `name` and `description` (the
  crawled description and the curated ones), kept in step by triggers, and `assets_fts_owner`, which maps
  each active column to its table (or view), so a table is found by the names of its columns without
  copying them into the table's row; `assets_fts_terms` is the vocabulary. unicode61 tokens
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


def _index(row: str) -> str:
    """Statements adding an active asset to the full-text index (and a column to its table's owners)."""
    return f"""
           INSERT INTO assets_fts (rowid, name, description)
               SELECT {row}.id, {row}.name, {_description(row)} WHERE {row}.status = 'ACTIVE';
           INSERT INTO assets_fts_owner (id, owner)
               SELECT {row}.id, p.id FROM assets AS p
               WHERE {row}.type_name = 'Column' AND {row}.status = 'ACTIVE'
                 AND p.qualified_name = {row}.parent_qualified_name;"""


def _unindex(row: str) -> str:
    return f"""
           DELETE FROM assets_fts WHERE rowid = {row}.id;
           DELETE FROM assets_fts_owner WHERE id = {row}.id;"""


_SQLITE = [
    """CREATE VIRTUAL TABLE assets_fts USING fts5(
           name, description, tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3')""",
    # Its vocabulary, per column: where misspelt words find their nearest indexed name words.
    "CREATE VIRTUAL TABLE assets_fts_terms USING fts5vocab(assets_fts, 'col')",
    # Column → its table or view: a narrow table, so mapping thousands of matching columns to their
    # tables costs one small lookup each (the assets rows are wide).
    "CREATE TABLE assets_fts_owner (id INTEGER PRIMARY KEY, owner INTEGER NOT NULL)",
    f"CREATE TRIGGER assets_fts_insert AFTER INSERT ON assets BEGIN {_index('NEW')} END",
    # A table written after its columns (the API may do that) adopts them.
    """CREATE TRIGGER assets_fts_adopt AFTER INSERT ON assets
           WHEN NEW.type_name IN ('Table', 'View') AND NEW.status = 'ACTIVE' BEGIN
           INSERT OR IGNORE INTO assets_fts_owner (id, owner)
               SELECT id, NEW.id FROM assets WHERE parent_qualified_name = NEW.qualified_name
               AND type_name = 'Column' AND status = 'ACTIVE';
       END""",
    f"CREATE TRIGGER assets_fts_delete AFTER DELETE ON assets BEGIN {_unindex('OLD')} END",
    # The crawl rewrites a row whenever any crawled attribute moved (a row count, say): re-index only when
    # what is indexed changed, which is far rarer and costs two JSON reads instead of an FTS rewrite.
    f"""CREATE TRIGGER assets_fts_update AFTER UPDATE OF name, status, attributes, curated, type_name,
           parent_qualified_name ON assets
           WHEN OLD.name IS NOT NEW.name OR OLD.status IS NOT NEW.status OR OLD.type_name IS NOT NEW.type_name
             OR OLD.parent_qualified_name IS NOT NEW.parent_qualified_name
             OR ({_description('OLD')}) IS NOT ({_description('NEW')}) BEGIN {_unindex('OLD')} {_index('NEW')}
       END""",
    # Assets crawled before this migration.
    f"""INSERT INTO assets_fts (rowid, name, description)
           SELECT a.id, a.name, {_description('a')} FROM assets AS a WHERE a.status = 'ACTIVE'""",
    """INSERT INTO assets_fts_owner (id, owner)
           SELECT c.id, p.id FROM assets AS c JOIN assets AS p ON p.qualified_name = c.parent_qualified_name
           WHERE c.type_name = 'Column' AND c.status = 'ACTIVE'""",
    # Full-text ranking looks names up case-insensitively (exact, then prefix); type and state ride along
    # so the usual filters need no row reads.
    "CREATE INDEX ix_assets_lower_name ON assets (lower(name), type_name, status)",
]

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
    # Type + state filters with facets on schema (what the UI and pyatlan send most) from the index alone.
    op.create_index("ix_assets_type_status_schema", "assets", ["type_name", "status", "schema_qualified_name"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE:
            op.execute(statement)
    elif dialect == "postgresql":
        _postgresql()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("assets_fts_insert", "assets_fts_adopt", "assets_fts_delete", "assets_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP INDEX IF EXISTS ix_assets_lower_name")
        op.execute("DROP TABLE IF EXISTS assets_fts_owner")
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
