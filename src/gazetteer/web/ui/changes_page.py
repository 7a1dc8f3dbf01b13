"""The catalog's Changes page (`/changes`), a crawl's plan (`POST /workflows/{name}/plan`), and the link from a
qualified name to its asset (`/assets/by-name?qn=`) that reports use for what a change affects downstream.

The Changes page lists the visible events of the whole catalog, newest first, filtered by connection, kind of
asset, action, breaking only and run; "Older changes" pages by event id (never OFFSET). Column events show only
when the kind asked for is Column: a crawl's column changes are in their table's diff.

A plan is what a run of the workflow would create, update and archive, worked out from Glue without writing
anything (the workflow service's `plan`, gazetteer.packages.glue.crawl.plan_crawl); it lists the changes as a
run report does (`_run_changes.html`). With htmx the plan appears on the workflow page under its Plan button;
without, as a page of its own.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from gazetteer.assets.browse import active_connections
from gazetteer.assets.changes import MAX_CHANGES_PAGE, catalog_changes, names_of
from gazetteer.assets.history import ACTIONS
from gazetteer.assets.records import ASSET_TYPES
from gazetteer.auth.permissions import Action
from gazetteer.errors import InvalidRequest, NotFound
from gazetteer.web.ui.change_format import ACTION_LABELS, run_workflows
from gazetteer.web.ui.error_pages import missing_workflow
from gazetteer.web.ui.routing import UserDep, is_htmx, read_engine, render, router
from gazetteer.workflows import views

__all__ = ["PAGE_SIZE"]

PAGE_SIZE = 50
_LONGEST = 1000  # a filter value longer than any qualified name or run name is nonsense


def _filters(connection: str, kind: str, action: str, breaking: str, run: str, before: str) -> dict[str, Any]:
    """The Changes page's filters, checked; InvalidRequest says what is accepted."""
    if any(len(value) > _LONGEST for value in (connection, kind, action, run, before)):
        raise InvalidRequest("A filter of the Changes page is too long.")
    if kind and kind not in ASSET_TYPES:
        raise InvalidRequest(f"{kind[:40]!r} is not a kind of asset: choose one of {', '.join(ASSET_TYPES)}.")
    if action and action not in ACTIONS:
        raise InvalidRequest(f"{action[:40]!r} is not an action: choose one of {', '.join(ACTIONS)}.")
    if before and not (before.isascii() and before.isdigit() and len(before) <= 18):
        raise InvalidRequest(f"{before[:40]!r} is not a place in the list of changes: follow “Older changes”.")
    return {"connection": connection.strip(), "kind": kind, "action": action,
            "breaking": breaking in ("1", "true", "on", "yes"), "run": run.strip(),
            "before": int(before) if before else None}


@router.get("/changes")
def changes_page(request: Request, user: UserDep, connection: str = "", kind: str = "", action: str = "",
                 breaking: str = "", run: str = "", before: str = "") -> Response:
    engine = read_engine(request)
    connections = [(item.qualified_name, item.name) for item in active_connections(engine)]
    context: dict[str, Any] = {"connections": connections, "kinds": ASSET_TYPES, "actions": ACTION_LABELS,
                               "events": (), "older": None, "error": None, "workflows": {}, "names": {},
                               "filters": {"connection": connection[:_LONGEST], "kind": kind[:40],
                                           "action": action[:40], "breaking": breaking in ("1", "true", "on"),
                                           "run": run[:_LONGEST], "before": None}}
    try:
        filters = _filters(connection, kind, action, breaking, run, before)
    except InvalidRequest as exc:
        return render(request, "changes.html", {**context, "error": exc.message}, status=exc.status_code)
    context["filters"] = filters
    with engine.connect() as conn:
        found = catalog_changes(conn, connection=filters["connection"] or None, type_name=filters["kind"] or None,
                                action=filters["action"] or None, breaking=filters["breaking"],
                                run=filters["run"] or None, before_id=filters["before"], size=PAGE_SIZE)
        runs = [event.run for event in found.events] + [filters["run"]]
        context.update(events=found.events, workflows=run_workflows(conn, runs),
                       names=names_of(conn, [name for event in found.events for name in event.affected]))
    kept = {key: value for key, value in (("connection", filters["connection"]), ("kind", filters["kind"]),
                                          ("action", filters["action"]), ("run", filters["run"]),
                                          ("breaking", "1" if filters["breaking"] else "")) if value}
    if found.older is not None:
        context["older"] = "/changes?" + urlencode({**kept, "before": found.older})
    if filters["before"] is not None:
        context["newest"] = "/changes" + ("?" + urlencode(kept) if kept else "")
    context["connection_names"] = dict(connections)
    context["page_size"] = min(PAGE_SIZE, MAX_CHANGES_PAGE)
    return render(request, "changes.html", context)


@router.get("/assets/by-name")
def asset_by_name(request: Request, user: UserDep, qn: str = "") -> Response:
    """The asset with this qualified name (what a report names downstream), or the not-found page."""
    if not qn or len(qn) > 4000:
        raise NotFound("Give the qualified name of an asset (qn=…).")
    with read_engine(request).connect() as conn:
        found = names_of(conn, [qn]).get(qn)
    if found is None:
        raise NotFound(f"The catalog holds no asset named {qn[:200]!r} (it may have been removed since).")
    return RedirectResponse(f"/assets/{found[0]}", status_code=303)


def _report(found: Any) -> dict[str, Any]:
    """The plan as a crawl report's dict, whatever the service hands back."""
    if hasattr(found, "to_dict"):
        return dict(found.to_dict())
    if hasattr(found, "report"):
        return dict(found.report or {})
    return dict(found or {})


@router.post("/workflows/{name}/plan")
def plan(request: Request, user: UserDep, name: str) -> Response:
    """What a run of the workflow would change now, from Glue, without writing anything."""
    engine = request.app.state.engine
    with missing_workflow(name):
        workflow = views.workflow(engine, name)
    report = _report(request.app.state.workflows.plan(name, user))
    history = report.get("history") or {}
    may_run = bool(request.app.state.workflows.may(user, Action.RUN_WORKFLOW, name))
    context = {"workflow": workflow, "report": report, "history": history, "plan": True, "may_run": may_run,
               "breaking": history.get("breaking", 0)}
    return render(request, "_plan.html" if is_htmx(request) else "plan.html", context)
