"""The DSL compiler against a real SQLite file and a real PostgreSQL schema: every clause, exact rows."""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gazetteer.errors import InvalidRequest
from gazetteer.search import (
    FullText,
    ResolvedField,
    apply_search,
    compile_query,
    compile_terms_agg,
    parse_query,
    parse_search_request,
    terms_agg_result,
)
from gazetteer.store.sqlite_functions import install_sqlite_functions

PG_SKIP = "set GAZETTEER_TEST_POSTGRES_URL=postgresql+psycopg://USER@HOST:PORT/DB to run the PostgreSQL tests"
NOW = datetime.now(UTC).replace(microsecond=0)

metadata = sa.MetaData()
runs = sa.Table(
    "search_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("workflow", sa.String(200)),
    sa.Column("phase", sa.String(20)),
    sa.Column("type_name", sa.String(40), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("duration", sa.Integer),
    sa.Column("archived", sa.Boolean, nullable=False),
    sa.Column("labels", sa.JSON, nullable=False),
    sa.Column("tags", sa.JSON, nullable=False),
)

WF1, WF2 = "atlan-glue-1684500411", "atlan-glue-1700000000"
PHASE, CREATOR = "workflows.argoproj.io/phase", "workflows.argoproj.io/creator"


def _row(id: int, name: str, created: timedelta, **kw: Any) -> dict[str, Any]:
    created_at = NOW - created
    return {
        "id": id,
        "name": name,
        "workflow": None,
        "phase": None,
        "type_name": "WorkflowTemplate",
        "started_at": None,
        "created_at": created_at,
        "created_ms": int(created_at.timestamp() * 1000),
        "duration": None,
        "archived": False,
        "labels": {},
        "tags": [],
        **kw,
    }


def _run(id: int, name: str, workflow: str, phase: str, started: timedelta, **kw: Any) -> dict[str, Any]:
    kw.setdefault("labels", {PHASE: phase})
    return _row(
        id,
        name,
        started,
        workflow=workflow,
        phase=phase,
        type_name="Workflow",
        started_at=NOW - started,
        **kw,
    )


ROWS = [
    _row(1, WF1, timedelta(days=30), tags=["glue"]),
    _row(2, WF2, timedelta(days=2)),
    _run(
        3,
        f"{WF1}-ab12c",
        WF1,
        "Succeeded",
        timedelta(hours=30),
        duration=120,
        tags=["glue", "nightly"],
        labels={PHASE: "Succeeded", CREATOR: "u1"},
    ),
    _run(4, f"{WF1}-cd34e", WF1, "Failed", timedelta(hours=3), duration=30),
    _run(5, f"{WF1}-ef56g", WF1, "Running", timedelta(hours=1), labels={PHASE: "Running", CREATOR: "u2"}),
    _run(6, f"{WF2}-zz99y", WF2, "Succeeded", timedelta(minutes=10), duration=10, archived=True),
    _row(7, "atlan-glue-123456", timedelta(days=3)),
    _row(8, "xatlan-glue-1234567890", timedelta(days=4)),
    _row(9, "atlan-glue-12345678901", timedelta(days=5)),
    _row(10, "ATLAN-GLUE-1234567890", timedelta(days=6)),
    _row(11, "atlan-glue-1234567890\n", timedelta(days=7)),
    _row(12, "a%b_c", timedelta(days=8)),
    _row(13, "aXbYc", timedelta(days=9)),
    _row(14, "line\nbreak", timedelta(days=10)),
    _row(15, "atlan-gluex1234567890", timedelta(days=11)),
]
ALL = {r["id"] for r in ROWS}
RUNS = {3, 4, 5, 6}
TEMPLATES = ALL - RUNS

_COLUMNS: dict[str, tuple[str, str]] = {
    "_id": ("name", "text"),
    "metadata.name": ("name", "text"),
    "metadata.name.keyword": ("name", "text"),
    "spec.workflowTemplateRef.name.keyword": ("workflow", "text"),
    "status.phase.keyword": ("phase", "text"),
    "status.startedAt": ("started_at", "datetime"),
    "metadata.creationTimestamp": ("created_at", "datetime"),
    "createTime": ("created_ms", "datetime"),
    "status.estimatedDuration": ("duration", "number"),
    "archived": ("archived", "bool"),
}


class RunResolver:
    """A workflow-store-like resolver: fixed columns, labels from a JSON object, tags a JSON array."""

    def column(self, field: str) -> ResolvedField:
        if field.startswith("metadata.labels."):
            key = field.removeprefix("metadata.labels.").removesuffix(".keyword")
            return ResolvedField(runs.c.labels[key].as_string(), "text", sortable=False)
        if field == "__typeName.keyword":
            return ResolvedField(runs.c.type_name, "text", case_insensitive=True)
        if field == "tags":
            return ResolvedField(runs.c.tags, "text", is_array=True)
        if field not in _COLUMNS:
            raise InvalidRequest(f"unknown field {field!r}")
        name, kind = _COLUMNS[field]
        return ResolvedField(runs.c[name], kind)  # type: ignore[arg-type]

    def full_text(self, node: FullText) -> sa.ColumnElement[bool]:
        if set(node.fields) - {"metadata.name"}:
            raise InvalidRequest(f"full-text search is not supported on {node.fields!r}")
        words = [sa.func.lower(runs.c.name).contains(w.lower(), autoescape=True) for w in node.text.split()]
        return sa.and_(*words) if node.operator == "and" else sa.or_(*words)


RESOLVER = RunResolver()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    """The table above, filled, in a SQLite file or in a PostgreSQL schema made for this module."""
    admin, schema = None, f"gz_search_{uuid.uuid4().hex[:12]}"
    if request.param == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path_factory.mktemp('search') / 'search.db'}")
        sa.event.listen(engine, "connect", install_sqlite_functions)
    else:
        url = os.environ.get("GAZETTEER_TEST_POSTGRES_URL")
        if not url:
            pytest.skip(PG_SKIP)
        admin = sa.create_engine(url)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine = sa.create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(runs.insert(), ROWS)
        yield engine
    finally:
        engine.dispose()
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def search(engine: sa.Engine, body: dict[str, Any], now: datetime | None = None) -> list[int]:
    """Ids of one page of `body`, in result order (id breaks ties)."""
    request = parse_search_request(body, max_size=1000)
    stmt = apply_search(sa.select(runs.c.id), request, RESOLVER, tiebreakers=[runs.c.id], now=now)
    with engine.connect() as conn:
        return list(conn.scalars(stmt))


