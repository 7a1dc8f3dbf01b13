"""History: what each crawl and each edit records, classified and hidden until kept; a local Glue over HTTP and
a real catalog (SQLite, and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from gazetteer.assets import history
from gazetteer.assets.curation import update_curated
from gazetteer.assets.publish import roll_back
from gazetteer.auth.principal import ADMIN_ROLE, Principal
from gazetteer.devtools.sample_catalog import change_columns, seed_sample_catalog
from gazetteer.packages.glue.config import parse_config
from gazetteer.packages.glue.crawl import crawl
from gazetteer.settings import get_settings
from gazetteer.store.schema import asset_events, assets, crawl_undo

REGION = "us-east-1"
ADMIN = Principal(user_id="u-1", username="ada", roles=frozenset({ADMIN_ROLE}))


def _config(**extra):
    return parse_config(connection_name="lake", region=REGION, access_key="AKIATEST", secret_key="s3cr3t", **extra)


def _events(engine, **where) -> list:
    query = sa.select(asset_events).where(history.VISIBLE).order_by(asset_events.c.id)
    for key, value in where.items():
        query = query.where(asset_events.c[key] == value)
    with engine.connect() as conn:
        return conn.execute(query).all()


def _count(engine, table=asset_events) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def change_orders(glue_client, **changes) -> None:
    """Change sales.orders' columns in Glue (drop=, retype=, add=), as someone upstream would."""
    change_columns(glue_client, "sales", "orders", **changes)


@pytest.fixture()
def lake(glue, engine):
    """The sample catalog crawled once: (engine, glue client, the first crawl's report)."""
    client = glue.client(REGION)
    seed_sample_catalog(client, s3=glue.s3_client(REGION))
    report = crawl(engine, _config())
    assert report.status == "Succeeded", report.message
    return engine, client, report


def test_a_first_crawl_records_a_created_event_per_asset_and_an_unchanged_one_none(lake, glue):
    engine, client, report = lake
    with engine.connect() as conn:
        crawled = conn.execute(sa.select(sa.func.count()).select_from(assets)).scalar_one()
    created = _events(engine)
    assert len(created) == crawled == report.changes["created"]
    assert {event.action for event in created} == {"created"} and {event.agent for event in created} == {"crawl"}
    column = next(event for event in created if event.qualified_name.endswith("/sales/orders/amount"))
    assert column.changes["dataType"] == [None, "decimal(12,2)"] and column.table_qualified_name.endswith("/orders")
    assert report.history["counts"]["created"] == crawled and report.history["breaking"] == 0
    again = crawl(engine, _config())
    assert again.status == "Succeeded"
    assert again.changes["created"] == again.changes["updated"] == again.changes["archived"] == 0
    assert _count(engine) == crawled and again.history == {}


def test_a_recrawl_classifies_each_tables_changes_and_names_what_they_break(lake):
    engine, client, _ = lake
    change_orders(client, drop="status", retype=("order_id", "int"), add=("channel", "string"))
    report = crawl(engine, _config(), key="recrawl")
    assert report.status == "Succeeded", report.message
    run = _events(engine, run="recrawl")
    table = next(event for event in run if event.type_name == "Table" and event.name == "orders")
    changes = {(change["change"], change.get("column")): change["breaking"] for change in table.diff}
    assert changes[("column_dropped", "status")] is True
    assert changes[("type_changed", "order_id")] is True  # bigint → int narrows
    assert changes[("column_added", "channel")] is False
    assert table.breaking and table.diff[0]["breaking"]  # breaking first
    # What reads sales.orders, through the views' lineage: the views over it and a view over a view.
    affected = {name.rsplit("/", 1)[-1] for name in table.affected}
    assert {"customer_orders", "order_lines", "country_revenue"} <= affected
    dropped = next(event for event in run if event.qualified_name.endswith("/sales/orders/status"))
    assert dropped.action == "archived" and dropped.changes["dataType"] == ["string", None]
    # order_lines reads o.* from orders: the dropped column was one of its inputs.
    view = next(event for event in run if event.type_name == "View" and event.name == "order_lines")
    assert view.breaking and view.diff[0]["change"] == "inputs_gone" and "sales.orders.status" in view.diff[0]["new"]
    # The run's report lists the breaking table first, with its diff.
    listed = report.history["assets"]
    assert listed[0]["breaking"] and report.history["breaking"] >= 2
    assert any(item["qualifiedName"] == table.qualified_name and item["diff"] == table.diff for item in listed)


