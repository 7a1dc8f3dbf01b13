"""Workflow templates and their runs.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = sa.JSON().with_variant(JSONB(), "postgresql")
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "workflows",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("namespace", sa.String(63), nullable=False, server_default="default"),
        sa.Column("uid", sa.String(36), nullable=False, unique=True),
        sa.Column("package", sa.String(255), nullable=False),
        sa.Column("connection_qualified_name", sa.Text, nullable=False),
        sa.Column("credential_guid", sa.String(36), nullable=True),
        sa.Column("document", json, nullable=False),
        sa.Column("generation", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "workflow_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("uid", sa.String(36), nullable=False, unique=True),
        sa.Column("workflow_name", sa.String(255), nullable=False),
        sa.Column("template_refs", json, nullable=False),
        sa.Column("namespace", sa.String(63), nullable=False, server_default="default"),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("progress", sa.String(32), nullable=False, server_default="0/1"),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("started_at", ts, nullable=True),
        sa.Column("finished_at", ts, nullable=True),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("stop_requested", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("report", json, nullable=True),
    )
    op.create_index("ix_workflow_runs_workflow_name", "workflow_runs", ["workflow_name"])
    op.create_index("ix_workflow_runs_phase", "workflow_runs", ["phase"])


def downgrade() -> None:
    op.drop_table("workflow_runs")
    op.drop_table("workflows")
