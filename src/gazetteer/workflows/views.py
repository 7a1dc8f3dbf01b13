"""Workflows and runs as the core hands them out: typed values read straight from the tables.

The web UI reads these; the API renders them as Argo documents (`gazetteer.api.workflow_documents`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gazetteer.errors import GazetteerError, NotFound
from gazetteer.packages.base import WorkflowSpec
from gazetteer.packages.registry import package_named
from gazetteer.workflows.models import ACTIVE_PHASES, runs, workflows
from gazetteer.workflows.schedules import schedule_of

__all__ = ["ListedWorkflow", "RunView", "WorkflowView", "recent_runs", "run", "run_row", "run_view",
           "scheduled_workflows", "workflow", "workflow_row", "workflow_view", "workflows_by_connection"]

# A listing shows at most this many workflows, newest first.
MAX_LISTED = 1000
# How many warnings' context keys a report table has columns for.
_WARNING_KEYS = 6


@dataclass(frozen=True)
class RunView:
    """One run of a workflow: its phase, progress and, once it has one, the package's report."""

    name: str
    namespace: str
    uid: str
    workflow: str
    phase: str
    message: str | None
    progress: str  # "<done>/<total>" steps, as the runner writes it
    created: datetime
    started: datetime | None
    finished: datetime | None
    creator: str
    stop_requested: bool
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.phase in ACTIVE_PHASES

    @property
    def done(self) -> int:
        return self._steps[0]

    @property
    def total(self) -> int:
        return self._steps[1]

    @property
    def _steps(self) -> tuple[int, int]:
        done, _, total = self.progress.partition("/")
        try:
            return max(0, int(done)), max(1, int(total))
        except ValueError:
            return 0, 1

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return list(self.report.get("warnings") or [])

    @property
    def warning_keys(self) -> list[str]:
        """The context keys the warnings carry besides their message, in first-seen order."""
        keys = dict.fromkeys(key for warning in self.warnings for key in warning if key != "message")
        return list(keys)[:_WARNING_KEYS]


@dataclass(frozen=True)
class WorkflowView:
    """A live workflow: what the server assigned, and the stored document (its credential replaced by a guid)."""

    name: str
    namespace: str
    uid: str
    package: str
    generation: int
    created: datetime
    updated: datetime
    creator: str
    connection_qn: str
    document: dict[str, Any]

    @cached_property
    def _spec(self) -> WorkflowSpec | None:
        # Parsed when first asked for (a search answer of many workflows needs none of it); frozen dataclasses
        # still let cached_property write the instance dict.
        try:
            return package_named(self.package).parse(self.document)
        except GazetteerError:
            return None

    @property
    def connection(self) -> dict[str, Any]:
        """The connection's attributes as the document names them (name, admins, query settings)."""
        return self._spec.connection if self._spec else {}

    @property
    def include(self) -> tuple[str, ...]:
        return self._filter("include")

    @property
    def exclude(self) -> tuple[str, ...]:
        return self._filter("exclude")

    def _filter(self, which: str) -> tuple[str, ...]:
        # The filters are the Glue package's; another package's workflow shows none.
        details = self._spec.details if self._spec else None
        return tuple(getattr(details, which, None) or ())

    @property
    def schedule(self) -> tuple[str, ZoneInfo] | None:
        """(cron, time zone) when the workflow is scheduled."""
        return schedule_of(self.document)


@dataclass(frozen=True)
class ListedWorkflow(WorkflowView):
    """A workflow in a listing, with its latest run (None before the first) and how many runs it has had."""

    latest: RunView | None
    run_count: int


def run_view(row: Any) -> RunView:
    """A `runs` row as a RunView."""
    return RunView(name=row.name, namespace=row.namespace, uid=row.uid, workflow=row.workflow_name, phase=row.phase,
                   message=row.message, progress=row.progress, created=row.created_at, started=row.started_at,
                   finished=row.finished_at, creator=row.created_by, stop_requested=bool(row.stop_requested),
                   report=row.report or {})