def where(engine: sa.Engine, query: dict[str, Any], now: datetime | None = None) -> set[int]:
    return set(search(engine, {"query": query, "size": 1000}, now))


def test_find_by_type_regexp_matches_whole_names_only(engine: sa.Engine) -> None:
    body = {
        "from": 0,
        "size": 10,
        "track_total_hits": True,
        "query": {
            "bool": {
                "filter": [
                    {
                        "nested": {
                            "path": "metadata",
                            "query": {
                                "regexp": {"metadata.name.keyword": {"value": "atlan[-]glue[-][0-9]{10}"}}
                            },
                        }
                    }
                ]
            }
        },
        "sort": [{"metadata.creationTimestamp": {"order": "desc", "nested": {"path": "metadata"}}}],
    }
    # not 7 (6 digits), 8 (leading x), 9 (11 digits), 10 (case), 11 (trailing newline), 15, nor runs
    assert search(engine, body) == [2, 1]


def test_regexp_operators(engine: sa.Engine) -> None:
    assert where(
        engine, {"regexp": {"metadata.name": {"value": "atlan-glue-[0-9]{10}", "case_insensitive": True}}}
    ) == {1, 2, 10}
    assert where(engine, {"regexp": {"metadata.name": "line.break"}}) == {14}  # `.` matches a newline in ES
    assert where(engine, {"regexp": {"metadata.name": "a(%|X)b.c"}}) == {12, 13}
    assert where(engine, {"regexp": {"metadata.name": "atlan-glue-[0-9]+-[a-z0-9]{5}"}}) == RUNS
    assert where(engine, {"regexp": {"metadata.name": "a[^X]b_c?"}}) == {12}
    assert where(engine, {"regexp": {"metadata.name": ".*ef56g|\\d+|\\w{5}"}}) == {5, 13}
    assert where(engine, {"regexp": {"__typeName.keyword": "workflow"}}) == RUNS  # case-insensitive field


