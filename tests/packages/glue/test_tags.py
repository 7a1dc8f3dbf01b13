"""Glue resource tags (GetTags) and Lake Formation LF-tags (GetResourceLFTags): read from a local Glue over HTTP,
kept on Schema, Table and Column assets in a real catalog (SQLite file and PostgreSQL), found by a term query."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from gazetteer.api.asset_search import index_search
from gazetteer.devtools.statements import statements
from gazetteer.packages.glue.config import parse_config
from gazetteer.packages.glue.crawl import crawl
from gazetteer.packages.glue.settings import GlueSettings
from gazetteer.packages.glue.tags import (
    NO_TAGS,
    TAG_ATTRIBUTES,
    UNKNOWN_TAGS,
    SourceTags,
    column_tag_attributes,
    tag_attributes,
)
from gazetteer.store import assets

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's, which STS GetCallerIdentity answers for any key


def _config(**overrides):
    values = {"connection_name": "lake", "region": REGION, "access_key": "AKIATEST", "secret_key": "s3cr3t"}
    return parse_config(**{**values, **overrides})


def _arn(database: str, table: str | None = None) -> str:
    return f"arn:aws:glue:{REGION}:{ACCOUNT}:" + (f"table/{database}/{table}" if table else f"database/{database}")


def _seed(glue, databases=("sales",), tables=("orders", "customers")) -> tuple[Any, Any]:
    """Databases of tables with columns id and email, and the LF-tags domain and pii; the Glue and Lake
    Formation clients."""
    client, lake_formation = glue.client(REGION), glue.client(REGION, service="lakeformation")
    for database in databases:
        client.create_database(DatabaseInput={"Name": database})
        for name in tables:
            client.create_table(DatabaseName=database, TableInput={
                "Name": name, "TableType": "EXTERNAL_TABLE", "StorageDescriptor": {
                    "Columns": [{"Name": "id", "Type": "bigint"}, {"Name": "email", "Type": "string"}]}})
    lake_formation.create_lf_tag(TagKey="domain", TagValues=["sales", "marketing"])
    lake_formation.create_lf_tag(TagKey="pii", TagValues=["true", "false"])
    return client, lake_formation


def _lf(lake_formation, resource: dict, **tags: list[str]) -> None:
    lake_formation.add_lf_tags_to_resource(Resource=resource, LFTags=[
        {"TagKey": key, "TagValues": values} for key, values in tags.items()])


def _email(database: str, table: str) -> dict:
    return {"TableWithColumns": {"DatabaseName": database, "Name": table, "ColumnNames": ["email"]}}


def _tag_sales(client, lake_formation) -> None:
    client.tag_resource(ResourceArn=_arn("sales"), TagsToAdd={"team": "commerce", "cost-center": "42", "reviewed": ""})
    _lf(lake_formation, {"Database": {"Name": "sales"}}, domain=["sales"])
    _lf(lake_formation, {"Table": {"DatabaseName": "sales", "Name": "orders"}}, domain=["sales", "marketing"])
    _lf(lake_formation, _email("sales", "orders"), pii=["true"])


def _attributes(engine) -> dict[str, dict]:
    """The active schemas', tables' and columns' attributes, by qualified name below the catalog."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(assets.c.qualified_name, assets.c.attributes).where(
            assets.c.status == "ACTIVE", assets.c.type_name.in_(("Schema", "Table", "Column"))))
        return {name.split("/AwsDataCatalog/", 1)[1]: attributes for name, attributes in rows}


def _tags(attributes: dict) -> dict:
    return {key: value for key, value in attributes.items() if key in TAG_ATTRIBUTES}


SALES_GLUE_TAGS = [{"awsTagKey": "cost-center", "awsTagValue": "42"}, {"awsTagKey": "reviewed", "awsTagValue": ""},
                   {"awsTagKey": "team", "awsTagValue": "commerce"}]


