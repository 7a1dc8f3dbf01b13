"""`gazetteer token`: create, list and revoke API tokens straight in the catalog (no server needed)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import Engine

from gazetteer import console
from gazetteer.auth.service import create_token, list_tokens, revoke_token
from gazetteer.errors import GazetteerError
from gazetteer.settings import get_settings
from gazetteer.store import open_engine

__all__ = ["catalog_engine", "failure", "token_app"]

token_app = typer.Typer(no_args_is_help=True, add_completion=False,
                        help="API tokens: the bearer tokens pyatlan (ATLAN_API_KEY) and other clients send.")


def catalog_engine() -> Engine:
    return open_engine(get_settings().effective_database_url)


def failure(error: GazetteerError) -> typer.Exit:
    console.err.print(f"[red]Error:[/] {escape(error.message)}", highlight=False)
    return typer.Exit(2)


def _when(epoch_ms: int | None) -> str:
    if epoch_ms is None:
        return "never"
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@token_app.command("create")
def create(
    name: Annotated[str, typer.Option(help="Name of the token; it acts as user service-account-<name>")],
    role: Annotated[str, typer.Option(help="Role of the token: $admin, $member or $guest")] = "$admin",
) -> None:
    """Create a token and print it (only the token, on stdout: it is shown this once)."""
    try:
        token = create_token(catalog_engine(), name, role)
    except GazetteerError as error:
        raise failure(error) from None
    # A plain write, not rich: the token must come out unwrapped for `$(gazetteer token create ...)`.
    sys.stdout.write(token + "\n")
    sys.stdout.flush()
    console.err.print(f"Created API token {name!r} with role {role} (user service-account-{name}). "
                      "Only its hash is kept, so it cannot be shown again. "
                      "For pyatlan: export ATLAN_API_KEY=<the token>",
                      markup=False, highlight=False)


@token_app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print the tokens as JSON")] = False,
) -> None:
    """Show the tokens (names, roles, use; never the tokens themselves)."""
    try:
        records = list_tokens(catalog_engine()).records
    except GazetteerError as error:
        raise failure(error) from None
    if as_json:
        console.print_json(records)
        return
    if not records:
        console.err.print("No API tokens yet: create one with `gazetteer token create --name NAME`.",
                          markup=False)
        return
    table = Table("name", "role", "user", "created", "last used", "status")
    for record in records:
        table.add_row(record["displayName"], record["workspaceRole"], record["username"],
                      _when(record["createdAt"]), _when(record["lastUsedAt"]),
                      "revoked" if record["revoked"] else "active")
    console.out.print(table)


@token_app.command("revoke")
def revoke(name: Annotated[str, typer.Argument(help="Name of the token to refuse from now on")]) -> None:
    """Revoke a token: requests carrying it are refused from now on."""
    try:
        revoke_token(catalog_engine(), name)
    except GazetteerError as error:
        raise failure(error) from None
    console.err.print(f"Revoked API token {name!r}.", markup=False, highlight=False)


if __name__ == "__main__":
    token_app()
