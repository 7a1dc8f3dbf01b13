"""Connections and workflows (`/workflows`, `/workflows/{name}`): runs with live progress, reports, re-run, stop."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.engine import Engine

from gazetteer.assets.search import index_search
from gazetteer.auth.permissions import Action
from gazetteer.auth.principal import Principal
from gazetteer.errors import GazetteerError, NotFound
from gazetteer.packages.registry import parse_workflow
from gazetteer.web.ui.routing import UserDep, is_htmx, render, role_names, router
from gazetteer.workflows.search import search_runs, search_workflows

__all__ = ["workflows_by_connection", "run_view", "connection_workflows"]

RUNS_PAGE = 20
_TEMPLATE_LABEL = "metadata.labels.workflows.argoproj.io/workflow-template"
_NEWEST_FIRST = [{"metadata.creationTimestamp": {"order": "desc"}}]
_ACTIVE = ("Pending", "Running")


def _sources(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return [hit["_source"] for hit in answer.get("hits", {}).get("hits", [])]


def _total(answer: dict[str, Any]) -> int:
    return int(answer.get("hits", {}).get("total", {}).get("value") or 0)


def _progress(text: str | None) -> tuple[int, int]:
    done, _, total = (text or "0/1").partition("/")
    try:
        return max(0, int(done)), max(1, int(total))
    except ValueError:
        return 0, 1


def run_view(document: dict[str, Any]) -> dict[str, Any]:
    """A run document (Argo shape) as the templates show it."""
    status = document.get("status") or {}
    metadata = document.get("metadata") or {}
    phase = status.get("phase") or "Pending"
    done, total = _progress(status.get("progress"))
    report = status.get("report") or {}
    warnings = report.get("warnings") or []
    context_keys: list[str] = []
    for warning in warnings:
        for key in warning:
            if key != "message" and key not in context_keys:
                context_keys.append(key)
    return {
        "name": metadata.get("name"),
        "workflow": ((document.get("spec") or {}).get("workflowTemplateRef") or {}).get("name"),
        "phase": phase, "active": phase in _ACTIVE, "done": done, "total": total,
        "created": metadata.get("creationTimestamp"), "started": status.get("startedAt"),
        "finished": status.get("finishedAt"), "creator": (metadata.get("labels") or {}).get(
            "workflows.argoproj.io/creator"), "message": status.get("message"), "report": report,
        "warnings": warnings, "warning_keys": context_keys[:6],
        "stop_requested": (metadata.get("annotations") or {}).get("gazetteer.io/stop-requested") == "true",
    }


def _runs(engine: Engine, workflow: str, page: int = 1, size: int = RUNS_PAGE) -> tuple[list[dict[str, Any]], int]:
    answer = search_runs(engine, {"from": (page - 1) * size, "size": size, "sort": _NEWEST_FIRST,
                                  "query": {"term": {_TEMPLATE_LABEL: workflow}}})
    return [run_view(doc) for doc in _sources(answer)], _total(answer)


def _workflow_view(document: dict[str, Any]) -> dict[str, Any]:
    metadata = document.get("metadata") or {}
    try:
        parsed = parse_workflow(document)
        # The filters are the Glue package's; another package's workflow shows none.
        connection = parsed.connection
        include, exclude = getattr(parsed.details, "include", None), getattr(parsed.details, "exclude", None)
    except GazetteerError:
        connection, include, exclude = {}, None, None
    return {"name": metadata.get("name"), "created": metadata.get("creationTimestamp"),
            "connection": connection, "connection_qn": connection.get("qualifiedName"),
            "include": include or (), "exclude": exclude or ()}


def connection_workflows(engine: Engine) -> list[dict[str, Any]]:
    """Every workflow (newest first), with its connection's settings."""
    answer = search_workflows(engine, {"from": 0, "size": 1000, "sort": _NEWEST_FIRST,
                                       "query": {"match_all": {}}})
    return [_workflow_view(doc) for doc in _sources(answer)]


def workflows_by_connection(engine: Engine, *, with_runs: bool = True) -> dict[str, list[dict[str, Any]]]:
    """Connection qualified name → its workflows, each with its latest run."""
    out: dict[str, list[dict[str, Any]]] = {}
    for workflow in connection_workflows(engine):
        if with_runs:
            runs, count = _runs(engine, workflow["name"], size=1)
            workflow["latest"], workflow["run_count"] = (runs[0] if runs else None), count
        out.setdefault(workflow["connection_qn"] or "", []).append(workflow)
    return out


