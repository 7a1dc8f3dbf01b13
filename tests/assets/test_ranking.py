"""The UI's ranking, sorts, page views, owner and certificate facets and the home page's lists, on a real store
(SQLite, then PostgreSQL); and the API's search left as Elasticsearch orders it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from gazetteer.api.asset_search import index_search
from gazetteer.assets import ranking
from gazetteer.assets.curation import update_curated
from gazetteer.assets.home import browse_connections, recently_changed
from gazetteer.assets.popularity import most_viewed, record_view
from gazetteer.assets.publish import Publisher
from gazetteer.assets.records import AssetRecord
from gazetteer.assets.text_search import FacetedQuery, faceted_search
from gazetteer.devtools.statements import statements
from gazetteer.errors import InvalidRequest
from gazetteer.store.generation import current_generation
from gazetteer.store.schema import asset_views, assets
from gazetteer.web.ui.search_page import home
from tests.assets.test_asset_search import ADMIN, ANALYTICS, CREATED, DB, SALES, C, _records


def _guid(engine: sa.Engine, qualified_name: str) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.select(assets.c.guid).where(assets.c.qualified_name == qualified_name)).scalar_one()


@pytest.fixture()
def catalog(engine: sa.Engine) -> sa.Engine:
    """The asset search's catalog, plus a view whose name starts as the columns' do (`customer_orders`)."""
    Publisher(engine, clock=lambda: CREATED).publish([*_records(), AssetRecord(
        "View", f"{ANALYTICS}/customer_orders", "customer_orders", ANALYTICS,
        {"connectionQualifiedName": C, "databaseQualifiedName": DB, "schemaQualifiedName": ANALYTICS})])
    return engine


def _ui(engine: sa.Engine, text: str = "", **query) -> list[tuple[str, str]]:
    return [(a.type_name, a.name) for a in faceted_search(engine, FacetedQuery(text=text, **query)).assets]


def _api(engine: sa.Engine, text: str) -> list[tuple[str, str]]:
    answer = index_search(engine, {"dsl": {"size": 20, "query": {"bool": {
        "must": [{"multi_match": {"query": text, "operator": "and"}}], "filter": [{"term": {"__state": "ACTIVE"}}]}}}})
    return [(e["typeName"], e["attributes"]["name"]) for e in answer["entities"]]


def test_tables_and_views_come_before_columns_of_the_same_name_in_the_ui_only(catalog: sa.Engine) -> None:
    ui = _ui(catalog, "cust")
    assert ui[:2] == [("View", "customer_orders"), ("Table", "customers")]
    assert ui[2:4] == [("Column", "customer_id"), ("Column", "customer_id")]
    # The API keeps its tiers in name order (pyatlan's FluentSearch sees what Elasticsearch would rank).
    assert _api(catalog, "cust")[:4] == [("Column", "customer_id"), ("Column", "customer_id"),
                                         ("View", "customer_orders"), ("Table", "customers")]
    # An exact name still beats every prefix, whatever its type.
    assert _ui(catalog, "customer_id")[0] == ("Column", "customer_id")


def test_page_views_rank_within_a_kind_sort_and_list_the_most_viewed(catalog: sa.Engine) -> None:
    customers = _guid(catalog, f"{SALES}/customers")
    with catalog.connect() as conn:
        generation = current_generation(conn)
    for _ in range(3):
        record_view(catalog, customers)
    record_view(catalog, _guid(catalog, f"{SALES}/orders"))
    with catalog.connect() as conn:
        counted = conn.execute(sa.select(asset_views.c.asset_guid, asset_views.c.views)).all()
        assert sorted(counted) == sorted([(customers, 3), (_guid(catalog, f"{SALES}/orders"), 1)])
        assert current_generation(conn) == generation  # a view is not a change of the catalog
    assert _ui(catalog, "cust")[:2] == [("Table", "customers"), ("View", "customer_orders")]
    assert _ui(catalog, types=("Table",), sort="popular")[:3] == [("Table", "customers"), ("Table", "orders"),
                                                                   ("Table", "daily_orders")]
    assert [(a.name, views) for a, views in most_viewed(catalog)] == [("customers", 3), ("orders", 1)]
    with pytest.raises(InvalidRequest, match="unknown field '_popularity'"):  # the API's fields are Atlan's
        index_search(catalog, {"dsl": {"size": 5, "sort": [{"_popularity": {"order": "desc"}}]}})
    assert [a.name for a, _ in most_viewed(catalog, types=("Column",))] == []
    Publisher(catalog).archive([f"{SALES}/customers"])
    assert [a.name for a, _ in most_viewed(catalog)] == ["orders"]  # archived assets are not offered


def test_sorts_by_name_and_last_change_and_refuses_others(catalog: sa.Engine) -> None:
    assert _ui(catalog, types=("Table",), sort="name")[:2] == [("Table", "customers"), ("Table", "daily_orders")]
    Publisher(catalog, clock=lambda: CREATED + timedelta(days=2)).publish([AssetRecord(
        "Table", f"{ANALYTICS}/inventory", "inventory", ANALYTICS,
        {"connectionQualifiedName": C, "schemaQualifiedName": ANALYTICS, "rowCount": 7})])
    assert _ui(catalog, types=("Table",), sort="changed")[0] == ("Table", "inventory")
    assert _ui(catalog, "warehouse", sort="changed")[0] == ("Table", "inventory")  # found by its column's name
    with pytest.raises(InvalidRequest, match="not a way to sort"):
        faceted_search(catalog, FacetedQuery(sort="random"))


def test_owner_and_certificate_facets_count_curated_values_and_filter(catalog: sa.Engine) -> None:
    orders, customers = _guid(catalog, f"{SALES}/orders"), _guid(catalog, f"{SALES}/customers")
    update_curated(catalog, orders, ADMIN, {"ownerUsers": ["alice", "bob"], "ownerGroups": ["sales-eng"],
                                            "certificateStatus": "VERIFIED"})
    update_curated(catalog, customers, ADMIN, {"ownerUsers": ["alice"], "certificateStatus": "DRAFT"})
    found = faceted_search(catalog, FacetedQuery(types=("Table",)))
    assert {b.key: b.count for b in found.facets["owner"].buckets} == {"alice": 2, "bob": 1}
    assert {b.key: b.count for b in found.facets["owner_group"].buckets} == {"sales-eng": 1}
    assert {b.key: b.count for b in found.facets["certificate"].buckets} == {"VERIFIED": 1, "DRAFT": 1}
    bob = faceted_search(catalog, FacetedQuery(owners=("bob",)))
    assert [a.name for a in bob.assets] == ["orders"]
    assert {b.key: b.count for b in bob.facets["owner"].buckets} == {"alice": 2, "bob": 1}  # disjunctive
    verified = faceted_search(catalog, FacetedQuery(text="orders", certificates=("VERIFIED",)))
    assert [a.name for a in verified.assets] == ["orders"]
    # The API's terms aggregation on an array attribute counts each element, as Elasticsearch does.
    answer = index_search(catalog, {"dsl": {"size": 0, "aggregations": {
        "owners": {"terms": {"field": "ownerUsers"}}}}})
    assert {b["key"]: b["doc_count"] for b in answer["aggregations"]["owners"]["buckets"]} == {"alice": 2, "bob": 1}


def test_blocks_keep_every_page_in_the_same_order(catalog: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ranking, "BLOCK", 3)  # ranks of more hits than a block: reordered block by block
    everything = [a.qualified_name for a in faceted_search(catalog, FacetedQuery(text="order", size=50)).assets]
    pages = [a.qualified_name for start in range(0, len(everything), 2)
             for a in faceted_search(catalog, FacetedQuery(text="order", start=start, size=2)).assets]
    assert pages == everything and len(set(everything)) == len(everything) > 6


def test_the_home_page_lists_are_bounded(catalog: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    Publisher(catalog, clock=lambda: CREATED + timedelta(days=3)).publish([AssetRecord(
        "View", f"{ANALYTICS}/daily_revenue", "daily_revenue", ANALYTICS,
        {"connectionQualifiedName": C, "schemaQualifiedName": ANALYTICS, "definition": "SELECT 2"})])
    changed = recently_changed(catalog, limit=3)
    assert [a.name for a in changed][0] == "daily_revenue" and len(changed) == 3
    assert {a.type_name for a in changed} <= {"Table", "View"}
    monkeypatch.setattr("gazetteer.assets.home.SCHEMAS_SHOWN", 1)
    (browse,) = browse_connections(catalog)
    assert browse.connection.name == "production" and [s.name for s in browse.schemas] == ["analytics"]
    assert browse.schema_count == 2
    record_view(catalog, _guid(catalog, f"{SALES}/orders"))
    # Every read of the home page is bounded (LIMIT) or counts one connection's schemas; nothing is grouped.
    with statements(catalog, r"\bassets\b") as seen:
        home(catalog)
    assert seen and not any("GROUP BY" in statement.upper() for statement in seen)
    assert all("LIMIT" in statement.upper() or "count(" in statement.lower() for statement in seen), seen


def test_page_views_and_the_recency_index_are_what_their_migration_made(engine: sa.Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from gazetteer.store.schema import metadata

    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    # (an index the metadata names and the database lacks would be a difference too)
    assert [diff for diff in diffs if any(name in repr(diff) for name in ("asset_views", "updated_at"))] == []
