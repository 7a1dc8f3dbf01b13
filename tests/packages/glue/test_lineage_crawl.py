"""The lineage a crawl derives from views, jobs and crawlers: a local Glue (and S3) over HTTP, a real catalog."""

from __future__ import annotations

import sqlalchemy as sa

from gazetteer.devtools.sample_catalog import seed_sample_catalog
from gazetteer.packages.glue.config import parse_config
from gazetteer.packages.glue.crawl import crawl
from gazetteer.packages.glue.settings import GlueSettings
from gazetteer.store import assets
from gazetteer.store.schema import lineage_edges

REGION = "us-east-1"
SCALA_JOB = {"Name": "scala_job", "Role": "arn:aws:iam::123456789012:role/GlueJobRole",
             "Command": {"Name": "glueetl", "ScriptLocation": "s3://gazetteer-demo-scripts/jobs/scala_job.scala"}}


def _config():
    return parse_config(connection_name="lake", region=REGION, access_key="AKIATEST", secret_key="s3cr3t")


def _lineage(engine, status="ACTIVE") -> dict[str, dict]:
    """Lineage assets by qualified name (without the connection), with their inputs and outputs by name."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(assets).where(
            assets.c.type_name.in_(("Process", "ColumnProcess", "S3Object")), assets.c.status == status)).all()
    out = {}
    for row in rows:
        def names(key, attributes=row.attributes):
            return sorted(ref["uniqueAttributes"]["qualifiedName"].split("/AwsDataCatalog/")[-1].split("/lineage/")[-1]
                          for ref in attributes.get(key) or ())
        out[row.qualified_name.split("/lineage/", 1)[1]] = {"type": row.type_name, "inputs": names("inputs"),
                                                          "outputs": names("outputs")}
    return out


def test_a_crawl_derives_view_job_and_crawler_lineage(glue, engine):
    seed_sample_catalog(glue.client(REGION), s3=glue.s3_client(REGION))
    report = crawl(engine, _config())
    assert report.status == "Succeeded", report.message
    assert report.lineage["views"] == 5 and report.lineage["jobs"] == 2 and report.lineage["crawlers"] == 1
    # The local Glue does not offer GetDataflowGraph (moto answers a 500): asked once, not retried, then the
    # scripts are parsed here.
    assert len(glue.requests("GetDataflowGraph")) == 1
    found = _lineage(engine)
    assert found["view/analytics/customer_orders"] == {
        "type": "Process", "inputs": ["sales/customers", "sales/orders"], "outputs": ["analytics/customer_orders"]}
    assert found["view/analytics/country_revenue"]["inputs"] == ["analytics/customer_orders"]  # a view over a view
    # Column level, through the CTE and the aggregate.
    assert found["view/analytics/customer_orders/revenue"] == {
        "type": "ColumnProcess", "inputs": ["sales/orders/amount"], "outputs": ["analytics/customer_orders/revenue"]}
    assert found["view/analytics/order_lines/sku"]["inputs"] == ["sales/line_items/sku"]  # SELECT o.*, li.sku
    assert found["job/daily_sales_etl"] == {
        "type": "Process", "inputs": ["sales/line_items", "sales/orders"], "outputs": ["analytics/daily_sales"]}
    # An S3 path resolves to the table stored there; getSink + setCatalogInfo names its table.
    assert found["job/clicks_to_events"] == {"type": "Process", "inputs": ["sales/clicks"], "outputs": ["sales/events"]}
    assert found["crawler/sales_lake_crawler"]["outputs"] == ["sales/customers", "sales/orders"]
    assert found["crawler/sales_lake_crawler"]["inputs"] == ["s3/gazetteer-demo-lake/sales/customers",
                                                             "s3/gazetteer-demo-lake/sales/orders"]
    with engine.connect() as conn:
        edges = conn.execute(sa.select(sa.func.count()).select_from(lineage_edges)).scalar()
    assert edges == sum(len(p["inputs"]) + len(p["outputs"]) for p in found.values())

    # Unchanged: nothing written again.
    again = crawl(engine, _config())
    assert again.status == "Succeeded" and again.changes["created"] == again.changes["updated"] == 0
    assert _lineage(engine) == found


def test_lineage_is_archived_when_its_job_or_view_disappears(glue, engine):
    client = glue.client(REGION)
    seed_sample_catalog(client, s3=glue.s3_client(REGION))
    assert crawl(engine, _config()).status == "Succeeded"
    client.delete_job(JobName="clicks_to_events")
    client.delete_crawler(Name="sales_lake_crawler")
    client.delete_table(DatabaseName="analytics", Name="country_revenue")
    report = crawl(engine, _config())
    assert report.status == "Succeeded", report.message
    archived = _lineage(engine, status="DELETED")
    assert {"job/clicks_to_events", "crawler/sales_lake_crawler", "view/analytics/country_revenue",
            "view/analytics/country_revenue/revenue", "s3/gazetteer-demo-lake/sales/orders"} <= set(archived)
    active = _lineage(engine)
    assert "job/daily_sales_etl" in active and "view/analytics/customer_orders" in active
    with engine.connect() as conn:  # an archived process links nothing
        linked = set(conn.execute(sa.select(lineage_edges.c.asset_qualified_name)).scalars())
    assert not any(qn.endswith("/analytics/country_revenue") for qn in linked)


def test_unreadable_or_unparsable_scripts_are_warnings(glue, engine):
    client, s3 = glue.client(REGION), glue.s3_client(REGION)
    seed_sample_catalog(client, s3=s3)
    s3.put_object(Bucket="gazetteer-demo-scripts", Key="jobs/scala_job.scala", Body=b"object Main { def main() = {} }")
    client.create_job(**SCALA_JOB)
    glue.set_faults([{"operation": "S3:GetObject", "key": "jobs/daily_sales_etl.py", "code": "AccessDenied"}])
    report = crawl(engine, _config())
    assert report.status == "Succeeded", report.message
    messages = [w["message"] for w in report.warnings]
    refused = next(w for w in report.warnings if "daily_sales_etl" in w["message"])
    assert refused["iam_action"] == "s3:GetObject" and "grant s3:GetObject" in refused["message"]
    assert any("scala_job" in m and "could not be analysed" in m for m in messages)
    found = _lineage(engine)
    assert "job/daily_sales_etl" not in found and "job/scala_job" not in found
    assert "job/clicks_to_events" in found  # the others still give lineage


def test_refused_job_listing_keeps_the_job_lineage_it_had(glue, engine):
    seed_sample_catalog(glue.client(REGION), s3=glue.s3_client(REGION))
    assert crawl(engine, _config()).status == "Succeeded"
    glue.set_faults([{"operation": "GetJobs", "status": 400, "code": "AccessDeniedException"}])
    report = crawl(engine, _config())
    assert report.status == "Succeeded"
    assert any(w.get("iam_action") == "glue:GetJobs" for w in report.warnings)
    assert "job/daily_sales_etl" in _lineage(engine)  # not proved gone: kept


def test_jobs_are_not_read_when_turned_off(glue, engine):
    seed_sample_catalog(glue.client(REGION), s3=glue.s3_client(REGION))
    report = crawl(engine, _config(), settings=GlueSettings(read_jobs=False))
    assert report.status == "Succeeded"
    assert not glue.requests("GetJobs") and not glue.requests("GetCrawlers") and not glue.requests("S3:GetObject")
    assert all(name.startswith("view/") for name in _lineage(engine))


def test_a_view_reading_a_missing_table_names_it(glue, engine):
    client = glue.client(REGION)
    client.create_database(DatabaseInput={"Name": "shop"})
    client.create_table(DatabaseName="shop", TableInput={
        "Name": "t", "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "bigint"}]}})
    client.create_table(DatabaseName="shop", TableInput={
        "Name": "v", "TableType": "VIRTUAL_VIEW", "Parameters": {"presto_view": "true"},
        "ViewOriginalText": "SELECT t.id FROM t JOIN gone.missing m ON m.id = t.id",
        "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "bigint"}]}})
    client.create_table(DatabaseName="shop", TableInput={
        "Name": "broken", "TableType": "VIRTUAL_VIEW", "ViewOriginalText": "SELEC nonsense FROM",
        "StorageDescriptor": {"Columns": [{"Name": "x", "Type": "int"}]}})
    report = crawl(engine, _config())
    assert report.status == "Succeeded"
    messages = [w["message"] for w in report.warnings]
    assert any("shop.v" in m and "gone.missing" in m for m in messages), messages
    assert any("shop.broken" in m and "no lineage" in m for m in messages), messages
    assert _lineage(engine)["view/shop/v"]["inputs"] == ["shop/t"]


def test_unchanged_views_are_not_parsed_again_and_changes_are_seen(glue, engine, monkeypatch):
    from gazetteer.packages.glue import lineage as lineage_module

    client = glue.client(REGION)
    seed_sample_catalog(client, s3=glue.s3_client(REGION))
    client.create_table(DatabaseName="analytics", TableInput={
        "Name": "late_view", "TableType": "VIRTUAL_VIEW", "Parameters": {"presto_view": "true"},
        "ViewOriginalText": "SELECT o.order_id, n.note FROM sales.orders o JOIN sales.notes n ON n.id = o.order_id",
        "StorageDescriptor": {"Columns": [{"Name": "order_id", "Type": "bigint"}, {"Name": "note", "Type": "string"}]}})
    parsed: list[str] = []
    real = lineage_module.view_lineage

    def counting(sql, *args, **kwargs):
        parsed.append(sql)
        return real(sql, *args, **kwargs)

    monkeypatch.setattr(lineage_module, "view_lineage", counting)
    first = crawl(engine, _config())
    assert len(parsed) == 6 and first.lineage["views"] == 6
    assert any("sales.notes" in w["message"] for w in first.warnings)
    found = _lineage(engine)

    parsed.clear()
    again = crawl(engine, _config())
    assert parsed == [] and _lineage(engine) == found  # nothing parsed, nothing lost
    assert again.lineage == first.lineage and any("sales.notes" in w["message"] for w in again.warnings)
    assert again.changes["created"] == again.changes["updated"] == again.changes["archived"] == 0

    # A column added to sales.orders: the five views reading it are derived again (not country_revenue, which
    # reads a view whose columns did not change); the table the late view could not find now exists.
    orders = client.get_table(DatabaseName="sales", Name="orders")["Table"]
    storage = {**orders["StorageDescriptor"],
               "Columns": [*orders["StorageDescriptor"]["Columns"], {"Name": "channel", "Type": "string"}]}
    keep = ("Name", "Description", "PartitionKeys", "TableType", "Parameters")
    client.update_table(DatabaseName="sales", TableInput={**{k: v for k, v in orders.items() if k in keep},
                                                         "StorageDescriptor": storage})
    client.create_table(DatabaseName="sales", TableInput={
        "Name": "notes", "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "bigint"},
                                                          {"Name": "note", "Type": "string"}]}})
    parsed.clear()
    assert crawl(engine, _config()).status == "Succeeded"
    assert len(parsed) == 5 and not any("customer_orders GROUP BY" in sql for sql in parsed)
    after = _lineage(engine)
    assert after["view/analytics/late_view"]["inputs"] == ["sales/notes", "sales/orders"]
    assert after["view/analytics/late_view/note"]["inputs"] == ["sales/notes/note"]


def test_credentials_written_into_a_script_are_not_kept(glue, engine):
    client, s3 = glue.client(REGION), glue.s3_client(REGION)
    seed_sample_catalog(client, s3=s3)
    script = ('import boto3\nKEY = "AKIAIOSFODNN7EXAMPLE"\nconn = {"user": "etl", "password": "hunter2-xyz"}\n'
              'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"\n'
              'frame = glueContext.create_dynamic_frame.from_catalog(database="sales", table_name="orders")\n')
    s3.put_object(Bucket="gazetteer-demo-scripts", Key="jobs/leaky.py", Body=script.encode())
    client.create_job(Name="leaky", Role="arn:aws:iam::123456789012:role/GlueJobRole",
                      Command={"Name": "glueetl", "ScriptLocation": "s3://gazetteer-demo-scripts/jobs/leaky.py"})
    assert crawl(engine, _config()).status == "Succeeded"
    with engine.connect() as conn:
        code = conn.execute(sa.select(assets.c.attributes).where(
            assets.c.qualified_name.like("%/lineage/job/leaky"))).scalar_one()["code"]
    for secret in ("AKIAIOSFODNN7EXAMPLE", "hunter2-xyz", "wJalrXUtnFEMI"):
        assert secret not in code
    assert '"password": "***"' in code and 'table_name="orders"' in code
