"""The local Glue endpoint: paging, fault injection, request log, S3, synthetic seeding, sample catalog."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError

from gazetteer.devtools.local_glue import LocalGlue, LocalGlueError, endpoint_env
from gazetteer.devtools.sample_catalog import WIDE_EVENTS_TYPE, seed_sample_catalog
from gazetteer.devtools.sample_jobs import SCRIPTS_BUCKET

REGION = "us-east-1"
# One attempt only: these tests look at what the server answers, not at botocore's retries.
NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture(scope="module")
def local_glue() -> Iterator[LocalGlue]:
    with LocalGlue(page_size=2) as server:
        yield server


@pytest.fixture()
def server(local_glue: LocalGlue) -> LocalGlue:
    """The module's server, emptied and seeded with the sample catalog."""
    local_glue.reset()
    seed_sample_catalog(local_glue.client(REGION), s3=local_glue.s3_client(REGION))
    local_glue.clear_requests()
    return local_glue


@pytest.fixture()
def client(server: LocalGlue):
    return server.client(REGION, config=NO_RETRY)


def _pages(client, operation: str, **kwargs) -> list[dict]:
    return list(client.get_paginator(operation).paginate(**kwargs))


# ------------------------------------------------------------------ paging


def test_get_tables_pages_and_the_union_is_complete(client):
    for database, expected in (
        ("sales", {"orders", "customers", "events", "line_items", "clicks"}),
        (
            "analytics",
            {"daily_revenue", "top_customers", "inventory", "shipments", "wide_events", "partner_orders",
             "customer_orders", "country_revenue", "order_lines", "daily_sales"},
        ),
    ):
        pages = _pages(client, "get_tables", DatabaseName=database)
        names = [table["Name"] for page in pages for table in page["TableList"]]
        assert len(pages) == (len(expected) + 1) // 2 and all(len(page["TableList"]) <= 2 for page in pages)
        assert len(names) == len(set(names)) and set(names) == expected
        assert "NextToken" not in pages[-1]


def test_get_databases_pages(client):
    pages = _pages(client, "get_databases")
    names = [db["Name"] for page in pages for db in page["DatabaseList"]]
    assert len(pages) == 2 and names == ["sales", "analytics", "staging_empty", "shared_marketing"]


def test_get_partitions_pages(client):
    pages = _pages(client, "get_partitions", DatabaseName="sales", TableName="orders")
    values = [tuple(p["Values"]) for page in pages for p in page["Partitions"]]
    assert len(pages) == 3 and len(values) == len(set(values)) == 6
    assert {dt for dt, _ in values} == {"2024-05-01", "2024-05-02", "2024-05-03"}


def _job(client, name: str) -> None:
    client.create_job(Name=name, Role="arn:aws:iam::123456789012:role/GlueJobRole",
                      Command={"Name": "glueetl", "ScriptLocation": f"s3://{SCRIPTS_BUCKET}/jobs/{name}.py"})


def test_get_jobs_and_get_crawlers_page(server, client):
    """moto answers GetCrawlers in one page and GetJobs in pages of 100: both come in pages of the page size."""
    for i in range(101):  # past moto's own page of 100, which the middleware follows to the end
        _job(client, f"extra_{i:03d}")
    client.create_crawler(Name="extra_crawler", Role="arn:aws:iam::123456789012:role/GlueCrawlerRole",
                          Targets={"S3Targets": [{"Path": "s3://gazetteer-demo-lake/sales/events/"}]})
    pages = _pages(client, "get_jobs")
    names = [job["Name"] for page in pages for job in page["Jobs"]]
    assert len(pages) == 52 and all(len(page["Jobs"]) <= 2 for page in pages)
    assert names[:2] == ["daily_sales_etl", "clicks_to_events"] and len(set(names)) == len(names) == 103
    assert [r["page"] for r in server.requests("GetJobs")] == list(range(52))
    pages = _pages(client, "get_crawlers")
    assert [[c["Name"] for c in page["Crawlers"]] for page in pages] == [["sales_lake_crawler", "extra_crawler"]]
    _job(client, "one_more")  # a change expires the tokens, as for the other listings
    first = client.get_jobs(MaxResults=1)
    assert len(first["Jobs"]) == 1
    client.delete_job(JobName="one_more")
    with pytest.raises(ClientError) as caught:
        client.get_jobs(NextToken=first["NextToken"])
    assert caught.value.response["Error"]["Code"] == "InvalidInputException"


