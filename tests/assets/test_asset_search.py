"""The asset search and entity services on a real store (SQLite, then PostgreSQL): exact rows for every clause."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from gazetteer.api.asset_search import index_search
from gazetteer.api.entities import bulk_upsert, get_entity
from gazetteer.assets.curation import update_curated
from gazetteer.assets.publish import Publisher
from gazetteer.assets.records import AssetRecord
from gazetteer.assets.search import MAX_PAGE
from gazetteer.auth.principal import Principal
from gazetteer.errors import InvalidRequest, NotFound, PermissionDenied
from gazetteer.store import assets

C = "default/glue/1000000001"
DB = f"{C}/AwsDataCatalog"
SALES, ANALYTICS = f"{DB}/sales", f"{DB}/analytics"
ADMIN = Principal("u0", "admin", frozenset({"$admin"}))
ALICE = Principal("u1", "alice", frozenset({"$member"}))  # named admin of the connection
BOB = Principal("u2", "bob", frozenset({"$member"}))
GUEST = Principal("u3", "gus", frozenset({"$guest"}))
CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def _records() -> list[AssetRecord]:
    conn = {"connectionQualifiedName": C, "connectionName": "production", "connectorName": "glue"}
    db = {**conn, "databaseName": "AwsDataCatalog", "databaseQualifiedName": DB}
    out = [
        AssetRecord("Connection", C, "production", None,
                    {"connectorName": "glue", "category": "lake", "adminUsers": ["alice"], "adminRoles": []}),
        AssetRecord("Database", DB, "AwsDataCatalog", C, {**conn, "schemaCount": 2}),
        AssetRecord("Schema", SALES, "sales", DB, {**db, "description": "Web shop sales", "tableCount": 3}),
        AssetRecord("Schema", ANALYTICS, "analytics", DB, {**db, "tableCount": 3}),
    ]
    tables = [
        (SALES, "orders", "Table", {"description": "All customer orders", "rowCount": 500,
                                    "tableType": "EXTERNAL_TABLE", "isPartitioned": True},
         [("order_id", "bigint"), ("customer_id", "bigint"), ("amount", "decimal(10,2)"), ("note", "string")]),
        (SALES, "orders_archive", "Table", {"description": "Old orders", "rowCount": 90_000_000_000},
         [("order_id", "bigint")]),
        (SALES, "customers", "Table", {"description": "Everyone who placed orders", "rowCount": 50,
                                       "isPartitioned": False}, [("customer_id", "bigint"), ("email", "string")]),
        (ANALYTICS, "inventory", "Table", {"tableType": "ICEBERG", "isPartitioned": False},
         [("sku", "string"), ("warehouse", "string")]),
        (ANALYTICS, "daily_orders", "Table", {}, [("dt", "date")]),
        (ANALYTICS, "daily_revenue", "View", {"definition": "SELECT 1"},
         [("dt", "date"), ("revenue", "decimal(38,2)"), ("orders_count", "bigint")]),
    ]
    for schema, name, kind, extra, columns in tables:
        qn = f"{schema}/{name}"
        attributes = {**db, "schemaName": schema.rsplit("/", 1)[1], "schemaQualifiedName": schema,
                      "columnCount": len(columns), "sourceCreatedAt": 1_700_000_000_000, **extra}
        out.append(AssetRecord(kind, qn, name, schema, attributes))
        prefix = "view" if kind == "View" else "table"
        for order, (column, data_type) in enumerate(columns, 1):
            out.append(AssetRecord("Column", f"{qn}/{column}", column, qn, {
                **db, "schemaName": schema.rsplit("/", 1)[1], "schemaQualifiedName": schema,
                f"{prefix}Name": name, f"{prefix}QualifiedName": qn, "order": order, "dataType": data_type,
                "isPartition": False}))
    return out


@pytest.fixture()
def catalog(engine: sa.Engine) -> sa.Engine:
    publisher = Publisher(engine, clock=lambda: CREATED)
    publisher.publish(_records())
    Publisher(engine, clock=lambda: CREATED + timedelta(days=1)).publish(
        [AssetRecord("Table", f"{ANALYTICS}/legacy", "legacy", ANALYTICS, {"connectionQualifiedName": C,
                                                                         "schemaQualifiedName": ANALYTICS})])
    Publisher(engine).archive([f"{ANALYTICS}/legacy"])
    return engine


def search(engine: sa.Engine, query: dict | None = None, **dsl) -> dict:
    return index_search(engine, {"dsl": {"size": 100, **({"query": query} if query else {}), **dsl}})


def names(engine: sa.Engine, query: dict | None = None, **dsl) -> list[str]:
    return [e["attributes"]["name"] for e in search(engine, query, **dsl).get("entities", [])]


def found(engine: sa.Engine, query: dict) -> set[str]:
    return set(names(engine, query))


TABLES = {"orders", "orders_archive", "customers", "inventory", "daily_orders"}


def test_every_clause_gives_exact_rows(catalog: sa.Engine) -> None:
    active = {"term": {"__state": "ACTIVE"}}
    typed = {"bool": {"filter": [active, {"term": {"__typeName.keyword": {"value": "TABLE"}}}]}}
    assert found(catalog, typed) == TABLES  # case-insensitive type names, as find_connections_by_name needs
    assert found(catalog, {"terms": {"__typeName.keyword": ["view", "Schema"]}}) == {"daily_revenue", "sales",
                                                                                    "analytics"}
    assert found(catalog, {"term": {"__state": "DELETED"}}) == {"legacy"}
    assert found(catalog, {"term": {"__superTypeNames.keyword": "SQL"}}) >= TABLES | {"AwsDataCatalog"}
    assert "production" not in found(catalog, {"term": {"__superTypeNames.keyword": "SQL"}})
    assert found(catalog, {"bool": {"filter": [{"term": {"__typeName.keyword": "CONNECTION"}},
                                               {"term": {"name.keyword": "production"}},
                                               {"term": {"connectorName": "glue"}}]}}) == {"production"}
    guid = search(catalog, {"term": {"name.keyword": "inventory"}})["entities"][0]["guid"]
    assert found(catalog, {"term": {"__guid": guid}}) == {"inventory"}
    assert found(catalog, {"term": {"qualifiedName": f"{SALES}/orders"}}) == {"orders"}
    assert found(catalog, {"bool": {"filter": [active, {"term": {"schemaQualifiedName": SALES}},
                                               {"term": {"__typeName.keyword": "Table"}}]}}) == \
        {"orders", "orders_archive", "customers"}
    assert found(catalog, {"term": {"tableQualifiedName": f"{SALES}/customers"}}) == {"customer_id", "email"}
    assert found(catalog, {"term": {"viewQualifiedName": f"{ANALYTICS}/daily_revenue"}}) == \
        {"dt", "revenue", "orders_count"}
    assert found(catalog, {"prefix": {"qualifiedName": f"{SALES}/orders_"}}) == {"orders_archive", "order_id"}
    assert found(catalog, {"prefix": {"qualifiedName": f"{SALES}/ORDERS_"}}) == set()
    assert found(catalog, {"prefix": {"qualifiedName": {"value": f"{SALES}/ORDERS_", "case_insensitive": True}}}) \
        == {"orders_archive", "order_id"}
    assert found(catalog, {"wildcard": {"name.keyword": "daily_*"}}) == {"daily_orders", "daily_revenue"}
    assert found(catalog, {"regexp": {"name.keyword": "orders(_[a-z]+)?"}}) == {"orders", "orders_archive",
                                                                              "orders_count"}
    assert found(catalog, {"bool": {"filter": [{"term": {"dataType": "bigint"}},
                                               {"range": {"order": {"gte": 2}}}]}}) == {"customer_id", "orders_count"}
    assert found(catalog, {"range": {"rowCount": {"gt": 100}}}) == {"orders", "orders_archive"}
    assert found(catalog, {"term": {"isPartitioned": False}}) == {"customers", "inventory"}
    assert found(catalog, {"range": {"sourceCreatedAt": {"gte": "2023-11-14", "lt": 1_700_000_000_001}}}) \
        == TABLES | {"daily_revenue"}
    assert found(catalog, {"range": {"__timestamp": {"gt": int(CREATED.timestamp() * 1000)}}}) == {"legacy"}
    assert found(catalog, {"range": {"__modificationTimestamp": {"gte": "now-1h"}}}) == {"legacy"}
    assert found(catalog, {"term": {"adminUsers": "alice"}}) == {"production"}
    assert found(catalog, {"bool": {"filter": [{"exists": {"field": "description"}}, active]}}) == \
        {"sales", "orders", "orders_archive", "customers"}
    assert found(catalog, {"bool": {"must": [{"term": {"__typeName.keyword": "Table"}}],
                                    "must_not": [{"term": {"isPartitioned": True}}, {"term": {"__state": "DELETED"}}],
                                    "should": [{"prefix": {"name.keyword": "cust"}}, {"prefix": {"name": "inv"}}],
                                    "minimum_should_match": 1}}) == {"customers", "inventory"}
    assert found(catalog, {"term": {"__traitNames": "PII"}}) == set()
    assert names(catalog, {"term": {"__typeName.keyword": "Column"}}, sort=[{"order": {"order": "desc"}},
                                                                           {"name.keyword": "asc"}])[:3] == \
        ["note", "amount", "orders_count"]


def test_full_text_ranks_exact_name_then_prefix_then_description_then_columns(catalog: sa.Engine) -> None:
    # Exact name, names starting with it (alphabetically), a word of a name, descriptions, a view's column.
    ranked = names(catalog, {"multi_match": {"query": "orders"}})
    assert ranked == ["orders", "orders_archive", "orders_count", "daily_orders", "customers", "daily_revenue"]
    # The same tiers through the one-expression ranking (a sort on _score, then another key).
    generic = names(catalog, {"multi_match": {"query": "orders"}}, sort=[{"_score": "desc"}, {"__guid": "asc"}])
    assert generic[0] == "orders" and set(generic[1:3]) == {"orders_archive", "orders_count"}
    assert generic[3:] == ["daily_orders", "customers", "daily_revenue"]
    page = [names(catalog, {"multi_match": {"query": "orders"}}, size=2, **{"from": start}) for start in (0, 2, 4, 6)]
    assert [n for p in page for n in p] == ranked and page[-1] == []
    assert search(catalog, {"match": {"name": "orders"}})["approximateCount"] == 4  # names only
    assert set(names(catalog, {"match": {"description": "orders"}})) == {"orders", "orders_archive", "customers"}
    assert names(catalog, {"multi_match": {"query": "all customer", "operator": "and"}}) == ["orders"]
    # As-you-type: the last word is a prefix; a typo finds the nearest indexed word.
    assert names(catalog, {"multi_match": {"query": "wareh"}}) == ["warehouse", "inventory"]
    assert names(catalog, {"multi_match": {"query": "custmers"}})[0] == "customers"
    assert names(catalog, {"multi_match": {"query": "zzzzqqq"}}) == []
    # Full text with filters and an explicit _score sort; archived assets are never found.
    tables = {"bool": {"must": [{"multi_match": {"query": "orders"}}],
                       "filter": [{"term": {"__typeName.keyword": "Table"}}]}}
    assert names(catalog, tables, sort=[{"_score": "desc"}]) == \
        ["orders", "orders_archive", "daily_orders", "customers"]
    assert names(catalog, {"multi_match": {"query": "legacy"}}) == []


def test_facets_paging_and_size(catalog: sa.Engine) -> None:
    body = {"size": 2, "aggregations": {"types": {"terms": {"field": "__typeName.keyword"}},
                                        "schemas": {"terms": {"field": "schemaQualifiedName", "size": 1}}}}
    answer = search(catalog, {"term": {"__state": "ACTIVE"}}, **body)
    assert answer["approximateCount"] == 4 + 6 + 13 and len(answer["entities"]) == 2
    types = {b["key"]: b["doc_count"] for b in answer["aggregations"]["types"]["buckets"]}
    assert types == {"Column": 13, "Table": 5, "Schema": 2, "View": 1, "Connection": 1, "Database": 1}
    schemas = answer["aggregations"]["schemas"]
    assert schemas["buckets"] == [{"key": SALES, "doc_count": 11}] and schemas["sum_other_doc_count"] == 10

    # from/size exactly: pages of 3 in guid order give every column once; past the end there is no page.
    columns = {"term": {"__typeName.keyword": "Column"}}
    everything = names(catalog, columns, sort=[{"__guid": "asc"}])
    pages = [names(catalog, columns, sort=[{"__guid": "asc"}], size=3, **{"from": start}) for start in range(0, 15, 3)]
    assert [n for page in pages for n in page] == everything and len(everything) == 13
    past = search(catalog, columns, size=3, **{"from": 30})
    assert "entities" not in past and past["approximateCount"] == 13
    assert search(catalog, columns, size=0)["approximateCount"] == 13


def test_size_is_capped(engine: sa.Engine) -> None:
    table = f"{SALES}/wide"
    Publisher(engine).publish([AssetRecord("Table", table, "wide", SALES, {})] + [
        AssetRecord("Column", f"{table}/c{i:04d}", f"c{i:04d}", table, {"order": i}) for i in range(MAX_PAGE + 5)])
    answer = index_search(engine, {"dsl": {"size": 5000, "query": {"term": {"__typeName.keyword": "Column"}}}})
    assert len(answer["entities"]) == MAX_PAGE and answer["approximateCount"] == MAX_PAGE + 5


@pytest.mark.parametrize(("dsl", "named"), [
    ({"query": {"fuzzy": {"name": "x"}}}, "'fuzzy'"),
    ({"query": {"bool": {"filter": [{"geo_shape": {}}]}}}, "query.bool.filter[0]"),
    ({"query": {"term": {"__nonsense": "x"}}}, "'__nonsense'"),
    ({"query": {"term": {"name.text": "x"}}}, "'name.text'"),
    ({"query": {"match": {"qualifiedName": "x"}}}, "'qualifiedName'"),
    ({"aggregations": {"a": {"avg": {"field": "order"}}}}, "'avg'"),
    ({"size": -1}, "'size'"),
    ({"sort": [{"adminUsers": "asc"}]}, "'adminUsers'"),
])
def test_unsupported_requests_name_what_is_wrong(catalog: sa.Engine, dsl: dict, named: str) -> None:
    with pytest.raises(InvalidRequest) as error:
        index_search(catalog, {"dsl": dsl})
    assert named in error.value.message
    with pytest.raises(InvalidRequest, match="attributes"):
        index_search(catalog, {"dsl": {}, "attributes": "name"})


def test_entities_relationships_and_enums(catalog: sa.Engine) -> None:
    wanted = ["atlanSchema", "columns", "tableType", "rowCount", "description", "table"]
    answer = index_search(catalog, {"dsl": {"query": {"terms": {"name.keyword": ["orders", "inventory"]}},
                                            "sort": [{"name.keyword": "desc"}]},
                                    "attributes": wanted, "relationAttributes": ["dataType"]})
    orders, inventory = answer["entities"]
    assert orders["attributes"]["atlanSchema"]["uniqueAttributes"] == {"qualifiedName": SALES}
    assert [c["attributes"]["name"] for c in orders["attributes"]["columns"]] == \
        ["order_id", "customer_id", "amount", "note"]
    assert orders["attributes"]["columns"][0]["attributes"]["dataType"] == "bigint"
    assert "tableType" not in orders["attributes"]  # EXTERNAL_TABLE is not a value pyatlan accepts
    assert inventory["attributes"]["tableType"] == "ICEBERG" and "table" not in inventory["attributes"]
    assert orders["classificationNames"] == [] and orders["status"] == "ACTIVE"

    entity = get_entity(catalog, type_name="Table", qualified_name=f"{SALES}/orders", relationships=True)["entity"]
    assert entity["relationshipAttributes"]["atlanSchema"]["typeName"] == "Schema"
    assert len(entity["relationshipAttributes"]["columns"]) == 4 and entity["attributes"]["rowCount"] == 500
    column = get_entity(catalog, guid=entity["relationshipAttributes"]["columns"][0]["guid"], relationships=True)
    assert column["entity"]["relationshipAttributes"] == {"table": {**column["entity"]["relationshipAttributes"]
                                                                    ["table"], "guid": entity["guid"]},
                                                          "nestedColumns": [], "meanings": []}
    schema = get_entity(catalog, type_name="Schema", qualified_name=ANALYTICS, relationships=True)["entity"]
    related = schema["relationshipAttributes"]
    assert {t["attributes"]["name"] for t in related["tables"]} == {"inventory", "daily_orders"}  # not archived
    assert [v["attributes"]["name"] for v in related["views"]] == ["daily_revenue"]
    assert related["database"]["uniqueAttributes"]["qualifiedName"] == DB
    assert "relationshipAttributes" not in get_entity(catalog, type_name="Database", qualified_name=DB)["entity"]
    with pytest.raises(NotFound, match=r"Instance Table with unique attribute \{qualifiedName=.*/nope\} does not"):
        get_entity(catalog, type_name="Table", qualified_name=f"{SALES}/nope")
    with pytest.raises(NotFound, match="Given instance guid nope is invalid/not found"):
        get_entity(catalog, guid="nope")
    with pytest.raises(NotFound):
        get_entity(catalog, type_name="Table", qualified_name=f"{ANALYTICS}/legacy")  # archived


def _save(engine: sa.Engine, principal: Principal, *entities: dict) -> dict:
    return bulk_upsert(engine, {"entities": list(entities)}, principal)


def test_curated_attributes_survive_a_republish_and_are_searchable(catalog: sa.Engine) -> None:
    orders = f"{SALES}/orders"
    answer = _save(catalog, ALICE, {"typeName": "Table", "guid": "-1", "attributes": {
        "qualifiedName": orders, "name": "orders", "userDescription": "Checkout ledger, one row per line",
        "ownerUsers": ["alice", "bob"], "certificateStatus": "VERIFIED", "connectorName": "glue"}})
    (updated,) = answer["mutatedEntities"]["UPDATE"]
    assert answer["guidAssignments"] == {"-1": updated["guid"]} and "CREATE" not in answer["mutatedEntities"]

    records = [r for r in _records() if r.qualified_name == orders]
    changed = AssetRecord("Table", orders, "orders", SALES, {**records[0].attributes, "description": "Changed"})
    Publisher(catalog).publish([changed])
    entity = get_entity(catalog, type_name="Table", qualified_name=orders)["entity"]["attributes"]
    assert entity["userDescription"] == "Checkout ledger, one row per line" and entity["description"] == "Changed"
    assert entity["ownerUsers"] == ["alice", "bob"] and entity["certificateStatus"] == "VERIFIED"
    assert entity["certificateUpdatedBy"] == "alice"
    assert names(catalog, {"multi_match": {"query": "ledger"}}) == ["orders"]  # the curated text is indexed
    assert found(catalog, {"term": {"ownerUsers": "bob"}}) == {"orders"}
    assert found(catalog, {"term": {"certificateStatus": "VERIFIED"}}) == {"orders"}

    update_curated(catalog, updated["guid"], ADMIN, {"userDescription": None, "certificateStatus": "DRAFT"})
    assert names(catalog, {"multi_match": {"query": "ledger"}}) == []
    with pytest.raises(InvalidRequest, match="certificateStatus"):
        update_curated(catalog, updated["guid"], ADMIN, {"certificateStatus": "GOLD"})
    with pytest.raises(InvalidRequest, match="rowCount"):
        update_curated(catalog, updated["guid"], ADMIN, {"rowCount": 1})


def test_who_may_change_what(catalog: sa.Engine) -> None:
    table = {"typeName": "Table", "attributes": {"qualifiedName": f"{SALES}/orders", "name": "orders",
                                                 "userDescription": "x"}}
    for principal in (BOB, GUEST):
        with pytest.raises(PermissionDenied):
            _save(catalog, principal, table)
    _save(catalog, ALICE, table)
    with pytest.raises(InvalidRequest, match="rowCount"):
        _save(catalog, ADMIN, {**table, "attributes": {**table["attributes"], "rowCount": 1}})
    with pytest.raises(InvalidRequest, match="unknown typeName 'Dashboard'"):
        _save(catalog, ADMIN, {"typeName": "Dashboard", "attributes": {}})
    for malformed in ({}, {"entities": "x"}, {"entities": [{"attributes": {}}]}):
        with pytest.raises(InvalidRequest):
            bulk_upsert(catalog, malformed, ADMIN)

    # New assets: a table (and its column) under an existing schema, and a connection.
    new = f"{SALES}/returns"
    answer = _save(catalog, ALICE,
                   {"typeName": "Column", "guid": "-2", "attributes": {"qualifiedName": f"{new}/reason",
                                                                      "name": "reason", "order": 1}},
                   {"typeName": "Table", "guid": "-1", "attributes": {
                       "qualifiedName": new, "name": "returns", "description": "Returned goods",
                       "atlanSchema": {"typeName": "Schema", "uniqueAttributes": {"qualifiedName": SALES}}}})
    assert {e["typeName"] for e in answer["mutatedEntities"]["CREATE"]} == {"Table", "Column"}
    created = get_entity(catalog, guid=answer["guidAssignments"]["-1"], relationships=True)["entity"]
    assert created["attributes"]["schemaQualifiedName"] == SALES and created["attributes"]["connectorName"] == "glue"
    assert [c["attributes"]["name"] for c in created["relationshipAttributes"]["columns"]] == ["reason"]
    assert names(catalog, {"multi_match": {"query": "reason"}}) == ["reason", "returns"]  # found by its column
    with pytest.raises(NotFound, match="Schema"):
        _save(catalog, ADMIN, {"typeName": "Table", "attributes": {"qualifiedName": f"{DB}/nope/t", "name": "t"}})
    with pytest.raises(PermissionDenied):
        _save(catalog, BOB, {"typeName": "Connection", "attributes": {
            "qualifiedName": "default/glue/2", "name": "mine", "adminUsers": ["alice"]}})
    _save(catalog, BOB, {"typeName": "Connection", "attributes": {
        "qualifiedName": "default/glue/2", "name": "mine", "adminUsers": ["bob"], "connectorName": "glue"}})
    assert found(catalog, {"term": {"__typeName.keyword": "CONNECTION"}}) == {"production", "mine"}
    with catalog.connect() as conn:
        assert conn.execute(sa.select(assets.c.created_by).where(assets.c.name == "mine")).scalar() == "bob"


def test_tables_are_found_by_their_current_columns(engine: sa.Engine) -> None:
    table = f"{SALES}/zoo"

    def publish(*columns: str) -> None:
        records = [AssetRecord("Table", table, "zoo", SALES, {"columnCount": len(columns)})]
        records += [AssetRecord("Column", f"{table}/{name}", name, table, {"order": i})
                    for i, name in enumerate(columns, 1)]
        Publisher(engine).publish(records, complete_parents=[table])

    publish("zebra_id", "lion_name")
    assert names(engine, {"multi_match": {"query": "zebra"}}) == ["zebra_id", "zoo"]
    # All words required: they may come from the table's own name and its columns' names together.
    assert names(engine, {"multi_match": {"query": "zoo zebra lion", "operator": "and"}}) == ["zoo"]
    assert names(engine, {"multi_match": {"query": "zebra lion", "operator": "and", "fields": ["columns"]}}) \
        == ["zoo"]
    publish("zebra_id", "lion_name", "yak_code")  # a column added by a later crawl
    assert names(engine, {"multi_match": {"query": "yak"}}) == ["yak_code", "zoo"]
    publish("zebra_id", "kiwi_x", "lion_name", "yak_code")  # one added in the middle
    assert names(engine, {"multi_match": {"query": "kiwi"}}) == ["kiwi_x", "zoo"]
    publish("kiwi_x", "lion_name", "yak_code")  # a column dropped: archived, and no longer finds its table
    assert names(engine, {"multi_match": {"query": "zebra"}}) == []
    assert names(engine, {"multi_match": {"query": "lion"}}) == ["lion_name", "zoo"]
    # Columns written before their table (records in any order) still lead to it.
    other = f"{SALES}/aviary"
    Publisher(engine).publish([AssetRecord("Column", f"{other}/owl_id", "owl_id", other, {"order": 1}),
                               AssetRecord("Table", other, "aviary", SALES, {"columnCount": 1})])
    assert names(engine, {"multi_match": {"query": "owl"}}) == ["owl_id", "aviary"]
    Publisher(engine).archive([other])
    assert names(engine, {"multi_match": {"query": "owl"}}) == []


def test_track_total_hits_as_a_number_caps_the_count(catalog: sa.Engine) -> None:
    columns = {"term": {"__typeName.keyword": "Column"}}
    assert search(catalog, columns, size=2, track_total_hits=5)["approximateCount"] == 5
    assert search(catalog, columns, size=2, track_total_hits=True)["approximateCount"] == 13
    assert search(catalog, columns, size=20, track_total_hits=5)["approximateCount"] == 13  # all on the page


def test_track_total_hits_caps_a_ranked_full_text_count(catalog: sa.Engine) -> None:
    """The ranked path counts from the full-text index alone, and stops at the cap as the others do."""
    orders = {"multi_match": {"query": "orders"}}
    exact = search(catalog, orders, size=1, track_total_hits=True)["approximateCount"]
    assert exact == len(found(catalog, orders)) > 3
    assert search(catalog, orders, size=1, track_total_hits=3)["approximateCount"] == 3
    assert search(catalog, orders, size=1)["approximateCount"] == exact  # under the default cap of 10,000


def test_full_text_bounds(catalog: sa.Engine) -> None:
    with pytest.raises(InvalidRequest, match="query text of the 'multi_match' clause at query is 1,001 characters"):
        search(catalog, {"multi_match": {"query": "orders " * 143}})
    with pytest.raises(InvalidRequest, match="has a word of 256 characters; at most 255 are accepted"):
        search(catalog, {"match": {"name": "orders " + "k" * 256}})
    assert names(catalog, {"match": {"name": "k" * 255}}) == []
    assert names(catalog, {"multi_match": {"query": "orders " * 142}})[0] == "orders"


def test_typo_tolerance_skips_long_words_and_stops_after_ten(catalog: sa.Engine) -> None:
    report = "supercalifragilisticexpialidociousreport"  # 40 letters: a typo in it is corrected
    Publisher(catalog).publish([AssetRecord("Table", f"{SALES}/{name}", name, SALES, {})
                                for name in (report, report + "ing")])
    assert names(catalog, {"match": {"name": report.replace("rep", "rop")}})[0] == report
    # 43 letters: pasted, not typed; the trigram lookup of such a word is what costs (see fulltext.py).
    assert names(catalog, {"match": {"name": report.replace("rep", "rop") + "ing"}}) == []
    assert names(catalog, {"match": {"name": report + "ing"}}) == [report + "ing"]
    # Only the first ten words that may be misspelt are looked up: here "custmers" is the eleventh.
    unknown = [f"zqzq{letter}" for letter in "abcdefghij"]
    assert "customers" in found(catalog, {"multi_match": {"query": " ".join([*unknown[:9], "custmers"])}})
    assert found(catalog, {"multi_match": {"query": " ".join([*unknown, "custmers"])}}) == set()


def test_the_most_sort_keys_and_facets_a_search_may_have(catalog: sa.Engine) -> None:
    sort = [{f"attribute{i}": "asc"} for i in range(63)] + [{"name": "asc"}]
    assert names(catalog, {"term": {"__typeName.keyword": "Schema"}}, sort=sort) == ["analytics", "sales"]
    facets = {f"a{i}": {"terms": {"field": f"attribute{i}"}} for i in range(99)}
    answer = search(catalog, size=0, aggs={**facets, "types": {"terms": {"field": "__typeName.keyword", "size": 2}}})
    assert [b["key"] for b in answer["aggregations"]["types"]["buckets"]] == ["Column", "Table"]


def test_attributes_no_cast_can_read_do_not_fail_searches(catalog: sa.Engine) -> None:
    # The bulk API stores attributes as sent; PostgreSQL's CAST of 'lots' (or of 1e30 to bigint) would fail
    # every query comparing that attribute, for everyone.
    Publisher(catalog).publish([AssetRecord("Table", f"{SALES}/odd", "odd", SALES, {
        "rowCount": "lots", "sourceCreatedAt": 10**30, "isPartitioned": "maybe", "averageRecordSize": 10**400})])
    tables = {"term": {"__typeName.keyword": "Table"}}
    assert found(catalog, {"range": {"rowCount": {"gte": 1}}}) == {"orders", "orders_archive", "customers"}
    assert "odd" not in found(catalog, {"term": {"isPartitioned": True}})
    assert "orders" in found(catalog, {"range": {"sourceCreatedAt": {"gte": "now-100y"}}})
    assert found(catalog, {"range": {"averageRecordSize": {"gte": 0}}}) <= {"odd"}  # infinity on SQLite
    assert "odd" in names(catalog, tables, sort=[{"rowCount": "desc"}, {"sourceCreatedAt": "asc"}])
