"""Lineage read and written with the real pyatlan 10.0.0 client: get_lineage_list, FluentLineage, Process.creator.

The catalog is a pyatlan-run crawl of the sample catalog (tests/assets/conftest.py), whose views give lineage:
sales.orders and sales.customers → analytics.customer_orders → analytics.country_revenue, and more.
"""

from __future__ import annotations

import httpx
import pytest


def _qn(catalog, type_name: str, database: str, name: str) -> str:
    return next(qn for qn in catalog[type_name] if qn.endswith(f"/AwsDataCatalog/{database}/{name}"))


def _names(assets) -> list[tuple[int, str, str]]:
    return sorted((asset.depth, asset.type_name, asset.name) for asset in assets)


def test_get_lineage_list_downstream_and_upstream_at_depths_one_and_three(crawled_once):
    from pyatlan.model.enums import LineageDirection
    from pyatlan.model.lineage import LineageListRequest

    client, _, catalog, _ = crawled_once
    orders = catalog["Table"][_qn(catalog, "Table", "sales", "orders")]
    request = LineageListRequest.create(guid=orders)
    request.depth, request.size = 1, 50
    first = client.asset.get_lineage_list(request)
    downstream = list(first)
    views = {a.name for a in downstream if a.type_name == "View"}
    assert views >= {"customer_orders", "daily_revenue", "top_customers", "order_lines"}
    assert "country_revenue" not in views  # two hops away
    assert {a.depth for a in downstream} == {1}
    processes = [a for a in downstream if a.type_name == "Process"]
    assert processes and all(a.qualified_name.startswith(catalog_connection(catalog) + "/lineage/")
                             for a in processes)

    request.depth = 3
    deeper = list(client.asset.get_lineage_list(request))
    assert (2, "View", "country_revenue") in _names(deeper)

    country = catalog["View"][_qn(catalog, "View", "analytics", "country_revenue")]
    upstream_request = LineageListRequest.create(guid=country)
    upstream_request.direction, upstream_request.depth, upstream_request.size = LineageDirection.UPSTREAM, 1, 50
    assert {(d, t, n) for d, t, n in _names(client.asset.get_lineage_list(upstream_request))
            if t != "Process"} == {(1, "View", "customer_orders")}
    upstream_request.depth = 3
    found = _names(client.asset.get_lineage_list(upstream_request))
    assert (2, "Table", "orders") in found and (2, "Table", "customers") in found


def catalog_connection(catalog) -> str:
    (connection,) = catalog["Connection"]
    return connection


def test_fluent_lineage_filters_pages_and_neighbours(crawled_once):
    from pyatlan.model.assets import Asset, View
    from pyatlan.model.lineage import FluentLineage

    client, _, catalog, _ = crawled_once
    orders = catalog["Table"][_qn(catalog, "Table", "sales", "orders")]
    lineage = FluentLineage(starting_guid=orders, depth=5, size=2, immediate_neighbors=True,
                            includes_on_results=[Asset.NAME, Asset.QUALIFIED_NAME],
                            includes_in_results=[FluentLineage.ACTIVE, Asset.TYPE_NAME.in_lineage.eq(View.__name__)])
    views = list(client.asset.get_lineage_list(lineage.request))  # pages of 2 until hasMore is false
    names = [v.name for v in views]
    assert len(names) == len(set(names)) >= 5
    assert all(isinstance(v, View) for v in views)
    country = next(v for v in views if v.name == "country_revenue")
    assert country.depth == 2
    assert [ref.name for ref in country.immediate_upstream] == ["analytics.country_revenue"]  # its process
    assert country.immediate_downstream == []

    # A traversal filter stops the walk at views: nothing beyond the first views is reached.
    stopped = FluentLineage(starting_guid=orders, depth=5, size=50,
                            where_assets=[Asset.TYPE_NAME.in_lineage.neq("View")])
    assert all(a.type_name != "View" for a in client.asset.get_lineage_list(stopped.request))