def test_max_results_below_the_page_size_wins(client):
    first = client.get_tables(DatabaseName="sales", MaxResults=1)
    assert len(first["TableList"]) == 1 and first["NextToken"]
    second = client.get_tables(DatabaseName="sales", MaxResults=5, NextToken=first["NextToken"])
    assert len(second["TableList"]) == 2  # still capped by --page-size 2
    assert second["TableList"][0]["Name"] != first["TableList"][0]["Name"]


def test_unknown_or_foreign_token_is_invalid_input(client):
    with pytest.raises(ClientError) as caught:
        client.get_tables(DatabaseName="sales", NextToken="not-a-token")
    assert caught.value.response["Error"]["Code"] == "InvalidInputException"
    token = client.get_tables(DatabaseName="sales")["NextToken"]
    with pytest.raises(ClientError) as caught:  # a token only pages the listing it came from
        client.get_tables(DatabaseName="analytics", NextToken=token)
    assert caught.value.response["Error"]["Code"] == "InvalidInputException"


def test_mutation_invalidates_snapshots(client):
    token = client.get_tables(DatabaseName="sales")["NextToken"]
    client.get_database(Name="sales")  # reads leave snapshots alone
    assert client.get_tables(DatabaseName="sales", NextToken=token)["TableList"]
    client.create_table(DatabaseName="sales", TableInput={"Name": "refunds"})
    with pytest.raises(ClientError) as caught:
        client.get_tables(DatabaseName="sales", NextToken=token)
    assert caught.value.response["Error"]["Code"] == "InvalidInputException"
    names = {
        t["Name"] for page in _pages(client, "get_tables", DatabaseName="sales") for t in page["TableList"]
    }
    assert "refunds" in names and len(names) == 6


# ------------------------------------------------------------------ faults


def test_fault_on_one_page_of_one_database_fires_only_there(server, client):
    server.set_faults(
        [
            {
                "operation": "GetTables",
                "database": "sales",
                "page": 1,
                "status": 500,
                "code": "InternalServiceException",
                "message": "Internal failure",
            }
        ]
    )
    assert len(_pages(client, "get_tables", DatabaseName="analytics")) == 5
    first = client.get_tables(DatabaseName="sales")
    for _ in range(2):  # no "times": it keeps failing
        with pytest.raises(ClientError) as caught:
            client.get_tables(DatabaseName="sales", NextToken=first["NextToken"])
        assert caught.value.response["Error"]["Code"] == "InternalServiceException"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert server.faults()[0]["fired"] == 2
    server.clear_faults()
    # The failed page did not consume the token: the same one continues the listing.
    assert len(client.get_tables(DatabaseName="sales", NextToken=first["NextToken"])["TableList"]) == 2
    logged = [
        (r["page"], r["fault"])
        for r in server.requests("GetTables")
        if r["body"].get("DatabaseName") == "sales"
    ]
    assert logged == [(0, None), (1, "InternalServiceException"), (1, "InternalServiceException"), (1, None)]


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ThrottlingException", 400),
        ("AccessDeniedException", 400),
        ("InternalServiceException", 500),
        ("EntityNotFoundException", 400),
    ],
)
def test_fault_codes_arrive_as_client_error_codes(server, client, code, status):
    server.set_faults(
        [
            {
                "operation": "GetTables",
                "database": "sales",
                "status": status,
                "code": code,
                "message": f"injected {code}",
            }
        ]
    )
    with pytest.raises(ClientError) as caught:
        client.get_tables(DatabaseName="sales")
    assert caught.value.response["Error"] == {"Code": code, "Message": f"injected {code}"}
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert client.get_tables(DatabaseName="analytics")["TableList"]  # other databases are untouched


