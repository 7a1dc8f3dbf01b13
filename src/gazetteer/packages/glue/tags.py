"""Glue resource tags and Lake Formation LF-tags, as GetTags and GetResourceLFTags give them, turned into the
attributes of Schema, Table, View and Column assets.

Pure functions, no I/O (docs/design.md, Glue facts §16). Each asset gets the tags assigned to it:

- `awsTags`, Atlan's attribute for AWS resource tags (as on its S3 and SageMaker assets): a database's or table's
  Glue resource tags (GetTags, key → value), `[{"awsTagKey": …, "awsTagValue": …}]`;
- `lakeFormationTags`, ours (Atlan has none for LF-tags): a database's, table's or column's LF-tags
  (GetResourceLFTags' LFTagOnDatabase, LFTagsOnTable, LFTagsOnColumns; key → values),
  `[{"tagKey": …, "tagValues": [...]}]`;
- `assetTags`, Atlan's list of the tags attached to an asset: both kinds flattened to `key=value` (`key` alone
  for an empty value), so that a term query on it (`domain=sales`) finds the assets with that tag.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = ["NO_TAGS", "TAG_ATTRIBUTES", "UNKNOWN_TAGS", "SourceTags", "column_tag_attributes", "tag_attributes"]

# Every attribute tags may set, so a caller can tell them from the rest.
TAG_ATTRIBUTES = ("awsTags", "lakeFormationTags", "assetTags")


@dataclass(frozen=True)
class SourceTags:
    """What a crawl read of a database's or table's tags; None for a kind it did not read this time (not
    asked, refused, failing): unknown, so the catalog keeps what it has."""

    glue: Mapping[str, str] | None = None  # GetTags' Tags
    lake_formation: Mapping[str, Any] | None = None  # GetResourceLFTags' answer


NO_TAGS = SourceTags(MappingProxyType({}), MappingProxyType({}))
UNKNOWN_TAGS = SourceTags()


def tag_attributes(tags: SourceTags, *, database: bool = False) -> dict[str, Any]:
    """A database's (`database`) or table's tags as attributes."""
    glue = None if tags.glue is None else {str(key): str(value) for key, value in tags.glue.items()}
    lake_formation = None if tags.lake_formation is None else _lf_tags(
        _list(tags.lake_formation.get("LFTagOnDatabase" if database else "LFTagsOnTable")))
    return _attributes(
        awsTags=None if glue is None else [{"awsTagKey": key, "awsTagValue": value}
                                           for key, value in sorted(glue.items())],
        lakeFormationTags=_lf_list(lake_formation),
        assetTags=_asset_tags(glue, lake_formation))


def column_tag_attributes(tags: SourceTags, column: str) -> dict[str, Any]:
    """The LF-tags of one column of a table (a column has no Glue resource tags of its own)."""
    lake_formation = None if tags.lake_formation is None else _lf_tags(
        pair for entry in _list(tags.lake_formation.get("LFTagsOnColumns"))
        if isinstance(entry, Mapping) and entry.get("Name") == column for pair in _list(entry.get("LFTags")))
    return _attributes(lakeFormationTags=_lf_list(lake_formation), assetTags=_asset_tags(None, lake_formation))


def _attributes(**values: list[Any] | None) -> dict[str, Any]:
    """None (a kind not read: the catalog keeps its value) stays; an empty list (read, and there are none) is
    left out, which drops a stored value, as for any attribute Glue no longer gives."""
    return {key: value for key, value in values.items() if value is None or value}


def _lf_tags(pairs: Iterable[Any]) -> dict[str, list[str]]:
    """LFTagPairs ({TagKey, TagValues}) as key → its values, in order, once each."""
    found: dict[str, list[str]] = {}
    for pair in pairs:
        key, values = (pair.get("TagKey"), pair.get("TagValues")) if isinstance(pair, Mapping) else (None, None)
        if isinstance(key, str) and key and isinstance(values, list):
            known = found.setdefault(key, [])
            known.extend(text for text in map(str, values) if text not in known)
    return found


def _lf_list(lake_formation: Mapping[str, list[str]] | None) -> list[dict[str, Any]] | None:
    if lake_formation is None:
        return None
    return [{"tagKey": key, "tagValues": values} for key, values in sorted(lake_formation.items())]


def _asset_tags(glue: Mapping[str, str] | None, lake_formation: Mapping[str, list[str]] | None) -> list[str] | None:
    """Both kinds flattened, for term queries. Made of the kinds read this time, and None only when neither
    was: a crawler without Lake Formation permissions still gets its Glue tags found."""
    if glue is None and lake_formation is None:
        return None
    pairs = [*(glue or {}).items(), *((key, value) for key, values in (lake_formation or {}).items()
                                      for value in values)]
    return sorted({f"{key}={value}" if value else key for key, value in pairs})


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
