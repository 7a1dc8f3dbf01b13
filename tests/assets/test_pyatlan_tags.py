"""Atlan tags with the real pyatlan 10.0.0 against a live server: definitions, tags on a crawled table, search by
tag, propagation to columns, removal, and who may do what."""

from __future__ import annotations

import pytest

from gazetteer.auth import service
from gazetteer.devtools.sample_catalog import change_columns
from gazetteer.store import open_engine
from tests.assets.conftest import REGION


def _tables(catalog, name):
    return next(qn for qn in catalog["Table"] if qn.endswith(f"/{name}"))


def test_pyatlan_tags_a_crawled_table_and_finds_it_by_tag(crawled):
    from pyatlan.model.assets import Asset, Column, Table
    from pyatlan.model.enums import AtlanIcon, AtlanTagColor, AtlanTypeCategory
    from pyatlan.model.fluent_search import CompoundQuery, FluentSearch
    from pyatlan.model.lineage import LineageListRequest
    from pyatlan.model.typedef import AtlanTagDef

    client, _, catalog = crawled
    created = client.typedef.create(AtlanTagDef.create(name="PII", color=AtlanTagColor.RED,
                                                       icon=AtlanIcon.LOCK))
    (pii,) = created.atlan_tag_defs
    assert pii.display_name == "PII" and pii.name != "PII" and len(pii.name) == 22  # a hashed internal name
    assert pii.options["color"] == "Red" and pii.options["iconName"] == AtlanIcon.LOCK.value
    client.typedef.create(AtlanTagDef.create(name="Finance", color=AtlanTagColor.GREEN))
    assert {t.display_name for t in client.typedef.get_all().atlan_tag_defs} == {"PII", "Finance"}
    assert [t.display_name for t in client.typedef.get(AtlanTypeCategory.CLASSIFICATION).atlan_tag_defs] \
        == ["Finance", "PII"]
    assert client.atlan_tag_cache.get_id_for_name("PII") == pii.name
    assert client.typedef.get_by_name(pii.name).display_name == "PII"

    orders = _tables(catalog, "orders")
    client.asset.add_atlan_tags(asset_type=Table, qualified_name=orders, atlan_tag_names=["PII"], propagate=True)
    client.asset.add_atlan_tags(asset_type=Table, qualified_name=orders, atlan_tag_names=["Finance"])

    table = client.asset.get_by_qualified_name(orders, Table, ignore_relationships=False)
    assert sorted(str(tag.type_name) for tag in table.atlan_tags) == ["Finance", "PII"]
    direct = {str(tag.type_name): tag for tag in table.atlan_tags}
    assert direct["PII"].propagate is True and direct["Finance"].propagate is False
    assert direct["PII"].entity_guid == table.guid and direct["PII"].tag_id == pii.name
    assert sorted(table.classification_names) == ["Finance", "PII"]

    # Propagated to every column of the table (PII only: Finance was put on without propagation).
    columns = [qn for qn in catalog["Column"] if qn.startswith(orders + "/")]
    column = client.asset.get_by_qualified_name(sorted(columns)[0], Column)
    assert [(str(tag.type_name), tag.entity_guid) for tag in column.atlan_tags] == [("PII", table.guid)]

    # Search: by the display name (Asset.ATLAN_TAGS), pyatlan's tagged() (internal names), propagated only.
    by_name = FluentSearch().where(CompoundQuery.active_assets()).where(Asset.ATLAN_TAGS.eq("PII")).execute(client)
    assert [a.qualified_name for a in by_name] == [orders]
    # ...and downstream, through lineage: the views that read the table, and on from them.
    tagged = {a.qualified_name for a in FluentSearch().where(CompoundQuery.tagged(client, with_one_of=["PII"]))
              .page_size(100).execute(client)}
    downstream = {qn for qn in tagged if "/analytics/" in qn}
    assert {orders, *columns} < tagged and any(qn.endswith("/analytics/daily_revenue") for qn in downstream)
    assert all(qn.startswith(orders) or qn in downstream for qn in tagged)
    # The lineage list carries them too, when asked to (pyatlan leaves them out by default).
    request = LineageListRequest.create(guid=table.guid)
    request.exclude_classifications = False
    reached = {a.qualified_name: a for a in client.asset.get_lineage_list(request) if a.type_name == "View"}
    assert reached and all([str(t.type_name) for t in a.atlan_tags] == ["PII"] for a in reached.values())
    directly = FluentSearch().where(CompoundQuery.tagged(client, with_one_of=["PII"], directly=True)).execute(client)
    assert [a.qualified_name for a in directly] == [orders]
    propagated = FluentSearch().where(Asset.PROPAGATED_ATLAN_TAGS.eq(pii.name)).page_size(100).execute(client)
    assert {a.qualified_name for a in propagated} == tagged - {orders}
    untagged = {a.qualified_name for a in FluentSearch().where(CompoundQuery.active_assets()).where(
        CompoundQuery.asset_type(Table)).where_not(Asset.ATLAN_TAGS.has_any_value()).page_size(100).execute(client)}
    assert untagged == set(catalog["Table"]) - {orders}

    # Taken off: from the table and from wherever it propagated.
    client.asset.remove_atlan_tag(asset_type=Table, qualified_name=orders, atlan_tag_name="PII")
    table = client.asset.get_by_qualified_name(orders, Table)
    assert [str(tag.type_name) for tag in table.atlan_tags] == ["Finance"]
    assert not client.asset.get_by_qualified_name(sorted(columns)[0], Column).atlan_tags
    assert FluentSearch().where(Asset.ATLAN_TAGS.eq("PII")).count(client) == 0

    # Updated: what get_all read, changed and sent back (by its internal name); the assignment stays.
    finance = next(t for t in client.typedef.get_all().atlan_tag_defs if t.display_name == "Finance")
    finance.options = {**finance.options, "color": AtlanTagColor.YELLOW.value}
    finance.description = "Money matters"
    (updated,) = client.typedef.update(finance).atlan_tag_defs
    assert (updated.name, updated.options["color"], updated.description) == (finance.name, "Yellow", "Money matters")
    assert [str(tag.type_name) for tag in client.asset.get_by_qualified_name(orders, Table).atlan_tags] == ["Finance"]

    # Purged: the definition goes, and with it every assignment.
    client.typedef.purge("Finance", AtlanTagDef)
    assert [t.display_name for t in client.typedef.get_all().atlan_tag_defs] == ["PII"]
    assert not client.asset.get_by_qualified_name(orders, Table).atlan_tags


