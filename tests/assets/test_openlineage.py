"""OpenLineage events into lineage (POST /events/openlineage/{connector}/api/v1/lineage), on a live server.

pyatlan 10.0.0's `client.open_lineage.send` and raw JSON over HTTP, against a catalog a pyatlan-run crawl of
the sample catalog filled (tests/assets/conftest.py): sales.orders, analytics.daily_sales and the rest.
"""

from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa

from gazetteer.devtools.sample_catalog import ACCOUNT, LAKE
from gazetteer.store import assets, open_engine
from tests.workflows.test_workflow_api import token

REGION = "ap-south-1"  # the crawled fixture's
GLUE = f"arn:aws:glue:{REGION}:{ACCOUNT}"
HIVE = "hive://metastore:9083"
PATH = "/events/openlineage/spark/api/v1/lineage"


def _table(catalog, database: str, name: str) -> str:
    return next(qn for qn in catalog["Table"] if qn.endswith(f"/AwsDataCatalog/{database}/{name}"))


def _stored(server, prefix: str) -> dict[str, dict]:
    """The active assets under `prefix`, straight from the store: qualifiedName → row."""
    engine = open_engine(server.database_url, migrate=False)
    query = (sa.select(assets.c.qualified_name, assets.c.guid, assets.c.type_name, assets.c.name, assets.c.attributes)
             .where(assets.c.qualified_name.startswith(prefix, autoescape=True), assets.c.status == "ACTIVE"))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    engine.dispose()
    return {row.qualified_name: row._asdict() for row in rows}


def _sides(row: dict) -> tuple:
    """(qualified names of the inputs, of the outputs) of a stored process."""
    return tuple({ref["uniqueAttributes"]["qualifiedName"] for ref in row["attributes"][key]}
                 for key in ("inputs", "outputs"))


def _event(job: str, inputs: list, outputs: list, *, event_type: str = "COMPLETE",
           time: str = "2024-05-01T06:00:00Z", namespace: str = "airflow-prod") -> dict:
    return {"eventType": event_type, "eventTime": time, "producer": "https://example.com/tests",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "run": {"runId": str(uuid.uuid4())}, "job": {"namespace": namespace, "name": job},
            "inputs": inputs, "outputs": outputs}


def _hive(name: str) -> dict:
    return {"namespace": HIVE, "name": name}


def _glue(database: str, table: str) -> dict:
    return {"namespace": GLUE, "name": f"table/{database}/{table}"}


def test_pyatlan_sends_a_spark_job_and_its_lineage_is_walked(crawled, server):
    from pyatlan.errors import InvalidRequestError
    from pyatlan.model.enums import AtlanConnectorType, OpenLineageEventType
    from pyatlan.model.lineage import LineageListRequest
    from pyatlan.model.open_lineage import OpenLineageEvent, OpenLineageJob, OpenLineageRun

    client, _, catalog = crawled
    (connection,) = catalog["Connection"]
    orders, daily_sales = _table(catalog, "sales", "orders"), _table(catalog, "analytics", "daily_sales")
    # What Spark's listener reports for a table read through the Glue catalog: its S3 location, with a symlink.
    job = OpenLineageJob.creator(connection_name="spark-prod", job_name="daily_sales_job",
                                 producer="https://github.com/OpenLineage/OpenLineage/tree/1.19.0/integration/spark")
    source = job.create_input(namespace=LAKE, asset_name="sales/orders")
    source.facets = {"symlinks": {"identifiers": [{"namespace": GLUE, "name": "table/sales/orders",
                                                   "type": "TABLE"}]}}
    target = job.create_output(namespace=GLUE, asset_name="table/analytics/daily_sales")
    target.to_fields = [{"revenue": [source.from_field("amount")]},
                        {"region": [source.from_field("region")]},
                        {"dt": [source.from_field("ordered_at"), source.from_field("dt")]},
                        {"not_a_column": [source.from_field("amount")]}]
    event = OpenLineageEvent.creator(run=OpenLineageRun.creator(job=job), event_type=OpenLineageEventType.COMPLETE)
    event.inputs, event.outputs = [source], [target]
    client.open_lineage.send(event, AtlanConnectorType.SPARK)  # raises unless 202

    process_qn = f"{connection}/openlineage/spark-prod/daily_sales_job"
    stored = _stored(server, process_qn)
    process = stored.pop(process_qn)
    assert process["type_name"] == "Process" and process["name"] == "daily_sales_job"
    assert _sides(process) == ({orders}, {daily_sales})
    context = json.loads(process["attributes"]["additionalEtlContext"])
    assert context["runId"] == event.run.run_id and context["eventType"] == "COMPLETE"
    assert context["connector"] == "spark" and context["jobNamespace"] == "spark-prod"
    # A column process per output column computed from columns that exist, beneath the process.
    assert {qn: _sides(row) for qn, row in stored.items()} == {
        f"{process_qn}/revenue": ({f"{orders}/amount"}, {f"{daily_sales}/revenue"}),
        f"{process_qn}/region": ({f"{orders}/region"}, {f"{daily_sales}/region"}),
        f"{process_qn}/dt": ({f"{orders}/ordered_at", f"{orders}/dt"}, {f"{daily_sales}/dt"}),
    }
    assert all(row["type_name"] == "ColumnProcess" and row["attributes"]["process"]["guid"] == process["guid"]
               for row in stored.values())

    # pyatlan walks it: downstream of orders, the process and daily_sales.
    request = LineageListRequest.create(guid=catalog["Table"][orders])
    request.depth, request.size = 1, 50
    downstream = {(a.type_name, a.qualified_name) for a in client.asset.get_lineage_list(request)}
    assert {("Process", process_qn), ("Table", daily_sales)} <= downstream
    revenue = LineageListRequest.create(guid=catalog["Column"][f"{orders}/amount"])
    revenue.depth, revenue.size = 1, 50
    assert ("Column", f"{daily_sales}/revenue") in {(a.type_name, a.qualified_name)
                                                    for a in client.asset.get_lineage_list(revenue)}

    # A malformed event is refused (400), and pyatlan raises.
    with pytest.raises(InvalidRequestError, match=r"job\.name is required"):
        client.open_lineage.send({"eventType": "COMPLETE", "job": {"namespace": "spark-prod"}},
                                 AtlanConnectorType.SPARK)


