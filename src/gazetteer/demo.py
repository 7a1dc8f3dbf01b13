"""`gazetteer demo`: a local Glue with a sample catalog, a server, and a crawl submitted as a workflow."""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from typing import Any, cast

import sqlalchemy as sa
import uvicorn
from pydantic import SecretStr
from rich.tree import Tree

from gazetteer import console
from gazetteer.auth.service import create_group, create_user
from gazetteer.client import GazetteerClient, GlueCrawler, documents
from gazetteer.devtools.local_glue import LocalGlue, endpoint_env
from gazetteer.devtools.sample_catalog import change_columns, seed_sample_catalog
from gazetteer.errors import InvalidRequest
from gazetteer.packages.glue.names import DEFAULT_CATALOG
from gazetteer.settings import Settings, get_settings
from gazetteer.store import assets, open_engine
from gazetteer.web.app import create_app

__all__ = ["run_demo", "DEMO_CONNECTION", "DEMO_REGION"]

DEMO_CONNECTION = "demo-glue"
DEMO_REGION = "us-east-1"


def _show_catalog(engine: sa.Engine, connection: str) -> None:
    query = (sa.select(assets.c.type_name, assets.c.name, assets.c.parent_qualified_name, assets.c.qualified_name,
                       assets.c.attributes)
             .where(assets.c.connection_qualified_name == connection, assets.c.status == "ACTIVE",
                    assets.c.type_name.in_(("Schema", "Table", "View")))
             .order_by(assets.c.qualified_name))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    tree = Tree(f"[bold]{DEMO_CONNECTION}[/] ({connection}) › {DEFAULT_CATALOG}")
    branches = {}
    for row in rows:
        if row.type_name == "Schema":
            branches[row.qualified_name] = tree.add(f"[bold cyan]{row.name}[/] · {row.attributes.get('tableCount', 0)} "
                                                    f"tables, {row.attributes.get('viewsCount', 0)} views")
    for row in rows:
        if row.type_name != "Schema" and row.parent_qualified_name in branches:
            a = row.attributes
            facts = [row.type_name.lower(), a.get("externalLocationFormat"), f"{a.get('columnCount', 0)} columns",
                     f"{a['partitionCount']} partitions" if a.get("partitionCount") is not None else None,
                     f"{a['rowCount']:,} rows" if a.get("rowCount") is not None else None]
            branches[row.parent_qualified_name].add(f"{row.name} [dim]· {' · '.join(f for f in facts if f)}[/]")
    console.out.print(tree)


def _lineage_pages(engine: sa.Engine, connection: str, url: str) -> str:
    """Where to see the sample catalog's lineage: a view's Lineage tab, and impact from the command line."""
    view = f"{connection}/{DEFAULT_CATALOG}/analytics/customer_orders"
    with engine.connect() as conn:
        guid = conn.execute(sa.select(assets.c.guid).where(assets.c.qualified_name == view)).scalar()
    if guid is None:
        return ""
    return (f"  lineage     {url}/assets/{guid}/lineage?columns=true\n"
            f"              gazetteer lineage {connection}/{DEFAULT_CATALOG}/sales/orders/amount")


def _what_breaks(client: GazetteerClient, glue_client: Any, workflow_name: str) -> None:
    """Someone upstream drops a column of sales.orders and narrows another's type: the workflow's plan says what
    that breaks before anything is written, and a re-run records it in the history."""
    change_columns(glue_client, "sales", "orders", drop="status", retype=("order_id", "int"))
    console.out.print("\nThen someone upstream changes [cyan]sales.orders[/] in Glue: drops [bold]status[/], "
                      "narrows [bold]order_id[/] from bigint to int. What would a crawl do?")
    with console.err.status("Planning…"):
        plan = client.workflow.plan(workflow_name)
    console.print_report(plan)
    response = client.workflow.rerun(workflow_name)
    with console.err.status("Re-running the crawl…"):
        phase = client.workflow.monitor(response, poll_seconds=0.5, timeout=600)
    console.out.print(f"The re-run ended: [bold]{phase}[/]; the history has what it changed.")


def _people(engine: sa.Engine) -> None:
    """A group and a user named as the sample's Glue owners, so that owners can be picked and Glue's adopted."""
    try:
        create_group(engine, "sales-engineering", "Sales engineering")
        create_user(engine, "analyst", "$member", "analyst@example.com", ["sales-engineering"])
    except InvalidRequest:  # there from an earlier demo
        pass


