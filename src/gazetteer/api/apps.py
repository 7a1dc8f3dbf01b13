"""Routes of Atlan's app API (`/api/service/v1/app*`), as pyatlan 11's `client.app` and `AtlanGlue` call them.

Every answer is a 200 with a JSON object in snake_case, as pyatlan's app models parse it; a failure is the
usual `{"errorCode", "errorMessage"}`, except a create whose name a live app workflow has already: a 409 with
`{"message", "slug", "version"}` and no errorCode, which pyatlan reads as "reuse that workflow". The operations
themselves are `gazetteer.workflows.apps`'; an app workflow is a workflow of the Glue package.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, cast

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from gazetteer.api.workflow_documents import argo_time
from gazetteer.errors import InvalidRequest, NotFound
from gazetteer.packages.glue.names import DEFAULT_CATALOG
from gazetteer.packages.glue.workflow import filter_value
from gazetteer.web.deps import PrincipalDep
from gazetteer.web.openapi import AtlanError, errors
from gazetteer.workflows.apps import APP_ID, AppNameTaken, AppSchedule, AppService, AppView, app_status
from gazetteer.workflows.service import WorkflowService
from gazetteer.workflows.views import RunView

__all__ = ["router"]

router = APIRouter(prefix="/api/service/v1", tags=["apps"], responses=errors(401))

_ENTRYPOINT = "default"  # the Glue app's one entrypoint; pyatlan sends none, which means it
_STRING_FILTER = {"type": "string", "default": "{}",
                  "description": 'JSON: {"<catalog id>": {"<glue database>": {}}}; "{}" for none'}
# The input contract pyatlan's update() reads: the filters typed "string", so that it re-encodes them as JSON.
_CONTRACT = {
    "title": APP_ID, "type": "object", "required": ["connection"], "$defs": {},
    "properties": {
        "connection": {"type": "object", "description": "The Connection: {typeName, attributes: {qualifiedName "
                                                        "(default/glue/<epoch>), name, adminUsers/Groups/Roles}}"},
        "extraction_method": {"type": "string", "enum": ["direct"], "default": "direct"},
        "credential": {"type": "object", "description": "A credential to vault (authType iam: username, password; "
                                                        "or role: extra.aws_role_arn, extra.aws_external_id), "
                                                        "with extra.region; never stored with the workflow"},
        "credential_guid": {"type": "string", "default": "", "description": "A vaulted credential to reuse"},
        "catalog_id": {"type": "string", "default": DEFAULT_CATALOG,
                       "description": "AwsDataCatalog, a 12-digit account id, or "
                                      "<account id>:s3tablescatalog/<table bucket>"},
        "include_filter": {**_STRING_FILTER, "description": "Databases to crawl (none: all). "
                                                            + _STRING_FILTER["description"]},
        "exclude_filter": {**_STRING_FILTER, "description": "Databases to leave out (wins over include). "
                                                            + _STRING_FILTER["description"]},
        "exclude_table_regex": {"type": "string", "default": "",
                                "description": "Tables whose name this RE2 regular expression finds are left out"},
    },
}
Slug = Annotated[str, Path(max_length=255)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScheduleBody(_Body):
    cron: StrictStr = Field(min_length=1, max_length=255, description="A cron expression, e.g. '0 9 * * *'")
    timezone: StrictStr | None = Field(default=None, max_length=64, description="IANA time zone (default UTC)")


class CreateBody(_Body):
    app_id: StrictStr = Field(max_length=255, description=f"The app: {APP_ID}")
    name: StrictStr = Field(min_length=1, max_length=255, description="The workflow's display name (unique)")
    inputs: dict[str, Any] = Field(description="The app's inputs: GET /api/service/v1/apps/atlan-glue/inputs")
    entrypoint: StrictStr | None = Field(default=None, max_length=255)
    schedule: ScheduleBody | None = None
    run: StrictBool | None = Field(default=None, description="Start a run at once (default true)")


class UpdateBody(_Body):
    inputs: dict[str, Any] = Field(description="All the inputs (a full replace; credential and connection are "
                                               "kept when left out)")
    entrypoint: StrictStr | None = Field(default=None, max_length=255)


class NameTaken(BaseModel):
    """A live app workflow has the name already; pyatlan reuses it."""

    message: str
    slug: str
    version: int


def _apps(request: Request) -> AppService:
    return AppService(cast(WorkflowService, request.app.state.workflows))


def _app(app_id: str, entrypoint: str | None = None) -> None:
    if app_id != APP_ID:
        raise NotFound(f"App {app_id!r} is not served here: this server runs {APP_ID}")
    if entrypoint not in (None, "", _ENTRYPOINT):
        raise InvalidRequest(f"Unknown entrypoint {entrypoint!r}: the {APP_ID} app has one, {_ENTRYPOINT!r}")


def _schedule(body: ScheduleBody) -> AppSchedule:
    return AppSchedule(body.cron, body.timezone or "UTC")


def _schedules(app: AppView) -> list[dict[str, Any]]:
    """The workflow's schedule (it has one or none), as add_schedule answers it."""
    schedule = app.schedule
    return [] if schedule is None else [
        {"trigger_id": app.trigger_id, "cron": schedule.cron, "timezone": schedule.timezone}]