def test_seed_page_prefix_body(engine: sa.Engine) -> None:
    body = {
        "from": 0,
        "size": 5,
        "query": {
            "bool": {
                "filter": [
                    {
                        "nested": {
                            "path": "metadata",
                            "query": {"prefix": {"metadata.name.keyword": {"value": "atlan-glue"}}},
                        }
                    }
                ]
            }
        },
        "sort": [{"metadata.creationTimestamp": {"nested": {"path": "metadata"}, "order": "desc"}}],
        "track_total_hits": True,
    }
    # names starting with atlan-glue, newest first: 6 (10 min), 5, 4, 3, 2 (2 days); then 7...15, 1
    assert search(engine, body) == [6, 5, 4, 3, 2]
    assert search(engine, {**body, "from": 5}) == [7, 9, 11, 15, 1]
    assert search(engine, {**body, "from": 10}) == []


def test_prefix_escapes_like_wildcards_and_respects_case(engine: sa.Engine) -> None:
    assert where(engine, {"prefix": {"metadata.name": "a%b"}}) == {12}
    assert where(engine, {"prefix": {"metadata.name": "a%b_"}}) == {12}
    assert where(engine, {"prefix": {"metadata.name": "a_"}}) == set()
    assert where(engine, {"prefix": {"metadata.name": "axb"}}) == set()
    assert where(engine, {"prefix": {"metadata.name": {"value": "axb", "case_insensitive": True}}}) == {13}
    assert where(engine, {"prefix": {"metadata.name": "ATLAN"}}) == {10}
    assert where(engine, {"prefix": {"__typeName.keyword": "WORKFLOWT"}}) == TEMPLATES


def test_wildcard(engine: sa.Engine) -> None:
    assert where(engine, {"wildcard": {"metadata.name": "a?b*"}}) == {12, 13}
    assert where(engine, {"wildcard": {"metadata.name": "a%b*"}}) == {12}
    assert where(engine, {"wildcard": {"metadata.name": {"value": "A?B*"}}}) == set()
    assert where(engine, {"wildcard": {"metadata.name": {"wildcard": "A?B*", "case_insensitive": True}}}) == {
        12,
        13,
    }
    assert where(engine, {"wildcard": {"metadata.name": "atlan-glue-??????????"}}) == {1, 2}
    assert where(engine, {"wildcard": {"metadata.name": "*-ef56?"}}) == {5}
    assert where(engine, {"wildcard": {"metadata.name": "line?break"}}) == {14}


def test_monitor_latest_run_and_current_run(engine: sa.Engine) -> None:
    query = {
        "bool": {
            "filter": [
                {
                    "nested": {
                        "path": "spec",
                        "query": {"term": {"spec.workflowTemplateRef.name.keyword": {"value": WF1}}},
                    }
                }
            ]
        }
    }
    latest = {
        "from": 0,
        "size": 1,
        "track_total_hits": True,
        "query": query,
        "sort": [{"status.startedAt": {"order": "desc"}}],
    }
    assert search(engine, latest) == [5]
    default_sort = [{"metadata.creationTimestamp": {"order": "desc", "nested": {"path": "metadata"}}}]
    assert search(engine, {"from": 0, "size": 50, "query": query, "sort": default_sort}) == [5, 4, 3]


