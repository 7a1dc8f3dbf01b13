"""Assets in Atlas's entity shapes (gazetteer.api.entities): rendering AssetViews, and parsing entity/bulk bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from gazetteer.api.entities import bulk_upsert, entity_header, get_entity
from gazetteer.assets.views import AssetView
from gazetteer.auth.principal import Principal
from gazetteer.errors import InvalidRequest
from gazetteer.store.generation import current_generation
from gazetteer.store.schema import assets

ADMIN = Principal("u0", "admin", frozenset({"$admin"}))
CONNECTION = "default/glue/9"
MOMENT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _view(name: str, type_name: str = "Table", related: Any = None, **attributes: Any) -> AssetView:
    qualified_name = f"{CONNECTION}/db/s/{name}"
    return AssetView(f"guid-{name}", type_name, qualified_name, name, "ACTIVE",
                     {"qualifiedName": qualified_name, "name": name, **attributes}, "crawl", "alice",
                     MOMENT, MOMENT.replace(year=2027), related)


def test_a_header_carries_only_the_wanted_attributes_and_the_related_assets_as_references() -> None:
    columns = (_view("id", "Column", dataType="bigint", order=1), _view("amount", "Column", dataType="decimal"))
    table = _view("orders", rowCount=5, description="Orders", related={"columns": columns})
    header = entity_header(table, ["rowCount", "absent"], ["dataType"])
    assert header["attributes"]["rowCount"] == 5 and "description" not in header["attributes"]
    assert "absent" not in header["attributes"]
    assert [(c["guid"], c["attributes"]) for c in header["attributes"]["columns"]] == [
        ("guid-id", {"qualifiedName": columns[0].qualified_name, "name": "id", "dataType": "bigint"}),
        ("guid-amount", {"qualifiedName": columns[1].qualified_name, "name": "amount", "dataType": "decimal"})]
    assert header["attributes"]["columns"][0]["uniqueAttributes"] == {"qualifiedName": columns[0].qualified_name}
    assert (header["createTime"], header["updateTime"]) == (1767323045000, 1798859045000)
    assert (header["createdBy"], header["updatedBy"], header["classificationNames"]) == ("crawl", "alice", [])
    parent = entity_header(_view("id", "Column", related={"table": table}))["attributes"]["table"]
    assert parent["typeName"] == "Table" and parent["entityStatus"] == "ACTIVE"
    assert "rowCount" not in parent["attributes"]


@pytest.mark.parametrize(("body", "message"), [
    ({}, r"malformed bulk request: expected \{\"entities\""),
    ({"entities": []}, "malformed bulk request"),
    ({"entities": "x"}, "malformed bulk request"),
    ({"entities": [{"attributes": {}}]}, r"entities\[0\]: each entity needs a 'typeName'"),
    ({"entities": [{"typeName": "Dashboard"}]}, r"entities\[0\]: unknown typeName 'Dashboard'; this catalog holds "
                                                 "AtlasGlossary, AtlasGlossaryCategory, AtlasGlossaryTerm, "
                                                 "Connection, Database, Schema, Table, View, Column"),
    ({"entities": [{"typeName": "Table", "attributes": []}]}, r"entities\[0\]: 'attributes' must be an object"),
    ({"entities": [{"typeName": "Connection", "attributes": {"qualifiedName": CONNECTION, "name": "c"}},
                   {"typeName": "Table", "status": "PURGED"}]},
     r"entities\[1\]: 'status' must be ACTIVE or DELETED"),
])
def test_malformed_bulk_requests_say_what_is_wrong_and_write_nothing(engine: sa.Engine, body: Any,
                                                                     message: str) -> None:
    with engine.connect() as conn:
        before = current_generation(conn)
    with pytest.raises(InvalidRequest, match=message):
        bulk_upsert(engine, body, ADMIN)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(assets)).scalar() == 0
        assert current_generation(conn) == before


def test_a_bulk_answer_names_what_each_entity_changed_and_the_guids_it_assigned(engine: sa.Engine) -> None:
    answer = bulk_upsert(engine, {"entities": [{"typeName": "Connection", "guid": "-7", "attributes": {
        "qualifiedName": CONNECTION, "name": "lake", "userDescription": "Our lake", "connectorName": "glue"}}]}, ADMIN)
    (created,) = answer["mutatedEntities"]["CREATE"]
    assert answer["guidAssignments"] == {"-7": created["guid"]} and "UPDATE" not in answer["mutatedEntities"]
    assert created["attributes"] == {"qualifiedName": CONNECTION, "name": "lake", "userDescription": "Our lake"}
    entity = get_entity(engine, guid=created["guid"], relationships=True)
    assert entity["referredEntities"] == {} and entity["entity"]["relationshipAttributes"] == {"meanings": []}
    assert entity["entity"]["attributes"]["connectorName"] == "glue" and entity["entity"]["version"] == 0
    assert "relationshipAttributes" not in get_entity(engine, guid=created["guid"])["entity"]