def test_tags_survive_a_recrawl_and_new_columns_get_them(crawled, glue):
    from pyatlan.model.assets import Column, Table, View
    from pyatlan.model.enums import AtlanWorkflowPhase, WorkflowPackage
    from pyatlan.model.typedef import AtlanTagDef

    client, workflow, catalog = crawled
    client.typedef.create(AtlanTagDef.create(name="Sensitive"))
    orders = _tables(catalog, "orders")
    client.asset.add_atlan_tags(asset_type=Table, qualified_name=orders, atlan_tag_names=["Sensitive"],
                                propagate=True)
    column_qn = sorted(qn for qn in catalog["Column"] if qn.startswith(orders + "/"))[0]
    # A column people add under the tagged table is tagged at once.
    new = Column.creator(name="added_by_hand", parent_qualified_name=orders, parent_type=Table, order=99)
    client.asset.save(new)
    added = client.asset.get_by_qualified_name(f"{orders}/added_by_hand", Column)
    assert [str(tag.type_name) for tag in added.atlan_tags] == ["Sensitive"]

    # line_items feeds the order_lines view; one tag keeps its copies when line_items is archived, one does not.
    client.typedef.create(AtlanTagDef.create(name="Kept"))
    client.typedef.create(AtlanTagDef.create(name="Gone"))
    line_items = _tables(catalog, "line_items")
    client.asset.add_atlan_tags(asset_type=Table, qualified_name=line_items, atlan_tag_names=["Kept"],
                                propagate=True, remove_propagation_on_delete=False)
    client.asset.add_atlan_tags(asset_type=Table, qualified_name=line_items, atlan_tag_names=["Gone"],
                                propagate=True)
    order_lines = next(qn for qn in catalog["View"] if qn.endswith("/analytics/order_lines"))
    assert sorted(str(t.type_name) for t in client.asset.get_by_qualified_name(order_lines, View).atlan_tags) \
        == ["Gone", "Kept", "Sensitive"]  # it reads orders too

    # Upstream, orders gains a column and line_items goes; the re-crawl keeps the tags people put on, tags the
    # new column, and drops the copies of an archived asset's tag unless it was put on to keep them.
    glue_client = glue.client(REGION)
    change_columns(glue_client, "sales", "orders", add=("channel", "string"))
    glue_client.delete_table(DatabaseName="sales", Name="line_items")
    (existing,) = [w for w in client.workflow.find_by_type(prefix=WorkflowPackage.GLUE, max_results=5)
                   if w.id == workflow]
    assert client.workflow.monitor(client.workflow.rerun(existing)) == AtlanWorkflowPhase.SUCCESS
    table = client.asset.get_by_qualified_name(orders, Table)
    assert [(str(tag.type_name), tag.propagate) for tag in table.atlan_tags] == [("Sensitive", True)]
    for qualified_name in (column_qn, f"{orders}/channel"):
        column = client.asset.get_by_qualified_name(qualified_name, Column)
        assert [(str(tag.type_name), tag.entity_guid) for tag in column.atlan_tags] == [("Sensitive", table.guid)]
    assert sorted(str(t.type_name) for t in client.asset.get_by_qualified_name(order_lines, View).atlan_tags) \
        == ["Kept", "Sensitive"]


def test_only_admins_define_tags_and_only_editors_tag(crawled, server):
    from pyatlan.client.atlan import AtlanClient
    from pyatlan.errors import PermissionError as AtlanPermissionError
    from pyatlan.model.assets import Table
    from pyatlan.model.typedef import AtlanTagDef

    admin, _, catalog = crawled
    admin.typedef.create(AtlanTagDef.create(name="PII"))
    from httpx_retries import Retry

    engine = open_engine(server.database_url)
    once = Retry(total=0)  # pyatlan retries a 403 five times, with back-off, before it raises
    member = AtlanClient(base_url=server.url, api_key=service.create_token(engine, "robot", role="$member"), retry=once)
    guest = AtlanClient(base_url=server.url, api_key=service.create_token(engine, "reader", role="$guest"), retry=once)
    engine.dispose()
    orders = _tables(catalog, "orders")
    for client in (member, guest):
        with pytest.raises(AtlanPermissionError):
            client.typedef.create(AtlanTagDef.create(name="Mine"))
        with pytest.raises(AtlanPermissionError):
            client.typedef.purge("PII", AtlanTagDef)
        # Reading tags is for anyone; tagging needs the right to edit the asset (the connection names $admin).
        assert [t.display_name for t in client.typedef.get_all().atlan_tag_defs] == ["PII"]
        with pytest.raises(AtlanPermissionError):
            client.asset.add_atlan_tags(asset_type=Table, qualified_name=orders, atlan_tag_names=["PII"])
    assert not admin.asset.get_by_qualified_name(orders, Table).atlan_tags
    assert [t.display_name for t in admin.typedef.get_all().atlan_tag_defs] == ["PII"]
