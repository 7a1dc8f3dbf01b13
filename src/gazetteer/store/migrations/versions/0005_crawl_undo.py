"""The crawl undo log: a crawl that fails leaves the catalog as it was.

Revision ID: 0005
Revises: 0004

`crawl_undo` holds, per unfinished crawl, the crawl-owned columns of each asset it rewrote, as they were
before, and the id ranges of the assets it created (see gazetteer.store.schema).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = sa.JSON().with_variant(JSONB(), "postgresql")
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "crawl_undo",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("crawl", sa.String(255), nullable=False),
        sa.Column("asset_id", sa.Integer, nullable=False),
        sa.Column("created_through", sa.Integer, nullable=True),
        sa.Column("type_name", sa.String(64), nullable=True),
        sa.Column("name", sa.Text, nullable=True),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("connection_qualified_name", sa.Text, nullable=True),
        sa.Column("schema_qualified_name", sa.Text, nullable=True),
        sa.Column("parent_qualified_name", sa.Text, nullable=True),
        sa.Column("attributes", json, nullable=True),
        sa.Column("content_hash", sa.String(32), nullable=True),
        sa.Column("source_hash", sa.String(32), nullable=True),
        sa.Column("updated_at", ts, nullable=True),
        sa.Column("updated_by", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_crawl_undo"),
    )
    op.create_index("ix_crawl_undo_crawl_asset_id", "crawl_undo", ["crawl", "asset_id"])


def downgrade() -> None:
    op.drop_table("crawl_undo")
