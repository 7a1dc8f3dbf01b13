"""Atlan tags over HTTP on a live server (SQLite and PostgreSQL): the typedef API's answers and refusals, tags in
entity/bulk and Atlas's classification endpoints, propagation through the hierarchy and lineage, search by tag."""

from __future__ import annotations

from typing import Any

import pytest

TYPEDEFS = "/api/meta/types/typedefs/"
BULK = "/api/meta/entity/bulk/"
SEARCH = "/api/meta/search/indexsearch"
CONNECTION = "default/glue/1790000000"
SCHEMA = f"{CONNECTION}/AwsDataCatalog/sales"


def _error(response, status: int) -> str:
    assert response.status_code == status, response.text
    return response.json()["errorMessage"]


def _entity(type_name: str, qualified_name: str, **extra: Any) -> dict[str, Any]:
    return {"typeName": type_name, "attributes": {"qualifiedName": qualified_name,
                                                  "name": qualified_name.rsplit("/", 1)[1]}, **extra}


@pytest.fixture()
def api(any_server):
    with any_server.client() as client:
        answer = client.post(BULK, json={"entities": [
            {"typeName": "Connection", "attributes": {"qualifiedName": CONNECTION, "name": "tags",
                                                      "connectorName": "glue", "adminRoles": ["$admin"]}},
            _entity("Database", f"{CONNECTION}/AwsDataCatalog"), _entity("Schema", SCHEMA),
            _entity("Table", f"{SCHEMA}/orders"), _entity("Column", f"{SCHEMA}/orders/id"),
            _entity("Column", f"{SCHEMA}/orders/email"), _entity("Table", f"{SCHEMA}/report"),
            _entity("Column", f"{SCHEMA}/report/email")]})
        assert answer.status_code == 200, answer.text
        yield client


def _define(api, name: str, **extra: Any) -> dict[str, Any]:
    answer = api.post(TYPEDEFS, json={"classificationDefs": [{"name": name, "displayName": name, **extra}]})
    assert answer.status_code == 200, answer.text
    return answer.json()["classificationDefs"][0]


def _tags(api, qualified_name: str, type_name: str = "Table") -> list[tuple[str, bool, str]]:
    """(tag id, propagate, source guid) of each tag on the asset, as an entity GET answers them."""
    entity = api.get(f"/api/meta/entity/uniqueAttribute/type/{type_name}",
                     params={"attr:qualifiedName": qualified_name}).json()["entity"]
    assert entity["classificationNames"] == list(dict.fromkeys(c["typeName"] for c in entity["classifications"]))
    return [(c["typeName"], c["propagate"], c["entityGuid"]) for c in entity["classifications"]]


def _found(api, query: dict[str, Any]) -> set[str]:
    answer = api.post(SEARCH, json={"dsl": {"size": 50, "query": query}})
    assert answer.status_code == 200, answer.text
    return {hit["attributes"]["qualifiedName"] for hit in answer.json().get("entities", [])}


