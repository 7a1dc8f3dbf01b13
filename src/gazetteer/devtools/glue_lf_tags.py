"""Lake Formation LF-tags on Glue databases, tables and columns, for the local Glue endpoint.

moto keeps LF-tag assignments, but its GetResourceLFTags fails (a 500) for a database or table that has none,
leaves a table's column tags out unless they are asked for column by column, and its AddLFTagsToResource
replaces every tag of the resource. A crawl asks about every table, most of them untagged, so this store keeps
the assignments instead and answers as Lake Formation does: `AddLFTagsToResource` sets the values of the keys
it names (the others stay), `RemoveLFTagsFromResource` takes values away (a key without values is gone), and
`GetResourceLFTags` of a table answers its database's tags (`LFTagOnDatabase`), its own (`LFTagsOnTable`) and
those of each of its tagged columns (`LFTagsOnColumns`); of a database, its own. The tags are the ones
assigned to the resource itself (`ShowAssignedLFTags=true`, what the crawler asks): inheriting a database's
tags down to its tables is not modelled. Keys and values are not checked against those CreateLFTag defined
(moto keeps those). Dropping a table or a database drops its tags.
"""

from __future__ import annotations

import threading
from typing import Any

from gazetteer.devtools.glue_http import ErrorAnswer

__all__ = ["LFTagStore", "OPERATIONS"]

OPERATIONS = ("AddLFTagsToResource", "RemoveLFTagsFromResource", "GetResourceLFTags")
# The catalog of a resource that names none: moto's account, which STS GetCallerIdentity answers for any key.
_DEFAULT_CATALOG = "123456789012"
# (region, catalog id, database, table or None, column or None)
_Key = tuple[str, str, str, str | None, str | None]


class LFTagStore:
    """LF-tags by resource: key -> values, as their assignments left them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tags: dict[_Key, dict[str, list[str]]] = {}

    def answer(self, operation: str, region: str, body: dict[str, Any]) -> dict[str, Any]:
        """The answer to one call of `OPERATIONS`; raises ErrorAnswer for what Lake Formation refuses."""
        keys = _resource_keys(region, body)
        if operation == "GetResourceLFTags":
            return self._get(keys[0])
        pairs = _pairs(body.get("LFTags"))
        with self._lock:
            for key in keys:
                tags = self._tags.setdefault(key, {})
                for tag_key, values in pairs:
                    if operation == "AddLFTagsToResource":
                        tags[tag_key] = values
                    elif tag_key in tags:
                        tags[tag_key] = [value for value in tags[tag_key] if value not in values]
                        if not tags[tag_key]:
                            del tags[tag_key]
        return {"Failures": []} if operation == "AddLFTagsToResource" else {}

    def _get(self, key: _Key) -> dict[str, Any]:
        region, catalog, database, table, _ = key
        with self._lock:
            answer = {"LFTagOnDatabase": self._listed(catalog, (region, catalog, database, None, None))}
            if table is not None:
                answer["LFTagsOnTable"] = self._listed(catalog, key)
                answer["LFTagsOnColumns"] = [
                    {"Name": column, "LFTags": self._listed(catalog, other)}
                    for other in sorted(k for k in self._tags if k[:4] == key[:4] and k[4] is not None)
                    if self._tags[other] and (column := other[4])]
        return answer

    def _listed(self, catalog: str, key: _Key) -> list[dict[str, Any]]:
        return [{"CatalogId": catalog, "TagKey": tag_key, "TagValues": list(values)}
                for tag_key, values in sorted(self._tags.get(key, {}).items())]

    def forget(self, region: str, database: str, table: str | None = None) -> None:
        """Drop the tags of a table (its columns' too), or of a database and everything in it."""
        with self._lock:
            for key in [k for k in self._tags if (k[0], k[2]) == (region, database) and table in (None, k[3])]:
                del self._tags[key]

    def clear(self) -> None:
        with self._lock:
            self._tags.clear()


def _resource_keys(region: str, body: dict[str, Any]) -> list[_Key]:
    """The resources a call names: a Database, a Table, or a TableWithColumns (one key per column)."""
    resource = body.get("Resource")
    if not isinstance(resource, dict) or len(resource) != 1:
        raise ErrorAnswer(400, "InvalidInputException", "Resource must name one Database, Table or TableWithColumns")
    (kind, spec), = resource.items()
    if not isinstance(spec, dict) or kind not in ("Database", "Table", "TableWithColumns"):
        raise ErrorAnswer(400, "InvalidInputException", f"resource {kind} does not take LF-tags here")
    catalog = str(spec.get("CatalogId") or body.get("CatalogId") or _DEFAULT_CATALOG)
    if kind == "Database":
        return [(region, catalog, _name(spec, "Name"), None, None)]
    database, table = _name(spec, "DatabaseName"), _name(spec, "Name")
    if kind == "Table":
        return [(region, catalog, database, table, None)]
    columns = spec.get("ColumnNames")
    if not isinstance(columns, list) or not columns or not all(isinstance(c, str) and c for c in columns):
        raise ErrorAnswer(400, "InvalidInputException", "TableWithColumns needs ColumnNames")
    return [(region, catalog, database, table, column) for column in columns]


def _pairs(raw: Any) -> list[tuple[str, list[str]]]:
    if not isinstance(raw, list) or not raw:
        raise ErrorAnswer(400, "InvalidInputException", "LFTags must be a non-empty list")
    pairs = []
    for pair in raw:
        values = pair.get("TagValues") if isinstance(pair, dict) else None
        if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
            raise ErrorAnswer(400, "InvalidInputException", "every LF-tag needs a TagKey and TagValues")
        pairs.append((_name(pair, "TagKey"), values))
    return pairs


def _name(spec: dict[str, Any], key: str) -> str:
    value = spec.get(key)
    if not isinstance(value, str) or not value:
        raise ErrorAnswer(400, "InvalidInputException", f"{key} is required")
    return value
