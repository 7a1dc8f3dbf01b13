"""Connections and workflows (`/workflows`, `/workflows/{name}`): runs with live progress, reports, re-run, stop."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from gazetteer.assets.browse import active_connections, asset_named
from gazetteer.auth.permissions import Action
from gazetteer.auth.principal import Principal
from gazetteer.errors import NotFound
from gazetteer.web.ui.error_pages import missing_run, missing_workflow
from gazetteer.web.ui.routing import UserDep, is_htmx, render, role_names, router
from gazetteer.workflows import views

RUNS_PAGE = 20


@router.get("/workflows")
def workflows_page(request: Request, user: UserDep) -> Response:
    engine = request.app.state.engine
    by_connection = views.workflows_by_connection(engine)
    connections = [{"guid": connection.guid, "name": connection.name, "qn": connection.qualified_name,
                    "workflows": by_connection.pop(connection.qualified_name, [])}
                   for connection in active_connections(engine)]
    orphans = [workflow for workflows in by_connection.values() for workflow in workflows]
    return render(request, "workflows.html", {"connections": connections, "orphans": orphans})


def _may_run(request: Request, user: Principal, workflow_name: str) -> bool:
    return bool(request.app.state.workflows.may(user, Action.RUN_WORKFLOW, workflow_name))


@router.get("/workflows/{name}")
def workflow_page(request: Request, user: UserDep, name: str, page: int = 1) -> Response:
    engine = request.app.state.engine
    with missing_workflow(name):
        workflow = views.workflow(engine, name)
    page = max(1, page)
    runs, total = views.recent_runs(engine, name, page=page, size=RUNS_PAGE)
    connection = asset_named(engine, "Connection", workflow.connection_qn)
    return render(request, "workflow.html", {
        "workflow": workflow, "runs": runs, "total": total, "page": page,
        "pages": max(1, (total + RUNS_PAGE - 1) // RUNS_PAGE), "may_run": _may_run(request, user, name),
        "connection_guid": connection.guid if connection else None,
        "created": request.query_params.get("created") == "1", "role_names": role_names(engine),
    })


@router.get("/runs/{name}")
def run_fragment(request: Request, user: UserDep, name: str) -> Response:
    """One run as it is now: what the workflow page polls every second while the run is active."""
    with missing_run(name):
        run = views.run(request.app.state.engine, name)
    if not is_htmx(request):
        return RedirectResponse(f"/workflows/{run.workflow}#run-{name}", status_code=303)
    try:
        may_run = _may_run(request, user, run.workflow)
    except NotFound:  # archived since: the run still shows, without buttons
        may_run = False
    return render(request, "_run.html", {"run": run, "open": True, "may_run": may_run})


@router.post("/workflows/{name}/rerun")
def rerun(request: Request, user: UserDep, name: str) -> Response:
    """Start a new run of the workflow (it waits behind a run that is still going)."""
    with missing_workflow(name):
        run = request.app.state.workflows.rerun(name, user)
    return RedirectResponse(f"/workflows/{name}#run-{run.name}", status_code=303)


@router.post("/runs/{name}/stop")
def stop(request: Request, user: UserDep, name: str) -> Response:
    with missing_run(name):
        run = request.app.state.workflows.stop(name, user)
    return RedirectResponse(f"/workflows/{run.workflow}#run-{name}", status_code=303)