def test_get_runs_bool_must_and_filter(engine: sa.Engine) -> None:
    body = {
        "from": 0,
        "size": 100,
        "track_total_hits": True,
        "query": {
            "bool": {
                "must": [
                    {
                        "nested": {
                            "path": "spec",
                            "query": {"term": {"spec.workflowTemplateRef.name.keyword": {"value": WF1}}},
                        }
                    }
                ],
                "filter": [{"term": {"status.phase.keyword": {"value": "Succeeded"}}}],
            }
        },
        "sort": [{"metadata.creationTimestamp": {"order": "desc", "nested": {"path": "metadata"}}}],
    }
    assert search(engine, body) == [3]
    assert search(engine, {**body, "from": 100}) == []


def test_find_run_by_id_and_ids(engine: sa.Engine) -> None:
    body = {"query": {"bool": {"filter": [{"term": {"_id": {"value": f"{WF2}-zz99y"}}}]}}, "size": 1}
    assert search(engine, body) == [6]
    assert where(engine, {"ids": {"values": [WF1, WF2, "nope"]}}) == {1, 2}
    assert where(engine, {"terms": {"status.phase.keyword": []}}) == set()


def test_runs_by_status_and_time_range(engine: sa.Engine) -> None:
    query = {
        "bool": {
            "must": [
                {
                    "nested": {
                        "path": "metadata",
                        "query": {"terms": {f"metadata.labels.{PHASE}.keyword": ["Running", "Failed"]}},
                    }
                },
                {"range": {"status.startedAt": {"gte": "now-2h"}}},
                {
                    "nested": {
                        "path": "metadata",
                        "query": {"exists": {"field": f"metadata.labels.{CREATOR}"}},
                    }
                },
            ]
        }
    }
    assert where(engine, query) == {5}
    assert where(engine, {"exists": {"field": f"metadata.labels.{CREATOR}"}}) == {3, 5}


