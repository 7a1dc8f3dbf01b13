"""The audit search (POST /api/meta/entity/auditSearch) over a real catalog, on SQLite and PostgreSQL: what crawls
and edits recorded, found by field, moment, sort and page; JSON and booleans read back alike on both; refusals
that say what is supported; look-ups that use the history's indexes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from gazetteer.api.audit import audit_search
from gazetteer.assets.curation import AssetChange, save_assets, update_curated
from gazetteer.assets.publish import Publisher
from gazetteer.assets.records import AssetRecord
from gazetteer.auth.principal import ADMIN_ROLE, Principal
from gazetteer.devtools.sample_catalog import seed_sample_catalog
from gazetteer.errors import InvalidRequest
from gazetteer.packages.glue.config import parse_config
from gazetteer.packages.glue.crawl import crawl
from gazetteer.store.schema import asset_events
from gazetteer.workflows.models import runs, workflows
from tests.assets.test_history import change_orders

REGION = "us-east-1"
WORKFLOW = "atlan-glue-1700000000"
FIRST, SECOND = f"{WORKFLOW}-abcde", f"{WORKFLOW}-fghij"
ADA = Principal(user_id="u-1", username="ada", roles=frozenset({ADMIN_ROLE}))
T0 = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)
MS = 1714543200000  # T0 in epoch milliseconds


def _search(engine: sa.Engine, query: dict | None = None, **dsl: Any) -> dict:
    return audit_search(engine, {"dsl": {"size": 100, **({"query": query} if query else {}), **dsl}})


def _term(field: str, value: Any) -> dict:
    return {"term": {field: value}}


def _filter(*clauses: dict) -> dict:
    return {"bool": {"filter": list(clauses)}}


def _keys(answer: dict) -> list[str]:
    return [audit["eventKey"] for audit in answer["entityAudits"]]


def _crawl(engine: sa.Engine, run: str) -> None:
    config = parse_config(connection_name="lake", region=REGION, access_key="AKIATEST", secret_key="s3cr3t")
    report = crawl(engine, config, key=run)
    assert report.status == "Succeeded", report.message


@pytest.fixture()
def lake(glue, engine: sa.Engine):
    """The sample catalog crawled by the first run of a Glue workflow: (engine, glue client, orders' event)."""
    client = glue.client(REGION)
    seed_sample_catalog(client, s3=glue.s3_client(REGION))
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(workflows.insert().values(name=WORKFLOW, uid=str(uuid.uuid4()), package="@atlan/glue",
                                               connection_qualified_name="default/glue/1700000000", document={},
                                               created_at=now, updated_at=now, created_by="ada"))
        conn.execute(runs.insert().values([
            {"name": run, "uid": str(uuid.uuid4()), "workflow_name": WORKFLOW, "template_refs": [WORKFLOW, run],
             "phase": "Succeeded", "created_at": now, "created_by": "ada"} for run in (FIRST, SECOND)]))
    _crawl(engine, FIRST)
    (orders,) = _search(engine, _filter(_term("typeName", "Table"), _term("gazetteerAction", "created")),
                        size=1000, post_filter={"match": {"entityQualifiedName": _orders_qn(engine)}}
                        )["entityAudits"]
    return engine, client, orders


def _orders_qn(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT qualified_name FROM assets WHERE type_name = 'Table' "
                                    "AND qualified_name LIKE '%/sales/orders'")).scalar_one()


