"""The home page and the search page (`/`): with no words and nothing ticked, the home page (recently changed,
most viewed, connections › schemas: bounded queries, no facets); otherwise instant full-text results with
facets (`gazetteer.assets.text_search`), sorted by relevance, name, last change or popularity.

Facets are disjunctive: ticking "Table" still shows how many Views there are (see `faceted_search`). The
connection and schema facets are shown as one tree, Connection › Schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from sqlalchemy.engine import Engine

from gazetteer.assets.browse import active_connections
from gazetteer.assets.home import browse_connections, recently_changed
from gazetteer.assets.popularity import most_viewed
from gazetteer.assets.text_search import SORTS, FacetedQuery, faceted_search
from gazetteer.assets.views import AssetView
from gazetteer.web.ui.lineage_data import lineage_badge
from gazetteer.web.ui.routing import UserDep, is_htmx, read_engine, render, router

__all__ = ["Facet", "FACETS", "PAGE_SIZE", "SORT_LABELS", "card", "faceted_query", "run_search", "home"]

PAGE_SIZE = 20
MAX_FROM = 10_000
MAX_TICKED = 100


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
    Facet("certificate", "Certificate"),
    Facet("owner", "Owners"),
    Facet("owner_group", "Owner groups"),
    Facet("tag", "Tags"),
    Facet("term", "Glossary term"),
)
# Shown as one tree (Connection › Schema) rather than as two lists.
_TREE = ("connection", "schema")
# "relevance" without words is by name (`text_search.SORTS`): one default whether or not words were typed, so
# typing after ticking filters still ranks.
SORT_LABELS = {"relevance": "Best match", "name": "Name", "changed": "Last changed", "popular": "Most viewed"}
_CERTIFICATES = {"VERIFIED": "Verified", "DRAFT": "Draft", "DEPRECATED": "Deprecated"}
# The "landed" facet's windows (`text_search.LANDED`), as people read them.
_LANDED_LABELS = {"day": "In the last day", "week": "1 to 7 days ago", "month": "7 to 30 days ago",
                  "older": "Over 30 days ago"}


def _partitioned(values: list[str]) -> bool | None:
    flags = {value == "true" for value in values if value in ("true", "false")}
    return flags.pop() if len(flags) == 1 else None  # both ticked, or nonsense: no restriction


def faceted_query(text: str, selected: dict[str, list[str]], page: int = 1, sort: str = "relevance"
                  ) -> FacetedQuery:
    """The search of the results page: the words, what is ticked in each facet, the page, the order."""
    return FacetedQuery(
        text=text, types=tuple(selected.get("type", [])), connections=tuple(selected.get("connection", [])),
        schemas=tuple(selected.get("schema", [])), formats=tuple(selected.get("format", [])),
        partitioned=_partitioned(selected.get("partitioned", [])), landed=tuple(selected.get("landed", [])),
        tags=tuple(selected.get("tag", [])), terms=tuple(selected.get("term", [])),
        certificates=tuple(selected.get("certificate", [])), owners=tuple(selected.get("owner", [])),
        owner_groups=tuple(selected.get("owner_group", [])),
        start=min((page - 1) * PAGE_SIZE, MAX_FROM), size=PAGE_SIZE, sort=sort)


def _shown(facet: Facet, key: Any) -> bool:
    """Whether a bucket is an option: a value, and in the schema facet a schema's (glossary terms keep their
    glossary's qualifiedName, which has no "/", where a table keeps its schema's: gazetteer.assets.glossary)."""
    return key not in (None, "") and not (facet.param == "schema" and "/" not in str(key))


def _bucket_key(facet: Facet, key: Any) -> str:
    if facet.param == "partitioned":
        return "true" if key in (True, 1, "true", "1", "t") else "false"
    return str(key)


def _label(facet: Facet, key: str, connections: dict[str, str]) -> str:
    if facet.param == "connection":
        return connections.get(key, key)
    if facet.param == "schema":
        # <connection: 3 parts>/<catalog>/<schema name>: the schema's own name may hold slashes (the tree shows
        # its connection above it).
        return "/".join(key.split("/")[4:]) or key.rsplit("/", 1)[-1]
    if facet.param == "partitioned":
        return "Partitioned" if key == "true" else "Not partitioned"
    if facet.param == "landed":
        return _LANDED_LABELS.get(key, key)
    if facet.param == "certificate":
        return _CERTIFICATES.get(key, key)
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


def card(asset: AssetView) -> dict[str, Any]:
    """What a result card shows of an asset: type, name, path, rows, owners, certificate, last change, lineage."""
    attributes = asset.attributes
    owners = [*(attributes.get("ownerUsers") or ()), *(attributes.get("ownerGroups") or ())]
    return {"guid": asset.guid, "type": asset.type_name, "name": asset.name, "path": _breadcrumb(asset),
            "description": asset.description, "attributes": attributes, "lineage": lineage_badge(asset),
            "rows": attributes.get("rowCount"), "owners": [str(owner) for owner in owners][:5],
            "certificate": attributes.get("certificateStatus"),
            "certificate_label": _CERTIFICATES.get(str(attributes.get("certificateStatus"))),
            "changed": asset.updated_at}


def _options(facet: Facet, counted: Any, chosen: list[str], connections: dict[str, str]) -> list[dict[str, Any]]:
    values: list[dict[str, Any]] = [{"key": _bucket_key(facet, bucket.key), "count": bucket.count}
                                    for bucket in counted.buckets if _shown(facet, bucket.key)]
    seen = {v["key"] for v in values}
    values += [{"key": key, "count": 0} for key in chosen if key not in seen]
    for value in values:
        value["label"] = _label(facet, value["key"], connections)
        value["checked"] = value["key"] in chosen
    return values


def _tree(connections: list[dict[str, Any]], schemas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The connection options, each with the schema options below it (a schema's key starts with its
    connection's); schemas of a connection not listed go under a connection entry of their own."""
    tree = [{**connection, "schemas": []} for connection in connections]
    for schema in schemas:
        parent = next((c for c in tree if schema["key"].startswith(c["key"] + "/")), None)
        if parent is None:
            parent = {"key": None, "label": "Other connections", "count": None, "checked": False, "schemas": []}
            tree.append(parent)
        parent["schemas"].append(schema)
    return tree