def test_range_dates(engine: sa.Engine) -> None:
    assert where(engine, {"range": {"status.startedAt": {"gte": "now-2h"}}}) == {5, 6}
    assert where(engine, {"range": {"status.startedAt": {"gt": "now-2h", "lt": "now-30m"}}}) == {5}
    iso = (NOW - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert where(engine, {"range": {"status.startedAt": {"gte": iso}}}) == {4, 5, 6}
    assert where(engine, {"range": {"status.startedAt": {"gt": iso}}}) == {5, 6}
    assert where(engine, {"range": {"status.startedAt": {"lte": f"{iso}||-1s"}}}) == {3}
    ms = int((NOW - timedelta(hours=3)).timestamp() * 1000)
    assert where(engine, {"range": {"status.startedAt": {"gte": ms}}}) == {4, 5, 6}
    # epoch-millisecond storage: the bound becomes milliseconds too
    assert where(engine, {"range": {"createTime": {"gte": "now-2h"}}}) == {5, 6}
    # `now` can be fixed: three days back, "gt now" finds what was created in the last three days
    assert where(
        engine, {"range": {"metadata.creationTimestamp": {"gt": "now"}}}, now=NOW - timedelta(days=3)
    ) == {2, 3, 4, 5, 6}
    assert where(engine, {"range": {"status.startedAt": {}}}) == RUNS
    # a bare date as an upper bound (lte) or an exclusive lower bound (gt) means the whole day
    day = (NOW - timedelta(hours=30)).date()
    up_to_day = {r["id"] for r in ROWS if r["started_at"] and r["started_at"].date() <= day}
    assert (
        3 in up_to_day
        and where(engine, {"range": {"status.startedAt": {"lte": day.isoformat()}}}) == up_to_day
    )
    assert where(engine, {"range": {"status.startedAt": {"gt": day.isoformat()}}}) == RUNS - up_to_day


def test_range_numbers_and_text(engine: sa.Engine) -> None:
    assert where(engine, {"range": {"status.estimatedDuration": {"gt": 30}}}) == {3}
    assert where(engine, {"range": {"status.estimatedDuration": {"gte": "30", "lte": 120.0}}}) == {3, 4}
    assert where(engine, {"range": {"status.phase.keyword": {"gte": "R", "lt": "S"}}}) == {5}


def test_term_kinds_and_case(engine: sa.Engine) -> None:
    assert where(engine, {"term": {"__typeName.keyword": "WORKFLOW"}}) == RUNS
    assert (
        where(
            engine, {"term": {"__typeName.keyword": {"value": "workflowtemplate", "case_insensitive": False}}}
        )
        == TEMPLATES
    )
    assert where(engine, {"term": {"metadata.name": {"value": "AXBYC", "case_insensitive": True}}}) == {13}
    assert where(engine, {"term": {"metadata.name": "AXBYC"}}) == set()
    assert where(engine, {"term": {"archived": True}}) == {6}
    assert where(engine, {"term": {"archived": "false"}}) == ALL - {6}
    assert where(engine, {"term": {"status.estimatedDuration": "120"}}) == {3}
    assert where(engine, {"terms": {"status.estimatedDuration": [10, 30]}}) == {4, 6}
    created = ROWS[1]["created_at"].isoformat()
    assert where(engine, {"term": {"metadata.creationTimestamp": created}}) == {2}
    assert where(engine, {"term": {"createTime": ROWS[1]["created_ms"]}}) == {2}


def test_array_field(engine: sa.Engine) -> None:
    assert where(engine, {"term": {"tags": "nightly"}}) == {3}
    assert where(engine, {"terms": {"tags": ["glue", "other"]}}) == {1, 3}
    assert where(engine, {"bool": {"must_not": {"term": {"tags": "glue"}}}}) == ALL - {1, 3}
    with pytest.raises(InvalidRequest, match="prefix is not supported on the array field 'tags'"):
        where(engine, {"prefix": {"tags": "gl"}})


def test_bool_must_not_should(engine: sa.Engine) -> None:
    # must_not keeps documents without the field (phase is NULL for templates), as ES does
    assert where(engine, {"bool": {"must_not": [{"term": {"status.phase.keyword": "Succeeded"}}]}}) == ALL - {
        3,
        6,
    }
    assert where(engine, {"bool": {"must_not": {"regexp": {"status.phase.keyword": "S.*"}}}}) == ALL - {3, 6}
    should = [
        {"term": {"status.phase.keyword": "Succeeded"}},
        {"term": {"archived": True}},
        {"range": {"status.estimatedDuration": {"gte": 100}}},
    ]
    assert where(engine, {"bool": {"should": should}}) == {3, 6}
    assert where(engine, {"bool": {"should": should, "minimum_should_match": 2}}) == {3, 6}
    assert where(engine, {"bool": {"should": should, "minimum_should_match": "100%"}}) == set()
    assert where(engine, {"bool": {"should": should, "minimum_should_match": -1}}) == {3, 6}
    # with a filter, should is optional (minimum_should_match defaults to 0)
    assert (
        where(engine, {"bool": {"filter": {"term": {"__typeName.keyword": "Workflow"}}, "should": should}})
        == RUNS
    )
    assert where(engine, {"bool": {"should": [], "must_not": {"match_all": {}}}}) == set()
    assert where(engine, {"match_none": {}}) == set()
    assert where(engine, {"match_all": {}}) == ALL


def test_sort_missing_and_paging(engine: sa.Engine) -> None:
    base = {"query": {"range": {"status.estimatedDuration": {"gte": 0}}}}
    assert search(engine, {**base, "sort": ["status.estimatedDuration"]}) == [6, 4, 3]
    assert search(engine, {**base, "sort": [{"status.estimatedDuration": "desc"}]}) == [3, 4, 6]
    runs_body = {"query": {"term": {"__typeName.keyword": "workflow"}}}
    assert search(engine, {**runs_body, "sort": [{"status.estimatedDuration": {"order": "asc"}}]}) == [
        6,
        4,
        3,
        5,
    ]
    assert search(
        engine, {**runs_body, "sort": [{"status.estimatedDuration": {"order": "desc", "missing": "_first"}}]}
    ) == [5, 3, 4, 6]
    pages = [
        search(engine, {**runs_body, "from": f, "size": 3, "sort": [{"status.startedAt": "asc"}]})
        for f in (0, 3, 6)
    ]
    assert pages == [[3, 4, 5], [6], []]
    with pytest.raises(InvalidRequest, match="cannot be sorted"):
        search(engine, {"sort": [f"metadata.labels.{PHASE}"]})


def test_full_text_is_delegated(engine: sa.Engine) -> None:
    assert where(engine, {"match": {"metadata.name": "EF56G"}}) == {5}
    assert where(engine, {"match": {"metadata.name": {"query": "ab12c cd34e", "operator": "or"}}}) == {3, 4}
    assert (
        where(
            engine,
            {"multi_match": {"query": "ab12c cd34e", "fields": ["metadata.name^3"], "operator": "and"}},
        )
        == set()
    )
    with pytest.raises(InvalidRequest, match="full-text search is not supported"):
        where(engine, {"multi_match": {"query": "x", "fields": ["status.phase"]}})


def test_terms_aggregation(engine: sa.Engine) -> None:
    request = parse_search_request(
        {
            "query": {"term": {"__typeName.keyword": "Workflow"}},
            "aggs": {"phases": {"terms": {"field": "status.phase.keyword", "size": 1}}},
        }
    )
    stmt = compile_terms_agg(request.aggregations[0], RESOLVER, runs, compile_query(request.query, RESOLVER))
    with engine.connect() as conn:
        result = terms_agg_result(conn.execute(stmt))
    assert result["buckets"] == [{"key": "Succeeded", "doc_count": 2}]
    assert result["sum_other_doc_count"] == 2
    agg = parse_search_request({"aggs": {"a": {"terms": {"field": "archived"}}}}).aggregations[0]
    with engine.connect() as conn:
        result = terms_agg_result(conn.execute(compile_terms_agg(agg, RESOLVER, runs, sa.true())))
    assert result["buckets"] == [
        {"key": 0, "key_as_string": "false", "doc_count": 14},
        {"key": 1, "key_as_string": "true", "doc_count": 1},
    ]
    assert result["sum_other_doc_count"] == 0


def test_errors_name_the_field_and_position(engine: sa.Engine) -> None:
    with pytest.raises(InvalidRequest, match=r"unknown field 'nope' \(at query.bool.filter\[0\]\)"):
        search(engine, {"query": {"bool": {"filter": [{"term": {"nope": 1}}]}}})
    with pytest.raises(InvalidRequest, match=r"regexp needs a text field.*status.estimatedDuration"):
        where(engine, {"regexp": {"status.estimatedDuration": "1.*"}})
    with pytest.raises(InvalidRequest, match=r"not a number: 'abc'"):
        where(engine, {"term": {"status.estimatedDuration": "abc"}})
    with pytest.raises(InvalidRequest, match=r"date math 'now-1d'"):
        where(engine, {"range": {"status.estimatedDuration": {"gte": "now-1d"}}})
    with pytest.raises(InvalidRequest, match=r"malformed date 'yesterday'"):
        where(engine, {"range": {"status.startedAt": {"gte": "yesterday"}}})
    with pytest.raises(InvalidRequest, match=r"unsupported query clause 'fuzzy' at query.bool.filter\[1\]"):
        search(engine, {"query": {"bool": {"filter": [{"match_all": {}}, {"fuzzy": {"name": "x"}}]}}})


def test_sql_uses_bound_parameters_and_portable_regexp() -> None:
    query = parse_query(
        {
            "bool": {
                "filter": [
                    {"regexp": {"metadata.name": "secret[0-9]"}},
                    {"prefix": {"metadata.name": "hidden'--"}},
                ]
            }
        }
    )
    expr = compile_query(query, RESOLVER)
    pg = str(sa.select(runs.c.id).where(expr).compile(dialect=postgresql.dialect()))
    lite = str(sa.select(runs.c.id).where(expr).compile(dialect=sqlite.dialect()))
    assert " ~ " in pg and " REGEXP " in lite
    for sql in (pg, lite):
        assert "secret" not in sql and "hidden" not in sql and "LIKE" in sql


def test_install_sqlite_functions_replaces_the_dialect_regexp(tmp_path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'r.db'}")
    with engine.connect() as conn:  # SQLAlchemy's own REGEXP: `.` does not match a newline
        assert conn.scalar(sa.select(sa.literal("a\nb").regexp_match("^a.b$"))) == 0
    sa.event.listen(engine, "connect", install_sqlite_functions)
    engine.dispose()
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.literal("a\nb").regexp_match("^a.b$"))) == 1
        assert conn.scalar(sa.select(sa.null().regexp_match("a"))) is None
    engine.dispose()


