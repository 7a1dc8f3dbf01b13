"""Shared fixtures: a local Glue endpoint over HTTP and a real catalog store (SQLite file or PostgreSQL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from gazetteer.devtools.local_glue import LocalGlue
from gazetteer.settings import Settings
from gazetteer.store import open_engine

POSTGRES_URL = os.environ.get("GAZETTEER_TEST_POSTGRES_URL")
POSTGRES_SKIP = (
    "PostgreSQL tests are off: set GAZETTEER_TEST_POSTGRES_URL=postgresql+psycopg://USER@HOST:PORT/DB "
    "(.ci/run sets it to the machine's server)"
)


@pytest.fixture(scope="session")
def glue_server() -> Iterator[LocalGlue]:
    """One moto Glue server for the session, paging two items at a time so every NextToken loop runs."""
    with LocalGlue(page_size=2) as server:
        yield server


@pytest.fixture()
def glue(glue_server: LocalGlue, monkeypatch: pytest.MonkeyPatch) -> LocalGlue:
    """The local Glue, emptied, with boto3 pointed at it through the standard endpoint variable."""
    glue_server.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL_GLUE", glue_server.url)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return glue_server


@pytest.fixture()
def settings(tmp_path) -> Settings:
    # Few attempts with real back-off keep fault tests quick; two workers exercise the concurrency.
    return Settings(home=tmp_path / "home", glue_max_attempts=3, glue_workers=2)


def _postgres_engine() -> Iterator[sa.Engine]:
    if not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP)
    schema = f"gz_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = open_engine(url.render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[sa.Engine]:
    """A fresh, migrated catalog: a SQLite file, and the same tests again on PostgreSQL."""
    if request.param == "sqlite":
        engine = open_engine(f"sqlite:///{tmp_path / 'catalog.db'}")
        yield engine
        engine.dispose()
    else:
        yield from _postgres_engine()