def _workflow_fields(row: Any) -> dict[str, Any]:
    return {"name": row.name, "namespace": row.namespace, "uid": row.uid, "package": row.package,
            "generation": row.generation, "created": row.created_at, "updated": row.updated_at,
            "creator": row.created_by, "connection_qn": row.connection_qualified_name, "document": row.document}


def workflow_view(row: Any) -> WorkflowView:
    """A `workflows` row as a WorkflowView."""
    return WorkflowView(**_workflow_fields(row))


def workflow_row(engine: Engine, name: str) -> Any:
    """The live (not archived) workflow's row; NotFound otherwise."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(workflows).where(workflows.c.name == name,
                                                      workflows.c.archived.is_(False))).first()
    if row is None:
        raise NotFound(f"Workflow {name!r} does not exist (find yours with POST /api/service/workflows/indexsearch)")
    return row


def run_row(engine: Engine, name: str) -> Any:
    """The run's row; NotFound otherwise (a run outlives its workflow's archiving)."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(runs).where(runs.c.name == name)).first()
    if row is None:
        raise NotFound(f"Run {name!r} does not exist")
    return row


def workflow(engine: Engine, name: str) -> WorkflowView:
    return workflow_view(workflow_row(engine, name))


def run(engine: Engine, name: str) -> RunView:
    return run_view(run_row(engine, name))


def recent_runs(engine: Engine, workflow_name: str, *, page: int, size: int) -> tuple[list[RunView], int]:
    """One page (from 1) of a workflow's runs, newest first, and how many it has in all."""
    of_workflow = runs.c.workflow_name == workflow_name
    with engine.connect() as conn:
        rows = conn.execute(sa.select(runs).where(of_workflow).order_by(runs.c.created_at.desc(), runs.c.id.desc())
                            .offset((page - 1) * size).limit(size)).all()
        total = conn.execute(sa.select(sa.func.count()).select_from(runs).where(of_workflow)).scalar()
    return [run_view(row) for row in rows], int(total or 0)


def _live_workflows(engine: Engine, order: Any, limit: int | None = None) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(workflows).where(workflows.c.archived.is_(False))
                                 .order_by(*order).limit(limit)).all())


def scheduled_workflows(engine: Engine) -> list[WorkflowView]:
    """Every live workflow that has a schedule, by name."""
    found = (workflow_view(row) for row in _live_workflows(engine, [workflows.c.name]))
    return [view for view in found if view.schedule is not None]


def _listed(engine: Engine) -> list[ListedWorkflow]:
    """The live workflows, newest first, each with its latest run: two queries however many there are."""
    rows = _live_workflows(engine, [workflows.c.created_at.desc(), workflows.c.id.desc()], MAX_LISTED)
    of = runs.c.workflow_name
    ranked = sa.select(
        runs,
        sa.func.row_number().over(partition_by=of, order_by=(runs.c.created_at.desc(), runs.c.id.desc()))
        .label("newest"),
        sa.func.count().over(partition_by=of).label("run_count"),
    ).where(of.in_([row.name for row in rows])).subquery()
    with engine.connect() as conn:
        latest = {found.workflow_name: found for found in conn.execute(sa.select(ranked).where(ranked.c.newest == 1))}
    listed = []
    for row in rows:
        found = latest.get(row.name)
        listed.append(ListedWorkflow(**_workflow_fields(row), latest=run_view(found) if found else None,
                                     run_count=found.run_count if found else 0))
    return listed


def workflows_by_connection(engine: Engine) -> dict[str, list[ListedWorkflow]]:
    """Connection qualified name → its live workflows (newest first), each with its latest run."""
    out: dict[str, list[ListedWorkflow]] = {}
    for listed in _listed(engine):
        out.setdefault(listed.connection_qn, []).append(listed)
    return out