def test_raw_events_replace_what_a_job_reads_and_writes_and_survive_a_recrawl(crawled, server):
    from pyatlan.model.enums import AtlanWorkflowPhase, WorkflowPackage

    client, workflow, catalog = crawled
    (connection,) = catalog["Connection"]
    http = server.client()
    orders, line_items = _table(catalog, "sales", "orders"), _table(catalog, "sales", "line_items")
    daily_sales, wide_events = _table(catalog, "analytics", "daily_sales"), _table(catalog, "analytics", "wide_events")
    process_qn = f"{connection}/openlineage/airflow-prod/sales_dag.daily_sales"

    # Hive naming, and an S3 path elsewhere whose symlink names the table (a copy Spark staged, say).
    staged = {"namespace": "s3a://spark-warehouse", "name": "/sales.db/line_items",
              "facets": {"symlinks": {"identifiers": [{**_hive("sales.line_items"), "type": "TABLE"}]}}}
    first = _event("sales_dag.daily_sales", [_hive("sales.orders"), staged], [_glue("analytics", "daily_sales")])
    answer = http.post(PATH, json=first)
    assert answer.status_code == 202 and answer.headers["content-type"].startswith("text/plain"), answer.text
    assert answer.text == "accepted 1 event; 1 process written"
    process = _stored(server, process_qn)[process_qn]
    assert _sides(process) == ({orders, line_items}, {daily_sales})

    # The job's next run writes elsewhere (an S3 file inside a table's location): its outputs are replaced.
    second = _event("sales_dag.daily_sales", [_hive("sales.orders")],
                    [{"namespace": LAKE, "name": "analytics/wide_events/part-0001.parquet"}],
                    time="2024-05-02T06:00:00Z")
    assert http.post(PATH, json=second).text == "accepted 1 event; 1 process written"
    updated = _stored(server, process_qn)[process_qn]
    assert updated["guid"] == process["guid"] and _sides(updated) == ({orders}, {wide_events})

    # A late event of an earlier run, and a failed run, change nothing.
    late = _event("sales_dag.daily_sales", [], [_glue("analytics", "daily_sales")], time="2024-05-01T12:00:00Z")
    failed = _event("sales_dag.daily_sales", [], [_glue("analytics", "daily_sales")], event_type="FAIL",
                    time="2024-05-03T06:00:00Z")
    answer = http.post(PATH, json=[late, failed])
    assert answer.status_code == 202
    assert answer.text == ("accepted 2 events; 0 processes written; 1 FAIL or ABORT event recorded nothing; "
                           "1 event older than its job's latest left out")
    assert _sides(_stored(server, process_qn)[process_qn]) == ({orders}, {wide_events})

    # Datasets that are no crawled table: 202 all the same, saying so, and nothing written.
    unknown = _event("sales_dag.unknown", [{"namespace": "s3://other-bucket", "name": "x/y"}],
                     [_hive("nope.missing"), _glue("sales", "missing"),
                      {"namespace": "arn:aws:glue:eu-west-1:123456789012", "name": "table/sales/orders"}])
    answer = http.post(PATH, json=unknown)
    assert answer.status_code == 202
    assert answer.text == (
        "accepted 1 event; 0 processes written; 1 event without a dataset in the catalog recorded nothing; "
        "unresolved datasets: s3://other-bucket/x/y, hive://metastore:9083:nope.missing, "
        f"{GLUE}:table/sales/missing, arn:aws:glue:eu-west-1:123456789012:table/sales/orders")
    assert _stored(server, f"{connection}/openlineage/airflow-prod/sales_dag.unknown") == {}

    # One job's START and COMPLETE in one request: the later one is recorded; '/' in names is escaped.
    start = _event("jobs/hourly", [_hive("sales.orders")], [], event_type="START", namespace="spark://emr:7077",
                   time="2024-05-04T06:00:00Z")
    complete = _event("jobs/hourly", [_hive("sales.orders")], [_hive("analytics.daily_sales")],
                      namespace="spark://emr:7077", time="2024-05-04T06:05:00.123456789Z")
    assert http.post(PATH, json=[complete, start]).text == (
        "accepted 2 events; 1 process written; 1 event older than its job's latest left out")
    hourly_qn = f"{connection}/openlineage/spark:%2F%2Femr:7077/jobs%2Fhourly"
    assert _sides(_stored(server, hourly_qn)[hourly_qn]) == ({orders}, {daily_sales})

    # Callers who may not create assets in the connection: 403, nothing written.
    before = _stored(server, f"{connection}/openlineage/")
    for who, role, message in (("mallory", "$member", "is not an admin of connection 'production'"),
                               ("reader", "$guest", "has read-only access")):
        outsider = server.client(token=token(server, who, role))
        answer = outsider.post(PATH, json=_event("sales_dag.daily_sales", [], [_hive("sales.customers")],
                                                 time="2024-06-01T00:00:00Z"))
        assert answer.status_code == 403 and message in answer.json()["errorMessage"], answer.text
    assert _stored(server, f"{connection}/openlineage/") == before

    # A re-crawl keeps it: it is not lineage the crawl derives.
    existing = client.workflow.find_by_type(prefix=WorkflowPackage.GLUE, max_results=5)
    assert existing[0].id == workflow
    assert client.workflow.monitor(client.workflow.rerun(existing[0])) == AtlanWorkflowPhase.SUCCESS
    assert _stored(server, f"{connection}/openlineage/") == before


