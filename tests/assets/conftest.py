"""Fixtures of the asset tests: a live server whose catalog a pyatlan-submitted crawl of the sample catalog filled."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gazetteer.devtools.sample_catalog import seed_sample_catalog
from gazetteer.store import assets, open_engine
from tests.conftest import Server

REGION = "ap-south-1"


def _catalog(server) -> dict[str, dict[str, str]]:
    """Active assets straight from the store: type → {qualifiedName: guid}."""
    engine = open_engine(f"sqlite:///{server.home / 'catalog.db'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.select(assets.c.type_name, assets.c.qualified_name, assets.c.guid)
                            .where(assets.c.status == "ACTIVE")).all()
    engine.dispose()
    found: dict[str, dict[str, str]] = {}
    for type_name, qualified_name, guid in rows:
        found.setdefault(type_name, {})[qualified_name] = guid
    return found


def crawl_with_pyatlan(server, glue):
    """Seed the sample catalog into `glue` and crawl it into `server` with a workflow pyatlan runs."""
    seed_sample_catalog(glue.client(REGION), s3=glue.s3_client(REGION))
    from pyatlan.client.atlan import AtlanClient
    from pyatlan.model.enums import AtlanWorkflowPhase
    from pyatlan.model.packages import GlueCrawler

    client = AtlanClient(base_url=server.url, api_key=server.ADMIN_TOKEN)
    crawler = (GlueCrawler(client=client, connection_name="production",
                           admin_roles=[client.role_cache.get_id_for_name("$admin")],
                           admin_groups=None, admin_users=None, row_limit=0, allow_query=False,
                           allow_query_preview=False)
               .iam_user_auth(access_key="your-access-key", secret_key="your-secret-key")
               .direct(region=REGION).include(assets=["sales", "analytics"]).exclude(assets=[]).to_workflow())
    response = client.workflow.run(crawler)
    assert client.workflow.monitor(response) == AtlanWorkflowPhase.SUCCESS
    return client, response.metadata.name, _catalog(server)


@pytest.fixture()
def crawled(server, glue, monkeypatch):
    """A pyatlan client on a server whose catalog holds the sample catalog's sales and analytics databases
    (`ATLAN_BASE_URL` and `ATLAN_API_KEY` point at it, for clients made from the environment)."""
    monkeypatch.setenv("ATLAN_BASE_URL", server.url)
    monkeypatch.setenv("ATLAN_API_KEY", server.ADMIN_TOKEN)
    return crawl_with_pyatlan(server, glue)


@pytest.fixture(scope="module")
def crawled_once(glue_server, tmp_path_factory):
    """As `crawled`, with its server, for a module's tests that only read: one server and one crawl for them all."""
    glue_server.reset()
    server = Server(tmp_path_factory.mktemp("crawled-once"), glue_server.url)
    try:
        yield (*crawl_with_pyatlan(server, glue_server), server)
    finally:
        server.stop()
