"""Lineage: an edge per input and output of every active Process and ColumnProcess, kept by triggers.

Revision ID: 0013
Revises: 0012

A Process (and a ColumnProcess, its column-level kind) keeps its `inputs` and `outputs` in its attributes as
Atlas references (`{"typeName", "guid", "uniqueAttributes": {"qualifiedName"}}`). Walking lineage from those
would read every process's JSON; `lineage_edges` indexes them by the qualified name they point at. Triggers
write it, so whatever changes a process (a crawl, the rollback of one, the API, an archive or a restore) keeps
the edges right without the writer knowing: an archived process has none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_TYPES = "('Process', 'ColumnProcess')"


def _sqlite_edges(when: str) -> str:
    """The statements that write a new row's edges, if `when` holds."""
    ref = "json_extract(e.value, '$.uniqueAttributes.qualifiedName')"
    return " ".join(
        f"INSERT INTO lineage_edges (process_id, asset_qualified_name, direction) "
        f"SELECT NEW.id, {ref}, '{direction}' FROM json_each(NEW.attributes, '$.{key}') AS e "
        f"WHERE {when} AND json_type(NEW.attributes, '$.{key}') = 'array' AND {ref} IS NOT NULL;"
        for direction, key in (("i", "inputs"), ("o", "outputs")))


_ACTIVE_PROCESS = f"NEW.type_name IN {_TYPES} AND NEW.status = 'ACTIVE'"
_SQLITE = (
    f"""CREATE TRIGGER assets_lineage_insert AFTER INSERT ON assets WHEN {_ACTIVE_PROCESS}
        BEGIN {_sqlite_edges("1")} END""",
    f"""CREATE TRIGGER assets_lineage_update AFTER UPDATE OF attributes, status, type_name ON assets
        WHEN NEW.type_name IN {_TYPES} OR OLD.type_name IN {_TYPES} BEGIN
            DELETE FROM lineage_edges WHERE process_id = OLD.id;
            {_sqlite_edges(_ACTIVE_PROCESS)}
        END""",
    f"""CREATE TRIGGER assets_lineage_delete AFTER DELETE ON assets WHEN OLD.type_name IN {_TYPES} BEGIN
            DELETE FROM lineage_edges WHERE process_id = OLD.id; END""",
)

_POSTGRESQL = (
    f"""CREATE FUNCTION gazetteer_lineage_edges() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            DELETE FROM lineage_edges WHERE process_id = OLD.id;
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.type_name IN {_TYPES} AND NEW.status = 'ACTIVE' THEN
            INSERT INTO lineage_edges (process_id, asset_qualified_name, direction)
            SELECT NEW.id, e.ref->'uniqueAttributes'->>'qualifiedName', d.direction
            FROM (VALUES ('i', 'inputs'), ('o', 'outputs')) AS d(direction, key),
                 LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(NEW.attributes->d.key) = 'array'
                                                   THEN NEW.attributes->d.key ELSE '[]'::jsonb END) AS e(ref)
            WHERE e.ref->'uniqueAttributes'->>'qualifiedName' IS NOT NULL;
        END IF;
        RETURN NULL;
    END $$""",
    f"""CREATE TRIGGER assets_lineage_insert AFTER INSERT ON assets FOR EACH ROW
        WHEN (NEW.type_name IN {_TYPES}) EXECUTE FUNCTION gazetteer_lineage_edges()""",
    f"""CREATE TRIGGER assets_lineage_update AFTER UPDATE OF attributes, status, type_name ON assets FOR EACH ROW
        WHEN (NEW.type_name IN {_TYPES} OR OLD.type_name IN {_TYPES}) EXECUTE FUNCTION gazetteer_lineage_edges()""",
    f"""CREATE TRIGGER assets_lineage_delete AFTER DELETE ON assets FOR EACH ROW
        WHEN (OLD.type_name IN {_TYPES}) EXECUTE FUNCTION gazetteer_lineage_edges()""",
)


def upgrade() -> None:
    op.create_table(
        "lineage_edges",
        sa.Column("process_id", sa.Integer, nullable=False),
        sa.Column("asset_qualified_name", sa.Text, nullable=False),
        sa.Column("direction", sa.String(1), nullable=False),
    )
    op.create_index("ix_lineage_edges_asset_qualified_name_direction", "lineage_edges",
                    ["asset_qualified_name", "direction"])
    op.create_index("ix_lineage_edges_process_id", "lineage_edges", ["process_id"])
    for statement in _SQLITE if op.get_bind().dialect.name == "sqlite" else _POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    for trigger in ("assets_lineage_insert", "assets_lineage_update", "assets_lineage_delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + ("" if op.get_bind().dialect.name == "sqlite"
                                                            else " ON assets"))
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS gazetteer_lineage_edges()")
    op.drop_table("lineage_edges")
