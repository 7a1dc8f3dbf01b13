"""The `gazetteer` command line."""

from __future__ import annotations

import copy
from typing import Annotated, Any

import typer
from rich.markup import escape
from sqlalchemy.engine import Engine

from gazetteer import console
from gazetteer.cli_keys import ACCESS_KEY_ENV, SecretKey, iam_user_keys
from gazetteer.cli_lineage import lineage
from gazetteer.cli_people import group_app, user_app
from gazetteer.cli_secrets import secrets_app
from gazetteer.cli_server import Token, connect
from gazetteer.cli_token import token_app
from gazetteer.cli_types import ASSET_TYPES_SHOWN, asset_type
from gazetteer.cli_webhooks import webhook_app
from gazetteer.cli_workflow import workflow_app
from gazetteer.client.assets import entities_of, search_assets
from gazetteer.credentials.vault import Vault
from gazetteer.errors import GazetteerError, InvalidRequest
from gazetteer.settings import get_settings
from gazetteer.store import open_engine
from gazetteer.workflows.leases import worker_name

# Locals stay out of tracebacks: they can hold credentials.
app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False,
                  help="Gazetteer: a catalog for your AWS Glue data.")
crawl_app = typer.Typer(no_args_is_help=True, help="Crawl a source into the catalog.")
app.add_typer(crawl_app, name="crawl")
app.add_typer(token_app, name="token", help="Create, list and revoke API tokens (no server needed).")
app.add_typer(user_app, name="user", help="Create and list users, whom assets are owned by (no server needed).")
app.add_typer(group_app, name="group", help="Create and list groups of users (no server needed).")
app.add_typer(secrets_app, name="secrets", help="Vault keys: status, and rotation to the current key.")
app.add_typer(workflow_app, name="workflow", help="List, run, re-run, stop and inspect workflows on a server.")
app.add_typer(webhook_app, name="webhook", help="Add, list, test and remove webhooks on a server; their delivery log.")
app.command()(lineage)


def _engine() -> Engine:
    settings = get_settings()
    return open_engine(settings.effective_database_url, idle_in_transaction_seconds=settings.run_lease_seconds)


_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _server_log_config() -> dict[str, Any]:
    """uvicorn's logging, plus Gazetteer's own lines (runs started and ended, on which worker) at INFO.

    Given to uvicorn rather than set here: with --workers, uvicorn applies it in every process it starts.
    """
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["gazetteer"] = {"format": _LOG_FORMAT}
    config["handlers"]["gazetteer"] = {"class": "logging.StreamHandler", "formatter": "gazetteer",
                                       "stream": "ext://sys.stderr"}
    config["loggers"]["gazetteer"] = {"handlers": ["gazetteer"], "level": "INFO", "propagate": False}
    return config


def _fail(error: GazetteerError) -> typer.Exit:
    # One line however long, and the message as it is: it may quote a name holding rich markup ([...]).
    console.err.print(f"[red]Error:[/] {escape(error.message)}", soft_wrap=True, highlight=False)
    return typer.Exit(2)


@crawl_app.command("glue")
def crawl_glue(
    connection_name: Annotated[str, typer.Option(help="Name of the connection the assets live under")],
    region: Annotated[str, typer.Option(help="AWS region of the Glue catalog, e.g. us-east-1")],
    access_key: Annotated[str | None, typer.Option(envvar=ACCESS_KEY_ENV, help=(
        "IAM user access key id; without it, the AWS environment's credentials (profile, instance role...)"))] = None,
    secret_key: SecretKey = None,
    include: Annotated[list[str] | None, typer.Option(help="Glue database to crawl (repeat); default all")] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Glue database to skip (repeat); wins over include")] = None,
    role_arn: Annotated[str | None, typer.Option(help=(
        "IAM role to assume, with the keys if given, else the AWS environment's credentials"))] = None,
    external_id: Annotated[str | None, typer.Option(help="External id the role's trust policy asks for")] = None,
    catalog_id: Annotated[str | None, typer.Option(help=(
        "Glue catalog to read: a 12-digit account id, or <account id>:s3tablescatalog/<table bucket>"))] = None,
    exclude_table_regex: Annotated[str | None, typer.Option(help=(
        "Leave out the tables and views whose name this regular expression finds"))] = None,
    max_archive_ratio: Annotated[float | None, typer.Option(
        help="Largest share of the connection's tables one crawl may archive (default 0.5)")] = None,
    plan: Annotated[bool, typer.Option("--plan", help=(
        "Show what a crawl would create, update and archive, schema diffs and breaking changes first, "
        "without writing anything"))] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object")] = False,
) -> None:
    """Crawl an AWS Glue Data Catalog into the catalog, then print the run report (with --plan: what it would
    change)."""
    # boto3 and the Glue package (a fifth of a second) load only for the command that crawls.
    from gazetteer.packages.glue.config import parse_config
    from gazetteer.packages.glue.crawl import crawl, plan_crawl

    access_key, secret_key = iam_user_keys(access_key, secret_key)
    try:
        config = parse_config(connection_name=connection_name, region=region, access_key=access_key,
                              secret_key=secret_key, role_arn=role_arn, external_id=external_id,
                              include=include or None, exclude=exclude or None, catalog_id=catalog_id,
                              exclude_table_regex=exclude_table_regex, max_archive_ratio=max_archive_ratio)
        engine = _engine()
    except GazetteerError as error:
        raise _fail(error) from None
    with console.crawl_progress() as progress:
        report = (plan_crawl if plan else crawl)(engine, config, progress=progress).to_dict()
    if as_json:
        console.print_json(report)
    else:
        console.print_report(report)
    if report["status"] != "Succeeded":
        raise typer.Exit(1)


