"""Atlan's Glue *app* (pyatlan 11's `AtlanGlue` and `client.app`) over the workflow service.

An app workflow is a normal workflow of the Glue package (its Argo document, its runs, its connection, its
schedule annotations) that also has a display name, `workflows.app_name`, unique among live workflows. This
module turns the app's inputs into the Glue crawler's settings, decides which credential and connection they
mean, and hands back typed values; `gazetteer.api.apps` owns the wire shapes.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import ColumnElement

from gazetteer import jsontext
from gazetteer.assets.service import connection_attributes
from gazetteer.auth.permissions import Action, authorize
from gazetteer.auth.principal import Principal
from gazetteer.errors import Conflict, InvalidRequest, NotFound
from gazetteer.packages.glue.config import check_exclude_table_regex, normal_catalog_id
from gazetteer.packages.glue.names import PREFIX
from gazetteer.packages.glue.workflow import (
    GlueCrawlerSettings,
    GlueWorkflow,
    glue_workflow_document,
    parse_glue_workflow,
)
from gazetteer.store import assets
from gazetteer.workflows.models import runs, workflows
from gazetteer.workflows.schedules import SCHEDULE, TIMEZONE, cron_name
from gazetteer.workflows.service import WorkflowService
from gazetteer.workflows.views import RunView, WorkflowView, run_row, run_view, workflow_view

__all__ = ["APP_ID", "AppCreated", "AppInputs", "AppNameTaken", "AppSchedule", "AppService", "AppView", "app_status",
           "app_status_sql", "crawler_settings", "parse_inputs", "runs_of_apps"]

APP_ID = "atlan-glue"
# The inputs of Atlan's Glue app (pyatlan's AtlanGlueInputs, with `-` read as `_`), and what pyatlan's
# update() adds (connection_qualified_name).
_INPUTS = ("connection", "connection_qualified_name", "extraction_method", "credential", "credential_guid",
           "agent_json", "catalog_id", "include_filter", "exclude_filter", "exclude_table_regex")
# Ids Atlan's server puts into a workflow's inputs, which pyatlan may send back: accepted and ignored.
_RUNTIME = frozenset({"user_id", "workflow_id", "correlation_id"})
# Workflow names and connections are minted by the second: one taken looks at the next seconds.
_MINT_SPAN = 60
_CONNECTION_PREFIX = "default/glue/"
_FILTER_EXAMPLE = '{"AwsDataCatalog": {"<glue database>": {}}}'
# How a run that ended badly reads in the app API: pyatlan's is_terminal knows Failed and Stopped, not Error.
_ENDED_BADLY = ("Failed", "Error")


class AppNameTaken(Conflict):
    """A live app workflow has that name already: pyatlan reuses it, reading its slug from the answer."""

    def __init__(self, name: str, slug: str, version: int) -> None:
        super().__init__(f"An app workflow named {name!r} already exists: {slug} (submit it to crawl again)")
        self.slug = slug
        self.version = version


@dataclass(frozen=True)
class AppSchedule:
    cron: str
    timezone: str = "UTC"


@dataclass(frozen=True)
class AppInputs:
    """The app's inputs, checked: `null` means absent, the filters are database names.

    `credential` is a raw credential to vault; otherwise `credential_guid` names a vaulted one (the inputs'
    credential_guid, else the connection's defaultCredentialGuid)."""

    connection: dict[str, Any]
    qualified_name: str | None
    credential: dict[str, Any] | None
    credential_guid: str | None
    catalog_id: str | None
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    exclude_table_regex: str | None

    @property
    def new_connection(self) -> bool:
        """A new credential on a connection that names none: pyatlan's builder making a brand-new connection."""
        return self.credential is not None and not self.connection.get("defaultCredentialGuid")


def _text(values: Mapping[str, Any], key: str, where: str) -> str | None:
    value = values.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidRequest(f"{where}.{key} must be a string")
    return value


def _connection(value: Any) -> dict[str, Any]:
    """The attributes of the `connection` input: {"typeName": "Connection", "attributes": {...}}, or that as a
    JSON string (how Atlan stores it)."""
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = jsontext.loads(value, "inputs.connection")
        except (TypeError, ValueError):
            raise InvalidRequest("inputs.connection is not JSON: expected {\"typeName\": \"Connection\", "
                                 "\"attributes\": {...}}") from None
    if not isinstance(value, dict) or value.get("typeName", "Connection") != "Connection" \
            or not isinstance(value.get("attributes", {}), dict):
        raise InvalidRequest("inputs.connection must be {\"typeName\": \"Connection\", \"attributes\": {\"name\", "
                             "\"qualifiedName\", \"adminRoles\"...}}")
    return {key: item for key, item in (value.get("attributes") or {}).items() if item is not None}


def _databases(value: Any, key: str) -> tuple[str, ...]:
    """The database names of a filter, over every catalog it names. pyatlan sends a JSON string of
    {catalog: {database: {}}}; the object itself, and a list of names per catalog, are read alike."""
    if value is None:
        return ()
    if isinstance(value, str):
        try:
            value = jsontext.loads(value, f"inputs.{key}")
        except (TypeError, ValueError):
            raise InvalidRequest(f"inputs.{key} is not JSON: expected {_FILTER_EXAMPLE}") from None
    names: list[str] = []
    for databases in value.values() if isinstance(value, dict) else [None]:
        listed = list(databases) if isinstance(databases, dict) else databases
        if not isinstance(listed, list) or not all(isinstance(name, str) and name for name in listed):
            raise InvalidRequest(f"inputs.{key} must map a catalog to its Glue databases, e.g. {_FILTER_EXAMPLE}")
        names.extend(listed)
    return tuple(dict.fromkeys(names))


def parse_inputs(raw: Any) -> AppInputs:
    """Check the app's `inputs`; InvalidRequest says what is wrong. Keys may use `-` for `_` (the UI's ids)."""
    if not isinstance(raw, dict):
        raise InvalidRequest(f"inputs must be a JSON object with the {APP_ID} app's inputs: {', '.join(_INPUTS)}")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if value is None or name in _RUNTIME:
            continue
        if name not in _INPUTS:
            raise InvalidRequest(f"inputs.{key} is not an input of the {APP_ID} app; its inputs are "
                                 f"{', '.join(_INPUTS)}")
        if name in values and values[name] != value:
            raise InvalidRequest(f"inputs give {name} twice, with different values")
        values[name] = value
    method = values.get("extraction_method", "direct")
    if method != "direct":
        raise InvalidRequest(f"extraction_method {method!r} is not supported: this server reads Glue directly "
                             "(give a credential with .iam(...) or .role(...), not .agent(...))")
    connection = _connection(values.get("connection"))
    qualified_name = _text(connection, "qualifiedName", "inputs.connection.attributes")
    also = _text(values, "connection_qualified_name", "inputs")
    if qualified_name and also and also != qualified_name:
        raise InvalidRequest(f"inputs.connection_qualified_name {also!r} is not the connection's qualifiedName "
                             f"{qualified_name!r}")
    credential = values.get("credential")
    if credential is not None and not isinstance(credential, dict):
        raise InvalidRequest("inputs.credential must be a credential object: {\"authType\": \"iam\" or \"role\", "
                             "\"username\", \"password\", \"extra\": {\"region\", \"aws_role_arn\"...}}")
    guid = (_text(values, "credential_guid", "inputs")
            or _text(connection, "defaultCredentialGuid", "inputs.connection.attributes"))
    regex = _text(values, "exclude_table_regex", "inputs") or None
    if regex is not None:
        check_exclude_table_regex(regex)
    return AppInputs(connection=connection, qualified_name=qualified_name or also or None, credential=credential,
                     credential_guid=guid or None,
                     catalog_id=normal_catalog_id(_text(values, "catalog_id", "inputs")),
                     include=_databases(values.get("include_filter"), "include_filter"),
                     exclude=_databases(values.get("exclude_filter"), "exclude_filter"),
                     exclude_table_regex=regex)


def _admins(connection: Mapping[str, Any], key: str) -> tuple[str, ...]:
    # Counts and lengths are the workflow's check; a string here would silently become its letters.
    value = connection.get(key) or []
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise InvalidRequest(f"inputs.connection.attributes.{key} must be a list of names")
    return tuple(value)


def crawler_settings(inputs: AppInputs, connection: Mapping[str, Any],
                     credential: Mapping[str, Any] | None = None) -> GlueCrawlerSettings:
    """The Glue crawler the inputs describe: `connection` is the connection's attributes (the stored ones
    overlaid with the inputs'), `credential` the raw credential body (None: a vaulted one is used, which the
    workflow service checks). The package's own checks (region, role ARN, names, bounds) come when the
    workflow is created; here, only what must be right to build it."""
    extra: Mapping[str, Any] = {}
    auth = "iam"
    if credential is not None:
        auth = _text(credential, "authType", "inputs.credential") or "iam"
        if auth not in ("iam", "role"):
            raise InvalidRequest(f"inputs.credential.authType {auth!r} is not supported: use \"iam\" (.iam(...)) or "
                                 "\"role\" (.role(...))")
        extra = credential.get("extra") or {}
        if not isinstance(extra, dict):
            raise InvalidRequest("inputs.credential.extra must be an object: {\"region\", \"aws_role_arn\"...}")
    where = "inputs.credential"

    def flag(key: str, default: Any) -> Any:
        value = connection.get(key)
        return default if value is None else value

    return GlueCrawlerSettings(
        connection_name=cast(str, connection.get("name")),  # its type and length are the workflow's check
        region=_text(extra, "region", f"{where}.extra") or "",
        access_key=None if credential is None else _text(credential, "username", where),
        secret_key=None if credential is None else _text(credential, "password", where),
        # A role credential without a role still builds as one, so that its check names what is missing.
        role_arn=(_text(extra, "aws_role_arn", f"{where}.extra") or "") if auth == "role" else None,
        external_id=_text(extra, "aws_external_id", f"{where}.extra") if auth == "role" else None,
        admin_roles=_admins(connection, "adminRoles"), admin_groups=_admins(connection, "adminGroups"),
        admin_users=_admins(connection, "adminUsers"), include=inputs.include, exclude=inputs.exclude,
        catalog_id=inputs.catalog_id, exclude_table_regex=inputs.exclude_table_regex,
        allow_query=flag("allowQuery", False), allow_query_preview=flag("allowQueryPreview", False),
        row_limit=flag("rowLimit", 0),
    )


def _epoch(qualified_name: str) -> int:
    tail = qualified_name.removeprefix(_CONNECTION_PREFIX)
    if not qualified_name.startswith(_CONNECTION_PREFIX) or len(tail) != 10 or not tail.isdigit():
        raise InvalidRequest(f"Connection qualifiedName {qualified_name!r} must look like "
                             f"{_CONNECTION_PREFIX}<10-digit epoch>")
    return int(tail)


def _scheduled(document: dict[str, Any], schedule: AppSchedule | None) -> dict[str, Any]:
    """A copy of a workflow document with this schedule in its annotations (None: unscheduled)."""
    document = copy.deepcopy(document)
    annotations = document.setdefault("metadata", {}).setdefault("annotations", {})
    annotations.pop(SCHEDULE, None)
    annotations.pop(TIMEZONE, None)
    if schedule is not None:
        annotations.update({SCHEDULE: schedule.cron, TIMEZONE: schedule.timezone})
    return document


def app_status(phase: str, stop_requested: bool) -> str:
    """A run's status as the app API reports it, one of pyatlan's AppWorkflowRunStatus values: a failed or
    errored run reads Failed, or Stopped when someone stopped it (pyatlan's is_terminal does not know Error)."""
    if phase in _ENDED_BADLY:
        return "Stopped" if stop_requested else "Failed"
    return phase


def app_status_sql(phase: ColumnElement[str], stop_requested: ColumnElement[bool]) -> ColumnElement[str]:
    """`app_status` in SQL, for searches on it."""
    return sa.case((phase.in_(_ENDED_BADLY), sa.case((stop_requested, "Stopped"), else_="Failed")), else_=phase)


@dataclass(frozen=True)
class AppView:
    """A live app workflow: its display name, the workflow, and its settings as the Glue package reads them."""

    name: str
    workflow: WorkflowView
    credential_guid: str | None

    @property
    def slug(self) -> str:
        return self.workflow.name

    @property
    def glue(self) -> GlueWorkflow:
        return parse_glue_workflow(self.workflow.document)

    @property
    def schedule(self) -> AppSchedule | None:
        found = self.workflow.schedule
        return None if found is None else AppSchedule(found[0], found[1].key)

    @property
    def trigger_id(self) -> str | None:
        """The schedule's id (`<slug>-cron`, as the Argo API names it), when the workflow has one."""
        return cron_name(self.slug) if self.workflow.schedule else None


def _app_view(row: Any) -> AppView:
    return AppView(row.app_name, workflow_view(row), row.credential_guid)


@dataclass(frozen=True)
class AppCreated:
    app: AppView
    run: RunView | None


class AppService:
    """The app API's operations: each one a workflow service operation on the workflow behind the app."""

    def __init__(self, service: WorkflowService) -> None:
        self.service = service
        self.engine = service.engine

    # -- reading -----------------------------------------------------------------------------------

    def _row(self, slug: str) -> Any:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(workflows).where(
                workflows.c.name == slug, workflows.c.app_name.is_not(None), workflows.c.archived.is_(False))).first()
        if row is None:
            raise NotFound(f"App workflow {slug!r} does not exist (list them with GET /api/service/v1/app)")
        return row

    def get(self, slug: str) -> AppView:
        return _app_view(self._row(slug))

    def listing(self, *, limit: int, after: int | None = None,
                name: str | None = None) -> tuple[list[AppView], int | None]:
        """One page of live app workflows (by `name` when given), oldest first, after the workflow id `after`;
        and the id to continue after, when there are more."""
        query = sa.select(workflows).where(workflows.c.app_name.is_not(None), workflows.c.archived.is_(False))
        if name is not None:
            query = query.where(workflows.c.app_name == name)
        if after is not None:
            query = query.where(workflows.c.id > after)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(workflows.c.id).limit(limit + 1)).all()
        more = len(rows) > limit
        return [_app_view(row) for row in rows[:limit]], rows[limit - 1].id if more else None

    def run(self, run_id: str) -> RunView:
        """A run of an app workflow (archived ones included: a run outlives its workflow)."""
        row = run_row(self.engine, run_id)
        with self.engine.connect() as conn:
            app = conn.execute(sa.select(workflows.c.app_name).where(workflows.c.name == row.workflow_name)).scalar()
        if app is None:
            raise NotFound(f"Run {run_id!r} is not a run of an app workflow")
        return run_view(row)

    # -- creating ----------------------------------------------------------------------------------

    def _refuse_taken(self, name: str) -> None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(workflows.c.name, workflows.c.generation).where(
                workflows.c.app_name == name, workflows.c.archived.is_(False))).first()
        if row is not None:
            raise AppNameTaken(name, row.name, row.generation)

    def _free(self, candidates: list[str], taken: sa.Executable) -> str:
        with self.engine.connect() as conn:
            used = set(conn.execute(taken).scalars())
        for candidate in candidates:
            if candidate not in used:
                return candidate
        raise Conflict(f"{candidates[0]} and the {len(candidates) - 1} after it are taken: try again in a minute")

    def _free_slug(self) -> str:
        """`atlan-glue-<epoch>` for now, or the next free second's, as the Argo API names workflows."""
        epoch = int(time.time())
        names = [f"{PREFIX}-{epoch + offset}" for offset in range(_MINT_SPAN)]
        return self._free(names, sa.select(workflows.c.name).where(workflows.c.name.in_(names)))

    def _free_connection(self, epoch: int) -> str:
        """The first `default/glue/<epoch>` from `epoch` on that no connection and no workflow has."""
        names = [f"{_CONNECTION_PREFIX}{epoch + offset}" for offset in range(_MINT_SPAN)]
        return self._free(names, sa.union(
            sa.select(assets.c.qualified_name).where(assets.c.type_name == "Connection",
                                                     assets.c.qualified_name.in_(names)),
            sa.select(workflows.c.connection_qualified_name).where(workflows.c.connection_qualified_name.in_(names))))

    def _crawled_before(self, qualified_name: str) -> Any:
        """The newest workflow, archived or not, of a connection; None if none ever crawled it."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(workflows.c.credential_guid).where(
                workflows.c.connection_qualified_name == qualified_name)
                .order_by(workflows.c.id.desc()).limit(1)).first()

    def create(self, name: str, raw_inputs: Any, principal: Principal, *, run: bool,
               schedule: AppSchedule | None) -> AppCreated:
        """Create the app workflow `name` (409 AppNameTaken when a live one has it) and maybe start its run.

        Its connection is the one the inputs name when it exists (the caller must be allowed to crawl it); a new
        credential with a connection that another workflow made already (pyatlan mints `default/glue/<epoch>`
        by the second) gets the next free connection instead. The credential is the raw one (vaulted), else the
        guid given, else the connection's own (the one its last workflow used).
        """
        authorize(principal, Action.CREATE_WORKFLOW)
        self._refuse_taken(name)
        inputs = parse_inputs(raw_inputs)
        qualified_name = inputs.qualified_name or f"{_CONNECTION_PREFIX}{int(time.time())}"
        epoch = _epoch(qualified_name)
        if inputs.new_connection and self._crawled_before(qualified_name) is not None:
            qualified_name = self._free_connection(epoch + 1)
            epoch = _epoch(qualified_name)
        stored = connection_attributes(self.engine, qualified_name)
        guid = None if inputs.credential is not None else inputs.credential_guid
        if inputs.credential is None and guid is None:
            before = self._crawled_before(qualified_name) if stored is not None else None
            guid = before.credential_guid if before is not None else None
            if guid is None:
                raise InvalidRequest("The inputs carry no credential: give one with .iam(...) or .role(...), or reuse "
                                     "a vaulted one with .credential_guid(...)")
        settings = crawler_settings(inputs, {**(stored or {}), **inputs.connection}, inputs.credential)
        document = _scheduled(glue_workflow_document(settings, epoch=epoch), schedule)
        if guid is not None:
            document["payload"] = []  # the credential is in the vault already
        for _attempt in range(3):
            document["metadata"]["name"] = slug = self._free_slug()
            try:
                created = self.service.create(document, principal, submit=False, credential_guid=guid, app_name=name)
                break
            except Conflict:
                self._refuse_taken(name)  # the name, taken since it was checked
                with self.engine.connect() as conn:
                    if conn.execute(sa.select(workflows.c.id).where(workflows.c.name == slug)).first() is None:
                        raise  # not the slug: e.g. the connection has a live workflow
        else:
            raise Conflict("Concurrent creates took every workflow name tried: try again")
        started = self.service.start_run(created.name, principal.username) if run else None
        return AppCreated(self.get(created.name), started)

    # -- changing ----------------------------------------------------------------------------------

    def update(self, slug: str, raw_inputs: Any, principal: Principal) -> AppView:
        """Replace the workflow's inputs (a new version, same slug). What the inputs leave out of the connection
        is kept, and so is the credential unless they give one (a raw one, or the guid of one the caller may use).
        """
        row = self._row(slug)
        self.service.authorize(principal, Action.CHANGE_WORKFLOW, slug)
        inputs = parse_inputs(raw_inputs)
        if inputs.qualified_name not in (None, row.connection_qualified_name):
            raise InvalidRequest(f"An app workflow's connection cannot change: this one crawls "
                                 f"{row.connection_qualified_name!r}; create another app for another connection")
        current = parse_glue_workflow(row.document).connection
        settings = crawler_settings(inputs, {**current, **inputs.connection}, inputs.credential)
        document = _scheduled(glue_workflow_document(settings, epoch=_epoch(row.connection_qualified_name)),
                              _app_view(row).schedule)
        document["metadata"]["name"] = slug
        if inputs.credential is None:
            document["payload"] = []  # the credential stays, or is the vaulted one named
        self.service.update(slug, document, principal,
                            credential_guid=None if inputs.credential is not None else inputs.credential_guid)
        return self.get(slug)

    def delete(self, slug: str, principal: Principal) -> None:
        """Archive the workflow (its runs and its connection's assets stay; its schedule stops with it)."""
        self._row(slug)
        self.service.archive(slug, principal)

    def add_schedule(self, slug: str, schedule: AppSchedule, principal: Principal) -> AppView:
        """Schedule the workflow (a workflow has one schedule: this one replaces any other)."""
        self.service.update(slug, _scheduled(self._row(slug).document, schedule), principal)
        return self.get(slug)

    def remove_schedule(self, slug: str, trigger_id: str, principal: Principal) -> None:
        app = self.get(slug)
        self.service.authorize(principal, Action.CHANGE_WORKFLOW, slug)
        if app.trigger_id is None or trigger_id != app.trigger_id:
            raise NotFound(f"App workflow {slug!r} has no schedule {trigger_id!r}")
        self.service.update(slug, _scheduled(app.workflow.document, None), principal)

    # -- running -----------------------------------------------------------------------------------

    def submit(self, slug: str, principal: Principal) -> RunView:
        """Start a run; refused (409) while another is Pending or Running."""
        self._row(slug)
        return self.service.rerun(slug, principal, exclusive=True)

    def cancel(self, run_id: str, principal: Principal) -> tuple[RunView, bool]:
        """Stop a run; whether it was still active (a Running one stops at its next page)."""
        was = self.run(run_id)
        return self.service.stop(run_id, principal), was.active


def runs_of_apps() -> sa.Select[Any]:
    """Runs of app workflows, each with its workflow's display name (for the searches on them)."""
    return sa.select(runs, workflows.c.app_name).join(workflows, workflows.c.name == runs.c.workflow_name).where(
        workflows.c.app_name.is_not(None))
