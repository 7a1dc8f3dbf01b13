"""Glossary terms assigned to assets (Atlan's `meanings`).

Revision ID: 0016
Revises: 0015

Glossaries, categories and terms are ordinary rows of `assets`; only which term is assigned to which asset
needs a table of its own, looked up both ways: an asset's terms (by its guid) and a term's assets (by the
term's guid). See gazetteer.assets.meanings.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "term_assignments",
        sa.Column("asset_guid", sa.String(36), nullable=False),
        sa.Column("term_guid", sa.String(36), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("asset_guid", "term_guid", name="pk_term_assignments"),
    )
    op.create_index("ix_term_assignments_term_guid", "term_assignments", ["term_guid"])


def downgrade() -> None:
    op.drop_table("term_assignments")
