"""Runs of app workflows as Atlas `AppWorkflowRun` entities, for the asset search (POST /api/meta/search/indexsearch).

What for: pyatlan 11's `client.app.submit(slug, idempotent=True)` asks the asset search whether the workflow has
a run Pending or Running (an `AppWorkflowRun` whose qualifiedName starts with
`default/apps/automation_engine/workflows/<slug>/`) and refuses to submit if so. Runs live in the workflow
tables, not among the assets: a search filtered to that type is answered from them, through the same query
compiler, with the run's app status (`gazetteer.workflows.apps.app_status`).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gazetteer.api.entities import entity_header
from gazetteer.api.workflow_search import ColumnResolver
from gazetteer.assets.views import AssetView, epoch_ms
from gazetteer.errors import InvalidRequest
from gazetteer.search import Bool, Query, ResolvedField, SearchRequest, Term, Terms, apply_search
from gazetteer.workflows.apps import APP_ID, app_status_sql, runs_of_apps

__all__ = ["RUN_TYPE", "asks_for_app_runs", "search_app_runs"]

RUN_TYPE = "AppWorkflowRun"
_QN_PREFIX = "default/apps/automation_engine/workflows/"


def _names_run_type(clause: Query) -> bool:
    if isinstance(clause, Term):
        field, values = clause.field, [clause.value]
    elif isinstance(clause, Terms):
        field, values = clause.field, list(clause.values)
    else:
        return False
    return field.removesuffix(".keyword") == "__typeName" and {str(v).lower() for v in values} == {RUN_TYPE.lower()}


def asks_for_app_runs(query: Query) -> bool:
    """Whether the query only wants AppWorkflowRun entities (a term on `__typeName`, alone or among the bool's
    filter and must clauses)."""
    clauses = (*query.filter, *query.must) if isinstance(query, Bool) else (query,)
    return any(_names_run_type(clause) for clause in clauses)


def _source() -> tuple[Any, ColumnResolver]:
    """The runs of app workflows with their Atlas attributes as columns, and the fields searches may name."""
    runs = runs_of_apps().subquery()
    rows = sa.select(
        runs.c.id, runs.c.name, runs.c.uid, runs.c.workflow_name, runs.c.app_name, runs.c.created_by,
        runs.c.created_at, runs.c.started_at, runs.c.finished_at,
        # Constants as SQL text, not bound parameters, so that PostgreSQL knows their type inside lower().
        sa.literal_column(f"'{RUN_TYPE}'", sa.String).label("type_name"),
        sa.literal_column("'ACTIVE'", sa.String).label("state"),
        (sa.literal_column(f"'{_QN_PREFIX}'", sa.String) + runs.c.workflow_name + sa.literal_column("'/'", sa.String)
         + runs.c.name).label("qualified_name"),
        app_status_sql(runs.c.phase, runs.c.stop_requested).label("status"),
    ).subquery()
    text = ResolvedField

    def moment(column: Any) -> ResolvedField:
        return ResolvedField(column, kind="datetime")

    return rows, ColumnResolver({
        "__typeName": ResolvedField(rows.c.type_name, case_insensitive=True),
        "__state": text(rows.c.state),
        "__guid": text(rows.c.uid),
        "__timestamp": moment(rows.c.created_at),
        "qualifiedName": text(rows.c.qualified_name),
        "name": text(rows.c.name),
        "appWorkflowRunStatus": text(rows.c.status),
        "appWorkflowRunAppWorkflowSlug": text(rows.c.workflow_name),
        "appWorkflowRunAppWorkflowName": text(rows.c.app_name),
        "appWorkflowRunStartedBy": text(rows.c.created_by),
        "appWorkflowRunStartedAt": moment(rows.c.started_at),
        "appWorkflowRunCompletedAt": moment(rows.c.finished_at),
    }, RUN_TYPE)


def _entity(row: Any, wanted: list[str]) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "appWorkflowRunStatus": row.status, "appWorkflowRunAppWorkflowSlug": row.workflow_name,
        "appWorkflowRunAppWorkflowName": row.app_name, "appWorkflowRunAppName": APP_ID,
        "appWorkflowRunStartedBy": row.created_by,
    }
    if row.started_at is not None:
        attributes["appWorkflowRunStartedAt"] = epoch_ms(row.started_at)
    if row.finished_at is not None:
        attributes["appWorkflowRunCompletedAt"] = epoch_ms(row.finished_at)
    run = AssetView(guid=row.uid, type_name=RUN_TYPE, qualified_name=row.qualified_name, name=row.name,
                    status=row.state, attributes=attributes, created_by=row.created_by, updated_by=row.created_by,
                    created_at=row.created_at, updated_at=row.finished_at or row.started_at or row.created_at)
    return entity_header(run, wanted)


def search_app_runs(engine: Engine, request: SearchRequest, wanted: list[str]) -> tuple[int, list[dict[str, Any]]]:
    """How many runs of app workflows match, and the page asked for as entity headers."""
    if request.aggregations:
        raise InvalidRequest(f"Aggregations are not supported on {RUN_TYPE}")
    rows, resolver = _source()
    query = apply_search(sa.select(rows), request, resolver, tiebreakers=[rows.c.id])
    with engine.connect() as conn:
        page = conn.execute(query).all()
        total = conn.execute(sa.select(sa.func.count()).select_from(
            query.order_by(None).offset(None).limit(None).subquery())).scalar()
    return int(total or 0), [_entity(row, wanted) for row in page]
