"""A running crawl's pages counted apart from the catalog's other writes.

Revision ID: 0010
Revises: 0009

`catalog_generation.pages` moves with each page a crawl commits before it ends; `generation` with every other
write to `assets` (edits, a crawl's end, a rollback). API processes never serve a cached answer older than
`generation`, and serve one older than `pages` for a few seconds only (see gazetteer.store.generation), so a
long crawl no longer empties the facet cache at every page.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("catalog_generation", sa.Column("pages", sa.BigInteger, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("catalog_generation") as batch:
        batch.drop_column("pages")
