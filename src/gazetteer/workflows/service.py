"""Workflow operations: create (from a document or a Glue crawler's settings), re-run, stop, update, archive.

Each hands back the core's typed views (`gazetteer.workflows.views`); the API renders them as Argo documents.
"""

from __future__ import annotations

import copy
import secrets
import string
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gazetteer.assets.publish import Publisher
from gazetteer.assets.service import connection_attributes
from gazetteer.auth.permissions import Action, authorize, may
from gazetteer.auth.principal import Principal
from gazetteer.credentials.vault import Vault
from gazetteer.errors import Conflict, InvalidRequest, NotFound
from gazetteer.packages.base import CREDENTIAL_PLACEHOLDER, WorkflowSpec
from gazetteer.packages.glue.workflow import GlueCrawlerSettings, glue_workflow_document
from gazetteer.packages.registry import package_for, package_named
from gazetteer.workflows.executors import Executor
from gazetteer.workflows.models import ACTIVE_PHASES, runs, workflows
from gazetteer.workflows.schedules import schedule_of
from gazetteer.workflows.views import RunView, WorkflowView, run, run_row, workflow, workflow_row, workflow_view

__all__ = ["WorkflowService"]

_SUFFIX = string.ascii_lowercase + string.digits
# Crawler names are atlan-glue-<epoch>: one made in the same second as another takes the next free second.
_CRAWLER_NAME_ATTEMPTS = 6


def _now() -> datetime:
    return datetime.now(UTC)


def _substitute(value: Any, guid: str) -> Any:
    """Replace the credential placeholder everywhere in a document (it sits inside JSON strings too)."""
    if isinstance(value, str):
        return value.replace(CREDENTIAL_PLACEHOLDER, guid)
    if isinstance(value, list):
        return [_substitute(item, guid) for item in value]
    if isinstance(value, dict):
        return {key: _substitute(item, guid) for key, item in value.items()}
    return value


def _stored(document: dict[str, Any], guid: str) -> dict[str, Any]:
    """What is kept of a submitted workflow: metadata and spec, never the payload (it holds the secret)."""
    return {"metadata": copy.deepcopy(document.get("metadata") or {}), "spec": _substitute(document.get("spec"), guid)}


