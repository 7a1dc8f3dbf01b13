"""The records that flow from a crawl's mapping step into the store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["AssetRecord", "ASSET_TYPES"]

# Atlan's type names, from the top of the hierarchy down.
ASSET_TYPES = ("Connection", "Database", "Schema", "Table", "View", "Column")


@dataclass(frozen=True, slots=True)
class AssetRecord:
    """One asset as a crawl sees it.

    `attributes` holds the camelCase attributes served on the wire (qualifiedName and name included is not
    required: the store adds them). A value of None means "unknown this time": the store keeps what it had,
    so a transient failure (say, GetPartitions denied) never flip-flops an attribute.
    """

    type_name: str
    qualified_name: str
    name: str
    parent_qualified_name: str | None
    attributes: Mapping[str, Any]
    # A digest of the source definition this record (and its children) came from; see store.schema.
    source_hash: str | None = None

    @property
    def connection_qualified_name(self) -> str:
        return str(self.attributes.get("connectionQualifiedName") or self.qualified_name)

    @property
    def schema_qualified_name(self) -> str | None:
        if self.type_name == "Schema":
            return self.qualified_name
        value = self.attributes.get("schemaQualifiedName")
        return str(value) if value else None
