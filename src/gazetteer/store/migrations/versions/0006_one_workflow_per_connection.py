"""At most one live (not archived) workflow per connection.

Revision ID: 0006
Revises: 0005

Two live workflows crawling one connection would overwrite each other's connection settings and archive
each other's tables. The service refuses the second one; this index makes two concurrent creates unable to
both get through. Catalogs made before the rule may hold such pairs already: the later workflow of each
pair is archived (its runs and the connection's assets stay), which is what the service would have refused.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)


def upgrade() -> None:
    bind = op.get_bind()
    later = bind.execute(sa.text(
        "SELECT w.id, w.name, w.connection_qualified_name FROM workflows w WHERE NOT w.archived AND EXISTS ("
        " SELECT 1 FROM workflows o WHERE NOT o.archived AND o.connection_qualified_name = w.connection_qualified_name"
        " AND (o.created_at < w.created_at OR (o.created_at = w.created_at AND o.id < w.id)))")).all()
    for row in later:
        log.warning("archiving workflow %s: another workflow already crawls connection %s",
                    row.name, row.connection_qualified_name)
        bind.execute(sa.text("UPDATE workflows SET archived = :yes WHERE id = :id"), {"yes": True, "id": row.id})
    op.create_index("ux_workflows_live_connection", "workflows", ["connection_qualified_name"], unique=True,
                    sqlite_where=sa.text("NOT archived"), postgresql_where=sa.text("NOT archived"))


def downgrade() -> None:
    op.drop_index("ux_workflows_live_connection", table_name="workflows")
