"""Assets in Atlas's entity shapes, and the entity endpoints' bodies (GET /entity/..., POST /entity/bulk/).

What for: the search results, the entity endpoints and the mutation answers all describe assets the same way,
as pyatlan reads them: an entity header with the wanted attributes, related assets as references, timestamps
in epoch milliseconds, Atlan tags as classifications (`gazetteer.api.classifications`), an asset's terms
when they were read (docs/design.md, Atlan contract §5, §10 and §11). The core hands out `AssetView`s; this
module is the only place that turns them into Atlas JSON, or Atlas JSON into `AssetChange`s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Engine

from gazetteer.api import classifications
from gazetteer.assets.browse import get_asset
from gazetteer.assets.curation import AssetChange, Saved, save_assets
from gazetteer.assets.glossary import delete_items
from gazetteer.assets.meanings import TermsChange
from gazetteer.assets.tagging import AssetTag, tags_by_guid
from gazetteer.assets.views import AssetView, Related, epoch_ms
from gazetteer.auth.principal import Principal
from gazetteer.errors import InvalidRequest

__all__ = ["get_entity", "bulk_upsert", "bulk_delete", "entity_header", "reference"]


def get_entity(engine: Engine, *, guid: str | None = None, type_name: str | None = None,
               qualified_name: str | None = None, relationships: bool = False) -> dict[str, Any]:
    """The body of GET /api/meta/entity/guid/... and /entity/uniqueAttribute/type/... (see `get_asset`)."""
    asset = get_asset(engine, guid=guid, type_name=type_name, qualified_name=qualified_name,
                      relationships=relationships)
    return {"entity": full_entity(asset, tags_by_guid(engine, [asset.guid]).get(asset.guid, ())),
            "referredEntities": {}}


def bulk_upsert(engine: Engine, body: Any, principal: Principal, *, replace_tags: bool = False) -> dict[str, Any]:
    """The answer to POST /api/meta/entity/bulk/: each entity created or curated (and tagged), all or nothing.
    `replace_tags` (replaceTags / replaceClassifications) makes an entity's `classifications` its whole set."""
    saved = save_assets(engine, _bulk_changes(body, replace_tags), principal)
    guids = [item.asset.guid for items in (saved.created, saved.updated) for item in items]
    return _bulk_answer(saved, tags_by_guid(engine, guids))


def bulk_delete(engine: Engine, guids: Sequence[str], delete_type: str, principal: Principal) -> dict[str, Any]:
    """The answer to DELETE /api/meta/entity/bulk?guid=...&deleteType=: glossary items archived (SOFT) or
    deleted for good (HARD, PURGE), with what each took along (a glossary's categories and terms)."""
    if delete_type not in ("SOFT", "HARD", "PURGE"):
        raise InvalidRequest(f"deleteType must be SOFT, HARD or PURGE, not {delete_type[:40]!r}")
    deleted = delete_items(engine, guids, principal, hard=delete_type != "SOFT")
    return {"mutatedEntities": {"DELETE": [entity_header(asset) for asset in deleted]}, "guidAssignments": {}}


def reference(asset: AssetView, wanted: Sequence[str] = ()) -> dict[str, Any]:
    """A related asset as Atlas shows it: guid, type, unique attributes (plus any `wanted` attributes)."""
    attributes = {"qualifiedName": asset.qualified_name, "name": asset.name}
    attributes.update({key: asset.attributes[key] for key in wanted if key in asset.attributes})
    return {"guid": asset.guid, "typeName": asset.type_name, "entityStatus": asset.status,
            "displayText": asset.name, "uniqueAttributes": {"qualifiedName": asset.qualified_name},
            "attributes": attributes}


def _references(related: Mapping[str, Related], wanted: Sequence[str]) -> dict[str, Any]:
    return {name: [reference(kid, wanted) for kid in value] if isinstance(value, tuple) else reference(value, wanted)
            for name, value in related.items()}