def _throttle_pattern(server: LocalGlue, client, calls: int) -> list[bool]:
    server.set_faults(
        [
            {
                "operation": "GetDatabases",
                "probability": 0.3,
                "seed": 11,
                "status": 400,
                "code": "ThrottlingException",
                "message": "Rate exceeded",
            }
        ]
    )
    pattern = []
    for _ in range(calls):
        try:
            client.get_databases()
            pattern.append(False)
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "ThrottlingException"
            pattern.append(True)
    return pattern


def test_probability_rule_fires_about_that_often_and_deterministically(server, client):
    pattern = _throttle_pattern(server, client, 200)
    assert 0.2 <= sum(pattern) / len(pattern) <= 0.4
    assert _throttle_pattern(server, client, 200) == pattern  # same seed, same storm


def test_times_limits_a_rule_and_delay_only_rules_let_requests_through(server, client):
    server.set_faults(
        [
            {"operation": "GetDatabase", "code": "ThrottlingException", "times": 2},
            {"operation": "GetTable", "delay_seconds": 0.3},
        ]
    )
    outcomes = []
    for _ in range(4):
        try:
            client.get_database(Name="sales")
            outcomes.append("ok")
        except ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])
    assert outcomes == ["ThrottlingException", "ThrottlingException", "ok", "ok"]
    started = time.monotonic()
    assert client.get_table(DatabaseName="sales", Name="orders")["Table"]["Name"] == "orders"
    assert time.monotonic() - started >= 0.3


def test_dropped_connection(server, client):
    server.set_faults([{"operation": "GetDatabases", "drop_connection": True, "times": 1}])
    with pytest.raises(ConnectionClosedError):
        client.get_databases()
    assert client.get_databases()["DatabaseList"]


def test_bad_fault_rules_are_refused(server):
    with pytest.raises(LocalGlueError, match="unknown fault rule keys"):
        server.set_faults([{"operation": "GetTables", "databse": "sales"}])
    with pytest.raises(LocalGlueError, match="operation"):
        server.set_faults([{"code": "ThrottlingException"}])
    assert server.faults() == []


def test_s3_faults_answer_as_s3_does_and_can_name_one_key(server):
    s3 = server.s3_client(REGION, config=NO_RETRY)
    server.set_faults([{"operation": "S3:GetObject", "key": "jobs/daily_sales_etl.py", "code": "AccessDenied"}])
    assert server.faults()[0]["status"] == 403 and server.faults()[0]["message"] == "Access Denied"
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=SCRIPTS_BUCKET, Key="jobs/daily_sales_etl.py")
    assert caught.value.response["Error"] == {"Code": "AccessDenied", "Message": "Access Denied"}
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert s3.get_object(Bucket=SCRIPTS_BUCKET, Key="jobs/clicks_to_events.py")["Body"].read().startswith(b"import")
    server.set_faults([{"operation": "S3:GetObject", "code": "NoSuchKey", "times": 1}, {"operation": "S3:HeadObject"}])
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=SCRIPTS_BUCKET, Key="jobs/clicks_to_events.py")
    with pytest.raises(ClientError) as caught:  # without a code: throttled, as S3 throttles
        s3.head_object(Bucket=SCRIPTS_BUCKET, Key="jobs/clicks_to_events.py")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert [(r["operation"], r["body"]["Key"], r["status"], r["fault"]) for r in server.requests()] == [
        ("S3:GetObject", "jobs/daily_sales_etl.py", 403, "AccessDenied"),
        ("S3:GetObject", "jobs/clicks_to_events.py", 200, None),
        ("S3:GetObject", "jobs/clicks_to_events.py", 404, "NoSuchKey"),
        ("S3:HeadObject", "jobs/clicks_to_events.py", 503, "SlowDown"),
    ]


def test_get_dataflow_graph_is_not_answered(server, client):
    """moto does not implement GetDataflowGraph: an HTTP 500 with an HTML body, which botocore reports as code
    "500" (and retries, as any 500), so a crawler has to fall back to reading the script itself."""
    with pytest.raises(ClientError) as caught:
        client.get_dataflow_graph(PythonScript="print('hello')")
    assert caught.value.response["Error"]["Code"] == "500"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert [r["operation"] for r in server.requests()] == ["GetDataflowGraph"]  # once: NO_RETRY