def test_an_added_column_alone_is_not_breaking(lake):
    engine, client, _ = lake
    change_orders(client, add=("channel", "string"))
    report = crawl(engine, _config())
    assert report.status == "Succeeded" and report.history["breaking"] == 0
    table = next(event for event in _events(engine, action="updated") if event.name == "orders")
    assert [change["change"] for change in table.diff] == ["column_added"] and not table.breaking


def test_an_edit_records_who_changed_what_from_what(lake):
    engine, _, _ = lake
    with engine.connect() as conn:
        guid = conn.execute(sa.select(assets.c.guid).where(assets.c.name == "orders",
                                                           assets.c.type_name == "Table")).scalar_one()
    update_curated(engine, guid, ADMIN, {"userDescription": "Every order"})
    update_curated(engine, guid, ADMIN, {"userDescription": "Every order, paid or not"})
    update_curated(engine, guid, ADMIN, {"userDescription": "Every order, paid or not"})  # no change: no event
    edits = _events(engine, asset_guid=guid, action="updated")
    assert [(e.actor, e.agent, e.changes) for e in edits] == [
        ("ada", "ui", {"userDescription": [None, "Every order"]}),
        ("ada", "ui", {"userDescription": ["Every order", "Every order, paid or not"]})]


def test_a_failed_crawl_leaves_no_events_and_pending_ones_stay_hidden(lake):
    engine, client, _ = lake
    before = _count(engine)
    change_orders(client, drop="status")
    tables = [table["Name"] for table in client.get_tables(DatabaseName="sales")["TableList"]]
    client.batch_delete_table(DatabaseName="sales", TablesToDelete=[name for name in tables if name != "orders"])
    client.delete_database(Name="analytics")
    # The circuit breaker refuses after the changed pages were written: they are rolled back, events and all,
    # and the report says what the crawl would have done.
    report = crawl(engine, _config())
    assert report.status == "Failed" and "Circuit breaker" in report.message
    assert report.history["refused"] and report.history["counts"]["archived"] >= len(tables) - 1
    would = {item["name"]: item for item in report.history["assets"]}
    assert would["orders"]["action"] == "updated" and would["orders"]["breaking"]
    assert would["customers"]["action"] == "archived" and would["customers"]["breaking"]  # a view reads it
    assert _count(engine) == before
    # A crawl cut short leaves its events behind with its undo log: hidden until the rollback deletes them.
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(crawl_undo.insert().values(crawl="cut-short", asset_id=10**9, created_through=10**9))
        conn.execute(asset_events.insert().values(
            at=now, action="updated", asset_guid="g", type_name="Table", qualified_name="x", name="x",
            connection_qualified_name="c", actor="cut-short", agent="crawl", run="cut-short"))
    assert _count(engine) == before + 1 and len(_events(engine)) == before
    roll_back(engine, "cut-short")
    assert _count(engine) == before


def test_history_days_prunes_old_events_and_zero_records_none(lake, monkeypatch):
    engine, client, _ = lake
    total = _count(engine)
    assert history.prune(engine, 30) == 0
    assert history.prune(engine, 30, now=datetime.now(UTC) + timedelta(days=31)) == total
    assert _count(engine) == 0
    monkeypatch.setenv("GAZETTEER_HISTORY_DAYS", "0")
    get_settings.cache_clear()  # settings are read once per process
    change_orders(client, drop="status")
    try:
        report = crawl(engine, _config())
    finally:
        monkeypatch.delenv("GAZETTEER_HISTORY_DAYS")
        get_settings.cache_clear()
    assert report.status == "Succeeded" and report.changes["archived"] >= 1  # the column, and what it fed
    assert [(e.action, e.qualified_name) for e in _events(engine)] == [] and report.history == {}


def test_the_history_tables_are_what_their_migration_made(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from gazetteer.store.schema import metadata

    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [diff for diff in diffs if any(name in repr(diff) for name in ("asset_events", "webhook"))] == []
