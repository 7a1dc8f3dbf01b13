"""Read routing (GAZETTEER_READ_DATABASE_URL), on real servers over real PostgreSQL.

To prove where each request reads, the "replica" here is a second scratch schema of the test server holding
a catalog of its own: a copy of the primary's as it was before the test's writes (a replica that lags
forever), plus an asset only it has. Searches, entity lookups and the UI's asset pages must answer from it;
writes must land in the primary; a browser that just saved an edit must see it. With both URLs the same (the
documented test setup) a write is read back at once. Settings that cannot work are refused at start.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from gazetteer.api.entities import get_entity
from gazetteer.assets.publish import Publisher
from gazetteer.assets.records import AssetRecord
from gazetteer.devtools.processes import clean_env, free_port
from gazetteer.devtools.scratch_schema import scratch_schema
from gazetteer.errors import InvalidRequest
from gazetteer.settings import Settings, get_settings
from gazetteer.store import open_engine
from gazetteer.store.engine import open_read_engine
from gazetteer.web.ui.routing import READ_PRIMARY_COOKIE, TOKEN_COOKIE

CONNECTION = "default/glue/1700000123"
SCHEMA = f"{CONNECTION}/AwsDataCatalog/sales"
ORDERS = f"{SCHEMA}/orders"
REPLICA_ONLY = f"{SCHEMA}/replica_only_table"
SEARCH = "/api/meta/search/indexsearch"
PASSWORD = "replica-password-never-shown"


def _records() -> list[AssetRecord]:
    base = {"connectionQualifiedName": CONNECTION, "schemaQualifiedName": SCHEMA}
    database = f"{CONNECTION}/AwsDataCatalog"
    return [
        AssetRecord("Connection", CONNECTION, "routing", None, {"connectorName": "glue", "adminRoles": ["$admin"]}),
        AssetRecord("Database", database, "AwsDataCatalog", CONNECTION, {"connectionQualifiedName": CONNECTION}),
        AssetRecord("Schema", SCHEMA, "sales", database, base),
        AssetRecord("Table", ORDERS, "orders", SCHEMA, {**base, "description": "Orders as Glue describes them"}),
    ]


def _schema_of(url: str) -> str:
    return sa.make_url(url).query["options"].removeprefix("-csearch_path=")


def _copy_catalog(source_url: str, target_url: str) -> None:
    """Make the target schema's tables a copy of the source's, row for row: what a caught-up replica holds."""
    source, target = _schema_of(source_url), _schema_of(target_url)
    admin = sa.create_engine(os.environ["GAZETTEER_TEST_POSTGRES_URL"])
    try:
        with admin.begin() as conn:
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))  # as replication: no triggers
            tables = conn.execute(sa.text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = :schema "
                "AND table_type = 'BASE TABLE' AND table_name <> 'alembic_version'"),
                {"schema": source}).scalars().all()
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{target}"."{table}"' for table in tables)))
            for table in tables:
                columns = conn.execute(sa.text(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = :schema "
                    "AND table_name = :table AND is_generated = 'NEVER' ORDER BY ordinal_position"),
                    {"schema": source, "table": table}).scalars().all()
                names = ", ".join(f'"{column}"' for column in columns)
                conn.execute(sa.text(f'INSERT INTO "{target}"."{table}" ({names}) '
                                     f'SELECT {names} FROM "{source}"."{table}"'))
            sequences = conn.execute(sa.text("SELECT sequencename, last_value FROM pg_sequences "
                                             "WHERE schemaname = :schema AND last_value IS NOT NULL"),
                                     {"schema": source}).all()
            for name, value in sequences:
                conn.execute(sa.text("SELECT setval(:name, :value)"), {"name": f'"{target}"."{name}"', "value": value})
    finally:
        admin.dispose()


@pytest.fixture()
def replica_url(postgres_url: str) -> Iterator[str]:
    """A second scratch schema on the test server, standing for the replica (skipped without PostgreSQL)."""
    with scratch_schema(os.environ["GAZETTEER_TEST_POSTGRES_URL"], prefix="gz_replica") as url:
        yield url


@pytest.fixture()
def catalogs(postgres_url: str, replica_url: str) -> Iterator[tuple[sa.Engine, sa.Engine]]:
    """The primary's catalog and a lagging replica's: the same assets (same guids), plus one only the replica has."""
    primary, replica = open_engine(postgres_url), open_engine(replica_url)
    try:
        Publisher(primary).publish(_records())
        _copy_catalog(postgres_url, replica_url)
        extra = AssetRecord("Table", REPLICA_ONLY, "replica_only_table", SCHEMA,
                            {"connectionQualifiedName": CONNECTION, "schemaQualifiedName": SCHEMA})
        Publisher(replica).publish([*_records(), extra])
        yield primary, replica
    finally:
        primary.dispose()
        replica.dispose()


def _names(answer: httpx.Response) -> set[str]:
    assert answer.status_code == 200, answer.text
    return {entity["attributes"]["name"] for entity in answer.json().get("entities", [])}


def _search(api: httpx.Client, text: str) -> set[str]:
    return _names(api.post(SEARCH, json={"dsl": {"size": 50, "query": {"bool": {
        "must": [{"multi_match": {"query": text}}], "filter": [{"term": {"__state": "ACTIVE"}}]}}}}))


def _orders(engine: sa.Engine) -> dict:
    return get_entity(engine, type_name="Table", qualified_name=ORDERS)["entity"]


def _browser(server, **cookies: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, cookies={TOKEN_COOKIE: server.ADMIN_TOKEN, **cookies}, timeout=30,
                        follow_redirects=False)


@pytest.mark.postgres
def test_searches_and_lookups_read_the_replica_and_writes_go_to_the_primary(
        start_server, catalogs, postgres_url, replica_url, tmp_path) -> None:
    primary, replica = catalogs
    server = start_server(tmp_path / "home", postgres_url,
                          extra_env={"GAZETTEER_READ_DATABASE_URL": replica_url})
    with server.client() as api:
        assert _search(api, "replica_only_table") == {"replica_only_table"}  # only the replica has it
        extra = get_entity(replica, type_name="Table", qualified_name=REPLICA_ONLY)["entity"]["guid"]
        assert api.get(f"/api/meta/entity/guid/{extra}").status_code == 200
        by_name = api.get("/api/meta/entity/uniqueAttribute/type/Table", params={"attr:qualifiedName": REPLICA_ONLY})
        assert by_name.status_code == 200 and by_name.json()["entity"]["guid"] == extra
        # Facets (the search cache's path: keyed by the generation read in the same connection, the replica's).
        facets = api.post(SEARCH, json={"dsl": {"size": 0, "query": {"term": {"__state": "ACTIVE"}},
                                                "aggregations": {"t": {"terms": {"field": "__typeName.keyword"}}}}})
        buckets = {b["key"]: b["doc_count"] for b in facets.json()["aggregations"]["t"]["buckets"]}
        assert buckets["Table"] == 2, buckets

        # A write lands in the primary, and the (lagging) replica does not have it: the API reads the replica.
        saved = api.post("/api/meta/entity/bulk", json={"entities": [{"typeName": "Table", "attributes": {
            "qualifiedName": ORDERS, "name": "orders", "userDescription": "Checkout ledger"}}]})
        assert saved.status_code == 200, saved.text
        assert _orders(primary)["attributes"]["userDescription"] == "Checkout ledger"
        assert _orders(replica)["attributes"].get("userDescription") is None
        assert _search(api, "ledger") == set()
        guid = _orders(primary)["guid"]
        assert api.get(f"/api/meta/entity/guid/{guid}").json()["entity"]["attributes"].get("userDescription") is None
        # A write to an asset only the replica has fails: writes never read the replica.
        missing = api.post("/api/meta/entity/bulk", json={"entities": [{"typeName": "Table", "guid": extra,
                                                                        "attributes": {"qualifiedName": REPLICA_ONLY,
                                                                                       "name": "x"}}]})
        assert missing.status_code == 404, missing.text

        health = httpx.get(f"{server.url}/health", timeout=10).json()
        assert (health["status"], health["database"], health["read_replica"]) == ("ok", "ok", "ok")
    assert _schema_of(replica_url) not in server.log()  # nothing logged the replica's URL


@pytest.mark.postgres
def test_ui_pages_read_the_replica_and_a_browser_sees_its_own_edit(
        start_server, catalogs, postgres_url, replica_url, tmp_path) -> None:
    primary, replica = catalogs
    server = start_server(tmp_path / "home", postgres_url,
                          extra_env={"GAZETTEER_READ_DATABASE_URL": replica_url})
    guid = _orders(primary)["guid"]
    assert _orders(replica)["guid"] == guid  # the replica's copy of the same asset
    with _browser(server) as browser:
        page = browser.get("/", params={"q": "replica_only_table"})
        assert page.status_code == 200 and "replica_only_table" in page.text  # the search page reads the replica
        schema_guid = get_entity(replica, type_name="Schema", qualified_name=SCHEMA)["entity"]["guid"]
        browse = browser.get(f"/assets/{schema_guid}")  # browsing a schema lists its tables: the replica's
        assert browse.status_code == 200 and "replica_only_table" in browse.text
        assert READ_PRIMARY_COOKIE not in browser.cookies

        # A plain form post (no htmx) saves to the primary and redirects to the page, read from the primary.
        saved = browser.post(f"/assets/{guid}/description", data={"userDescription": "Checkout ledger"})
        assert saved.status_code == 303 and saved.headers["location"] == f"/assets/{guid}", saved.text
        assert READ_PRIMARY_COOKIE in browser.cookies
        assert _orders(primary)["attributes"]["userDescription"] == "Checkout ledger"
        after = browser.get(saved.headers["location"])
        assert after.status_code == 200 and "Checkout ledger" in after.text
        assert f"/assets/{guid}" in browser.get("/", params={"q": "ledger"}).text  # and so for a few seconds

    with _browser(server) as other:  # another browser, which saved nothing: the replica's (stale) page
        stale = other.get(f"/assets/{guid}")
        assert stale.status_code == 200 and "Checkout ledger" not in stale.text
        assert "Orders as Glue describes them" in stale.text
        assert f"/assets/{guid}" not in other.get("/", params={"q": "ledger"}).text
        # Opening the editor reads the primary: the form starts from the stored text, not the replica's.
        editor = other.get(f"/assets/{guid}/description/edit", headers={"HX-Request": "true"})
        assert editor.status_code == 200 and "Checkout ledger" in editor.text


@pytest.mark.postgres
def test_the_same_url_for_both_reads_back_a_write_at_once(start_server, postgres_url, tmp_path) -> None:
    """The documented test setup: GAZETTEER_READ_DATABASE_URL is the primary's own URL (a second pool)."""
    server = start_server(tmp_path / "home", postgres_url, extra_env={"GAZETTEER_READ_DATABASE_URL": postgres_url})
    with server.client() as api:
        connection = {"typeName": "Connection", "attributes": {
            "qualifiedName": CONNECTION, "name": "same-server", "adminRoles": ["$admin"],
            "userDescription": "written then read"}}
        saved = api.post("/api/meta/entity/bulk", json={"entities": [connection]})
        assert saved.status_code == 200, saved.text
        assert _search(api, "same-server") == {"same-server"}
        guid = saved.json()["mutatedEntities"]["CREATE"][0]["guid"]
        assert api.get(f"/api/meta/entity/guid/{guid}").json()["entity"]["attributes"]["name"] == "same-server"
        health = httpx.get(f"{server.url}/health", timeout=10).json()
        assert (health["status"], health["read_replica"]) == ("ok", "ok")
    with _browser(server) as browser:
        assert "same-server" in browser.get(f"/assets/{guid}").text


