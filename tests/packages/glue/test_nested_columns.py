"""Nested columns: the fields of struct columns (however deep in arrays and maps) as Column assets below their
column, named and linked as in Atlan; mapped purely, then crawled from a local Glue over HTTP into a real catalog
(SQLite file and PostgreSQL), searched by their path, and archived when they leave the type."""

from __future__ import annotations

import base64
import json

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from gazetteer.api.asset_search import index_search
from gazetteer.api.entities import get_entity
from gazetteer.assets.text_search import FacetedQuery, faceted_search
from gazetteer.devtools.statements import statements
from gazetteer.packages.glue.config import parse_config
from gazetteer.packages.glue.crawl import crawl
from gazetteer.packages.glue.mapping import MAX_NESTED_COLUMNS, MAX_NESTED_DEPTH, CrawlScope, map_table
from gazetteer.store import assets, open_engine
from gazetteer.store.engine import _MIGRATIONS
from gazetteer.store.schema import asset_tags, asset_views, lineage_edges, metadata, tag_defs, term_assignments

REGION = "us-east-1"
SCOPE = CrawlScope("default/glue/1795609922", "production", "AwsDataCatalog")
TABLE_QN = "default/glue/1795609922/AwsDataCatalog/logistics/shipments"
CARRIER = "struct<name:string,contact:struct<phone:string,email:string>>"
LINES = "array<struct<sku:string,qty:int>>"
ATTRS = "map<string,struct<a:int,b:array<struct<c:int>>>>"


def _glue_table(columns: dict[str, str], name: str = "shipments", **extra) -> dict:
    return {"Name": name, "TableType": "EXTERNAL_TABLE", "StorageDescriptor": {
        "Columns": [{"Name": column, "Type": kind} for column, kind in columns.items()]}, **extra}


SHIPMENTS = {"id": "bigint", "carrier": CARRIER, "lines": LINES, "attrs": ATTRS, "tags": "array<string>",
             "props": "map<string,string>"}


def _by_name(records) -> dict:
    return {record.qualified_name.removeprefix(TABLE_QN + "/"): record for record in records}


# --- mapping ------------------------------------------------------------------------------------------------


def test_struct_fields_in_structs_arrays_and_maps_are_columns_below_their_column():
    mapped = map_table(SCOPE, "logistics", _glue_table(SHIPMENTS), None)
    nested = _by_name(mapped.nested)
    # Atlan's qualified names: `<column>/<field>`, through `items` into arrays and `values` into maps.
    assert list(nested) == [  # parents first
        "carrier/name", "carrier/contact", "carrier/contact/phone", "carrier/contact/email", "lines/items/sku",
        "lines/items/qty", "attrs/values/a", "attrs/values/b", "attrs/values/b/items/c"]
    assert mapped.record.attributes["columnCount"] == 6 and mapped.record.attributes["nestedColumnCount"] == 9
    assert [column.name for column in mapped.columns] == list(SHIPMENTS)  # the table's own columns only
    columns = _by_name(mapped.columns)
    assert columns["carrier"].attributes["nestedColumnCount"] == 2
    assert columns["lines"].attributes["nestedColumnCount"] == columns["attrs"].attributes["nestedColumnCount"] == 2
    assert all("nestedColumnCount" not in columns[name].attributes for name in ("id", "tags", "props"))

    phone = nested["carrier/contact/phone"]
    assert (phone.type_name, phone.name, phone.parent_qualified_name) == ("Column", "phone", TABLE_QN)
    a = phone.attributes
    assert a["parentColumnQualifiedName"] == f"{TABLE_QN}/carrier/contact" and a["parentColumnName"] == "contact"
    assert a["columnDepthLevel"] == 2 and a["columnHierarchy"] == [
        {"depth": "1", "qualifiedName": f"{TABLE_QN}/carrier", "name": "carrier"},
        {"depth": "2", "qualifiedName": f"{TABLE_QN}/carrier/contact", "name": "contact"}]
    assert (a["dataType"], a["isNested"], a["order"], a["nestedColumnOrder"]) == ("string", False, 1, "1")
    assert a["tableQualifiedName"] == TABLE_QN and a["schemaName"] == "logistics"
    assert "isPartition" not in a and "nestedColumnCount" not in a
    contact = nested["carrier/contact"].attributes
    assert (contact["dataType"], contact["isNested"], contact["nestedColumnCount"], contact["order"]) == (
        "struct<phone:string,email:string>", True, 2, 2)
    # A field inside an array or a map hangs from the column that holds it: `items` and `values` are no columns.
    qty = nested["lines/items/qty"].attributes
    assert (qty["parentColumnQualifiedName"], qty["columnDepthLevel"], qty["order"]) == (f"{TABLE_QN}/lines", 1, 2)
    c = nested["attrs/values/b/items/c"].attributes
    assert c["parentColumnQualifiedName"] == f"{TABLE_QN}/attrs/values/b" and c["columnDepthLevel"] == 2
    assert [entry["name"] for entry in c["columnHierarchy"]] == ["attrs", "b"]


