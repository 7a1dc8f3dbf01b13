"""`gazetteer workflow ...`: create, re-run, watch and inspect Glue workflows on a Gazetteer server over HTTP.

Exit codes: 0 done, 1 the run failed (Failed/Error, or still unfinished after --timeout), 2 bad input or the
server refused the request (its message is printed).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from gazetteer import console
from gazetteer.client import PREFIX, GazetteerClient, GazetteerClientError, GlueCrawler, documents

__all__ = ["workflow_app"]

workflow_app = typer.Typer(no_args_is_help=True, add_completion=False,
                           help="Create, re-run and watch Glue crawl workflows on a Gazetteer server.")

_FAILED = ("Failed", "Error")


@dataclass(frozen=True)
class _Server:
    url: str | None
    token: str | None


@workflow_app.callback()
def _server(
    ctx: typer.Context,
    url: Annotated[str | None, typer.Option("--url", envvar="GAZETTEER_URL",
                                            help="Server base URL (default http://127.0.0.1:8000)")] = None,
    token: Annotated[str | None, typer.Option("--token", envvar="GAZETTEER_TOKEN", show_default=False,
                                              help="API token sent as a Bearer token")] = None,
) -> None:
    """Which server to talk to; every command is one or a few HTTP requests to it."""
    ctx.obj = _Server(url, token)


@contextmanager
def _session(ctx: typer.Context) -> Iterator[GazetteerClient]:
    """A client for the chosen server; client, HTTP and input errors become exit code 2 with their message."""
    server = ctx.find_object(_Server) or _Server(None, None)
    try:
        with GazetteerClient(server.url, server.token) as client:
            yield client
    except (GazetteerClientError, ValueError) as error:
        console.err.print(f"[red]Error:[/] {escape(str(error))}")
        raise typer.Exit(2) from None


def _status_line(hit: dict[str, Any] | None) -> str:
    status = documents.status_of(hit)
    parts = [f"[bold]{escape(str(documents.name_of(hit)))}[/]", _phase_text(status.get("phase"))]
    parts += [escape(str(status[key])) for key in ("progress", "message") if status.get(key)]
    return " · ".join(parts)


def _phase_text(phase: str | None) -> str:
    colour = {"Succeeded": "green", "Failed": "red", "Error": "red", "Running": "cyan"}.get(phase or "", "yellow")
    return f"[{colour}]{phase or '-'}[/]"


def _print_run(hit: dict[str, Any]) -> None:
    status = documents.status_of(hit)
    console.out.print(_status_line(hit))
    times = [f"{label} {status[key]}" for label, key in (("started", "startedAt"), ("finished", "finishedAt"))
             if status.get(key)]
    if times:
        console.out.print(" · ".join(times))
    report = documents.report_of(hit)
    if report:
        console.print_report(report)


def _wait(client: GazetteerClient, response: dict[str, Any], timeout: float | None,
          poll_seconds: float) -> tuple[str, dict[str, Any] | None]:
    """Monitor with a live status line; (final phase, last run hit). A timeout returns phase 'Timeout'."""
    seen: dict[str, Any] = {}
    with console.err.status("Waiting for the run to start…") as status:
        def on_poll(hit: dict[str, Any] | None) -> None:
            seen["hit"] = hit
            if hit is not None:
                status.update(_status_line(hit))
        try:
            phase = client.workflow.monitor(response, poll_seconds=poll_seconds, timeout=timeout, on_poll=on_poll)
        except TimeoutError as error:
            console.err.print(f"[red]{escape(str(error))}[/]")
            return "Timeout", seen.get("hit")
    return phase, seen.get("hit")


def _finish(client: GazetteerClient, response: dict[str, Any], wait: bool, timeout: float | None,
            poll_seconds: float, as_json: bool) -> None:
    """After a run or rerun: print it, or wait for it to end and exit 1 unless it Succeeded."""
    if not wait:
        if as_json:
            console.print_json(response)
        return
    phase, hit = _wait(client, response, timeout, poll_seconds)
    if as_json:
        console.print_json({"phase": phase, "run": documents.source_of(hit) if hit else None})
    elif hit is not None:
        _print_run(hit)
    if phase != "Succeeded":
        raise typer.Exit(1)


_WAIT = Annotated[bool, typer.Option("--wait", help="Follow the run until it ends; exit 1 unless it Succeeded")]
_TIMEOUT = Annotated[float | None, typer.Option(help="With --wait, give up after this many seconds (exit 1)")]
_POLL = Annotated[float, typer.Option(help="With --wait, seconds between status polls", min=0.1)]
_JSON = Annotated[bool, typer.Option("--json", help="Print JSON instead of text")]
_RUN = Annotated[str, typer.Argument(metavar="RUN", help="Run name, e.g. atlan-glue-1795609922-x7k2p")]


@workflow_app.command("list")
def list_workflows(
    ctx: typer.Context,
    max_results: Annotated[int, typer.Option("--max", min=1, max=1000, help="How many workflows")] = 20,
    prefix: Annotated[str, typer.Option(help="Package prefix of the workflows")] = PREFIX,
    as_json: _JSON = False,
) -> None:
    """List Glue workflows, newest first, with their connection and the phase of their last run."""
    with _session(ctx) as client:
        rows = []
        for hit in client.workflow.find_by_type(prefix, max_results):
            name = documents.name_of(hit) or "-"
            run = client.workflow.find_latest_run(name)
            rows.append({"name": name, "connection": documents.connection_of(hit).get("name"),
                         "last_run": documents.name_of(run) if run else None, "phase": documents.phase_of(run),
                         "started": documents.status_of(run).get("startedAt")})
    if as_json:
        console.print_json(rows)
        return
    if not rows:
        console.out.print("No workflows yet. Create one with: gazetteer workflow run --help")
        return
    table = Table(show_header=True, header_style="bold")
    for column in ("workflow", "connection", "last run", "phase", "started"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["name"], row["connection"] or "-", row["last_run"] or "-", _phase_text(row["phase"]),
                      row["started"] or "-")
    console.out.print(table)


@workflow_app.command()
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Workflow name, e.g. atlan-glue-1795609922")],
    runs: Annotated[int, typer.Option(min=1, max=1000, help="How many recent runs to list")] = 10,
    as_json: _JSON = False,
) -> None:
    """Show a workflow (connection, filters) and its most recent runs."""
    with _session(ctx) as client:
        hit = client.workflow.find_by_id(name)
        if hit is None:
            raise ValueError(f"No workflow named {name!r} (see: gazetteer workflow list)")
        recent = client.workflow.get_runs(name, size=runs)
    if as_json:
        console.print_json({"workflow": documents.source_of(hit), "runs": [documents.source_of(r) for r in recent]})
        return
    connection, parameters = documents.connection_of(hit), documents.parameters_of(hit)
    metadata = documents.source_of(hit).get("metadata") or {}
    console.out.print(f"[bold]{name}[/] · created {metadata.get('creationTimestamp', '-')}")
    name_shown = escape(str(connection.get("name", "-")))
    console.out.print(f"connection [cyan]{name_shown}[/] ({connection.get('qualifiedName', '-')})")
    for key in ("include-filter", "exclude-filter"):
        if key in parameters:
            console.out.print(f"{key} {escape(str(parameters[key]))}")
    if not recent:
        console.out.print("No runs.")
        return
    table = Table(show_header=True, header_style="bold")
    for column in ("run", "phase", "started", "finished", "progress"):
        table.add_column(column)
    for run in recent:
        status = documents.status_of(run)
        table.add_row(documents.name_of(run) or "-", _phase_text(status.get("phase")), status.get("startedAt") or "-",
                      status.get("finishedAt") or "-", status.get("progress") or "-")
    console.out.print(table)


@workflow_app.command()
def run(
    ctx: typer.Context,
    connection_name: Annotated[str, typer.Option(help="Name of the new connection the assets will live in")],
    region: Annotated[str, typer.Option(help="AWS region of the Glue catalog, e.g. ap-south-1")],
    access_key: Annotated[str | None, typer.Option(envvar="GAZETTEER_GLUE_ACCESS_KEY", help=(
        "IAM user access key id; give it with the secret key, or neither to send no IAM user "
        "(the server then uses its own AWS credentials)"))] = None,
    secret_key: Annotated[str | None, typer.Option(envvar="GAZETTEER_GLUE_SECRET_KEY", show_default=False, help=(
        "IAM user secret key; prefer the environment variable, so it stays out of shell history"))] = None,
    include: Annotated[list[str] | None, typer.Option(help="Glue database to crawl (repeat); default all")] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Glue database to skip (repeat)")] = None,
    admin_role: Annotated[list[str] | None, typer.Option(help=(
        "Connection admin role, by name (resolved to its id on the server) or id; repeat. "
        "Default $admin; --admin-role '' for none"))] = None,
    admin_user: Annotated[list[str] | None, typer.Option(help="Connection admin user name (repeat)")] = None,
    admin_group: Annotated[list[str] | None, typer.Option(help="Connection admin group name (repeat)")] = None,
    allow_query: Annotated[bool, typer.Option(help="Allow queries on the connection")] = False,
    allow_query_preview: Annotated[bool, typer.Option(help="Allow sample data previews")] = False,
    row_limit: Annotated[int, typer.Option(min=0, help="Most rows a query may return")] = 0,
    wait: _WAIT = False,
    timeout: _TIMEOUT = None,
    poll_seconds: _POLL = 2.0,
    as_json: _JSON = False,
) -> None:
    """Create a Glue workflow (a new connection) and start its first run. To crawl again, use `rerun`."""
    with _session(ctx) as client:
        if (access_key is None) != (secret_key is None):
            raise ValueError("Give both --access-key and --secret-key, or neither")
        roles = [_role_id(client, value) for value in (admin_role if admin_role is not None else ["$admin"]) if value]
        crawler = GlueCrawler(client, connection_name, admin_roles=roles, admin_groups=admin_group or None,
                              admin_users=admin_user or None, allow_query=allow_query,
                              allow_query_preview=allow_query_preview, row_limit=row_limit)
        if access_key is not None and secret_key is not None:
            crawler.iam_user_auth(access_key=access_key, secret_key=secret_key)
        crawler.direct(region=region).include(assets=include or None).exclude(assets=exclude or None)
        response = client.workflow.run(crawler.to_workflow())
        if not as_json:
            console.out.print(f"Created workflow [bold]{documents.name_of(response) or crawler.workflow_name}[/] "
                              f"for connection [cyan]{escape(connection_name)}[/] (default/glue/{crawler.epoch}); "
                              "its first run has started.")
        _finish(client, response, wait, timeout, poll_seconds, as_json)


def _role_id(client: GazetteerClient, value: str) -> str:
    """A role name such as `$admin` → its id; an id the server knows is kept as it is."""
    role_id = client.role_cache.get_id_for_name(value)
    if role_id is not None:
        return role_id
    if value in client.role_cache.get_ids():
        return value
    raise ValueError(f"The server has no role named (or with id) {value!r}")


@workflow_app.command()
def rerun(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Workflow name, e.g. atlan-glue-1795609922")],
    idempotent: Annotated[bool, typer.Option(help="If a run is Running or Pending, follow it instead of "
                                                  "starting another")] = False,
    wait: _WAIT = False,
    timeout: _TIMEOUT = None,
    poll_seconds: _POLL = 2.0,
    as_json: _JSON = False,
) -> None:
    """Run an existing workflow again (a re-crawl of the same connection)."""
    with _session(ctx) as client:
        hit = client.workflow.find_by_id(name)
        if hit is None:
            raise ValueError(f"No workflow named {name!r} (see: gazetteer workflow list)")
        current = client.workflow.find_current_run(name) if idempotent else None
        if current is not None:
            source = documents.source_of(current)
            response = {key: source[key] for key in ("metadata", "spec", "status")}
            note = "is already running; not starting another"
        else:
            response = client.workflow.rerun(hit)
            note = "started"
        if not as_json:
            console.out.print(f"Run [bold]{documents.name_of(response) or '-'}[/] of {name} {note} "
                              f"({documents.phase_of(response) or '-'}).")
        _finish(client, response, wait, timeout, poll_seconds, as_json)


@workflow_app.command()
def stop(
    ctx: typer.Context,
    run_name: _RUN,
    as_json: _JSON = False,
) -> None:
    """Ask the server to stop a run (it ends as Failed)."""
    with _session(ctx) as client:
        response = client.workflow.stop(run_name)
    if as_json:
        console.print_json(response)
    else:
        console.out.print(f"Stop requested for [bold]{run_name}[/] (now {documents.phase_of(response) or '-'}).")


@workflow_app.command()
def logs(
    ctx: typer.Context,
    run_name: _RUN,
    as_json: _JSON = False,
) -> None:
    """Show a run's phase, message and crawl report; exit 1 if the run Failed or ended in Error."""
    with _session(ctx) as client:
        hit = client.workflow.find_run_by_id(run_name)
        if hit is None:
            raise ValueError(f"No run named {run_name!r} (see: gazetteer workflow show WORKFLOW)")
    if as_json:
        console.print_json({"name": documents.name_of(hit), "workflow": documents.template_name_of(hit),
                            "status": documents.status_of(hit), "report": documents.report_of(hit)})
    else:
        _print_run(hit)
        if documents.report_of(hit) is None:
            console.out.print("No report yet.")
    if documents.phase_of(hit) in _FAILED:
        raise typer.Exit(1)


if __name__ == "__main__":
    workflow_app()