def test_column_lineage_of_an_aggregate_view(crawled_once):
    from pyatlan.model.assets import Column, ColumnProcess
    from pyatlan.model.enums import LineageDirection
    from pyatlan.model.lineage import LineageListRequest

    client, _, catalog, _ = crawled_once
    revenue_qn = _qn(catalog, "View", "analytics", "customer_orders") + "/revenue"
    request = LineageListRequest.create(guid=catalog["Column"][revenue_qn])
    request.direction, request.depth, request.size = LineageDirection.UPSTREAM, 1, 20
    request.attributes = ["inputs", "outputs"]
    found = list(client.asset.get_lineage_list(request))
    process = next(a for a in found if isinstance(a, ColumnProcess))
    assert [o.unique_attributes["qualifiedName"] for o in process.outputs] == [revenue_qn]
    sources = [a.qualified_name for a in found if isinstance(a, Column)]
    assert sources == [_qn(catalog, "Table", "sales", "orders") + "/amount"]


def test_has_lineage_in_search_and_on_entities(crawled_once):
    from pyatlan.model.assets import Asset, Table
    from pyatlan.model.fluent_search import CompoundQuery, FluentSearch

    client, _, catalog, _ = crawled_once
    with_lineage = (FluentSearch().where(CompoundQuery.active_assets()).where(CompoundQuery.asset_type(Table))
                    .where(Asset.HAS_LINEAGE.eq(True)).include_on_results(Asset.HAS_LINEAGE))
    names = {t.name for t in with_lineage.execute(client)}
    # Read by views or written by the crawler or a job; the resource link and the Iceberg table are not.
    assert {"orders", "customers", "line_items"} <= names
    assert "inventory" not in names and "partner_orders" not in names


def test_a_process_created_with_pyatlan_is_kept_by_recrawls(crawled, server):
    from pyatlan.model.assets import Process, Table
    from pyatlan.model.enums import AtlanWorkflowPhase, WorkflowPackage

    client, _, catalog = crawled
    connection = catalog_connection(catalog)
    events, clicks = (catalog["Table"][_qn(catalog, "Table", "sales", name)] for name in ("events", "clicks"))
    process = Process.creator(name="sessionize", connection_qualified_name=connection, process_id="sessionize",
                              inputs=[Table.ref_by_guid(clicks)], outputs=[Table.ref_by_guid(events)])
    process.sql = "INSERT INTO sales.events SELECT * FROM sales.clicks"
    created = client.asset.save(process).assets_created(Process)
    assert [p.qualified_name for p in created] == [f"{connection}/sessionize"]
    (existing,) = client.workflow.find_by_type(prefix=WorkflowPackage.GLUE, max_results=5)
    assert client.workflow.monitor(client.workflow.rerun(existing)) == AtlanWorkflowPhase.SUCCESS
    kept = client.asset.get_by_qualified_name(f"{connection}/sessionize", Process,
                                              attributes=["inputs", "outputs", "sql"])
    assert kept.status.value == "ACTIVE"
    assert [i.guid for i in kept.inputs] == [clicks] and [o.guid for o in kept.outputs] == [events]

    # Sent again with another output: replaced, not refused.
    orders = catalog["Table"][_qn(catalog, "Table", "sales", "orders")]
    again = Process.creator(name="sessionize", connection_qualified_name=connection, process_id="sessionize",
                            inputs=[Table.ref_by_guid(clicks)], outputs=[Table.ref_by_guid(orders)])
    client.asset.save(again)
    kept = client.asset.get_by_qualified_name(f"{connection}/sessionize", Process, attributes=["outputs"])
    assert [o.guid for o in kept.outputs] == [orders]


def test_bad_lineage_requests_get_clear_errors(crawled_once):
    _, _, catalog, server = crawled_once
    orders = catalog["Table"][_qn(catalog, "Table", "sales", "orders")]
    http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.ADMIN_TOKEN}"})
    cases = [
        ({"guid": orders, "direction": "BOTH", "depth": 1}, "INPUT (upstream) or OUTPUT"),
        ({"guid": orders, "depth": 0}, "depth"),
        ({"guid": orders, "size": "ten"}, "size"),
        ({"depth": 1}, "guid"),
        ({"guid": orders, "surprise": 1}, "unknown field"),
        ({"guid": orders, "entityFilters": {"criterion": [{"attributeName": "name", "operator": "~="}]}},
         "unknown operator"),
        ([1, 2], "valid dictionary"),
    ]
    for body, says in cases:
        answer = http.post("/api/meta/lineage/list", json=body)
        assert answer.status_code == 400, (body, answer.text)
        assert says in answer.json()["errorMessage"], (body, answer.text)
    missing = http.post("/api/meta/lineage/list", json={"guid": "00000000-0000-4000-8000-000000000000"})
    assert missing.status_code == 404
    connection = catalog_connection(catalog)
    reserved = http.post("/api/meta/entity/bulk/", json={"entities": [{"typeName": "Process", "attributes": {
        "qualifiedName": f"{connection}/lineage/view/x", "name": "x", "connectionQualifiedName": connection,
        "inputs": [{"typeName": "Table", "guid": orders}], "outputs": []}}]})
    assert reserved.status_code == 400 and "kept for the lineage a crawl derives" in reserved.text
    dangling = http.post("/api/meta/entity/bulk/", json={"entities": [{"typeName": "Process", "attributes": {
        "qualifiedName": f"{connection}/p1", "name": "p1", "connectionQualifiedName": connection,
        "inputs": [{"typeName": "Table", "uniqueAttributes": {"qualifiedName": f"{connection}/nope"}}]}}]})
    assert dangling.status_code == 404 and "nope" in dangling.text


