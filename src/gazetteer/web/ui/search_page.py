"""The search page (`/`): instant full-text results with facets, through the asset search API.

Facets are disjunctive, as people expect: the counts of one facet are those of the search with every
*other* facet's selection applied, so ticking "Table" still shows how many Views there are. One search
answers the page and the facets nobody picked; each facet with a selection costs one more count-only search.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from sqlalchemy.engine import Engine

from gazetteer.assets.search import index_search
from gazetteer.web.ui.routing import UserDep, is_htmx, read_engine, render, router

__all__ = ["Facet", "FACETS", "PAGE_SIZE", "search_body", "run_search"]

PAGE_SIZE = 20
MAX_FROM = 10_000
_FACET_SIZE = 25
_ATTRIBUTES = ["description", "userDescription", "connectionName", "connectionQualifiedName", "databaseName",
               "schemaName", "tableName", "viewName", "dataType", "externalLocationFormat", "isPartitioned",
               "rowCount", "columnCount", "certificateStatus", "isPartition"]


@dataclass(frozen=True)
class Facet:
    param: str
    title: str
    field: str


FACETS = (
    Facet("type", "Type", "__typeName.keyword"),
    Facet("connection", "Connection", "connectionQualifiedName"),
    Facet("schema", "Schema", "schemaQualifiedName"),
    Facet("format", "Format", "externalLocationFormat"),
    Facet("partitioned", "Partitioned", "isPartitioned"),
)


def _facet_filter(facet: Facet, values: list[str]) -> dict[str, Any] | None:
    if facet.param == "partitioned":
        flags = {value == "true" for value in values if value in ("true", "false")}
        if len(flags) != 1:
            return None  # both ticked, or nonsense: no restriction
        return {"term": {facet.field: flags.pop()}}
    return {"terms": {facet.field: values}} if values else None


def _query(text: str, filters: list[dict[str, Any]]) -> dict[str, Any]:
    must = [{"multi_match": {"query": text, "operator": "and"}}] if text else []
    return {"bool": {"must": must, "filter": [{"term": {"__state": "ACTIVE"}}, *filters]}}


def search_body(text: str, selected: dict[str, list[str]], page: int = 1) -> dict[str, Any]:
    """The indexsearch body of the results page: every selection applied, facets without a selection."""
    filters = [f for facet in FACETS if (f := _facet_filter(facet, selected.get(facet.param, [])))]
    dsl: dict[str, Any] = {
        "from": min((page - 1) * PAGE_SIZE, MAX_FROM), "size": PAGE_SIZE, "query": _query(text, filters),
        "aggregations": {facet.param: {"terms": {"field": facet.field, "size": _FACET_SIZE}}
                         for facet in FACETS if _facet_filter(facet, selected.get(facet.param, [])) is None},
    }
    if not text:
        dsl["sort"] = [{"name.keyword": {"order": "asc"}}]
    return {"dsl": dsl, "attributes": _ATTRIBUTES}


def _facet_body(text: str, selected: dict[str, list[str]], facet: Facet) -> dict[str, Any]:
    filters = [f for other in FACETS if other is not facet
               and (f := _facet_filter(other, selected.get(other.param, [])))]
    return {"dsl": {"from": 0, "size": 0, "query": _query(text, filters),
                    "aggregations": {facet.param: {"terms": {"field": facet.field, "size": _FACET_SIZE}}}}}


def _bucket_key(facet: Facet, key: Any) -> str:
    if facet.param == "partitioned":
        return "true" if key in (True, 1, "true", "1", "t") else "false"
    return str(key)


def _connection_names(engine: Engine) -> dict[str, str]:
    body = {"dsl": {"from": 0, "size": 1000, "query": {"bool": {"filter": [
        {"term": {"__typeName.keyword": "Connection"}}, {"term": {"__state": "ACTIVE"}}]}}}}
    return {e["attributes"]["qualifiedName"]: e["attributes"]["name"]
            for e in index_search(engine, body).get("entities", [])}


def _label(facet: Facet, key: str, connections: dict[str, str], several_connections: bool) -> str:
    if facet.param == "connection":
        return connections.get(key, key)
    if facet.param == "schema":
        # <connection: 3 parts>/<catalog>/<schema name>: the schema's own name may hold slashes.
        name = "/".join(key.split("/")[4:]) or key.rsplit("/", 1)[-1]
        if several_connections:
            prefix = next((n for qn, n in connections.items() if key.startswith(qn + "/")), None)
            return f"{prefix} › {name}" if prefix else name
        return name
    if facet.param == "partitioned":
        return "Partitioned" if key == "true" else "Not partitioned"
    return key


def _breadcrumb(entity: dict[str, Any]) -> list[str]:
    attributes, kind = entity["attributes"], entity["typeName"]
    path = [attributes.get("connectionName")]
    if kind not in ("Connection", "Database"):
        path.append(attributes.get("databaseName"))
    if kind in ("Table", "View", "Column"):
        path.append(attributes.get("schemaName"))
    if kind == "Column":
        path.append(attributes.get("tableName") or attributes.get("viewName"))
    return [part for part in path if part] if kind != "Connection" else []


def run_search(engine: Engine, text: str, selected: dict[str, list[str]], page: int) -> dict[str, Any]:
    """Everything the results template shows: hits, total, facets with counts, paging."""
    answer = index_search(engine, search_body(text, selected, page))
    aggregations = dict(answer.get("aggregations") or {})
    for facet in FACETS:
        if facet.param not in aggregations:
            aggregations.update(index_search(engine, _facet_body(text, selected, facet)).get("aggregations") or {})
    connections = _connection_names(engine)
    several = len(connections) > 1
    facets = []
    for facet in FACETS:
        chosen = selected.get(facet.param, [])
        buckets = (aggregations.get(facet.param) or {}).get("buckets") or []
        values = [{"key": _bucket_key(facet, b["key"]), "count": b["doc_count"]} for b in buckets
                  if b.get("key") not in (None, "")]
        seen = {v["key"] for v in values}
        values += [{"key": key, "count": 0} for key in chosen if key not in seen]
        for value in values:
            value["label"] = _label(facet, value["key"], connections, several)
            value["checked"] = value["key"] in chosen
        if values:
            facets.append({"param": facet.param, "title": facet.title, "options": values,
                           "other": (aggregations.get(facet.param) or {}).get("sum_other_doc_count") or 0})
    total = int(answer.get("approximateCount") or 0)
    results = []
    for entity in answer.get("entities", []):
        attributes = entity["attributes"]
        results.append({
            "guid": entity["guid"], "type": entity["typeName"], "name": attributes.get("name"),
            "path": _breadcrumb(entity),
            "description": attributes.get("userDescription") or attributes.get("description"),
            "attributes": attributes,
        })
    pages = max(1, min((total + PAGE_SIZE - 1) // PAGE_SIZE, MAX_FROM // PAGE_SIZE + 1))
    return {"results": results, "total": total, "facets": facets, "page": page, "pages": pages,
            "filtered": any(selected.values()), "connections": connections}


def _selected(request: Request) -> dict[str, list[str]]:
    params = request.query_params
    return {facet.param: [v for v in params.getlist(facet.param) if v] for facet in FACETS}


def page_url(text: str, selected: dict[str, list[str]], page: int) -> str:
    pairs: list[tuple[str, str]] = [("q", text)] if text else []
    pairs += [(param, value) for param, values in selected.items() for value in values]
    if page > 1:
        pairs.append(("page", str(page)))
    return "/?" + urlencode(pairs) if pairs else "/"


@router.get("/")
def search_page(request: Request, user: UserDep, q: str = "", page: int = 1) -> Response:
    """The whole page, or (for htmx) only the results and facets."""
    text = q.strip()[:500]
    selected = _selected(request)
    page = max(1, page)
    found = run_search(read_engine(request), text, selected, page)  # the replica, if any
    context = {"q": text, "selected": selected, **found,
               "page_url": lambda number: page_url(text, selected, number), "page_url_clear": page_url(text, {}, 1)}
    if is_htmx(request):
        return render(request, "_results.html", context)
    return render(request, "search.html", context)
