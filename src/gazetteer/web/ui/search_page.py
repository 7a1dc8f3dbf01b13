"""The search page (`/`): instant full-text results with facets (`gazetteer.assets.text_search`).

Facets are disjunctive: ticking "Table" still shows how many Views there are (see `faceted_search`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from sqlalchemy.engine import Engine

from gazetteer.assets.browse import active_connections
from gazetteer.assets.text_search import FacetedQuery, faceted_search
from gazetteer.assets.views import AssetView
from gazetteer.web.ui.lineage_data import lineage_badge
from gazetteer.web.ui.routing import UserDep, is_htmx, read_engine, render, router

__all__ = ["Facet", "FACETS", "PAGE_SIZE", "faceted_query", "run_search"]

PAGE_SIZE = 20
MAX_FROM = 10_000


@dataclass(frozen=True)
class Facet:
    param: str  # its name in the URL and in `text_search.FACET_FIELDS`
    title: str


FACETS = (
    Facet("type", "Type"),
    Facet("connection", "Connection"),
    Facet("schema", "Schema"),
    Facet("format", "Format"),
    Facet("partitioned", "Partitioned"),
    Facet("landed", "Last landed"),
    Facet("term", "Glossary term"),
)
# The "landed" facet's windows (`text_search.LANDED`), as people read them.
_LANDED_LABELS = {"day": "In the last day", "week": "1 to 7 days ago", "month": "7 to 30 days ago",
                  "older": "Over 30 days ago"}


def _partitioned(values: list[str]) -> bool | None:
    flags = {value == "true" for value in values if value in ("true", "false")}
    return flags.pop() if len(flags) == 1 else None  # both ticked, or nonsense: no restriction


def faceted_query(text: str, selected: dict[str, list[str]], page: int = 1) -> FacetedQuery:
    """The search of the results page: the words, what is ticked in each facet, the page."""
    return FacetedQuery(
        text=text, types=tuple(selected.get("type", [])), connections=tuple(selected.get("connection", [])),
        schemas=tuple(selected.get("schema", [])), formats=tuple(selected.get("format", [])),
        partitioned=_partitioned(selected.get("partitioned", [])), landed=tuple(selected.get("landed", [])),
        terms=tuple(selected.get("term", [])),
        start=min((page - 1) * PAGE_SIZE, MAX_FROM),
        size=PAGE_SIZE)


def _shown(facet: Facet, key: Any) -> bool:
    """Whether a bucket is an option: a value, and in the schema facet a schema's (glossary terms keep their
    glossary's qualifiedName, which has no "/", where a table keeps its schema's: gazetteer.assets.glossary)."""
    return key not in (None, "") and not (facet.param == "schema" and "/" not in str(key))


def _bucket_key(facet: Facet, key: Any) -> str:
    if facet.param == "partitioned":
        return "true" if key in (True, 1, "true", "1", "t") else "false"
    return str(key)


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
    if facet.param == "landed":
        return _LANDED_LABELS.get(key, key)
    return key


def _breadcrumb(asset: AssetView) -> list[str]:
    attributes, kind = asset.attributes, asset.type_name
    path = [attributes.get("connectionName")]
    if kind not in ("Connection", "Database"):
        path.append(attributes.get("databaseName"))
    if kind in ("Table", "View", "Column"):
        path.append(attributes.get("schemaName"))
    if kind == "Column":
        path.append(attributes.get("tableName") or attributes.get("viewName"))
        hierarchy = attributes.get("columnHierarchy")  # a nested column's: the columns it is a field of
        if isinstance(hierarchy, list):
            path += [entry.get("name") for entry in hierarchy if isinstance(entry, dict)]
    return [part for part in path if part] if kind != "Connection" else []


def run_search(engine: Engine, text: str, selected: dict[str, list[str]], page: int) -> dict[str, Any]:
    """Everything the results template shows: hits, total, facets with counts, paging."""
    found = faceted_search(engine, faceted_query(text, selected, page))
    connections = {connection.qualified_name: connection.name for connection in active_connections(engine)}
    several = len(connections) > 1
    facets = []
    for facet in FACETS:
        chosen = selected.get(facet.param, [])
        counted = found.facets[facet.param]
        values: list[dict[str, Any]] = [{"key": _bucket_key(facet, bucket.key), "count": bucket.count}
                                        for bucket in counted.buckets if _shown(facet, bucket.key)]
        seen = {v["key"] for v in values}
        values += [{"key": key, "count": 0} for key in chosen if key not in seen]
        for value in values:
            value["label"] = _label(facet, value["key"], connections, several)
            value["checked"] = value["key"] in chosen
        if values:
            facets.append({"param": facet.param, "title": facet.title, "options": values, "other": counted.other})
    results = [{"guid": asset.guid, "type": asset.type_name, "name": asset.name, "path": _breadcrumb(asset),
                "description": asset.description, "attributes": asset.attributes,
                "lineage": lineage_badge(asset)} for asset in found.assets]
    pages = max(1, min((found.total + PAGE_SIZE - 1) // PAGE_SIZE, MAX_FROM // PAGE_SIZE + 1))
    return {"results": results, "total": found.total, "facets": facets, "page": page, "pages": pages,
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