def run_search(engine: Engine, text: str, selected: dict[str, list[str]], page: int,
               sort: str = "relevance") -> dict[str, Any]:
    """Everything the results template shows: hits, total, facets with counts, the browse tree, paging."""
    found = faceted_search(engine, faceted_query(text, selected, page, sort))
    connections = {connection.qualified_name: connection.name for connection in active_connections(engine)}
    facets, options = [], {}
    for facet in FACETS:
        counted = found.facets[facet.param]
        options[facet.param] = values = _options(facet, counted, selected.get(facet.param, []), connections)
        if values and facet.param not in _TREE:
            facets.append({"param": facet.param, "title": facet.title, "options": values, "other": counted.other})
    tree = _tree(options["connection"], options["schema"])
    pages = max(1, min((found.total + PAGE_SIZE - 1) // PAGE_SIZE, MAX_FROM // PAGE_SIZE + 1))
    return {"results": [card(asset) for asset in found.assets], "total": found.total, "facets": facets,
            "tree": tree, "page": page, "pages": pages, "page_size": PAGE_SIZE,
            "past_end": page > pages and found.total > 0,
            "filtered": any(selected.values()), "connections": connections, "sort": sort,
            "sorts": list(SORT_LABELS.items())}


def home(engine: Engine) -> dict[str, Any]:
    """The home page: recently changed tables and views, the most viewed assets, connections › schemas."""
    return {"changed": [card(asset) for asset in recently_changed(engine)],
            "viewed": [{**card(asset), "views": views} for asset, views in most_viewed(engine)],
            "browse": browse_connections(engine)}


def _selected(request: Request) -> dict[str, list[str]]:
    """What is ticked in each facet (at most MAX_TICKED values each: a facet offers FACET_SIZE; a hand-made URL
    may hold thousands)."""
    params = request.query_params
    return {facet.param: list(dict.fromkeys(v for v in params.getlist(facet.param) if v))[:MAX_TICKED]
            for facet in FACETS}


def page_url(text: str, selected: dict[str, list[str]], page: int, sort: str = "") -> str:
    pairs: list[tuple[str, str]] = [("q", text)] if text else []
    pairs += [(param, value) for param, values in selected.items() for value in values]
    if sort and sort != "relevance":
        pairs.append(("sort", sort))
    if page > 1:
        pairs.append(("page", str(page)))
    return "/?" + urlencode(pairs) if pairs else "/"


@router.get("/")
def search_page(request: Request, user: UserDep, q: str = "", page: int = 1, sort: str = "") -> Response:
    """The home page (no words, nothing ticked) or the search; for htmx only what goes below the search box."""
    text = q.strip()[:500]
    selected = _selected(request)
    page = max(1, page)
    engine = read_engine(request)  # the replica, if any
    if not text and not any(selected.values()):
        shown = home(engine)
        context = {"q": "", "home": shown, "connections": bool(shown["browse"])}
        if is_htmx(request):  # the address bar shows the page's own URL, not the form's every field
            return render(request, "_home.html", context, headers={"HX-Push-Url": "/"})
        return render(request, "search.html", context)
    sort = sort if sort in SORTS else "relevance"
    found = run_search(engine, text, selected, page, sort)
    context = {"q": text, "selected": selected, **found,
               "page_url": lambda number: page_url(text, selected, number, sort),
               "page_url_clear": page_url(text, {}, 1, sort)}
    if is_htmx(request):
        return render(request, "_results.html", context, headers={"HX-Push-Url": page_url(text, selected, page, sort)})
    return render(request, "search.html", context)