def _inputs(app: AppView) -> dict[str, Any]:
    """The stored inputs, as pyatlan's load() reads them back: no secret, the credential by guid (also on the
    connection, as defaultCredentialGuid)."""
    glue = app.glue
    return {
        "connection": {"typeName": "Connection", "attributes": glue.connection},
        "connection_qualified_name": app.workflow.connection_qn,
        "extraction_method": "direct",
        "credential_guid": app.credential_guid or "",
        "catalog_id": glue.catalog_id or DEFAULT_CATALOG,
        "include_filter": filter_value(glue.include or (), glue.catalog_id),
        "exclude_filter": filter_value(glue.exclude or (), glue.catalog_id),
        "exclude_table_regex": glue.exclude_table_regex or "",
    }


def _summary(app: AppView) -> dict[str, Any]:
    return {"slug": app.slug, "name": app.name, "version": app.workflow.generation, "owner": app.workflow.creator,
            "app_id": APP_ID, "execution_mode": "native", "schedules": _schedules(app),
            "created_at": argo_time(app.workflow.created), "updated_at": argo_time(app.workflow.updated),
            "dag": {"extract": {"inputs": {"args": _inputs(app)}}}}


def _run(run: RunView) -> dict[str, Any]:
    answer = {"run_id": run.name, "status": app_status(run.phase, run.stop_requested), "slug": run.workflow,
              "started_at": argo_time(run.started), "finished_at": argo_time(run.finished)}
    return {**answer, "message": run.message} if run.message else answer


def _cursor(after: int | None) -> str | None:
    return None if after is None else base64.urlsafe_b64encode(f"after:{after}".encode()).decode()