@pytest.mark.postgres
def test_an_unreachable_replica_degrades_the_server_but_writes_go_on(start_server, postgres_url, tmp_path) -> None:
    closed = f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:{free_port()}/none"  # nothing listens there
    server = start_server(tmp_path / "home", postgres_url, extra_env={"GAZETTEER_READ_DATABASE_URL": closed})
    answer = httpx.get(f"{server.url}/health", timeout=30)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["status"], answer.json()["database"], answer.json()["read_replica"]) == \
        ("degraded", "ok", "unreachable")
    with server.client() as api:
        saved = api.post("/api/meta/entity/bulk", json={"entities": [{"typeName": "Connection", "attributes": {
            "qualifiedName": CONNECTION, "name": "still-writable", "adminRoles": ["$admin"]}}]})
        assert saved.status_code == 200, saved.text
        assert api.post(SEARCH, json={"dsl": {"query": {"match_all": {}}}}).status_code >= 500
        # Workflows, runs and token checks read the primary: they go on without the replica.
        assert api.post("/api/service/workflows/indexsearch", json={}).status_code == 200
    with _browser(server) as browser:
        assert browser.get("/").status_code >= 500  # the search page reads the replica
        assert browser.get("/workflows").status_code == 200  # workflow pages read the primary
    assert PASSWORD not in server.log()


