"""Asset pages (`/assets/{guid}`): breadcrumbs, details, columns with nested types, children, a view's tables
and a process's inputs and outputs; what people edit on them is `asset_editing`'s. `page_head` is shared with
the Lineage and History tabs.

The page reads the read replica (`read_engine`: the primary for a browser that just saved something)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.engine import Engine
from starlette.background import BackgroundTask

from gazetteer.assets.browse import ancestors_of, children_of, columns_of, nested_column_guids
from gazetteer.assets.datatypes import is_nested
from gazetteer.assets.popularity import record_view
from gazetteer.assets.records import GLOSSARY_TYPES
from gazetteer.assets.tagging import tags_by_guid
from gazetteer.assets.views import AssetView
from gazetteer.auth.permissions import Action, may
from gazetteer.auth.principal import Principal
from gazetteer.web.ui import error_pages
from gazetteer.web.ui.datatypes import linked_type_events
from gazetteer.web.ui.formatting import column_statistics, partitions
from gazetteer.web.ui.glossary_pages import glossary_url
from gazetteer.web.ui.lineage_data import NOT_PROCESS, endpoints, has_lineage, lineage_badge, walk
from gazetteer.web.ui.lineage_graph import is_process
from gazetteer.web.ui.routing import UserDep, read_engine, render, role_names, router
from gazetteer.workflows.views import ListedWorkflow, workflows_by_connection

__all__ = ["asset_context", "connection_of", "may_edit", "page_head"]

CHILDREN_PAGE = 100
# What the children `browse.children_of` lists are called, by the parent's type.
_CHILDREN_TITLES = {"Connection": "Schemas", "Database": "Schemas", "Schema": "Tables and views"}
# The types whose pages offer the Lineage tab even without lineage (to say where it would come from); any
# other asset offers it once it has some.
_LINEAGE_TAB_TYPES = ("Table", "View", "Column", "S3Object", "Process", "ColumnProcess")


def _ancestors(engine: Engine, asset: AssetView) -> tuple[list[dict[str, Any]], Mapping[str, Any]]:
    """Breadcrumbs (type, name, guid) from the connection down to the asset, and the connection's attributes."""
    attributes = asset.attributes
    ancestors = ancestors_of(engine, attributes)
    crumbs = [{"type": a.type_name, "name": a.asset.name if a.asset else a.qualified_name.rsplit("/", 1)[-1],
               "guid": a.asset.guid if a.asset else None} for a in ancestors]
    if asset.type_name == "Connection":
        return crumbs, attributes
    connection = next((a.asset for a in ancestors if a.asset and a.qualified_name == attributes.get(
        "connectionQualifiedName")), None)
    return crumbs, connection.attributes if connection else {}


def connection_of(engine: Engine, asset: AssetView) -> Mapping[str, Any]:
    """The attributes of the asset's connection as stored (who may edit it is decided on them)."""
    return _ancestors(engine, asset)[1]


def may_edit(principal: Principal, connection: Mapping[str, Any]) -> bool:
    """What update_curated allows (the connection here is the stored one, read by the page's search)."""
    return may(principal, Action.EDIT_ASSET, connection)


def _columns(engine: Engine, asset: AssetView) -> list[dict[str, Any]]:
    """A table's or view's columns, each with its type as a tree linking its nested columns, and statistics."""
    guids = nested_column_guids(engine, asset.qualified_name)
    columns = []
    for column in columns_of(engine, asset.guid):
        attributes = column.attributes
        data_type = attributes.get("dataType") or ""
        nested = bool(attributes.get("isNested")) or is_nested(data_type)
        columns.append({
            "guid": column.guid, "name": column.name, "type": data_type,
            "nested": nested, "events": linked_type_events(data_type, column.qualified_name, guids) if nested else [],
            "description": column.description, "order": attributes.get("order"),
            "partition": bool(attributes.get("isPartition")),
            "partition_order": attributes.get("partitionOrder"),
            "statistics": column_statistics(attributes),
        })
    return columns