def test_a_view_of_presto_rows_has_nested_columns_too():
    document = {"originalSql": "SELECT 1",
                "columns": [{"name": "meta", "type": "row(source varchar, at row(ts bigint))"}]}
    view = {"Name": "v", "TableType": "VIRTUAL_VIEW", "Parameters": {"presto_view": "true"},
            "ViewOriginalText": "/* Presto View: " + base64.b64encode(json.dumps(document).encode()).decode() + " */",
            "StorageDescriptor": {"Columns": []}}
    mapped = map_table(SCOPE, "logistics", view, None)
    assert mapped.is_view and [record.name for record in mapped.nested] == ["source", "at", "ts"]
    ts = mapped.nested[-1].attributes
    assert ts["viewQualifiedName"] == mapped.record.qualified_name and "tableQualifiedName" not in ts
    assert ts["parentColumnName"] == "at" and ts["columnDepthLevel"] == 2


def test_nesting_is_bounded_in_depth_and_count_per_table():
    deep = "struct<l1:" * 2 * MAX_NESTED_DEPTH + "int" + ">" * 2 * MAX_NESTED_DEPTH
    mapped = map_table(SCOPE, "logistics", _glue_table({"deep": deep}), None)
    assert [record.attributes["columnDepthLevel"] for record in mapped.nested] == list(range(1, MAX_NESTED_DEPTH + 1))
    assert mapped.warnings == ()  # the depth bound is the design (README), not a problem of this table
    assert mapped.columns[0].attributes["dataType"] == deep  # the type is kept whole

    wide = "struct<inner:struct<" + ",".join(f"f{i}:int" for i in range(MAX_NESTED_COLUMNS + 100)) + ">>"
    mapped = map_table(SCOPE, "logistics", _glue_table({"wide": wide, "later": "struct<x:int>"}), None)
    assert len(mapped.nested) == mapped.record.attributes["nestedColumnCount"] == MAX_NESTED_COLUMNS
    assert mapped.nested[0].name == "inner"  # breadth first: a cut drops the deepest fields
    assert "only 1,000 of its nested fields" in mapped.warnings[0]
    assert _by_name(mapped.columns)["later"].attributes["isNested"] and "nestedColumnCount" not in \
        _by_name(mapped.columns)["later"].attributes


def test_a_duplicate_field_is_left_out_with_everything_below_it():
    kind = "struct<a:struct<x:int>,a:struct<y:int>,b:int>"
    mapped = map_table(SCOPE, "logistics", _glue_table({"s": kind}), None)
    assert list(_by_name(mapped.nested)) == ["s/a", "s/b", "s/a/x"]
    assert mapped.warnings == ("table logistics.shipments: duplicate nested field 's.a' left out",)
    assert mapped.columns[0].attributes["nestedColumnCount"] == 2


# --- crawled ------------------------------------------------------------------------------------------------


def _config():
    return parse_config(connection_name="lake", region=REGION, access_key="AKIATEST", secret_key="s3cr3t")


def _seed(client, columns=SHIPMENTS) -> None:
    client.create_database(DatabaseInput={"Name": "logistics"})
    client.create_table(DatabaseName="logistics", TableInput=_glue_table(columns))