def test_bad_tag_definitions_are_400s_and_duplicates_409s(api) -> None:
    pii = _define(api, "PII", options={"color": "Red"})
    before = api.get(TYPEDEFS).json()["classificationDefs"]
    cases = [
        ({"classificationDefs": [{"displayName": ""}]}, 400, "needs a displayName"),
        ({"classificationDefs": [{"displayName": " spaced"}]}, 400, "is not allowed"),
        ({"classificationDefs": [{"displayName": "x" * 65}]}, 400, "1 to 64"),
        ({"classificationDefs": [{"displayName": "Ok", "options": {"color": "Purple"}}]}, 400,
         "'Purple' is not one of Green, Yellow, Red, Gray"),
        ({"classificationDefs": [{"displayName": "Ok", "options": {"iconName": "../x"}}]}, 400, "iconName"),
        ({"classificationDefs": [{"displayName": "Ok", "description": 5}]}, 400, "description"),
        ({"classificationDefs": [{"displayName": "Ok"}, {"displayName": "OK"}]}, 400, "named twice"),
        ({"classificationDefs": "PII"}, 400, "must be a list"),
        ({"classificationDefs": []}, 400, "at least one tag"),
        ({"classificationDefs": [{"displayName": "Ok"}], "businessMetadataDefs": [{"name": "cm"}]}, 400,
         "only Atlan tag definitions"),
        ({"classificationDefs": [{"displayName": "pii"}]}, 409, "a tag named 'PII' exists already"),
        # One bad definition among good ones: none of them is created.
        ({"classificationDefs": [{"displayName": "Fine"}, {"displayName": "PII"}]}, 409, "exists already"),
    ]
    for body, status, message in cases:
        assert message in _error(api.post(TYPEDEFS, json=body), status), body
    assert api.get(TYPEDEFS).json()["classificationDefs"] == before
    assert "unknown typedef category 'nonsense'" in _error(api.get(TYPEDEFS, params={"type": "nonsense"}), 400)
    assert _error(api.delete("/api/meta/types/typedef/name/nope"), 404)
    assert _error(api.get("/api/meta/types/typedef/name/nope"), 404)
    # Update: by internal name; a rename keeps the internal name.
    renamed = api.put(TYPEDEFS, json={"classificationDefs": [
        {"name": pii["name"], "displayName": "Personal data", "options": {"color": "Yellow"}}]})
    assert renamed.status_code == 200, renamed.text
    (tag,) = renamed.json()["classificationDefs"]
    assert (tag["name"], tag["displayName"], tag["options"]["color"], tag["version"]) == \
        (pii["name"], "Personal data", "Yellow", 2)
    assert "no tag 'ghost'" in _error(api.put(TYPEDEFS, json={"classificationDefs": [{"displayName": "ghost"}]}),
                                      404)
    # What pyatlan's tag cache asks for: tags and at least one struct.
    cache = api.get(TYPEDEFS, params={"type": ["CLASSIFICATION", "STRUCT"]}).json()
    assert [t["displayName"] for t in cache["classificationDefs"]] == ["Personal data"] and cache["structDefs"]


