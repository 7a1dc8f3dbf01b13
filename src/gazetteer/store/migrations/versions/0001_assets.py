"""The assets table.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = sa.JSON().with_variant(JSONB(), "postgresql")
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "assets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("guid", sa.String(36), nullable=False),
        sa.Column("type_name", sa.String(64), nullable=False),
        sa.Column("qualified_name", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="ACTIVE"),
        sa.Column("connection_qualified_name", sa.Text, nullable=False),
        sa.Column("schema_qualified_name", sa.Text, nullable=True),
        sa.Column("parent_qualified_name", sa.Text, nullable=True),
        sa.Column("attributes", json, nullable=False),
        sa.Column("content_hash", sa.String(32), nullable=False),
        sa.Column("source_hash", sa.String(32), nullable=True),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False, server_default="gazetteer"),
        sa.Column("updated_by", sa.String(255), nullable=False, server_default="gazetteer"),
        sa.PrimaryKeyConstraint("id", name="pk_assets"),
        sa.UniqueConstraint("guid", name="uq_assets_guid"),
        sa.UniqueConstraint("qualified_name", name="uq_assets_qualified_name"),
    )
    op.create_index("ix_assets_connection_type_status", "assets",
                    ["connection_qualified_name", "type_name", "status"])
    op.create_index("ix_assets_schema_qualified_name", "assets", ["schema_qualified_name"])
    op.create_index("ix_assets_parent_qualified_name", "assets", ["parent_qualified_name"])
    op.create_index("ix_assets_type_name_name", "assets", ["type_name", "name"])


def downgrade() -> None:
    op.drop_table("assets")