def _port(wanted: int) -> int:
    """`wanted` if it is free, else any free port (a second demo, or another server, may hold 8000)."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", wanted))
        except OSError:
            probe.bind(("127.0.0.1", 0))
        return cast(int, probe.getsockname()[1])


def _start_server(settings: Settings, port: int) -> tuple[uvicorn.Server, str]:
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, name="gazetteer-server", daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise InvalidRequest(f"The demo server did not start on 127.0.0.1:{port}")
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def _submit(client: GazetteerClient) -> tuple[dict[str, Any], bool]:
    """Re-run the demo workflow when it exists (creating it again would duplicate its assets), else create it."""
    for hit in client.workflow.find_by_type(max_results=50):
        if documents.connection_of(hit).get("name") == DEMO_CONNECTION:
            return client.workflow.rerun(hit), False
    crawler = (GlueCrawler(connection_name=DEMO_CONNECTION,
                           # The server always has the built-in $admin role, so the id is never None.
                           admin_roles=[client.role_cache.get_id_for_name("$admin")])  # type: ignore[list-item]
               .iam_user_auth(access_key="demo-access-key", secret_key="demo-secret-key")
               .direct(region=DEMO_REGION))
    return client.workflow.run(crawler.to_workflow()), True


def run_demo(*, port: int = 8000, serve: bool = True) -> None:
    """Start a local Glue and the server, crawl through the workflow API, show the result, keep serving."""
    base = get_settings()
    token = base.admin_token.get_secret_value() if base.admin_token else f"gzt_demo_{secrets.token_urlsafe(18)}"
    settings = base.model_copy(update={"admin_token": SecretStr(token)})
    console.out.print("[bold]Gazetteer demo[/]: starting a local Glue endpoint (moto) with a sample catalog…")
    with LocalGlue() as glue:
        seed_sample_catalog(glue.client(DEMO_REGION), glue.client(DEMO_REGION, service="lakeformation"),
                            s3=glue.s3_client(DEMO_REGION))
        os.environ.update(endpoint_env(glue.url))
        server, url = _start_server(settings, _port(port))
        console.out.print(f"Server running at [bold]{url}[/] (API docs at {url}/docs)")
        with GazetteerClient(url, token) as client:
            response, created = _submit(client)
            verb = "Created the workflow and started" if created else "Re-ran the existing workflow:"
            workflow_name = documents.template_name_of(response) or documents.name_of(response)
            console.out.print(f"{verb} run of [cyan]{workflow_name}[/]")
            with console.err.status("Crawling the sample catalog…"):
                phase = client.workflow.monitor(response, poll_seconds=0.5, timeout=600)
            # A run the server just accepted always has a name (and a template name).
            run = client.workflow.find_latest_run(
                documents.template_name_of(response) or documents.name_of(response))  # type: ignore[arg-type]
            report = documents.report_of(run)
            console.out.print(f"The run ended: [bold]{phase}[/]")
            connection = str((report or {}).get("connection_qualified_name") or "")
            engine = open_engine(settings.effective_database_url)
            _people(engine)
            if report:
                console.print_report(report)
                _show_catalog(engine, connection)
            if phase == "Succeeded":
                _what_breaks(client, glue.client(DEMO_REGION), workflow_name)  # type: ignore[arg-type]
        lineage = _lineage_pages(engine, connection, url)
        console.out.print(
            f"\nWhere to look:\n"
            f"  web UI      {url}/   (sign in with the admin token below)\n"
            f"  API docs    {url}/docs\n"
            f"  admin token {token}\n"
            f"  catalog     {settings.effective_database_url}\n"
            f"  try         GAZETTEER_URL={url} GAZETTEER_TOKEN={token} gazetteer workflow list\n"
            f"              gazetteer search orders · gazetteer search revenue --type View\n"
            f"{lineage}\n"
            f"  changes     {url}/changes?breaking=true   (and each asset's History tab)",
            soft_wrap=True,  # URLs and qualified names stay whole, to be copied
        )
        if serve:
            console.out.print("\nServing until you press Ctrl-C.")
            try:
                while server.started and not server.should_exit:
                    time.sleep(0.5)
            except KeyboardInterrupt:
                pass
        server.should_exit = True
        time.sleep(0.5)
