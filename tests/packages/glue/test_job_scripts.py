"""Lineage from Glue job scripts and GetDataflowGraph answers: what a job reads and writes, found statically."""

from __future__ import annotations

import textwrap

import pytest

from gazetteer.packages.glue.job_scripts import (
    MAX_SCRIPT_CHARS,
    DataRef,
    ScriptLineage,
    dataflow_lineage,
    s3_path,
    script_lineage,
)


def lineage(source: str) -> ScriptLineage:
    return script_lineage(textwrap.dedent(source))


def table(database: str, name: str, path: str | None = None) -> DataRef:
    return DataRef(database=database, table=name, path=path)


def s3(path: str) -> DataRef:
    return DataRef(path=path)


# What Glue Studio generates for a visual job: Data Catalog source → Change Schema → Amazon S3 target.
GLUE_STUDIO_SCRIPT = '''\
import sys
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

args = getResolvedOptions(sys.argv, ["JOB_NAME"])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

# Script generated for node AWS Glue Data Catalog
AWSGlueDataCatalog_node1712661231224 = glueContext.create_dynamic_frame.from_catalog(
    database="Sales", table_name="orders_raw", transformation_ctx="AWSGlueDataCatalog_node1712661231224"
)

# Script generated for node Change Schema
ChangeSchema_node1712661244120 = ApplyMapping.apply(
    frame=AWSGlueDataCatalog_node1712661231224,
    mappings=[
        ("order_id", "string", "order_id", "string"),
        ("amount", "double", "amount", "decimal"),
        ("order_date", "string", "order_date", "date"),
    ],
    transformation_ctx="ChangeSchema_node1712661244120",
)

# Script generated for node Amazon S3
AmazonS3_node1712661260111 = glueContext.write_dynamic_frame.from_options(
    frame=ChangeSchema_node1712661244120,
    connection_type="s3",
    format="glueparquet",
    connection_options={"path": "s3://acme-curated/orders/", "partitionKeys": ["order_date"]},
    format_options={"compression": "snappy"},
    transformation_ctx="AmazonS3_node1712661260111",
)

job.commit()
'''


def test_a_glue_studio_script_reads_its_catalog_table_and_writes_its_s3_path() -> None:
    result = script_lineage(GLUE_STUDIO_SCRIPT)

    assert result == ScriptLineage(
        sources=(table("sales", "orders_raw"),), targets=(s3("s3://acme-curated/orders"),), unresolved=()
    )


def test_a_glue_1_script_with_spaced_keywords_and_a_sink_to_the_catalog() -> None:
    result = lineage('''
        ## @params: [JOB_NAME]
        args = getResolvedOptions(sys.argv, ['JOB_NAME'])
        glueContext = GlueContext(SparkContext())
        datasource0 = glueContext.create_dynamic_frame.from_catalog(database = "legacy", table_name = "events_csv")
        applymapping1 = ApplyMapping.apply(frame = datasource0, mappings = [("id", "long", "id", "long")])
        datasink4 = glueContext.write_dynamic_frame.from_catalog(frame = applymapping1, database = "legacy",
            table_name = "events_parquet", transformation_ctx = "datasink4")
        job.commit()
    ''')

    assert result.sources == (table("legacy", "events_csv"),)
    assert result.targets == (table("legacy", "events_parquet"),)
    assert result.problem is None


@pytest.mark.parametrize(
    "call",
    [
        'glueContext.create_dynamic_frame.from_catalog(database="Sales", table_name="Orders")',
        'glue_context.create_dynamic_frame_from_catalog("Sales", "Orders", transformation_ctx="s")',
        'self.glue_context.create_data_frame.from_catalog(database="sales", table_name="orders")',
        'gc.create_data_frame_from_catalog(table_name="orders", database="sales")',
        'glueContext.create_dynamic_frame.from_catalog(name_space="sales", table_name="orders")',
        'spark.table("Sales.Orders")',
        'spark.read.table("sales.orders")',
        'spark.readStream.table("sales.orders")',
        'spark.table("glue_catalog.sales.orders")',
        'spark.sql("SELECT * FROM sales.orders")',
    ],
)
def test_every_catalog_read_form_names_the_table_in_lower_case(call: str) -> None:
    result = lineage(call)

    assert result.sources == (table("sales", "orders"),)
    assert result.targets == ()
    assert result.unresolved == ()