def test_long_clause_lists_compile_to_trees_sqlite_can_parse(engine: sa.Engine) -> None:
    # A flat `a OR b OR ...` of 1,000 terms is nested 1,000 deep once SQLite parses it, which it refuses.
    misses = [{"term": {"metadata.name": f"no-such-name-{i}"}} for i in range(1000)]
    assert where(engine, {"bool": {"should": [*misses, {"term": {"metadata.name": "a%b_c"}}]}}) == {12}
    assert where(engine, {"bool": {"must_not": misses}}) == ALL
    assert where(engine, {"bool": {"minimum_should_match": 2, "should": [
        *misses, {"term": {"metadata.name": WF1}}, {"prefix": {"metadata.name": "atlan-glue-1684"}}]}}) == {1}
    case_insensitive = ["no-such-type"] * 5000 + ["WORKFLOW"]
    assert where(engine, {"terms": {"__typeName.keyword": case_insensitive}}) == RUNS
    # The deepest a query may be: 20 levels of 50 clauses, the deeper bool first in each (furthest from the
    # root of a left-leaning chain).
    query: dict[str, Any] = {"term": {"metadata.name": "aXbYc"}}
    for level in range(20):
        query = {"bool": {"should": [query, *misses[level * 49:(level + 1) * 49]]}}
    assert where(engine, query) == {13}


