"""The typed calls the web UI and the CLI use (`browse`, `text_search`): the same assets, in the same order, as
the Atlan search answers for the equivalent Elasticsearch requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from gazetteer.api.asset_search import index_search, text_search_answer
from gazetteer.assets.browse import active_connections, ancestors_of, asset_named, children_of, columns_of
from gazetteer.assets.publish import Publisher
from gazetteer.assets.records import AssetRecord
from gazetteer.assets.text_search import FacetedQuery, faceted_search
from tests.assets.test_asset_search import ANALYTICS, DB, SALES, C, _records


@pytest.fixture()
def catalog(engine: sa.Engine) -> sa.Engine:
    Publisher(engine).publish([*_records(), AssetRecord("Table", f"{ANALYTICS}/legacy", "legacy", ANALYTICS, {
        "connectionQualifiedName": C, "schemaQualifiedName": ANALYTICS})])
    Publisher(engine).archive([f"{ANALYTICS}/legacy"])
    return engine


def _names(engine: sa.Engine, dsl: dict) -> list[str]:
    return [e["attributes"]["qualifiedName"] for e in index_search(engine, {"dsl": dsl}).get("entities", [])]


def test_children_ancestors_and_columns(catalog: sa.Engine) -> None:
    page = children_of(catalog, "Schema", ANALYTICS, size=2)
    assert page is not None and page.total == 3  # the archived "legacy" is left out
    assert [(a.type_name, a.name) for a in page.assets] == [("Table", "daily_orders"), ("View", "daily_revenue")]
    assert [a.name for a in children_of(catalog, "Schema", ANALYTICS, start=2, size=2).assets] == ["inventory"]
    assert [a.name for a in children_of(catalog, "Connection", C).assets] == ["analytics", "sales"]
    assert children_of(catalog, "Table", f"{SALES}/orders") is None

    ancestors = ancestors_of(catalog, {"qualifiedName": f"{SALES}/orders/amount", "connectionQualifiedName": C,
                                       "databaseQualifiedName": DB, "schemaQualifiedName": SALES,
                                       "tableQualifiedName": f"{SALES}/orders", "viewQualifiedName": None})
    assert [(a.type_name, a.asset and a.asset.name) for a in ancestors] == [
        ("Connection", "production"), ("Database", "AwsDataCatalog"), ("Schema", "sales"), ("Table", "orders")]
    assert ancestors[0].asset.attributes["adminUsers"] == ["alice"]
    assert [a.asset for a in ancestors_of(catalog, {"qualifiedName": "x/y", "connectionQualifiedName": "x"})] == [None]

    orders = asset_named(catalog, "Table", f"{SALES}/orders")
    assert orders is not None and orders.attributes["rowCount"] == 500
    assert [c.name for c in columns_of(catalog, orders.guid)] == ["order_id", "customer_id", "amount", "note"]
    assert asset_named(catalog, "Connection", f"{SALES}/orders") is None
    assert [c.name for c in active_connections(catalog)] == ["production"]


def test_text_searches_answer_as_the_api(catalog: sa.Engine) -> None:
    found = faceted_search(catalog, FacetedQuery(text="orders", types=("Table",), partitioned=False, size=5))
    dsl = {"size": 5, "query": {"bool": {"must": [{"multi_match": {"query": "orders", "operator": "and"}}],
                                         "filter": [{"term": {"__state": "ACTIVE"}},
                                                    {"terms": {"__typeName.keyword": ["Table"]}},
                                                    {"term": {"isPartitioned": False}}]}}}
    assert [a.qualified_name for a in found.assets] == _names(catalog, dsl) and found.total == 1
    assert list(found.facets) == ["type", "connection", "schema", "format", "partitioned", "certificate", "owner",
                                  "owner_group", "term", "landed", "tag"]
    # Disjunctive: the type facet counts Views too, the partitioned one both flags.
    assert {b.key: b.count for b in found.facets["type"].buckets} == {"Table": 1}
    assert sorted(b.count for b in found.facets["partitioned"].buckets) == [1, 1]


@pytest.mark.parametrize(("text", "type_name"), [("orders", None), ("orders", "Column"), ("order cust", None),
                                                 ("custmer", "Table"), ("", "Table"), ("", None)])
def test_the_cli_search_finds_what_the_ui_search_finds(catalog: sa.Engine, text: str, type_name: str | None) -> None:
    """`gazetteer search` gets `text_search_answer` (from a server's GET /api/meta/search/text, or locally): the
    same assets, in the same order, as the search page, which also counts facets."""
    page = faceted_search(catalog, FacetedQuery(text=text, types=(type_name,) if type_name else (), size=50))
    found = text_search_answer(catalog, text, type_name, 50)["entities"]
    assert [e["attributes"]["qualifiedName"] for e in found] == [a.qualified_name for a in page.assets]
    assert found and len(found) == min(page.total, 50)


def test_the_landed_facet_counts_and_filters_tables_by_their_newest_partition(engine: sa.Engine) -> None:
    now = datetime.now(UTC)
    ages = {"fresh": timedelta(hours=2), "weekly": timedelta(days=3), "monthly": timedelta(days=12),
            "stale": timedelta(days=90)}
    Publisher(engine).publish([AssetRecord("Table", f"{SALES}/{name}", name, SALES, {
        "connectionQualifiedName": C, "schemaQualifiedName": SALES,
        "lastPartitionCreatedAt": int((now - age).timestamp() * 1000)}) for name, age in ages.items()])
    found = faceted_search(engine, FacetedQuery())
    assert {b.key: b.count for b in found.facets["landed"].buckets} == {"day": 1, "week": 1, "month": 1, "older": 1}
    recent = faceted_search(engine, FacetedQuery(landed=("day", "week")))
    assert sorted(a.name for a in recent.assets) == ["fresh", "weekly"]
    # Disjunctive, as the other facets: ticking a window still counts the others.
    assert {b.key: b.count for b in recent.facets["landed"].buckets} == {"day": 1, "week": 1, "month": 1, "older": 1}
    assert [a.name for a in faceted_search(engine, FacetedQuery(landed=("older",))).assets] == ["stale"]
