"""The records that flow from a crawl's mapping step into the store."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["AssetRecord", "ASSET_TYPES", "GLOSSARY_TYPES", "LINEAGE_TYPES", "content_hash"]

# Atlan's type names: the glossary (a glossary, its categories, its terms), then the hierarchy from the top down,
# then S3 locations that are no table's, then lineage (a Process links assets, a ColumnProcess their columns); in
# this order one request can create a glossary and its terms, an asset with those terms, and the lineage that
# reads it.
GLOSSARY_TYPES = ("AtlasGlossary", "AtlasGlossaryCategory", "AtlasGlossaryTerm")
ASSET_TYPES = (*GLOSSARY_TYPES, "Connection", "Database", "Schema", "Table", "View", "Column", "S3Object", "Process",
               "ColumnProcess")
LINEAGE_TYPES = ("Process", "ColumnProcess")


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


def content_hash(name: str, parent_qualified_name: str | None, source_hash: str | None,
                 attributes: Mapping[str, Any]) -> str:
    """The `assets.content_hash` of a row: a digest of what a crawl owns in it (see store.schema).

    One recipe whoever writes the row, a crawl or the API creating an asset, so a crawl that later finds an
    asset created through the API compares like with like: unchanged only if it would write exactly what is
    stored. Changing the recipe makes every crawl rewrite every asset once.
    """
    payload = json.dumps([name, parent_qualified_name, source_hash, attributes],
                         sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()
