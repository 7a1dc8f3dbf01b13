"""Atlan's lineage list on the wire (POST /api/meta/lineage/list): its body in, its answer out.

What for: pyatlan's `client.asset.get_lineage_list(LineageListRequest(...))` and `FluentLineage` send
`{guid, depth, direction (INPUT = upstream, OUTPUT = downstream), from, size, attributes, relationAttributes,
entityFilters, entityTraversalFilters, relationshipTraversalFilters, immediateNeighbours, excludeMeanings,
excludeClassifications}`; the answer is `{entities, hasMore, entityCount, searchParameters}`, each entity an
entity header with its `depth` and, when asked, its `immediateUpstream` / `immediateDownstream` references
(docs/design.md, Atlan contract §8). The walk itself is `gazetteer.assets.lineage`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Engine

from gazetteer.api.entities import entity_header
from gazetteer.assets.lineage import EntityFilter, Filters, LineageEntity, LineageQuery, lineage_list
from gazetteer.assets.lineage_filters import OPERATORS
from gazetteer.assets.search import MAX_PAGE
from gazetteer.assets.tagging import AssetTag, tags_by_guid
from gazetteer.assets.views import AssetView
from gazetteer.errors import InvalidRequest

__all__ = ["lineage_list_answer"]

_KEYS = {"guid", "depth", "direction", "from", "size", "attributes", "relationAttributes", "entityFilters",
         "entityTraversalFilters", "relationshipTraversalFilters", "immediateNeighbours", "excludeMeanings",
         "excludeClassifications"}
_DIRECTIONS = {"OUTPUT": True, "INPUT": False}
_MAX_CRITERIA = 100
_MAX_OFFSET = 100_000


def _integer(body: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidRequest(f"malformed {key!r}: expected a whole number from {low:,} to {high:,}, got {value!r}")
    return value


def _flag(body: Mapping[str, Any], key: str) -> bool:
    value = body.get(key)
    if value is not None and not isinstance(value, bool):
        raise InvalidRequest(f"malformed {key!r}: expected true or false")
    return bool(value)


def _names(body: Mapping[str, Any], key: str) -> list[str]:
    value = body.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidRequest(f"malformed {key!r}: expected a list of attribute names")
    return value


def _filters(body: Mapping[str, Any], key: str) -> Filters:
    value = body.get(key)
    if value is None:
        return Filters()
    if not isinstance(value, Mapping) or not isinstance(value.get("criterion", []), list):
        raise InvalidRequest(f"malformed {key!r}: expected {{\"condition\": \"AND\"|\"OR\", \"criterion\": [...]}}")
    condition = value.get("condition", "AND")
    if condition not in ("AND", "OR"):
        raise InvalidRequest(f"malformed {key}.condition: AND or OR, not {condition!r}")
    criteria = value.get("criterion") or []
    if len(criteria) > _MAX_CRITERIA:
        raise InvalidRequest(f"malformed {key}.criterion: at most {_MAX_CRITERIA} criteria are accepted")
    out = []
    for i, criterion in enumerate(criteria):
        where = f"{key}.criterion[{i}]"
        if not isinstance(criterion, Mapping):
            raise InvalidRequest(f"malformed {where}: expected an object")
        name, op, text = (criterion.get(k) for k in ("attributeName", "operator", "attributeValue"))
        if not isinstance(name, str) or not name or not isinstance(op, str):
            raise InvalidRequest(f"malformed {where}: needs attributeName and operator")
        if op not in OPERATORS:
            raise InvalidRequest(f"malformed {where}: unknown operator {op!r}; one of {', '.join(sorted(OPERATORS))}")
        out.append(EntityFilter(name, op, "" if text is None else str(text)))
    return Filters(tuple(out), any_of=condition == "OR")


def parse_lineage_request(body: Any) -> LineageQuery:
    """The walk a lineage-list body asks for; InvalidRequest names what is wrong with it."""
    if not isinstance(body, Mapping):
        raise InvalidRequest("malformed lineage request: expected a JSON object with guid, depth and direction")
    unknown = sorted(set(body) - _KEYS)
    if unknown:
        raise InvalidRequest(f"unknown field(s) {', '.join(unknown)} in the lineage request; "
                             f"known: {', '.join(sorted(_KEYS))}")
    guid = body.get("guid")
    if not isinstance(guid, str) or not guid:
        raise InvalidRequest("malformed lineage request: 'guid' (of the asset to start from) is required")
    direction = body.get("direction", "OUTPUT")
    if direction not in _DIRECTIONS:
        raise InvalidRequest(f"malformed 'direction': INPUT (upstream) or OUTPUT (downstream), not {direction!r}; "
                             "the lineage list walks one direction at a time")
    return LineageQuery(
        guid=guid, downstream=_DIRECTIONS[direction],
        depth=_integer(body, "depth", 1_000_000, 1, 1_000_000),
        offset=_integer(body, "from", 0, 0, _MAX_OFFSET), size=_integer(body, "size", 10, 1, MAX_PAGE),
        include=_filters(body, "entityFilters"), traverse=_filters(body, "entityTraversalFilters"),
        relationships=_filters(body, "relationshipTraversalFilters"))


def _lineage_ref(asset: AssetView) -> dict[str, Any]:
    return {"guid": asset.guid, "qualifiedName": asset.qualified_name, "name": asset.name}


def _entity(item: LineageEntity, wanted: list[str], related: list[str], neighbours: bool,
            tags: Mapping[str, Sequence[AssetTag]]) -> dict[str, Any]:
    entity = entity_header(item.asset, wanted, related, tags.get(item.asset.guid, ()))
    entity["depth"] = item.depth
    if neighbours:
        entity["immediateUpstream"] = [_lineage_ref(asset) for asset in item.upstream]
        entity["immediateDownstream"] = [_lineage_ref(asset) for asset in item.downstream]
    return entity


def lineage_list_answer(engine: Engine, body: Any) -> dict[str, Any]:
    """The answer to POST /api/meta/lineage/list."""
    query = parse_lineage_request(body)
    wanted, related = _names(body, "attributes"), _names(body, "relationAttributes")
    neighbours = _flag(body, "immediateNeighbours")
    _flag(body, "excludeMeanings")  # accepted: no asset has terms to leave out
    page = lineage_list(engine, query)
    tags = {} if _flag(body, "excludeClassifications") else \
        tags_by_guid(engine, [item.asset.guid for item in page.entities])
    entities = [_entity(item, wanted, related, neighbours, tags) for item in page.entities]
    return {"entities": entities, "hasMore": page.has_more, "entityCount": len(entities),
            "searchParameters": dict(body)}
