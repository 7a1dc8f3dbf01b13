"""The glossary with the real pyatlan 10.0.0 client against a live server whose catalog a crawl filled:
glossaries, categories and terms created, found, changed and deleted; terms assigned to a crawled table, read
back, searched by, kept through a re-crawl; bad input and permissions answered with 4xx."""

from __future__ import annotations

import pytest

from tests.assets.test_asset_api_errors import _error, _token

BULK = "/api/meta/entity/bulk/"
REGION = "ap-south-1"  # the crawled fixture's (tests/assets/conftest.py)


def _glossary(client, name: str):
    from pyatlan.model.assets import AtlasGlossary

    response = client.asset.save(AtlasGlossary.creator(name=name))
    (glossary,) = response.assets_created(asset_type=AtlasGlossary)
    return glossary


def test_pyatlan_glossary_terms_on_a_crawled_table(crawled, server, glue) -> None:
    from pyatlan.errors import ConflictError, NotFoundError
    from pyatlan.model.assets import Asset, AtlasGlossary, AtlasGlossaryCategory, AtlasGlossaryTerm, Table
    from pyatlan.model.enums import AtlanWorkflowPhase, WorkflowPackage
    from pyatlan.model.fluent_search import CompoundQuery, FluentSearch
    from pyatlan.model.search import Term

    client, workflow, catalog = crawled
    # A glossary, and in one request a category, a child category and a term that name it by placeholder guid.
    glossary = AtlasGlossary.creator(name="Sales metrics")
    money = AtlasGlossaryCategory.creator(name="Money", anchor=glossary)
    refunds = AtlasGlossaryCategory.creator(name="Refunds", anchor=glossary, parent_category=money)
    revenue = AtlasGlossaryTerm.creator(name="Revenue", anchor=glossary, categories=[money])
    response = client.asset.save([glossary, money, refunds, revenue])
    (saved_glossary,) = response.assets_created(asset_type=AtlasGlossary)
    assert saved_glossary.guid == response.guid_assignments[glossary.guid]
    # The server names glossary items, as Atlan does: a nanoid, and <nanoid>@<glossary> below it.
    assert len(saved_glossary.qualified_name) == 21 and not saved_glossary.qualified_name.startswith("-")
    (term,) = response.assets_created(asset_type=AtlasGlossaryTerm)
    assert term.qualified_name.endswith("@" + saved_glossary.qualified_name)
    assert len(response.assets_created(asset_type=AtlasGlossaryCategory)) == 2

    # Found by name, as pyatlan's helpers ask.
    found = client.asset.find_glossary_by_name("Sales metrics")
    assert found.guid == saved_glossary.guid and isinstance(found, AtlasGlossary)
    found_term = client.asset.find_term_fast_by_name("Revenue", saved_glossary.qualified_name)
    assert found_term.guid == term.guid
    assert client.asset.find_term_by_name("Revenue", "Sales metrics").guid == term.guid
    (found_money,) = client.asset.find_category_fast_by_name("Money", saved_glossary.qualified_name)
    assert found_money.guid == response.guid_assignments[money.guid]
    with pytest.raises(NotFoundError):
        client.asset.find_term_fast_by_name("Profit", saved_glossary.qualified_name)
    with pytest.raises(NotFoundError):
        client.asset.find_glossary_by_name("No such glossary")

    # A term created by glossary_guid, and read back with its relationships.
    margin = AtlasGlossaryTerm.creator(name="Margin", glossary_guid=saved_glossary.guid)
    margin_guid = client.asset.save(margin).assets_created(asset_type=AtlasGlossaryTerm)[0].guid
    read = client.asset.get_by_guid(term.guid, AtlasGlossaryTerm, ignore_relationships=False)
    assert read.anchor.guid == saved_glossary.guid and [c.guid for c in read.categories] == [found_money.guid]
    whole = client.asset.get_by_guid(saved_glossary.guid, AtlasGlossary, ignore_relationships=False)
    assert sorted(t.name for t in whole.terms) == ["Margin", "Revenue"]
    assert sorted(c.name for c in whole.categories) == ["Money", "Refunds"]
    child = client.asset.get_by_guid(response.guid_assignments[refunds.guid], AtlasGlossaryCategory,
                                     ignore_relationships=False)
    assert child.parent_category.guid == found_money.guid and child.anchor.guid == saved_glossary.guid

    # Updated with pyatlan's updater: a definition, kept; the name is unique within the glossary.
    update = AtlasGlossaryTerm.updater(qualified_name=term.qualified_name, name="Revenue",
                                       glossary_guid=saved_glossary.guid)
    update.user_description = "Money from sales, net of refunds."
    update.long_description = "Recognised at shipment."
    client.asset.save(update)
    read = client.asset.get_by_guid(term.guid, AtlasGlossaryTerm)
    assert read.user_description == "Money from sales, net of refunds."
    assert read.long_description == "Recognised at shipment."
    with pytest.raises(ConflictError):
        client.asset.save(AtlasGlossaryTerm.creator(name="Revenue", glossary_guid=saved_glossary.guid))
    with pytest.raises(ConflictError):
        client.asset.save(AtlasGlossary.creator(name="Sales metrics"))

    # Assigned to a crawled table: appended, read back on GET and in search hits, searched by.
    orders_qn = next(qn for qn in catalog["Table"] if qn.endswith("/sales/orders"))
    client.asset.append_terms(Table, [read], qualified_name=orders_qn)
    client.asset.append_terms(Table, [AtlasGlossaryTerm.ref_by_guid(margin_guid)], qualified_name=orders_qn)
    table = client.asset.get_by_qualified_name(orders_qn, Table, ignore_relationships=False)
    assert sorted(t.guid for t in table.assigned_terms) == sorted([term.guid, margin_guid])
    default = client.asset.get_by_guid(table.guid, Table)  # pyatlan's default: no relationships
    assert sorted(default.meaning_names) == ["Margin", "Revenue"]
    hits = list(FluentSearch().where(CompoundQuery.active_assets())
                .where(Asset.ASSIGNED_TERMS.eq(term.qualified_name)).include_on_results(Asset.ASSIGNED_TERMS)
                .execute(client))
    assert [h.guid for h in hits] == [table.guid]
    assert sorted(t.guid for t in hits[0].assigned_terms) == sorted([term.guid, margin_guid])
    by_name = FluentSearch().where(Asset.ASSIGNED_TERMS.match("margin")).execute(client)  # __meaningsText
    assert [h.guid for h in by_name] == [table.guid]
    assert FluentSearch().where(Term(field="__meaningsText", value="Margin")).count(client) == 1
    term_side = client.asset.get_by_guid(term.guid, AtlasGlossaryTerm, ignore_relationships=False)
    assert [a.guid for a in term_side.assigned_entities] == [table.guid]

    # A re-crawl that rewrites the table (Glue changed it) keeps them.
    glue_client = glue.client(REGION)
    glue_table = glue_client.get_table(DatabaseName="sales", Name="orders")["Table"]
    keep = ("Name", "Description", "StorageDescriptor", "PartitionKeys", "TableType", "Parameters")
    glue_client.update_table(DatabaseName="sales", TableInput={
        **{k: v for k, v in glue_table.items() if k in keep}, "Description": "Orders (changed in Glue)"})
    (existing,) = [w for w in client.workflow.find_by_type(prefix=WorkflowPackage.GLUE, max_results=5)
                   if w.id == workflow]
    assert client.workflow.monitor(client.workflow.rerun(existing)) == AtlanWorkflowPhase.SUCCESS
    table = client.asset.get_by_guid(table.guid, Table, ignore_relationships=False)
    assert table.description == "Orders (changed in Glue)"
    assert sorted(t.guid for t in table.assigned_terms) == sorted([term.guid, margin_guid])

    # Removed, replaced.
    client.asset.remove_terms(Table, [AtlasGlossaryTerm.ref_by_guid(margin_guid)], qualified_name=orders_qn)
    table = client.asset.get_by_guid(table.guid, Table, ignore_relationships=False)
    assert [t.guid for t in table.assigned_terms] == [term.guid]
    client.asset.replace_terms(Table, [AtlasGlossaryTerm.ref_by_guid(margin_guid)], qualified_name=orders_qn)
    table = client.asset.get_by_guid(table.guid, Table, ignore_relationships=False)
    assert [t.guid for t in table.assigned_terms] == [margin_guid]

    # Archiving a term hides it from the table, restoring it brings it back; a category is purged; the glossary
    # archives what it holds.
    margin_qn = client.asset.get_by_guid(margin_guid, AtlasGlossaryTerm).qualified_name
    assert FluentSearch().where(Asset.ASSIGNED_TERMS.eq(margin_qn)).count(client) == 1
    client.asset.delete_by_guid(margin_guid)
    table = client.asset.get_by_guid(table.guid, Table, ignore_relationships=False)
    assert not table.assigned_terms
    assert FluentSearch().where(Asset.ASSIGNED_TERMS.eq(margin_qn)).count(client) == 0
    assert client.asset.restore(AtlasGlossaryTerm, margin_qn)
    table = client.asset.get_by_guid(table.guid, Table, ignore_relationships=False)
    assert [t.guid for t in table.assigned_terms] == [margin_guid]
    client.asset.purge_by_guid(response.guid_assignments[refunds.guid])
    with pytest.raises(NotFoundError):
        client.asset.get_by_guid(response.guid_assignments[refunds.guid], AtlasGlossaryCategory)
    client.asset.delete_by_guid(saved_glossary.guid)
    assert client.asset.get_by_guid(term.guid, AtlasGlossaryTerm).status.value == "DELETED"
    with pytest.raises(NotFoundError):
        client.asset.find_glossary_by_name("Sales metrics")