@pytest.mark.parametrize(
    "call",
    [
        'glueContext.write_dynamic_frame.from_catalog(frame=df, database="Curated", table_name="Orders")',
        'glueContext.write_dynamic_frame.from_catalog(df, "curated", "orders")',
        'glueContext.write_dynamic_frame_from_catalog(frame=df, database="curated", table_name="orders")',
        'glueContext.write_data_frame.from_catalog(frame=df, database="curated", table_name="orders")',
        'df.write.mode("append").saveAsTable("curated.orders")',
        'df.write.insertInto("curated.orders", overwrite=True)',
        'df.write.insertInto(tableName="curated.orders")',
        'df.writeTo("curated.orders").append()',
        'df.writeStream.toTable("curated.orders")',
        'spark.sql("INSERT INTO curated.orders VALUES (1)")',
    ],
)
def test_every_catalog_write_form_names_the_table(call: str) -> None:
    result = lineage(call)

    assert result.targets == (table("curated", "orders"),)
    assert result.sources == ()
    assert result.unresolved == ()


def test_a_bare_table_name_is_in_the_default_database() -> None:
    result = lineage('spark.table("Orders")\ndf.write.saveAsTable("daily")')

    assert result.sources == (table("default", "orders"),)
    assert result.targets == (table("default", "daily"),)


def test_glue_s3_reads_take_every_path_and_normalise_them() -> None:
    result = lineage('''
        glueContext.create_dynamic_frame.from_options(
            connection_type="s3",
            connection_options={"paths": ["s3://raw/a/", "s3a://raw/b", "S3N://raw/c//"], "recurse": True},
            format="json",
        )
        glueContext.create_dynamic_frame_from_options("s3", {"paths": ["s3://raw/d"]}, format="csv")
    ''')

    assert result.sources == (s3("s3://raw/a"), s3("s3://raw/b"), s3("s3://raw/c"), s3("s3://raw/d"))
    assert result.targets == ()


def test_glue_s3_writes_positional_and_keyword() -> None:
    result = lineage('''
        glueContext.write_dynamic_frame.from_options(frame=df, connection_type="s3", connection_options={"path": "s3://out/a/"})
        glueContext.write_dynamic_frame_from_options(df, "s3", {"path": "s3://out/b"}, format="parquet")
    ''')

    assert result.targets == (s3("s3://out/a"), s3("s3://out/b"))
    assert result.sources == ()


def test_jdbc_and_other_connections_are_not_followed_nor_reported() -> None:
    result = lineage('''
        options = {"url": args["url"], "dbtable": "orders", "user": secret["user"]}
        glueContext.create_dynamic_frame.from_options(connection_type="postgresql", connection_options=options)
        glueContext.create_dynamic_frame.from_options(connection_type="mysql", connection_options=make_options())
        spark.read.format("jdbc").option("url", URL).option("dbtable", "orders").load()
    ''')

    assert result == ScriptLineage(sources=(), targets=(), unresolved=())


def test_spark_file_reads() -> None:
    result = lineage('''
        spark.read.parquet("s3://lake/a/", "s3://lake/b")
        spark.read.option("header", True).csv("s3://lake/c.csv", inferSchema=True)
        spark.read.json(path="s3://lake/d")
        spark.read.orc(["s3://lake/e", "s3://lake/f"])
        spark.read.text("s3a://lake/g/")
        spark.read.format("avro").load("s3://lake/h")
        spark.read.format("delta").option("path", "s3://lake/i").load()
        spark.read.options(path="s3://lake/j", header=True).format("csv").load()
        spark.read.parquet("hdfs:///tmp/not-s3")
    ''')

    expected = [f"s3://lake/{name}" for name in ("a", "b", "c.csv", "d", "e", "f", "g", "h", "i", "j")]
    assert result.sources == tuple(s3(path) for path in expected)
    assert result.targets == ()
    assert result.unresolved == ()


def test_spark_file_writes() -> None:
    result = lineage('''
        df.write.mode("overwrite").partitionBy("dt").parquet("s3://lake/a/")
        df.write.csv("s3://lake/b", header=True)
        df.write.json(path="s3://lake/c")
        df.coalesce(1).write.orc("s3://lake/d")
        df.write.format("delta").mode("append").save("s3://lake/e")
        df.write.format("parquet").option("path", "s3://lake/f").save()
        df.writeStream.format("parquet").option("checkpointLocation", "s3://lake/chk").start("s3://lake/g")
    ''')

    # start() is not a recognised writer; the checkpoint location is not a dataset.
    assert result.targets == tuple(s3(f"s3://lake/{name}") for name in "abcdef")
    assert result.sources == ()


