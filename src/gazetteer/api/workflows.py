"""Routes of the workflow service, as Atlan's Heracles serves them (both /workflows and /package-workflows)."""

from __future__ import annotations

import json
from typing import Annotated, Any, cast

from fastapi import APIRouter, Body, Query, Request
from fastapi.concurrency import run_in_threadpool

from gazetteer.api.workflow_documents import cron_document, run_document, workflow_document
from gazetteer.api.workflow_search import search_runs, search_workflows
from gazetteer.errors import InvalidRequest, NotFound
from gazetteer.web.deps import EngineDep, PrincipalDep
from gazetteer.web.openapi import errors
from gazetteer.workflows import views
from gazetteer.workflows.service import WorkflowService

__all__ = ["router"]

router = APIRouter(prefix="/api/service", tags=["workflows"], responses=errors(401))
JsonObject = Annotated[dict[str, Any], Body()]
# pyatlan ≥ 8.3 sends API-token users to /workflows and everyone else to /package-workflows.
FAMILIES = ("workflows", "package-workflows")
# changeownership reads its body itself (the user name may come as ?username= instead), so FastAPI cannot
# document it.
OWNER_BODY = {"required": False, "content": {"application/json": {"schema": {
    "type": "object", "properties": {"username": {"type": "string", "description": "The new owner"}}}}}}


def _service(request: Request) -> WorkflowService:
    return cast(WorkflowService, request.app.state.workflows)


def _written(workflow: views.WorkflowView) -> dict[str, Any]:
    """A created or changed workflow as Heracles answers: the template with an empty payload (never the secret)."""
    return {**workflow_document(workflow), "payload": []}


def _resource_name(body: dict[str, Any]) -> str:
    """The workflow a submit body names: {"namespace", "resourceKind": "WorkflowTemplate", "resourceName"}."""
    if not isinstance(body.get("resourceName"), str):
        raise InvalidRequest('Send {"namespace": "default", "resourceKind": "WorkflowTemplate", '
                             '"resourceName": "<workflow name>"}')
    kind = body.get("resourceKind", "WorkflowTemplate")
    if kind != "WorkflowTemplate":
        raise InvalidRequest(f"resourceKind {kind!r} is not supported: use WorkflowTemplate")
    return cast(str, body["resourceName"])


@router.post("/workflows/indexsearch")
def workflows_indexsearch(body: JsonObject, engine: EngineDep, _: PrincipalDep) -> dict[str, Any]:
    """Search workflow templates with an Elasticsearch query (find_by_type; docs/design.md, Atlan contract §3)."""
    return search_workflows(engine, body)


@router.post("/runs/indexsearch")
def runs_indexsearch(body: JsonObject, engine: EngineDep, _: PrincipalDep) -> dict[str, Any]:
    """Search runs with an Elasticsearch query; what monitor(), get_runs() and rerun() poll."""
    return search_runs(engine, body)


@router.get("/runs/cron")
def schedules(engine: EngineDep, _: PrincipalDep) -> dict[str, Any]:
    """Every scheduled workflow (pyatlan's get_all_scheduled_runs)."""
    return {"items": [cron_document(workflow) for workflow in views.scheduled_workflows(engine)]}


@router.get("/runs/cron/{cron_name}", responses=errors(404))
def schedule(cron_name: str, engine: EngineDep, _: PrincipalDep) -> dict[str, Any]:
    """One workflow's schedule, by `<workflow>-cron` (pyatlan's get_scheduled_run)."""
    name = cron_name.removesuffix("-cron")
    found = cron_document(views.workflow(engine, name))
    if found is None:
        raise NotFound(f"Workflow {name!r} has no schedule")
    return found


@router.get("/runs/{run_name}", responses=errors(404))
def get_run(run_name: str, engine: EngineDep, _: PrincipalDep) -> dict[str, Any]:
    """One run, with its phase, progress and crawl report."""
    return run_document(views.run(engine, run_name))


@router.post("/runs/{run_name}/stop", responses=errors(403, 404))
def stop_run(run_name: str, request: Request, principal: PrincipalDep) -> dict[str, Any]:
    """Stop a run; the answer still shows it Running until the crawl reaches its next page."""
    return run_document(_service(request).stop(run_name, principal))


for family in FAMILIES:

    @router.post(f"/{family}", name=f"create-{family}", responses=errors(403, 409))
    def create(body: JsonObject, request: Request, principal: PrincipalDep,
               submit: Annotated[bool, Query()] = False) -> dict[str, Any]:
        """Create the workflow GlueCrawler(...).to_workflow() builds, and start it when submit=true."""
        return _written(_service(request).create(body, principal, submit=submit))

    @router.post(f"/{family}/submit", name=f"submit-{family}", responses=errors(403, 404))
    def submit(body: JsonObject, request: Request, principal: PrincipalDep) -> dict[str, Any]:
        """Re-run a workflow by {"namespace", "resourceKind", "resourceName"} (the page's second raw call)."""
        return run_document(_service(request).rerun(_resource_name(body), principal))

    @router.get(f"/{family}/{{name}}", name=f"get-{family}", responses=errors(404))
    def get(name: str, engine: EngineDep, _: PrincipalDep) -> dict[str, Any]:
        """One workflow template."""
        return workflow_document(views.workflow(engine, name))

    @router.post(f"/{family}/{{name}}/plan", name=f"plan-{family}", responses=errors(403, 404, 409))
    def plan(name: str, request: Request, principal: PrincipalDep) -> dict[str, Any]:
        """What a run would create, update and archive now, schema diffs and breaking changes first: a run
        report with "plan": true, worked out from Glue without writing anything (Gazetteer's own)."""
        return _service(request).plan(name, principal)

    @router.post(f"/{family}/{{name}}/archive", name=f"archive-{family}", responses=errors(403, 404))
    def archive(name: str, request: Request, principal: PrincipalDep) -> dict[str, Any]:
        """Archive a workflow; its connection's assets stay."""
        archived = _service(request).archive(name, principal)
        return {"metadata": {"name": archived.name, "namespace": archived.namespace}, "status": "archived"}

    @router.post(f"/{family}/{{name}}/changeownership", name=f"owner-{family}", responses=errors(403, 404),
                 openapi_extra={"requestBody": OWNER_BODY})
    async def change_owner(name: str, request: Request, principal: PrincipalDep,
                           username: Annotated[str | None, Query()] = None) -> dict[str, Any]:
        """Change a workflow's owner; the user name comes as ?username= or in a {"username"} body."""
        if username is None:
            body = await request.body()
            try:
                username = json.loads(body).get("username") if body else None
            except (ValueError, AttributeError):
                username = None
        return _written(await run_in_threadpool(_service(request).change_owner, name, username, principal))

    @router.post(f"/{family}/{{name}}", name=f"update-{family}", responses=errors(403, 404))
    def update(name: str, body: JsonObject, request: Request, principal: PrincipalDep) -> dict[str, Any]:
        """Update a workflow (schedules live in metadata.annotations)."""
        return _written(_service(request).update(name, body, principal))