def test_a_crawl_is_answered_as_atlan_audits(lake) -> None:
    engine, _, orders = lake
    assert orders["action"] == "ENTITY_CREATE" and orders["user"] == FIRST and orders["typeName"] == "Table"
    assert orders["headers"] == {"x-atlan-agent": "workflow", "x-atlan-agent-id": FIRST,
                                 "x-atlan-agent-workflow-id": WORKFLOW, "x-atlan-agent-package-name": "@atlan/glue"}
    assert orders["created"] == orders["timestamp"] and isinstance(orders["created"], int)
    assert orders["eventKey"].startswith(orders["entityId"] + ":")
    assert orders["detail"] == {"typeName": "Table", "guid": orders["entityId"], "status": "ACTIVE",
                                "attributes": {"qualifiedName": orders["entityQualifiedName"], "name": "orders"}}
    assert orders["entityDetail"]["guid"] == orders["entityId"] and orders["entityDetail"]["status"] == "ACTIVE"
    assert (orders["gazetteerAction"], orders["agent"], orders["run"]) == ("created", "crawl", FIRST)
    assert orders["breaking"] is False and orders["changes"] == {} and orders["diff"] == orders["affected"] == []

    by_guid = _search(engine, _filter(_term("entityId", orders["entityId"])),
                      sort=[{"created": {"order": "desc"}}, {"entityId": {"order": "asc"}}])
    assert _keys(by_guid) == [orders["eventKey"]] and by_guid["totalCount"] == by_guid["count"] == 1
    assert by_guid["aggregations"] == {}
    # A column's creation carries its shape, as JSON read back alike on both databases.
    amount = _search(engine, {"bool": {"must": [_term("entityQualifiedName", orders["entityQualifiedName"] + "/amount"),
                                                _term("typeName.keyword", "Column")]}})["entityAudits"][0]
    assert amount["changes"]["dataType"] == {"old": None, "new": "decimal(12,2)"}
    assert amount["detail"]["attributes"]["dataType"] == "decimal(12,2)"
    assert amount["tableQualifiedName"] == orders["entityQualifiedName"]


def test_a_crawl_that_can_still_be_rolled_back_is_not_seen(lake) -> None:
    engine, _, orders = lake
    schema = orders["entityQualifiedName"].rsplit("/", 1)[0]
    publisher = Publisher(engine, actor="crawl-pending", undoable=True)
    publisher.publish([AssetRecord("Table", f"{schema}/fresh", "fresh", schema,
                                   {"connectionQualifiedName": schema.split("/AwsDataCatalog")[0]})])
    assert _search(engine, _term("run", "crawl-pending"))["totalCount"] == 0
    assert _search(engine, _term("user", "crawl-pending"))["entityAudits"] == []
    publisher.commit()
    (created,) = _search(engine, _term("run", "crawl-pending"))["entityAudits"]
    # A crawl outside a workflow (gazetteer crawl) has a run but no workflow to name.
    assert created["headers"] == {"x-atlan-agent": "workflow", "x-atlan-agent-id": "crawl-pending"}


