"""History and webhooks: an append-only event per change to an asset, webhook subscriptions and their outbox.

Revision ID: 0014
Revises: 0013

`asset_events` is written in the same transaction as the change it records (a crawl page, an edit), and
`webhook_deliveries` in the same transaction as what it tells of (a crawl's commit, a run's end), so neither is
lost when a process dies in between. See gazetteer.assets.history and gazetteer.webhooks.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = sa.JSON().with_variant(JSONB(), "postgresql")
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "asset_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", ts, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("asset_guid", sa.String(36), nullable=False),
        sa.Column("type_name", sa.String(64), nullable=False),
        sa.Column("qualified_name", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("connection_qualified_name", sa.Text, nullable=False),
        sa.Column("table_qualified_name", sa.Text, nullable=True),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("agent", sa.String(16), nullable=False),
        sa.Column("run", sa.String(255), nullable=True),
        sa.Column("changes", json, nullable=True),
        sa.Column("diff", json, nullable=True),
        sa.Column("breaking", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("affected", json, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_asset_events"),
    )
    for columns in (("asset_guid", "id"), ("qualified_name", "id"), ("table_qualified_name", "id"), ("run", "id"),
                    ("connection_qualified_name", "id"), ("actor", "id"), ("at",)):
        op.create_index(f"ix_asset_events_{'_'.join(columns)}", "asset_events", list(columns))
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("guid", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("format", sa.String(16), nullable=False, server_default="json"),
        sa.Column("connection_qualified_name", sa.Text, nullable=True),
        sa.Column("asset_types", json, nullable=True),
        sa.Column("events", json, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhooks"),
        sa.UniqueConstraint("guid", name="uq_webhooks_guid"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("webhook_id", sa.Integer, nullable=False),
        sa.Column("event_kind", sa.String(32), nullable=False),
        sa.Column("event_key", sa.String(64), nullable=False),
        sa.Column("body", json, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", ts, nullable=False),
        sa.Column("claimed_until", ts, nullable=True),
        sa.Column("last_status", sa.Integer, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("delivered_at", ts, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
        sa.UniqueConstraint("event_key", name="uq_webhook_deliveries_event_key"),
        sa.ForeignKeyConstraint(["webhook_id"], ["webhooks.id"], name="fk_webhook_deliveries_webhook_id_webhooks",
                                ondelete="CASCADE"),
    )
    op.create_index("ix_webhook_deliveries_status_next_attempt_at", "webhook_deliveries",
                    ["status", "next_attempt_at"])
    op.create_index("ix_webhook_deliveries_webhook_id_id", "webhook_deliveries", ["webhook_id", "id"])


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
    op.drop_table("asset_events")
