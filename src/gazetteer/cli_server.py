"""Which Gazetteer server a command talks to, and how its failures end the command.

What for: `gazetteer workflow`, `webhook` and `search` (with GAZETTEER_URL) talk to a server over HTTP. They
name it the same way (`--url` / GAZETTEER_URL, `--token` / GAZETTEER_TOKEN, sent as a Bearer token), and a
server that cannot be reached, refuses the token or refuses the request ends the command with one line on
stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.markup import escape

from gazetteer import console
from gazetteer.client import GazetteerAPIError, GazetteerClient, GazetteerClientError

__all__ = ["Server", "Token", "connect", "server_options", "session"]

Token = Annotated[str | None, typer.Option("--token", envvar="GAZETTEER_TOKEN", show_default=False,
                                           help="API token sent as a Bearer token")]


@dataclass(frozen=True)
class Server:
    url: str | None
    token: str | None


def server_options(
    ctx: typer.Context,
    url: Annotated[str | None, typer.Option("--url", envvar="GAZETTEER_URL",
                                            help="Server base URL (default http://127.0.0.1:8000)")] = None,
    token: Token = None,
) -> None:
    """Which server to talk to; every command is one or a few HTTP requests to it."""
    ctx.obj = Server(url, token)


@contextmanager
def connect(url: str | None, token: str | None) -> Iterator[GazetteerClient]:
    """A client for the server; client, HTTP and input errors (ValueError) become exit code 2 with their
    message, on one line however long (a script reads it whole)."""
    try:
        with GazetteerClient(url, token) as client:
            yield client
    except (GazetteerClientError, ValueError) as error:
        hint = " (this command sends --token, or GAZETTEER_TOKEN)" \
            if isinstance(error, GazetteerAPIError) and error.status == 401 else ""
        console.err.print(f"[red]Error:[/] {escape(str(error))}{hint}", soft_wrap=True, highlight=False)
        raise typer.Exit(2) from None


def session(ctx: typer.Context) -> AbstractContextManager[GazetteerClient]:
    """`connect` to the server the command group's options chose (see `server_options`)."""
    server = ctx.find_object(Server) or Server(None, None)
    return connect(server.url, server.token)
