"""The Glue jobs and crawler of the demo catalog (see ``sample_catalog``): where lineage between tables comes from.

Two jobs, their scripts in S3 the way Glue Studio writes them: one reads and writes catalog tables by name, the
other reads S3 paths and writes through a sink that names its catalog table only in ``setCatalogInfo``. And a
crawler, which keeps two of the lake's folders in sync with their tables.
"""

from __future__ import annotations

from string import Template
from typing import Any

SCRIPTS_BUCKET = "gazetteer-demo-scripts"
CRAWLER = "sales_lake_crawler"

_PREAMBLE = """\
import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
"""
_JOB_INIT = """\
args = getResolvedOptions(sys.argv, ["JOB_NAME"])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args["JOB_NAME"], args)
"""
# Templates: $lake is the demo lake; the scripts' own braces are f-strings of their own.
_SCRIPTS = {
    "daily_sales_etl": _PREAMBLE + """\
from awsglue.dynamicframe import DynamicFrame
from pyspark.sql import functions as F

""" + _JOB_INIT + """
# Script generated for node Orders
Orders_node1714550400000 = glueContext.create_dynamic_frame.from_catalog(
    database="sales", table_name="orders", transformation_ctx="Orders_node1714550400000"
)

# Script generated for node Line items
LineItems_node1714550400001 = glueContext.create_dynamic_frame.from_catalog(
    database="sales", table_name="line_items", transformation_ctx="LineItems_node1714550400001"
)

# Script generated for node Join
Join_node1714550400002 = Join.apply(
    frame1=Orders_node1714550400000,
    frame2=LineItems_node1714550400001,
    keys1=["order_id"],
    keys2=["order_id"],
    transformation_ctx="Join_node1714550400002",
)

# Script generated for node Daily totals
daily = (
    Join_node1714550400002.toDF()
    .where(F.col("status") == "PAID")
    .groupBy("dt", "region")
    .agg(
        F.sum(F.col("quantity") * F.col("unit_price")).cast("decimal(38,2)").alias("revenue"),
        F.sum("quantity").cast("bigint").alias("items"),
    )
)
DailyTotals_node1714550400003 = DynamicFrame.fromDF(daily, glueContext, "DailyTotals_node1714550400003")

# Script generated for node Daily sales
glueContext.write_dynamic_frame.from_catalog(
    frame=DailyTotals_node1714550400003,
    database="analytics",
    table_name="daily_sales",
    transformation_ctx="DailySales_node1714550400004",
)
job.commit()
""",
    "clicks_to_events": _PREAMBLE + """
LAKE = "$lake"

""" + _JOB_INIT + """
# Script generated for node Clicks
clicks = glueContext.create_dynamic_frame.from_options(
    connection_type="s3",
    connection_options={"paths": [f"{LAKE}/sales/clicks/"]},
    format="avro",
    transformation_ctx="clicks",
)

# Script generated for node Change schema
mapped = ApplyMapping.apply(
    frame=clicks,
    mappings=[
        ("click_id", "string", "event_id", "string"),
        ("ts", "long", "occurred_at", "timestamp"),
    ],
    transformation_ctx="mapped",
)


def as_click_event(record):
    record["event_type"] = "click"
    return record


frame = Map.apply(frame=mapped, f=as_click_event, transformation_ctx="frame")

# Script generated for node Events
sink = glueContext.getSink(connection_type="s3", path=f"{LAKE}/sales/events/", enableUpdateCatalog=True)
sink.setCatalogInfo(catalogDatabase="sales", catalogTableName="events")
sink.setFormat("json")
sink.writeFrame(frame)
job.commit()
""",
}
_DESCRIPTIONS = {
    "daily_sales_etl": "Paid orders joined with their line items, summed per day and region into analytics.daily_sales",
    "clicks_to_events": "Converts the Avro click log into clickstream events (sales.events)",
}


def script_location(job: str) -> str:
    return f"s3://{SCRIPTS_BUCKET}/jobs/{job}.py"


def job_script(job: str, lake: str) -> str:
    """The text of a sample job's script, reading and writing under `lake`."""
    return Template(_SCRIPTS[job]).substitute(lake=lake)


def seed_sample_jobs(glue_client: Any, s3: Any, lake: str, account: str) -> dict[str, Any]:
    """Create the jobs and the crawler, and with an S3 client the scripts' bucket and the scripts (without one,
    the jobs point at scripts that do not exist, as after a script was deleted). Returns the summary's
    ``jobs`` ({name: script URL}) and ``crawlers``."""
    if s3 is not None:
        region = s3.meta.region_name
        # us-east-1 is S3's default location, and the only one it refuses to be told explicitly.
        location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=SCRIPTS_BUCKET, **location)
    for job in _SCRIPTS:
        if s3 is not None:
            s3.put_object(Bucket=SCRIPTS_BUCKET, Key=f"jobs/{job}.py", Body=job_script(job, lake).encode(),
                          ContentType="text/x-python")
        glue_client.create_job(
            Name=job, Role=f"arn:aws:iam::{account}:role/GlueJobRole", Description=_DESCRIPTIONS[job],
            Command={"Name": "glueetl", "ScriptLocation": script_location(job), "PythonVersion": "3"},
            DefaultArguments={"--job-language": "python", "--enable-glue-datacatalog": "true",
                              "--TempDir": f"s3://{SCRIPTS_BUCKET}/temporary/"},
            GlueVersion="4.0", WorkerType="G.1X", NumberOfWorkers=2)
    glue_client.create_crawler(
        Name=CRAWLER, Role=f"arn:aws:iam::{account}:role/GlueCrawlerRole", DatabaseName="sales",
        Targets={"S3Targets": [{"Path": f"{lake}/sales/orders/"}, {"Path": f"{lake}/sales/customers/"}]},
        Description="Adds new partitions of the orders and schema changes of the customers export")
    return {"jobs": {job: script_location(job) for job in _SCRIPTS}, "crawlers": [CRAWLER]}
