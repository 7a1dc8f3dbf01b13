"""The catalog generation: a counter every write to `assets` moves, for caching search facets safely.

Revision ID: 0008
Revises: 0007

`catalog_generation` holds SLOTS rows (see gazetteer.store.generation); the catalog's generation is the
sum of their `generation`. Every writer of `assets` bumps one slot last in its transaction; API processes
key their cached facet counts by the sum, so a crawl or an edit committed anywhere is seen at once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SLOTS = 16  # as gazetteer.store.generation.SLOTS when this migration was written


def upgrade() -> None:
    table = op.create_table(
        "catalog_generation",
        sa.Column("slot", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("generation", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("slot", name="pk_catalog_generation"),
    )
    op.bulk_insert(table, [{"slot": slot, "generation": 0} for slot in range(SLOTS)])


def downgrade() -> None:
    op.drop_table("catalog_generation")
