"""Creating a Glue crawler in the browser (`/workflows/new`).

The form has pyatlan's GlueCrawler's fields and what Atlan's Glue app adds (a role to assume, the catalog id, a
regex of tables to leave out); `WorkflowService.create_crawler` stores the workflow and starts its first run.
"Preview databases" lists the databases the keys (or the role) can see, to tick for include/exclude. The secret
key is never sent back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from pydantic import SecretStr

from gazetteer.assets.service import find_connection
from gazetteer.auth.permissions import Action, authorize
from gazetteer.auth.principal import ROLES, Principal
from gazetteer.auth.service import list_groups, list_roles
from gazetteer.errors import GazetteerError, InvalidRequest
from gazetteer.packages.glue.client import GlueError, GlueReader
from gazetteer.packages.glue.config import GlueCrawlConfig, known_regions, parse_config
from gazetteer.packages.glue.settings import glue_settings
from gazetteer.packages.glue.workflow import GlueCrawlerSettings
from gazetteer.web.ui.routing import FormDep, UserDep, render, router
from gazetteer.workflows.views import workflows_by_connection

__all__ = ["CrawlerForm", "preview_databases"]

MAX_PREVIEW = 2000
_PREVIEW_ATTEMPTS = 2
_DEFAULT_REGION = "us-east-1"


def _regions() -> list[str]:
    return sorted(known_regions())


def _names(text: str) -> list[str]:
    parts = [part.strip() for part in text.replace("\n", ",").split(",")]
    return list(dict.fromkeys(part for part in parts if part))


def _flag(form: dict[str, list[str]], name: str) -> bool:
    return (form.get(name) or [""])[-1] in ("on", "true", "1", "yes")


def _one(form: dict[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[0].strip()


@dataclass
class CrawlerForm:
    """What the user typed (never the secret key once it has been used)."""

    connection_name: str = ""
    admin_roles: list[str] = field(default_factory=list)  # role ids, as pyatlan sends them
    admin_groups: str = ""
    admin_users: str = ""
    allow_query: bool = False
    allow_query_preview: bool = False
    row_limit: str = "0"
    access_key: str = ""
    role_arn: str = ""
    external_id: str = ""
    region: str = _DEFAULT_REGION
    catalog_id: str = ""
    exclude_table_regex: str = ""
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    create_anyway: bool = False

    @classmethod
    def from_form(cls, form: dict[str, list[str]]) -> CrawlerForm:
        return cls(
            connection_name=_one(form, "connection_name"), admin_roles=[r for r in form.get("admin_roles", []) if r],
            admin_groups=_one(form, "admin_groups"), admin_users=_one(form, "admin_users"),
            allow_query=_flag(form, "allow_query"), allow_query_preview=_flag(form, "allow_query_preview"),
            row_limit=_one(form, "row_limit") or "0", access_key=_one(form, "access_key"),
            role_arn=_one(form, "role_arn"), external_id=_one(form, "external_id"),
            region=_one(form, "region") or _DEFAULT_REGION, catalog_id=_one(form, "catalog_id"),
            exclude_table_regex=(form.get("exclude_table_regex") or [""])[0],
            include=list(dict.fromkeys(v for v in form.get("include", []) if v)),
            exclude=list(dict.fromkeys(v for v in form.get("exclude", []) if v)),
            create_anyway=_flag(form, "create_anyway"),
        )


def _roles(engine: Any) -> list[dict[str, str]]:
    """The built-in roles with their ids, in the order $admin, $member, $guest."""
    records = {record["name"]: record["id"] for record in list_roles(engine).records}
    return [{"name": name, "id": records[name]} for name in ROLES if name in records]


def _context(request: Request, form: CrawlerForm, **extra: Any) -> dict[str, Any]:
    engine = request.app.state.engine
    groups = [record["name"] for record in list_groups(engine, limit=500).records]
    databases = list(dict.fromkeys([*form.include, *form.exclude]))
    return {"form": form, "roles": _roles(engine), "groups": groups, "regions": _regions(),
            "databases": [{"name": name} for name in databases], **extra}


def _check_writer(user: Principal) -> None:
    authorize(user, Action.CREATE_WORKFLOW, what="(ask a $admin for a $member or $admin token)")


@router.get("/workflows/new")
def new_crawler(request: Request, user: UserDep) -> Response:
    _check_writer(user)
    engine = request.app.state.engine
    roles = _roles(engine)
    form = CrawlerForm(admin_roles=[r["id"] for r in roles if r["name"] == "$admin"],
                       admin_users="" if user.is_admin else user.username)
    return render(request, "new_crawler.html", _context(request, form))


class _FormProblem(Exception):
    def __init__(self, message: str, field_name: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field_name


def _validate(request: Request, form: CrawlerForm, secret_key: str) -> int:
    if not form.connection_name:
        raise _FormProblem("Give the connection a name: the crawled assets live under it.", "connection_name")
    known_roles = {role["id"] for role in _roles(request.app.state.engine)}
    if any(role not in known_roles for role in form.admin_roles):
        raise _FormProblem("Choose admin roles from the list.", "admin_roles")
    if not (form.admin_roles or _names(form.admin_groups) or _names(form.admin_users)):
        raise _FormProblem("A connection needs at least one admin: tick a role, or name a group or a user.",
                           "admin_roles")
    try:
        row_limit = int(form.row_limit)
    except ValueError:
        raise _FormProblem(f"The row limit must be a whole number, not {form.row_limit!r}.", "row_limit") from None
    if row_limit < 0:
        raise _FormProblem("The row limit must not be negative.", "row_limit")
    if bool(form.access_key) != bool(secret_key) or not (form.access_key or form.role_arn):
        raise _FormProblem("Give the IAM user's access key and secret key, or a role to assume, or both (the secret "
                           "key is never shown again and has to be typed again after a failed submit).", "access_key")
    if form.region not in known_regions():
        raise _FormProblem(f"Unknown region {form.region!r}: pick one from the list.", "region")
    try:
        _config(form, secret_key)
    except InvalidRequest as problem:
        message = problem.message.removeprefix("Invalid Glue crawl settings: ")
        named = [name for name in ("exclude_table_regex", "catalog_id", "external_id", "role_arn")
                 if name in message or name.replace("_", " ") in message]
        raise _FormProblem(message, named[0] if named else "role_arn") from None
    both = sorted(set(form.include) & set(form.exclude))
    if both:
        raise _FormProblem(f"{', '.join(both)} is both included and excluded; exclude wins, so untick one.",
                           "include")
    return row_limit


def _config(form: CrawlerForm, secret_key: str) -> GlueCrawlConfig:
    """The crawl settings the form describes, checked as a crawl would check them (InvalidRequest says why)."""
    return parse_config(connection_name=form.connection_name or "preview", region=form.region,
                        access_key=form.access_key or None, secret_key=SecretStr(secret_key) if secret_key else None,
                        role_arn=form.role_arn or None, external_id=form.external_id or None,
                        catalog_id=form.catalog_id or None, exclude_table_regex=form.exclude_table_regex or None)


def _settings(form: CrawlerForm, secret_key: str, row_limit: int) -> GlueCrawlerSettings:
    return GlueCrawlerSettings(
        connection_name=form.connection_name, region=form.region, access_key=form.access_key or None,
        secret_key=secret_key or None, role_arn=form.role_arn or None, external_id=form.external_id or None,
        admin_roles=tuple(form.admin_roles), admin_groups=tuple(_names(form.admin_groups)),
        admin_users=tuple(_names(form.admin_users)), include=tuple(form.include), exclude=tuple(form.exclude),
        catalog_id=form.catalog_id or None, exclude_table_regex=form.exclude_table_regex or None,
        allow_query=form.allow_query, allow_query_preview=form.allow_query_preview, row_limit=row_limit)


@router.post("/workflows/new")
def create_crawler(request: Request, user: UserDep, raw: FormDep) -> Response:
    _check_writer(user)
    form = CrawlerForm.from_form(raw)
    secret_key = (raw.get("secret_key") or [""])[0].strip()
    try:
        row_limit = _validate(request, form, secret_key)
    except _FormProblem as problem:
        return render(request, "new_crawler.html", _context(request, form, error=problem.message,
                                                             error_field=problem.field), status=400)
    existing = find_connection(request.app.state.engine, form.connection_name)
    if existing and not form.create_anyway:
        workflows = workflows_by_connection(request.app.state.engine).get(existing, [])
        return render(request, "new_crawler.html", _context(
            request, form, existing=existing, existing_workflows=workflows,
            error=f"A connection named {form.connection_name!r} already exists."), status=409)
    try:
        created = request.app.state.workflows.create_crawler(_settings(form, secret_key, row_limit), user)
    except GazetteerError as exc:
        return render(request, "new_crawler.html", _context(request, form, error=exc.message), status=400)
    return RedirectResponse(f"/workflows/{created.name}?created=1", status_code=303)


def preview_databases(config: GlueCrawlConfig, max_attempts: int) -> list[dict[str, Any]]:
    """The databases these keys (or this role) can see in this region and catalog (GlueError when they cannot)."""
    reader = GlueReader(config, max_attempts=max_attempts)
    found: list[dict[str, Any]] = []
    for page in reader.databases():
        for database in page:
            found.append({"name": database.get("Name"), "description": database.get("Description"),
                          "link": bool(database.get("TargetDatabase"))})
        if len(found) >= MAX_PREVIEW:
            break
    return sorted(found[:MAX_PREVIEW], key=lambda d: str(d["name"]).lower())


@router.post("/workflows/new/databases")
def databases_fragment(request: Request, user: UserDep, raw: FormDep) -> Response:
    """The include/exclude checkboxes for the databases the typed keys can see, or why they cannot."""
    _check_writer(user)
    form = CrawlerForm.from_form(raw)
    secret_key = (raw.get("secret_key") or [""])[0].strip()
    keep = [{"name": name} for name in dict.fromkeys([*form.include, *form.exclude])]
    if not (form.access_key and secret_key) and not form.role_arn:
        return render(request, "_databases.html", {"form": form, "databases": keep, "preview_error": (
            "Type the access key and the secret key (or a role) first; the preview uses them to list the databases.")})
    attempts = min(_PREVIEW_ATTEMPTS, glue_settings().max_attempts)
    try:
        databases = preview_databases(_config(form, secret_key), attempts)
    except GlueError as exc:
        return render(request, "_databases.html", {"form": form, "databases": keep, "preview_error": (
            f"Glue did not list the databases: {exc}. Check the keys and the region.")})
    except GazetteerError as exc:
        return render(request, "_databases.html", {"form": form, "databases": keep, "preview_error": exc.message})
    names = {d["name"] for d in databases}
    databases += [{"name": d["name"], "missing": True} for d in keep if d["name"] not in names]
    return render(request, "_databases.html", {"form": form, "databases": databases, "previewed": True})
