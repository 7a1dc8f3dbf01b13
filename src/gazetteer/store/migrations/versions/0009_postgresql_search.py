"""PostgreSQL search at scale: a narrow full-text table, and the indexes each query kind needs.

Revision ID: 0009
Revises: 0008

Full text moves from the generated `assets.search_vector` (migration 0004) to `asset_words`: one narrow row
per *active* asset, its words weighted A (name), B (descriptions) and, for a table or view, C (the names of
its active columns) — what SQLite's `assets_fts` row holds. A search's total is then one count over one GIN
index (no status filter on the wide rows, no join from matching columns to their tables, no duplicates to
remove), and a tier of the ranking is one lookup in an index of its own (`ts_filter` of its weights).
Triggers keep it current as SQLite's do: a table's column words are written with its last column when a
crawl writes them together, else at once.

Prefix filters on qualified names get indexes that answer them alone: `(qualified_name, status)` with the
byte-wise operator class (a prefix, with or without `__state`, and its count read from the index), and
`(type_name, status, qualified_name)` for a prefix of one type (a schema's tables: a range of exactly those
entries). They replace 0004's pattern index on `qualified_name` alone. Names get a byte-ordered index for
full text's prefix tier, and a table's columns one of `(parent, type, status)`. SQLite is unchanged.
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Words are what is left between runs of non-alphanumerics, as SQLite's unicode61 tokenizer sees them.
_FUNCTIONS = r"""
CREATE FUNCTION gazetteer_words(name text, attributes jsonb, curated jsonb, columns text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector('simple', regexp_replace(name, '[^[:alnum:]]+', ' ', 'g')), 'A')
      || setweight(to_tsvector('simple', regexp_replace(
             coalesce(attributes ->> 'description', '') || ' ' || coalesce(curated ->> 'description', '') || ' '
             || coalesce(curated ->> 'userDescription', ''), '[^[:alnum:]]+', ' ', 'g')), 'B')
      || setweight(to_tsvector('simple', regexp_replace(coalesce(columns, ''), '[^[:alnum:]]+', ' ', 'g')), 'C')
$$;

