"""The `gazetteer` command line."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.engine import Engine

from gazetteer import console
from gazetteer.cli_secrets import secrets_app
from gazetteer.cli_token import token_app
from gazetteer.cli_workflow import workflow_app
from gazetteer.errors import GazetteerError
from gazetteer.settings import get_settings

# Locals stay out of tracebacks: they can hold credentials.
app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False,
                  help="Gazetteer: a catalog for your AWS Glue data.")
crawl_app = typer.Typer(no_args_is_help=True, help="Crawl a source into the catalog.")
app.add_typer(crawl_app, name="crawl")
app.add_typer(token_app, name="token", help="Create, list and revoke API tokens (no server needed).")
app.add_typer(secrets_app, name="secrets", help="Vault keys: status, and rotation to the current key.")
app.add_typer(workflow_app, name="workflow", help="List, run, re-run, stop and inspect workflows on a server.")


def _engine() -> Engine:
    from gazetteer.store import open_engine

    return open_engine(get_settings().effective_database_url)


def _fail(error: GazetteerError) -> typer.Exit:
    console.err.print(f"[red]Error:[/] {error.message}")
    return typer.Exit(2)


@crawl_app.command("glue")
def crawl_glue(
    connection_name: Annotated[str, typer.Option(help="Name of the connection the assets live under")],
    region: Annotated[str, typer.Option(help="AWS region of the Glue catalog, e.g. us-east-1")],
    access_key: Annotated[str | None, typer.Option(help="IAM access key id (default: the AWS environment)")] = None,
    secret_key: Annotated[str | None, typer.Option(help="IAM secret access key", show_default=False)] = None,
    include: Annotated[list[str] | None, typer.Option(help="Glue database to crawl (repeat); default all")] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Glue database to skip (repeat); wins over include")] = None,
    catalog_id: Annotated[str | None, typer.Option(help="Glue catalog id (12-digit account id) to read")] = None,
    max_archive_ratio: Annotated[float | None, typer.Option(
        help="Largest share of the connection's tables one crawl may archive (default 0.5)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object")] = False,
) -> None:
    """Crawl an AWS Glue Data Catalog into the catalog, then print the run report."""
    from gazetteer.packages.glue.config import parse_config
    from gazetteer.packages.glue.crawl import crawl

    try:
        config = parse_config(connection_name=connection_name, region=region, access_key=access_key,
                              secret_key=secret_key, include=include or None, exclude=exclude or None,
                              catalog_id=catalog_id, max_archive_ratio=max_archive_ratio)
        engine = _engine()
    except GazetteerError as error:
        raise _fail(error) from None
    with console.crawl_progress() as progress:
        report = crawl(engine, config, progress=progress).to_dict()
    if as_json:
        console.print_json(report)
    else:
        console.print_report(report)
    if report["status"] != "Succeeded":
        raise typer.Exit(1)


@app.command()
def search(
    text: Annotated[str, typer.Argument(help="Words to look for in names, descriptions and column names")],
    type_name: Annotated[str | None, typer.Option("--type", help="Only this asset type, e.g. Table")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print the assets as JSON")] = False,
) -> None:
    """Find crawled assets, best matches first (the same ranked search as the API and the web UI)."""
    from gazetteer.assets.search import index_search

    filters: list[dict] = [{"term": {"__state": "ACTIVE"}}]
    if type_name:
        filters.append({"term": {"__typeName.keyword": type_name}})
    body = {"dsl": {"from": 0, "size": limit, "query": {"bool": {
        "must": [{"multi_match": {"query": text, "fields": ["name", "description", "columns"]}}],
        "filter": filters}}},
        "attributes": ["description", "userDescription", "qualifiedName", "name"]}
    try:
        entities = index_search(_engine(), body).get("entities", [])
    except GazetteerError as error:
        raise _fail(error) from None
    if as_json:
        console.print_json(entities)
    else:
        console.print_assets(entities)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on")] = 8000,
) -> None:
    """Run the API server (OpenAPI docs at /docs) with its workflow executor."""
    import uvicorn

    from gazetteer.web.app import create_app

    try:
        application = create_app()
    except GazetteerError as error:
        raise _fail(error) from None
    uvicorn.run(application, host=host, port=port, log_level="info")


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port of the demo server (another free one if taken)")] = 8000,
    serve: Annotated[bool, typer.Option(help="Keep serving after the crawl, until Ctrl-C")] = True,
) -> None:
    """Start a local Glue holding a sample catalog and the server, crawl through the workflow API, show it all."""
    from gazetteer.demo import run_demo

    try:
        run_demo(port=port, serve=serve)
    except GazetteerError as error:
        raise _fail(error) from None


if __name__ == "__main__":
    app()