def test_tags_are_kept_on_databases_tables_and_columns(glue, engine, glue_settings):
    client, lake_formation = _seed(glue)
    _tag_sales(client, lake_formation)
    client.create_table(DatabaseName="sales", TableInput={"Name": "link", "TargetTable": {
        "CatalogId": "210987654321", "DatabaseName": "other", "Name": "t"}})
    client.tag_resource(ResourceArn=_arn("sales", "orders"), TagsToAdd={"owner": "data-eng"})  # moto lets it
    glue.clear_requests()
    report = crawl(engine, _config(), settings=glue_settings)
    assert report.status == "Succeeded" and report.warnings == []
    assert {name: _tags(attributes) for name, attributes in _attributes(engine).items()} == {
        "sales": {"awsTags": SALES_GLUE_TAGS, "lakeFormationTags": [{"tagKey": "domain", "tagValues": ["sales"]}],
                  "assetTags": ["cost-center=42", "domain=sales", "reviewed", "team=commerce"]},
        # Each asset has the tags assigned to it, not those of the database above it.
        "sales/orders": {"lakeFormationTags": [{"tagKey": "domain", "tagValues": ["sales", "marketing"]}],
                         "assetTags": ["domain=marketing", "domain=sales"]},
        "sales/orders/email": {"lakeFormationTags": [{"tagKey": "pii", "tagValues": ["true"]}],
                               "assetTags": ["pii=true"]},
        **dict.fromkeys(("sales/link", "sales/orders/id", "sales/customers", "sales/customers/id",
                         "sales/customers/email"), {}),
    }
    # Glue resource tags of the database only (Glue does not tag tables); LF-tags of the database and each table
    # but a resource link (they are its target's), after one ListLFTags; the assigned tags asked for; the account
    # in the ARN asked of STS once.
    assert [call["body"]["ResourceArn"] for call in glue.requests("GetTags")] == [_arn("sales")]
    assert len(glue.requests("ListLFTags")) == 1
    asked = glue.requests("GetResourceLFTags")
    assert sorted(str(call["body"]["Resource"]) for call in asked) == sorted(str(resource) for resource in (
        {"Database": {"Name": "sales"}}, {"Table": {"DatabaseName": "sales", "Name": "orders"}},
        {"Table": {"DatabaseName": "sales", "Name": "customers"}}))
    assert all(call["body"]["ShowAssignedLFTags"] is True for call in asked)
    assert len(glue.requests("GetCallerIdentity")) == 1


def test_a_change_in_tags_alone_maps_the_table_again(glue, engine, glue_settings):
    client, lake_formation = _seed(glue)
    _tag_sales(client, lake_formation)
    first = crawl(engine, _config(), settings=glue_settings)
    with statements(engine, r"^\s*(?i:INSERT|UPDATE|DELETE)\b") as written:
        same = crawl(engine, _config(), settings=glue_settings)
    assert written == [] and same.changes["unchanged"] == first.changes["created"]
    _lf(lake_formation, {"Table": {"DatabaseName": "sales", "Name": "customers"}}, domain=["marketing"])
    lake_formation.remove_lf_tags_from_resource(Resource=_email("sales", "orders"),
                                                LFTags=[{"TagKey": "pii", "TagValues": ["true"]}])
    client.tag_resource(ResourceArn=_arn("sales"), TagsToAdd={"team": "growth"})
    changed = crawl(engine, _config(), settings=glue_settings)
    # customers, orders (its source) and its email column, and the schema.
    assert changed.status == "Succeeded" and changed.changes["updated"] == 4
    assert changed.changes["unchanged"] == first.changes["created"] - 4
    found = _attributes(engine)
    assert _tags(found["sales/customers"]) == {"lakeFormationTags": [{"tagKey": "domain", "tagValues": ["marketing"]}],
                                               "assetTags": ["domain=marketing"]}
    assert _tags(found["sales/orders/email"]) == {}  # gone from Lake Formation, gone from the catalog
    assert found["sales"]["assetTags"] == ["cost-center=42", "domain=sales", "reviewed", "team=growth"]


@pytest.mark.parametrize(("operation", "iam_action"), [("GetTags", "glue:GetTags"),
                                                       ("GetResourceLFTags", "lakeformation:GetResourceLFTags")])