# ------------------------------------------------------------------ S3


def test_s3_is_served_path_style_from_the_standard_endpoint_variable(server, monkeypatch):
    """What a crawler does: a plain boto3 S3 client, pointed at the server by AWS_ENDPOINT_URL_S3 alone."""
    import boto3

    assert endpoint_env(server.url)["AWS_ENDPOINT_URL_S3"] == server.url
    for name, value in server.env(REGION).items():
        monkeypatch.setenv(name, value)
    s3 = boto3.client("s3", config=NO_RETRY)
    sent: list[str] = []
    s3.meta.events.register("before-send.s3", lambda request, **_: sent.append(request.url))
    script = s3.get_object(Bucket=SCRIPTS_BUCKET, Key="jobs/daily_sales_etl.py")["Body"].read().decode()
    assert 'table_name="daily_sales"' in script
    assert sent == [f"{server.url}/{SCRIPTS_BUCKET}/jobs/daily_sales_etl.py"]
    assert [(r["operation"], r["body"], r["status"]) for r in server.requests()] == [
        ("S3:GetObject", {"Bucket": SCRIPTS_BUCKET, "Key": "jobs/daily_sales_etl.py"}, 200)]
    # Writes to S3 cannot change the catalog: a listing's tokens outlive them.
    token = server.client(REGION).get_tables(DatabaseName="sales")["NextToken"]
    s3.put_object(Bucket=SCRIPTS_BUCKET, Key="jobs/new.py", Body=b"pass\n")
    assert server.client(REGION).get_tables(DatabaseName="sales", NextToken=token)["TableList"]


# ------------------------------------------------------------------ log


def test_request_log_records_operations_bodies_and_pages(server, client):
    _pages(client, "get_tables", DatabaseName="sales", CatalogId="123456789012")
    client.get_table(DatabaseName="sales", Name="orders")
    log = server.requests()
    assert [r["operation"] for r in log] == ["GetTables"] * 3 + ["GetTable"]
    assert [r["page"] for r in log[:3]] == [0, 1, 2]
    assert all(
        r["body"]["DatabaseName"] == "sales" and r["body"]["CatalogId"] == "123456789012" for r in log[:3]
    )
    assert "NextToken" not in log[0]["body"] and all("NextToken" in r["body"] for r in log[1:3])
    assert log[3]["body"] == {"DatabaseName": "sales", "Name": "orders"}
    assert all(r["status"] == 200 and r["region"] == REGION for r in log)
    assert server.request_counts() == {"GetTables": 3, "GetTable": 1}
    server.clear_requests()
    assert server.requests() == [] and server.request_counts() == {}


# ------------------------------------------------------------------ column statistics


def _long_statistics(name: str, distinct: int) -> dict:
    return {"ColumnName": name, "ColumnType": "bigint", "AnalyzedTime": datetime(2024, 5, 4, tzinfo=UTC),
            "StatisticsData": {"Type": "LONG", "LongColumnStatisticsData": {
                "MinimumValue": 1, "MaximumValue": 9, "NumberOfNulls": 0, "NumberOfDistinctValues": distinct}}}


