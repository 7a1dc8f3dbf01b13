"""Assets as the core hands them out: `AssetView`, read from an `assets` row.

What for: every reader of the catalog (the search, the hierarchy walks, curation's answers) returns these;
the API renders them in Atlas's entity shapes (`gazetteer.api.entities`), the UI and the CLI show them.
Attributes are the crawled ones overlaid with the curated ones; values that pyatlan validates as enums are
left out unless valid (docs/design.md, Atlan contract §5).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeAlias

from sqlalchemy import Row

__all__ = ["AssetView", "Related", "ENUMS", "attributes_of", "epoch_ms"]

# Enum-typed attributes and the values pyatlan accepts.
ENUMS: dict[str, frozenset[str]] = {
    "tableType": frozenset({"TEMPORARY", "ICEBERG", "KUDU"}),
    "certificateStatus": frozenset({"DRAFT", "VERIFIED", "DEPRECATED"}),
    "announcementType": frozenset({"information", "warning", "issue"}),
}


def epoch_ms(moment: datetime) -> int:
    """Atlan's timestamps are epoch milliseconds; SQLite hands back naive datetimes, which are UTC here."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def attributes_of(row: Any) -> dict[str, Any]:
    """All attributes of a row: crawled, then curated on top, then its identity (and `__hasLineage` when the row
    was read with it); invalid enums dropped."""
    merged = {**(row.attributes or {}), **(row.curated or {}), "qualifiedName": row.qualified_name,
              "name": row.name}
    has_lineage = getattr(row, "has_lineage", None)  # selected by the readers that show it (HAS_LINEAGE)
    if has_lineage is not None:
        merged["__hasLineage"] = bool(has_lineage)
    for key, allowed in ENUMS.items():
        if key in merged and merged[key] not in allowed:
            del merged[key]
    return merged


@dataclass(frozen=True, slots=True)
class AssetView:
    """One asset: its identity, status and stamps, its `attributes` (`attributes_of`) and, when they were
    asked for, its `related` assets by relationship name (a parent, or a tuple of children; see
    `gazetteer.assets.relations`). `related` is None when relationships were not asked for."""

    guid: str
    type_name: str
    qualified_name: str
    name: str
    status: str
    attributes: Mapping[str, Any]
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime
    related: Mapping[str, Related] | None = None

    @classmethod
    def of(cls, row: Row[Any], related: Mapping[str, Related] | None = None) -> AssetView:
        return cls(row.guid, row.type_name, row.qualified_name, row.name, row.status, attributes_of(row),
                   row.created_by, row.updated_by, row.created_at, row.updated_at, related)

    @property
    def description(self) -> str | None:
        """What people wrote, else Glue's description."""
        return self.attributes.get("userDescription") or self.attributes.get("description")


Related: TypeAlias = "AssetView | tuple[AssetView, ...]"