@pytest.mark.parametrize("direction", ["OUTPUT", "INPUT"])
def test_lineage_of_an_asset_without_any_is_empty(crawled_once, direction):
    _, _, catalog, server = crawled_once
    inventory = catalog["Table"][_qn(catalog, "Table", "analytics", "inventory")]
    http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.ADMIN_TOKEN}"})
    answer = http.post("/api/meta/lineage/list", json={"guid": inventory, "direction": direction, "depth": 3})
    assert answer.status_code == 200
    assert answer.json()["entities"] == [] and answer.json()["hasMore"] is False


def test_one_request_creates_a_table_and_the_process_that_writes_it(crawled, server):
    _, _, catalog = crawled
    connection = catalog_connection(catalog)
    orders_qn = _qn(catalog, "Table", "sales", "orders")
    schema = orders_qn.rsplit("/", 1)[0]
    http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.ADMIN_TOKEN}"})
    answer = http.post("/api/meta/entity/bulk/", json={"entities": [
        {"typeName": "Process", "guid": "-2", "attributes": {
            "qualifiedName": f"{connection}/copy", "name": "copy", "connectionQualifiedName": connection,
            "inputs": [{"typeName": "Table", "uniqueAttributes": {"qualifiedName": orders_qn}}],
            "outputs": [{"typeName": "Table", "guid": "-1"}]}},
        {"typeName": "Table", "guid": "-1", "attributes": {"qualifiedName": f"{schema}/orders_copy",
                                                            "name": "orders_copy"}}]})
    assert answer.status_code == 200, answer.text
    table_guid = answer.json()["guidAssignments"]["-1"]
    lineage = http.post("/api/meta/lineage/list", json={"guid": table_guid, "direction": "INPUT", "depth": 1})
    assert [e["attributes"]["qualifiedName"] for e in lineage.json()["entities"]] == [f"{connection}/copy", orders_qn]


def test_processes_are_found_by_search_with_their_inputs_and_outputs(crawled_once):
    from pyatlan.model.assets import ColumnProcess, Process
    from pyatlan.model.fluent_search import CompoundQuery, FluentSearch

    client, _, catalog, _ = crawled_once
    search = (FluentSearch().where(CompoundQuery.active_assets()).where(CompoundQuery.asset_type(Process))
              .where(Process.QUALIFIED_NAME.startswith(catalog_connection(catalog) + "/lineage/view/"))
              .include_on_results("inputs").include_on_results("outputs")
              .include_on_results(Process.SQL))
    processes = {p.name: p for p in search.execute(client)}
    assert set(processes) == {"analytics.customer_orders", "analytics.country_revenue", "analytics.daily_revenue",
                              "analytics.top_customers", "analytics.order_lines"}
    customer_orders = processes["analytics.customer_orders"]
    assert sorted(i.guid for i in customer_orders.inputs) == sorted(
        catalog["Table"][_qn(catalog, "Table", "sales", name)] for name in ("orders", "customers"))
    assert [o.guid for o in customer_orders.outputs] == [catalog["View"][_qn(catalog, "View", "analytics",
                                                                               "customer_orders")]]
    assert "WITH paid AS" in customer_orders.sql
    # Column processes are their own type (ColumnProcess is a Process in Atlan's type tree).
    columns = FluentSearch().where(CompoundQuery.asset_type(ColumnProcess)).page_size(100).execute(client)
    assert len(list(columns)) == len(catalog["ColumnProcess"]) > 10