def test_calls_that_only_share_a_method_name_are_not_datasets() -> None:
    result = lineage('''
        import json
        config = json.loads(body)
        response.json()
        model.save("s3://models/m1")
        frame.toDF().text
        pandas_df.to_csv("s3://exports/x.csv")
    ''')

    assert result == ScriptLineage(sources=(), targets=(), unresolved=())


def test_iceberg_loads_and_saves_tables_by_name() -> None:
    result = lineage('''
        spark.read.format("iceberg").load("glue_catalog.sales.orders")
        df.write.format("iceberg").mode("append").save("glue_catalog.curated.orders")
    ''')

    assert result.sources == (table("sales", "orders"),)
    assert result.targets == (table("curated", "orders"),)


def test_get_sink_writes_the_catalog_table_of_set_catalog_info_and_its_path() -> None:
    result = lineage('''
        AmazonS3_node3 = glueContext.getSink(
            path="s3://acme-curated/daily/",
            connection_type="s3",
            updateBehavior="UPDATE_IN_DATABASE",
            partitionKeys=["dt"],
            enableUpdateCatalog=True,
            transformation_ctx="AmazonS3_node3",
        )
        AmazonS3_node3.setCatalogInfo(catalogDatabase="Curated", catalogTableName="Daily")
        AmazonS3_node3.setFormat("glueparquet", compression="snappy")
        AmazonS3_node3.writeFrame(ChangeSchema_node2)
    ''')

    assert result.targets == (table("curated", "daily", "s3://acme-curated/daily"),)
    assert result.unresolved == ()


def test_get_sink_without_catalog_info_writes_its_path_and_positional_catalog_info_works() -> None:
    result = lineage('''
        class Writer:
            def run(self, glue_context, frame):
                self.sink = glue_context.getSink("s3", path="s3://out/plain/")
                self.sink.writeFrame(frame)
                other = glue_context.getSink(connection_type="s3", path="s3://out/cataloged")
                other.setCatalogInfo("curated", "events")
                elsewhere.setCatalogInfo(catalogDatabase="curated", catalogTableName="made_elsewhere")
    ''')

    assert result.targets == (
        s3("s3://out/plain"),
        table("curated", "events", "s3://out/cataloged"),
        table("curated", "made_elsewhere"),
    )


def test_get_sink_with_unknown_path_is_unresolved_unless_its_catalog_table_is_known() -> None:
    result = lineage('''
        unknown = glueContext.getSink(path=args["out"], connection_type="s3")
        known = glueContext.getSink(path=args["out2"], connection_type="s3")
        known.setCatalogInfo(catalogDatabase="curated", catalogTableName="t")
    ''')

    assert result.targets == (table("curated", "t"),)
    assert result.unresolved == ("getSink at line 2: path is not a constant (args['out'])",)


def test_module_level_constants_f_strings_concatenation_and_format() -> None:
    result = lineage('''
        BUCKET = "acme-lake"
        DATABASE: str = "Sales"
        TABLE = "orders" + "_" + "raw"
        RAW = f"s3://{BUCKET}/raw/"
        OUT = "s3://{}/out/{name}".format(BUCKET, name="daily")
        OPTIONS = {"paths": [RAW + "events/"]}

        glueContext.create_dynamic_frame.from_catalog(database=DATABASE, table_name=TABLE)
        glueContext.create_dynamic_frame.from_options(connection_type="s3", connection_options=OPTIONS)
        df.write.parquet(OUT)
    ''')

    assert result.sources == (table("sales", "orders_raw"), s3("s3://acme-lake/raw/events"))
    assert result.targets == (s3("s3://acme-lake/out/daily"),)
    assert result.unresolved == ()


def test_function_level_constants_and_module_constants_seen_from_functions() -> None:
    result = lineage('''
        DATABASE = "sales"

        def main():
            table = "orders"
            prefix = f"s3://lake/{DATABASE}"
            glue_context.create_dynamic_frame.from_catalog(database=DATABASE, table_name=table)
            glue_context.write_dynamic_frame.from_options(
                frame=df, connection_type="s3", connection_options={"path": prefix + "/orders/"}
            )

        def other():
            table = "customers"
            spark.table(f"{DATABASE}.{table}")
    ''')

    assert result.sources == (table("sales", "orders"), table("sales", "customers"))
    assert result.targets == (s3("s3://lake/sales/orders"),)
    assert result.unresolved == ()