MALFORMED = [
    (b"", "The body is empty"),
    (b"{not json", "The body is not valid JSON"),
    (b"42", "The body is a JSON int"),
    (b"[]", "The body is an empty list"),
    (b"[1]", "events[0] must be a JSON object"),
    (b"{}", "event.job is missing (required)"),
    (b'{"dataset": {"namespace": "s3://b", "name": "k"}}', "a dataset event; only run events are accepted"),
    (b'{"job": {"namespace": "x"}}', "event.job.name is required: a non-empty string"),
    (b'{"job": {"namespace": "x", "name": " "}}', "event.job.name must not be empty"),
    (b'{"job": {"namespace": "x", "name": 7}}', "event.job.name must be a string, not a JSON int"),
    (b'{"job": {"name": "j"}}', "event.job.namespace is required"),
    (b'{"job": {"namespace": "x", "name": "j"}, "eventType": "DONE"}', "event.eventType 'DONE' is not one of"),
    (b'{"job": {"namespace": "x", "name": "j"}, "eventTime": "yesterday"}', "is not an ISO 8601 date-time"),
    (b'{"job": {"namespace": "x", "name": "j"}, "inputs": {}}', "event.inputs must be a list of datasets"),
    (b'[{"job": {"namespace": "x", "name": "j"}}, {"job": {"namespace": "x", "name": "j"}, '
     b'"outputs": [{"name": "t"}]}]', "events[1].outputs[0].namespace is required"),
]


def test_bad_requests_are_refused_with_what_is_wrong(server):
    http = server.client()
    for body, message in MALFORMED:
        answer = http.post(PATH, content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 400 and message in answer.json()["errorMessage"], (body, answer.text)
    event = _event("j", [], [_hive("sales.orders")])
    too_many = {"job": {"namespace": "x", "name": "j"}, "inputs": [_hive(f"db.t{i}") for i in range(1001)]}
    for url, body, status, message in (
        (PATH, [event] * 101, 400, "The body holds 101 events; send at most 100 per request."),
        (PATH, too_many, 400, "event names 1,001 datasets; at most 1,000"),
        (PATH, {"job": {"namespace": "x", "name": "j" * 1001}}, 400, "event.job.name is 1,001 characters long"),
        ("/events/openlineage/Spark_3/api/v1/lineage", event, 400, "Unknown connector 'Spark_3' in the path"),
        (PATH, {"job": {"namespace": "x", "name": "j" * 6_000_000}}, 413, "The request body is larger than"),
    ):
        answer = http.post(url, json=body)
        assert answer.status_code == status and message in answer.json()["errorMessage"], answer.text
    anonymous = server.client(token="")
    assert anonymous.post(PATH, json=event).status_code == 401
    # Any plausible connector name; no Glue connection at all: accepted, nothing recorded.
    answer = http.post("/events/openlineage/my-own-tool/api/v1/lineage", json=event)
    assert answer.status_code == 202
    assert answer.text == ("accepted 1 event; 0 processes written; 1 event without a dataset in the catalog "
                           "recorded nothing; unresolved datasets: hive://metastore:9083:sales.orders")
