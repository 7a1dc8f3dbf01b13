"""Atlan's asset search on the wire (POST /api/meta/search/indexsearch): its body in, its answer out.

What for: pyatlan's FluentSearch, find_connections_by_name and get_by_*(attributes=...) send
`{attributes, dsl: {from, size, query, sort, aggregations, track_total_hits}, relationAttributes}`. The
`dsl` is parsed into a `SearchRequest` (size capped at `MAX_PAGE`) for `gazetteer.assets.search`, and what
it finds is answered as Atlas does: entity headers with the wanted attributes (and relationships), a page
past the end without an `entities` key, facets in Elasticsearch's terms-aggregation shape. A search for
`AppWorkflowRun` entities is answered from the runs of app workflows instead (`gazetteer.api.app_runs`).

Gazetteer's own GET /api/meta/search/text (`text_search_answer`) is the web UI's search by words, ranked as the
UI ranks (tables before columns, most viewed first; `gazetteer.assets.ranking`), in the same entity headers:
`gazetteer search` asks it of a server, and calls it directly on a local catalog.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine

from gazetteer.api.app_runs import asks_for_app_runs, search_app_runs
from gazetteer.api.entities import entity_header
from gazetteer.assets.facets import Facet
from gazetteer.assets.records import ASSET_TYPES
from gazetteer.assets.relations import RELATIONSHIP_NAMES
from gazetteer.assets.search import MAX_PAGE, search_assets
from gazetteer.assets.tagging import tags_by_guid
from gazetteer.assets.text_search import FacetedQuery, ranked_search
from gazetteer.errors import InvalidRequest
from gazetteer.search import parse_search_request, terms_agg_result

__all__ = ["index_search", "text_search_answer", "TEXT_SEARCH_ATTRIBUTES"]

# Beside the name and qualified name every hit of a search by words has: the crawled and the curated description.
TEXT_SEARCH_ATTRIBUTES = ("description", "userDescription")


def _names(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidRequest(f"malformed {what!r}: expected a list of attribute names")
    return value


def _terms(facet: Facet) -> dict[str, Any]:
    return terms_agg_result([(bucket.key, bucket.count, facet.total) for bucket in facet.buckets])


def index_search(engine: Engine, body: Any) -> dict[str, Any]:
    """The answer to POST /api/meta/search/indexsearch: matching assets, their count and facets."""
    if not isinstance(body, Mapping):
        raise InvalidRequest("malformed search request: expected a JSON object with a 'dsl' object")
    dsl = body.get("dsl", {})
    if not isinstance(dsl, Mapping):
        raise InvalidRequest("malformed 'dsl': expected an object")
    request = parse_search_request(dsl, max_size=MAX_PAGE)
    wanted = _names(body.get("attributes"), "attributes")
    related = _names(body.get("relationAttributes"), "relationAttributes")
    answer: dict[str, Any] = {
        "queryType": "INDEX",
        "searchParameters": {"attributes": wanted, "relationAttributes": related, "dsl": dict(dsl)},
    }
    if asks_for_app_runs(request.query):  # runs are not assets: see gazetteer.api.app_runs
        answer["approximateCount"], entities = search_app_runs(engine, request, wanted)
        if entities:
            answer["entities"] = entities
        return answer
    result = search_assets(engine, request, relationships=[name for name in wanted if name in RELATIONSHIP_NAMES])
    answer["approximateCount"] = result.total
    if result.assets:
        tags = tags_by_guid(engine, [asset.guid for asset in result.assets])
        answer["entities"] = [entity_header(asset, wanted, related, tags.get(asset.guid, ()))
                              for asset in result.assets]
    if result.facets:
        answer["aggregations"] = {name: _terms(facet) for name, facet in result.facets.items()}
    return answer


def text_search_answer(engine: Engine, text: str, type_name: str | None = None, size: int = 50) -> dict[str, Any]:
    """The web UI's search for `text` (every word must be found; none: every asset, by name), of one type if
    given, best first: `{"entities": [...]}` as indexsearch answers (no key when nothing is found)."""
    if type_name is not None and type_name not in ASSET_TYPES:
        raise InvalidRequest(f"{type_name[:100]!r} is not a type of asset; choose one of {', '.join(ASSET_TYPES)}")
    found = ranked_search(engine, FacetedQuery(text=text, types=(type_name,) if type_name else (), size=size))
    return {"entities": [entity_header(asset, TEXT_SEARCH_ATTRIBUTES) for asset in found]} if found else {}
