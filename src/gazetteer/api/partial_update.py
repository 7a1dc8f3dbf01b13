"""Atlas's partial update by unique attribute, `PUT /api/meta/entity/uniqueAttribute/type/{type}?attr:qualifiedName=…`:
what pyatlan's `asset.update_certificate`, `remove_certificate`, `update_announcement` and `remove_announcement`
send. The entity's attributes curate an existing active asset, as `entity/bulk` does (same checks, same
permission, same history), and never create one; the answer lists it under `PARTIAL_UPDATE`, where pyatlan
looks for it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from gazetteer.api.entities import entity_header
from gazetteer.assets.browse import get_asset
from gazetteer.assets.curation import AssetChange, save_assets
from gazetteer.errors import InvalidRequest
from gazetteer.web.deps import EngineDep, PrincipalDep
from gazetteer.web.openapi import errors

__all__ = ["router"]

router = APIRouter(prefix="/api/meta", tags=["assets"], responses=errors(401))


@router.put("/entity/uniqueAttribute/type/{type_name}", responses=errors(400, 403, 404))
def partial_update(
    type_name: str, body: Annotated[dict[str, Any], Body()], engine: EngineDep, principal: PrincipalDep,
    qualified_name: Annotated[str, Query(alias="attr:qualifiedName", min_length=1)],
) -> dict[str, Any]:
    """Curate one active asset found by type and qualifiedName (certificate, announcement, description…)."""
    entity = body.get("entity")
    attributes = entity.get("attributes", {}) if isinstance(entity, Mapping) else None
    if not isinstance(attributes, Mapping):
        raise InvalidRequest('malformed partial update: expected {"entity": {"typeName", "attributes"}}')
    asset = get_asset(engine, type_name=type_name, qualified_name=qualified_name)  # Atlas's 404 when none
    change = AssetChange(type_name, {**attributes, "qualifiedName": qualified_name}, asset.guid, "entity")
    saved = save_assets(engine, [change], principal)
    return {"mutatedEntities": {"PARTIAL_UPDATE": [entity_header(item.asset, item.changed) for item in saved.updated]},
            "guidAssignments": {}}
