"""The history read with the real pyatlan 10.0.0 audit client (client.audit.search), on a live server.

The catalog is a pyatlan-run crawl of the sample catalog (tests/assets/conftest.py). Edits go through pyatlan,
schema changes through the local Glue and a re-run of the crawl's workflow. Gazetteer's own keys (changes, diff,
breaking...) are read from the same endpoint's raw JSON, as our own clients read them.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy as sa

from gazetteer.store import open_engine
from tests.assets.conftest import REGION
from tests.assets.test_history import change_orders

AUDIT = "/api/meta/entity/auditSearch"


def _qn(catalog, type_name: str, database: str, name: str) -> str:
    return next(qn for qn in catalog[type_name] if qn.endswith(f"/AwsDataCatalog/{database}/{name}"))


def _raw(server, body: dict, token: str | None = None) -> dict:
    with server.client(token) as http:
        answer = http.post(AUDIT, json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _by_guid(guid: str, size: int = 50) -> dict:
    return {"dsl": {"size": size, "query": {"bool": {"filter": [{"term": {"entityId": guid}}]}},
                    "sort": [{"created": {"order": "desc"}}, {"entityId": {"order": "asc"}}]}}


def _counts(server) -> tuple[int, int]:
    """How many events and assets the store holds: what a read must never change."""
    engine = open_engine(f"sqlite:///{server.home / 'catalog.db'}", migrate=False)
    with engine.connect() as conn:
        found = (conn.execute(sa.text("SELECT count(*) FROM asset_events")).scalar_one(),
                 conn.execute(sa.text("SELECT count(*) FROM assets")).scalar_one())
    engine.dispose()
    return found


def _rerun(client, workflow: str) -> None:
    from pyatlan.model.enums import AtlanWorkflowPhase, WorkflowPackage

    (existing,) = [w for w in client.workflow.find_by_type(prefix=WorkflowPackage.GLUE, max_results=5)
                   if w.id == workflow]
    assert client.workflow.monitor(client.workflow.rerun(existing)) == AtlanWorkflowPhase.SUCCESS


def _run_of(client, workflow: str) -> str:
    """The name of the workflow's latest run: what stamps its crawl's events."""
    run = client.workflow._find_latest_run(workflow)  # what monitor() reads, as pyatlan's own code finds it
    assert run is not None
    return run.source.metadata.name


# -- reads of the first crawl ----------------------------------------------------------------------------------


def test_a_crawled_table_has_its_create_event_by_guid(crawled_once):
    from pyatlan.model.assets import Table
    from pyatlan.model.audit import AuditActionType, AuditSearchRequest

    client, workflow, catalog, server = crawled_once
    orders_qn = _qn(catalog, "Table", "sales", "orders")
    orders = catalog["Table"][orders_qn]
    run = _run_of(client, workflow)
    results = client.audit.search(AuditSearchRequest.by_guid(orders))
    assert results.total_count == 1
    (event,) = results.current_page()
    assert event.action == AuditActionType.ENTITY_CREATE
    assert (event.entity_id, event.entity_qualified_name, event.type_name) == (orders, orders_qn, "Table")
    assert event.user == run
    assert event.headers == {"x-atlan-agent": "workflow", "x-atlan-agent-package-name": "@atlan/glue",
                             "x-atlan-agent-workflow-id": workflow, "x-atlan-agent-id": run}
    assert event.created == event.timestamp and event.event_key
    assert isinstance(event.detail, Table) and event.detail.qualified_name == orders_qn
    assert isinstance(event.entity_detail, Table) and event.entity_detail.name == "orders"

    # Gazetteer's own keys, on the same answer.
    (raw,) = _raw(server, _by_guid(orders))["entityAudits"]
    assert raw["gazetteerAction"] == "created" and raw["agent"] == "crawl" and raw["run"] == run
    assert raw["breaking"] is False and raw["diff"] == [] and raw["changes"] == {}
    assert raw["connectionQualifiedName"] == next(iter(catalog["Connection"]))


def test_by_qualified_name_and_a_column_create_carries_its_shape(crawled_once):
    from pyatlan.model.assets import Column
    from pyatlan.model.audit import AuditActionType, AuditSearchRequest

    client, _, catalog, server = crawled_once
    amount = _qn(catalog, "Table", "sales", "orders") + "/amount"
    (event,) = client.audit.search(AuditSearchRequest.by_qualified_name("Column", amount))
    assert event.action == AuditActionType.ENTITY_CREATE and event.entity_id == catalog["Column"][amount]
    assert isinstance(event.detail, Column) and event.detail.data_type == "decimal(12,2)"
    # The same name under another type is another asset: nothing.
    assert client.audit.search(AuditSearchRequest.by_qualified_name("Table", amount)).total_count == 0
    (raw,) = _raw(server, {"dsl": {"query": {"bool": {"must": [
        {"term": {"entityQualifiedName": amount}}, {"term": {"typeName": "Column"}}]}}}})["entityAudits"]
    assert raw["changes"]["dataType"] == {"old": None, "new": "decimal(12,2)"}
    assert raw["tableQualifiedName"] == _qn(catalog, "Table", "sales", "orders")


def _tables_query():
    from pyatlan.model.search import Bool, Term

    return Bool(filter=[Term(field="typeName", value="Table")])


def test_paging_by_from_yields_every_event_once_in_order(crawled_once):
    from pyatlan.model.audit import AuditSearchRequest
    from pyatlan.model.search import DSL, SortItem, SortOrder

    client, _, catalog, _ = crawled_once
    everything = client.audit.search(AuditSearchRequest(dsl=DSL(query=_tables_query(), size=1000)))
    expected = [event.event_key for event in everything.current_page()]
    assert len(expected) == everything.total_count == len(catalog["Table"]) >= 5
    created = [event.created for event in everything.current_page()]
    assert created == sorted(created, reverse=True)  # newest first by default

    small = client.audit.search(AuditSearchRequest(dsl=DSL(
        query=_tables_query(), size=2, sort=[SortItem("created", order=SortOrder.DESCENDING)])))
    assert small.total_count == len(expected) and len(small.current_page()) == 2
    assert [event.event_key for event in small] == expected


def test_bulk_paging_by_created_yields_every_event_once_oldest_first(crawled_once):
    from pyatlan.model.audit import AuditSearchRequest
    from pyatlan.model.search import DSL

    client, workflow, _, _ = crawled_once
    everything = client.audit.search(AuditSearchRequest(dsl=DSL(query=_tables_query(), size=1000)))
    expected = sorted((event.created, event.event_key) for event in everything)
    # A crawl writes a page of assets at one moment: pages of 2 often share one `created`, which pyatlan's
    # timestamp paging then pages through with `from` within that moment.
    bulk = client.audit.search(AuditSearchRequest(dsl=DSL(query=_tables_query(), size=2)), bulk=True)
    found = [(event.created, event.event_key) for event in bulk]
    assert len(found) == len(set(found)) == len(expected)
    assert [created for created, _ in found] == sorted(created for created, _ in found)
    assert sorted(found) == expected

    # by_user takes the same path; its default sort must be left out for bulk, as pyatlan requires.
    run = _run_of(client, workflow)
    crawled = client.audit.search(AuditSearchRequest.by_user(run, size=1000))
    by_user = list(client.audit.search(AuditSearchRequest.by_user(run, size=50, sort=[]), bulk=True))
    assert len(by_user) == len({event.event_key for event in by_user}) == crawled.total_count
    assert {event.user for event in by_user} == {run}


def test_custom_dsl_ranges_terms_and_aggregations(crawled_once):
    from pyatlan.model.audit import AuditSearchRequest
    from pyatlan.model.search import DSL, Bool, Range, Term, Terms

    client, _, catalog, server = crawled_once
    (table,) = client.audit.search(AuditSearchRequest.by_guid(catalog["Table"][_qn(catalog, "Table", "sales",
                                                                                     "orders")]))
    moment = Range(field="created", gte=table.created, lte=table.created)  # a datetime, as pyatlan pages
    same_moment = client.audit.search(AuditSearchRequest(dsl=DSL(
        query=Bool(filter=[moment, Terms(field="typeName", values=["Table", "View"])]), size=100)))
    assert table.event_key in {event.event_key for event in same_moment}
    assert all(event.created == table.created for event in same_moment)
    later = client.audit.search(AuditSearchRequest(dsl=DSL(query=Range(field="created", gt=table.created),
                                                           size=1000)))
    assert all(event.created > table.created for event in later)
    creates = client.audit.search(AuditSearchRequest(dsl=DSL(query=Term(field="action", value="ENTITY_CREATE"),
                                                             size=1)))
    assert creates.total_count == sum(len(found) for found in catalog.values())  # one per asset crawled

    answer = _raw(server, {"dsl": {"size": 0, "query": {"match_all": {}},
                                   "aggregations": {"types": {"terms": {"field": "typeName", "size": 3}}}}})
    assert answer["entityAudits"] == [] and answer["totalCount"] == creates.total_count
    buckets = answer["aggregations"]["types"]["buckets"]
    assert buckets[0] == {"key": "Column", "doc_count": len(catalog["Column"])} and len(buckets) == 3
    assert _raw(server, _by_guid("no-such-guid"))["aggregations"] == {}


def _token(server, name: str, role: str) -> str:
    made = subprocess.run([sys.executable, "-m", "gazetteer.cli", "token", "create", "--name", name, "--role", role],
                          env=server.env, capture_output=True, text=True, check=True)
    return made.stdout.strip()


def test_a_guest_may_search_the_history(crawled_once):
    from pyatlan.client.atlan import AtlanClient
    from pyatlan.model.audit import AuditSearchRequest

    client, workflow, catalog, server = crawled_once
    guest = AtlanClient(base_url=server.url, api_key=_token(server, "audit-reader", "$guest"))
    orders = catalog["Table"][_qn(catalog, "Table", "sales", "orders")]
    assert [event.entity_id for event in guest.audit.search(AuditSearchRequest.by_guid(orders))] == [orders]
    with server.client(token="") as anonymous:
        assert anonymous.post(AUDIT, json=_by_guid(orders)).status_code == 401


def _error(response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"errorCode", "errorMessage"}
    return body["errorMessage"]


def test_bad_audit_searches_are_refused_with_what_is_supported(crawled_once):
    from pyatlan.errors import InvalidRequestError
    from pyatlan.model.audit import AuditSearchRequest
    from pyatlan.model.search import DSL, Prefix, SortItem, Term

    client, _, _, server = crawled_once
    before = _counts(server)
    with server.client() as http:
        assert "not valid JSON" in _error(http.post(AUDIT, content=b'{"dsl": {"query": ',
                                                    headers={"content-type": "application/json"}))
        message = _error(http.post(AUDIT, json={"dsl": {"query": {"term": {"owner": "me"}}}}))
        assert "'owner'" in message and "entityId" in message and "entityQualifiedName" in message
        message = _error(http.post(AUDIT, json={"dsl": {"sort": [{"user": {"order": "asc"}}]}}))
        assert "'user'" in message and "created" in message
        assert "'desc'" in _error(http.post(AUDIT, json={"dsl": {"sort": [{"created": {"order": "up"}}]}}))
        assert "at most 1,000" in _error(http.post(AUDIT, json={"dsl": {"size": 5000}}))
        assert "page by 'created'" in _error(http.post(AUDIT, json={"dsl": {"from": 10_000, "size": 10}}))
        assert "'size'" in _error(http.post(AUDIT, json={"dsl": {"size": "ten"}}))
        assert "'dsl'" in _error(http.post(AUDIT, json={"dsl": ["query"]}))
        assert "'attributes'" in _error(http.post(AUDIT, json={"dsl": {}, "attributes": "name"}))
        message = _error(http.post(AUDIT, json={"dsl": {"query": {"bool": {"filter": [
            {"term": {"user": "admin"}}, {"fuzzy": {"user": "admn"}}]}}}}))
        assert "'fuzzy'" in message and "query.bool.filter[1]" in message and "term, terms" in message
        message = _error(http.post(AUDIT, json={"dsl": {"highlight": {}}}))
        assert "'highlight'" in message and "'query'" in message
        assert "created" in _error(http.post(AUDIT, json={"dsl": {"query": {"range": {
            "created": {"gte": "last tuesday"}}}}}))
        # Nothing refused anything but a search, and a search changes nothing.
        assert http.post(AUDIT, json={"dsl": {"size": 1}, "suppressLogs": True, "requestMetadata": {}}
                         ).status_code == 200
    with pytest.raises(InvalidRequestError, match="prefix"):
        client.audit.search(AuditSearchRequest(dsl=DSL(query=Prefix(field="user", value="atlan"))))
    with pytest.raises(InvalidRequestError, match="cannot sort"):
        client.audit.search(AuditSearchRequest(dsl=DSL(query=Term(field="user", value="x"),
                                                       sort=[SortItem("typeName")])))
    assert _counts(server) == before


# -- changes, through pyatlan and through re-crawls --------------------------------------------------------------


def test_edits_are_updates_newest_first_with_old_and_new_values(crawled, server):
    from pyatlan.model.assets import Table
    from pyatlan.model.audit import AuditActionType, AuditSearchRequest
    from pyatlan.model.enums import CertificateStatus

    client, _, catalog = crawled
    orders_qn = _qn(catalog, "Table", "sales", "orders")
    orders = catalog["Table"][orders_qn]
    # (update_certificate sends a partial update by unique attribute, which this server does not serve.)
    certify = Table.updater(qualified_name=orders_qn, name="orders")
    certify.certificate_status, certify.certificate_status_message = CertificateStatus.VERIFIED, "Checked by finance"
    client.asset.save(certify)
    update = Table.updater(qualified_name=orders_qn, name="orders")
    update.user_description = "Every web-shop order."
    client.asset.save(update)

    results = client.audit.search(AuditSearchRequest.by_guid(orders))
    assert results.total_count == 3
    described, certified, created = results.current_page()
    assert [e.action for e in (described, certified, created)] == [
        AuditActionType.ENTITY_UPDATE, AuditActionType.ENTITY_UPDATE, AuditActionType.ENTITY_CREATE]
    assert described.created >= certified.created >= created.created
    assert described.user == certified.user == "admin"
    assert described.headers == {"x-atlan-agent": "sdk"}
    assert isinstance(described.detail, Table) and described.detail.user_description == "Every web-shop order."
    assert certified.detail.certificate_status == CertificateStatus.VERIFIED
    assert certified.detail.certificate_status_message == "Checked by finance"
    # entityDetail is the asset as it is now, whichever event it comes with.
    assert created.entity_detail.guid == orders and created.entity_detail.name == "orders"

    raw = _raw(server, _by_guid(orders))["entityAudits"]
    assert raw[0]["changes"]["userDescription"] == {"old": None, "new": "Every web-shop order."}
    assert raw[1]["changes"]["certificateStatus"] == {"old": None, "new": "VERIFIED"}
    assert raw[0]["agent"] == "api" and raw[0]["run"] is None and raw[0]["gazetteerAction"] == "updated"

    # The admin also made the connection, creating the crawl's workflow.
    by_admin = list(client.audit.search(AuditSearchRequest.by_user("admin")))
    assert [event.event_key for event in by_admin[:2]] == [described.event_key, certified.event_key]
    assert [(event.type_name, event.action) for event in by_admin[2:]] == [
        ("Connection", AuditActionType.ENTITY_CREATE)]
    # Asking for attributes puts them on entityDetail.
    answer = _raw(server, {**_by_guid(orders, size=1), "attributes": ["userDescription", "certificateStatus"]})
    detail = answer["entityAudits"][0]["entityDetail"]
    assert detail["attributes"]["userDescription"] == "Every web-shop order."
    assert detail["attributes"]["certificateStatus"] == "VERIFIED"


def test_recrawls_record_schema_changes_and_nothing_when_unchanged(crawled, server, glue):
    from pyatlan.model.assets import Column, Table
    from pyatlan.model.audit import AuditActionType, AuditSearchRequest

    client, workflow, catalog = crawled
    orders_qn = _qn(catalog, "Table", "sales", "orders")
    orders = catalog["Table"][orders_qn]
    everything = {"dsl": {"size": 0, "query": {"match_all": {}}}}
    events = _raw(server, everything)["totalCount"]

    _rerun(client, workflow)  # nothing changed in Glue
    assert _raw(server, everything)["totalCount"] == events

    glue_client = glue.client(REGION)
    change_orders(glue_client, drop="currency", retype=("order_id", "int"))
    _rerun(client, workflow)
    run = _run_of(client, workflow)

    latest = client.audit.search(AuditSearchRequest.by_guid(orders)).current_page()[0]
    assert latest.action == AuditActionType.ENTITY_UPDATE and latest.user == run
    assert latest.headers["x-atlan-agent-id"] == run and isinstance(latest.detail, Table)
    raw = _raw(server, _by_guid(orders, size=1))["entityAudits"][0]
    assert raw["breaking"] is True and raw["run"] == run
    changes = {(change["change"], change.get("column")): change for change in raw["diff"]}
    assert changes[("column_dropped", "currency")]["breaking"] is True
    narrowed = changes[("type_changed", "order_id")]
    assert (narrowed["old"], narrowed["new"], narrowed["breaking"]) == ("bigint", "int", True)
    assert any(name.endswith("/analytics/order_lines") for name in raw["affected"])  # SELECT o.* reads it

    (dropped, created) = client.audit.search(AuditSearchRequest.by_qualified_name("Column", orders_qn + "/currency"))
    assert (dropped.action, created.action) == (AuditActionType.ENTITY_DELETE, AuditActionType.ENTITY_CREATE)
    assert isinstance(dropped.detail, Column) and dropped.detail.status.value == "DELETED"
    assert dropped.entity_detail.status.value == "DELETED"  # as the asset is now: archived
    order_id = client.audit.search(AuditSearchRequest.by_qualified_name("Column", orders_qn + "/order_id"))
    assert order_id.current_page()[0].detail.data_type == "int"

    # Only what is breaking, through Gazetteer's own field: this table, and the views that read what went.
    breaking = _raw(server, {"dsl": {"size": 100, "query": {"bool": {"filter": [
        {"term": {"breaking": True}}, {"term": {"run": run}}]}}}})["entityAudits"]
    assert orders in {event["entityId"] for event in breaking}
    assert all(event["breaking"] for event in breaking)