def test_column_statistics_round_trip_by_region_and_table(server, client):
    """moto has neither call: the endpoint keeps what UpdateColumnStatisticsForTable wrote, as Glue does."""
    answer = client.get_column_statistics_for_table(DatabaseName="sales", TableName="orders",
                                                    ColumnNames=["order_id", "amount", "customer_id"])
    assert [s["ColumnName"] for s in answer["ColumnStatisticsList"]] == ["order_id", "amount"]  # the sample's
    assert answer["Errors"] == [{"ColumnName": "customer_id", "Error": {
        "ErrorCode": "EntityNotFoundException", "ErrorMessage": "No statistics for column customer_id"}}]
    amount = answer["ColumnStatisticsList"][1]["StatisticsData"]["DecimalColumnStatisticsData"]
    assert amount["MaximumValue"] == {"UnscaledValue": (499900).to_bytes(3, "big", signed=True), "Scale": 2}
    client.update_column_statistics_for_table(DatabaseName="sales", TableName="orders",
                                              ColumnStatisticsList=[_long_statistics("order_id", 7)])
    again = client.get_column_statistics_for_table(DatabaseName="sales", TableName="orders", ColumnNames=["order_id"])
    assert again["ColumnStatisticsList"][0]["StatisticsData"]["LongColumnStatisticsData"]["NumberOfDistinctValues"] == 7
    assert again["ColumnStatisticsList"][0]["AnalyzedTime"] == datetime(2024, 5, 4, tzinfo=UTC)
    for region, table in (("eu-west-1", "orders"), (REGION, "customers")):  # never written there
        with pytest.raises(ClientError) as caught:
            server.client(region, config=NO_RETRY).get_column_statistics_for_table(
                DatabaseName="sales", TableName=table, ColumnNames=["order_id"])
        assert caught.value.response["Error"]["Code"] == "EntityNotFoundException"
    assert [(r["operation"], r["status"]) for r in server.requests()][-2:] == [
        ("GetColumnStatisticsForTable", 400), ("GetColumnStatisticsForTable", 400)]


def test_column_statistics_limits_faults_drops_and_reset(server, client):
    unchecked = server.client(REGION, config=Config(parameter_validation=False,
                                                    retries={"mode": "standard", "total_max_attempts": 1}))
    with pytest.raises(ClientError) as caught:  # the real API's limit, whatever the client checks
        unchecked.get_column_statistics_for_table(DatabaseName="sales", TableName="orders",
                                                  ColumnNames=[f"c{i}" for i in range(101)])
    assert caught.value.response["Error"]["Code"] == "InvalidInputException"
    with pytest.raises(ClientError):
        unchecked.update_column_statistics_for_table(DatabaseName="sales", TableName="orders", ColumnStatisticsList=[
            _long_statistics(f"c{i}", 1) for i in range(26)])
    server.set_faults([{"operation": "GetColumnStatisticsForTable", "table": "orders", "code": "AccessDeniedException",
                        "message": "not authorized to perform glue:GetColumnStatisticsForTable"}])
    with pytest.raises(ClientError) as caught:
        client.get_column_statistics_for_table(DatabaseName="sales", TableName="orders", ColumnNames=["order_id"])
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert server.requests("GetColumnStatisticsForTable")[-1]["fault"] == "AccessDeniedException"
    server.clear_faults()
    client.delete_table(DatabaseName="sales", Name="orders")  # its statistics go with it
    client.create_table(DatabaseName="sales", TableInput={"Name": "orders"})
    with pytest.raises(ClientError):
        client.get_column_statistics_for_table(DatabaseName="sales", TableName="orders", ColumnNames=["order_id"])
    assert client.get_column_statistics_for_table(DatabaseName="sales", TableName="line_items",
                                                  ColumnNames=["quantity"])["ColumnStatisticsList"]
    server.reset()
    with pytest.raises(ClientError):
        client.get_column_statistics_for_table(DatabaseName="sales", TableName="line_items", ColumnNames=["quantity"])


# ------------------------------------------------------------------ tags


def _pair(key: str, *values: str) -> dict:
    return {"CatalogId": "123456789012", "TagKey": key, "TagValues": list(values)}


