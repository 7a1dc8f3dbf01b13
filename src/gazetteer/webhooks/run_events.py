"""run_succeeded and run_failed: what a run's end tells the webhooks, written in the transaction that ends it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from gazetteer.webhooks.outbox import enqueue

__all__ = ["enqueue_run_end"]

_REPORTED = ("counts", "changes", "warnings_total")  # of the run's report: what a receiver acts on, not the rest


def enqueue_run_end(conn: Connection, *, run: str, workflow: str, phase: str, message: str | None,
                    report: Mapping[str, Any] | None, connection_qualified_name: str | None,
                    started_at: datetime | None, finished_at: datetime | None) -> int:
    """Queue run_succeeded (phase Succeeded) or run_failed (Failed, Error) for the workflow's connection."""
    kind = "run_succeeded" if phase == "Succeeded" else "run_failed"
    report = report if isinstance(report, Mapping) else {}
    body = {"connectionQualifiedName": connection_qualified_name, "workflow": workflow, "run": run, "phase": phase,
            "message": message, "startedAt": started_at, "finishedAt": finished_at, "at": finished_at,
            **{key: report.get(key) for key in _REPORTED if key in report}}
    return enqueue(conn, kind, key=f"run-end:{run}", connection_qualified_name=connection_qualified_name, body=body)
