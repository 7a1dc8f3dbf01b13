"""What Atlan's Glue app adds to a crawl: an IAM role to assume, another catalog (S3 Tables too), and a regex
that leaves tables out. Against the local Glue (moto answers STS as well) and a real catalog."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from gazetteer.errors import InvalidRequest
from gazetteer.packages.glue.config import parse_config
from gazetteer.packages.glue.crawl import crawl
from gazetteer.store import assets

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/glue-reader"


def _config(**overrides):
    values = {"connection_name": "lake", "region": REGION, "access_key": "AKIASOURCE", "secret_key": "s3cr3t"}
    return parse_config(**{**values, **overrides})


def _seed(client, tables=("orders", "tmp_orders", "customers"), partitioned=("tmp_orders",)):
    client.create_database(DatabaseInput={"Name": "sales"})
    for name in tables:
        keys = [{"Name": "day", "Type": "string"}] if name in partitioned else []
        client.create_table(DatabaseName="sales", TableInput={
            "Name": name, "TableType": "EXTERNAL_TABLE", "PartitionKeys": keys,
            "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "bigint"}], "Location": f"s3://b/{name}/"}})


def _glue_calls(glue) -> list[dict]:
    """The logged Glue calls (the local endpoint logs STS's too)."""
    return [call for call in glue.requests() if call["operation"] not in ("AssumeRole", "GetCallerIdentity")]


def _active(engine) -> set[str]:
    with engine.connect() as conn:
        return {name for (name,) in conn.execute(sa.select(assets.c.qualified_name).where(
            assets.c.status == "ACTIVE", assets.c.type_name.in_(("Table", "View"))))}


def test_a_role_is_assumed_with_its_external_id_and_glue_is_read_with_the_role_s_keys(glue, engine, glue_settings):
    _seed(glue.client(REGION))
    glue.clear_requests()
    report = crawl(engine, _config(role_arn=ROLE, external_id="ext-42"), settings=glue_settings)
    assert report.status == "Succeeded" and report.counts["tables"] == 3
    (assume, *_) = glue.requests("AssumeRole")
    assert (assume["body"]["RoleArn"], assume["body"]["ExternalId"]) == (ROLE, "ext-42")
    assert assume["access_key"] == "AKIASOURCE"  # signed with the given keys
    glue_calls = _glue_calls(glue)
    # Every Glue call is signed with the temporary keys STS handed out, never the source keys.
    assert glue_calls and all(call["access_key"].startswith("ASIA") for call in glue_calls)
    # The account in the ARNs GetTags takes is the role's, asked of STS once, as the role.
    (identity,) = glue.requests("GetCallerIdentity")
    assert identity["access_key"].startswith("ASIA")


def test_a_short_role_session_is_renewed_during_the_crawl(glue, engine, glue_settings):
    _seed(glue.client(REGION))
    glue.clear_requests()
    # 900 s is STS's shortest session, inside botocore's 15-minute renewal window: every read renews it.
    settings = glue_settings.model_copy(update={"role_session_seconds": 900})
    report = crawl(engine, _config(role_arn=ROLE), settings=settings)
    assert report.status == "Succeeded"
    keys = {call["access_key"] for call in _glue_calls(glue)}
    assert len(glue.requests("AssumeRole")) >= 2 and len(keys) >= 2


def test_a_role_that_cannot_be_assumed_fails_the_crawl_before_any_glue_call(glue, engine, glue_settings):
    _seed(glue.client(REGION))
    glue.set_faults([{"operation": "AssumeRole", "status": 403, "code": "AccessDenied",
                      "message": "Not authorized to perform sts:AssumeRole"}])
    glue.clear_requests()
    report = crawl(engine, _config(role_arn=ROLE, external_id="ext-42"), settings=glue_settings)
    assert report.status == "Failed"
    assert f"could not assume {ROLE}" in report.message and "trust policy" in report.message
    assert "arn:aws:sts::123456789012:user/moto" in report.message  # which principal asked
    assert "with this external id" in report.message and "s3cr3t" not in str(report.to_dict())
    assert not _glue_calls(glue)
    assert _active(engine) == set()


def test_the_exclude_regex_leaves_tables_out_and_archives_those_crawled_before(glue, engine, glue_settings):
    _seed(glue.client(REGION))
    first = crawl(engine, _config(), settings=glue_settings)
    assert {name.rsplit("/", 1)[1] for name in _active(engine)} == {"orders", "tmp_orders", "customers"}
    glue.clear_requests()
    again = crawl(engine, _config(exclude_table_regex="^tmp_",
                                  connection_qualified_name=first.connection_qualified_name), settings=glue_settings)
    assert again.status == "Succeeded" and again.counts["tables"] == 2
    assert again.changes["archived"] == 3  # the table and its two columns
    assert {name.rsplit("/", 1)[1] for name in _active(engine)} == {"orders", "customers"}
    assert not glue.requests("GetPartitions")  # the excluded partitioned table costs no partition count


@pytest.mark.parametrize(("values", "needle"), [
    ({"exclude_table_regex": "(unclosed"}, "not a valid regular expression: missing )"),
    ({"role_arn": "glue-reader"}, "is not an IAM role ARN"),
    ({"external_id": "ext-42"}, "goes with a role"),
    ({"catalog_id": "123456789012:s3tablescatalog/Bad_Bucket"}, "S3 Tables catalog"),
])
def test_bad_app_settings_are_refused_before_any_call(values, needle):
    with pytest.raises(InvalidRequest) as caught:
        _config(**values)
    assert needle in caught.value.message


def test_an_s3_tables_catalog_is_read_by_its_id_and_named_as_one_level(glue, engine, glue_settings):
    _seed(glue.client(REGION), tables=("orders",), partitioned=())
    glue.client(REGION, service="lakeformation").create_lf_tag(TagKey="domain", TagValues=["sales"])
    catalog = "123456789012:s3tablescatalog/lake-bucket"
    glue.clear_requests()
    report = crawl(engine, _config(catalog_id=catalog), settings=glue_settings)
    assert report.status == "Succeeded" and report.warnings == []
    calls = _glue_calls(glue)
    assert {call["body"].get("CatalogId") for call in calls
            if call["operation"] not in ("GetTags", "ListLFTags", "GetResourceLFTags", "GetJobs", "GetCrawlers")
            } == {catalog}  # jobs and crawlers are the account's own (Glue facts §17)
    # GetTags takes the ARN Glue gives an S3 Tables catalog's database; ListLFTags the account (LF-tags are the
    # account's); GetResourceLFTags the catalog id, in the resource.
    assert [call["body"]["ResourceArn"] for call in calls if call["operation"] == "GetTags"] == [
        "arn:aws:glue:us-east-1:123456789012:database/s3tablescatalog/lake-bucket/sales"]
    assert [call["body"].get("CatalogId") for call in calls if call["operation"] == "ListLFTags"] == ["123456789012"]
    assert sorted((call["body"]["Resource"] for call in calls if call["operation"] == "GetResourceLFTags"),
                  key=len) == [{"Database": {"CatalogId": catalog, "Name": "sales"}},
                               {"Table": {"CatalogId": catalog, "DatabaseName": "sales", "Name": "orders"}}]
    database = f"{report.connection_qualified_name}/123456789012:s3tablescatalog:lake-bucket"
    with engine.connect() as conn:
        row = conn.execute(sa.select(assets).where(assets.c.qualified_name == database)).one()
    assert (row.type_name, row.name) == ("Database", catalog)
    assert _active(engine) == {f"{database}/sales/orders"}
    assert parse_config(connection_name="x", region=REGION, catalog_id="AwsDataCatalog").catalog_id is None


def test_many_partitions_are_counted_in_segments_and_the_newest_is_checked_against_the_table(
        glue, engine, glue_settings):
    client = glue.client(REGION)
    _seed(client, tables=("events",), partitioned=("events",))
    storage = {"Columns": [{"Name": "id", "Type": "bigint"}], "Location": "s3://b/events/"}
    client.batch_create_partition(DatabaseName="sales", TableName="events", PartitionInputList=[
        {"Values": [f"2024-01-{day:02d}"], "StorageDescriptor": storage} for day in range(1, 30)])
    time.sleep(1.1)  # Glue's CreationTime has second precision: the newest comes a second later
    client.create_partition(DatabaseName="sales", TableName="events", PartitionInput={
        "Values": ["2024-01-30"], "StorageDescriptor": {**storage, "Columns": [{"Name": "id", "Type": "string"}]}})
    glue.clear_requests()
    report = crawl(engine, _config(), settings=glue_settings)
    assert report.status == "Succeeded"
    listings = glue.requests("GetPartitions")
    segments = {call["body"]["Segment"]["SegmentNumber"] for call in listings if "Segment" in call["body"]}
    assert segments == set(range(10))  # more than a page (2 here): read again in Glue's 10 segments at once
    assert len(glue.requests("BatchGetPartition")) == 1
    with engine.connect() as conn:
        attributes = conn.execute(sa.select(assets.c.attributes).where(assets.c.name == "events")).scalar_one()
    assert attributes["partitionCount"] == 30 and attributes["lastPartition"] == "day=2024-01-30"
    assert attributes["partitionsWithOtherColumns"] == ["day=2024-01-30"] and attributes["lastPartitionCreatedAt"]
    (warning,) = [w for w in report.warnings if "HIVE_PARTITION_SCHEMA_MISMATCH" in w["message"]]
    assert "id is string, the table's is bigint" in warning["message"]
