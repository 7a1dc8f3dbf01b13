"""Reading the history (gazetteer.assets.changes) after real crawls of the local Glue, on SQLite and PostgreSQL.

The sample catalog is crawled, then `sales.orders` changes in Glue (its `status` column dropped, `order_id`
narrowed from bigint to int, a `channel` column added) and is crawled again: the table's timeline, its schema
before and after, the diff between the two, and the catalog's changes read back what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from gazetteer.assets.changes import (
    asset_history,
    catalog_changes,
    compare,
    schema_at,
    schema_versions,
    short_name,
)
from gazetteer.devtools.sample_catalog import seed_sample_catalog
from gazetteer.errors import InvalidRequest
from gazetteer.packages.glue.config import parse_config
from gazetteer.packages.glue.crawl import crawl
from gazetteer.store.schema import asset_events, assets, crawl_undo
from tests.assets.test_history import change_orders

REGION = "us-east-1"
ORIGINAL = [("order_id", "bigint"), ("customer_id", "string"), ("amount", "decimal(12,2)"), ("currency", "string"),
            ("ordered_at", "timestamp"), ("status", "string"), ("dt", "string"), ("region", "string")]
CHANGED = [("order_id", "int"), ("customer_id", "string"), ("amount", "decimal(12,2)"), ("currency", "string"),
           ("ordered_at", "timestamp"), ("channel", "string"), ("dt", "string"), ("region", "string")]


@dataclass(frozen=True)
class Crawled:
    engine: sa.Engine
    connection: str
    first: str  # the runs (crawl keys)
    second: str
    orders: str  # sales.orders' qualified name
    guids: dict[str, str]  # by qualified name without the connection and catalog: sales/orders, sales/orders/status

    def qn(self, path: str) -> str:
        return f"{self.connection}/AwsDataCatalog/{path}"


def drop_narrow_add(client: Any) -> None:
    """In Glue, sales.orders loses `status`, its `order_id` narrows to int and it gains `channel`."""
    change_orders(client, drop="status", retype=("order_id", "int"), add=("channel", "string"))


@pytest.fixture()
def crawled(engine: sa.Engine, glue: Any) -> Crawled:
    seed_sample_catalog(glue.client(REGION), s3=glue.s3_client(REGION))
    config = parse_config(connection_name="lake", region=REGION, access_key="AKIATEST", secret_key="s3cr3t")
    first = crawl(engine, config, key="crawl-first")
    assert first.status == "Succeeded", first.to_dict()
    drop_narrow_add(glue.client(REGION))
    second = crawl(engine, config, key="crawl-second")
    assert second.status == "Succeeded", second.to_dict()
    connection = first.connection_qualified_name
    with engine.connect() as conn:
        guids = {qn.removeprefix(connection + "/").removeprefix("AwsDataCatalog/"): guid
                 for qn, guid in conn.execute(sa.select(assets.c.qualified_name, assets.c.guid))}
    return Crawled(engine, connection, "crawl-first", "crawl-second",
                   f"{connection}/AwsDataCatalog/sales/orders", guids)


def _columns(shapes: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(name, shape.data_type) for name, shape in shapes.items()]


def test_the_schema_before_and_after_a_recrawl(crawled: Crawled) -> None:
    with crawled.engine.connect() as conn:
        versions = schema_versions(conn, crawled.orders)
        assert [(version.run, version.action, version.breaking) for version in versions] == [
            ("crawl-second", "updated", True), ("crawl-first", "created", False)]
        after, before = (schema_at(conn, crawled.orders, version.point) for version in versions)
        assert _columns(before) == ORIGINAL
        assert _columns(after) == CHANGED
        assert _columns(schema_at(conn, crawled.orders, None)) == CHANGED  # now
        status = before["status"]
        assert (status.order, status.is_partition, status.description) == (
            6, False, "One of NEW, PAID, SHIPPED, CANCELLED")
        assert (before["dt"].is_partition, before["dt"].partition_order, after["region"].partition_order) == (
            True, 1, 2)
        # Before the table was crawled at all: no columns.
        assert schema_at(conn, crawled.orders, versions[-1].point - 10_000) == {}


def test_compare_flags_the_drop_and_the_narrowing_breaking_and_the_add_not(crawled: Crawled) -> None:
    with crawled.engine.connect() as conn:
        after, before = (version.point for version in schema_versions(conn, crawled.orders))
        diff = compare(conn, crawled.orders, before, after)
        assert [(change["change"], change.get("column"), change["breaking"]) for change in diff] == [
            ("type_changed", "order_id", True), ("column_dropped", "status", True),
            ("column_added", "channel", False)]
        assert "not a safe widening" in diff[0]["why"]
        # The same as the crawl recorded for the table: one diff, however it is worked out.
        recorded = conn.execute(sa.select(asset_events.c.diff).where(
            asset_events.c.qualified_name == crawled.orders, asset_events.c.run == crawled.second)).scalar_one()
        assert diff == recorded
        assert compare(conn, crawled.orders, after, None) == []  # nothing since
        backwards = compare(conn, crawled.orders, after, before)
        assert {(change["change"], change.get("column")) for change in backwards} == {
            ("type_changed", "order_id"), ("column_added", "status"), ("column_dropped", "channel")}


def test_a_table_older_than_history_still_has_its_past_schema(crawled: Crawled) -> None:
    """Rewinding starts from the present: with the first crawl's events gone (as if history began after it),
    the schema right before the second crawl is still the original one."""
    with crawled.engine.begin() as conn:
        conn.execute(asset_events.delete().where(asset_events.c.run == crawled.first))
    with crawled.engine.connect() as conn:
        versions = schema_versions(conn, crawled.orders)
        assert [version.run for version in versions] == [crawled.second]
        first_of_second = conn.execute(sa.select(sa.func.min(asset_events.c.id)).where(
            asset_events.c.run == crawled.second)).scalar_one()
        assert _columns(schema_at(conn, crawled.orders, first_of_second - 1)) == ORIGINAL
        diff = compare(conn, crawled.orders, first_of_second - 1, versions[0].point)
        assert [(change["change"], change["breaking"]) for change in diff] == [
            ("type_changed", True), ("column_dropped", True), ("column_added", False)]


def test_a_tables_timeline_is_one_entry_per_crawl_with_its_diff(crawled: Crawled) -> None:
    with crawled.engine.connect() as conn:
        page = asset_history(conn, crawled.guids["sales/orders"])
        assert page.total == 2 and page.pages == 1
        latest, created = page.entries
        assert (latest.run, latest.action, latest.breaking, created.run, created.action, created.breaking) == (
            crawled.second, "updated", True, crawled.first, "created", False)
        assert [(change["change"], change.get("column")) for change in latest.diff] == [
            ("type_changed", "order_id"), ("column_dropped", "status"), ("column_added", "channel")]
        assert {(event.action, event.name) for event in latest.columns} == {
            ("updated", "order_id"), ("archived", "status"), ("created", "channel")}
        order_id = next(event for event in latest.columns if event.name == "order_id")
        assert order_id.changes["dataType"] == ["bigint", "int"]
        assert latest.affected and all(name.startswith(crawled.connection) for name in latest.affected)
        assert crawled.qn("analytics/customer_orders") in latest.affected
        assert "sourceUpdatedAt" in latest.changes  # Glue stamps the table it updated
        assert created.column_count == len(ORIGINAL) and len(created.columns) == len(ORIGINAL)
        assert latest.point > created.point and latest.schema_changed
        # Paged: one entry a page, newest first.
        second_page = asset_history(conn, crawled.guids["sales/orders"], page=2, size=1)
        assert (second_page.total, second_page.pages, [entry.run for entry in second_page.entries]) == (
            2, 2, [crawled.first])
        assert asset_history(conn, crawled.guids["sales/orders"], page=3, size=1).entries == ()
        # A column's own timeline; an unchanged table's is its creation only.
        column = asset_history(conn, crawled.guids["sales/orders/order_id"])
        assert [(entry.action, entry.own[0].changes.get("dataType")) for entry in column.entries] == [
            ("updated", ["bigint", "int"]), ("created", [None, "bigint"])]
        unchanged = asset_history(conn, crawled.guids["sales/customers"])
        assert [entry.action for entry in unchanged.entries] == ["created"]
        assert asset_history(conn, "no-such-guid").entries == ()


def test_an_edit_is_an_entry_of_its_own(crawled: Crawled) -> None:
    from gazetteer.assets.curation import update_curated
    from gazetteer.auth.principal import Principal

    admin = Principal(user_id="ada-id", username="ada", roles=frozenset({"$admin"}))
    update_curated(crawled.engine, crawled.guids["sales/orders"], admin, {"userDescription": "Orders, one a row"})
    with crawled.engine.connect() as conn:
        entries = asset_history(conn, crawled.guids["sales/orders"]).entries
        edit = entries[0]
        assert (edit.run, edit.actor, edit.agent, edit.action, edit.changes) == (
            None, "ada", "ui", "updated", {"userDescription": [None, "Orders, one a row"]})
        assert not edit.schema_changed and len(entries) == 3
        # Not a schema version: the columns did not change.
        assert [version.run for version in schema_versions(conn, crawled.orders)] == [crawled.second, crawled.first]


def test_catalog_changes_filter_and_page_by_id(crawled: Crawled) -> None:
    with crawled.engine.connect() as conn:
        everything = catalog_changes(conn, size=200)
        assert everything.events and "Column" not in {event.type_name for event in everything.events}
        ids = [event.id for event in everything.events]
        assert ids == sorted(ids, reverse=True)
        # Breaking only: the changed table and the view that read the dropped column, nothing unchanged.
        breaking = catalog_changes(conn, breaking=True).events
        assert {short_name(event.qualified_name) for event in breaking} == {"sales.orders", "analytics.order_lines"}
        assert all(event.breaking and event.run == crawled.second for event in breaking)
        # Columns only when asked for.
        columns = catalog_changes(conn, type_name="Column", run=crawled.second).events
        assert {(event.action, event.name) for event in columns} == {
            ("updated", "order_id"), ("archived", "status"), ("created", "channel")}
        tables = catalog_changes(conn, type_name="Table", run=crawled.second).events
        assert [short_name(event.qualified_name) for event in tables] == ["sales.orders"]
        archived = catalog_changes(conn, action="archived", type_name="Column").events
        assert [(event.name, event.changes["dataType"]) for event in archived] == [("status", ["string", None])]
        created = catalog_changes(conn, action="created", size=200).events
        assert created and {(event.action, event.run) for event in created} == {("created", crawled.first)}
        assert catalog_changes(conn, connection=crawled.connection, size=200).events == everything.events
        assert catalog_changes(conn, connection="default/glue/0").events == ()
        # Keyset paging: three at a time, every event once, newest first.
        seen, before = [], None
        while True:
            page = catalog_changes(conn, size=3, before_id=before)
            seen += [event.id for event in page.events]
            if page.older is None:
                break
            before = page.older
        assert seen == ids
        with pytest.raises(InvalidRequest, match="is not an action"):
            catalog_changes(conn, action="deleted")


def test_a_crawl_that_can_still_be_rolled_back_shows_nothing_yet(crawled: Crawled) -> None:
    with crawled.engine.begin() as conn:
        conn.execute(crawl_undo.insert().values(crawl=crawled.second, asset_id=1))
    with crawled.engine.connect() as conn:
        assert catalog_changes(conn, run=crawled.second).events == ()
        assert [entry.run for entry in asset_history(conn, crawled.guids["sales/orders"]).entries] == [crawled.first]
        versions = schema_versions(conn, crawled.orders)
        assert [version.run for version in versions] == [crawled.first]
        # The rows already hold that crawl's writes: rewinding still undoes them.
        assert _columns(schema_at(conn, crawled.orders, versions[0].point)) == ORIGINAL


def test_short_names() -> None:
    assert short_name("default/glue/123/AwsDataCatalog/sales/orders/amount") == "sales.orders.amount"
    assert short_name("default/glue/123/111122223333/sales/orders") == "sales.orders"
    assert short_name("default/glue/123/lineage/s3/lake/sales/orders") == "s3://lake/sales/orders"
    assert short_name("default/glue/123/lineage/job/etl") == "job/etl"
    assert short_name("default/glue/123") == "default/glue/123"