def test_unresolved_arguments_name_the_call_the_argument_and_the_line() -> None:
    result = lineage('''
        import sys
        from awsglue.utils import getResolvedOptions
        args = getResolvedOptions(sys.argv, ["source_table", "target_path"])
        DATABASE = "sales"

        source = glueContext.create_dynamic_frame.from_catalog(database=DATABASE, table_name=args["source_table"])
        glueContext.write_dynamic_frame.from_options(
            frame=source, connection_type="s3", connection_options={"path": args["target_path"]}
        )

        def load(spark, path):
            return spark.read.parquet(path)
        spark.sql(build_query())
    ''')

    assert result.sources == ()
    assert result.targets == ()
    assert result.unresolved == (
        "create_dynamic_frame.from_catalog at line 7: table_name is not a constant (args['source_table'])",
        "write_dynamic_frame.from_options at line 8: connection_options['path'] is not a constant string",
        "parquet at line 13: path is not a constant (path)",
        "sql at line 14: sqlQuery is not a constant (build_query())",
    )


def test_paths_spread_from_a_runtime_list_are_unresolved() -> None:
    result = lineage("paths = [f's3://lake/{d}' for d in days]\nspark.read.parquet(*paths)\n")

    assert result.sources == ()
    assert result.unresolved == ("parquet at line 2: path is not a constant (*paths)",)


def test_names_bound_more_than_once_or_as_parameters_are_not_constants() -> None:
    result = lineage('''
        TABLE = "orders"
        TABLE = "customers"
        PATH = "s3://lake/a"
        PATH += "/b"
        COUNTER = "x"

        def bump():
            global COUNTER
            COUNTER = "y"

        def read(DATABASE="sales"):
            spark.table(DATABASE + ".orders")

        for name in ["a", "b"]:
            spark.table(name)
        spark.table(TABLE)
        spark.read.parquet(PATH)
        spark.table(COUNTER)
    ''')

    assert result.sources == ()
    assert [entry.split(":")[0] for entry in result.unresolved] == [
        "table at line 13", "table at line 16", "table at line 17", "parquet at line 18", "table at line 19",
    ]


def test_a_function_constant_shadows_the_module_one_and_a_parameter_hides_it() -> None:
    result = lineage('''
        TABLE = "sales.module_level"

        def inner():
            TABLE = "sales.function_level"
            spark.table(TABLE)

        def parameter(TABLE):
            spark.table(TABLE)

        spark.table(TABLE)
    ''')

    assert result.sources == (table("sales", "function_level"), table("sales", "module_level"))
    assert result.unresolved == ("table at line 9: tableName is not a constant (TABLE)",)


def test_spark_sql_select_reads_joined_tables_but_not_ctes() -> None:
    result = lineage('''
        spark.sql("""
            WITH recent AS (SELECT * FROM sales.orders WHERE dt > '2024-01-01')
            SELECT r.*, c.name
            FROM recent r
            JOIN crm.Customers c ON c.id = r.customer_id
            WHERE r.id IN (SELECT order_id FROM sales.refunds)
        """)
    ''')

    assert result.sources == (table("sales", "orders"), table("crm", "customers"), table("sales", "refunds"))
    assert result.targets == ()


def test_spark_sql_insert_overwrite_and_ctas_write_their_target_only() -> None:
    result = lineage('''
        QUERY = """
            INSERT OVERWRITE TABLE curated.daily PARTITION (dt = '2024-01-01')
            SELECT o.id, o.amount FROM sales.orders o
        """
        spark.sql(QUERY)
        spark.sql("CREATE TABLE curated.summary USING parquet AS SELECT count(*) FROM curated.daily")
        spark.sql("MERGE INTO glue_catalog.curated.customers t USING staging.customers s ON t.id = s.id "
                  "WHEN MATCHED THEN UPDATE SET *")
        spark.sql("DROP TABLE IF EXISTS scratch.tmp")
        spark.sql("MSCK REPAIR TABLE curated.daily")
        spark.sql("SELECT * FROM parquet.`s3://lake/events/`")
        spark.sql("CREATE OR REPLACE VIEW curated.big AS SELECT * FROM curated.daily WHERE amount > 100")
    ''')

    assert result.sources == (
        table("sales", "orders"), table("curated", "daily"), table("staging", "customers"), s3("s3://lake/events")
    )
    assert result.targets == (
        table("curated", "daily"), table("curated", "summary"), table("curated", "customers"), table("curated", "big")
    )
    assert result.unresolved == ()