def _active(engine) -> dict[str, sa.Row]:
    """The shipments table's active columns, nested ones included, by their qualified name below it."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(assets).where(assets.c.status == "ACTIVE", assets.c.type_name == "Column",
                                                    assets.c.qualified_name.contains("/shipments/")))
        return {row.qualified_name.split("/shipments/", 1)[1]: row for row in rows}


def _search(engine, text: str) -> list[str]:
    body = {"attributes": ["qualifiedName"], "dsl": {"size": 5, "query": {"bool": {
        "must": [{"multi_match": {"query": text, "operator": "and"}}], "filter": [{"term": {"__state": "ACTIVE"}}]}}}}
    return [entity["attributes"]["qualifiedName"].split("/AwsDataCatalog/logistics/", 1)[1]
            for entity in index_search(engine, body).get("entities", [])]


def test_a_nested_column_is_found_by_its_dotted_path(glue, engine, glue_settings):
    _seed(glue.client(REGION))
    report = crawl(engine, _config(), settings=glue_settings)
    assert report.status == "Succeeded" and report.counts["columns"] == 6 and report.counts["nested_columns"] == 9
    # Every word must be the asset's: the phone column's are its name and those of the columns above it.
    assert _search(engine, "carrier.contact.phone")[0] == "shipments/carrier/contact/phone"
    assert _search(engine, "contact.phone") == ["shipments/carrier/contact/phone", "shipments"]
    assert _search(engine, "lines.qty")[0] == "shipments/lines/items/qty"
    assert _search(engine, "attrs b c")[0] == "shipments/attrs/values/b/items/c"
    page = faceted_search(engine, FacetedQuery(text="carrier.contact.phone"))
    assert page.assets[0].name == "phone" and page.assets[0].attributes["parentColumnName"] == "contact"
    # A table is found by its nested columns' names too, as by its columns'.
    assert _search(engine, "email") == ["shipments/carrier/contact/email", "shipments"]


_LATER = [lineage_edges, tag_defs, asset_tags, term_assignments, asset_views]


def test_nested_columns_crawled_before_migration_0012_are_found_by_path_after_it(glue, engine, glue_settings):
    _seed(glue.client(REGION))
    crawl(engine, _config(), settings=glue_settings)
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0011")
        # Today's search also reads lineage (0013), tags (0015), terms (0016) and page views (0017): empty tables
        # stand in for them while the schema is at 0011.
        metadata.create_all(conn, tables=_LATER)
    assert _search(engine, "carrier.contact.phone") == ["shipments"]  # only the table holds all three words
    assert _search(engine, "phone")[0] == "shipments/carrier/contact/phone"
    with engine.begin() as conn:
        metadata.drop_all(conn, tables=_LATER)
    migrated = open_engine(engine.url.render_as_string(hide_password=False))  # to the head again
    assert _search(migrated, "carrier.contact.phone")[0] == "shipments/carrier/contact/phone"
    migrated.dispose()


def test_relationships_follow_atlan_nested_columns_hang_from_their_column(glue, engine, glue_settings):
    _seed(glue.client(REGION))
    crawl(engine, _config(), settings=glue_settings)
    table_qn = f"{_connection(engine)}/AwsDataCatalog/logistics/shipments"
    table = get_entity(engine, type_name="Table", qualified_name=table_qn, relationships=True)["entity"]
    assert [c["attributes"]["name"] for c in table["relationshipAttributes"]["columns"]] == list(SHIPMENTS)
    carrier = _active(engine)["carrier"]
    related = get_entity(engine, guid=carrier.guid, relationships=True)["entity"]["relationshipAttributes"]
    assert [c["attributes"]["name"] for c in related["nestedColumns"]] == ["name", "contact"]
    assert related["table"]["guid"] == table["guid"] and "parentColumn" not in related
    phone = get_entity(engine, guid=_active(engine)["carrier/contact/phone"].guid, relationships=True)["entity"]
    assert phone["relationshipAttributes"]["parentColumn"]["attributes"]["name"] == "contact"
    assert "table" not in phone["relationshipAttributes"] and phone["relationshipAttributes"]["nestedColumns"] == []


def _connection(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.select(assets.c.qualified_name).where(assets.c.type_name == "Connection")).scalar_one()


def test_nested_columns_leave_with_their_field_column_or_table(glue, engine, glue_settings):
    client = glue.client(REGION)
    _seed(client)
    first = crawl(engine, _config(), settings=glue_settings)
    before = _active(engine)
    with statements(engine, r"^\s*(?i:INSERT|UPDATE|DELETE)\b") as written:
        again = crawl(engine, _config(), settings=glue_settings)
    assert written == [] and again.changes["unchanged"] == first.changes["created"] == 4 + 6 + 9
    assert again.counts == first.counts

    # contact leaves carrier's type; lines is a plain array now; attrs' b holds another field.
    changed = {**SHIPMENTS, "carrier": "struct<name:string>", "lines": "array<string>",
               "attrs": "map<string,struct<a:int,b:array<struct<c:int,d:int>>>>"}
    client.update_table(DatabaseName="logistics", TableInput=_glue_table(changed))
    report = crawl(engine, _config(), settings=glue_settings)
    after = _active(engine)
    gone = {"carrier/contact", "carrier/contact/phone", "carrier/contact/email", "lines/items/sku", "lines/items/qty"}
    assert set(before) - set(after) == gone and set(after) - set(before) == {"attrs/values/b/items/d"}
    assert report.changes["archived"] == 5 and report.changes["created"] == 1
    assert after["carrier/name"].guid == before["carrier/name"].guid
    assert report.counts["nested_columns"] == 9 - 5 + 1

    client.delete_table(DatabaseName="logistics", Name="shipments")  # the table goes, with everything below it
    _seed_other(client)
    dropped = crawl(engine, _config(), settings=glue_settings.model_copy(update={"max_archive_ratio": 1.0}))
    assert dropped.status == "Succeeded" and not any(
        q.startswith(("carrier", "attrs")) for q in _active(engine))

    client.create_table(DatabaseName="logistics", TableInput=_glue_table(SHIPMENTS))  # and comes back as it was
    back = crawl(engine, _config(), settings=glue_settings)
    assert back.changes["restored"] == 1 + 6 + 9 and back.changes["created"] == 0
    assert {q: row.guid for q, row in _active(engine).items() if q in before} == \
        {q: row.guid for q, row in before.items()}
    assert _search(engine, "carrier.contact.phone")[0] == "shipments/carrier/contact/phone"


def _seed_other(client) -> None:
    client.create_table(DatabaseName="logistics", TableInput=_glue_table({"id": "bigint"}, name="other"))
