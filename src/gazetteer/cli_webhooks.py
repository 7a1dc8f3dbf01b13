"""`gazetteer webhook ...`: add, list, show, remove and test webhook subscriptions on a server, and read their
delivery log, over its API (/api/service/webhooks) like `gazetteer workflow`.

Exit codes: 0 done, 1 a test delivery was not delivered, 2 bad input or the server refused the request (its
message is printed).
"""

from __future__ import annotations

import time
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.markup import escape
from rich.table import Table

from gazetteer import cli_types, console
from gazetteer.cli_server import server_options, session
from gazetteer.client import GazetteerClient

__all__ = ["webhook_app"]

webhook_app = typer.Typer(no_args_is_help=True, add_completion=False,
                          help="Subscribe URLs (or Slack) to catalog events on a Gazetteer server.")
webhook_app.callback()(server_options)

_PATH = "/api/service/webhooks"
_JSON = Annotated[bool, typer.Option("--json", help="Print JSON instead of text")]
_GUID = Annotated[str, typer.Argument(metavar="GUID", help="The webhook's guid (see: gazetteer webhook list)")]
_STATUS_COLOURS = {"delivered": "green", "failed": "red", "pending": "yellow"}


def _one(guid: str) -> str:
    return f"{_PATH}/{quote(guid, safe='')}"


def _status(value: str | None) -> str:
    return f"[{_STATUS_COLOURS.get(value or '', 'white')}]{value or '-'}[/]"


def _last(webhook: dict[str, Any]) -> str:
    last = webhook.get("lastDelivery")
    if not last:
        return "-"
    text = f"{_status(last['status'])} {escape(str(last['eventKind']))} ({last['attempts']} attempts)"
    return text + (f" · {escape(str(last['lastError']))}" if last.get("lastError") else "")


@webhook_app.command()
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="What to call it")],
    url: Annotated[str, typer.Option(help="The https:// address events are POSTed to (or a Slack incoming webhook)")],
    event: Annotated[list[str], typer.Option(help=(
        "Event kind (repeat): breaking_change, asset_archived, run_failed, run_succeeded"))],
    connection: Annotated[str | None, typer.Option(help=(
        "Qualified name of the connection whose events are sent (default: every connection, $admin only)"))] = None,
    asset_type: Annotated[list[str] | None, typer.Option(metavar="TYPE", parser=cli_types.asset_type, help=(
        f"Only events about this type of asset (repeat): {cli_types.ASSET_TYPES_SHOWN}"))] = None,
    format: Annotated[str, typer.Option("--format", help="json, or slack for a Slack message")] = "json",  # noqa: A002
    secret: Annotated[str | None, typer.Option(envvar="GAZETTEER_WEBHOOK_SECRET", show_default=False, help=(
        "Signing secret (16+ characters; prefer the environment variable); default: generated and shown once"))] = None,
    as_json: _JSON = False,
) -> None:
    """Subscribe a URL to events; prints the signing secret when it was generated (it is never shown again)."""
    body: dict[str, Any] = {"name": name, "url": url, "events": event, "format": format,
                            "connectionQualifiedName": connection, "assetTypes": asset_type or None}
    if secret is not None:
        body["secret"] = secret
    with session(ctx) as client:
        created = client.call("POST", _PATH, body=body)
    if as_json:
        console.print_json(created)
        return
    console.out.print(f"Added webhook [bold]{escape(created['name'])}[/] ({created['guid']}).")
    if "secret" in created:
        console.out.print("Its signing secret, shown this once (keep it where the receiver can read it):")
        console.out.print(created["secret"], markup=False, highlight=False)


@webhook_app.command("list")
def list_webhooks(ctx: typer.Context, connection: Annotated[str | None, typer.Option(
        help="Only this connection's webhooks (qualified name)")] = None, as_json: _JSON = False) -> None:
    """List the webhooks you may manage, with their last delivery."""
    with session(ctx) as client:
        found = client.call("GET", _PATH, params={"limit": 1000, **({"connection": connection} if connection else {})})
    records = found["records"]
    if as_json:
        console.print_json(records)
        return
    if not records:
        console.out.print("No webhooks. Add one with: gazetteer webhook add --help")
        return
    table = Table(show_header=True, header_style="bold")
    for column in ("guid", "name", "events", "connection", "format", "last delivery"):
        table.add_column(column)
    for webhook in records:
        table.add_row(webhook["guid"], escape(webhook["name"]) + ("" if webhook["enabled"] else " (disabled)"),
                      ", ".join(webhook["events"]), escape(webhook["connectionQualifiedName"] or "every connection"),
                      webhook["format"], _last(webhook))
    console.out.print(table)


