"""App workflows: the display name Atlan's app API (pyatlan 11's `client.app`) gives a workflow.

Revision ID: 0011
Revises: 0010

A workflow created through `/api/service/v1/app` is a normal workflow that also has a display name; the app
API finds it by that name and refuses a second one of the same name (409, which pyatlan turns into "reuse the
existing workflow"). The index keeps names unique among live workflows even under concurrent creates; an
archived workflow frees its name. Workflows created through the Argo API have none (NULL, never a clash).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("workflows", sa.Column("app_name", sa.String(255), nullable=True))
    op.create_index("ux_workflows_live_app_name", "workflows", ["app_name"], unique=True,
                    sqlite_where=sa.text("NOT archived"), postgresql_where=sa.text("NOT archived"))


def downgrade() -> None:
    op.drop_index("ux_workflows_live_app_name", table_name="workflows")
    with op.batch_alter_table("workflows") as batch:
        batch.drop_column("app_name")