class WorkflowService:
    """The workflow API's operations over one catalog, one vault and one executor."""

    def __init__(self, engine: Engine, vault: Vault, executor: Executor) -> None:
        self.engine = engine
        self.vault = vault
        self.executor = executor

    # -- permissions -------------------------------------------------------------------------------

    def _connection(self, row: Any) -> dict[str, Any]:
        """The workflow's connection as the catalog stores it (what its admins are checked against)."""
        return (connection_attributes(self.engine, row.connection_qualified_name)
                or package_named(row.package).parse(row.document).connection)

    def _authorize(self, principal: Principal, action: Action, row: Any) -> None:
        authorize(principal, action, self._connection(row), what=f"(workflow {row.name!r})")

    def authorize(self, principal: Principal, action: Action, workflow_name: str) -> None:
        """Raise PermissionDenied unless `principal` may do `action` to this workflow (before anything is read
        from a request about it)."""
        self._authorize(principal, action, workflow_row(self.engine, workflow_name))

    def may(self, principal: Principal, action: Action, workflow_name: str) -> bool:
        """Whether `principal` may do `action` to this workflow (what the UI asks before showing a button)."""
        return may(principal, action, self._connection(workflow_row(self.engine, workflow_name)))

    def lend(self, principal: Principal, guid: str) -> dict[str, Any]:
        """The vaulted credential `guid`, for a workflow `principal` creates or changes: only a credential of a
        workflow whose connection `principal` may crawl ($admin: any), so nobody crawls with another team's keys.
        """
        with self.engine.connect() as conn:
            owners = conn.execute(sa.select(workflows).where(workflows.c.credential_guid == guid)).all()
        connections = [self._connection(row) for row in owners]
        if not any(may(principal, Action.CRAWL_CONNECTION, connection) for connection in connections):
            authorize(principal, Action.CRAWL_CONNECTION, connections[0] if connections else None,
                      what=f"(with credential {guid!r})")
        return self.vault.load(guid)

    def _publish_connection(self, spec: WorkflowSpec, credential: dict[str, Any], guid: str, actor: str) -> None:
        record = package_named(spec.package).connection_record(spec, credential, guid)
        Publisher(self.engine, actor=actor).publish([record])

    # -- writing -----------------------------------------------------------------------------------

    def create(self, document: Any, principal: Principal, *, submit: bool, credential_guid: str | None = None,
               app_name: str | None = None) -> WorkflowView:
        """Store a new workflow: vault its credential, create its connection, optionally start a run.

        A workflow for a connection that exists already needs its admins' say-so (the stored admins, not
        the ones the document names), and never takes a connection another live workflow crawls.
        `credential_guid` names a credential already in the vault, used instead of one in the document's payload
        (see `lend`); `app_name` is the display name the app API gives the workflow (unique among live ones).
        """
        authorize(principal, Action.CREATE_WORKFLOW)
        if not isinstance(document, dict):
            raise InvalidRequest("The body must be a workflow JSON object, as GlueCrawler(...).to_workflow() makes")
        package = package_for(document)
        parsed = package.parse(document)
        schedule_of(document)
        if credential_guid is not None:
            if parsed.credential is not None:
                raise InvalidRequest("Give the credential in payload or as a vaulted credential's guid, not both")
            credential = self.lend(principal, credential_guid)
        elif parsed.credential is None:
            raise InvalidRequest("The workflow carries no credential in payload: call .iam_user_auth(...) and "
                                 ".direct(region=...) on the crawler")
        else:
            credential = parsed.credential
        package.check(parsed, credential)
        connection_qn = parsed.connection["qualifiedName"]
        existing = connection_attributes(self.engine, connection_qn)
        if existing is not None:
            authorize(principal, Action.CRAWL_CONNECTION, existing, what=f"({connection_qn!r})")
        with self.engine.connect() as conn:
            if conn.execute(sa.select(workflows.c.id).where(workflows.c.name == parsed.name)).first():
                raise Conflict(f"A workflow named {parsed.name!r} already exists; re-run it with POST "
                               "/api/service/workflows/submit instead")
            holder = conn.execute(sa.select(workflows.c.name).where(
                workflows.c.connection_qualified_name == connection_qn, workflows.c.archived.is_(False))).scalar()
        if holder is not None:
            raise Conflict(f"Connection {connection_qn!r} is already crawled by workflow {holder!r}: re-run that "
                           "workflow (POST /api/service/workflows/submit) or update it instead of creating another")
        guid = credential_guid or self.vault.store(
            credential, name=str(credential.get("name") or f"{parsed.name}-credential"))
        now = _now()
        try:
            with self.engine.begin() as conn:
                conn.execute(workflows.insert().values(
                    name=parsed.name, namespace=parsed.namespace, uid=str(uuid.uuid4()), package=package.name,
                    connection_qualified_name=connection_qn, credential_guid=guid, app_name=app_name,
                    document=_stored(document, guid), created_at=now, updated_at=now, created_by=principal.username))
        except BaseException as error:
            if credential_guid is None:
                self.vault.delete(guid)  # a workflow that was not stored leaves no credential behind
            if isinstance(error, sa.exc.IntegrityError):
                raise Conflict(f"A workflow named {parsed.name!r}, or one for connection {connection_qn!r}"
                               f"{'' if app_name is None else f', or one called {app_name!r}'}, already exists; "
                               "re-run it with POST /api/service/workflows/submit instead") from None
            raise
        if existing is None:
            self._publish_connection(parsed, credential, guid, principal.username)
        answer = workflow(self.engine, parsed.name)
        if submit:
            self.start_run(parsed.name, principal.username)
        return answer

    def create_crawler(self, settings: GlueCrawlerSettings, principal: Principal) -> WorkflowView:
        """Create a Glue crawler and start its first run: the workflow pyatlan's GlueCrawler would submit."""
        epoch = int(time.time())
        for attempt in range(_CRAWLER_NAME_ATTEMPTS):
            try:
                return self.create(glue_workflow_document(settings, epoch=epoch + attempt), principal, submit=True)
            except Conflict:
                if attempt == _CRAWLER_NAME_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def start_run(self, workflow_name: str, creator: str) -> RunView:
        """Queue a new run of a workflow (the executor starts it when the workflow is free)."""
        name = f"{workflow_name}-{''.join(secrets.choice(_SUFFIX) for _ in range(5))}"
        with self.engine.begin() as conn:
            conn.execute(runs.insert().values(name=name, uid=str(uuid.uuid4()), workflow_name=workflow_name,
                                              template_refs=[workflow_name, name], phase="Pending", progress="0/1",
                                              created_at=_now(), dispatched_at=_now(), created_by=creator))
        self.executor.submit(workflow_name)
        return run(self.engine, name)

    def rerun(self, workflow_name: str, principal: Principal, *, exclusive: bool = False) -> RunView:
        """Start a new run of a workflow; one queued behind an active run stays Pending until it ends, unless
        `exclusive` (the app API's submit), which refuses to start one while another is Pending or Running."""
        row = workflow_row(self.engine, workflow_name)
        self._authorize(principal, Action.RUN_WORKFLOW, row)
        if exclusive:
            with self.engine.connect() as conn:
                active = conn.execute(sa.select(runs.c.name, runs.c.phase).where(
                    runs.c.workflow_name == row.name, runs.c.phase.in_(ACTIVE_PHASES)).limit(1)).first()
            if active is not None:
                raise Conflict(f"Workflow {row.name!r} has a run already {active.phase}: {active.name!r}; wait for it "
                               "to end or cancel it")
        return self.start_run(row.name, principal.username)

    def plan(self, workflow_name: str, principal: Principal) -> dict[str, Any]:
        """What a run of the workflow would change now (a run report with `plan`: true), worked out from the
        source without writing anything. Whoever may run the workflow may plan it; not while a run of it is
        Running: the plan would race it for the same rows."""
        row = workflow_row(self.engine, workflow_name)
        self._authorize(principal, Action.RUN_WORKFLOW, row)
        with self.engine.connect() as conn:
            running = conn.execute(sa.select(runs.c.name).where(
                runs.c.workflow_name == row.name, runs.c.phase == "Running").limit(1)).scalar()
        if running is not None:
            raise Conflict(f"Workflow {row.name!r} is running ({running!r}): plan it once that run ends")
        package = package_named(row.package)
        return package.plan(self.engine, package.parse(row.document), self.vault.load(row.credential_guid),
                            credential_guid=row.credential_guid)

    def stop(self, run_name: str, principal: Principal) -> RunView:
        """Stop a run: a Pending one ends at once as Failed, a Running one stops at its next page."""
        stopping = run_row(self.engine, run_name)
        with self.engine.connect() as conn:
            owner = conn.execute(sa.select(workflows).where(workflows.c.name == stopping.workflow_name)).first()
        if owner is None:  # a run whose workflow is gone has no connection admins: $admin only
            authorize(principal, Action.RUN_WORKFLOW, None, what=f"(run {run_name!r})")
        else:
            self._authorize(principal, Action.RUN_WORKFLOW, owner)
        with self.engine.begin() as conn:
            stopped = conn.execute(runs.update().where(runs.c.name == run_name, runs.c.phase == "Pending").values(
                phase="Failed", message="Stopped before it started.", finished_at=_now(), stop_requested=True))
            if not stopped.rowcount:
                conn.execute(runs.update().where(runs.c.name == run_name, runs.c.phase == "Running")
                             .values(stop_requested=True))
        answer = run(self.engine, run_name)
        self.executor.request_stop(run_name)
        return answer

    def archive(self, name: str, principal: Principal) -> WorkflowView:
        """Archive a workflow (its runs and its connection's assets stay); active runs are stopped.

        Returns the workflow as it was just before.
        """
        row = workflow_row(self.engine, name)
        self._authorize(principal, Action.CHANGE_WORKFLOW, row)
        with self.engine.begin() as conn:
            conn.execute(workflows.update().where(workflows.c.id == row.id).values(archived=True, updated_at=_now()))
            active = conn.execute(sa.select(runs.c.name).where(
                runs.c.workflow_name == name, runs.c.phase.in_(ACTIVE_PHASES))).scalars().all()
        for run_name in active:
            self.stop(run_name, principal)
        return workflow_view(row)

    def change_owner(self, name: str, username: Any, principal: Principal) -> WorkflowView:
        """Make another user the workflow's owner (pyatlan's update_owner)."""
        from gazetteer.auth.models import users

        row = workflow_row(self.engine, name)
        self._authorize(principal, Action.CHANGE_WORKFLOW, row)
        if not isinstance(username, str) or not username:
            raise InvalidRequest("Give the new owner as ?username=<user name>")
        with self.engine.begin() as conn:
            if conn.execute(sa.select(users.c.id).where(users.c.username == username)).first() is None:
                raise NotFound(f"User {username!r} does not exist")
            conn.execute(workflows.update().where(workflows.c.id == row.id)
                         .values(created_by=username, updated_at=_now()))
        return workflow(self.engine, name)

    def update(self, name: str, document: Any, principal: Principal, *,
               credential_guid: str | None = None) -> WorkflowView:
        """Replace a workflow's metadata and spec (schedules live in its annotations); the name stays.

        A credential in the document's payload replaces the stored one's body (or, when another workflow shares
        it, becomes a new one); `credential_guid` switches the workflow to another vaulted credential instead (one
        the caller may use: see `lend`).
        """
        row = workflow_row(self.engine, name)
        self._authorize(principal, Action.CHANGE_WORKFLOW, row)
        if not isinstance(document, dict) or (document.get("metadata") or {}).get("name") != name:
            raise InvalidRequest(f"The body must be the workflow JSON with metadata.name = {name!r}")
        package = package_for(document)
        if package.name != row.package:
            raise InvalidRequest(f"A workflow's package cannot change: this one runs {row.package}")
        parsed = package.parse(document)
        schedule_of(document)
        if parsed.connection.get("qualifiedName") != row.connection_qualified_name:
            raise InvalidRequest("A workflow's connection cannot change: create a new workflow for a new connection")
        guid = row.credential_guid
        if credential_guid is not None and credential_guid != guid:
            if parsed.credential is not None:
                raise InvalidRequest("Give the credential in payload or as a vaulted credential's guid, not both")
            guid = credential_guid
            credential = self.lend(principal, guid)
        else:
            credential = parsed.credential or self.vault.load(guid)
        package.check(parsed, credential)
        if parsed.credential is not None:
            with self.engine.connect() as conn:
                shared = conn.execute(sa.select(workflows.c.id).where(
                    workflows.c.credential_guid == guid, workflows.c.id != row.id).limit(1)).first()
            if shared is None:
                self.vault.update(guid, parsed.credential)
            else:  # the app API lends credentials: the other workflow keeps its keys
                guid = self.vault.store(parsed.credential,
                                        name=str(parsed.credential.get("name") or f"{name}-credential"))
        with self.engine.begin() as conn:
            conn.execute(workflows.update().where(workflows.c.id == row.id).values(
                document=_stored(document, guid), credential_guid=guid, generation=row.generation + 1,
                updated_at=_now()))
        # The connection's admins and settings take effect now, not at the next run: permissions read them.
        self._publish_connection(parsed, credential, guid, principal.username)
        return workflow(self.engine, name)