def entity_header(asset: AssetView, wanted: Iterable[str] | None = None,
                  related_attributes: Sequence[str] = (), tags: Sequence[AssetTag] = ()) -> dict[str, Any]:
    """A search hit or mutation entry: qualifiedName, name, only the `wanted` attributes, the related
    assets the asset carries (as references with their `related_attributes`), and its Atlan `tags`."""
    attributes = {"qualifiedName": asset.qualified_name, "name": asset.name}
    for key in wanted or ():
        if key in asset.attributes:
            attributes[key] = asset.attributes[key]
    attributes.update(_references(asset.related or {}, related_attributes))
    return {
        "typeName": asset.type_name,
        "guid": asset.guid,
        "status": asset.status,
        "attributes": attributes,
        "displayText": asset.name,
        "classificationNames": classifications.names(tags),
        "classifications": [classifications.render(tag) for tag in tags],
        **_meanings(asset),
        "labels": [],
        "isIncomplete": False,
        "createdBy": asset.created_by,
        "updatedBy": asset.updated_by,
        "createTime": epoch_ms(asset.created_at),
        "updateTime": epoch_ms(asset.updated_at),
    }


def _meanings(asset: AssetView) -> dict[str, Any]:
    """Atlas's header lists of an asset's terms (empty unless its terms were read)."""
    terms = (asset.related or {}).get("meanings")
    terms = terms if isinstance(terms, tuple) else ()
    return {"meaningNames": [term.name for term in terms],
            "meanings": [{"termGuid": term.guid, "relationGuid": f"{asset.guid}:{term.guid}",
                          "displayText": term.name, "confidence": 0} for term in terms]}


def full_entity(asset: AssetView, tags: Sequence[AssetTag] = ()) -> dict[str, Any]:
    """Every attribute, its tags, and relationshipAttributes when the asset carries its relationships."""
    entity = entity_header(asset, tags=tags)
    entity["attributes"] = dict(asset.attributes)
    entity.update(version=0)
    if asset.related is not None:
        entity["relationshipAttributes"] = _references(asset.related, ())
    return entity


def _bulk_changes(body: Any, replace_tags: bool) -> list[AssetChange]:
    """The entities of a POST /api/meta/entity/bulk/ body, checked for shape; what the catalog cannot keep
    (terms) is refused rather than dropped."""
    if not isinstance(body, Mapping) or not isinstance(body.get("entities"), list) or not body["entities"]:
        raise InvalidRequest("malformed bulk request: expected {\"entities\": [{\"typeName\", \"attributes\"}, ...]}")
    changes = []
    for i, entity in enumerate(body["entities"]):
        where = f"entities[{i}]"
        if not isinstance(entity, Mapping) or not isinstance(entity.get("typeName"), str):
            raise InvalidRequest(f"{where}: each entity needs a 'typeName'")
        attributes = entity.get("attributes", {})
        if not isinstance(attributes, Mapping):
            raise InvalidRequest(f"{where}: 'attributes' must be an object")
        guid, status = entity.get("guid"), entity.get("status")
        if status not in (None, "ACTIVE", "DELETED"):
            raise InvalidRequest(f"{where}: 'status' must be ACTIVE or DELETED")
        tags = classifications.parse_edit(entity, where, replace=replace_tags)
        changes.append(AssetChange(entity["typeName"], attributes or {}, guid if isinstance(guid, str) else None,
                                   where, tags, _terms_change(entity, where), status))
    return changes


def _terms_change(entity: Mapping[str, Any], where: str) -> TermsChange:
    """The terms an entity adds and removes (pyatlan's append_terms / remove_terms); the entity-level
    `meanings` header pyatlan echoes from what it read is Atlas's read-only summary, and ignored as Atlas does."""
    sides = []
    for key in ("appendRelationshipAttributes", "removeRelationshipAttributes"):
        value = entity.get(key) or {}
        if not isinstance(value, Mapping):
            raise InvalidRequest(f"{where}: {key!r} must be an object")
        unknown = sorted(set(value) - {"meanings"})
        if unknown:
            raise InvalidRequest(f"{where}.{key}: only 'meanings' (terms) can be appended or removed here, not "
                                 f"{', '.join(unknown)}")
        sides.append(value.get("meanings"))
    return TermsChange(None, sides[0], sides[1])


def _bulk_answer(saved: Saved, tags: Mapping[str, Sequence[AssetTag]]) -> dict[str, Any]:
    """The body of POST /entity/bulk/: headers (with the attributes each request changed, and their tags) by
    kind, and the guids assigned to placeholder guids."""
    mutated = {kind: [entity_header(item.asset, item.changed, tags=tags.get(item.asset.guid, ())) for item in items]
               for kind, items in (("CREATE", saved.created), ("UPDATE", saved.updated)) if items}
    return {"mutatedEntities": mutated, "guidAssignments": dict(saved.assigned)}
