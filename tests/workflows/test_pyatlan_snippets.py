"""The Python snippets of Atlan's Glue assets package page, run unmodified with the real pyatlan 10.0.0 against a
live server."""

from __future__ import annotations

import sqlalchemy as sa

from gazetteer.store import assets, open_engine

SNIPPET_REGION = "ap-south-1"


def _seed_dev_project(glue) -> None:
    client = glue.client(SNIPPET_REGION)
    for database in ("dev-project", "other-project"):
        client.create_database(DatabaseInput={"Name": database})
        for table in ("orders", "customers"):
            client.create_table(DatabaseName=database, TableInput={
                "Name": table, "TableType": "EXTERNAL_TABLE",
                "StorageDescriptor": {"Columns": [{"Name": f"{table[:-1]}_id", "Type": "bigint"},
                                                  {"Name": "note", "Type": "string", "Comment": "free text"}],
                                      "Location": f"s3://lake/{database}/{table}/"}})


def _active_assets(server) -> list[tuple[str, str]]:
    engine = open_engine(server.database_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(assets.c.type_name, assets.c.qualified_name)
                            .where(assets.c.status == "ACTIVE")).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_the_page_snippets_run_unmodified(server, glue, monkeypatch):
    _seed_dev_project(glue)
    monkeypatch.setenv("ATLAN_BASE_URL", server.url)
    monkeypatch.setenv("ATLAN_API_KEY", server.ADMIN_TOKEN)

    # --- the first snippet, verbatim ---------------------------------------------------------------
    from pyatlan.client.atlan import AtlanClient
    from pyatlan.model.packages import GlueCrawler

    client = AtlanClient()

    crawler = (
        GlueCrawler( # (1)
            client=client,  # (2)
            connection_name="production", # (3)
            admin_roles=[client.role_cache.get_id_for_name("$admin")], # (4)
            admin_groups=None,
            admin_users=None,
            row_limit=0, # (5)
            allow_query=False, # (6)
            allow_query_preview=False, # (7)
        )
        .iam_user_auth( # (8)
            access_key="your-access-key",
            secret_key="your-secret-key",
        )
        .direct(region="ap-south-1") # (9)
        .include(assets=['dev-project']) # (10)
        .exclude(assets=[]) # (11)
        .to_workflow() # (12)
    )
    response = client.workflow.run(crawler) # (13)
    # -------------------------------------------------------------------------------------------------
    from pyatlan.model.enums import AtlanWorkflowPhase, WorkflowPackage

    assert response.metadata.name.startswith("atlan-glue-")
    assert client.workflow.monitor(response) == AtlanWorkflowPhase.SUCCESS
    succeeded = client.workflow.get_runs(response.metadata.name, AtlanWorkflowPhase.SUCCESS)
    assert succeeded and succeeded.count == 1
    crawled = _active_assets(server)
    tables = sorted(qn.rsplit("/", 2)[1:] for kind, qn in crawled if kind == "Table")
    assert tables == [["dev-project", "customers"], ["dev-project", "orders"]]

    # --- the second snippet, verbatim (n = 0) --------------------------------------------------------
    existing = client.workflow.find_by_type(  # (1)
      prefix=WorkflowPackage.GLUE, max_results=5
    )
    n = 0
    # Determine which Glue workflow (n)
    # from the list of results you want to re-run.
    response = client.workflow.rerun(existing[n]) # (2)
    # -------------------------------------------------------------------------------------------------
    assert existing[0].id == existing[0].source.metadata.name == crawler.metadata.name and len(existing) == 1
    assert client.workflow.monitor(response) == AtlanWorkflowPhase.SUCCESS
    assert sorted(_active_assets(server)) == sorted(crawled), "a re-run must not duplicate or lose assets"

    # An idempotent re-run while a run is active returns that run instead of starting another.
    glue.set_faults([{"operation": "GetTables", "delay_seconds": 14, "times": 1}])
    running = client.workflow.rerun(existing[0])
    again = client.workflow.rerun(existing[0], idempotent=True)
    assert again.metadata.name == running.metadata.name
    assert client.workflow.monitor(running) == AtlanWorkflowPhase.SUCCESS
    assert len(list(client.workflow.get_runs(crawler.metadata.name, AtlanWorkflowPhase.SUCCESS))) == 3

    # Stop: the answer still says Running, then the run ends as Failed; nothing is archived by it.
    glue.set_faults([{"operation": "GetTables", "delay_seconds": 8, "times": 1}])
    doomed = client.workflow.rerun(existing[0])
    stopped = client.workflow.stop(doomed.metadata.name)
    assert stopped.status.phase in (AtlanWorkflowPhase.RUNNING, AtlanWorkflowPhase.PENDING)
    assert client.workflow.monitor(workflow_name=crawler.metadata.name) == AtlanWorkflowPhase.FAILED
    assert sorted(_active_assets(server)) == sorted(crawled)
    run = client.workflow.find_run_by_id(doomed.metadata.name)
    assert run.id == doomed.metadata.name

    client.workflow.delete(crawler.metadata.name)
    assert client.workflow.find_by_type(prefix=WorkflowPackage.GLUE, max_results=5) == []
    assert "your-secret-key" not in server.log()


def test_a_member_token_uses_package_workflows(server, glue, monkeypatch):
    import subprocess
    import sys

    _seed_dev_project(glue)
    token = subprocess.run([sys.executable, "-m", "gazetteer.cli", "token", "create", "--name", "analyst",
                            "--role", "$member"], env=server.env, capture_output=True, text=True, check=True)
    monkeypatch.setenv("ATLAN_BASE_URL", server.url)
    monkeypatch.setenv("ATLAN_API_KEY", token.stdout.strip())
    from pyatlan.client.atlan import AtlanClient
    from pyatlan.model.enums import AtlanWorkflowPhase, WorkflowPackage
    from pyatlan.model.packages import GlueCrawler

    client = AtlanClient()
    assert client.role_cache.is_api_token_user() is False
    crawler = (GlueCrawler(client=client, connection_name="analytics",
                           admin_roles=[client.role_cache.get_id_for_name("$member")],
                           admin_groups=None, admin_users=None)
               .iam_user_auth(access_key="AKIA", secret_key="member-secret")
               .direct(region=SNIPPET_REGION).include(assets=None).exclude(assets=["other-project"]).to_workflow())
    response = client.workflow.run(crawler)
    assert client.workflow.monitor(response) == AtlanWorkflowPhase.SUCCESS
    existing = client.workflow.find_by_type(prefix=WorkflowPackage.GLUE, max_results=5)
    rerun = client.workflow.rerun(existing[0])
    assert client.workflow.monitor(rerun) == AtlanWorkflowPhase.SUCCESS
    paths = [line for line in server.log().splitlines() if "POST /api/service/" in line]
    assert any("/package-workflows?submit=true" in line for line in paths)
    assert any("/package-workflows/submit" in line for line in paths)
    assert not any("POST /api/service/workflows?submit" in line for line in paths)