def _connections(engine: Engine) -> list[dict[str, Any]]:
    query = {"bool": {"filter": [{"term": {"__typeName.keyword": "Connection"}}, {"term": {"__state": "ACTIVE"}}]}}
    answer = index_search(engine, {"dsl": {"from": 0, "size": 1000, "query": query,
                                           "sort": [{"name.keyword": {"order": "asc"}}]},
                                   "attributes": ["adminUsers", "adminGroups", "adminRoles", "connectorName",
                                                  "allowQuery", "allowQueryPreview", "rowLimit"]})
    return [{"guid": e["guid"], "name": e["attributes"]["name"], "qn": e["attributes"]["qualifiedName"],
             "attributes": e["attributes"]} for e in answer.get("entities", [])]


@router.get("/workflows")
def workflows_page(request: Request, user: UserDep) -> Response:
    engine = request.app.state.engine
    by_connection = workflows_by_connection(engine)
    connections = _connections(engine)
    for connection in connections:
        connection["workflows"] = by_connection.pop(connection["qn"], [])
    orphans = [workflow for workflows in by_connection.values() for workflow in workflows]
    return render(request, "workflows.html", {"connections": connections, "orphans": orphans})


def _connection_guid(engine: Engine, qualified_name: str | None) -> str | None:
    if not qualified_name:
        return None
    query = {"bool": {"filter": [{"term": {"qualifiedName": qualified_name}},
                                 {"term": {"__typeName.keyword": "Connection"}}]}}
    hits = index_search(engine, {"dsl": {"from": 0, "size": 1, "query": query}}).get("entities") or []
    return hits[0]["guid"] if hits else None


def _may_run(request: Request, user: Principal, workflow: dict[str, Any]) -> bool:
    if not workflow["name"]:  # archived: the run still shows, without buttons
        return False
    return bool(request.app.state.workflows.may(user, Action.RUN_WORKFLOW, workflow["name"]))


@router.get("/workflows/{name}")
def workflow_page(request: Request, user: UserDep, name: str, page: int = 1) -> Response:
    engine = request.app.state.engine
    workflow = _workflow_view(request.app.state.workflows.get_workflow(name))
    page = max(1, page)
    runs, total = _runs(engine, name, page)
    return render(request, "workflow.html", {
        "workflow": workflow, "runs": runs, "total": total, "page": page,
        "pages": max(1, (total + RUNS_PAGE - 1) // RUNS_PAGE), "may_run": _may_run(request, user, workflow),
        "connection_guid": _connection_guid(engine, workflow["connection_qn"]),
        "created": request.query_params.get("created") == "1", "role_names": role_names(engine),
    })


@router.get("/runs/{name}")
def run_fragment(request: Request, user: UserDep, name: str) -> Response:
    """One run as it is now: what the workflow page polls every second while the run is active."""
    service = request.app.state.workflows
    run = run_view(service.get_run(name))
    if not is_htmx(request):
        return RedirectResponse(f"/workflows/{run['workflow']}#run-{name}", status_code=303)
    try:
        workflow = _workflow_view(service.get_workflow(run["workflow"]))
    except NotFound:  # archived since: the run still shows, without buttons
        workflow = _workflow_view({})
    return render(request, "_run.html", {"run": run, "open": True, "may_run": _may_run(request, user, workflow),
                                         "workflow": workflow})


@router.post("/workflows/{name}/rerun")
def rerun(request: Request, user: UserDep, name: str) -> Response:
    """Start a new run of the workflow (it waits behind a run that is still going)."""
    run = request.app.state.workflows.submit({"resourceName": name}, user)
    return RedirectResponse(f"/workflows/{name}#run-{run['metadata']['name']}", status_code=303)


@router.post("/runs/{name}/stop")
def stop(request: Request, user: UserDep, name: str) -> Response:
    run = run_view(request.app.state.workflows.stop(name, user))
    return RedirectResponse(f"/workflows/{run['workflow']}#run-{name}", status_code=303)