def test_tags_through_bulk_and_classification_endpoints_propagate_and_are_found(api) -> None:
    pii = _define(api, "PII")["name"]
    gold = _define(api, "Gold")["name"]
    orders, report = f"{SCHEMA}/orders", f"{SCHEMA}/report"
    # Lineage: orders → (process) → report; the tag follows it, and into report's columns.
    lineage = {"typeName": "Process", "attributes": {
        "qualifiedName": f"{CONNECTION}/etl/build_report", "name": "build_report",
        "connectionQualifiedName": CONNECTION,
        "inputs": [{"typeName": "Table", "uniqueAttributes": {"qualifiedName": orders}}],
        "outputs": [{"typeName": "Table", "uniqueAttributes": {"qualifiedName": report}}]}}
    assert api.post(BULK, json={"entities": [lineage]}).status_code == 200
    table = api.post(BULK, json={"entities": [_entity("Table", orders, addOrUpdateClassifications=[
        {"typeName": pii, "propagate": True}, {"typeName": "Gold", "propagate": False}])]})
    assert table.status_code == 200, table.text
    (header,) = table.json()["mutatedEntities"]["UPDATE"]
    guid = header["guid"]
    assert sorted(header["classificationNames"]) == sorted([pii, gold])
    assert _tags(api, orders) == [(gold, False, guid), (pii, True, guid)] or \
        _tags(api, orders) == [(pii, True, guid), (gold, False, guid)]
    for qualified_name, type_name in ((f"{orders}/id", "Column"), (report, "Table"), (f"{report}/email", "Column")):
        assert _tags(api, qualified_name, type_name) == [(pii, True, guid)], qualified_name
    everything = {orders, f"{orders}/id", f"{orders}/email", report, f"{report}/email"}
    assert _found(api, {"terms": {"__traitNames": [pii, "Gold"]}}) == {orders}
    assert _found(api, {"term": {"__propagatedTraitNames": pii}}) == everything - {orders}
    assert _found(api, {"term": {"__classificationNames": "PII"}}) == everything
    assert _found(api, {"bool": {"filter": [{"term": {"__typeName.keyword": "Table"}}],
                                 "must_not": [{"exists": {"field": "__traitNames"}}]}}) == {report}
    assert "only term, terms and exists" in _error(api.post(SEARCH, json={"dsl": {"query": {
        "prefix": {"__traitNames": "P"}}}}), 400)

    # Turned off per assignment: PUT the tag with propagate false, and the copies go.
    by_name = f"/api/meta/entity/uniqueAttribute/type/Table/classifications?attr:qualifiedName={orders}"
    assert api.put(by_name, json=[{"typeName": pii, "propagate": False}]).status_code == 204
    assert _found(api, {"term": {"__classificationNames": pii}}) == {orders}
    # Unknown tags, tags the asset does not carry, unknown assets: clear 4xx, nothing written.
    assert "no Atlan tag 'Nope'" in _error(api.post(by_name, json=[{"typeName": "Nope"}]), 404)
    assert "'propagate' must be true or false" in _error(api.post(by_name, json=[{"typeName": pii,
                                                                                 "propagate": "yes"}]), 400)
    assert "needs a 'typeName'" in _error(api.post(by_name, json=[{"propagate": True}]), 400)
    assert "does not carry the tag 'PII'" in _error(api.delete(
        f"/api/meta/entity/guid/{_guid(api, report)}/classification/{pii}"), 404)
    assert _error(api.post("/api/meta/entity/guid/00000000-0000-4000-8000-000000000000/classifications",
                           json=[{"typeName": pii}]), 404)
    assert "no Atlan tag 'Nope'" in _error(api.post(BULK, json={"entities": [
        _entity("Table", report, addOrUpdateClassifications=[{"typeName": pii}, {"typeName": "Nope"}])]}), 404)
    assert _tags(api, report) == []

    # Taken off by display name; replaceTags makes `classifications` the whole set.
    assert api.delete(f"/api/meta/entity/guid/{guid}/classification/Gold").status_code == 204
    assert _tags(api, orders) == [(pii, False, guid)]
    replaced = api.post(BULK, params={"replaceTags": "true"}, json={"entities": [
        _entity("Table", orders, classifications=[{"typeName": gold}])]})
    assert replaced.status_code == 200, replaced.text
    assert _tags(api, orders) == [(gold, False, guid)]
    ignored = api.post(BULK, json={"entities": [_entity("Table", orders, classifications=[])]})
    assert ignored.status_code == 200 and _tags(api, orders) == [(gold, False, guid)]  # without replaceTags

    # Each change of the tags people put on is in the asset's history (changing only how one propagates is not).
    events = api.post("/api/meta/entity/auditSearch", json={"dsl": {"size": 10, "query": {
        "term": {"entityId": guid}}, "sort": [{"created": {"order": "asc"}}]}}).json()["entityAudits"]
    assert [(event["changes"]["atlanTags"]["old"], event["changes"]["atlanTags"]["new"]) for event in events
            if "atlanTags" in event["changes"]] == [([], ["Gold", "PII"]), (["Gold", "PII"], ["PII"]),
                                                     (["PII"], ["Gold"])]


def _guid(api, qualified_name: str) -> str:
    return api.get("/api/meta/entity/uniqueAttribute/type/Table",
                   params={"attr:qualifiedName": qualified_name}).json()["entity"]["guid"]


def test_pyatlan_tags_on_either_database(api, any_server) -> None:
    from pyatlan.client.atlan import AtlanClient
    from pyatlan.model.assets import Column, Table
    from pyatlan.model.fluent_search import CompoundQuery, FluentSearch
    from pyatlan.model.typedef import AtlanTagDef

    client = AtlanClient(base_url=any_server.url, api_key=any_server.ADMIN_TOKEN)
    client.typedef.create(AtlanTagDef.create(name="PII"))
    orders = f"{SCHEMA}/orders"
    client.asset.add_atlan_tags(asset_type=Table, qualified_name=orders, atlan_tag_names=["PII"], propagate=True)
    table = client.asset.get_by_qualified_name(orders, Table)
    assert [(str(tag.type_name), tag.propagate) for tag in table.atlan_tags] == [("PII", True)]
    column = client.asset.get_by_qualified_name(f"{orders}/email", Column)
    assert [(str(tag.type_name), tag.entity_guid) for tag in column.atlan_tags] == [("PII", table.guid)]
    found = FluentSearch().where(CompoundQuery.tagged(client, with_one_of=["PII"])).execute(client)
    assert sorted(a.qualified_name for a in found) == [orders, f"{orders}/email", f"{orders}/id"]
    client.asset.remove_atlan_tag(asset_type=Table, qualified_name=orders, atlan_tag_name="PII")
    assert FluentSearch().where(CompoundQuery.tagged(client, with_one_of=["PII"])).count(client) == 0