def _children(engine: Engine, asset: AssetView, page: int) -> dict[str, Any] | None:
    """The assets one level down: a connection's and a database's schemas, a schema's tables and views."""
    kind = asset.type_name
    found = children_of(engine, kind, asset.qualified_name, start=(page - 1) * CHILDREN_PAGE, size=CHILDREN_PAGE)
    if found is None:
        return None
    items = [{"guid": child.guid, "type": child.type_name, "name": child.name, "description": child.description,
              "attributes": child.attributes} for child in found.assets]
    return {"title": _CHILDREN_TITLES[kind], "items": items, "total": found.total, "page": page,
            "pages": max(1, (found.total + CHILDREN_PAGE - 1) // CHILDREN_PAGE)}


def _workflows(engine: Engine, connection_qn: str) -> list[ListedWorkflow]:
    return workflows_by_connection(engine).get(connection_qn, [])


def page_head(engine: Engine, user: Principal, asset: AssetView, tab: str) -> dict[str, Any]:
    """What the header of an asset's pages shows (breadcrumbs, badges, the Overview and Lineage tabs)."""
    crumbs, connection = _ancestors(engine, asset)
    lineage = has_lineage(asset)
    return {"asset": asset, "a": asset.attributes, "kind": asset.type_name, "crumbs": crumbs,
            "connection": connection, "can_edit": may_edit(user, connection), "tab": tab, "has_lineage": lineage,
            "lineage_badge": lineage_badge(asset), "tags": tags_by_guid(engine, [asset.guid]).get(asset.guid, []),
            "lineage_tab": lineage or asset.type_name in _LINEAGE_TAB_TYPES}


def _process(engine: Engine, process: AssetView) -> dict[str, list[AssetView]]:
    """A process's inputs and outputs, and a column process's parent process, as assets to link."""
    return {key: endpoints(engine, process, key) for key in ("inputs", "outputs", "process")}


def asset_context(request: Request, user: Principal, guid: str, page: int = 1) -> dict[str, Any]:
    engine = read_engine(request)
    asset = error_pages.asset(engine, guid)
    attributes = asset.attributes
    context: dict[str, Any] = {
        **page_head(engine, user, asset, "overview"), "columns": [], "children": None, "events": [],
        "statistics": [], "workflows": [], "role_names": role_names(engine), "reads": [], "process": None,
    }
    if asset.type_name in ("Table", "View"):
        context["columns"] = _columns(engine, asset)
        context["partitions"] = partitions(attributes, [c["name"] for c in context["columns"] if c["partition"]])
    if asset.type_name == "Column":
        context["statistics"] = column_statistics(attributes)
    if asset.type_name == "Column" and is_nested(attributes.get("dataType")):
        table = attributes.get("tableQualifiedName") or attributes.get("viewQualifiedName")
        guids = nested_column_guids(engine, table, below=asset.qualified_name) if table else {}
        context["events"] = linked_type_events(attributes.get("dataType") or "", asset.qualified_name, guids)
    context["children"] = _children(engine, asset, max(1, page))
    if asset.type_name == "Connection":
        context["workflows"] = _workflows(engine, asset.qualified_name)
    if asset.type_name == "View" and has_lineage(asset):
        # "Reads:" under the SQL: what the view's process reads, one hop upstream.
        context["reads"] = [item.asset for item in walk(engine, asset, False, 1, NOT_PROCESS).reached]
    if is_process(asset):
        context["process"] = _process(engine, asset)
    return context


@router.get("/assets/{guid}")
def asset_page(request: Request, user: UserDep, guid: str, page: int = 1) -> Response:
    context = asset_context(request, user, guid, page)
    if context["kind"] in GLOSSARY_TYPES:  # search results link every asset here; the glossary has its own pages
        return RedirectResponse(glossary_url(context["asset"]), status_code=303)
    response = render(request, "asset.html", context)
    if may(user, Action.COUNT_VIEW):
        # A page view (popularity), counted on the primary once the page is sent: never a cost to the reader.
        response.background = BackgroundTask(record_view, request.app.state.engine, guid)
    return response
