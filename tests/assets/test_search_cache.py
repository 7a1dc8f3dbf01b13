"""Cached search facets (SQLite, then PostgreSQL): the same answers as computed afresh, never stale after a
crawl's end, an archive, a rollback or an edit committed by any process, at most CRAWL_LAG seconds behind a
running crawl's pages, and no re-scan when nothing changed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from gazetteer.api.asset_search import index_search
from gazetteer.api.entities import bulk_upsert
from gazetteer.assets.curation import update_curated
from gazetteer.assets.publish import Publisher, roll_back
from gazetteer.assets.records import AssetRecord
from gazetteer.assets.search_cache import SearchCache, cache_for, request_key
from gazetteer.assets.text_search import FACET_FIELDS
from gazetteer.auth.principal import Principal
from gazetteer.devtools.statements import statements
from gazetteer.search import parse_search_request
from gazetteer.store import open_engine
from gazetteer.store.generation import SLOTS, bump_generation, current_generation
from gazetteer.store.schema import catalog_generation
from gazetteer.web.ui.search_page import run_search

C = "default/glue/1000000001"
DB = f"{C}/AwsDataCatalog"
SALES, ANALYTICS = f"{DB}/sales", f"{DB}/analytics"
ADMIN = Principal("u0", "admin", frozenset({"$admin"}))


def _table(schema: str, name: str, columns: int, **extra) -> list[AssetRecord]:
    qn = f"{schema}/{name}"
    base = {"connectionQualifiedName": C, "schemaQualifiedName": schema}
    return [AssetRecord("Table", qn, name, schema, {**base, "columnCount": columns, **extra})] + [
        AssetRecord("Column", f"{qn}/c{i}", f"c{i}", qn, {**base, "tableQualifiedName": qn, "order": i})
        for i in range(1, columns + 1)]


def _records() -> list[AssetRecord]:
    base = {"connectionQualifiedName": C}
    return [
        AssetRecord("Connection", C, "production", None, {"connectorName": "glue"}),
        AssetRecord("Database", DB, "AwsDataCatalog", C, base),
        AssetRecord("Schema", SALES, "sales", DB, {**base, "schemaQualifiedName": SALES}),
        AssetRecord("Schema", ANALYTICS, "analytics", DB, {**base, "schemaQualifiedName": ANALYTICS}),
        *_table(SALES, "orders", 3, externalLocationFormat="parquet", isPartitioned=True),
        *_table(SALES, "customers", 2, externalLocationFormat="csv", isPartitioned=False),
        *_table(ANALYTICS, "inventory", 2, externalLocationFormat="parquet", isPartitioned=False),
    ]


@pytest.fixture()
def catalog(engine: sa.Engine) -> sa.Engine:
    Publisher(engine).publish(_records())
    return engine


@pytest.fixture()
def other(catalog: sa.Engine) -> Iterator[sa.Engine]:
    """Another engine over the same catalog: the writes of another process (a worker, another API process)."""
    engine = open_engine(catalog.url.render_as_string(hide_password=False))
    yield engine
    engine.dispose()


def _page(text: str = "", **selected: list[str]) -> dict:
    """What the search page asks for: its words, the ticked facets' filters, the other facets' counts."""
    must = [{"multi_match": {"query": text, "operator": "and"}}] if text else []
    filters = [{"terms": {FACET_FIELDS[name]: values}} for name, values in selected.items()]
    query = {"bool": {"must": must, "filter": [{"term": {"__state": "ACTIVE"}}, *filters]}}
    dsl = {"from": 0, "size": 20, "query": query,
           "aggregations": {name: {"terms": {"field": field, "size": 25}} for name, field in FACET_FIELDS.items()
                            if name not in selected}}
    return {"dsl": dsl if text else {**dsl, "sort": [{"name.keyword": {"order": "asc"}}]}}


PAGE = _page()  # the search page with no text: five facets over every active asset
FACETS_ONLY = {"dsl": {**PAGE["dsl"], "size": 0}}
BODIES = [
    PAGE,
    FACETS_ONLY,
    _page(type=["Table"], format=["parquet"]),  # facets without "type": a COUNT total
    _page("orders"),  # full text, ranked
    _page("c1", schema=[SALES]),
    {"dsl": {"size": 2, "track_total_hits": 3, "query": {"term": {"__state": "ACTIVE"}},
             "aggregations": {"f": {"terms": {"field": "externalLocationFormat"}}},
             "post_filter": {"term": {"__typeName.keyword": "Column"}}, "sort": [{"name.keyword": "desc"}]}},
]


def _fresh(engine: sa.Engine, body: dict) -> dict:
    """The answer computed afresh: what the cache must give."""
    cache_for(engine).clear()
    answer = index_search(engine, body)
    cache_for(engine).clear()
    return answer


# Statements on `assets` itself (not its full-text index, not the generation).
ASSETS = r"\bassets\b"


def _counts(answer: dict) -> dict:
    return {name: {b["key"]: b["doc_count"] for b in agg["buckets"]}
            for name, agg in answer.get("aggregations", {}).items()}


@pytest.mark.parametrize("body", BODIES, ids=["page", "facets", "selected", "text", "text-selected", "post-filter"])
def test_the_cached_answer_is_the_fresh_one(catalog: sa.Engine, body: dict) -> None:
    fresh = _fresh(catalog, body)
    assert index_search(catalog, body) == fresh  # computed, and cached
    assert index_search(catalog, body) == fresh  # from the cache
    assert index_search(catalog, body) == fresh  # an answer changed by its caller does not change the cache
    if "aggregations" in fresh:
        index_search(catalog, body)["aggregations"].clear()
        assert index_search(catalog, body) == fresh


def test_a_second_identical_search_does_not_scan_again(catalog: sa.Engine) -> None:
    index_search(catalog, FACETS_ONLY)
    with statements(catalog, ASSETS) as seen:
        answer = index_search(catalog, FACETS_ONLY)
    assert seen == [] and answer["approximateCount"] == 14
    assert _counts(answer)["type"] == {"Column": 7, "Table": 3, "Schema": 2, "Connection": 1, "Database": 1}

    index_search(catalog, PAGE)
    with statements(catalog, ASSETS) as seen:
        index_search(catalog, PAGE)
    assert len(seen) == 1 and "WHERE assets.id IN" in seen[0]  # only the page's own rows

    selected = _page(type=["Table"])
    run_search(catalog, "", {"type": ["Table"]}, 1)  # the page, and a count-only search for the "type" facet
    with statements(catalog, ASSETS) as seen:
        run_search(catalog, "", {"type": ["Table"]}, 1)
    # The page's rows, and the connections' names (a lookup without facets, never cached: its ids, its rows).
    assert len(seen) == 3 and not any("count(" in statement.lower() for statement in seen)
    assert index_search(catalog, selected)["approximateCount"] == 3


def test_an_unchanged_publish_keeps_the_cache_and_a_changed_one_does_not(catalog: sa.Engine) -> None:
    with catalog.connect() as conn:
        before = current_generation(conn)
    Publisher(catalog).publish(_records())  # nothing changed: nothing written, the generation stays
    with catalog.connect() as conn:
        assert current_generation(conn) == before
    Publisher(catalog).publish(_table(SALES, "refunds", 1))
    with catalog.connect() as conn:
        assert current_generation(conn) == (before.settled + 1, before.pages)


def _lagging(monkeypatch: pytest.MonkeyPatch, lag: float) -> None:
    monkeypatch.setattr("gazetteer.assets.search_cache.CRAWL_LAG", lag)


def test_counts_follow_a_crawl_page_by_page_and_its_rollback(catalog: sa.Engine, other: sa.Engine,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    _lagging(monkeypatch, -1)  # every page of a running crawl is seen at once
    first = _counts(index_search(catalog, FACETS_ONLY))
    crawl = Publisher(other, actor="crawl-1", undoable=True)
    crawl.publish(_table(SALES, "refunds", 4, externalLocationFormat="json"))  # a page, visible before the end
    answer = index_search(catalog, FACETS_ONLY)
    assert answer == _fresh(catalog, FACETS_ONLY)
    assert _counts(answer)["type"]["Column"] == first["type"]["Column"] + 4
    assert _counts(answer)["format"]["json"] == 1

    crawl.archive([f"{SALES}/orders"])  # the table and its columns
    answer = index_search(catalog, FACETS_ONLY)
    assert answer == _fresh(catalog, FACETS_ONLY)
    assert _counts(answer)["type"] == {"Column": 8, "Table": 3, "Schema": 2, "Connection": 1, "Database": 1}
    assert "true" not in {str(key).lower() for key in _counts(answer)["partitioned"]}

    _lagging(monkeypatch, 3600)  # however long the lag, a rollback is seen at once
    assert roll_back(other, "crawl-1")  # the crawl failed: the catalog is as it was, and so are the counts
    answer = index_search(catalog, FACETS_ONLY)
    assert answer == _fresh(catalog, FACETS_ONLY) and _counts(answer) == first


def test_counts_lag_a_running_crawl_by_seconds_and_follow_its_end_at_once(
        catalog: sa.Engine, other: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _lagging(monkeypatch, 3600)
    first = index_search(catalog, PAGE)
    crawl = Publisher(other, actor="crawl-2", undoable=True)
    crawl.publish(_table(SALES, "refunds", 4, externalLocationFormat="json"))
    with statements(catalog, ASSETS) as seen:
        assert index_search(catalog, PAGE) == first  # within the lag: the counts and page computed before
    assert len(seen) == 1 and "WHERE assets.id IN" in seen[0]  # only the page's own rows were read

    _lagging(monkeypatch, -1)  # the lag has passed: counted again, with the page
    answer = index_search(catalog, PAGE)
    assert answer == _fresh(catalog, PAGE) and _counts(answer)["format"]["json"] == 1

    _lagging(monkeypatch, 3600)
    index_search(catalog, PAGE)  # cached again (_fresh emptied the cache)
    crawl.publish(_table(SALES, "returns", 2))
    assert _counts(index_search(catalog, PAGE)) == _counts(answer)  # lagging again
    crawl.commit()  # the crawl's end: seen at once, however long the lag
    answer = index_search(catalog, PAGE)
    assert answer == _fresh(catalog, PAGE) and _counts(answer)["type"]["Table"] == 5


def test_counts_follow_edits(catalog: sa.Engine, other: sa.Engine) -> None:
    certified = {"dsl": {"size": 0, "query": {"term": {"__state": "ACTIVE"}},
                         "aggregations": {"certificate": {"terms": {"field": "certificateStatus"}}}}}
    assert _counts(index_search(catalog, certified)) == {"certificate": {}}
    orders = index_search(catalog, {"dsl": {"query": {"term": {"name.keyword": "orders"}}}})["entities"][0]
    update_curated(other, orders["guid"], ADMIN, {"certificateStatus": "VERIFIED"})
    assert _counts(index_search(catalog, certified)) == {"certificate": {"VERIFIED": 1}}

    bulk_upsert(other, {"entities": [{"typeName": "Table", "attributes": {
        "qualifiedName": f"{ANALYTICS}/notes", "name": "notes", "certificateStatus": "DRAFT"}}]}, ADMIN)
    assert _counts(index_search(catalog, certified)) == {"certificate": {"VERIFIED": 1, "DRAFT": 1}}
    assert _counts(index_search(catalog, FACETS_ONLY))["type"]["Table"] == 4
    assert index_search(catalog, FACETS_ONLY) == _fresh(catalog, FACETS_ONLY)


def test_the_generation_is_shared_by_every_slot(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        slots = conn.execute(sa.select(catalog_generation.c.slot).order_by(catalog_generation.c.slot)).scalars()
        assert list(slots) == list(range(SLOTS)) and current_generation(conn) == (0, 0)
    for i in range(40):
        with engine.begin() as conn:
            bump_generation(conn, crawl_page=i % 4 == 0)
    with engine.connect() as conn:
        assert current_generation(conn) == (30, 10)
    with engine.begin() as conn:  # a catalog with fewer slots than the code expects still counts every bump
        conn.execute(catalog_generation.delete().where(catalog_generation.c.slot > 0))
        before = current_generation(conn)
    for _ in range(5):
        with engine.begin() as conn:
            bump_generation(conn)
        with engine.begin() as conn:
            bump_generation(conn, crawl_page=True)
    with engine.connect() as conn:
        assert current_generation(conn) == (before.settled + 5, before.pages + 5)


def test_what_is_not_cached_and_the_bound() -> None:
    def key(dsl: dict) -> str | None:
        return request_key(parse_search_request(dsl, max_size=100))

    facets = {"aggregations": {"t": {"terms": {"field": "__typeName.keyword"}}}}
    assert key({"query": {"term": {"name.keyword": "x"}}}) is None  # no facets: a lookup
    assert key({"query": {"range": {"updateTime": {"gte": "now-1d"}}}, **facets}) is None  # moves with the clock
    assert key({"query": {"range": {"updateTime": {"gte": "2026-01-01"}}}, **facets}) is not None
    assert key({"query": {"term": {"isPartitioned": True}}, **facets}) != \
        key({"query": {"term": {"isPartitioned": 1}}, **facets})
    assert key({"query": {"bool": {"filter": [{"term": {"name.keyword": "x"}}]}}, **facets}) == \
        key({"query": {"bool": {"filter": [{"term": {"name.keyword": "x"}}]}}, "from": 20, **facets})

    cache = SearchCache(size=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)  # "b" was the least recently used
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (1, None, 3, 2)


def test_facets_with_too_many_buckets_are_not_kept(catalog: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gazetteer.assets.search_cache.MAX_KEPT_BUCKETS", 3)
    names = {"dsl": {"size": 0, "aggregations": {"n": {"terms": {"field": "name.keyword", "size": 100}}}}}
    index_search(catalog, names)
    with statements(catalog, ASSETS) as seen:
        assert len(index_search(catalog, names)["aggregations"]["n"]["buckets"]) > 3
    assert seen  # counted again
    index_search(catalog, FACETS_ONLY)  # 5 facets, more than 3 buckets: not kept either
    with statements(catalog, ASSETS) as seen:
        index_search(catalog, FACETS_ONLY)
    assert seen
