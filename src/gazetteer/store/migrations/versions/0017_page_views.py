"""Page views and recency: a counter per asset page viewed, and an index on when assets of a type last changed.

Revision ID: 0017
Revises: 0014

`asset_views` is one small row per asset people have opened, bumped in place (gazetteer.assets.popularity); it is
kept out of `assets` so a view never rewrites an asset's row, its full-text index or the catalog's generation.
`ix_assets_type_status_updated_at` serves the home page's "recently changed" (the newest tables, the newest
views: one index range each, read backwards) and the search's sort by last change of a type.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "asset_views",
        sa.Column("asset_guid", sa.String(36), nullable=False),
        sa.Column("views", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("last_viewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("asset_guid", name="pk_asset_views"),
    )
    op.create_index("ix_asset_views_views", "asset_views", ["views"])
    op.create_index("ix_assets_type_status_updated_at", "assets", ["type_name", "status", "updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_assets_type_status_updated_at", "assets")
    op.drop_table("asset_views")
