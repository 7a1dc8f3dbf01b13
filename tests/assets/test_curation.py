"""Curating and creating assets (gazetteer.assets.curation), typed calls on SQLite and PostgreSQL.

Curated fields live apart from crawled ones, refusals and invalid requests say why and change nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from gazetteer.assets.curation import EDITABLE, AssetChange, Saved, save_assets, update_curated
from gazetteer.assets.publish import Publisher
from gazetteer.assets.records import AssetRecord, content_hash
from gazetteer.auth.principal import Principal
from gazetteer.auth.service import create_group, create_token, create_user
from gazetteer.errors import InvalidRequest, NotFound, PermissionDenied
from gazetteer.store.generation import current_generation
from gazetteer.store.schema import assets

C = "default/glue/42"
DB = f"{C}/AwsDataCatalog"
SALES = f"{DB}/sales"
ORDERS = f"{SALES}/orders"
ADMIN = Principal("u0", "admin", frozenset({"$admin"}))
ALICE = Principal("u1", "alice", frozenset({"$member"}))  # named admin of the connection
BOB = Principal("u2", "bob", frozenset({"$member"}))
CAROL = Principal("u3", "carol", frozenset({"$member"}), groups=frozenset({"stewards"}))  # via her group
GUEST = Principal("u4", "gus", frozenset({"$guest"}))
HIERARCHY = {"connectionQualifiedName": C, "connectionName": "lake", "connectorName": "glue",
             "databaseName": "AwsDataCatalog", "databaseQualifiedName": DB}
ORDERS_ATTRIBUTES = {**HIERARCHY, "schemaName": "sales", "schemaQualifiedName": SALES,
                     "description": "Crawled: all orders", "rowCount": 500}


def _records(**orders: Any) -> list[AssetRecord]:
    return [
        AssetRecord("Connection", C, "lake", None, {"connectorName": "glue", "adminUsers": ["alice"],
                                                    "adminGroups": ["stewards"]}),
        AssetRecord("Database", DB, "AwsDataCatalog", C, {k: v for k, v in HIERARCHY.items() if "database" not in k}),
        AssetRecord("Schema", SALES, "sales", DB, HIERARCHY),
        AssetRecord("Table", ORDERS, "orders", SALES, {**ORDERS_ATTRIBUTES, **orders}),
    ]


@pytest.fixture()
def catalog(engine: sa.Engine) -> sa.Engine:
    Publisher(engine).publish(_records())
    return engine


def _row(engine: sa.Engine, qualified_name: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.select(assets).where(assets.c.qualified_name == qualified_name)).one()


def _guid(engine: sa.Engine, qualified_name: str) -> str:
    return _row(engine, qualified_name).guid


def _snapshot(engine: sa.Engine) -> tuple[list[tuple], Any]:
    """Every asset row and the catalog generation: what a refused request must leave as it was."""
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(sa.select(assets).order_by(assets.c.id))]
        return rows, current_generation(conn)


def _save(engine: sa.Engine, principal: Principal, *entities: dict[str, Any]) -> Saved:
    return save_assets(engine, [AssetChange(entity["typeName"], entity.get("attributes") or {}, entity.get("guid"),
                                            f"entities[{i}]") for i, entity in enumerate(entities)], principal)


def _table(qualified_name: str = ORDERS, **attributes: Any) -> dict[str, Any]:
    return {"typeName": "Table", "attributes": {"qualifiedName": qualified_name,
                                                "name": qualified_name.rsplit("/", 1)[1], **attributes}}


# --- update_curated -------------------------------------------------------------------------------------------


def test_curated_fields_are_kept_apart_from_crawled_ones_and_survive_a_crawl(catalog: sa.Engine) -> None:
    with catalog.connect() as conn:
        before = current_generation(conn)
    asset = update_curated(catalog, _guid(catalog, ORDERS), ALICE,
                           {"description": "People's: one row per order line", "ownerUsers": ["bob", "alice", "bob"]})
    assert asset.attributes["description"] == "People's: one row per order line"
    assert asset.attributes["ownerUsers"] == ["alice", "bob"]  # a set of names, sorted
    assert asset.attributes["rowCount"] == 500 and asset.updated_by == "alice"
    row = _row(catalog, ORDERS)
    assert row.attributes["description"] == "Crawled: all orders"  # the crawl's copy is untouched
    assert row.curated == {"description": "People's: one row per order line", "ownerUsers": ["alice", "bob"]}
    with catalog.connect() as conn:
        assert current_generation(conn).settled > before.settled  # cached searches see the edit

    Publisher(catalog).publish(_records(description="Crawled: changed upstream", rowCount=501))
    row = _row(catalog, ORDERS)
    assert row.attributes["description"] == "Crawled: changed upstream" and row.attributes["rowCount"] == 501
    assert row.curated["description"] == "People's: one row per order line"

    update_curated(catalog, row.guid, ALICE, {"description": None, "ownerUsers": None})
    assert _row(catalog, ORDERS).curated is None  # nothing curated left: the crawled description shows again


def test_certificate_and_announcement_changes_are_stamped_once(catalog: sa.Engine) -> None:
    guid = _guid(catalog, ORDERS)
    first = update_curated(catalog, guid, ALICE, {"certificateStatus": "VERIFIED"}).attributes
    assert first["certificateUpdatedBy"] == "alice" and isinstance(first["certificateUpdatedAt"], int)
    assert "announcementUpdatedBy" not in first
    # The same value again is no change: the stamp still names who certified it.
    again = update_curated(catalog, guid, ADMIN, {"certificateStatus": "VERIFIED"}).attributes
    assert again["certificateUpdatedBy"] == "alice" and again["certificateUpdatedAt"] == first["certificateUpdatedAt"]
    announced = update_curated(catalog, guid, ADMIN, {"announcementTitle": "Moving", "announcementType": "warning"})
    assert announced.attributes["announcementUpdatedBy"] == "admin"
    assert announced.attributes["certificateUpdatedBy"] == "alice"


def test_owners_added_in_the_ui_must_be_the_catalogs_users_and_groups(catalog: sa.Engine) -> None:
    guid = _guid(catalog, ORDERS)
    create_user(catalog, "dora", "$member")
    create_group(catalog, "stewards")
    create_token(catalog, "robot")
    before = _snapshot(catalog)
    for changes in ({"ownerUsers": ["dora", "nobody"]}, {"ownerUsers": ["stewards"]}, {"ownerGroups": ["dora"]},
                    {"ownerUsers": ["service-account-robot"]}):
        with pytest.raises(InvalidRequest, match=r"^No user or group of this catalog is called '"):
            update_curated(catalog, guid, ALICE, changes, known_owners=True)
    with pytest.raises(PermissionDenied):  # who may edit comes first: a guest learns nothing about the users
        update_curated(catalog, guid, GUEST, {"ownerUsers": ["nobody"]}, known_owners=True)
    assert _snapshot(catalog) == before
    saved = update_curated(catalog, guid, ALICE, {"ownerUsers": ["dora"], "ownerGroups": ["stewards"]},
                           known_owners=True)
    assert saved.attributes["ownerUsers"] == ["dora"] and saved.attributes["ownerGroups"] == ["stewards"]
    # The API stores any names, as Atlan's does (pyatlan scripts may name people before they are added) ...
    update_curated(catalog, guid, ALICE, {"ownerUsers": ["dora", "ghost"]})
    # ... and an owner the asset has already is kept by a UI edit, so that one who left blocks no later edit.
    kept = update_curated(catalog, guid, ALICE, {"ownerUsers": ["ghost"], "certificateStatus": "DRAFT"},
                          known_owners=True)
    assert kept.attributes["ownerUsers"] == ["ghost"] and kept.attributes["certificateStatus"] == "DRAFT"


@pytest.mark.parametrize(("changes", "message"), [
    ({"rowCount": 1}, r"^rowCount cannot be edited; editable: userDescription, description, "),
    ({"certificateStatus": "GOLD"}, r"'certificateStatus' must be one of DEPRECATED, DRAFT, VERIFIED$"),
    ({"ownerUsers": "alice"}, r"'ownerUsers' must be a list of names$"),
    ({"ownerGroups": ["ok", 3]}, r"'ownerGroups' must be a list of names$"),
    ({"userDescription": 3}, r"'userDescription' must be a string$"),
    # One bad value refuses the whole change, the valid part included.
    ({"userDescription": "fine", "announcementType": "loud"}, r"'announcementType' must be one of "),
])
def test_invalid_changes_are_refused_with_a_clear_message_and_change_nothing(
        catalog: sa.Engine, changes: dict[str, Any], message: str) -> None:
    before = _snapshot(catalog)
    with pytest.raises(InvalidRequest, match=message):
        update_curated(catalog, _guid(catalog, ORDERS), ADMIN, changes)
    assert _snapshot(catalog) == before


@pytest.mark.parametrize(("principal", "message"), [
    (BOB, r"User 'bob' is not an admin of connection 'lake', so may not curate an asset .* in connection "),
    (GUEST, r"User 'gus' has read-only access and may not curate an asset"),
])
def test_only_the_connection_admins_may_curate(catalog: sa.Engine, principal: Principal, message: str) -> None:
    before = _snapshot(catalog)
    with pytest.raises(PermissionDenied, match=message):
        update_curated(catalog, _guid(catalog, ORDERS), principal, {"userDescription": "mine"})
    assert _snapshot(catalog) == before
    # A member of a group the stored connection names as admins may.
    assert update_curated(catalog, _guid(catalog, ORDERS), CAROL,
                          {"userDescription": "ours"}).attributes["userDescription"] == "ours"


def test_curating_an_unknown_asset_is_not_found(catalog: sa.Engine) -> None:
    with pytest.raises(NotFound, match="Given instance guid nope is invalid/not found"):
        update_curated(catalog, "nope", ADMIN, {"userDescription": "x"})


def test_editable_is_what_people_curate_without_the_server_stamps() -> None:
    assert "userDescription" in EDITABLE and "certificateStatus" in EDITABLE
    assert not any(key.endswith(("UpdatedBy", "UpdatedAt")) for key in EDITABLE)


# --- save_assets: updating ------------------------------------------------------------------------------------


def test_bulk_update_takes_echoed_crawl_attributes_and_refuses_changed_ones(catalog: sa.Engine) -> None:
    # (An echoed `description` is taken as curated, as it is editable: left out here.)
    crawled = {key: value for key, value in ORDERS_ATTRIBUTES.items() if key != "description"}
    echoed = _table(**crawled, userDescription="Curated", certificateUpdatedBy="someone else")
    saved = _save(catalog, ALICE, echoed)
    (updated,) = saved.updated
    assert updated.changed == ("userDescription",) and updated.asset.attributes["userDescription"] == "Curated"
    assert not saved.created
    row = _row(catalog, ORDERS)
    assert row.curated == {"userDescription": "Curated"}  # a server stamp sent by the caller is ignored
    assert row.attributes == ORDERS_ATTRIBUTES

    before = _snapshot(catalog)
    with pytest.raises(InvalidRequest, match=r"^entities\[0\]: rowCount, tableType of Table '.*/orders' come from "
                                             r"the crawl and cannot be changed here; editable: userDescription"):
        _save(catalog, ADMIN, _table(rowCount=7, tableType="ICEBERG", userDescription="x"))
    with pytest.raises(InvalidRequest, match=r"'.*/orders' is a Table, not a View"):
        _save(catalog, ADMIN, {**_table(userDescription="x"), "typeName": "View"})
    with pytest.raises(NotFound, match="Given instance guid 0000 is invalid/not found"):
        _save(catalog, ADMIN, {**_table(userDescription="x"), "guid": "0000"})
    assert _snapshot(catalog) == before


def test_a_request_cannot_make_its_sender_a_connection_admin(catalog: sa.Engine) -> None:
    before = _snapshot(catalog)
    # The admins are crawl-owned attributes of the stored connection: naming oneself is a change, refused.
    with pytest.raises(InvalidRequest, match="adminUsers of Connection"):
        _save(catalog, BOB, {"typeName": "Connection", "attributes": {
            "qualifiedName": C, "name": "lake", "adminUsers": ["bob"], "userDescription": "mine"}})
    with pytest.raises(PermissionDenied, match="User 'bob' is not an admin of connection 'lake'"):
        _save(catalog, BOB, {"typeName": "Connection", "attributes": {
            "qualifiedName": C, "name": "lake", "adminUsers": ["alice"], "userDescription": "mine"}})
    assert _snapshot(catalog) == before


# --- save_assets: creating ------------------------------------------------------------------------------------


def test_bulk_creates_children_after_parents_with_the_inherited_hierarchy(catalog: sa.Engine) -> None:
    returns = f"{SALES}/returns"
    saved = _save(catalog, ALICE,
                   {"typeName": "Column", "guid": "-2", "attributes": {
                       "qualifiedName": f"{returns}/reason", "name": "reason", "dataType": "string", "order": 1}},
                   {"typeName": "Table", "guid": "-1", "attributes": {
                       "qualifiedName": returns, "name": "returns", "userDescription": "Returned goods",
                       "atlanSchema": {"typeName": "Schema", "uniqueAttributes": {"qualifiedName": SALES}}}})
    assert [item.asset.type_name for item in saved.created] == ["Table", "Column"]
    assert not saved.updated
    table, column = _row(catalog, returns), _row(catalog, f"{returns}/reason")
    assert saved.assigned == {"-1": table.guid, "-2": column.guid}
    assert table.attributes == {**HIERARCHY, "schemaName": "sales", "schemaQualifiedName": SALES}
    assert table.curated["userDescription"] == "Returned goods" and "atlanSchema" not in table.attributes
    assert (table.parent_qualified_name, table.schema_qualified_name, table.connection_qualified_name) == \
        (SALES, SALES, C)
    assert column.attributes == {**table.attributes, "tableName": "returns", "tableQualifiedName": returns,
                                 "dataType": "string", "order": 1}
    assert (column.created_by, column.updated_by, column.status) == ("alice", "alice", "ACTIVE")


def test_an_asset_created_through_the_api_hashes_as_a_crawl_would(catalog: sa.Engine) -> None:
    """One content_hash recipe: a crawl finding the very same content leaves the row alone, else updates it."""
    name = f"{SALES}/refunds"
    _save(catalog, ALICE, _table(name, tableType="EXTERNAL_TABLE"))
    created = _row(catalog, name)
    assert created.content_hash == content_hash("refunds", SALES, None, created.attributes)

    publisher = Publisher(catalog, actor="crawl")
    publisher.publish([AssetRecord("Table", name, "refunds", SALES, dict(created.attributes))])
    assert publisher.changes["unchanged"] == 1 and _row(catalog, name).updated_by == "alice"
    publisher.publish([AssetRecord("Table", name, "refunds", SALES, {**created.attributes, "rowCount": 3})])
    assert publisher.changes["updated"] == 1 and _row(catalog, name).updated_by == "crawl"


def test_creating_needs_an_existing_parent_and_a_name_below_it(catalog: sa.Engine) -> None:
    before = _snapshot(catalog)
    with pytest.raises(NotFound, match=r"Referenced entity Schema with unique attribute \{qualifiedName="
                                       rf"{DB}/nope\}} does not exist \(entities\[0\]\)"):
        _save(catalog, ADMIN, _table(f"{DB}/nope/t"))
    with pytest.raises(InvalidRequest, match=rf"qualifiedName '{DB}/other/t' must start with its parent's "
                                             rf"'{SALES}' followed by '/'"):
        _save(catalog, ADMIN, _table(f"{DB}/other/t", schemaQualifiedName=SALES))
    with pytest.raises(InvalidRequest, match="a new Table needs attributes.qualifiedName and attributes.name"):
        _save(catalog, ADMIN, {"typeName": "Table", "attributes": {"qualifiedName": f"{SALES}/t"}})
    with pytest.raises(PermissionDenied, match="may not create an asset beneath an existing connection"):
        _save(catalog, BOB, _table(f"{SALES}/t"))
    assert _snapshot(catalog) == before


def test_a_request_is_all_or_nothing(catalog: sa.Engine) -> None:
    before = _snapshot(catalog)
    with pytest.raises(InvalidRequest, match=r"^entities\[1\]: 'certificateStatus' must be one of"):
        _save(catalog, ALICE, _table(f"{SALES}/fine"), _table(f"{SALES}/bad", certificateStatus="GOLD"))
    assert _snapshot(catalog) == before


def test_a_member_may_create_a_connection_only_naming_themself_an_admin(catalog: sa.Engine) -> None:
    mine = {"typeName": "Connection", "attributes": {"qualifiedName": "default/glue/7", "name": "mine",
                                                     "connectorName": "glue"}}
    before = _snapshot(catalog)
    with pytest.raises(PermissionDenied, match="User 'bob' is not an admin of connection 'mine'"):
        _save(catalog, BOB, mine)
    assert _snapshot(catalog) == before
    _save(catalog, BOB, {**mine, "attributes": {**mine["attributes"], "adminUsers": ["bob"]}})
    row = _row(catalog, "default/glue/7")
    assert (row.type_name, row.parent_qualified_name, row.connection_qualified_name, row.created_by) == \
        ("Connection", None, "default/glue/7", "bob")
    assert row.attributes == {"connectorName": "glue", "adminUsers": ["bob"]}


def test_an_unknown_type_is_refused_before_anything_is_written(catalog: sa.Engine) -> None:
    before = _snapshot(catalog)
    with pytest.raises(InvalidRequest, match=r"^entities\[1\]: unknown typeName 'Dashboard'; this catalog holds "
                                             "AtlasGlossary, AtlasGlossaryCategory, AtlasGlossaryTerm, "
                                             "Connection, Database, Schema, Table, View, Column"):
        _save(catalog, ADMIN, _table(f"{SALES}/fine"), {"typeName": "Dashboard", "attributes": {}})
    assert _snapshot(catalog) == before
