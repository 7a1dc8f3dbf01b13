"""Atlas's typedef API, for Atlan tag definitions: what pyatlan's `client.typedef` and its tag cache call.

What for: `typedef.get_all()` (GET /types/typedefs), `typedef.get(AtlanTypeCategory...)` and the tag cache's
refresh (GET /types/typedefs?type=CLASSIFICATION&type=STRUCT), `get_by_name`, `create(AtlanTagDef.create(...))`
(POST), `update` (PUT) and `purge(name, AtlanTagDef)` (DELETE /types/typedef/name/{internal name}). Only tags are
kept here (no custom metadata, enumerations or entity types). pyatlan's tag cache raises "expired API token"
when the answer has no struct definitions at all, so it always carries the one struct Atlan describes source
tag attachments with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from gazetteer.assets.tag_defs import TagDef, TagSpec, create_tags, delete_tag, list_tags, update_tags
from gazetteer.assets.views import epoch_ms
from gazetteer.errors import InvalidRequest, NotFound
from gazetteer.web.deps import EngineDep, PrincipalDep, ReadEngineDep
from gazetteer.web.openapi import errors

__all__ = ["router", "tag_def"]

router = APIRouter(prefix="/api/meta/types", tags=["typedefs"], responses=errors(401))
# The categories' keys in a typedef answer or request, by category (AtlanTypeCategory, in lower case).
_KEYS = {"enum": "enumDefs", "struct": "structDefs", "classification": "classificationDefs",
         "entity": "entityDefs", "relationship": "relationshipDefs", "business_metadata": "businessMetadataDefs"}
_SOURCE_TAG_ATTACHMENT = {
    "category": "STRUCT", "name": "SourceTagAttachment", "description": "A tag as a source (Glue, LF-tags) holds it",
    "serviceType": "atlan", "typeVersion": "1.0",
    "attributeDefs": [{"name": name, "typeName": "string", "isOptional": True, "cardinality": "SINGLE",
                       "isIndexable": False, "isUnique": False}
                      for name in ("sourceTagName", "sourceTagQualifiedName", "sourceTagConnectorName",
                                   "tagAttachmentKey", "tagAttachmentValue")],
}


def tag_def(tag: TagDef) -> dict[str, Any]:
    """A tag definition as Atlas's classificationDef."""
    return {"category": "CLASSIFICATION", "guid": tag.guid, "name": tag.name, "displayName": tag.display_name,
            "description": tag.description or "", "createdBy": tag.created_by, "updatedBy": tag.updated_by,
            "createTime": epoch_ms(tag.created_at), "updateTime": epoch_ms(tag.updated_at), "version": tag.version,
            "typeVersion": "1.0", "serviceType": "atlan", "options": dict(tag.options), "attributeDefs": [],
            "superTypes": [], "subTypes": [], "entityTypes": [], "skipDisplayNameUniquenessCheck": False}


def _answer(tags: list[TagDef] | tuple[TagDef, ...], categories: set[str]) -> dict[str, Any]:
    answer: dict[str, Any] = {key: [] for key in _KEYS.values()}
    if "classification" in categories:
        answer["classificationDefs"] = [tag_def(tag) for tag in tags]
    if "struct" in categories:
        answer["structDefs"] = [_SOURCE_TAG_ATTACHMENT]
    return answer


def _specs(body: Any) -> list[TagSpec]:
    """The classificationDefs of a POST or PUT body; any other kind of definition is refused."""
    if not isinstance(body, Mapping):
        raise InvalidRequest("malformed typedef request: expected {\"classificationDefs\": [...]}")
    others = sorted(key for key in _KEYS.values() if key != "classificationDefs" and body.get(key))
    if others:
        raise InvalidRequest(f"only Atlan tag definitions (classificationDefs) are kept by this catalog, not "
                             f"{', '.join(others)}")
    defs = body.get("classificationDefs")
    if not isinstance(defs, list):
        raise InvalidRequest("malformed typedef request: 'classificationDefs' must be a list")
    specs = []
    for i, item in enumerate(defs):
        where = f"classificationDefs[{i}]"
        if not isinstance(item, Mapping):
            raise InvalidRequest(f"{where}: expected an object")
        name, display_name = item.get("name"), item.get("displayName")
        if not isinstance(display_name, str) or not display_name:
            display_name = name  # Atlas's own clients name a classification by `name` alone
        if not isinstance(display_name, str):
            raise InvalidRequest(f"{where}: a tag needs a displayName (its name as people see it)")
        specs.append(TagSpec(display_name=display_name, description=item.get("description"),
                             options=item.get("options"), name=name if isinstance(name, str) else None))
    return specs


@router.get("/typedefs/")
@router.get("/typedefs", include_in_schema=False)
def get_typedefs(engine: ReadEngineDep, _: PrincipalDep,
                 type: Annotated[list[str] | None, Query()] = None) -> dict[str, Any]:  # noqa: A002
    """Type definitions: all of them, or those of the categories `type` names (CLASSIFICATION, STRUCT...)."""
    if len(type or ()) > len(_KEYS):
        raise InvalidRequest(f"name at most {len(_KEYS)} categories in 'type'")
    wanted = {value.lower() for value in type or ()}
    unknown = sorted(wanted - set(_KEYS))
    if unknown:
        raise InvalidRequest(f"unknown typedef category {unknown[0][:40]!r}: use one of "
                             f"{', '.join(name.upper() for name in _KEYS)}")
    return _answer(list_tags(engine), wanted or set(_KEYS))


@router.get("/typedef/name/{name}", responses=errors(404))
def get_typedef(name: str, engine: ReadEngineDep, _: PrincipalDep) -> dict[str, Any]:
    """One type definition by (internal) name: a tag, or the source tag attachment struct."""
    if name == _SOURCE_TAG_ATTACHMENT["name"]:
        return _SOURCE_TAG_ATTACHMENT
    for tag in list_tags(engine):
        if tag.name == name:
            return tag_def(tag)
    raise NotFound(f"Given typename {name} was invalid")


@router.post("/typedefs/", responses=errors(403, 409))
@router.post("/typedefs", include_in_schema=False)
def create_typedefs(body: Annotated[dict[str, Any], Body()], engine: EngineDep,
                    principal: PrincipalDep) -> dict[str, Any]:
    """Create Atlan tags ($admin only); each gets an internal name, and keeps its displayName."""
    return _answer(create_tags(engine, _specs(body), principal), {"classification"})


@router.put("/typedefs/", responses=errors(403, 404, 409))
@router.put("/typedefs", include_in_schema=False)
def update_typedefs(body: Annotated[dict[str, Any], Body()], engine: EngineDep,
                    principal: PrincipalDep) -> dict[str, Any]:
    """Change Atlan tags ($admin only): display name, description, color and icon."""
    return _answer(update_tags(engine, _specs(body), principal), {"classification"})


@router.delete("/typedef/name/{name}", status_code=204, responses=errors(403, 404))
def purge_typedef(name: str, engine: EngineDep, principal: PrincipalDep) -> Response:
    """Delete an Atlan tag ($admin only), and take it off every asset."""
    delete_tag(engine, name, principal)
    return Response(status_code=204)
