"""One asset in Atlas's entity shape (GET /api/meta/entity/...), and changing assets (bulk, curation).

What for: pyatlan's get_by_guid / get_by_qualified_name / retrieve_minimal, and the web UI's asset
pages. With relationships, a Table or View shows its schema (`atlanSchema`) and `columns`, a Column its
`table` (or `view`), a Schema its `database`, `tables` and `views`, a Database its `schemas`; pyatlan
merges them into the asset's attributes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gazetteer.assets.curation import bulk_upsert, update_curated
from gazetteer.assets.records import ASSET_TYPES
from gazetteer.assets.render import full_entity, relationships_of
from gazetteer.errors import InvalidRequest, NotFound
from gazetteer.store.schema import assets

__all__ = ["get_entity", "bulk_upsert", "update_curated"]


def get_entity(engine: Engine, *, guid: str | None = None, type_name: str | None = None,
               qualified_name: str | None = None, relationships: bool = False) -> dict[str, Any]:
    """`{"entity", "referredEntities"}` for a guid (any status) or an active type + qualifiedName."""
    if guid is not None:
        query = sa.select(assets).where(assets.c.guid == guid)
        missing = f"Given instance guid {guid} is invalid/not found"
    elif type_name is not None and qualified_name is not None:
        if type_name not in ASSET_TYPES:
            raise InvalidRequest(f"Given typename {type_name} was invalid; this catalog holds {', '.join(ASSET_TYPES)}")
        query = sa.select(assets).where(assets.c.qualified_name == qualified_name, assets.c.type_name == type_name,
                                        assets.c.status == "ACTIVE")
        missing = f"Instance {type_name} with unique attribute {{qualifiedName={qualified_name}}} does not exist"
    else:
        raise InvalidRequest("Give a guid, or a type name and attr:qualifiedName")
    with engine.connect() as conn:
        row = conn.execute(query).first()
        if row is None:
            raise NotFound(missing)
        related = relationships_of(conn, [row], None).get(row.id, {}) if relationships else None
    return {"entity": full_entity(row, related), "referredEntities": {}}
