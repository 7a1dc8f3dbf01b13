"""Atlan's asset search on the wire (POST /api/meta/search/indexsearch): its body in, its answer out.

What for: pyatlan's FluentSearch, find_connections_by_name and get_by_*(attributes=...) send
`{attributes, dsl: {from, size, query, sort, aggregations, track_total_hits}, relationAttributes}`. The
`dsl` is parsed into a `SearchRequest` (size capped at `MAX_PAGE`) for `gazetteer.assets.search`, and what
it finds is answered as Atlas does: entity headers with the wanted attributes (and relationships), a page
past the end without an `entities` key, facets in Elasticsearch's terms-aggregation shape. A search for
`AppWorkflowRun` entities is answered from the runs of app workflows instead (`gazetteer.api.app_runs`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine

from gazetteer.api.app_runs import asks_for_app_runs, search_app_runs
from gazetteer.api.entities import entity_header
from gazetteer.assets.facets import Facet
from gazetteer.assets.relations import RELATIONSHIP_NAMES
from gazetteer.assets.search import MAX_PAGE, search_assets
from gazetteer.assets.tagging import tags_by_guid
from gazetteer.errors import InvalidRequest
from gazetteer.search import parse_search_request, terms_agg_result

__all__ = ["index_search"]


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
