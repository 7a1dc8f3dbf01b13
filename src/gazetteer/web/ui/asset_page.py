"""Asset pages (`/assets/{guid}`): breadcrumbs, details, columns with nested types, children, and inline
editing of the description and owners for those allowed (through update_curated).

The page and its fragments read the read replica (`read_engine`: the primary for a browser that just saved
something); the editor and the save read the primary, as they lead to a write."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.engine import Engine

from gazetteer.assets.entities import get_entity, update_curated
from gazetteer.assets.search import index_search
from gazetteer.auth.permissions import Action, may
from gazetteer.auth.principal import Principal
from gazetteer.errors import GazetteerError, InvalidRequest, NotFound
from gazetteer.web.ui.datatypes import is_nested, type_events
from gazetteer.web.ui.routing import FormDep, UserDep, is_htmx, read_engine, render, role_names, router

__all__ = ["asset_context"]

CHILDREN_PAGE = 100
_COLUMN_ATTRIBUTES = ["dataType", "description", "userDescription", "order", "isPartition", "partitionOrder",
                      "isNested"]
_CHILD_ATTRIBUTES = ["description", "userDescription", "rowCount", "sizeBytes", "columnCount",
                     "externalLocationFormat", "isPartitioned", "tableCount", "viewsCount", "schemaCount",
                     "isResourceLink"]
_ADMIN_ATTRIBUTES = ["adminUsers", "adminGroups", "adminRoles"]
# The ancestors an asset names, in breadcrumb order.
_ANCESTORS = (("Connection", "connectionQualifiedName"), ("Database", "databaseQualifiedName"),
              ("Schema", "schemaQualifiedName"), ("Table", "tableQualifiedName"), ("View", "viewQualifiedName"))
_FIELDS = ("description", "owners")


def _search(engine: Engine, query: dict[str, Any], *, size: int = 1000, start: int = 0,
            attributes: list[str] | None = None, relation_attributes: list[str] | None = None,
            sort: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    dsl: dict[str, Any] = {"from": start, "size": size, "query": query}
    if sort:
        dsl["sort"] = sort
    return index_search(engine, {"dsl": dsl, "attributes": attributes or [],
                                 "relationAttributes": relation_attributes or []})


def _ancestors(engine: Engine, entity: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Breadcrumbs (type, name, guid) from the connection down to the asset, and the connection's admins."""
    attributes = entity["attributes"]
    wanted = [(kind, attributes.get(key)) for kind, key in _ANCESTORS
              if attributes.get(key) and attributes.get(key) != attributes["qualifiedName"]]
    found: dict[str, dict[str, Any]] = {}
    if wanted:
        answer = _search(engine, {"terms": {"qualifiedName": [qn for _, qn in wanted]}},
                         attributes=_ADMIN_ATTRIBUTES)
        found = {e["attributes"]["qualifiedName"]: e for e in answer.get("entities", [])}
    crumbs = []
    for kind, qualified_name in wanted:
        hit = found.get(qualified_name)
        name = hit["attributes"]["name"] if hit else qualified_name.rsplit("/", 1)[-1]
        crumbs.append({"type": kind, "name": name, "guid": hit["guid"] if hit else None})
    if entity["typeName"] == "Connection":
        connection = attributes
    else:
        hit = found.get(attributes.get("connectionQualifiedName") or "")
        connection = hit["attributes"] if hit else {}
    return crumbs, connection


def may_edit(principal: Principal, connection: dict[str, Any]) -> bool:
    """What update_curated allows (the connection here is the stored one, read by the page's search)."""
    return may(principal, Action.EDIT_ASSET, connection)


def _columns(engine: Engine, entity: dict[str, Any]) -> list[dict[str, Any]]:
    relation = "columns"
    answer = _search(engine, {"term": {"__guid": entity["guid"]}}, size=1, attributes=[relation],
                     relation_attributes=_COLUMN_ATTRIBUTES)
    hits = answer.get("entities") or []
    columns = []
    for reference in (hits[0]["attributes"].get(relation) or []) if hits else []:
        attributes = reference.get("attributes") or {}
        data_type = attributes.get("dataType") or ""
        nested = bool(attributes.get("isNested")) or is_nested(data_type)
        columns.append({
            "guid": reference["guid"], "name": attributes.get("name"), "type": data_type,
            "nested": nested, "events": type_events(data_type) if nested else [],
            "description": attributes.get("userDescription") or attributes.get("description"),
            "order": attributes.get("order"), "partition": bool(attributes.get("isPartition")),
            "partition_order": attributes.get("partitionOrder"),
        })
    return columns


