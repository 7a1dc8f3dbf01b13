"""Atlan tags on assets in Atlas's shapes: `classifications` read from requests and rendered on entities.

What for: entity/bulk (`classifications`, `addOrUpdateClassifications`, `removeClassifications`), Atlas's
classification endpoints, and every entity or search hit the API answers. On the wire a classification's
`typeName` is the tag's internal name; pyatlan's AtlanResponse translates it through its tag cache (which reads
GET /types/typedefs, `gazetteer.api.typedefs`) into the display name people use. pyatlan's AtlanTag forbids
keys it does not know, so a rendered classification carries only its fields. Requests may name a tag by either
name (pyatlan sends the internal one; curl users may type the display name).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gazetteer.assets.tagging import AssetTag, TagEdit, TagOptions
from gazetteer.errors import InvalidRequest

__all__ = ["render", "names", "parse_list", "parse_edit"]

_FLAGS = {"propagate": "propagate", "removePropagationsOnEntityDelete": "remove_on_delete",
          "restrictPropagationThroughLineage": "restrict_lineage",
          "restrictPropagationThroughHierarchy": "restrict_hierarchy"}


def render(tag: AssetTag) -> dict[str, Any]:
    """One classification of an entity: direct (its own guid) or propagated (the guid of the asset carrying it)."""
    return {"typeName": tag.tag.name, "entityGuid": tag.source_guid,
            "entityStatus": "ACTIVE" if tag.source_status == "ACTIVE" else "DELETED",
            "propagate": tag.options.propagate,
            "removePropagationsOnEntityDelete": tag.options.remove_on_delete,
            "restrictPropagationThroughLineage": tag.options.restrict_lineage,
            "restrictPropagationThroughHierarchy": tag.options.restrict_hierarchy,
            "attributes": {}}


def names(tags: Sequence[AssetTag]) -> list[str]:
    """`classificationNames`: the internal name of each tag on the asset, direct or propagated, once."""
    return list(dict.fromkeys(tag.tag.name for tag in tags))


def _one(item: Any, where: str) -> tuple[str, TagOptions]:
    if isinstance(item, str):  # Atlas's remove-by-name lists
        return item, TagOptions()
    if not isinstance(item, Mapping) or not isinstance(item.get("typeName"), str) or not item["typeName"]:
        raise InvalidRequest(f"{where}: each classification needs a 'typeName' (the tag's name)")
    flags: dict[str, bool] = {}
    for key, field in _FLAGS.items():
        value = item.get(key)
        if value is None:
            continue
        if not isinstance(value, bool):
            raise InvalidRequest(f"{where}: {key!r} must be true or false")
        flags[field] = value
    return item["typeName"], TagOptions(**flags)


def parse_list(value: Any, where: str) -> tuple[tuple[str, TagOptions], ...]:
    """A list of classifications (objects with typeName and flags, or names) as (name, options) pairs."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidRequest(f"{where}: expected a list of classifications")
    return tuple(_one(item, f"{where}[{i}]") for i, item in enumerate(value))


def parse_edit(entity: Mapping[str, Any], where: str, *, replace: bool) -> TagEdit:
    """The tag changes an entity of entity/bulk asks for. `classifications` is a new asset's tags, and an existing
    one's whole set only when `replace` (replaceTags / replaceClassifications), as Atlas does: pyatlan sends back
    what it read, propagated tags included."""
    add = parse_list(entity.get("addOrUpdateClassifications"), f"{where}.addOrUpdateClassifications")
    remove = tuple(name for name, _ in parse_list(entity.get("removeClassifications"),
                                                  f"{where}.removeClassifications"))
    given = entity.get("classifications")
    full = parse_list(given, f"{where}.classifications") if given is not None else None
    if full is not None and isinstance(given, list):  # the propagated ones pyatlan echoes are not this asset's
        guid = entity.get("guid")
        full = tuple(pair for pair, item in zip(full, given, strict=True)
                     if not (isinstance(item, Mapping) and item.get("entityGuid") not in (None, "", guid)))
    return TagEdit(add=add, remove=remove, replace=full, replace_existing=replace)
