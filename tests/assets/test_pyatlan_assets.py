"""The real pyatlan 10.0.0 asset client against a live server whose catalog a pyatlan-submitted crawl filled."""

from __future__ import annotations

import pytest

REGION = "ap-south-1"  # the crawled fixture's (tests/assets/conftest.py)


def test_pyatlan_finds_and_reads_the_crawled_catalog(crawled):
    from pyatlan.errors import NotFoundError
    from pyatlan.model.assets import Asset, Column, Connection, Database, Schema, Table, View
    from pyatlan.model.enums import AtlanConnectorType
    from pyatlan.model.fluent_search import CompoundQuery, FluentSearch

    client, _, catalog = crawled
    (connection_qn,) = catalog["Connection"]
    connections = client.asset.find_connections_by_name("production", AtlanConnectorType.GLUE)
    assert [c.qualified_name for c in connections] == [connection_qn]
    assert connections[0].guid == catalog["Connection"][connection_qn]

    # Every table of the connection, two per page: exactly the crawled tables, each once.
    search = (FluentSearch().where(CompoundQuery.active_assets()).where(CompoundQuery.asset_type(Table))
              .where(Table.CONNECTION_QUALIFIED_NAME.eq(connection_qn)).page_size(2)
              .include_on_results(Table.ATLAN_SCHEMA).include_on_results(Table.COLUMN_COUNT))
    results = search.execute(client)
    tables = list(results)
    assert sorted(t.qualified_name for t in tables) == sorted(catalog["Table"])
    assert len({t.guid for t in tables}) == len(tables) == search.count(client) == results.count
    for table in tables:
        assert isinstance(table, Table)
        assert table.atlan_schema.qualified_name == table.qualified_name.rsplit("/", 1)[0]
        # A resource link's columns live in the other account (no count); every other table has some.
        assert (table.column_count is None) == (table.name == "partner_orders")
    iceberg = next(t for t in tables if t.name == "inventory")
    views = FluentSearch().where(CompoundQuery.asset_type(View)).where(
        View.CONNECTION_QUALIFIED_NAME.startswith(connection_qn)).execute(client)
    assert sorted(v.qualified_name for v in views) == sorted(catalog["View"])

    # get_by_qualified_name for every type, and a missing asset.
    kinds = {"Connection": Connection, "Database": Database, "Schema": Schema, "Table": Table, "View": View,
             "Column": Column}
    for type_name, cls in kinds.items():
        qualified_name = sorted(catalog[type_name])[0]
        asset = client.asset.get_by_qualified_name(qualified_name, cls)
        assert isinstance(asset, cls) and asset.guid == catalog[type_name][qualified_name]
        assert asset.name == qualified_name.rsplit("/", 1)[1] or type_name == "Connection"
    with pytest.raises(NotFoundError):
        client.asset.get_by_qualified_name(f"{connection_qn}/AwsDataCatalog/sales/nope", Table)
    with pytest.raises(NotFoundError):
        client.asset.get_by_qualified_name(sorted(catalog["View"])[0], Table)  # right name, wrong type

    # get_by_guid with relationships: the table's schema and its columns.
    table = client.asset.get_by_guid(iceberg.guid, Table, ignore_relationships=False)
    assert table.atlan_schema.guid == catalog["Schema"][iceberg.qualified_name.rsplit("/", 1)[0]]
    column_names = sorted(c.qualified_name for c in table.columns)
    assert column_names == sorted(qn for qn in catalog["Column"] if qn.startswith(iceberg.qualified_name + "/"))
    assert table.table_type.value == "ICEBERG"
    column = client.asset.get_by_guid(catalog["Column"][column_names[0]], Column, ignore_relationships=False)
    assert column.table.guid == iceberg.guid
    schema = client.asset.get_by_guid(table.atlan_schema.guid, Schema, ignore_relationships=False)
    assert {t.guid for t in schema.tables} >= {iceberg.guid} and schema.database is not None
    minimal = client.asset.retrieve_minimal(catalog["Connection"][connection_qn], Connection)
    assert minimal.qualified_name == connection_qn
    with pytest.raises(NotFoundError):
        client.asset.get_by_guid("00000000-0000-4000-8000-000000000000", Table)

    # Attributes asked for go through the search instead.
    by_search = client.asset.get_by_qualified_name(iceberg.qualified_name, Table,
                                                   attributes=[Asset.DESCRIPTION, Table.COLUMNS])
    assert by_search.description == "Current stock per warehouse (Iceberg)"
    assert sorted(c.qualified_name for c in by_search.columns) == column_names

    # Nested columns and column statistics, as pyatlan's Column model reads them.
    (carrier_qn,) = [qn for qn in catalog["Column"] if qn.endswith("/analytics/shipments/carrier")]
    phone = client.asset.get_by_guid(catalog["Column"][f"{carrier_qn}/contact/phone"], Column,
                                     ignore_relationships=False)
    assert phone.parent_column_qualified_name == f"{carrier_qn}/contact" and phone.parent_column_name == "contact"
    assert phone.column_depth_level == 2 and phone.nested_column_order == "1" and phone.table is None
    assert [entry["name"] for entry in phone.column_hierarchy] == ["carrier", "contact"]
    assert phone.parent_column.guid == catalog["Column"][f"{carrier_qn}/contact"]
    carrier = client.asset.get_by_guid(catalog["Column"][carrier_qn], Column, ignore_relationships=False)
    assert [c.name for c in carrier.nested_columns] == ["name", "service_level", "contact"]
    assert carrier.nested_column_count == 3 and carrier.table.name == "shipments"
    (amount_qn,) = [qn for qn in catalog["Column"] if qn.endswith("/sales/orders/amount")]
    amount = client.asset.get_by_qualified_name(amount_qn, Column)
    assert (amount.column_min, amount.column_max) == (0.99, 4999.0)
    assert amount.column_distinct_values_count == 48_120 and amount.column_missing_values_count == 12


