"""Workflow templates and runs. Columns hold what searches filter and sort on; documents hold the rest."""

from __future__ import annotations

import sqlalchemy as sa

from gazetteer.store.schema import Json, Timestamp, metadata

__all__ = ["workflows", "runs", "PHASES", "ACTIVE_PHASES", "FINISHED_PHASES"]

# Exactly the phases pyatlan accepts; anything else breaks its parse of a whole search answer.
PHASES = ("Pending", "Running", "Succeeded", "Failed", "Error")
ACTIVE_PHASES = ("Pending", "Running")
FINISHED_PHASES = ("Succeeded", "Failed", "Error")

workflows = sa.Table(
    "workflows",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("namespace", sa.String(63), nullable=False, server_default="default"),
    sa.Column("uid", sa.String(36), nullable=False, unique=True),
    sa.Column("package", sa.String(255), nullable=False),
    sa.Column("connection_qualified_name", sa.Text, nullable=False),
    sa.Column("credential_guid", sa.String(36), nullable=True),
    sa.Column("document", Json, nullable=False),
    sa.Column("generation", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()),
    # The last cron tick a scheduler claimed (migration 0007): however many processes schedule, one fires it.
    sa.Column("scheduled_at", Timestamp, nullable=True),
    # The display name of a workflow made through the app API (migration 0011); NULL for the others.
    sa.Column("app_name", sa.String(255), nullable=True),
    # One live workflow per connection (migration 0006): two would undo each other's crawls.
    sa.Index("ux_workflows_live_connection", "connection_qualified_name", unique=True,
             sqlite_where=sa.text("NOT archived"), postgresql_where=sa.text("NOT archived")),
    # One live app workflow per display name (migration 0011): the app API finds and reuses workflows by name.
    sa.Index("ux_workflows_live_app_name", "app_name", unique=True,
             sqlite_where=sa.text("NOT archived"), postgresql_where=sa.text("NOT archived")),
)

runs = sa.Table(
    "workflow_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("uid", sa.String(36), nullable=False, unique=True),
    sa.Column("workflow_name", sa.String(255), nullable=False, index=True),
    # [workflow name, run name]: what a search on spec.workflowTemplateRef.name matches (see api.workflow_search).
    sa.Column("template_refs", Json, nullable=False),
    sa.Column("namespace", sa.String(63), nullable=False, server_default="default"),
    sa.Column("phase", sa.String(16), nullable=False),
    sa.Column("message", sa.Text, nullable=True),
    sa.Column("progress", sa.String(32), nullable=False, server_default="0/1"),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("started_at", Timestamp, nullable=True),
    sa.Column("finished_at", Timestamp, nullable=True),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("stop_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("report", Json, nullable=True),
    # The lease of a Running run (migration 0007): which worker holds it and until when. The holder renews it
    # while the run lives; an expired lease means the worker died, and any process may end the run.
    sa.Column("worker", sa.String(255), nullable=True),
    sa.Column("lease_expires_at", Timestamp, nullable=True),
    # When a Pending run was last handed to an executor: one whose message was lost is handed over again.
    sa.Column("dispatched_at", Timestamp, nullable=True),
    sa.Index("ix_workflow_runs_phase", "phase"),
    # At most one Running run per workflow, whichever process claims it (migration 0007).
    sa.Index("ux_workflow_runs_one_running", "workflow_name", unique=True,
             sqlite_where=sa.text("phase = 'Running'"), postgresql_where=sa.text("phase = 'Running'")),
)