def _after(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        kind, _, after = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "after" and after.isdigit():
            return int(after)
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise InvalidRequest(f"cursor {cursor!r} is not one this server gave: pass back next_cursor as it came")


@router.get("/apps/{app_id}", responses=errors(404))
def describe(app_id: Annotated[str, Path(max_length=255)], _: PrincipalDep) -> dict[str, Any]:
    """The app: ready to run here, with one entrypoint (pyatlan's describe)."""
    _app(app_id)
    return {"app_id": APP_ID, "name": "AWS Glue", "native_ready": True, "execution_mode": "native",
            "app_service_url": None, "entrypoints": [{"name": _ENTRYPOINT}]}


@router.get("/apps/{app_id}/inputs", responses=errors(404))
def input_contract(app_id: Annotated[str, Path(max_length=255)], _: PrincipalDep,
                   entrypoint: Annotated[str | None, Query(max_length=255)] = None) -> dict[str, Any]:
    """The app's inputs as a JSON Schema (pyatlan's get_input_contract)."""
    _app(app_id, entrypoint)
    return _CONTRACT


@router.post("/app", responses={**errors(403, 404),
                                409: {"model": NameTaken | AtlanError,
                                      "description": "A live app workflow has the name (its slug is in the answer), "
                                                     "or another workflow crawls the connection"}})
def create(body: CreateBody, request: Request, principal: PrincipalDep) -> Any:
    """Create an app workflow (its connection, vaulted credential and schedule), and start a run unless run=false."""
    _app(body.app_id, body.entrypoint)
    try:
        created = _apps(request).create(body.name, body.inputs, principal, run=body.run is not False,
                                        schedule=None if body.schedule is None else _schedule(body.schedule))
    except AppNameTaken as taken:
        return JSONResponse(status_code=taken.status_code,
                            content={"message": taken.message, "slug": taken.slug, "version": taken.version})
    answer: dict[str, Any] = {"execution_mode": "native", "slug": created.app.slug,
                              "version": created.app.workflow.generation}
    if created.run is not None:
        answer["run_id"] = created.run.name
    if body.schedule is not None:
        answer["schedule_trigger_id"] = created.app.trigger_id
    return answer


@router.get("/app")
def list_apps(request: Request, _: PrincipalDep, limit: Annotated[int, Query(ge=1, le=1000)] = 50,
              cursor: Annotated[str | None, Query(max_length=255)] = None,
              name: Annotated[str | None, Query(max_length=255)] = None) -> dict[str, Any]:
    """Live app workflows, oldest first, `limit` at a time (pass next_cursor back as cursor); by exact name."""
    apps, after = _apps(request).listing(limit=limit, after=_after(cursor), name=name)
    return {"workflows": [_summary(app) for app in apps], "has_more": after is not None, "next_cursor": _cursor(after)}


# Before /app/{slug}: a run's routes must not be read as a slug named "runs".
@router.get("/app/runs/{run_id}", responses=errors(404))
def get_run(run_id: Slug, request: Request, _: PrincipalDep) -> dict[str, Any]:
    """A run of an app workflow and its status (Pending, Running, Succeeded, Failed, Stopped)."""
    return _run(_apps(request).run(run_id))


@router.post("/app/runs/{run_id}/cancel", responses=errors(403, 404))
def cancel_run(run_id: Slug, request: Request, principal: PrincipalDep) -> dict[str, Any]:
    """Stop a run (a running crawl stops at its next page, leaving the catalog as it was)."""
    run, cancelled = _apps(request).cancel(run_id, principal)
    return {"run_id": run.name, "cancelled": cancelled, "slug": run.workflow,
            "status": "Stopped" if cancelled else app_status(run.phase, run.stop_requested)}


@router.get("/app/{slug}", responses=errors(404))
def get_app(slug: Slug, request: Request, _: PrincipalDep) -> dict[str, Any]:
    """An app workflow, with its inputs under dag.extract.inputs.args (what AtlanGlue(client).load(slug) reads)."""
    return _summary(_apps(request).get(slug))


@router.put("/app/{slug}", responses=errors(403, 404))
def update_app(slug: Slug, body: UpdateBody, request: Request, principal: PrincipalDep) -> dict[str, Any]:
    """Replace an app workflow's inputs: a new version under the same slug."""
    _app(APP_ID, body.entrypoint)
    app = _apps(request).update(slug, body.inputs, principal)
    return {"slug": app.slug, "version": app.workflow.generation}


@router.delete("/app/{slug}", responses=errors(403, 404))
def delete_app(slug: Slug, request: Request, principal: PrincipalDep) -> dict[str, Any]:
    """Archive an app workflow: its runs stop, its connection's assets stay, its name is free again."""
    _apps(request).delete(slug, principal)
    return {"slug": slug, "archived": True}


@router.post("/app/{slug}/submit", responses=errors(403, 404, 409))
def submit(slug: Slug, request: Request, principal: PrincipalDep) -> dict[str, Any]:
    """Start a run; 409 while one is Pending or Running."""
    return _run(_apps(request).submit(slug, principal))


@router.post("/app/{slug}/schedule", responses=errors(403, 404))
def add_schedule(slug: Slug, body: ScheduleBody, request: Request, principal: PrincipalDep) -> dict[str, Any]:
    """Schedule an app workflow (it has one schedule, `<slug>-cron`: this one replaces any other)."""
    return _schedules(_apps(request).add_schedule(slug, _schedule(body), principal))[0]


@router.delete("/app/{slug}/schedule/{trigger_id}", responses=errors(403, 404))
def remove_schedule(slug: Slug, trigger_id: Slug, request: Request, principal: PrincipalDep) -> dict[str, Any]:
    """Remove the app workflow's schedule."""
    _apps(request).remove_schedule(slug, trigger_id, principal)
    return {"trigger_id": trigger_id, "deleted": True}
