"""`gazetteer user` and `gazetteer group`: the people and groups who can own assets (and sign in through a
token of their own later), created straight in the catalog, with no server needed."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from gazetteer import console
from gazetteer.auth.service import create_group, create_user, list_groups, list_users
from gazetteer.cli_token import catalog_engine, failure
from gazetteer.errors import GazetteerError

__all__ = ["group_app", "user_app"]

user_app = typer.Typer(no_args_is_help=True, add_completion=False,
                       help="Users: the people an asset's owners are picked from.")
group_app = typer.Typer(no_args_is_help=True, add_completion=False,
                        help="Groups of users: an asset may be owned by a group.")


@user_app.command("create")
def create_a_user(
    username: Annotated[str, typer.Argument(help="User name, as owners are named")],
    role: Annotated[str, typer.Option(help="$admin, $member or $guest")] = "$member",
    email: Annotated[str | None, typer.Option(help="E-mail address, shown in suggestions")] = None,
    first_name: Annotated[str | None, typer.Option(help="First name")] = None,
    last_name: Annotated[str | None, typer.Option(help="Last name")] = None,
    group: Annotated[list[str] | None, typer.Option(help="A group to join (repeat); it must exist")] = None,
) -> None:
    """Create a user (an owner the UI suggests)."""
    try:
        create_user(catalog_engine(), username, role, email, group or (), first_name=first_name, last_name=last_name)
    except GazetteerError as error:
        raise failure(error) from None
    console.err.print(f"Created user {username!r} with role {role}.", markup=False, highlight=False)


@group_app.command("create")
def create_a_group(
    name: Annotated[str, typer.Argument(help="Group name, as owners are named")],
    alias: Annotated[str | None, typer.Option(help="Display name, shown in suggestions")] = None,
) -> None:
    """Create a group."""
    try:
        create_group(catalog_engine(), name, alias)
    except GazetteerError as error:
        raise failure(error) from None
    console.err.print(f"Created group {name!r}.", markup=False, highlight=False)


@user_app.command("list")
def list_the_users() -> None:
    """The users (not API tokens' service accounts: `gazetteer token list` shows those)."""
    table = Table("user", "role", "name", "e-mail")
    for record in list_users(catalog_engine()).records:
        name = " ".join(part for part in (record["firstName"], record["lastName"]) if part)
        table.add_row(record["username"], record["workspaceRole"], name, record["email"] or "")
    console.out.print(table)


@group_app.command("list")
def list_the_groups() -> None:
    table = Table("group", "alias", "members")
    for record in list_groups(catalog_engine()).records:
        table.add_row(record["name"], record["alias"] or "", str(record["userCount"]))
    console.out.print(table)