def test_values_out_of_range_at_compile_time(engine: sa.Engine) -> None:
    for bound in ("now-99999999999y", "now+8000y", "2024-01-01||+99999999999d", "now-1000000000000000000000h"):
        with pytest.raises(InvalidRequest, match=rf"out of range \(years 1 to 9999\): '{re.escape(bound)}' for "
                                                 "datetime field 'metadata.creationTimestamp'"):
            where(engine, {"range": {"metadata.creationTimestamp": {"gte": bound}}})
    assert where(engine, {"range": {"metadata.creationTimestamp": {"gte": "now-2000y"}}}) == ALL
    for text in ("1" + "0" * 30, "nan", "-inf"):
        with pytest.raises(InvalidRequest, match="number field 'status.estimatedDuration' .* (out of range|finite)"):
            where(engine, {"range": {"status.estimatedDuration": {"gte": text}}})


def test_sqlite_regexp_runs_in_linear_time(tmp_path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'r.db'}")
    sa.event.listen(engine, "connect", install_sqlite_functions)
    pattern = parse_query({"regexp": {"f": "(.|.)*X"}}).pattern  # type: ignore[union-attr]
    started = time.monotonic()
    with engine.connect() as conn:  # Python's `re` would backtrack for longer than the universe has existed
        assert conn.scalar(sa.select(sa.literal("a" * 100_000).regexp_match(pattern))) == 0
        assert conn.scalar(sa.select(sa.literal("a" * 100_000 + "X").regexp_match(pattern))) == 1
    assert time.monotonic() - started < 5
    engine.dispose()
