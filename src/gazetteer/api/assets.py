"""Routes of the asset API, as Atlan's Atlas serves them under /api/meta (what pyatlan's asset client calls).

Searches and entity lookups read the read replica (`ReadEngineDep`, the primary without one); entity/bulk
writes to the primary. A lookup right after a save may therefore miss it for the replica's delay."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from gazetteer.api import classifications
from gazetteer.api.asset_search import index_search, text_search_answer
from gazetteer.api.entities import bulk_delete, bulk_upsert, get_entity
from gazetteer.api.lineage import lineage_list_answer
from gazetteer.assets.tagging import TagEdit, edit_tags
from gazetteer.errors import InvalidRequest
from gazetteer.web.deps import EngineDep, PrincipalDep, ReadEngineDep
from gazetteer.web.openapi import errors

__all__ = ["router"]

router = APIRouter(prefix="/api/meta", tags=["assets"], responses=errors(401))
JsonObject = Annotated[dict[str, Any], Body()]
JsonList = Annotated[list[Any], Body()]
QualifiedName = Annotated[str, Query(alias="attr:qualifiedName", min_length=1)]
# httpx renders Python booleans lower-case; accept any case.
Flag = Annotated[str | None, Query()]


def _flag(value: str | None, name: str, default: bool) -> bool:
    if value is None:
        return default
    if value.lower() not in ("true", "false"):
        raise InvalidRequest(f"query parameter {name!r} must be true or false, not {value!r}")
    return value.lower() == "true"


@router.post("/search/indexsearch")
def indexsearch(body: JsonObject, engine: ReadEngineDep, _: PrincipalDep) -> dict[str, Any]:
    """Search assets with an Elasticsearch query: FluentSearch, find_connections_by_name, the UI."""
    return index_search(engine, body)


@router.get("/search/text")
def text_search(engine: ReadEngineDep, _: PrincipalDep, q: str = "", type: str | None = None,  # noqa: A002
                size: Annotated[int, Query(ge=1, le=1000)] = 50) -> dict[str, Any]:
    """Gazetteer's own: the web UI's search by words (`q`), ranked as the UI ranks; what `gazetteer search` asks."""
    return text_search_answer(engine, q, type, size)


@router.post("/lineage/list", responses=errors(404))
def lineage(body: JsonObject, engine: ReadEngineDep, _: PrincipalDep) -> dict[str, Any]:
    """The processes and assets upstream or downstream of one asset (get_lineage_list, FluentLineage)."""
    return lineage_list_answer(engine, body)


@router.get("/entity/guid/{guid}", responses=errors(404))
def entity_by_guid(guid: str, engine: ReadEngineDep, _: PrincipalDep, minExtInfo: Flag = None,  # noqa: N803
                   ignoreRelationships: Flag = None) -> dict[str, Any]:  # noqa: N803
    """One asset by guid, with relationshipAttributes unless ignoreRelationships=true."""
    _flag(minExtInfo, "minExtInfo", False)
    relationships = not _flag(ignoreRelationships, "ignoreRelationships", False)
    return get_entity(engine, guid=guid, relationships=relationships)


@router.get("/entity/uniqueAttribute/type/{type_name}", responses=errors(404))
def entity_by_qualified_name(
    type_name: str, engine: ReadEngineDep, _: PrincipalDep,
    qualified_name: Annotated[str, Query(alias="attr:qualifiedName", min_length=1)],
    minExtInfo: Flag = None, ignoreRelationships: Flag = None,  # noqa: N803
) -> dict[str, Any]:
    """One active asset by type and qualifiedName (get_by_qualified_name)."""
    _flag(minExtInfo, "minExtInfo", False)
    relationships = not _flag(ignoreRelationships, "ignoreRelationships", False)
    return get_entity(engine, type_name=type_name, qualified_name=qualified_name, relationships=relationships)


@router.post("/entity/bulk/", responses=errors(403, 404))
@router.post("/entity/bulk", include_in_schema=False)
def entity_bulk(body: JsonObject, engine: EngineDep, principal: PrincipalDep,
                replaceTags: Flag = None, appendTags: Flag = None,  # noqa: N803
                replaceBusinessAttributes: Flag = None, overwriteBusinessAttributes: Flag = None,  # noqa: N803
                replaceClassifications: Flag = None) -> dict[str, Any]:  # noqa: N803
    """Create or update assets (asset.save): descriptions, owners, certificates, Atlan tags, terms; glossaries,
    their categories and terms; new connections and tables. addOrUpdateClassifications / removeClassifications
    apply whatever appendTags says; `classifications` replaces an existing asset's tags only with replaceTags (or
    replaceClassifications) true."""
    for name, value in (("appendTags", appendTags), ("replaceBusinessAttributes", replaceBusinessAttributes),
                        ("overwriteBusinessAttributes", overwriteBusinessAttributes)):
        _flag(value, name, False)  # accepted; custom metadata is not kept
    replace = _flag(replaceTags, "replaceTags", False) or _flag(replaceClassifications, "replaceClassifications",
                                                               False)
    return bulk_upsert(engine, body, principal, replace_tags=replace)


# Atlas's classification endpoints: Atlan tags on one asset, by guid or by type and qualifiedName.
@router.post("/entity/guid/{guid}/classifications", status_code=204, responses=errors(403, 404))
def add_tags_by_guid(guid: str, body: JsonList, engine: EngineDep, principal: PrincipalDep) -> Response:
    """Put Atlan tags on an asset (or change how they propagate)."""
    edit_tags(engine, principal, TagEdit(add=classifications.parse_list(body, "body")), guid=guid)
    return Response(status_code=204)


@router.put("/entity/guid/{guid}/classifications", status_code=204, responses=errors(403, 404))
def update_tags_by_guid(guid: str, body: JsonList, engine: EngineDep, principal: PrincipalDep) -> Response:
    """Change how Atlan tags an asset carries propagate (or put them on)."""
    return add_tags_by_guid(guid, body, engine, principal)


@router.delete("/entity/guid/{guid}/classification/{tag}", status_code=204, responses=errors(403, 404))
def remove_tag_by_guid(guid: str, tag: str, engine: EngineDep, principal: PrincipalDep) -> Response:
    """Take an Atlan tag off an asset (and off wherever it propagated from there)."""
    edit_tags(engine, principal, TagEdit(remove=(tag,)), guid=guid)
    return Response(status_code=204)


@router.post("/entity/uniqueAttribute/type/{type_name}/classifications", status_code=204,
             responses=errors(403, 404))
def add_tags_by_name(type_name: str, body: JsonList, engine: EngineDep, principal: PrincipalDep,
                     qualified_name: QualifiedName) -> Response:
    """Put Atlan tags on an active asset named by type and qualifiedName."""
    edit_tags(engine, principal, TagEdit(add=classifications.parse_list(body, "body")), type_name=type_name,
              qualified_name=qualified_name)
    return Response(status_code=204)


@router.put("/entity/uniqueAttribute/type/{type_name}/classifications", status_code=204,
            responses=errors(403, 404))
def update_tags_by_name(type_name: str, body: JsonList, engine: EngineDep, principal: PrincipalDep,
                        qualified_name: QualifiedName) -> Response:
    """Change how Atlan tags an asset carries propagate (or put them on)."""
    return add_tags_by_name(type_name, body, engine, principal, qualified_name)


@router.delete("/entity/uniqueAttribute/type/{type_name}/classification/{tag}", status_code=204,
               responses=errors(403, 404))
def remove_tag_by_name(type_name: str, tag: str, engine: EngineDep, principal: PrincipalDep,
                       qualified_name: QualifiedName) -> Response:
    """Take an Atlan tag off an active asset named by type and qualifiedName."""
    edit_tags(engine, principal, TagEdit(remove=(tag,)), type_name=type_name, qualified_name=qualified_name)
    return Response(status_code=204)


@router.delete("/entity/bulk/", responses=errors(400, 403, 404))
@router.delete("/entity/bulk", include_in_schema=False)
def entity_bulk_delete(engine: EngineDep, principal: PrincipalDep,
                       guid: Annotated[list[str], Query(min_length=1, max_length=1000)],
                       deleteType: Annotated[str, Query()] = "SOFT") -> dict[str, Any]:  # noqa: N803
    """Archive (SOFT) or delete for good (HARD, PURGE) glossaries, categories and terms: delete_by_guid,
    purge_by_guid. Crawled assets are archived by crawls, not here."""
    return bulk_delete(engine, guid, deleteType, principal)