def test_glossary_bad_input_and_permissions(crawled, server) -> None:
    client, _, catalog = crawled
    glossary = _glossary(client, "Finance")
    orders_qn = next(qn for qn in catalog["Table"] if qn.endswith("/sales/orders"))
    with server.client() as api:
        # A term without its glossary, with a glossary that does not exist, with a table as its glossary.
        term = {"typeName": "AtlasGlossaryTerm", "guid": "-1", "attributes": {"qualifiedName": "-1", "name": "X"}}
        assert "anchor" in _error(api.post(BULK, json={"entities": [term]}), 400)
        ghost = {**term, "attributes": {**term["attributes"], "anchor": {"typeName": "AtlasGlossary",
                                                                         "guid": "0000-none"}}}
        assert "does not exist" in _error(api.post(BULK, json={"entities": [ghost]}), 404)
        table_guid = catalog["Table"][orders_qn]
        wrong = {**term, "attributes": {**term["attributes"], "anchor": {"typeName": "Table", "guid": table_guid}}}
        assert "not a AtlasGlossary" in _error(api.post(BULK, json={"entities": [wrong]}), 400)
        # A glossary without a name; a name too long.
        assert "name" in _error(api.post(BULK, json={"entities": [
            {"typeName": "AtlasGlossary", "attributes": {"qualifiedName": "-2", "name": ""}}]}), 400)
        assert "at most 255" in _error(api.post(BULK, json={"entities": [
            {"typeName": "AtlasGlossary", "attributes": {"qualifiedName": "-2", "name": "g" * 300}}]}), 400)
        # Assigning something that is not a term; appending what cannot be appended; nothing was written.
        table = {"typeName": "Table", "attributes": {"qualifiedName": orders_qn, "name": "orders"}}
        assert "only terms" in _error(api.post(BULK, json={"entities": [
            {**table, "appendRelationshipAttributes": {"meanings": [{"typeName": "AtlasGlossary",
                                                                     "guid": glossary.guid}]}}]}), 400)
        assert "only 'meanings'" in _error(api.post(BULK, json={"entities": [
            {**table, "appendRelationshipAttributes": {"columns": []}}]}), 400)
        assert "guid" in _error(api.delete("/api/meta/entity/bulk/"), 400)
        assert "guid" in _error(api.delete("/api/meta/entity/bulk/", params={"guid": ["x"] * 1001}), 400)
        assert "deleteType" in _error(api.delete("/api/meta/entity/bulk",
                                                 params={"guid": glossary.guid, "deleteType": "NUKE"}), 400)
        assert "not a glossary item" in _error(api.delete("/api/meta/entity/bulk", params={"guid": table_guid}),
                                               400)
        answer = api.get(f"/api/meta/entity/guid/{table_guid}").json()["entity"]
        assert answer["meanings"] == [] and answer["status"] == "ACTIVE"

    # Guests read; members manage the glossary but assign terms only where they admin the connection.
    created = {"typeName": "AtlasGlossaryTerm", "guid": "-1", "attributes": {
        "qualifiedName": "-1", "name": "Churn", "anchor": {"typeName": "AtlasGlossary", "guid": glossary.guid}}}
    with server.client(token=_token(server, "visitor", "$guest")) as guest:
        assert "read-only" in _error(guest.post(BULK, json={"entities": [created]}), 403)
        assert "read-only" in _error(guest.delete("/api/meta/entity/bulk", params={"guid": glossary.guid}), 403)
    with server.client(token=_token(server, "steward", "$member")) as member:
        answer = member.post(BULK, json={"entities": [created]})
        assert answer.status_code == 200, answer.text
        churn_guid = answer.json()["guidAssignments"]["-1"]
        assign = {"typeName": "Table", "attributes": {"qualifiedName": orders_qn, "name": "orders"},
                  "appendRelationshipAttributes": {"meanings": [{"typeName": "AtlasGlossaryTerm",
                                                                 "guid": churn_guid}]}}
        assert "not an admin" in _error(member.post(BULK, json={"entities": [assign]}), 403)
    with server.client() as api:
        table = api.get(f"/api/meta/entity/guid/{catalog['Table'][orders_qn]}").json()["entity"]
        assert table["meaningNames"] == []
