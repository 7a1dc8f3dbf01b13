"""Column statistics: read from a local Glue over HTTP (GetColumnStatisticsForTable), mapped to Atlan's column
attributes, kept in a real catalog (SQLite file and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from gazetteer.devtools.statements import statements
from gazetteer.packages.glue.config import parse_config
from gazetteer.packages.glue.crawl import crawl
from gazetteer.packages.glue.statistics import statistics_attributes
from gazetteer.store import assets

REGION = "us-east-1"
ANALYZED = datetime(2024, 5, 4, 6, 0, tzinfo=UTC)
COLUMNS = ("id:bigint", "score:double", "price:decimal(10,2)", "day:date", "name:string", "blob:binary",
           "active:boolean", "note:string")


def _config(**overrides):
    values = {"connection_name": "lake", "region": REGION, "access_key": "AKIATEST", "secret_key": "s3cr3t"}
    return parse_config(**{**values, **overrides})


def _table(client, database: str, name: str, columns=COLUMNS, **extra) -> None:
    specs = [{"Name": spec.split(":")[0], "Type": spec.split(":", 1)[1]} for spec in columns]
    client.create_table(DatabaseName=database, TableInput={
        "Name": name, "TableType": "EXTERNAL_TABLE", "StorageDescriptor": {"Columns": specs}, **extra})


def _statistics(name: str, kind: str, **values) -> dict:
    return {"ColumnName": name, "ColumnType": kind.lower(), "AnalyzedTime": ANALYZED,
            "StatisticsData": {"Type": kind, f"{kind.capitalize()}ColumnStatisticsData": values}}


def _decimal(value: str) -> dict:
    number = Decimal(value)
    scale = -int(number.as_tuple().exponent)
    unscaled = int(number.scaleb(scale))
    return {"UnscaledValue": unscaled.to_bytes(8, "big", signed=True), "Scale": scale}


def _every_kind(distinct: int = 1000) -> list[dict]:
    return [
        _statistics("id", "LONG", MinimumValue=-5, MaximumValue=3_000_000_000, NumberOfNulls=0,
                    NumberOfDistinctValues=3_000_000_000),
        _statistics("score", "DOUBLE", MinimumValue=0.25, MaximumValue=99.5, NumberOfNulls=4,
                    NumberOfDistinctValues=distinct),
        _statistics("price", "DECIMAL", MinimumValue=_decimal("-12.50"), MaximumValue=_decimal("4999.99"),
                    NumberOfNulls=0, NumberOfDistinctValues=870),
        _statistics("day", "DATE", MinimumValue=datetime(2023, 1, 1, tzinfo=UTC),
                    MaximumValue=datetime(2024, 5, 3, tzinfo=UTC), NumberOfNulls=1, NumberOfDistinctValues=489),
        _statistics("name", "STRING", MaximumLength=64, AverageLength=11.5, NumberOfNulls=2, NumberOfDistinctValues=40),
        _statistics("blob", "BINARY", MaximumLength=2048, AverageLength=512.25, NumberOfNulls=7),
        _statistics("active", "BOOLEAN", NumberOfTrues=30, NumberOfFalses=70, NumberOfNulls=3),
    ]


def _seed(client, databases=("sales",), tables=("orders",), statistics=None) -> None:
    for database in databases:
        client.create_database(DatabaseInput={"Name": database})
        for name in tables:
            _table(client, database, name)
            client.update_column_statistics_for_table(DatabaseName=database, TableName=name,
                                                      ColumnStatisticsList=statistics or _every_kind())


def _columns(engine, table: str) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(assets.c.name, assets.c.attributes).where(
            assets.c.type_name == "Column", assets.c.status == "ACTIVE",
            assets.c.qualified_name.like(f"%/AwsDataCatalog/{table}/%")))
        return {name: attributes for name, attributes in rows}


def _statistics_of(attributes: dict) -> dict:
    return {key: value for key, value in attributes.items() if key.startswith("column")}


def test_statistics_are_mapped_by_kind_to_atlan_names(glue, engine, glue_settings):
    _seed(glue.client(REGION))
    report = crawl(engine, _config(), settings=glue_settings)
    assert report.status == "Succeeded" and report.warnings == []
    columns = {name: _statistics_of(attributes) for name, attributes in _columns(engine, "sales/orders").items()}
    assert columns == {
        # 3 billion is more than Atlan's int counts hold: only the Long twin has it.
        "id": {"columnDistinctValuesCountLong": 3_000_000_000, "columnMissingValuesCount": 0,
               "columnMissingValuesCountLong": 0, "columnMin": -5, "columnMax": 3_000_000_000},
        "score": {"columnDistinctValuesCount": 1000, "columnDistinctValuesCountLong": 1000,
                  "columnMissingValuesCount": 4, "columnMissingValuesCountLong": 4, "columnMin": 0.25,
                  "columnMax": 99.5},
        "price": {"columnDistinctValuesCount": 870, "columnDistinctValuesCountLong": 870,
                  "columnMissingValuesCount": 0, "columnMissingValuesCountLong": 0, "columnMin": -12.5,
                  "columnMax": 4999.99},
        "day": {"columnDistinctValuesCount": 489, "columnDistinctValuesCountLong": 489,
                "columnMissingValuesCount": 1, "columnMissingValuesCountLong": 1, "columnMins": ["2023-01-01"],
                "columnMaxs": ["2024-05-03"]},
        "name": {"columnDistinctValuesCount": 40, "columnDistinctValuesCountLong": 40,
                 "columnMissingValuesCount": 2, "columnMissingValuesCountLong": 2, "columnAverageLength": 11.5,
                 "columnMaximumStringLength": 64},
        "blob": {"columnMissingValuesCount": 7, "columnMissingValuesCountLong": 7, "columnAverageLength": 512.25,
                 "columnMaximumStringLength": 2048},
        "active": {"columnMissingValuesCount": 3, "columnMissingValuesCountLong": 3, "columnTopValues": [
            {"columnValue": "false", "columnValueFrequency": 70}, {"columnValue": "true", "columnValueFrequency": 30}]},
        "note": {},  # Glue has none for it: it is in the answer's Errors, and nothing is made up
    }


@pytest.mark.parametrize("data", [
    {"StatisticsData": {"Type": "LONG", "LongColumnStatisticsData": {"NumberOfNulls": -1, "MinimumValue": True}}},
    {"StatisticsData": {"Type": "DOUBLE", "DoubleColumnStatisticsData": {"MaximumValue": float("inf")}}},
    {"StatisticsData": {"Type": "DECIMAL", "DecimalColumnStatisticsData": {"MinimumValue": {"Scale": 2}}}},
    {"StatisticsData": {"Type": "TIMESTAMP", "TimestampColumnStatisticsData": {"NumberOfNulls": 1}}},
    {"StatisticsData": "nonsense"}, {},
])
def test_statistics_glue_does_not_give_or_that_make_no_sense_are_left_out(data):
    assert statistics_attributes(data) == {}


def test_one_call_per_hundred_columns_and_none_for_views_and_links(glue, engine, glue_settings):
    client = glue.client(REGION)
    client.create_database(DatabaseInput={"Name": "wide"})
    _table(client, "wide", "t250", columns=[f"c{i:03d}:bigint" for i in range(248)],
           PartitionKeys=[{"Name": "dt", "Type": "string"}, {"Name": "hour", "Type": "string"}])
    client.update_column_statistics_for_table(DatabaseName="wide", TableName="t250", ColumnStatisticsList=[
        _statistics(name, "LONG", NumberOfNulls=0, NumberOfDistinctValues=i) for i, name in
        enumerate(("c000", "c150", "c247", "hour"), start=1)])
    _table(client, "wide", "empty", columns=())
    _table(client, "wide", "v", columns=("id:bigint",), TableType="VIRTUAL_VIEW", ViewOriginalText="SELECT 1")
    client.create_table(DatabaseName="wide", TableInput={"Name": "link", "TargetTable": {
        "CatalogId": "210987654321", "DatabaseName": "other", "Name": "t"}})
    glue.clear_requests()
    report = crawl(engine, _config(), settings=glue_settings)
    assert report.status == "Succeeded" and report.warnings == []
    calls = [call["body"] for call in glue.requests("GetColumnStatisticsForTable")]
    assert [(body["TableName"], len(body["ColumnNames"])) for body in calls] == [("t250", 100)] * 2 + [("t250", 50)]
    asked = [name for body in calls for name in body["ColumnNames"]]
    assert asked == [f"c{i:03d}" for i in range(248)] + ["dt", "hour"]
    columns = _columns(engine, "wide/t250")
    assert {name: a["columnDistinctValuesCount"] for name, a in columns.items() if "columnDistinctValuesCount" in a} \
        == {"c000": 1, "c150": 2, "c247": 3, "hour": 4}


@pytest.mark.parametrize(("code", "status"), [("AccessDeniedException", 400), ("UnknownOperationException", 400),
                                              ("InternalServiceException", 500)])
def test_a_refused_or_failing_call_is_one_warning_and_ends_asking(glue, engine, glue_settings, code, status):
    client = glue.client(REGION)
    _seed(client, databases=("alpha", "beta"), tables=("t0", "t1", "t2"))
    first = crawl(engine, _config(), settings=glue_settings)
    assert first.status == "Succeeded" and _columns(engine, "alpha/t0")["id"]["columnMin"] == -5
    client.update_column_statistics_for_table(DatabaseName="alpha", TableName="t1", ColumnStatisticsList=_every_kind(7))
    glue.set_faults([{"operation": "GetColumnStatisticsForTable", "status": status, "code": code,
                      "message": "User is not authorized to perform glue:GetColumnStatisticsForTable"}])
    glue.clear_requests()
    refused = crawl(engine, _config(), settings=glue_settings)
    assert refused.status == "Succeeded" and refused.warnings_total == 1, refused.warnings
    (warning,) = refused.warnings
    assert warning["code"] == code and warning["iam_action"] == "glue:GetColumnStatisticsForTable"
    assert warning["operation"] == "GetColumnStatisticsForTable" and "goes on without column statistics" in \
        warning["message"]
    if code == "AccessDeniedException":
        assert "grant glue:GetColumnStatisticsForTable" in warning["message"]
    # The first failure ends the asking (each table would fail alike): only tables already in flight then ask,
    # not all six.
    calls = glue.requests("GetColumnStatisticsForTable")
    assert len({(call["body"]["DatabaseName"], call["body"]["TableName"]) for call in calls}) < 6
    # Statistics unknown this time are kept as they were, not dropped; the change in t1's went unseen.
    for table in ("alpha/t0", "alpha/t1", "beta/t2"):
        score = _columns(engine, table)["score"]
        assert score["columnDistinctValuesCount"] == 1000 and score["columnMin"] == 0.25
    glue.clear_faults()
    seen = crawl(engine, _config(), settings=glue_settings)
    assert seen.warnings == [] and _columns(engine, "alpha/t1")["score"]["columnDistinctValuesCount"] == 7


def test_a_table_without_statistics_is_silent(glue, engine, glue_settings):
    client = glue.client(REGION)
    client.create_database(DatabaseInput={"Name": "sales"})
    _table(client, "sales", "plain")  # no statistics: Glue answers EntityNotFoundException
    _table(client, "sales", "orders")
    client.update_column_statistics_for_table(DatabaseName="sales", TableName="orders",
                                              ColumnStatisticsList=_every_kind())
    glue.set_faults([{"operation": "GetColumnStatisticsForTable", "table": "orders",
                      "code": "EntityNotFoundException", "message": "Table orders not found", "times": 1}])
    report = crawl(engine, _config(), settings=glue_settings)
    assert report.status == "Succeeded" and report.warnings == []
    assert not any(_statistics_of(a) for a in _columns(engine, "sales/plain").values())
    assert not any(_statistics_of(a) for a in _columns(engine, "sales/orders").values())  # dropped, as it seemed
    assert len(glue.requests("GetColumnStatisticsForTable")) == 2  # and asking went on
    again = crawl(engine, _config(), settings=glue_settings)
    assert again.changes["updated"] == 1 + 7  # the table (its source) and its columns with statistics
    assert _columns(engine, "sales/orders")["id"]["columnMin"] == -5


def test_a_change_in_statistics_alone_maps_the_table_again(glue, engine, glue_settings):
    client = glue.client(REGION)
    _seed(client, tables=("orders", "customers"))
    first = crawl(engine, _config(), settings=glue_settings)
    with statements(engine, r"^\s*(?i:INSERT|UPDATE|DELETE)\b") as written:
        same = crawl(engine, _config(), settings=glue_settings)
    assert written == [] and same.changes["unchanged"] == first.changes["created"]
    client.update_column_statistics_for_table(DatabaseName="sales", TableName="orders", ColumnStatisticsList=[
        _statistics("score", "DOUBLE", MinimumValue=-1.0, MaximumValue=12.0, NumberOfNulls=0,
                    NumberOfDistinctValues=5)])
    changed = crawl(engine, _config(), settings=glue_settings)
    assert changed.status == "Succeeded" and changed.changes["updated"] == 2  # the table (its source) and the column
    assert changed.changes["unchanged"] == first.changes["created"] - 2
    score = _columns(engine, "sales/orders")["score"]
    assert (score["columnMin"], score["columnMax"], score["columnDistinctValuesCount"]) == (-1.0, 12.0, 5)
    assert _columns(engine, "sales/customers")["score"]["columnDistinctValuesCount"] == 1000