@app.command()
def search(
    text: Annotated[str, typer.Argument(help=(
        "Words to look for in names, descriptions (curated and crawled) and column names; all must be found. "
        "'' lists every asset by name"))],
    type_name: Annotated[str | None, typer.Option("--type", metavar="TYPE", parser=asset_type, help=(
        f"Only this type of asset: {ASSET_TYPES_SHOWN}"))] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print the assets as JSON")] = False,
    url: Annotated[str | None, typer.Option("--url", envvar="GAZETTEER_URL", help=(
        "Search this Gazetteer server (default: the local catalog)"))] = None,
    token: Token = None,
) -> None:
    """Find assets as the web UI's search does, best matches first: on the server GAZETTEER_URL names, else in
    the local catalog (GAZETTEER_HOME, or GAZETTEER_DATABASE_URL)."""
    if url:
        with connect(url, token) as client:
            found = search_assets(client, text, type_name, limit)
    else:
        # The function behind the server's route, so the local catalog answers the same. It loads the search
        # and tag modules: only for the command that searches.
        from gazetteer.api.asset_search import text_search_answer

        try:
            found = entities_of(text_search_answer(_engine(), text, type_name, limit))
        except GazetteerError as error:
            raise _fail(error) from None
    if as_json:
        console.print_json(found)
    else:
        console.print_assets(found)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="API processes (more than 1 needs PostgreSQL)")] = 1,
) -> None:
    """Run the API server (OpenAPI docs at /docs); without a broker it runs the workflows itself."""
    import uvicorn

    # The whole FastAPI app (half a second) loads only for the command that serves it.
    from gazetteer.web.app import create_app

    try:
        settings = get_settings()
        if workers > 1:
            settings.require_shared_database(f"--workers {workers}")
            _engine().dispose()  # migrate once, here, before the processes start
        else:
            application = create_app()
    except GazetteerError as error:
        raise _fail(error) from None
    if workers > 1:
        # Each process builds its own app; everything they share lives in the database.
        uvicorn.run("gazetteer.web.app:create_app", factory=True, host=host, port=port, workers=workers,
                    log_level="info", log_config=_server_log_config())
    else:
        # workers=1 said outright: uvicorn would otherwise read WEB_CONCURRENCY and refuse an app object.
        uvicorn.run(application, host=host, port=port, workers=1, log_level="info", log_config=_server_log_config())


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Runs this worker executes at once")] = 2,
) -> None:
    """Execute workflow runs from the broker (GAZETTEER_BROKER_URL) against the shared catalog database."""
    import logging

    # Celery and the packages' crawlers (boto3) load only for the command that runs crawls off a broker.
    from gazetteer.packages.registry import check_settings
    from gazetteer.workflows.celery_app import celery_app, serve_runs
    from gazetteer.workflows.runner import Runner

    try:
        settings = get_settings()
        if not settings.broker_url:
            raise InvalidRequest("A worker takes its runs from a broker: set GAZETTEER_BROKER_URL, e.g. "
                                 "redis://127.0.0.1:6379/0 (the same value the servers have)")
        settings.require_shared_database("A worker")
        check_settings()
        engine = _engine()
    except GazetteerError as error:
        raise _fail(error) from None
    logging.basicConfig(level=logging.INFO, format=_LOG_FORMAT)
    if settings.secret_key is None:
        logging.getLogger("gazetteer.worker").warning(
            "GAZETTEER_SECRET_KEY is not set: this worker opens credentials with the key file under %s. Every "
            "server and worker must use the same vault key; set GAZETTEER_SECRET_KEY on all of them.", settings.home)
    runner = Runner(engine, Vault(engine, settings), worker=worker_name("worker"),
                    lease_seconds=settings.run_lease_seconds)
    serve_runs(celery_app(settings.broker_url), runner, concurrency)


@app.command()
def migrate() -> None:
    """Bring the catalog database's schema up to date, then exit (servers and workers also do it on start)."""
    try:
        _engine().dispose()
    except GazetteerError as error:
        raise _fail(error) from None
    console.out.print("The catalog database is up to date.")


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port of the demo server (another free one if taken)")] = 8000,
    serve: Annotated[bool, typer.Option(help="Keep serving after the crawl, until Ctrl-C")] = True,
) -> None:
    """Start a local Glue holding a sample catalog and the server, crawl through the workflow API, show it all."""
    # The demo's server, local Glue and client load only for the demo.
    from gazetteer.demo import run_demo

    try:
        run_demo(port=port, serve=serve)
    except GazetteerError as error:
        raise _fail(error) from None


if __name__ == "__main__":
    app()