@pytest.mark.postgres
def test_the_read_engine_is_not_migrated_and_refuses_writes(postgres_url: str, replica_url: str) -> None:
    engine = open_read_engine(replica_url)
    try:
        with engine.connect() as conn:
            assert sa.inspect(conn).get_table_names() == []  # opening it migrated nothing
            with pytest.raises(sa.exc.InternalError, match="read-only transaction"):
                conn.execute(sa.text("CREATE TABLE t (x int)"))
    finally:
        engine.dispose()
    with pytest.raises(InvalidRequest, match="GAZETTEER_READ_DATABASE_URL must be a PostgreSQL URL"):
        open_read_engine("sqlite:///replica.db")
    with pytest.raises(InvalidRequest, match="GAZETTEER_READ_DATABASE_URL is not a database URL") as refused:
        open_read_engine(f"nonsense:{PASSWORD}")
    assert PASSWORD not in str(refused.value)


PG = f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:5432/catalog"


@pytest.mark.parametrize(("primary", "read", "needle"), [
    (None, PG, "a read replica needs a PostgreSQL catalog, and the catalog is a SQLite file"),
    ("sqlite:///elsewhere.db", PG, "a read replica needs a PostgreSQL catalog"),
    (PG, f"sqlite:///{PASSWORD}.db", "must be a PostgreSQL URL"),
    (PG, f"mysql://root:{PASSWORD}@db/catalog", "must be a PostgreSQL URL"),
    (PG, f"::{PASSWORD}", "is not a database URL"),
])
def test_settings_refuse_a_replica_that_cannot_work(monkeypatch, tmp_path, primary, read, needle) -> None:
    for name in list(os.environ):
        if name.startswith("GAZETTEER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("GAZETTEER_HOME", str(tmp_path))
    if primary:
        monkeypatch.setenv("GAZETTEER_DATABASE_URL", primary)
    monkeypatch.setenv("GAZETTEER_READ_DATABASE_URL", read)
    get_settings.cache_clear()
    try:
        with pytest.raises(InvalidRequest) as refused:
            get_settings()
    finally:
        get_settings.cache_clear()
    message = str(refused.value)
    assert "GAZETTEER_READ_DATABASE_URL:" in message and needle in message, message
    assert PASSWORD not in message
    without_password = "postgresql+psycopg://postgres@127.0.0.1:5432/catalog"
    assert PASSWORD not in repr(Settings(database_url=without_password, read_database_url=PG))  # nor its repr


def test_serve_refuses_a_replica_of_a_sqlite_catalog_at_start(tmp_path) -> None:
    env = clean_env(GAZETTEER_HOME=str(tmp_path / "home"), GAZETTEER_READ_DATABASE_URL=PG)
    done = subprocess.run([sys.executable, "-m", "gazetteer.cli", "serve", "--port", str(free_port())], env=env,
                          capture_output=True, text=True, timeout=60)
    said = " ".join((done.stdout + done.stderr).split())  # the console wraps long lines
    assert done.returncode != 0, said
    assert "GAZETTEER_READ_DATABASE_URL" in said and "needs a PostgreSQL catalog" in said, said
    assert PASSWORD not in said
    # Unset, nothing changes: the same server starts over SQLite (covered by every other UI/API test).
    assert Settings(home=tmp_path).read_database_url is None
