"""Elasticsearch-style searches over workflows and runs (pyatlan's polls), through the shared query compiler."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gazetteer.api.workflow_documents import run_document, search_answer, workflow_document
from gazetteer.errors import InvalidRequest
from gazetteer.search import FieldResolver, FullText, ResolvedField, apply_search, parse_search_request
from gazetteer.workflows.models import runs, workflows
from gazetteer.workflows.views import run_view, workflow_view

__all__ = ["ColumnResolver", "search_workflows", "search_runs"]

MAX_PAGE = 1000


class ColumnResolver:
    """ES field names (with or without `.keyword`) → columns; anything else is refused by name."""

    def __init__(self, fields: dict[str, ResolvedField], what: str) -> None:
        self.fields = fields
        self.what = what

    def column(self, field: str) -> ResolvedField:
        found = self.fields.get(field.removesuffix(".keyword"))
        if found is None:
            known = ", ".join(sorted(self.fields))
            raise InvalidRequest(f"Unknown field {field!r} for {self.what} search; searchable fields: {known}")
        return found

    def full_text(self, node: FullText) -> Any:
        raise InvalidRequest(f"Full-text queries (match, multi_match) are not supported on {self.what}")


def _text(column: Any) -> ResolvedField:
    return ResolvedField(column)


def _time(column: Any) -> ResolvedField:
    return ResolvedField(column, kind="datetime")


_WORKFLOW_FIELDS = ColumnResolver({
    "_id": _text(workflows.c.name),
    "metadata.name": _text(workflows.c.name),
    "metadata.namespace": _text(workflows.c.namespace),
    "metadata.uid": _text(workflows.c.uid),
    "metadata.creationTimestamp": _time(workflows.c.created_at),
    "metadata.annotations.package.argoproj.io/name": _text(workflows.c.package),
    "spec.workflowMetadata.annotations.package.argoproj.io/name": _text(workflows.c.package),
}, "workflow")

_RUN_FIELDS = ColumnResolver({
    "_id": _text(runs.c.name),
    "metadata.name": _text(runs.c.name),
    "metadata.namespace": _text(runs.c.namespace),
    "metadata.uid": _text(runs.c.uid),
    "metadata.creationTimestamp": _time(runs.c.created_at),
    "metadata.labels.workflows.argoproj.io/phase": _text(runs.c.phase),
    "metadata.labels.workflows.argoproj.io/creator": _text(runs.c.created_by),
    "metadata.labels.workflows.argoproj.io/workflow-template": _text(runs.c.workflow_name),
    # A run's own name matches too: pyatlan's monitor(rerun_response) asks for the latest run "of" the run
    # name it was handed, and Atlan's Glue package page promises that a re-run's response can be monitored.
    "spec.workflowTemplateRef.name": ResolvedField(runs.c.template_refs, is_array=True),
    "status.phase": _text(runs.c.phase),
    "status.startedAt": _time(runs.c.started_at),
    "status.finishedAt": _time(runs.c.finished_at),
}, "run")


def _search(engine: Engine, body: Any, table: sa.Table, resolver: FieldResolver, visible: Any,
            to_document: Callable[[Any], dict[str, Any]], index: str) -> dict[str, Any]:
    started = time.perf_counter()
    request = parse_search_request(body, max_size=MAX_PAGE)
    query = apply_search(sa.select(table).where(visible), request, resolver, tiebreakers=[table.c.id.desc()])
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        matching = query.order_by(None).offset(None).limit(None).subquery()
        total = conn.execute(sa.select(sa.func.count()).select_from(matching)).scalar()
    documents = [to_document(row) for row in rows]
    return search_answer(index, documents, total or 0, int((time.perf_counter() - started) * 1000))


def search_workflows(engine: Engine, body: Any) -> dict[str, Any]:
    """The answer to POST /workflows/indexsearch: workflow templates that are not archived."""
    return _search(engine, body, workflows, _WORKFLOW_FIELDS, workflows.c.archived.is_(False),
                   lambda row: workflow_document(workflow_view(row)), "workflow-templates")


def search_runs(engine: Engine, body: Any) -> dict[str, Any]:
    """The answer to POST /runs/indexsearch: runs, visible from the moment they are created."""
    return _search(engine, body, runs, _RUN_FIELDS, sa.true(), lambda row: run_document(run_view(row)),
                   "workflow-runs")