def test_a_refused_kind_is_one_warning_and_its_stored_tags_are_kept(glue, engine, glue_settings, operation,
                                                                    iam_action):
    databases, tables = ("alpha", "beta"), ("t0", "t1", "t2")
    client, lake_formation = _seed(glue, databases, tables)

    def tag(glue_value: str, lf_value: str) -> None:
        for database in databases:
            client.tag_resource(ResourceArn=_arn(database), TagsToAdd={"team": glue_value})
            _lf(lake_formation, {"Database": {"Name": database}}, domain=[lf_value])
            for table in tables:
                _lf(lake_formation, {"Table": {"DatabaseName": database, "Name": table}}, domain=[lf_value])

    tag("old", "sales")
    _lf(lake_formation, _email("alpha", "t1"), pii=["true"])
    first = crawl(engine, _config(), settings=glue_settings)
    assert first.status == "Succeeded" and first.warnings == []
    tag("new", "marketing")  # one kind's change goes unseen, the other's is read
    glue.set_faults([{"operation": operation, "status": 400, "code": "AccessDeniedException",
                      "message": f"User is not authorized to perform {iam_action}"}])
    glue.clear_requests()
    refused = crawl(engine, _config(), settings=glue_settings)
    assert refused.status == "Succeeded" and refused.warnings_total == 1, refused.warnings
    (warning,) = refused.warnings
    assert (warning["operation"], warning["code"], warning["iam_action"]) == (operation, "AccessDeniedException",
                                                                              iam_action)
    assert f"grant {iam_action}" in warning["message"] and "keeps those the catalog already has" in warning["message"]
    glue_read = operation != "GetTags"
    if glue_read:  # the first refusal ends the asking (each resource would be refused alike): not all 8 of them
        assert len(glue.requests(operation)) < 8
    found = _attributes(engine)
    assert found["alpha"]["awsTags"] == [{"awsTagKey": "team", "awsTagValue": "new" if glue_read else "old"}]
    assert found["alpha/t1"]["lakeFormationTags"] == [
        {"tagKey": "domain", "tagValues": ["sales" if glue_read else "marketing"]}]
    assert found["alpha/t1/email"]["lakeFormationTags"] == [{"tagKey": "pii", "tagValues": ["true"]}]
    # assetTags holds the kinds read this time (so Glue tags stay searchable for a crawler Lake Formation refuses).
    assert found["alpha"]["assetTags"] == (["team=new"] if glue_read else ["domain=marketing"])
    glue.clear_faults()
    again = crawl(engine, _config(), settings=glue_settings)
    assert again.warnings == []
    assert _attributes(engine)["alpha"]["assetTags"] == ["domain=marketing", "team=new"]


def test_a_catalog_without_lf_tags_is_not_asked_resource_by_resource(glue, engine, glue_settings):
    client = glue.client(REGION)
    client.create_database(DatabaseInput={"Name": "plain"})
    for name in ("t0", "t1", "t2"):
        client.create_table(DatabaseName="plain", TableInput={"Name": name, "StorageDescriptor": {
            "Columns": [{"Name": "id", "Type": "bigint"}]}})
    glue.clear_requests()
    report = crawl(engine, _config(), settings=glue_settings)
    assert report.status == "Succeeded" and report.warnings == []
    # No LF-tag is defined, so none is assigned: one ListLFTags instead of a GetResourceLFTags per resource.
    assert len(glue.requests("ListLFTags")) == 1 and glue.requests("GetResourceLFTags") == []
    # When ListLFTags is refused the crawl cannot tell, and asks every resource, without a warning of its own.
    glue.set_faults([{"operation": "ListLFTags", "status": 400, "code": "AccessDeniedException",
                      "message": "User is not authorized to perform lakeformation:ListLFTags"}])
    glue.clear_requests()
    refused = crawl(engine, _config(), settings=glue_settings)
    assert refused.status == "Succeeded" and refused.warnings == []
    assert len(glue.requests("GetResourceLFTags")) == 4


def test_an_account_sts_will_not_tell_ends_glue_tags_only_and_is_asked_once(glue, engine, glue_settings):
    _, lake_formation = _seed(glue, tables=("t0", "t1", "t2", "t3"))
    _lf(lake_formation, {"Table": {"DatabaseName": "sales", "Name": "t0"}}, domain=["sales"])
    glue.set_faults([{"operation": "GetCallerIdentity", "status": 403, "code": "AccessDenied",
                      "message": "not authorized to perform sts:GetCallerIdentity"}])
    glue.clear_requests()
    report = crawl(engine, _config(), settings=glue_settings)
    assert report.status == "Succeeded" and report.warnings_total == 1, report.warnings
    (warning,) = report.warnings
    assert (warning["operation"], warning["iam_action"]) == ("GetCallerIdentity", "sts:GetCallerIdentity")
    assert "without Glue resource tags" in warning["message"]
    # No GetTags without the account for its ARNs, and STS not asked again by every table waiting for it.
    assert len(glue.requests("GetCallerIdentity")) == 1 and not glue.requests("GetTags")
    assert _tags(_attributes(engine)["sales/t0"]) == {
        "lakeFormationTags": [{"tagKey": "domain", "tagValues": ["sales"]}], "assetTags": ["domain=sales"]}


