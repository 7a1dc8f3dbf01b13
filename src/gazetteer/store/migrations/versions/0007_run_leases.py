"""Run leases, dispatch times, one Running run per workflow, and claimed schedule ticks.

Revision ID: 0007
Revises: 0006

Runs may execute in several processes (Celery workers, several API processes). What used to be kept in one
process's memory is kept here: the worker that holds a Running run and until when its lease runs
(`worker`, `lease_expires_at`), when a Pending run was last handed to an executor (`dispatched_at`), the
last cron tick a scheduler fired (`workflows.scheduled_at`), and a partial unique index that lets no two
runs of one workflow be Running at once. A catalog may hold such pairs from a crash of the in-process
executor's bookkeeping: all but the newest are ended as Error first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("workflow_runs", sa.Column("worker", sa.String(255), nullable=True))
    op.add_column("workflow_runs", sa.Column("lease_expires_at", Timestamp, nullable=True))
    op.add_column("workflow_runs", sa.Column("dispatched_at", Timestamp, nullable=True))
    op.add_column("workflows", sa.Column("scheduled_at", Timestamp, nullable=True))
    op.get_bind().execute(sa.text(
        "UPDATE workflow_runs SET phase = 'Error', message = 'Ended by an upgrade: another run of its workflow "
        "was running at the same time. Re-run the workflow.' WHERE phase = 'Running' AND EXISTS ("
        " SELECT 1 FROM workflow_runs o WHERE o.workflow_name = workflow_runs.workflow_name"
        " AND o.phase = 'Running' AND o.id > workflow_runs.id)"))
    op.create_index("ux_workflow_runs_one_running", "workflow_runs", ["workflow_name"], unique=True,
                    sqlite_where=sa.text("phase = 'Running'"), postgresql_where=sa.text("phase = 'Running'"))


def downgrade() -> None:
    op.drop_index("ux_workflow_runs_one_running", table_name="workflow_runs")
    with op.batch_alter_table("workflows") as batch:
        batch.drop_column("scheduled_at")
    with op.batch_alter_table("workflow_runs") as batch:
        batch.drop_column("dispatched_at")
        batch.drop_column("lease_expires_at")
        batch.drop_column("worker")
