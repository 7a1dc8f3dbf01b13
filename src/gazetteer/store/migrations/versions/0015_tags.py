"""Atlan tags: their definitions and the tags on assets (direct and propagated).

Revision ID: 0015
Revises: 0014

See gazetteer.store.schema (`tag_defs`, `asset_tags`), gazetteer.assets.tag_defs and gazetteer.assets.tagging.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = sa.JSON().with_variant(JSONB(), "postgresql")
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "tag_defs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("guid", sa.String(36), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("display_key", sa.String(64), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("options", json, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("updated_by", sa.String(255), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tag_defs"),
        sa.UniqueConstraint("guid", name="uq_tag_defs_guid"),
        sa.UniqueConstraint("name", name="uq_tag_defs_name"),
        sa.UniqueConstraint("display_key", name="uq_tag_defs_display_key"),
    )
    op.create_table(
        "asset_tags",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("asset_id", sa.Integer, sa.ForeignKey("assets.id", name="fk_asset_tags_asset_id_assets",
                                                        ondelete="CASCADE"), nullable=False),
        sa.Column("tag_id", sa.Integer, sa.ForeignKey("tag_defs.id", name="fk_asset_tags_tag_id_tag_defs",
                                                      ondelete="CASCADE"), nullable=False),
        sa.Column("source_asset_id", sa.Integer,
                  sa.ForeignKey("assets.id", name="fk_asset_tags_source_asset_id_assets", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("propagate", sa.Boolean, nullable=False),
        sa.Column("remove_on_delete", sa.Boolean, nullable=False),
        sa.Column("restrict_lineage", sa.Boolean, nullable=False),
        sa.Column("restrict_hierarchy", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_asset_tags"),
        sa.UniqueConstraint("asset_id", "tag_id", "source_asset_id",
                            name="uq_asset_tags_asset_id_tag_id_source_asset_id"),
    )
    op.create_index("ix_asset_tags_tag_id_asset_id", "asset_tags", ["tag_id", "asset_id"])
    op.create_index("ix_asset_tags_source_asset_id_tag_id", "asset_tags", ["source_asset_id", "tag_id"])


def downgrade() -> None:
    op.drop_table("asset_tags")
    op.drop_table("tag_defs")