def test_with_tag_reading_off_no_tag_is_asked_for_and_the_stored_ones_stay(glue, engine, glue_settings, monkeypatch):
    client, lake_formation = _seed(glue)
    _tag_sales(client, lake_formation)
    assert crawl(engine, _config(), settings=glue_settings).warnings == []
    client.tag_resource(ResourceArn=_arn("sales"), TagsToAdd={"team": "someone-else"})
    monkeypatch.setenv("GAZETTEER_GLUE_READ_TAGS", "false")
    off = GlueSettings(max_attempts=glue_settings.max_attempts, workers=glue_settings.workers)
    assert off.read_tags is False
    glue.clear_requests()
    report = crawl(engine, _config(), settings=off)
    assert report.status == "Succeeded" and report.warnings == []
    asked = {call["operation"] for call in glue.requests()}
    assert "GetTables" in asked and not asked & {"GetTags", "ListLFTags", "GetResourceLFTags", "GetCallerIdentity"}
    found = _attributes(engine)
    assert found["sales"]["awsTags"] == SALES_GLUE_TAGS  # not read: as the last crawl that read them left them
    assert found["sales/orders/email"]["assetTags"] == ["pii=true"]


def test_a_term_query_on_asset_tags_finds_the_tagged_assets(glue, engine, glue_settings):
    _tag_sales(*_seed(glue))
    assert crawl(engine, _config(), settings=glue_settings).warnings == []

    def found(query: dict) -> list[str]:
        answer = index_search(engine, {"dsl": {"size": 100, "query": query}, "attributes": ["qualifiedName"]})
        return sorted(entity["attributes"]["qualifiedName"].split("/AwsDataCatalog/", 1)[1]
                      for entity in answer.get("entities", []))

    assert found({"term": {"assetTags": "domain=marketing"}}) == ["sales/orders"]
    # pyatlan's Asset.ASSET_TAGS.eq("domain=marketing"):
    assert found({"term": {"assetTags": {"value": "domain=marketing", "case_insensitive": False}}}) == ["sales/orders"]
    assert found({"term": {"assetTags.keyword": "domain=sales"}}) == ["sales", "sales/orders"]
    assert found({"terms": {"assetTags": ["pii=true", "team=commerce"]}}) == ["sales", "sales/orders/email"]
    assert found({"term": {"assetTags": "reviewed"}}) == ["sales"]  # a tag without a value: its key
    assert found({"term": {"assetTags": "domain"}}) == []  # a whole tag, not its key alone
    tagged_tables = {"bool": {"filter": [{"term": {"__typeName.keyword": "Table"}},
                                         {"exists": {"field": "assetTags"}}]}}
    assert found(tagged_tables) == ["sales/orders"]


def test_tags_not_read_are_unknown_and_known_absences_are_left_out():
    assert tag_attributes(UNKNOWN_TAGS) == dict.fromkeys(TAG_ATTRIBUTES)  # None: the catalog keeps its values
    assert column_tag_attributes(UNKNOWN_TAGS, "id") == {"lakeFormationTags": None, "assetTags": None}
    assert tag_attributes(NO_TAGS) == {} and column_tag_attributes(NO_TAGS, "id") == {}
    # One kind read: the other is kept as stored, and assetTags holds what was read.
    assert tag_attributes(SourceTags(glue={"a": "1"})) == {
        "awsTags": [{"awsTagKey": "a", "awsTagValue": "1"}], "lakeFormationTags": None, "assetTags": ["a=1"]}
    odd = SourceTags({}, {"LFTagsOnTable": [{"TagKey": "k", "TagValues": ["v", "v"]}, {"TagKey": ""}, "x",
                                            {"TagKey": "k", "TagValues": ["w"]}, {"TagKey": "n", "TagValues": "v"}],
                          "LFTagsOnColumns": [{"Name": "id", "LFTags": "nonsense"}, "x"]})
    assert tag_attributes(odd) == {"lakeFormationTags": [{"tagKey": "k", "tagValues": ["v", "w"]}],
                                   "assetTags": ["k=v", "k=w"]}
    assert column_tag_attributes(odd, "id") == {}
