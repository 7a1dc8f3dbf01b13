"""No search can hold the server: linear-time regexps, and a time budget for each query of an API request.

Real servers and real databases (SQLite, then PostgreSQL): pathological searches answer while /health keeps
answering, a query slower than GAZETTEER_QUERY_TIMEOUT_SECONDS is stopped with a 400, and crawls, which run
without a budget, are not limited.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gazetteer.api.asset_search import index_search
from gazetteer.assets.publish import Publisher
from gazetteer.assets.records import AssetRecord
from gazetteer.errors import InvalidRequest
from gazetteer.store import assets, open_engine
from gazetteer.store.budget import QueryBudget, query_budget, refusal
from gazetteer.web.errors import install_error_handlers
from tests.workflows.test_workflow_api import create, seed, wait_for, workflow

SEARCH = "/api/meta/search/indexsearch"
C = "default/glue/1000000001"
SCHEMA = f"{C}/AwsDataCatalog/s"


def _slow_sql(engine: sa.Engine) -> sa.TextClause:
    """A statement of about a second, on either engine."""
    if engine.dialect.name == "postgresql":
        return sa.text("SELECT pg_sleep(1)")
    return sa.text("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000) "
                   "SELECT count(*) FROM n")


def _run_slow_sql(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        conn.execute(_slow_sql(engine))


def _refused(engine: sa.Engine) -> InvalidRequest:
    started = time.monotonic()
    with pytest.raises(sa.exc.DBAPIError) as error, engine.connect() as conn:
        conn.execute(_slow_sql(engine))
    assert time.monotonic() - started < 0.8  # stopped, not finished
    refused = refusal(error.value)
    assert refused is not None
    return refused


def test_the_budget_stops_a_statement_and_nothing_else(engine: sa.Engine) -> None:
    _run_slow_sql(engine)  # no budget: no limit
    with query_budget(0.05):
        refused = _refused(engine)
        assert refused.status_code == 400 and "longer than the 0.05-second budget" in refused.message
        # What the workflow executor does: a crawl submitted from a request runs in a pool thread, without it.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(_run_slow_sql, engine).result()
    with engine.connect() as conn:  # the pooled connection that was stopped works, and is not limited any more
        conn.execute(_slow_sql(engine))
        if engine.dialect.name == "postgresql":
            assert conn.execute(sa.text("SHOW statement_timeout")).scalar() == "0"
    with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError) as other:
        conn.execute(sa.text("SELECT no_such_column FROM assets"))
    assert refusal(other.value) is None  # anything else stays a 500


def test_sync_routes_run_under_the_budget_except_health(engine: sa.Engine) -> None:
    """anyio copies context variables into the threadpool running sync routes: that is how queries see it."""
    app = FastAPI()
    app.add_middleware(QueryBudget, seconds=0.05)
    install_error_handlers(app)

    def slow() -> dict[str, str]:
        _run_slow_sql(engine)
        return {"status": "ok"}

    app.get("/slow")(slow)
    app.get("/health")(slow)
    with TestClient(app) as client:
        answer = client.get("/slow")
        assert answer.status_code == 400, answer.text
        assert set(answer.json()) == {"errorCode", "errorMessage"}
        assert "took longer than the 0.05-second budget" in answer.json()["errorMessage"]
        assert client.get("/health").json() == {"status": "ok"}


def _seed_rows(url: str, count: int) -> None:
    """`count` tables named t1, t2... written in one statement (publishing them one by one takes minutes)."""
    engine = open_engine(url)
    n = sa.select(sa.literal(1).label("i")).cte("n", recursive=True)
    n = n.union_all(sa.select(n.c.i + 1).where(n.c.i < count))
    i, now = sa.cast(n.c.i, sa.String), datetime(2026, 1, 1, tzinfo=UTC)
    rows = sa.select(("g-" + i).label("guid"), sa.literal("Table").label("type_name"),
                     (SCHEMA + "/t" + i).label("qualified_name"), ("t" + i).label("name"),
                     sa.literal(C).label("connection_qualified_name"),
                     sa.literal({}, assets.c.attributes.type).label("attributes"),
                     sa.literal("h").label("content_hash"),
                     sa.literal(now, assets.c.created_at.type).label("created_at"),
                     sa.literal(now, assets.c.updated_at.type).label("updated_at"))
    with engine.begin() as conn:
        conn.execute(sa.insert(assets).from_select(list(rows.selected_columns.keys()), rows))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def budget_server(request: pytest.FixtureRequest, start_server, tmp_path):
    """A live server whose requests may spend 0.05 s in each query, over 20,000 tables."""
    url = (f"sqlite:///{tmp_path / 'catalog.db'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_url"))
    _seed_rows(url, 20_000)
    return start_server(tmp_path / "home", url, extra_env={"GAZETTEER_QUERY_TIMEOUT_SECONDS": "0.05"})


def test_a_search_over_budget_is_stopped_with_a_400(budget_server) -> None:
    # Legitimate but slow: twenty regexps tried on each of 20,000 qualified names to count the hits.
    query = {"bool": {"should": [{"regexp": {"qualifiedName": f"(.*[a-z/]){{3,8}}.*{d}.*{d % 7}"}}
                                 for d in range(20)]}}
    engine = open_engine(budget_server.database_url)
    started = time.monotonic()
    assert index_search(engine, {"dsl": {"size": 1, "query": query}})["approximateCount"] > 0  # no deadline here
    unbudgeted = time.monotonic() - started
    engine.dispose()
    assert unbudgeted > 3 * 0.05  # its count really needs several times the budget (0.27-0.6 s seen)

    with budget_server.client() as api:
        started = time.monotonic()
        answer = api.post(SEARCH, json={"dsl": {"size": 1, "query": query}})
        assert answer.status_code == 400, answer.text
        assert answer.json()["errorMessage"].startswith("A query took longer than the 0.05-second budget")
        assert time.monotonic() - started < unbudgeted
        # The server goes on: the same connections answer the next requests.
        assert api.post(SEARCH, json={"dsl": {"size": 1, "query": {"term": {"name": "t7"}}}}).json()[
            "approximateCount"] == 1
        assert api.get("/health").status_code == 200
    assert "unexpected error" not in budget_server.log()


class _HealthWatch:
    """Polls /health from a thread; `slowest` is its longest wait for an answer."""

    def __init__(self, url: str) -> None:
        import httpx

        self.client, self.slowest, self.answers, self.failures = httpx.Client(base_url=url, timeout=30), 0.0, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.failures += self.client.get("/health").status_code != 200
            self.slowest, self.answers = max(self.slowest, time.monotonic() - started), self.answers + 1
            time.sleep(0.02)

    def __enter__(self) -> _HealthWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
        self.client.close()


@pytest.fixture()
def long_names(any_server) -> Iterator[None]:
    """Thirty tables with names of 5,000 characters and more, where a backtracking regex never finishes."""
    engine = open_engine(any_server.database_url)
    Publisher(engine).publish([AssetRecord("Connection", C, "lake", None, {"connectorName": "glue"}),
                               AssetRecord("Database", f"{C}/AwsDataCatalog", "AwsDataCatalog", C, {}),
                               AssetRecord("Schema", SCHEMA, "s", f"{C}/AwsDataCatalog", {})])
    Publisher(engine).publish([AssetRecord("Table", f"{SCHEMA}/{name}", name, SCHEMA, {})
                               for name in (f"t{i}_" + "a" * (5000 + i) for i in range(30))])
    engine.dispose()
    yield


@pytest.mark.usefixtures("long_names")
def test_pathological_searches_answer_while_health_answers(any_server) -> None:
    bodies = [
        {"regexp": {"qualifiedName": "(.|.)*X"}},  # exponential in Python's re: minutes per name
        {"regexp": {"name": {"value": "(a|aa)*(b|a{2,})*X", "case_insensitive": True}}},
        {"wildcard": {"name": "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"}},
        {"match": {"name": "x" * 100_000}},  # refused: longer than a full-text query may be
        {"match": {"name": "qzjx" * 60}},  # 240 letters: looked up as typed, no typo correction
        {"multi_match": {"query": " ".join(f"wrd{i}x" for i in range(150))}},
    ]
    with _HealthWatch(any_server.url) as health, any_server.client() as api:
        for query in bodies:
            started = time.monotonic()
            answer = api.post(SEARCH, json={"dsl": {"size": 5, "query": query}}, timeout=20)
            assert answer.status_code in (200, 400), answer.text
            assert time.monotonic() - started < 10, query
        time.sleep(0.2)  # at least one poll after the last search
    assert health.answers >= 5 and health.failures == 0 and health.slowest < 2
    assert "unexpected error" not in any_server.log()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_crawls_are_not_under_the_budget(request: pytest.FixtureRequest, backend: str, start_server, glue,
                                         tmp_path) -> None:
    # A budget shorter than the crawl (Glue calls, then publishing) and than the request creating it, which
    # spends that long scrypt-deriving a vault key: the budget is per statement, and the crawl has none.
    url = None if backend == "sqlite" else request.getfixturevalue("postgres_url")
    server = start_server(tmp_path / "home", url, extra_env={"GAZETTEER_QUERY_TIMEOUT_SECONDS": "0.2"})
    seed(glue, databases=[f"db{i}" for i in range(6)])
    with server.client() as api:
        _, run = create(api, workflow())
        status = wait_for(api, run)["status"]
        assert status["phase"] == "Succeeded", status
        tables = {"bool": {"filter": [{"term": {"__typeName.keyword": "Table"}}]}}
        assert api.post(SEARCH, json={"dsl": {"size": 0, "query": tables}}).json()["approximateCount"] == 12