def test_temp_views_are_not_catalog_tables() -> None:
    result = lineage('''
        orders = glueContext.create_dynamic_frame.from_catalog(database="sales", table_name="orders")
        orders.toDF().createOrReplaceTempView("Orders_View")
        spark.sql("CREATE OR REPLACE TEMP VIEW big AS SELECT * FROM orders_view WHERE amount > 100")
        spark.sql("INSERT INTO curated.big_orders SELECT * FROM big JOIN global_temp.shared")
        spark.table("orders_view")
    ''')

    assert result.sources == (table("sales", "orders"),)
    assert result.targets == (table("curated", "big_orders"),)
    assert result.unresolved == ()


def test_a_temp_view_with_an_unknown_name_makes_bare_table_names_unresolved() -> None:
    result = lineage('''
        def register(mapping):
            for alias, frame in mapping.items():
                frame.toDF().createOrReplaceTempView(alias)
        spark.sql("SELECT * FROM myDataSource JOIN sales.orders")
    ''')

    assert result.sources == (table("sales", "orders"),)
    assert result.unresolved == (
        "table 'mydatasource' may be the temp view registered at line 4 without a constant name",
    )


def test_sql_that_cannot_be_parsed_is_unresolved() -> None:
    result = lineage('spark.sql("SELECT FROM WHERE (((")')

    assert result.sources == ()
    assert len(result.unresolved) == 1
    assert result.unresolved[0].startswith("sql at line 1: the SQL cannot be parsed")


def test_sources_and_targets_keep_first_met_order_without_duplicates() -> None:
    result = lineage('''
        spark.table("b.t")
        spark.table("a.t")
        spark.table("B.T")
        df.write.parquet("s3://x/y/")
        df.write.parquet("s3://x/y")
    ''')

    assert result.sources == (table("b", "t"), table("a", "t"))
    assert result.targets == (s3("s3://x/y"),)


def test_a_scala_script_is_a_problem_not_an_exception() -> None:
    result = script_lineage(textwrap.dedent('''\
        import com.amazonaws.services.glue.GlueContext
        import org.apache.spark.SparkContext

        object GlueApp {
          def main(sysArgs: Array[String]) {
            val glueContext: GlueContext = new GlueContext(new SparkContext())
            val source = glueContext.getCatalogSource(database = "sales", tableName = "orders").getDynamicFrame()
          }
        }
    '''))

    assert result.sources == () and result.targets == ()
    assert result.problem is not None
    assert result.problem.startswith("the script is not Python 3 this crawler can parse:")
    assert "(line 4)" in result.problem  # `object GlueApp {`


def test_a_python_2_script_is_a_problem() -> None:
    result = script_lineage('print "starting"\nspark.table("sales.orders")\n')

    assert result.sources == ()
    assert result.problem is not None and "not Python 3" in result.problem


@pytest.mark.parametrize(
    "source",
    [
        "x = " + " + ".join(["'a'"] * 50_000),  # too deep for the parser
        "".join(f"A{i} = A{i - 1} + 'x'\n" for i in range(1, 3000)) + "A0 = 's3://b/'\nspark.read.parquet(A2999)\n",
        "spark.table('a.b')\x00",
    ],
    ids=["deep-expression", "deep-constant-chain", "nul-byte"],
)
def test_pathological_scripts_are_problems_not_exceptions(source: str) -> None:
    result = script_lineage(source)

    assert result.problem is not None
    assert result.sources == ()


def test_a_script_over_the_size_limit_is_not_parsed() -> None:
    result = script_lineage("#" * (MAX_SCRIPT_CHARS + 1))

    assert result.problem is not None and "characters" in result.problem


def test_a_constant_that_refers_to_itself_or_doubles_without_bound_is_unresolved() -> None:
    doubling = "A0 = 's3://b/x'\n" + "".join(f"A{i} = A{i - 1} + A{i - 1}\n" for i in range(1, 40))
    result = lineage(doubling + "LOOP = LOOP + 'x'\nspark.read.parquet(A39)\nspark.table(LOOP)\n")

    assert result.sources == ()
    assert [entry.split(":")[0] for entry in result.unresolved] == ["parquet at line 42", "table at line 43"]


def test_s3_path_normalisation() -> None:
    assert s3_path("s3a://Bucket/key/") == "s3://Bucket/key"
    assert s3_path(" S3://bucket ") == "s3://bucket"
    assert s3_path("s3://") is None
    assert s3_path("/tmp/local") is None
    assert s3_path("hdfs://namenode/x") is None