def test_a_saved_description_survives_a_recrawl(crawled, glue):
    from pyatlan.model.assets import Connection, Table
    from pyatlan.model.enums import AtlanWorkflowPhase, CertificateStatus, WorkflowPackage

    client, workflow, catalog = crawled
    orders = next(qn for qn in catalog["Table"] if qn.endswith("/sales/orders"))
    update = Table.updater(qualified_name=orders, name="orders")
    update.user_description = "Every web-shop order, one row per order line."
    update.owner_users = {"admin"}
    update.certificate_status = CertificateStatus.VERIFIED
    response = client.asset.save(update)
    (saved,) = response.assets_updated(asset_type=Table)
    assert saved.guid == catalog["Table"][orders]

    # Glue changes the table; the crawl rewrites its crawled attributes but not what people curated.
    glue_client = glue.client(REGION)
    table = glue_client.get_table(DatabaseName="sales", Name="orders")["Table"]
    keep = ("Name", "Description", "StorageDescriptor", "PartitionKeys", "TableType", "Parameters")
    glue_client.update_table(DatabaseName="sales", TableInput={
        **{k: v for k, v in table.items() if k in keep}, "Description": "Orders (changed in Glue)"})
    existing = client.workflow.find_by_type(prefix=WorkflowPackage.GLUE, max_results=5)
    assert existing[0].id == workflow
    assert client.workflow.monitor(client.workflow.rerun(existing[0])) == AtlanWorkflowPhase.SUCCESS

    table = client.asset.get_by_qualified_name(orders, Table)
    assert table.user_description == "Every web-shop order, one row per order line."
    assert table.owner_users == {"admin"} and table.certificate_status == CertificateStatus.VERIFIED
    assert table.description == "Orders (changed in Glue)"
    assert table.certificate_updated_by == "admin"

    # A new connection through the API: pyatlan then waits for it with retrieve_minimal.
    admin_role = client.role_cache.get_id_for_name("$admin")
    from pyatlan.model.enums import AtlanConnectorType

    created = client.asset.save(Connection.creator(client=client, name="hand-made",
                                                   connector_type=AtlanConnectorType.GLUE,
                                                   admin_roles=[admin_role]))
    (connection,) = created.assets_created(asset_type=Connection)
    assert created.guid_assignments and connection.guid in created.guid_assignments.values()
    found = client.asset.find_connections_by_name("hand-made", AtlanConnectorType.GLUE)
    assert [c.guid for c in found] == [connection.guid]
