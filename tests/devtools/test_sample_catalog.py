"""The demo catalog: the views, jobs, scripts and crawler that lineage is read from, and its summary."""

from __future__ import annotations

import ast
import base64
import json

import pytest
from botocore.exceptions import ClientError

from gazetteer.devtools.sample_catalog import LAKE, seed_sample_catalog
from gazetteer.devtools.sample_jobs import SCRIPTS_BUCKET

REGION = "us-east-1"


def _presto(view: dict) -> dict:
    return json.loads(base64.b64decode(view["ViewOriginalText"].removeprefix("/* Presto View: ").removesuffix(" */")))


def _columns(table: dict) -> list[tuple[str, str]]:
    return [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]


def test_summary_counts_what_the_catalog_holds(glue):
    client = glue.client(REGION)
    summary = seed_sample_catalog(client, s3=glue.s3_client(REGION))
    listed = {db: [t["Name"] for page in client.get_paginator("get_tables").paginate(DatabaseName=db)
                   for t in page["TableList"]] for db in summary["databases"]}
    assert listed == summary["tables"] and summary["table_count"] == sum(map(len, listed.values())) == 15
    assert summary["views"] == ["analytics.daily_revenue", "analytics.top_customers", "analytics.customer_orders",
                                "analytics.country_revenue", "analytics.order_lines"]
    assert summary["jobs"] == {"daily_sales_etl": f"s3://{SCRIPTS_BUCKET}/jobs/daily_sales_etl.py",
                               "clicks_to_events": f"s3://{SCRIPTS_BUCKET}/jobs/clicks_to_events.py"}
    assert summary["crawlers"] == ["sales_lake_crawler"]


def test_lineage_views(glue):
    client = glue.client(REGION)
    seed_sample_catalog(client)
    tables = {t["Name"]: t for page in client.get_paginator("get_tables").paginate(DatabaseName="analytics")
              for t in page["TableList"]}
    customer_orders, country_revenue = _presto(tables["customer_orders"]), _presto(tables["country_revenue"])
    assert customer_orders["originalSql"].startswith("WITH paid AS (SELECT order_id, customer_id, amount FROM sales")
    assert [(c["name"], c["type"]) for c in customer_orders["columns"]] == [
        ("customer_id", "varchar"), ("country", "varchar"), ("order_count", "bigint"), ("revenue", "decimal(38,2)")]
    assert _columns(tables["customer_orders"])[:2] == [("customer_id", "string"), ("country", "string")]
    assert "FROM analytics.customer_orders" in country_revenue["originalSql"]
    assert _columns(tables["country_revenue"]) == [("country", "string"), ("revenue", "decimal(38,2)"),
                                                   ("orders", "bigint")]
    order_lines = tables["order_lines"]
    orders = client.get_table(DatabaseName="sales", Name="orders")["Table"]
    star = [(c["Name"], c["Type"]) for c in orders["StorageDescriptor"]["Columns"] + orders["PartitionKeys"]]
    assert _columns(order_lines) == [*star, ("sku", "string"), ("quantity", "int")]
    parameters = order_lines["Parameters"]
    assert parameters["view.query.out.numCols"] == "10" and parameters["view.query.out.col.9"] == "quantity"
    assert order_lines["ViewOriginalText"].startswith("SELECT o.*, li.sku, li.quantity FROM sales.orders o JOIN")
    assert "`spark_catalog`.`sales`.`line_items` `li`" in order_lines["ViewExpandedText"]
    daily_sales = tables["daily_sales"]
    assert daily_sales["TableType"] == "EXTERNAL_TABLE" and daily_sales["Parameters"]["classification"] == "parquet"
    assert [name for name, _ in _columns(daily_sales)] == ["dt", "region", "revenue", "items"]


def test_jobs_scripts_and_crawler(glue):
    client, s3 = glue.client(REGION), glue.s3_client(REGION)
    seed_sample_catalog(client, s3=s3)
    jobs = {job["Name"]: job for page in client.get_paginator("get_jobs").paginate() for job in page["Jobs"]}
    assert sorted(jobs) == ["clicks_to_events", "daily_sales_etl"]
    etl = jobs["daily_sales_etl"]
    assert etl["Command"] == {"Name": "glueetl", "ScriptLocation": f"s3://{SCRIPTS_BUCKET}/jobs/daily_sales_etl.py",
                              "PythonVersion": "3"}
    assert etl["Role"] == "arn:aws:iam::123456789012:role/GlueJobRole" and etl["GlueVersion"] == "4.0"
    scripts = {name: s3.get_object(Bucket=SCRIPTS_BUCKET, Key=f"jobs/{name}.py")["Body"].read().decode()
               for name in jobs}
    for script in scripts.values():
        ast.parse(script)
        assert "getResolvedOptions(sys.argv" in script and "job.commit()" in script
    etl_script = scripts["daily_sales_etl"]
    assert 'database="sales", table_name="orders"' in etl_script
    assert 'database="sales", table_name="line_items"' in etl_script
    assert "write_dynamic_frame.from_catalog(" in etl_script and 'table_name="daily_sales"' in etl_script
    clicks = scripts["clicks_to_events"]
    assert f'LAKE = "{LAKE}"' in clicks and 'connection_options={"paths": [f"{LAKE}/sales/clicks/"]}' in clicks
    assert 'sink.setCatalogInfo(catalogDatabase="sales", catalogTableName="events")' in clicks
    (crawler,) = client.get_crawlers()["Crawlers"]
    assert crawler["Name"] == "sales_lake_crawler" and crawler["DatabaseName"] == "sales"
    assert [t["Path"] for t in crawler["Targets"]["S3Targets"]] == [f"{LAKE}/sales/orders/", f"{LAKE}/sales/customers/"]


def test_without_s3_the_jobs_point_at_missing_scripts(glue):
    seed_sample_catalog(glue.client("eu-west-1"))
    assert len(glue.client("eu-west-1").get_jobs()["Jobs"]) == 2
    with pytest.raises(ClientError) as caught:
        glue.s3_client("eu-west-1").get_object(Bucket=SCRIPTS_BUCKET, Key="jobs/daily_sales_etl.py")
    assert caught.value.response["Error"]["Code"] == "NoSuchBucket"


def test_scripts_bucket_outside_us_east_1(glue):
    seed_sample_catalog(glue.client("eu-west-1"), s3=glue.s3_client("eu-west-1"))
    s3 = glue.s3_client("eu-west-1")
    assert s3.get_bucket_location(Bucket=SCRIPTS_BUCKET)["LocationConstraint"] == "eu-west-1"