# GetDataflowGraph's answer for a Glue 1.0 script: values are Python literals written as text.
DATAFLOW_GRAPH = {
    "DagNodes": [
        {
            "Id": "datasource0",
            "NodeType": "DataSource",
            "LineNumber": 22,
            "Args": [
                {"Name": "database", "Value": '"Sales"', "Param": False},
                {"Name": "table_name", "Value": '"orders_raw"', "Param": False},
                {"Name": "transformation_ctx", "Value": '"datasource0"', "Param": False},
            ],
        },
        {
            "Id": "datasource1",
            "NodeType": "DataSource",
            "LineNumber": 24,
            "Args": [
                {"Name": "connection_type", "Value": '"s3"', "Param": False},
                {"Name": "connection_options", "Value": '{"paths": ["s3://acme-raw/refunds/"]}', "Param": False},
                {"Name": "format", "Value": '"json"', "Param": False},
            ],
        },
        {
            "Id": "applymapping1",
            "NodeType": "ApplyMapping",
            "LineNumber": 29,
            "Args": [
                {"Name": "mapping", "Value": '[("order_id", "string", "order_id", "string")]', "Param": False},
                {"Name": "transformation_ctx", "Value": '"applymapping1"', "Param": False},
            ],
        },
        {
            "Id": "datasink4",
            "NodeType": "DataSink",
            "LineNumber": 45,
            "Args": [
                {"Name": "connection_type", "Value": '"s3"', "Param": False},
                {"Name": "connection_options", "Value": '{"path": "s3://acme-curated/orders/"}', "Param": False},
                {"Name": "format", "Value": '"parquet"', "Param": False},
                {"Name": "transformation_ctx", "Value": '"datasink4"', "Param": False},
            ],
        },
        {
            "Id": "datasink5",
            "NodeType": "DataSink",
            "LineNumber": 47,
            "Args": [
                {"Name": "database", "Value": '"curated"', "Param": False},
                {"Name": "table_name", "Value": '"Orders"', "Param": False},
            ],
        },
        {
            "Id": "datasink6",
            "NodeType": "DataSink",
            "LineNumber": 49,
            "Args": [
                {"Name": "database", "Value": '"curated"', "Param": False},
                {"Name": "table_name", "Value": "args['target']", "Param": False},
            ],
        },
    ],
    "DagEdges": [
        {"Source": "datasource0", "Target": "applymapping1", "TargetParameter": "frame"},
        {"Source": "applymapping1", "Target": "datasink4", "TargetParameter": "frame"},
        {"Source": "applymapping1", "Target": "datasink5", "TargetParameter": "frame"},
    ],
}


def test_dataflow_graph_sources_and_sinks() -> None:
    result = dataflow_lineage(DATAFLOW_GRAPH)

    assert result.sources == (table("sales", "orders_raw"), s3("s3://acme-raw/refunds"))
    assert result.targets == (s3("s3://acme-curated/orders"), table("curated", "orders"))
    assert result.unresolved == ("DataSink datasink6: table_name not a Python literal",)
    assert result.problem is None


def test_dataflow_graph_sink_with_catalog_info_keeps_its_path() -> None:
    graph = {
        "DagNodes": [
            {
                "Id": "sink",
                "NodeType": "DataSink",
                "Args": [
                    {"Name": "path", "Value": '"s3://out/daily/"'},
                    {"Name": "catalogDatabase", "Value": '"Curated"'},
                    {"Name": "catalogTableName", "Value": '"daily"'},
                ],
            }
        ],
        "DagEdges": [],
    }

    assert dataflow_lineage(graph).targets == (table("curated", "daily", "s3://out/daily"),)


@pytest.mark.parametrize("graph", [{}, {"DagNodes": None}, {"DagNodes": "nodes"}])
def test_a_dataflow_graph_without_nodes_is_a_problem(graph: dict[str, object]) -> None:
    assert dataflow_lineage(graph).problem == "the dataflow graph has no DagNodes list"


def test_a_dataflow_graph_with_malformed_entries_does_not_raise() -> None:
    graph = {
        "DagNodes": [
            None,
            "x",
            {"NodeType": "DataSink", "Args": 7},
            {"NodeType": "DataSource", "Args": [None, {"Name": 3}, {"Name": "database"}]},
        ]
    }

    assert dataflow_lineage(graph) == ScriptLineage(sources=(), targets=(), unresolved=(
        "DataSource None: database not a Python literal",
    ))
