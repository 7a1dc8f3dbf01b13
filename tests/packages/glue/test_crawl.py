"""The Glue crawl end to end: a local Glue over HTTP, a real catalog (SQLite file and PostgreSQL)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from gazetteer.api.asset_search import index_search
from gazetteer.assets import publish
from gazetteer.assets.publish import CHANGE_KINDS, roll_back
from gazetteer.client import GlueCrawler
from gazetteer.devtools.sample_catalog import seed_sample_catalog
from gazetteer.devtools.statements import statements
from gazetteer.errors import InvalidRequest
from gazetteer.packages.glue import crawl as crawl_module
from gazetteer.packages.glue.config import parse_config
from gazetteer.packages.glue.crawl import crawl
from gazetteer.store import assets, open_engine
from gazetteer.store.schema import crawl_undo
from gazetteer.workflows.leases import pending_workflows, recover_all_running
from gazetteer.workflows.models import runs

REGION = "us-east-1"


def _config(**overrides):
    values = {"connection_name": "prod-lake", "region": REGION, "access_key": "AKIATEST", "secret_key": "s3cr3t"}
    return parse_config(**{**values, **overrides})


def _assets(engine, status="ACTIVE") -> dict[str, sa.Row]:
    with engine.connect() as conn:
        return {row.qualified_name: row for row in conn.execute(sa.select(assets).where(assets.c.status == status))}


def _table(client, database, name, columns=("id:bigint",), partition_keys=(), replace=False, **extra):
    def cols(specs):
        return [{"Name": s.split(":")[0], "Type": s.split(":", 1)[1]} for s in specs]

    table = {"Name": name, "TableType": "EXTERNAL_TABLE", "PartitionKeys": cols(partition_keys),
             "StorageDescriptor": {"Columns": cols(columns), "Location": f"s3://bucket/{database}/{name}/"}, **extra}
    (client.update_table if replace else client.create_table)(DatabaseName=database, TableInput=table)


def _small_catalog(client, databases=("alpha", "beta", "gamma"), tables=3):
    for db in databases:
        client.create_database(DatabaseInput={"Name": db})
        for n in range(tables):
            _table(client, db, f"t{n}", columns=("id:bigint", "name:string"))


def _change_everything(client, databases, tables) -> None:
    """Give tables t0.. a description and a column, and each database a new table (words found nowhere else)."""
    for db in databases:
        for n in range(tables):
            _table(client, db, f"t{n}", columns=("id:bigint", "name:string", "pelican_note:string"),
                   Description="walrus sightings", replace=True)
        _table(client, db, "zebra_orders", columns=("id:bigint", "pelican_id:bigint"))


def _dump(engine) -> dict[str, list[tuple]]:
    """Every asset row exactly as stored (PostgreSQL's search vector too) and SQLite's full-text index."""
    with engine.connect() as conn:
        dump = {"assets": [tuple(row) for row in conn.execute(sa.text("SELECT * FROM assets ORDER BY id"))]}
        if engine.dialect.name == "sqlite":
            dump["search"] = [tuple(row) for row in conn.execute(sa.text(
                "SELECT rowid, name, description, columns FROM assets_fts ORDER BY rowid"))]
    return dump


def _count(engine, table, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar()


def _written_by(engine, key: str) -> int:
    """How many assets the crawl `key` has written so far."""
    return _count(engine, assets, assets.c.updated_by == key)


def _found(engine, text: str) -> list[str]:
    """Qualified names of the active assets a full-text search finds (names, descriptions, column names)."""
    body = {"attributes": ["qualifiedName"], "dsl": {"size": 50, "query": {"bool": {
        "must": [{"multi_match": {"query": text, "fields": ["name", "description", "columns"]}}],
        "filter": [{"term": {"__state": "ACTIVE"}}]}}}}
    return sorted(entity["attributes"]["qualifiedName"] for entity in index_search(engine, body).get("entities", []))


def test_every_asset_kind_and_attribute(glue, engine, glue_settings):
    seed_sample_catalog(glue.client(REGION), s3=glue.s3_client(REGION))
    report = crawl(engine, _config(), settings=glue_settings)
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
        [q for q in found if q.startswith(f"{db}/sales/orders/")])  # orders has no nested columns
    dt = found[f"{db}/sales/orders/dt"].attributes
    assert dt["isPartition"] is True and dt["partitionOrder"] == 1 and dt["tableQualifiedName"] == orders.qualified_name
    formats = {name: found[f"{db}/sales/{name}"].attributes["externalLocationFormat"]
               for name in ("customers", "events", "line_items", "clicks")}
    assert formats == {"customers": "csv", "events": "json", "line_items": "orc", "clicks": "avro"}
    assert any(row.attributes.get("description") for q, row in found.items() if q.startswith(f"{db}/sales/orders/"))

    athena = found[f"{db}/analytics/daily_revenue"]
    assert athena.type_name == "View" and athena.attributes["definition"].lstrip().upper().startswith("SELECT")
    assert found[f"{db}/analytics/top_customers"].attributes["definition"].lstrip().upper().startswith("SELECT")
    assert found[f"{db}/analytics"].attributes["viewsCount"] == 5
    assert f"{db}/analytics/inventory/legacy_sku" not in found
    assert found[f"{db}/analytics/inventory"].attributes["tableType"] == "ICEBERG"
    shipments = [q.rsplit("/", 1)[1] for q in found if q.startswith(f"{db}/analytics/shipments/")]
    assert "col" not in shipments and len(shipments) > 2
    wide = [row for q, row in found.items() if q.startswith(f"{db}/analytics/wide_events/")]
    types = [row.attributes["dataType"] for row in wide]
    assert any(" " not in kind.replace("`user id`", "") and "struct<" in kind for kind in types)
    assert found[f"{db}/analytics/partner_orders"].attributes["isResourceLink"] is True
    columns = [row for row in found.values() if row.type_name == "Column"]
    nested = [row for row in columns if "parentColumnQualifiedName" in row.attributes]
    assert report.counts["views"] == 5 and report.counts["columns"] == len(columns) - len(nested)
    assert report.counts["nested_columns"] == len(nested) == sum(
        row.attributes.get("nestedColumnCount", 0) for row in found.values() if row.type_name in ("Table", "View"))
    assert report.changes["created"] == len(found) and report.warnings == []


def test_include_exclude_follow_the_seed_rules(glue, engine, glue_settings):
    _small_catalog(glue.client(REGION), tables=1)
    report = crawl(engine, _config(include=["alpha", "beta"], exclude=["beta"]), settings=glue_settings)
    schemas = {row.name for row in _assets(engine).values() if row.type_name == "Schema"}
    assert report.status == "Succeeded" and schemas == {"alpha"}
    report = crawl(engine, _config(connection_name="other", exclude=["gamma"]), settings=glue_settings)
    schemas = {row.name for row in _assets(engine).values()
               if row.type_name == "Schema" and row.connection_qualified_name == report.connection_qualified_name}
    assert schemas == {"alpha", "beta"}


def test_every_list_call_pages_and_carries_catalog_id(glue, engine, glue_settings):
    _small_catalog(glue.client(REGION), databases=("alpha",), tables=7)
    glue.client(REGION, service="lakeformation").create_lf_tag(TagKey="domain", TagValues=["sales"])
    glue.clear_requests()
    report = crawl(engine, _config(catalog_id="123456789012"), settings=glue_settings)
    assert report.status == "Succeeded" and report.counts["tables"] == 7
    calls = glue.requests()
    operations = {call["operation"] for call in calls}
    assert "SearchTables" not in operations and "GetCallerIdentity" not in operations  # the id is the account
    get_tables = [call["body"] for call in calls if call["operation"] == "GetTables"]
    assert len(get_tables) == 4 and sum("NextToken" in body for body in get_tables) == 3
    # Jobs and crawlers (lineage) are the account's own: they take no catalog id (Glue facts §17).
    assert all(call["body"].get("CatalogId") == "123456789012" for call in calls
               if call["operation"] not in ("GetTags", "GetResourceLFTags", "GetJobs", "GetCrawlers"))
    assert all("CatalogId" not in call["body"] for call in calls if call["operation"] in ("GetJobs", "GetCrawlers"))
    # The tags' calls name the catalog in their resource: GetTags by the database's ARN, whose account is the
    # catalog's (Glue does not tag tables), GetResourceLFTags in the resource (the catalog defines an LF-tag).
    assert [call["body"]["ResourceArn"] for call in calls if call["operation"] == "GetTags"] == [
        "arn:aws:glue:us-east-1:123456789012:database/alpha"]
    lf_resources = [next(iter(call["body"]["Resource"].values())) for call in calls
                    if call["operation"] == "GetResourceLFTags"]
    assert len(lf_resources) == 8 and all(resource["CatalogId"] == "123456789012" for resource in lf_resources)
    assert all(body.get("MaxResults") for body in get_tables)
    assert _assets(engine)[f"{report.connection_qualified_name}/123456789012"].type_name == "Database"


def test_throttling_gives_the_same_catalog(glue, engine, glue_settings):
    _small_catalog(glue.client(REGION))
    calm = crawl(engine, _config(connection_name="calm"), settings=glue_settings)
    glue.set_faults([{"operation": op, "probability": 0.3, "seed": 7, "status": 400, "code": "ThrottlingException",
                      "message": "Rate exceeded"} for op in ("GetDatabases", "GetTables", "GetPartitions")])
    patient = glue_settings.model_copy(update={"max_attempts": 12})
    stormy = crawl(engine, _config(connection_name="stormy"), settings=patient)
    assert stormy.status == "Succeeded" and stormy.throttled > 0 and stormy.warnings == []

    def shape(qn):
        return {(row.qualified_name.removeprefix(qn), row.content_hash) for row in _assets(engine).values()
                if row.connection_qualified_name == qn and row.type_name != "Connection"}

    assert shape(calm.connection_qualified_name) and stormy.counts == calm.counts
    calm_shape = {(name, digest) for name, digest in shape(calm.connection_qualified_name)}
    assert {name for name, _ in shape(stormy.connection_qualified_name)} == {name for name, _ in calm_shape}


def test_failed_listings_warn_and_archive_nothing_there(glue, engine, glue_settings):
    client = glue.client(REGION)
    _small_catalog(client, tables=5)
    first = crawl(engine, _config(), settings=glue_settings)
    for db in ("alpha", "beta", "gamma"):
        client.delete_table(DatabaseName=db, Name="t4")
    glue.set_faults([
        {"operation": "GetTables", "database": "alpha", "page": 1, "status": 500, "code": "InternalServiceException"},
        {"operation": "GetTables", "database": "beta", "status": 400, "code": "AccessDeniedException",
         "message": "User is not authorized to perform glue:GetTables"},
    ])
    report = crawl(engine, _config(), settings=glue_settings)
    assert report.status == "Succeeded"
    qn = first.connection_qualified_name
    active = _assets(engine)
    assert f"{qn}/AwsDataCatalog/alpha/t4" in active and f"{qn}/AwsDataCatalog/beta/t4" in active
    assert f"{qn}/AwsDataCatalog/gamma/t4" not in active and report.changes["archived"] == 3  # table + 2 columns
    denied = [w for w in report.warnings if w.get("code") == "AccessDeniedException"]
    assert denied and denied[0]["database"] == "beta" and denied[0]["iam_action"] == "glue:GetTables"
    assert any(w.get("code") == "InternalServiceException" and w["database"] == "alpha" for w in report.warnings)


def test_recrawl_updates_archives_and_restores(glue, engine, glue_settings):
    client = glue.client(REGION)
    _small_catalog(client, databases=("alpha",), tables=4)
    first = crawl(engine, _config(), settings=glue_settings)
    before = _assets(engine)
    with statements(engine, r"^\s*(?i:INSERT|UPDATE|DELETE)\b") as written:
        again = crawl(engine, _config(), settings=glue_settings)
    assert again.changes == {"created": 0, "updated": 0, "archived": 0, "restored": 0, "unchanged": len(before)}
    assert written == [], "an unchanged re-crawl writes nothing at all, not even to its undo log"
    assert {q: r.updated_at for q, r in _assets(engine).items()} == {q: r.updated_at for q, r in before.items()}

    qn = f"{first.connection_qualified_name}/AwsDataCatalog/alpha"
    client.delete_table(DatabaseName="alpha", Name="t0")
    client.update_table(DatabaseName="alpha", TableInput={
        "Name": "t1", "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "bigint"}, {"Name": "name", "Type": "string"},
                                          {"Name": "email", "Type": "string", "Comment": "new"}],
                              "Location": "s3://bucket/alpha/t1/"}})
    changed = crawl(engine, _config(), settings=glue_settings)
    after = _assets(engine)
    assert changed.status == "Succeeded"
    assert f"{qn}/t0" not in after and f"{qn}/t0/id" not in after and f"{qn}/t1/email" in after
    assert after[f"{qn}/t1"].attributes["columnCount"] == 3 and after[qn].attributes["tableCount"] == 3
    assert changed.changes["archived"] == 3 and changed.changes["created"] == 1

    _table(client, "alpha", "t0", columns=("id:bigint", "name:string"))
    back = crawl(engine, _config(), settings=glue_settings)
    restored = _assets(engine)[f"{qn}/t0"]
    assert back.changes["restored"] == 3 and restored.guid == before[f"{qn}/t0"].guid
    assert len(_assets(engine, status="DELETED")) == 0
    assert _count(engine, crawl_undo) == 0, "a crawl that succeeds keeps no undo log"


def test_circuit_breaker_refuses_mass_archiving(glue, engine, glue_settings):
    client = glue.client(REGION)
    _small_catalog(client, databases=("alpha",), tables=4)
    crawl(engine, _config(), settings=glue_settings)
    for n in range(3):
        client.delete_table(DatabaseName="alpha", Name=f"t{n}")
    refused = crawl(engine, _config(), settings=glue_settings)
    assert refused.status == "Failed" and "--max-archive-ratio" in refused.message and "3 of" in refused.message
    assert refused.changes["archived"] == 0
    assert sum(row.type_name == "Table" for row in _assets(engine).values()) == 4
    allowed = crawl(engine, _config(max_archive_ratio=1.0), settings=glue_settings)
    assert allowed.status == "Succeeded" and sum(row.type_name == "Table" for row in _assets(engine).values()) == 1


def test_a_whole_database_dropped_is_archived_beneath(glue, engine, glue_settings):
    client = glue.client(REGION)
    _small_catalog(client, databases=("alpha", "beta", "gamma"), tables=1)
    first = crawl(engine, _config(), settings=glue_settings)
    client.delete_table(DatabaseName="gamma", Name="t0")
    client.delete_database(Name="gamma")
    report = crawl(engine, _config(), settings=glue_settings)
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


def test_include_of_a_missing_database_fails_clearly(glue, engine, glue_settings):
    _small_catalog(glue.client(REGION), databases=("alpha",), tables=1)
    missing = crawl(engine, _config(include=["nope"]), settings=glue_settings)
    assert missing.status == "Failed" and "'nope'" in missing.warnings[0]["message"] and "nope" in missing.message
    assert "alpha" in missing.message
    partial = crawl(engine, _config(include=["alpha", "nope"]), settings=glue_settings)
    assert partial.status == "Succeeded" and partial.counts["tables"] == 1 and partial.warnings


def test_unreachable_glue_fails_the_run_with_a_hint(engine, glue_settings, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_GLUE", "http://127.0.0.1:9")
    report = crawl(engine, _config(), settings=glue_settings.model_copy(update={"max_attempts": 1}))
    assert report.status == "Failed" and "AWS_ENDPOINT_URL_GLUE" in report.message
    assert "s3cr3t" not in str(report.to_dict())
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(assets)).scalar() == 0


def test_refused_keys_fail_the_crawl_with_a_hint(glue, engine, glue_settings):
    glue.set_faults([{"operation": "GetDatabases", "status": 400, "code": "UnrecognizedClientException",
                      "message": "The security token included in the request is invalid."}])
    report = crawl(engine, _config(), settings=glue_settings)
    assert report.status == "Failed" and "check the access key and secret key" in report.message
    assert "s3cr3t" not in str(report.to_dict())


# -- a crawl is all or nothing -----------------------------------------------------------------------------

LEFT_AS_IT_WAS = "Nothing was changed: the catalog was left as it was."
NO_CHANGES = dict.fromkeys(CHANGE_KINDS, 0)


def test_a_crawl_of_the_wrong_region_changes_nothing_and_says_why(glue, engine, glue_settings):
    _small_catalog(glue.client(REGION))
    first = crawl(engine, _config(), settings=glue_settings)
    before = _dump(engine)
    wrong = crawl(engine, _config(region="eu-west-1"), settings=glue_settings)
    assert wrong.status == "Failed" and wrong.message.startswith("Circuit breaker: this crawl would archive 9 of")
    assert "Nothing found in eu-west-1: wrong region, account (catalog id) or credentials?" in wrong.message
    assert wrong.message.endswith(LEFT_AS_IT_WAS) and wrong.changes == NO_CHANGES
    assert _dump(engine) == before and _count(engine, crawl_undo) == 0
    qn = first.connection_qualified_name
    assert _assets(engine)[qn].attributes["region"] == REGION
    assert _assets(engine)[f"{qn}/AwsDataCatalog"].attributes["schemaCount"] == 3


def test_a_crawl_that_updates_and_adds_then_trips_the_breaker_changes_nothing(glue, engine, glue_settings):
    client = glue.client(REGION)
    _small_catalog(client, databases=("alpha", "beta"), tables=4)
    first = crawl(engine, _config(), settings=glue_settings)
    before = _dump(engine)
    for db in ("alpha", "beta"):
        for n in range(1, 4):
            client.delete_table(DatabaseName=db, Name=f"t{n}")
    _change_everything(client, ("alpha", "beta"), tables=1)
    client.create_database(DatabaseInput={"Name": "delta"})
    _table(client, "delta", "zebra_events")

    refused = crawl(engine, _config(), settings=glue_settings)
    assert refused.status == "Failed" and "archive 6 of the connection's 11" in refused.message
    assert "Nothing found" not in refused.message and refused.message.endswith(LEFT_AS_IT_WAS)
    assert refused.counts["tables"] == 5 and refused.changes == NO_CHANGES
    assert _dump(engine) == before and _count(engine, crawl_undo) == 0
    assert _found(engine, "zebra") == _found(engine, "pelican") == _found(engine, "walrus") == []

    # The same crawl let through shows what the failed one had written and the searches above would find.
    allowed = crawl(engine, _config(max_archive_ratio=1.0), settings=glue_settings)
    db = f"{first.connection_qualified_name}/AwsDataCatalog"
    assert allowed.status == "Succeeded" and _count(engine, crawl_undo) == 0
    zebras = [f"{db}/alpha/zebra_orders", f"{db}/beta/zebra_orders", f"{db}/delta/zebra_events"]
    assert _found(engine, "zebra") == zebras
    assert {f"{db}/alpha/t0", f"{db}/alpha/t0/pelican_note"} <= set(_found(engine, "pelican"))


def test_a_crawl_stopped_midway_changes_nothing(glue, engine, glue_settings):
    client = glue.client(REGION)
    databases = ("alpha", "beta", "gamma")
    _small_catalog(client, databases, tables=4)
    crawl(engine, _config(), settings=glue_settings)
    before = _dump(engine)
    _change_everything(client, databases, tables=4)
    written: list[int] = []

    def after_some_pages() -> bool:
        written.append(_written_by(engine, "stop-test"))
        return written[-1] >= 10

    stopped = crawl(engine, _config(), settings=glue_settings, should_stop=after_some_pages, key="stop-test")
    assert stopped.status == "Failed" and stopped.changes == NO_CHANGES
    assert stopped.message == f"Stopped on request before the crawl finished. {LEFT_AS_IT_WAS}"
    assert written[-1] >= 10 and stopped.counts["tables"] < 15
    assert _dump(engine) == before and _count(engine, crawl_undo) == 0


def test_an_unexpected_error_midway_changes_nothing(glue, engine, glue_settings):
    client = glue.client(REGION)
    databases = ("alpha", "beta", "gamma")
    _small_catalog(client, databases, tables=4)
    crawl(engine, _config(), settings=glue_settings)
    before = _dump(engine)
    _change_everything(client, databases, tables=4)
    writes: list[str] = []

    def disk_fails_once(conn, cursor, statement, parameters, context, executemany):
        # The store itself failing, as a full disk or a lost PostgreSQL connection would, after several pages.
        if statement.startswith(("INSERT INTO assets ", "UPDATE assets ")):
            writes.append(statement)
            if len(writes) == 8:
                raise engine.dialect.dbapi.OperationalError("disk I/O error")

    sa.event.listen(engine, "before_cursor_execute", disk_fails_once)
    try:
        failed = crawl(engine, _config(), settings=glue_settings)
    finally:
        sa.event.remove(engine, "before_cursor_execute", disk_fails_once)
    assert failed.status == "Failed" and "unexpected error (OperationalError" in failed.message
    assert "disk I/O error" in failed.message and failed.message.endswith(LEFT_AS_IT_WAS)
    assert failed.changes == NO_CHANGES
    assert _dump(engine) == before and _count(engine, crawl_undo) == 0


def test_a_description_curated_during_a_failed_crawl_survives_its_rollback(glue, engine, glue_settings):
    client = glue.client(REGION)
    _small_catalog(client, databases=("alpha",), tables=4)
    first = crawl(engine, _config(), settings=glue_settings)
    t0 = f"{first.connection_qualified_name}/AwsDataCatalog/alpha/t0"
    before = {qn: row._asdict() for qn, row in _assets(engine).items()}
    _change_everything(client, ("alpha",), tables=4)
    curated = {"userDescription": "Curated by hand while crawling"}

    def curate_then_stop() -> bool:
        with engine.connect() as conn:
            crawled = conn.execute(sa.select(assets.c.updated_by).where(assets.c.qualified_name == t0)).scalar()
        if crawled != "curate-test":
            return False
        with engine.begin() as conn:  # what the asset API does when someone edits the description
            conn.execute(assets.update().where(assets.c.qualified_name == t0)
                         .values(curated=curated, updated_by="alice", updated_at=datetime.now(UTC)))
        return True

    stopped = crawl(engine, _config(), settings=glue_settings, should_stop=curate_then_stop, key="curate-test")
    assert stopped.status == "Failed" and stopped.message.endswith(LEFT_AS_IT_WAS)
    after = {qn: row._asdict() for qn, row in _assets(engine).items()}
    edited, original = after.pop(t0), before.pop(t0)
    assert after == before
    assert edited.pop("curated") == curated and original.pop("curated") is None
    assert edited.pop("updated_by") == "alice" and edited.pop("updated_at") > original.pop("updated_at")
    original.pop("updated_by")
    assert edited == original, "the crawled columns are back as they were"
    assert _found(engine, "curated") == [t0] and _found(engine, "walrus") == []


def _killed_crawl(glue, engine, glue_settings, monkeypatch, key: str) -> dict[str, list[tuple]]:
    """Crawl a catalog, change it in Glue, then re-crawl it as a process killed after some pages would:
    its writes and its undo log stay behind. Returns the catalog as it was before."""
    client = glue.client(REGION)
    _small_catalog(client, databases=("alpha", "beta"), tables=4)
    crawl(engine, _config(), settings=glue_settings)
    before = _dump(engine)
    _change_everything(client, ("alpha", "beta"), tables=4)
    with monkeypatch.context() as killed:
        killed.setattr(crawl_module, "roll_back", lambda engine, key: False)
        crawl(engine, _config(), settings=glue_settings, key=key, should_stop=lambda: _written_by(engine, key) >= 6)
    assert _dump(engine) != before and _count(engine, crawl_undo) > 0
    return before


def test_recovery_rolls_back_what_a_killed_run_had_written(glue, engine, glue_settings, monkeypatch):
    before = _killed_crawl(glue, engine, glue_settings, monkeypatch, "lake-killed")
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(runs.insert(), [
            {"name": name, "uid": name, "workflow_name": workflow, "template_refs": [], "phase": phase,
             "created_at": now, "created_by": "admin"}
            for name, workflow, phase in (("lake-killed", "lake", "Running"), ("pond-idle", "pond", "Running"),
                                          ("lake-next", "lake", "Pending"))])

    recover_all_running(engine, "serve@test", lease_seconds=30)
    assert pending_workflows(engine) == ["lake"]
    assert _dump(engine) == before and _count(engine, crawl_undo) == 0
    with engine.connect() as conn:
        ended = dict(conn.execute(sa.select(runs.c.name, runs.c.message).where(runs.c.phase == "Error")).all())
    assert "What it had written was rolled back: the catalog is as it was before the run" in ended["lake-killed"]
    assert "It left nothing to roll back" in ended["pond-idle"]


def test_a_rollback_cut_short_goes_on_where_it_stopped(glue, engine, glue_settings, monkeypatch):
    before = _killed_crawl(glue, engine, glue_settings, monkeypatch, "cut-short")
    monkeypatch.setattr(publish, "_CHUNK", 3)  # many batches, each its own transaction
    batches: list[str] = []

    def dies_at_the_third_batch(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("DELETE FROM crawl_undo"):
            batches.append(statement)
            if len(batches) == 3:
                raise engine.dialect.dbapi.OperationalError("the process died here")

    logged = _count(engine, crawl_undo)
    sa.event.listen(engine, "before_cursor_execute", dies_at_the_third_batch)
    try:
        with pytest.raises(sa.exc.OperationalError):
            roll_back(engine, "cut-short")
    finally:
        sa.event.remove(engine, "before_cursor_execute", dies_at_the_third_batch)
    assert _dump(engine) != before and 0 < _count(engine, crawl_undo) < logged
    assert roll_back(engine, "cut-short") is True
    assert _dump(engine) == before and _count(engine, crawl_undo) == 0
    assert roll_back(engine, "cut-short") is False


@pytest.mark.timeout(240)
def test_a_server_killed_mid_crawl_rolls_the_run_back_when_it_restarts(glue, any_server, start_server):
    client = glue.client(REGION)
    _small_catalog(client, databases=("alpha", "beta"), tables=4)
    http = any_server.client()
    document = (GlueCrawler(epoch=1790000000, connection_name="lake", admin_roles=["$admin"])
                .iam_user_auth(access_key="AKIATEST", secret_key="s3cr3t").direct(region=REGION).to_workflow())
    name = http.post("/api/service/workflows", json=document).json()["metadata"]["name"]

    def run() -> str:
        body = {"namespace": "default", "resourceKind": "WorkflowTemplate", "resourceName": name}
        return http.post("/api/service/workflows/submit", json=body).json()["metadata"]["name"]

    def ended(server, run_name: str) -> dict:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status = server.client().get(f"/api/service/runs/{run_name}").json()["status"]
            if status["phase"] in ("Succeeded", "Failed", "Error"):
                return status
            time.sleep(0.2)
        raise AssertionError(f"run {run_name} did not end")

    assert ended(any_server, run())["phase"] == "Succeeded"
    catalog = open_engine(any_server.database_url)
    before = _dump(catalog)
    _change_everything(client, ("alpha", "beta"), tables=4)
    glue.set_faults([{"operation": "GetTables", "database": "beta", "delay_seconds": 30, "times": 1}])
    killed = run()
    deadline = time.monotonic() + 60
    while _written_by(catalog, killed) < 8:  # alpha's pages are in; beta's listing hangs
        assert time.monotonic() < deadline, "the run wrote nothing"
        time.sleep(0.1)
    any_server.stop(kill=True)
    glue.clear_faults()
    assert _dump(catalog) != before

    restarted = start_server(any_server.home, any_server.database_url)
    status = ended(restarted, killed)
    assert status["phase"] == "Error" and "What it had written was rolled back" in status["message"]
    assert _dump(catalog) == before and _count(catalog, crawl_undo) == 0
    catalog.dispose()


def test_the_undo_log_is_what_its_migration_made(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from gazetteer.store.schema import metadata

    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [diff for diff in diffs if "crawl_undo" in repr(diff)] == []


@pytest.mark.postgres
def test_a_big_crawl_leaves_fresh_planner_statistics(glue, postgres_url, glue_settings):
    """The first searches come right after the first big crawl: they must not be planned for an empty table."""
    engine = open_engine(postgres_url)

    def analyzed() -> int:
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT analyze_count, vacuum_count FROM pg_stat_user_tables WHERE "
                                       "relid = to_regclass('assets')")).one()
            return min(row.analyze_count, row.vacuum_count)  # each VACUUM (ANALYZE) counts in both

    def settled(expected: int) -> int:  # the statistics collector reports counts a moment later
        deadline = time.monotonic() + 10
        while analyzed() != expected and time.monotonic() < deadline:
            time.sleep(0.2)
        return analyzed()

    _small_catalog(glue.client(REGION), databases=("alpha", "beta"), tables=4)
    before = analyzed()
    assert crawl(engine, _config(), settings=glue_settings).status == "Succeeded"
    assert settled(before + 1) == before + 1
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT reltuples FROM pg_class WHERE oid = to_regclass('assets')")).scalar()
        assert rows == conn.execute(sa.select(sa.func.count()).select_from(assets)).scalar()
    assert crawl(engine, _config(), settings=glue_settings).status == "Succeeded"  # nothing changed
    time.sleep(1)
    assert analyzed() == before + 1, "an unchanged re-crawl analyzed the catalog again"
    engine.dispose()