def _children(engine: Engine, entity: dict[str, Any], page: int) -> dict[str, Any] | None:
    """The assets one level down: a connection's and a database's schemas, a schema's tables and views."""
    kind, qualified_name = entity["typeName"], entity["attributes"]["qualifiedName"]
    if kind == "Connection":
        title, types, field = "Schemas", ["Schema"], "connectionQualifiedName"
    elif kind == "Database":
        title, types, field = "Schemas", ["Schema"], "databaseQualifiedName"
    elif kind == "Schema":
        title, types, field = "Tables and views", ["Table", "View"], "schemaQualifiedName"
    else:
        return None
    query = {"bool": {"filter": [{"terms": {"__typeName.keyword": types}}, {"term": {"__state": "ACTIVE"}},
                                 {"term": {field: qualified_name}}]}}
    answer = _search(engine, query, size=CHILDREN_PAGE, start=(page - 1) * CHILDREN_PAGE,
                     attributes=_CHILD_ATTRIBUTES, sort=[{"name.keyword": {"order": "asc"}}])
    total = int(answer.get("approximateCount") or 0)
    items = [{"guid": e["guid"], "type": e["typeName"], "name": e["attributes"]["name"],
              "description": e["attributes"].get("userDescription") or e["attributes"].get("description"),
              "attributes": e["attributes"]} for e in answer.get("entities", [])]
    return {"title": title, "items": items, "total": total, "page": page,
            "pages": max(1, (total + CHILDREN_PAGE - 1) // CHILDREN_PAGE)}


def _workflows(engine: Engine, connection_qn: str) -> list[dict[str, Any]]:
    from gazetteer.web.ui.workflow_pages import workflows_by_connection

    return workflows_by_connection(engine).get(connection_qn, [])


def asset_context(request: Request, user: Principal, guid: str, page: int = 1) -> dict[str, Any]:
    engine = read_engine(request)
    entity = get_entity(engine, guid=guid)["entity"]
    crumbs, connection = _ancestors(engine, entity)
    attributes = entity["attributes"]
    context: dict[str, Any] = {
        "entity": entity, "a": attributes, "kind": entity["typeName"], "crumbs": crumbs,
        "connection": connection, "can_edit": may_edit(user, connection), "columns": [], "children": None,
        "events": [], "workflows": [], "role_names": role_names(engine),
    }
    if entity["typeName"] in ("Table", "View"):
        context["columns"] = _columns(engine, entity)
    if entity["typeName"] == "Column" and is_nested(attributes.get("dataType")):
        context["events"] = type_events(attributes.get("dataType") or "")
    context["children"] = _children(engine, entity, max(1, page))
    if entity["typeName"] == "Connection":
        context["workflows"] = _workflows(engine, attributes["qualifiedName"])
    return context


@router.get("/assets/{guid}")
def asset_page(request: Request, user: UserDep, guid: str, page: int = 1) -> Response:
    return render(request, "asset.html", asset_context(request, user, guid, page))


def _field(field: str) -> str:
    if field not in _FIELDS:
        raise NotFound(f"Nothing called {field!r} can be edited here; edit the description or the owners.")
    return field


def _editable(engine: Engine, user: Principal, guid: str) -> dict[str, Any]:
    entity = get_entity(engine, guid=guid)["entity"]
    _, connection = _ancestors(engine, entity)
    return {"entity": entity, "a": entity["attributes"], "can_edit": may_edit(user, connection)}


@router.get("/assets/{guid}/{field}")
def show_field(request: Request, user: UserDep, guid: str, field: str) -> Response:
    """The description or owners as shown on the page (what Cancel goes back to)."""
    return render(request, f"_{_field(field)}.html", _editable(read_engine(request), user, guid))


@router.get("/assets/{guid}/{field}/edit")
def edit_field(request: Request, user: UserDep, guid: str, field: str) -> Response:
    # The primary: an editor must start from the stored text, not a replica's older one it would write back.
    context = _editable(request.app.state.engine, user, guid)
    if not context["can_edit"]:
        return render(request, f"_{_field(field)}.html", {**context, "error": (
            f"You ({user.username}) may not change this asset: only admins of its connection and $admin users may.")})
    return render(request, f"_{_field(field)}.html", {**context, "editing": True})


def _owners(text: str) -> list[str]:
    names = [name.strip() for name in text.replace("\n", ",").split(",")]
    return list(dict.fromkeys(name for name in names if name))


@router.post("/assets/{guid}/{field}")
def save_field(request: Request, user: UserDep, form: FormDep, guid: str, field: str) -> Response:
    """Save the description (empty = back to Glue's) or the owners (comma-separated user names)."""
    field = _field(field)
    if field == "description":
        text = (form.get("userDescription") or [""])[0].strip()
        if len(text) > 10_000:
            raise InvalidRequest("The description is longer than 10,000 characters; shorten it.")
        crawled = get_entity(request.app.state.engine, guid=guid)["entity"]["attributes"].get("description")
        # Saving Glue's text unchanged adds no override, so later Glue edits still show.
        changes: dict[str, Any] = {"userDescription": None if not text or text == crawled else text}
    else:
        changes = {"ownerUsers": _owners((form.get("ownerUsers") or [""])[0]) or None}
    try:
        entity = update_curated(request.app.state.engine, guid, user, changes)
    except GazetteerError as exc:
        if not is_htmx(request):
            raise  # a plain form post (before htmx took the form over): the error page

        context = _editable(request.app.state.engine, user, guid)
        return render(request, f"_{field}.html", {**context, "editing": context["can_edit"], "error": exc.message,
                                                   "draft": changes})
    if not is_htmx(request):
        return RedirectResponse(f"/assets/{guid}", status_code=303)
    return render(request, f"_{field}.html", {"entity": entity, "a": entity["attributes"], "can_edit": True,
                                               "saved": True})