def test_schema_changes_and_edits_found_by_their_fields(lake) -> None:
    engine, client, orders = lake
    guid, qualified_name = orders["entityId"], orders["entityQualifiedName"]
    change_orders(client, drop="currency", retype=("order_id", "int"))
    _crawl(engine, SECOND)
    update_curated(engine, guid, ADA, {"userDescription": "Every order"})  # the UI
    save_assets(engine, [AssetChange("Table", {"qualifiedName": qualified_name, "name": "orders",
                                               "certificateStatus": "VERIFIED"}, None, "entities[0]")], ADA)

    certified, described, recrawled, created = _search(engine, _filter(_term("entityId", guid)))["entityAudits"]
    assert [a["action"] for a in (certified, described, recrawled, created)] == [
        "ENTITY_UPDATE", "ENTITY_UPDATE", "ENTITY_UPDATE", "ENTITY_CREATE"]
    assert certified["headers"] == {"x-atlan-agent": "sdk"} and described["headers"] is None
    assert certified["user"] == described["user"] == "ada" and certified["agent"] == "api"
    assert certified["changes"]["certificateStatus"] == {"old": None, "new": "VERIFIED"}
    assert certified["detail"]["attributes"]["certificateStatus"] == "VERIFIED"
    assert described["detail"]["attributes"]["userDescription"] == "Every order"
    assert certified["entityDetail"]["attributes"] == {"qualifiedName": qualified_name, "name": "orders"}
    assert recrawled["breaking"] is True and recrawled["run"] == SECOND
    assert recrawled["headers"]["x-atlan-agent-id"] == SECOND
    kinds = {(change["change"], change.get("column")) for change in recrawled["diff"]}
    assert {("column_dropped", "currency"), ("type_changed", "order_id")} <= kinds
    assert recrawled["affected"] and all(isinstance(name, str) for name in recrawled["affected"])

    # Booleans: a term, a string, terms, a match and must_not all mean the same on both databases.
    breaking = _keys(_search(engine, _term("breaking", True)))
    assert recrawled["eventKey"] in breaking
    assert _keys(_search(engine, _term("breaking", "true"))) == breaking
    assert _keys(_search(engine, {"terms": {"breaking": [True]}})) == breaking
    assert _keys(_search(engine, {"match": {"breaking": "true"}})) == breaking
    not_breaking = _search(engine, {"bool": {"must_not": [_term("breaking", True)]}}, size=0)["totalCount"]
    assert not_breaking + len(breaking) == _search(engine, size=0)["totalCount"]

    # The dropped column: archived, an ENTITY_DELETE, found by its table and by Gazetteer's own action name.
    columns = _search(engine, _filter(_term("tableQualifiedName", qualified_name), _term("run", SECOND)))
    by_action = {(a["entityQualifiedName"].rsplit("/", 1)[1], a["action"]) for a in columns["entityAudits"]}
    assert ("currency", "ENTITY_DELETE") in by_action and ("order_id", "ENTITY_UPDATE") in by_action
    (dropped,) = _search(engine, _filter(_term("action", "ENTITY_DELETE"), _term("gazetteerAction", "archived"),
                                         _term("entityQualifiedName", qualified_name + "/currency")))["entityAudits"]
    assert dropped["detail"]["status"] == "DELETED" and dropped["entityDetail"]["status"] == "DELETED"
    assert dropped["detail"]["attributes"] == {"qualifiedName": qualified_name + "/currency", "name": "currency"}
    assert dropped["changes"]["dataType"] == {"old": "string", "new": None}

    answer = _search(engine, _term("connectionQualifiedName", orders["connectionQualifiedName"]), size=0,
                     aggregations={"breaking": {"terms": {"field": "breaking"}},
                                   "actions": {"terms": {"field": "action", "size": 5}},
                                   "by": {"terms": {"field": "user"}}})
    aggregations = answer["aggregations"]
    assert {bucket["key_as_string"]: bucket["doc_count"] for bucket in aggregations["breaking"]["buckets"]} == {
        "true": len(breaking), "false": not_breaking}  # every event here is of the one connection
    assert {bucket["key"] for bucket in aggregations["actions"]["buckets"]} == {
        "ENTITY_CREATE", "ENTITY_UPDATE", "ENTITY_DELETE"}
    assert {bucket["key"] for bucket in aggregations["by"]["buckets"]} == {FIRST, SECOND, "ada"}


def _insert(engine: sa.Engine, *moments: datetime, guid: str = "g-1", **values: Any) -> list[str]:
    rows = [{"at": at, "action": "updated", "asset_guid": guid, "type_name": "Table", "qualified_name": f"q/{guid}",
             "name": guid, "connection_qualified_name": "q", "actor": "ada", "agent": "api",
             "changes": {"userDescription": [None, str(i)]}, **values} for i, at in enumerate(moments)]
    with engine.begin() as conn:
        ids = [conn.execute(asset_events.insert().values(row).returning(asset_events.c.id)).scalar_one()
               for row in rows]
    return [f"{guid}:{i}" for i in ids]


def test_moments_compare_to_the_millisecond(engine: sa.Engine) -> None:
    a, b, c, d = _insert(engine, T0, T0 + timedelta(microseconds=400), T0 + timedelta(microseconds=999),
                         T0 + timedelta(milliseconds=1))
    assert {audit["created"] for audit in _search(engine)["entityAudits"]} == {MS, MS + 1}

    def keys(query: dict) -> set[str]:
        return set(_keys(_search(engine, query)))

    assert keys(_term("created", MS)) == {a, b, c}
    assert keys(_term("timestamp", str(MS))) == {a, b, c}  # epoch milliseconds as text
    assert keys({"terms": {"created": [MS + 1, MS + 5]}}) == {d}
    assert keys({"terms": {"created": []}}) == set()
    assert keys({"range": {"created": {"gt": MS}}}) == {d}
    assert keys({"range": {"created": {"gte": MS + 1}}}) == {d}
    assert keys({"range": {"created": {"lte": MS}}}) == {a, b, c}
    assert keys({"range": {"created": {"lt": MS + 1}}}) == {a, b, c}
    assert keys({"range": {"created": {"gte": "2024-05-01T06:00:00.001Z"}}}) == {d}
    assert keys({"range": {"timestamp": {"lte": "2024-05-01T06:00:00.000000Z"}}}) == {a, b, c}
    assert keys({"range": {"created": {"lte": "2024-05-01"}}}) == {a, b, c, d}  # the whole day, as ES rounds it
    assert keys({"range": {"created": {"gte": "now-1d"}}}) == set()
    assert keys({"match": {"created": "2024-05-01T06:00:00.001Z"}}) == {d}
    assert keys({"exists": {"field": "created"}}) == {a, b, c, d}