@webhook_app.command()
def show(ctx: typer.Context, guid: _GUID, as_json: _JSON = False) -> None:
    """Show a webhook (never its secret)."""
    with session(ctx) as client:
        webhook = client.call("GET", _one(guid))
    if as_json:
        console.print_json(webhook)
        return
    state = "" if webhook["enabled"] else " · disabled"
    console.out.print(f"[bold]{escape(webhook['name'])}[/] ({webhook['guid']}){state}")
    for label, value in (("url", webhook["url"]), ("events", ", ".join(webhook["events"])),
                         ("connection", webhook["connectionQualifiedName"] or "every connection"),
                         ("asset types", ", ".join(webhook["assetTypes"]) or "all"), ("format", webhook["format"]),
                         ("created by", webhook["createdBy"])):
        console.out.print(f"{label}: {escape(str(value))}")
    console.out.print(f"last delivery: {_last(webhook)}")


@webhook_app.command()
def remove(ctx: typer.Context, guid: _GUID, as_json: _JSON = False) -> None:
    """Remove a webhook and its delivery log."""
    with session(ctx) as client:
        removed = client.call("DELETE", _one(guid))
    if as_json:
        console.print_json(removed)
    else:
        console.out.print(f"Removed webhook [bold]{escape(removed['name'])}[/] ({removed['guid']}).")


def _print_deliveries(items: list[dict[str, Any]]) -> None:
    table = Table(show_header=True, header_style="bold")
    for column in ("id", "event", "status", "attempts", "last status", "last error", "delivery key"):
        table.add_column(column)
    for item in items:
        table.add_row(str(item["id"]), item["eventKind"], _status(item["status"]), str(item["attempts"]),
                      str(item["lastStatus"] or "-"), escape(item["lastError"] or "-"), item["eventKey"][:16] + "…")
    console.out.print(table)


@webhook_app.command()
def deliveries(
    ctx: typer.Context, guid: _GUID,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many, newest first")] = 20,
    status: Annotated[str | None, typer.Option(help="Only pending, delivered or failed ones")] = None,
    as_json: _JSON = False,
) -> None:
    """The webhook's delivery log: status, attempts, last HTTP status and error."""
    with session(ctx) as client:
        log = client.call("GET", f"{_one(guid)}/deliveries",
                          params={"limit": limit, **({"status": status} if status else {})})
    if as_json:
        console.print_json(log)
        return
    counts = log["counts"]
    console.out.print(" · ".join(f"{count} {name}" for name, count in counts.items()))
    if log["deliveries"]:
        _print_deliveries(log["deliveries"])


def _follow(client: GazetteerClient, guid: str, delivery_id: int, seconds: float) -> dict[str, Any] | None:
    """The test delivery once it is no longer pending, or its last state when `seconds` are up."""
    deadline, latest = time.monotonic() + seconds, None
    while True:
        log = client.call("GET", f"{_one(guid)}/deliveries", params={"limit": 50})
        latest = next((item for item in log["deliveries"] if item["id"] == delivery_id), latest)
        if latest is None or latest["status"] != "pending" or time.monotonic() >= deadline:
            return latest
        time.sleep(0.5)


@webhook_app.command()
def test(
    ctx: typer.Context, guid: _GUID,
    wait: Annotated[float, typer.Option(min=0, max=600, help="Seconds to wait for the outcome (0: do not wait)")] = 15,
    as_json: _JSON = False,
) -> None:
    """Send a test event to the webhook and wait for the outcome; exit 1 unless it was delivered."""
    with session(ctx) as client:
        queued = client.call("POST", f"{_one(guid)}/test")
        outcome = _follow(client, guid, queued["id"], wait) if wait else queued
    outcome = outcome or queued
    if as_json:
        console.print_json(outcome)
    else:
        attempts = f"{outcome['attempts']} attempt{'' if outcome['attempts'] == 1 else 's'}"
        error = f" · {escape(outcome['lastError'])}" if outcome.get("lastError") else ""
        console.out.print(f"Test delivery {outcome['id']}: {_status(outcome['status'])} after {attempts}{error}")
    if wait and outcome["status"] != "delivered":
        raise typer.Exit(1)
