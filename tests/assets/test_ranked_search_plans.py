"""How a ranked full-text search reads its hits and its total, beyond what it answers (SQLite and PostgreSQL):
a rank read past the first index entries (PostgreSQL's probe, then the rank's own index) keeps the order,
a common word's capped total comes from the planner's statistics without counting, and a total that had to
be counted is kept until the next write."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from gazetteer.api.asset_search import index_search
from gazetteer.assets.curation import update_curated
from gazetteer.assets.publish import Publisher
from gazetteer.assets.records import AssetRecord
from gazetteer.assets.search_cache import cache_for
from gazetteer.auth.principal import Principal
from gazetteer.devtools.statements import statements

C = "default/glue/1000000001"
SCHEMA = f"{C}/AwsDataCatalog/lake"
ADMIN = Principal("u0", "admin", frozenset({"$admin"}))
WORDS = ["amber", "birch", "cedar", "delta", "ember"]


def _records(tables: int) -> list[AssetRecord]:
    """Tables `t{i}_{word}` cycling through WORDS, each with a column `{word}_id` of the next word: every word
    is in a fifth of the names and a fifth of the column names, spread over the whole id range."""
    base = {"connectionQualifiedName": C, "schemaQualifiedName": SCHEMA}
    out = [AssetRecord("Schema", SCHEMA, "lake", None, base)]
    for i in range(tables):
        name, column = f"t{i}_{WORDS[i % 5]}", f"{WORDS[(i + 1) % 5]}_id"
        qn = f"{SCHEMA}/{name}"
        out += [AssetRecord("Table", qn, name, SCHEMA, {**base, "columnCount": 1}),
                AssetRecord("Column", f"{qn}/{column}", column, qn, {**base, "tableQualifiedName": qn, "order": 1})]
    return out


@pytest.fixture()
def catalog(engine: sa.Engine) -> sa.Engine:
    Publisher(engine).publish(_records(200))
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE asset_words")
    return engine


def _search(engine: sa.Engine, text: str, operator: str = "or", **dsl) -> dict:
    return index_search(engine, {"dsl": {"size": 25, **dsl, "query": {"bool": {
        "must": [{"multi_match": {"query": text, "operator": operator}}],
        "filter": [{"term": {"__state": "ACTIVE"}}]}}}})


def _names(answer: dict) -> list[str]:
    return [entity["attributes"]["qualifiedName"] for entity in answer.get("entities", [])]


def _counts(statements: list[str]) -> list[str]:
    return [s for s in statements if re.search(r"\bcount\(", s, re.IGNORECASE)]


@pytest.mark.parametrize("text", ["delta ember", "birch ember", "t1 amber", "t17"])
def test_a_rank_read_past_the_probe_keeps_the_order(catalog: sa.Engine, monkeypatch: pytest.MonkeyPatch,
                                                   text: str) -> None:
    if catalog.dialect.name != "postgresql":
        pytest.skip("the probe is PostgreSQL's: SQLite's full-text index answers in id order by itself")
    whole = _names(_search(catalog, text))  # the probe covers the whole index of this small catalog
    monkeypatch.setattr("gazetteer.assets.fulltext._PROBE", 7)  # the first 7 entries: too few for any rank
    with statements(catalog) as seen:
        past = _names(_search(catalog, text))
    assert past == whole and len(whole) >= 5
    assert any("asset_words.asset_id + " in s for s in seen)  # a rank was read from its own GIN index


def test_a_common_words_capped_total_comes_from_statistics(catalog: sa.Engine) -> None:
    if catalog.dialect.name != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's; SQLite's FTS5 counts a word's hits from its doclist")
    with statements(catalog) as seen:
        answer = _search(catalog, "amber", track_total_hits=20)  # 120 hits: 40 names, 40 columns, their 40 tables
    assert answer["approximateCount"] == 20 and _counts(seen) == []
    with statements(catalog) as seen:  # statistics say 120 hits: not twice a cap of 70, so counted
        answer = _search(catalog, "amber", track_total_hits=70)
    assert answer["approximateCount"] == 70 and len(_counts(seen)) == 1
    with statements(catalog) as seen:  # both words are needed: statistics cannot tell, so counted
        answer = _search(catalog, "amber birch", operator="and", track_total_hits=20)
    assert len(_counts(seen)) == 1
    assert answer["approximateCount"] == 20  # t0_amber has birch_id, and 39 more


def test_a_counted_total_is_kept_until_a_write(catalog: sa.Engine) -> None:
    cache_for(catalog).clear()
    first = _search(catalog, "cedar", track_total_hits=True)  # pyatlan asks for the exact total
    assert first["approximateCount"] == 120
    with statements(catalog) as seen:
        second = _search(catalog, "cedar", track_total_hits=True, **{"from": 25})  # the next page
    assert _counts(seen) == [] and second["approximateCount"] == 120
    assert set(_names(first)).isdisjoint(_names(second))

    table = _search(catalog, "t2_cedar")["entities"][0]  # the exact name first
    update_curated(catalog, table["guid"], ADMIN, {"userDescription": "cedar cedar"})  # no new hit: recounted
    with statements(catalog) as seen:
        assert _search(catalog, "cedar", track_total_hits=True)["approximateCount"] == 120
    assert len(_counts(seen)) == 1
    Publisher(catalog).archive([f"{SCHEMA}/t2_cedar"])  # one hit fewer (its column is delta_id)
    assert _search(catalog, "cedar", track_total_hits=True)["approximateCount"] == 119