def test_lf_tags_are_kept_per_resource_as_lake_formation_keeps_them(server, client):
    """moto fails GetResourceLFTags for an untagged table, and answers no column tags for a table: the endpoint
    keeps the assignments itself."""
    lake_formation = server.client(REGION, config=NO_RETRY, service="lakeformation")
    orders = {"DatabaseName": "sales", "Name": "orders"}

    def tags(resource: dict) -> dict:
        answer = lake_formation.get_resource_lf_tags(Resource=resource, ShowAssignedLFTags=True)
        return {key: value for key, value in answer.items() if key != "ResponseMetadata"}

    assert tags({"Table": orders}) == {"LFTagOnDatabase": [], "LFTagsOnTable": [], "LFTagsOnColumns": []}
    lake_formation.create_lf_tag(TagKey="domain", TagValues=["sales", "marketing"])  # moto keeps the definitions

    def add(resource: dict, key: str, *values: str) -> None:
        lake_formation.add_lf_tags_to_resource(Resource=resource, LFTags=[{"TagKey": key, "TagValues": list(values)}])

    add({"Database": {"Name": "sales"}}, "domain", "sales")
    add({"Table": orders}, "tier", "silver")
    add({"Table": orders}, "owner", "crm")  # added to the table's tags
    add({"Table": orders}, "tier", "gold")  # a key's values replaced
    add({"TableWithColumns": {**orders, "ColumnNames": ["customer_id", "order_id"]}}, "pii", "true")
    lake_formation.remove_lf_tags_from_resource(Resource={"TableWithColumns": {**orders, "ColumnNames": ["order_id"]}},
                                                LFTags=[{"TagKey": "pii", "TagValues": ["true"]}])
    assert tags({"Table": orders}) == {
        "LFTagOnDatabase": [_pair("domain", "sales")], "LFTagsOnTable": [_pair("owner", "crm"), _pair("tier", "gold")],
        "LFTagsOnColumns": [{"Name": "customer_id", "LFTags": [_pair("pii", "true")]}]}
    assert tags({"Database": {"Name": "sales", "CatalogId": "123456789012"}}) == {
        "LFTagOnDatabase": [_pair("domain", "sales")]}
    # Logged under the operation its path names, and failed on request, for one table only.
    server.set_faults([{"operation": "GetResourceLFTags", "table": "orders", "code": "AccessDeniedException",
                        "message": "not authorized to perform lakeformation:GetResourceLFTags"}])
    with pytest.raises(ClientError) as caught:
        tags({"Table": orders})
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert tags({"Table": {"DatabaseName": "sales", "Name": "customers"}})["LFTagsOnTable"] == []
    assert [(r["fault"], r["status"]) for r in server.requests("GetResourceLFTags")[-2:]] == [
        ("AccessDeniedException", 400), (None, 200)]
    with pytest.raises(ClientError) as caught:
        lake_formation.get_resource_lf_tags(Resource={"Table": {"DatabaseName": "sales"}})
    assert caught.value.response["Error"]["Code"] == "InvalidInputException"
    server.clear_faults()
    client.delete_table(DatabaseName="sales", Name="orders")  # its tags, its columns' too, go with it
    assert tags({"Table": orders}) == {"LFTagOnDatabase": [_pair("domain", "sales")], "LFTagsOnTable": [],
                                       "LFTagsOnColumns": []}


def test_get_tags_faults_name_the_database_or_table_of_the_arn(server, client):
    arn = "arn:aws:glue:us-east-1:123456789012:"
    client.tag_resource(ResourceArn=arn + "table/sales/orders", TagsToAdd={"owner": "crm"})
    server.set_faults([{"operation": "GetTags", "table": "customers", "code": "AccessDeniedException"},
                       {"operation": "GetTags", "database": "analytics", "code": "AccessDeniedException"}])
    assert client.get_tags(ResourceArn=arn + "table/sales/orders")["Tags"] == {"owner": "crm"}
    assert client.get_tags(ResourceArn=arn + "database/sales")["Tags"] == {"team": "sales-engineering",
                                                                            "cost-center": "4410"}
    for refused in ("table/sales/customers", "database/analytics", "table/analytics/inventory"):
        with pytest.raises(ClientError):
            client.get_tags(ResourceArn=arn + refused)


# ------------------------------------------------------------------ seeding


