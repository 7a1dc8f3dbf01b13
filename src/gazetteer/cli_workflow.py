"""`gazetteer workflow ...`: create, re-run, watch and inspect Glue workflows on a Gazetteer server over HTTP.

Exit codes: 0 done, 1 the run failed (Failed/Error, or still unfinished after --timeout), 2 bad input or the
server refused the request (its message is printed).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from gazetteer import console
from gazetteer.cli_keys import ACCESS_KEY_ENV, SecretKey, iam_user_keys
from gazetteer.cli_server import server_options, session
from gazetteer.client import PREFIX, GazetteerClient, GlueCrawler, Run, Workflow

__all__ = ["workflow_app"]

workflow_app = typer.Typer(no_args_is_help=True, add_completion=False,
                           help="Create, re-run and watch Glue crawl workflows on a Gazetteer server.")

_FAILED = ("Failed", "Error")


workflow_app.callback()(server_options)


def _status_line(run: Run) -> str:
    parts = [f"[bold]{escape(str(run.name))}[/]", _phase_text(run.phase)]
    parts += [escape(str(value)) for value in (run.progress, run.message) if value]
    return " · ".join(parts)


def _phase_text(phase: str | None) -> str:
    colour = {"Succeeded": "green", "Failed": "red", "Error": "red", "Running": "cyan"}.get(phase or "", "yellow")
    return f"[{colour}]{phase or '-'}[/]"


def _print_run(run: Run) -> None:
    console.out.print(_status_line(run))
    times = [f"{label} {value}" for label, value in (("started", run.started), ("finished", run.finished)) if value]
    if times:
        console.out.print(" · ".join(times))
    if run.report:
        console.print_report(run.report)


def _wait(client: GazetteerClient, response: dict[str, Any], timeout: float | None,
          poll_seconds: float) -> tuple[str, Run | None]:
    """Monitor with a live status line; (final phase, last run seen). A timeout returns phase 'Timeout'."""
    seen: dict[str, Run | None] = {}
    with console.err.status("Waiting for the run to start…") as status:
        def on_poll(hit: dict[str, Any] | None) -> None:
            seen["run"] = polled = None if hit is None else Run.of(hit)
            if polled is not None:
                status.update(_status_line(polled))
        try:
            phase = client.workflow.monitor(response, poll_seconds=poll_seconds, timeout=timeout, on_poll=on_poll)
        except TimeoutError as error:
            console.err.print(f"[red]{escape(str(error))}[/]")
            return "Timeout", seen.get("run")
    return phase, seen.get("run")


def _finish(client: GazetteerClient, response: dict[str, Any], wait: bool, timeout: float | None,
            poll_seconds: float, as_json: bool) -> None:
    """After a run or rerun: print it, or wait for it to end and exit 1 unless it Succeeded."""
    if not wait:
        if as_json:
            console.print_json(response)
        return
    phase, last = _wait(client, response, timeout, poll_seconds)
    if as_json:
        console.print_json({"phase": phase, "run": last.document if last is not None else None})
    elif last is not None:
        _print_run(last)
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
    with session(ctx) as client:
        rows = []
        for hit in client.workflow.find_by_type(prefix, max_results):
            workflow = Workflow.of(hit)
            name = workflow.name or "-"
            found = client.workflow.find_latest_run(name)
            last = None if found is None else Run.of(found)
            rows.append({"name": name, "connection": workflow.connection.get("name"),
                         "last_run": last.name if last else None, "phase": last.phase if last else None,
                         "started": last.started if last else None})
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


# A workflow is found by its connection's name among the newest this many Glue workflows (pages of the
# server's largest).
_PAGE = 1000
_MOST_WORKFLOWS = 10 * _PAGE
_NAMES_LISTED = 20  # connection names an error lists


def _glue_workflows(client: GazetteerClient) -> list[Workflow]:
    found: list[Workflow] = []
    while len(found) < _MOST_WORKFLOWS:
        page = client.workflow.find_by_type(PREFIX, _PAGE, from_=len(found))
        found += [Workflow.of(hit) for hit in page]
        if len(page) < _PAGE:
            break
    return found


def _workflow(client: GazetteerClient, name: str) -> Workflow:
    """The workflow named `name`, else the one Glue workflow whose connection is named `name` (exactly, else
    ignoring case); ValueError (exit 2) listing the candidates when several match, or the connections when none."""
    hit = client.workflow.find_by_id(name)
    if hit is not None:
        return Workflow.of(hit)
    workflows = _glue_workflows(client)
    matched = [w for w in workflows if w.connection.get("name") == name] or \
        [w for w in workflows if str(w.connection.get("name", "")).casefold() == name.casefold()]
    if len(matched) == 1:
        return matched[0]
    if matched:
        listed = "; ".join(f"{w.name} (connection {w.connection.get('qualifiedName', '-')}, created "
                           f"{w.created or '-'})" for w in matched[:_NAMES_LISTED])
        raise ValueError(f"{len(matched)} workflows crawl into a connection named {name!r}: {listed}. "
                         "Give the workflow's name instead.")
    names = sorted({str(w.connection["name"]) for w in workflows if w.connection.get("name")}, key=str.casefold)
    if not names:
        raise ValueError(f"No workflow named {name!r}, and there are no Glue workflows yet "
                         "(create one with: gazetteer workflow run --help).")
    more = f" and {len(names) - _NAMES_LISTED} more" if len(names) > _NAMES_LISTED else ""
    raise ValueError(f"No workflow named {name!r}, nor a connection of that name. Connections with a workflow: "
                     f"{', '.join(repr(n) for n in names[:_NAMES_LISTED])}{more} (see: gazetteer workflow list).")


_WORKFLOW = Annotated[str, typer.Argument(metavar="WORKFLOW", help=(
    "Workflow name, e.g. atlan-glue-1795609922, or the name of its connection"))]


@workflow_app.command()
def show(
    ctx: typer.Context,
    name: _WORKFLOW,
    runs: Annotated[int, typer.Option(min=1, max=1000, help="How many recent runs to list")] = 10,
    as_json: _JSON = False,
) -> None:
    """Show a workflow (connection, filters) and its most recent runs."""
    with session(ctx) as client:
        workflow = _workflow(client, name)
        name = workflow.name or name
        recent = [Run.of(found) for found in client.workflow.get_runs(name, size=runs)]
    if as_json:
        console.print_json({"workflow": workflow.document, "runs": [r.document for r in recent]})
        return
    connection = workflow.connection
    console.out.print(f"[bold]{name}[/] · created {'-' if workflow.created is None else workflow.created}")
    name_shown = escape(str(connection.get("name", "-")))
    console.out.print(f"connection [cyan]{name_shown}[/] ({connection.get('qualifiedName', '-')})")
    for key, value in (("include-filter", workflow.include), ("exclude-filter", workflow.exclude)):
        if value is not None:
            console.out.print(f"{key} {escape(str(value))}")
    if not recent:
        console.out.print("No runs.")
        return
    table = Table(show_header=True, header_style="bold")
    for column in ("run", "phase", "started", "finished", "progress"):
        table.add_column(column)
    for run in recent:
        table.add_row(run.name or "-", _phase_text(run.phase), run.started or "-", run.finished or "-",
                      run.progress or "-")
    console.out.print(table)


@workflow_app.command()
def run(
    ctx: typer.Context,
    connection_name: Annotated[str, typer.Option(help="Name of the new connection the assets will live in")],
    region: Annotated[str, typer.Option(help="AWS region of the Glue catalog, e.g. ap-south-1")],
    access_key: Annotated[str | None, typer.Option(envvar=ACCESS_KEY_ENV, help=(
        "IAM user access key id; without it no IAM user is sent (the server then uses its own AWS "
        "credentials)"))] = None,
    secret_key: SecretKey = None,
    role_arn: Annotated[str | None, typer.Option(help=(
        "IAM role the crawl assumes (with the keys if given, else the server's AWS credentials)"))] = None,
    external_id: Annotated[str | None, typer.Option(help="External id the role's trust policy asks for")] = None,
    include: Annotated[list[str] | None, typer.Option(help="Glue database to crawl (repeat); default all")] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Glue database to skip (repeat)")] = None,
    catalog_id: Annotated[str | None, typer.Option(help=(
        "Glue catalog to read: a 12-digit account id, or <account id>:s3tablescatalog/<table bucket>"))] = None,
    exclude_table_regex: Annotated[str | None, typer.Option(help=(
        "Leave out the tables and views whose name this regular expression finds"))] = None,
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
    access_key, secret_key = iam_user_keys(access_key, secret_key)
    with session(ctx) as client:
        roles = [_role_id(client, value) for value in (admin_role if admin_role is not None else ["$admin"]) if value]
        crawler = GlueCrawler(client, connection_name, admin_roles=roles, admin_groups=admin_group or None,
                              admin_users=admin_user or None, allow_query=allow_query,
                              allow_query_preview=allow_query_preview, row_limit=row_limit)
        if access_key is not None and secret_key is not None:
            crawler.iam_user_auth(access_key=access_key, secret_key=secret_key)
        if role_arn is not None:
            crawler.iam_role_auth(role_arn, external_id)
        crawler.direct(region=region).include(assets=include or None).exclude(assets=exclude or None)
        if catalog_id:
            crawler.catalog_id(catalog_id)
        if exclude_table_regex:
            crawler.exclude_table_regex(exclude_table_regex)
        response = client.workflow.run(crawler.to_workflow())
        if not as_json:
            console.out.print(f"Created workflow [bold]{Workflow.of(response).name or crawler.workflow_name}[/] "
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
    name: _WORKFLOW,
    idempotent: Annotated[bool, typer.Option(help="If a run is Running or Pending, follow it instead of "
                                                  "starting another")] = False,
    wait: _WAIT = False,
    timeout: _TIMEOUT = None,
    poll_seconds: _POLL = 2.0,
    as_json: _JSON = False,
) -> None:
    """Run an existing workflow again (a re-crawl of the same connection)."""
    with session(ctx) as client:
        workflow = _workflow(client, name)
        name = workflow.name or name
        current = client.workflow.find_current_run(name) if idempotent else None
        if current is not None:
            source = Run.of(current).document
            response = {key: source[key] for key in ("metadata", "spec", "status")}
            note = "is already running; not starting another"
        else:
            response = client.workflow.rerun(workflow.document)
            note = "started"
        if not as_json:
            started = Run.of(response)
            console.out.print(f"Run [bold]{started.name or '-'}[/] of {name} {note} ({started.phase or '-'}).")
        _finish(client, response, wait, timeout, poll_seconds, as_json)


@workflow_app.command()
def stop(
    ctx: typer.Context,
    run_name: _RUN,
    as_json: _JSON = False,
) -> None:
    """Ask the server to stop a run (it ends as Failed)."""
    with session(ctx) as client:
        response = client.workflow.stop(run_name)
    if as_json:
        console.print_json(response)
    else:
        console.out.print(f"Stop requested for [bold]{run_name}[/] (now {Run.of(response).phase or '-'}).")


@workflow_app.command()
def plan(
    ctx: typer.Context,
    name: _WORKFLOW,
    as_json: _JSON = False,
) -> None:
    """Show what a run of the workflow would create, update and archive now, breaking schema changes first,
    without writing anything; exit 1 if the run would fail (its circuit breaker, say)."""
    with session(ctx) as client:
        report = client.workflow.plan(_workflow(client, name).name or name)
    if as_json:
        console.print_json(report)
    else:
        console.print_report(report)
    if report.get("status") != "Succeeded":
        raise typer.Exit(1)


@workflow_app.command()
def logs(
    ctx: typer.Context,
    run_name: _RUN,
    as_json: _JSON = False,
) -> None:
    """Show a run's phase, message and crawl report; exit 1 if the run Failed or ended in Error."""
    with session(ctx) as client:
        hit = client.workflow.find_run_by_id(run_name)
        if hit is None:
            raise ValueError(f"No run named {run_name!r} (see: gazetteer workflow show WORKFLOW)")
        run = Run.of(hit)
    if as_json:
        console.print_json({"name": run.name, "workflow": run.workflow, "status": run.status, "report": run.report})
    else:
        _print_run(run)
        if run.report is None:
            console.out.print("No report yet.")
    if run.phase in _FAILED:
        raise typer.Exit(1)


if __name__ == "__main__":
    workflow_app()