-- Index one asset again (or take it out when it is no longer active): its own words and, for a table or
-- view, its active columns' names.
CREATE FUNCTION gazetteer_index_asset(target integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO asset_words (asset_id, words)
    SELECT a.id, gazetteer_words(a.name, a.attributes, a.curated, CASE WHEN a.type_name IN ('Table', 'View') THEN
             (SELECT string_agg(c.name, ' ') FROM assets AS c WHERE c.parent_qualified_name = a.qualified_name
                AND c.type_name = 'Column' AND c.status = 'ACTIVE') END)
    FROM assets AS a WHERE a.id = target AND a.status = 'ACTIVE'
  ON CONFLICT ON CONSTRAINT pk_asset_words DO UPDATE SET words = EXCLUDED.words;
  IF NOT FOUND THEN
    DELETE FROM asset_words WHERE asset_id = target;
  END IF;
END $$;

CREATE FUNCTION gazetteer_index_parent(parent text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  parent_id integer;
BEGIN
  SELECT id INTO parent_id FROM assets WHERE qualified_name = parent AND type_name IN ('Table', 'View');
  IF parent_id IS NOT NULL THEN
    PERFORM gazetteer_index_asset(parent_id);
  END IF;
END $$;

-- A crawl inserts a table, then its columns, one statement each: indexing the table again with every
-- column would rewrite its words once per column. So a column written together with its table (same
-- created_at) indexes the table only when it is the last one (order >= the table's columnCount); a column
-- written later, or whose order or table's count is unknown, indexes its table at once.
CREATE FUNCTION gazetteer_words_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  parent record;
BEGIN
  IF NEW.status = 'ACTIVE' THEN
    PERFORM gazetteer_index_asset(NEW.id);
  END IF;
  IF NEW.type_name = 'Column' AND NEW.status = 'ACTIVE' AND NEW.parent_qualified_name IS NOT NULL THEN
    SELECT p.created_at, (p.attributes ->> 'columnCount') AS total INTO parent
      FROM assets AS p WHERE p.qualified_name = NEW.parent_qualified_name;
    IF NOT FOUND OR parent.total IS NULL OR NEW.attributes ->> 'order' IS NULL
       OR NEW.created_at > parent.created_at
       OR (NEW.attributes ->> 'order')::numeric >= parent.total::numeric THEN
      PERFORM gazetteer_index_parent(NEW.parent_qualified_name);
    END IF;
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION gazetteer_words_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM gazetteer_index_asset(NEW.id);
  IF OLD.type_name = 'Column' OR NEW.type_name = 'Column' THEN
    IF OLD.parent_qualified_name IS NOT NULL THEN
      PERFORM gazetteer_index_parent(OLD.parent_qualified_name);
    END IF;
    IF NEW.parent_qualified_name IS DISTINCT FROM OLD.parent_qualified_name
       AND NEW.parent_qualified_name IS NOT NULL THEN
      PERFORM gazetteer_index_parent(NEW.parent_qualified_name);
    END IF;
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION gazetteer_words_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM asset_words WHERE asset_id = OLD.id;
  IF OLD.type_name = 'Column' AND OLD.parent_qualified_name IS NOT NULL THEN
    PERFORM gazetteer_index_parent(OLD.parent_qualified_name);
  END IF;
  RETURN NULL;
END $$;
"""

# The crawl rewrites a row whenever any crawled attribute moved (a row count, say): index it again only when
# what is indexed changed, which is far rarer.
_INDEXED_CHANGE = """OLD.name IS DISTINCT FROM NEW.name OR OLD.status IS DISTINCT FROM NEW.status
    OR OLD.type_name IS DISTINCT FROM NEW.type_name
    OR OLD.parent_qualified_name IS DISTINCT FROM NEW.parent_qualified_name
    OR OLD.attributes -> 'description' IS DISTINCT FROM NEW.attributes -> 'description'
    OR OLD.curated -> 'description' IS DISTINCT FROM NEW.curated -> 'description'
    OR OLD.curated -> 'userDescription' IS DISTINCT FROM NEW.curated -> 'userDescription'"""

_UPGRADE = [
    """CREATE TABLE asset_words (asset_id integer NOT NULL, words tsvector NOT NULL,
           CONSTRAINT pk_asset_words PRIMARY KEY (asset_id))""",
    _FUNCTIONS,
    # Assets crawled before this migration, in one pass (a table's column names grouped once).
    """INSERT INTO asset_words (asset_id, words)
           SELECT a.id, gazetteer_words(a.name, a.attributes, a.curated, c.names)
           FROM assets AS a LEFT JOIN (
               SELECT parent_qualified_name, string_agg(name, ' ') AS names FROM assets
               WHERE type_name = 'Column' AND status = 'ACTIVE' GROUP BY parent_qualified_name
           ) AS c ON a.type_name IN ('Table', 'View') AND c.parent_qualified_name = a.qualified_name
           WHERE a.status = 'ACTIVE'""",
    "CREATE INDEX ix_asset_words_words ON asset_words USING gin (words)",
    # The ranking's tiers: all words in the name (A), in the name or descriptions (A, B), in the columns' names
    # (C). A weighted tsquery on `words` would find the same rows, but the GIN index cannot check weights (every
    # row with the words anywhere is read to be rechecked), and the planner estimates it as if unweighted: 2,109
    # rows expected for a name matching 17, so it walked the whole table in id order hoping to stop early.
    "CREATE INDEX ix_asset_words_name ON asset_words USING gin (ts_filter(words, '{a}'))",
    "CREATE INDEX ix_asset_words_own ON asset_words USING gin (ts_filter(words, '{a,b}'))",
    "CREATE INDEX ix_asset_words_columns ON asset_words USING gin (ts_filter(words, '{c}'))",
    # Word frequencies are skewed: with the default 100 most common words sampled, 'region & orde*' (199 hits in
    # names and descriptions) was estimated at 789, and the planner walked the primary key hoping to find a page
    # of them early (85 ms) instead of reading the 199 from the tier's index (8 ms).
    "ALTER TABLE asset_words ALTER COLUMN words SET STATISTICS 1000",
    *(f"ALTER INDEX {index} ALTER COLUMN 1 SET STATISTICS 1000"
      for index in ("ix_asset_words_name", "ix_asset_words_own", "ix_asset_words_columns")),
    "ANALYZE asset_words",  # planned from the start as what it is, not as an empty table
    """CREATE TRIGGER gazetteer_words_insert AFTER INSERT ON assets
           FOR EACH ROW EXECUTE FUNCTION gazetteer_words_insert()""",
    f"""CREATE TRIGGER gazetteer_words_update AFTER UPDATE ON assets
           FOR EACH ROW WHEN ({_INDEXED_CHANGE}) EXECUTE FUNCTION gazetteer_words_update()""",
    """CREATE TRIGGER gazetteer_words_delete AFTER DELETE ON assets
           FOR EACH ROW EXECUTE FUNCTION gazetteer_words_delete()""",
    "DROP INDEX ix_assets_search_vector",
    "ALTER TABLE assets DROP COLUMN search_vector",
    "CREATE INDEX ix_assets_qualified_name_status ON assets (qualified_name text_pattern_ops, status)",
    "CREATE INDEX ix_assets_type_status_qualified_name ON assets (type_name, status, qualified_name text_pattern_ops)",
    "DROP INDEX ix_assets_qualified_name_pattern",
    # Full text's "names starting with the text" tier reads names in byte order from here, stopping at the page
    # (0004's text_pattern_ops index finds them too, but not in that order: 'warehouse%' sorted 20,000 rows).
    'CREATE INDEX ix_assets_lower_name_bytes ON assets ((lower(name) COLLATE "C"), id) INCLUDE (status)',
    # A table's active columns (the triggers above, the entity page) as one range. With the parent alone in the
    # index, a table never analyzed (a first crawl, before refresh_statistics) was planned with
    # (type_name, status, ...) instead, which holds no parent: every column insert read all the columns so far,
    # and a load slowed from 12,500 to 1,300 rows/s at 10,000 assets, worse as it grew.
    "CREATE INDEX ix_assets_parent_type_status ON assets (parent_qualified_name, type_name, status)",
    "DROP INDEX ix_assets_parent_qualified_name",
]

_VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, regexp_replace(name, '[^[:alnum:]]+', ' ', 'g')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, regexp_replace(coalesce(attributes ->> 'description', '') || ' ' "
    "|| coalesce(curated ->> 'description', '') || ' ' || coalesce(curated ->> 'userDescription', ''), "
    "'[^[:alnum:]]+', ' ', 'g')), 'B')"
)  # 0004's, to put back on downgrade

_DOWNGRADE = [
    "CREATE INDEX ix_assets_parent_qualified_name ON assets (parent_qualified_name)",
    "DROP INDEX ix_assets_parent_type_status",
    "DROP INDEX ix_assets_lower_name_bytes",
    "CREATE INDEX ix_assets_qualified_name_pattern ON assets (qualified_name text_pattern_ops)",
    "DROP INDEX ix_assets_type_status_qualified_name",
    "DROP INDEX ix_assets_qualified_name_status",
    f"ALTER TABLE assets ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({_VECTOR}) STORED",
    "CREATE INDEX ix_assets_search_vector ON assets USING gin (search_vector)",
    "DROP TRIGGER gazetteer_words_delete ON assets",
    "DROP TRIGGER gazetteer_words_update ON assets",
    "DROP TRIGGER gazetteer_words_insert ON assets",
    "DROP TABLE asset_words",
    """DROP FUNCTION gazetteer_words_delete(), gazetteer_words_update(), gazetteer_words_insert(),
           gazetteer_index_parent(text), gazetteer_index_asset(integer), gazetteer_words(text, jsonb, jsonb, text)""",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _DOWNGRADE:
            op.execute(statement)