def test_seed_synthetic_creates_the_requested_counts(server, client):
    summary = server.seed_synthetic(
        region=REGION, databases=2, tables=5, columns=4, partitioned_fraction=0.4, partitions_per_table=3
    )
    assert (
        summary["databases"],
        summary["tables"],
        summary["partitioned_tables"],
        summary["partitions"],
    ) == (2, 10, 4, 12)
    assert summary["columns"] == 40
    databases = [d["Name"] for page in _pages(client, "get_databases") for d in page["DatabaseList"]]
    assert [d for d in databases if d.startswith("bench_db_")] == ["bench_db_000", "bench_db_001"]
    tables = [
        t for page in _pages(client, "get_tables", DatabaseName="bench_db_001") for t in page["TableList"]
    ]
    assert [t["Name"] for t in tables] == [f"t_{i:05d}" for i in range(5)]
    partitioned = [t for t in tables if t.get("PartitionKeys")]
    assert len(partitioned) == 2
    for table in tables:
        sd = table["StorageDescriptor"]
        assert len(sd["Columns"]) == 4 and all(c.get("Comment") for c in sd["Columns"])
        assert sd["Location"].startswith("s3://") and "Parquet" in sd["SerdeInfo"]["SerializationLibrary"]
        assert {"classification", "recordCount", "sizeKey"} <= set(table["Parameters"])
    parts = _pages(client, "get_partitions", DatabaseName="bench_db_001", TableName=partitioned[0]["Name"])
    assert sum(len(page["Partitions"]) for page in parts) == 3
    # Seeding again is idempotent; another region stays separate.
    assert server.seed_synthetic(region=REGION, databases=2, tables=5, columns=4)["created"]["tables"] == 0
    assert server.seed_synthetic(region="eu-west-1", databases=1, tables=1)["created"]["tables"] == 1
    eu_databases = server.client("eu-west-1").get_databases()["DatabaseList"]
    assert [d["Name"] for d in eu_databases] == ["bench_db_000"]


# ------------------------------------------------------------------ sample catalog


def test_sample_catalog_round_trips_the_tricky_entries(client):
    analytics = {
        t["Name"]: t
        for page in _pages(client, "get_tables", DatabaseName="analytics")
        for t in page["TableList"]
    }
    view = analytics["daily_revenue"]
    assert view["TableType"] == "VIRTUAL_VIEW" and view["Parameters"]["presto_view"] == "true"
    encoded = view["ViewOriginalText"].removeprefix("/* Presto View: ").removesuffix(" */")
    presto = json.loads(base64.b64decode(encoded))
    assert presto["originalSql"].startswith("SELECT") and [c["name"] for c in presto["columns"]][0] == "dt"
    assert analytics["top_customers"]["ViewOriginalText"].startswith("SELECT")
    columns = analytics["inventory"]["StorageDescriptor"]["Columns"]
    assert [c["Name"] for c in columns if c["Parameters"]["iceberg.field.current"] == "false"] == [
        "legacy_sku"
    ]
    delta = analytics["shipments"]["Parameters"]
    schema = json.loads(delta["spark.sql.sources.schema.part.0"] + delta["spark.sql.sources.schema.part.1"])
    assert {f["name"] for f in schema["fields"]} >= {"carrier", "cost"} and delta[
        "spark.sql.sources.provider"
    ] == "delta"
    assert analytics["wide_events"]["StorageDescriptor"]["Columns"][1]["Type"] == WIDE_EVENTS_TYPE
    link = analytics["partner_orders"]
    assert link["TargetTable"] == {"CatalogId": "210987654321", "DatabaseName": "partners", "Name": "orders"}
    assert "StorageDescriptor" not in link
    shared = client.get_database(Name="shared_marketing")["Database"]
    assert shared["TargetDatabase"] == {"CatalogId": "210987654321", "DatabaseName": "marketing"}
    assert client.get_tables(DatabaseName="staging_empty")["TableList"] == []


# ------------------------------------------------------------------ lifecycle


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie nobody reaped has exited all the same


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_stop_and_parent_death_end_the_server():
    glue = LocalGlue()
    pid = glue._proc.pid  # noqa: SLF001 - the test checks the process itself
    assert _alive(pid)
    glue.stop()
    assert not _alive(pid)

    # A parent killed with SIGKILL cannot clean up; the server notices its stdin closing.
    script = (
        "import os, sys\nfrom gazetteer.devtools.local_glue import LocalGlue\n"
        "g = LocalGlue()\nprint(g._proc.pid, flush=True)\nos.kill(os.getpid(), 9)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    orphan = int(out.stdout.strip())
    deadline = time.monotonic() + 10
    while _alive(orphan) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(orphan)
