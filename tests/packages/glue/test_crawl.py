"""The Glue crawl end to end: a local Glue over HTTP, a real catalog (SQLite file and PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gazetteer.devtools.sample_catalog import seed_sample_catalog
from gazetteer.errors import InvalidRequest
from gazetteer.packages.glue.config import parse_config
from gazetteer.packages.glue.crawl import crawl
from gazetteer.store import assets

REGION = "us-east-1"


def _config(**overrides):
    values = {"connection_name": "prod-lake", "region": REGION, "access_key": "AKIATEST", "secret_key": "s3cr3t"}
    return parse_config(**{**values, **overrides})


def _assets(engine, status="ACTIVE") -> dict[str, sa.Row]:
    with engine.connect() as conn:
        return {row.qualified_name: row for row in conn.execute(sa.select(assets).where(assets.c.status == status))}


def _table(client, database, name, columns=("id:bigint",), partition_keys=(), **extra):
    def cols(specs):
        return [{"Name": s.split(":")[0], "Type": s.split(":", 1)[1]} for s in specs]

    table = {"Name": name, "TableType": "EXTERNAL_TABLE", "PartitionKeys": cols(partition_keys),
             "StorageDescriptor": {"Columns": cols(columns), "Location": f"s3://bucket/{database}/{name}/"}, **extra}
    client.create_table(DatabaseName=database, TableInput=table)


def _small_catalog(client, databases=("alpha", "beta", "gamma"), tables=3):
    for db in databases:
        client.create_database(DatabaseInput={"Name": db})
        for n in range(tables):
            _table(client, db, f"t{n}", columns=("id:bigint", "name:string"))


def test_every_asset_kind_and_attribute(glue, engine, settings):
    seed_sample_catalog(glue.client(REGION))
    report = crawl(engine, _config(), settings=settings)
    assert report.status == "Succeeded", report.to_dict()
    qn = report.connection_qualified_name
    assert qn.startswith("default/glue/") and len(qn.rsplit("/", 1)[1]) == 10
    found = _assets(engine)
    db = f"{qn}/AwsDataCatalog"

    connection = found[qn]
    assert connection.type_name == "Connection" and connection.name == "prod-lake"
    assert connection.attributes["connectorName"] == "glue" and connection.attributes["category"] == "lake"
    assert found[db].type_name == "Database"
    assert found[db].attributes["schemaCount"] == report.counts["schemas"] == 4

    sales = found[f"{db}/sales"]
    assert sales.type_name == "Schema" and sales.attributes["tableCount"] == 5
    assert found[f"{db}/staging_empty"].attributes["tableCount"] == 0
    assert found[f"{db}/shared_marketing"].attributes["isResourceLink"] is True

    orders = found[f"{db}/sales/orders"]
    a = orders.attributes
    assert orders.type_name == "Table" and a["externalLocationFormat"] == "parquet"
    assert a["isPartitioned"] is True and a["partitionCount"] == 6
    assert a["rowCount"] > 0 and a["sizeBytes"] > 0 and a["externalLocation"].startswith("s3://")
    assert a["sourceCreatedAt"] > 1_600_000_000_000 and a["schemaQualifiedName"] == f"{db}/sales"
    assert a["connectionQualifiedName"] == qn and a["columnCount"] == len(
        [q for q in found if q.startswith(f"{db}/sales/orders/")])
    dt = found[f"{db}/sales/orders/dt"].attributes
    assert dt["isPartition"] is True and dt["partitionOrder"] == 1 and dt["tableQualifiedName"] == orders.qualified_name
    formats = {name: found[f"{db}/sales/{name}"].attributes["externalLocationFormat"]
               for name in ("customers", "events", "line_items", "clicks")}
    assert formats == {"customers": "csv", "events": "json", "line_items": "orc", "clicks": "avro"}
    assert any(row.attributes.get("description") for q, row in found.items() if q.startswith(f"{db}/sales/orders/"))

    athena = found[f"{db}/analytics/daily_revenue"]
    assert athena.type_name == "View" and athena.attributes["definition"].lstrip().upper().startswith("SELECT")
    assert found[f"{db}/analytics/top_customers"].attributes["definition"].lstrip().upper().startswith("SELECT")
    assert found[f"{db}/analytics"].attributes["viewsCount"] == 2
    assert f"{db}/analytics/inventory/legacy_sku" not in found
    assert found[f"{db}/analytics/inventory"].attributes["tableType"] == "ICEBERG"
    shipments = [q.rsplit("/", 1)[1] for q in found if q.startswith(f"{db}/analytics/shipments/")]
    assert "col" not in shipments and len(shipments) > 2
    wide = [row for q, row in found.items() if q.startswith(f"{db}/analytics/wide_events/")]
    types = [row.attributes["dataType"] for row in wide]
    assert any(" " not in kind.replace("`user id`", "") and "struct<" in kind for kind in types)
    assert found[f"{db}/analytics/partner_orders"].attributes["isResourceLink"] is True
    assert report.counts["views"] == 2 and report.counts["columns"] == sum(
        1 for row in found.values() if row.type_name == "Column")
    assert report.changes["created"] == len(found) and report.warnings == []


def test_include_exclude_follow_the_seed_rules(glue, engine, settings):
    _small_catalog(glue.client(REGION), tables=1)
    report = crawl(engine, _config(include=["alpha", "beta"], exclude=["beta"]), settings=settings)
    schemas = {row.name for row in _assets(engine).values() if row.type_name == "Schema"}
    assert report.status == "Succeeded" and schemas == {"alpha"}
    report = crawl(engine, _config(connection_name="other", exclude=["gamma"]), settings=settings)
    schemas = {row.name for row in _assets(engine).values()
               if row.type_name == "Schema" and row.connection_qualified_name == report.connection_qualified_name}
    assert schemas == {"alpha", "beta"}


def test_every_list_call_pages_and_carries_catalog_id(glue, engine, settings):
    _small_catalog(glue.client(REGION), databases=("alpha",), tables=7)
    glue.clear_requests()
    report = crawl(engine, _config(catalog_id="123456789012"), settings=settings)
    assert report.status == "Succeeded" and report.counts["tables"] == 7
    calls = glue.requests()
    operations = {call["operation"] for call in calls}
    assert "SearchTables" not in operations
    get_tables = [call["body"] for call in calls if call["operation"] == "GetTables"]
    assert len(get_tables) == 4 and sum("NextToken" in body for body in get_tables) == 3
    assert all(call["body"].get("CatalogId") == "123456789012" for call in calls)
    assert all(body.get("MaxResults") for body in get_tables)
    assert _assets(engine)[f"{report.connection_qualified_name}/123456789012"].type_name == "Database"


def test_throttling_gives_the_same_catalog(glue, engine, settings):
    _small_catalog(glue.client(REGION))
    calm = crawl(engine, _config(connection_name="calm"), settings=settings)
    glue.set_faults([{"operation": op, "probability": 0.3, "seed": 7, "status": 400, "code": "ThrottlingException",
                      "message": "Rate exceeded"} for op in ("GetDatabases", "GetTables", "GetPartitions")])
    patient = settings.model_copy(update={"glue_max_attempts": 12})
    stormy = crawl(engine, _config(connection_name="stormy"), settings=patient)
    assert stormy.status == "Succeeded" and stormy.throttled > 0 and stormy.warnings == []

    def shape(qn):
        return {(row.qualified_name.removeprefix(qn), row.content_hash) for row in _assets(engine).values()
                if row.connection_qualified_name == qn and row.type_name != "Connection"}

    assert shape(calm.connection_qualified_name) and stormy.counts == calm.counts
    calm_shape = {(name, digest) for name, digest in shape(calm.connection_qualified_name)}
    assert {name for name, _ in shape(stormy.connection_qualified_name)} == {name for name, _ in calm_shape}


def test_failed_listings_warn_and_archive_nothing_there(glue, engine, settings):
    client = glue.client(REGION)
    _small_catalog(client, tables=5)
    first = crawl(engine, _config(), settings=settings)
    for db in ("alpha", "beta", "gamma"):
        client.delete_table(DatabaseName=db, Name="t4")
    glue.set_faults([
        {"operation": "GetTables", "database": "alpha", "page": 1, "status": 500, "code": "InternalServiceException"},
        {"operation": "GetTables", "database": "beta", "status": 400, "code": "AccessDeniedException",
         "message": "User is not authorized to perform glue:GetTables"},
    ])
    report = crawl(engine, _config(), settings=settings)
    assert report.status == "Succeeded"
    qn = first.connection_qualified_name
    active = _assets(engine)
    assert f"{qn}/AwsDataCatalog/alpha/t4" in active and f"{qn}/AwsDataCatalog/beta/t4" in active
    assert f"{qn}/AwsDataCatalog/gamma/t4" not in active and report.changes["archived"] == 3  # table + 2 columns
    denied = [w for w in report.warnings if w.get("code") == "AccessDeniedException"]
    assert denied and denied[0]["database"] == "beta" and denied[0]["iam_action"] == "glue:GetTables"
    assert any(w.get("code") == "InternalServiceException" and w["database"] == "alpha" for w in report.warnings)


def test_recrawl_updates_archives_and_restores(glue, engine, settings):
    client = glue.client(REGION)
    _small_catalog(client, databases=("alpha",), tables=4)
    first = crawl(engine, _config(), settings=settings)
    before = _assets(engine)
    again = crawl(engine, _config(), settings=settings)
    assert again.changes == {"created": 0, "updated": 0, "archived": 0, "restored": 0, "unchanged": len(before)}
    assert {q: r.updated_at for q, r in _assets(engine).items()} == {q: r.updated_at for q, r in before.items()}

    qn = f"{first.connection_qualified_name}/AwsDataCatalog/alpha"
    client.delete_table(DatabaseName="alpha", Name="t0")
    client.update_table(DatabaseName="alpha", TableInput={
        "Name": "t1", "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "bigint"}, {"Name": "name", "Type": "string"},
                                          {"Name": "email", "Type": "string", "Comment": "new"}],
                              "Location": "s3://bucket/alpha/t1/"}})
    changed = crawl(engine, _config(), settings=settings)
    after = _assets(engine)
    assert changed.status == "Succeeded"
    assert f"{qn}/t0" not in after and f"{qn}/t0/id" not in after and f"{qn}/t1/email" in after
    assert after[f"{qn}/t1"].attributes["columnCount"] == 3 and after[qn].attributes["tableCount"] == 3
    assert changed.changes["archived"] == 3 and changed.changes["created"] == 1

    _table(client, "alpha", "t0", columns=("id:bigint", "name:string"))
    back = crawl(engine, _config(), settings=settings)
    restored = _assets(engine)[f"{qn}/t0"]
    assert back.changes["restored"] == 3 and restored.guid == before[f"{qn}/t0"].guid
    assert len(_assets(engine, status="DELETED")) == 0


def test_circuit_breaker_refuses_mass_archiving(glue, engine, settings):
    client = glue.client(REGION)
    _small_catalog(client, databases=("alpha",), tables=4)
    crawl(engine, _config(), settings=settings)
    for n in range(3):
        client.delete_table(DatabaseName="alpha", Name=f"t{n}")
    refused = crawl(engine, _config(), settings=settings)
    assert refused.status == "Failed" and "--max-archive-ratio" in refused.message and "3 of" in refused.message
    assert refused.changes["archived"] == 0
    assert sum(row.type_name == "Table" for row in _assets(engine).values()) == 4
    allowed = crawl(engine, _config(max_archive_ratio=1.0), settings=settings)
    assert allowed.status == "Succeeded" and sum(row.type_name == "Table" for row in _assets(engine).values()) == 1


def test_a_whole_database_dropped_is_archived_beneath(glue, engine, settings):
    client = glue.client(REGION)
    _small_catalog(client, databases=("alpha", "beta", "gamma"), tables=1)
    first = crawl(engine, _config(), settings=settings)
    client.delete_table(DatabaseName="gamma", Name="t0")
    client.delete_database(Name="gamma")
    report = crawl(engine, _config(), settings=settings)
    gone = _assets(engine, status="DELETED")
    gamma = f"{first.connection_qualified_name}/AwsDataCatalog/gamma"
    assert report.status == "Succeeded" and {gamma, f"{gamma}/t0", f"{gamma}/t0/id"} <= set(gone)


@pytest.mark.parametrize(("values", "needle"), [
    ({"region": "mars-north-1"}, "unknown AWS region 'mars-north-1'"),
    ({"connection_name": "  "}, "connection name is empty"),
    ({"secret_key": None}, "both the access key and the secret key"),
    ({"catalog_id": "abc"}, "12-digit"),
])
def test_bad_settings_are_refused_before_any_call(values, needle):
    with pytest.raises(InvalidRequest) as caught:
        _config(**values)
    assert needle in caught.value.message


def test_include_of_a_missing_database_fails_clearly(glue, engine, settings):
    _small_catalog(glue.client(REGION), databases=("alpha",), tables=1)
    missing = crawl(engine, _config(include=["nope"]), settings=settings)
    assert missing.status == "Failed" and "'nope'" in missing.warnings[0]["message"] and "nope" in missing.message
    assert "alpha" in missing.message
    partial = crawl(engine, _config(include=["alpha", "nope"]), settings=settings)
    assert partial.status == "Succeeded" and partial.counts["tables"] == 1 and partial.warnings


def test_unreachable_glue_fails_the_run_with_a_hint(engine, settings, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_GLUE", "http://127.0.0.1:9")
    report = crawl(engine, _config(), settings=settings.model_copy(update={"glue_max_attempts": 1}))
    assert report.status == "Failed" and "AWS_ENDPOINT_URL_GLUE" in report.message
    assert "s3cr3t" not in str(report.to_dict())
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(assets)).scalar() == 0


def test_refused_keys_fail_the_crawl_with_a_hint(glue, engine, settings):
    glue.set_faults([{"operation": "GetDatabases", "status": 400, "code": "UnrecognizedClientException",
                      "message": "The security token included in the request is invalid."}])
    report = crawl(engine, _config(), settings=settings)
    assert report.status == "Failed" and "check the access key and secret key" in report.message
    assert "s3cr3t" not in str(report.to_dict())