def test_sorts_pages_and_totals_are_stable(engine: sa.Engine) -> None:
    same = _insert(engine, *[T0] * 5, guid="g-same")  # a crawl's page: one moment
    later = _insert(engine, T0 + timedelta(seconds=1), T0 + timedelta(seconds=2), guid="g-later")
    newest = _keys(_search(engine))
    assert newest[:2] == later[::-1] and sorted(newest[2:]) == sorted(same)
    assert newest == _keys(_search(engine, sort=[{"entityId": "asc"}]))  # pyatlan's own tiebreaker alone
    oldest = _keys(_search(engine, sort=[{"created": "asc"}, {"entityId": {"order": "asc"}}]))
    assert oldest == newest[::-1]
    assert _keys(_search(engine, sort=[{"timestamp": {"order": "desc"}}])) == newest

    pages = [_search(engine, size=2, **{"from": start}) for start in range(0, 8, 2)]
    assert [key for page in pages for key in _keys(page)] == newest
    assert [page["totalCount"] for page in pages] == [7, 7, 7, 7] and pages[-1]["count"] == 1
    # Paging by moment, as pyatlan's bulk search does: from within the moment all five share.
    first = _search(engine, sort=[{"created": "asc"}], size=2)
    since = {"range": {"created": {"gte": first["entityAudits"][-1]["created"]}}}
    rest = _search(engine, _filter(since), sort=[{"created": "asc"}], size=2, **{"from": 2})
    assert _keys(first) + _keys(rest) == oldest[:4]

    assert _search(engine, size=0)["totalCount"] == 7 and _search(engine, size=0)["entityAudits"] == []
    assert _search(engine, size=1, track_total_hits=3)["totalCount"] == 3
    assert _search(engine, size=1, track_total_hits=False)["totalCount"] == 1
    assert _search(engine, size=1000, **{"from": 9000})["entityAudits"] == []  # within the window: an empty page


@pytest.mark.parametrize(("body", "expected"), [
    ({"dsl": {"query": _term("owner", "ada")}}, ["'owner'", "entityQualifiedName", "breaking"]),
    ({"dsl": {"query": {"prefix": {"user": "a"}}}}, ["'prefix'", "term, terms"]),
    ({"dsl": {"query": {"regexp": {"user": "a.*"}}}}, ["'regexp'", "match_all"]),
    ({"dsl": {"query": {"wildcard": {"user": "a*"}}}}, ["'wildcard'"]),
    ({"dsl": {"query": {"nested": {"path": "x", "query": {"term": {"x.y": 1}}}}}}, ["'nested'"]),
    ({"dsl": {"query": {"multi_match": {"query": "ada", "fields": ["user"]}}}}, ["'multi_match'"]),
    ({"dsl": {"query": {"ids": {"values": ["g-1:1"]}}}}, ["'_id'"]),
    ({"dsl": {"query": {"fuzzy": {"user": "ada"}}}}, ["'fuzzy'", "range"]),
    ({"dsl": {"query": {"bool": {"filter": [{"term": {"user": "a"}}, {"span_term": {}}]}}}},
     ["query.bool.filter[1]", "'span_term'"]),
    ({"dsl": {"sort": [{"user": "asc"}]}}, ["'user'", "created", "entityId"]),
    ({"dsl": {"sort": [{"created": {"order": "sideways"}}]}}, ["'asc' or 'desc'"]),
    ({"dsl": {"sort": [{"created": {"order": "asc", "nested": {"path": "created"}}}]}}, ["nested"]),
    ({"dsl": {"size": 1001}}, ["at most 1,000"]),
    ({"dsl": {"from": 10_000}}, ["10,000", "page by 'created'", "bulk=True"]),
    ({"dsl": {"from": -1}}, ["'from'"]),
    ({"dsl": {"size": "ten"}}, ["'size'"]),
    ({"dsl": {"track_total_hits": "yes"}}, ["'track_total_hits'"]),
    ({"dsl": {"highlight": {"fields": {}}}}, ["'highlight'", "'query'", "'sort'"]),
    ({"dsl": []}, ["'dsl'"]),
    ([], ["JSON object"]),
    ({"dsl": {}, "attributes": "name"}, ["'attributes'"]),
    ({"dsl": {}, "attributes": ["name"] * 101}, ["'attributes'", "at most 100"]),
    ({"dsl": {"query": {"range": {"created": {"gte": "soon"}}}}}, ["'soon'", "created"]),
    ({"dsl": {"query": {"range": {"created": {"gte": True}}}}}, ["range bound"]),
    ({"dsl": {"query": _term("created", True)}}, ["not a moment", "epoch milliseconds"]),
    ({"dsl": {"query": _term("breaking", "maybe")}}, ["not a boolean"]),
    ({"dsl": {"query": _term("user", "x" * 5000)}}, ["at most 4,096"]),
    ({"dsl": {"query": {"terms": {"user": ["a"] * 10_001}}}}, ["at most 10,000"]),
    ({"dsl": {"query": {"range": {"created": {"gte": 10**15}}}}}, ["out of range"]),
    ({"dsl": {"aggregations": {"a": {"avg": {"field": "created"}}}}}, ["'avg'"]),
    ({"dsl": {"aggregations": {"a": {"terms": {"field": "owner"}}}}}, ["'owner'"]),
])
def test_refusals_say_what_is_supported_and_change_nothing(engine: sa.Engine, body: Any, expected: list[str]) -> None:
    _insert(engine, T0)
    with pytest.raises(InvalidRequest) as refused:
        audit_search(engine, body)
    for fragment in expected:
        assert fragment in refused.value.message
    assert _search(engine, size=0)["totalCount"] == 1


def test_nesting_is_bounded(engine: sa.Engine) -> None:
    query: dict = _term("user", "ada")
    for _ in range(25):
        query = {"bool": {"filter": [query]}}
    with pytest.raises(InvalidRequest, match="more than 20 deep"):
        audit_search(engine, {"dsl": {"query": query}})
    shallow: dict = _term("user", "ada")
    for _ in range(19):
        shallow = {"bool": {"filter": [shallow], "must_not": [_term("breaking", True)]}}
    _insert(engine, T0)
    assert _search(engine, shallow)["totalCount"] == 1


def _plans(engine: sa.Engine, body: dict) -> list[str]:
    """The plans of the statements an audit search runs against asset_events."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        if "FROM asset_events" in statement and not statement.startswith("EXPLAIN"):
            seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        audit_search(engine, body)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    plans = []
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")  # a tiny table: ask whether an index *can* serve
        explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
        for statement, parameters in seen:
            rows = conn.exec_driver_sql(explain + statement, parameters).all()
            plans.append("\n".join(str(row[-1]) for row in rows))
    return plans


@pytest.mark.parametrize(("query", "index"), [
    (_filter(_term("entityId", "g-1")), "ix_asset_events_asset_guid_id"),
    ({"bool": {"must": [_term("entityQualifiedName", "q/g-1"), _term("typeName", "Table")]}},
     "ix_asset_events_qualified_name_id"),
    (_filter(_term("tableQualifiedName", "q/t")), "ix_asset_events_table_qualified_name_id"),
    (_filter(_term("run", FIRST), _term("breaking", True)), "ix_asset_events_run_id"),
    (_filter(_term("connectionQualifiedName", "q")), "ix_asset_events_connection_qualified_name_id"),
    ({"range": {"created": {"gte": MS}}}, "ix_asset_events_at"),
])
def test_look_ups_use_the_history_indexes(engine: sa.Engine, query: dict, index: str) -> None:
    _insert(engine, T0, T0, T0)
    plans = _plans(engine, {"dsl": {"size": 2, "query": query, "sort": [{"created": "desc"}, {"entityId": "asc"}]}})
    assert plans and all(index in plan for plan in plans), plans
