"""`gazetteer secrets`: which vault key each stored credential needs, and rotating them to the current key."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from gazetteer import console
from gazetteer.credentials.keys import LEGACY_FORMAT
from gazetteer.credentials.rotation import UnreadableCredentials, key_uses
from gazetteer.credentials.rotation import rotate as rotate_vault
from gazetteer.credentials.vault import Vault
from gazetteer.errors import GazetteerError
from gazetteer.settings import get_settings
from gazetteer.store import open_engine

__all__ = ["secrets_app"]

secrets_app = typer.Typer(no_args_is_help=True, add_completion=False,
                          help="The credential vault's keys: GAZETTEER_SECRET_KEY and GAZETTEER_OLD_SECRET_KEYS.")


def _vault() -> Vault:
    settings = get_settings()
    return Vault(open_engine(settings.effective_database_url), settings)


def _fail(error: GazetteerError, code: int = 2) -> typer.Exit:
    console.err.print(f"[red]Error:[/] {escape(error.message)}", highlight=False)
    return typer.Exit(code)


def _say(text: str) -> None:
    console.out.print(text, markup=False, highlight=False)


def _key_label(key: int | None) -> str:
    return "none" if key is None else "current" if key == 0 else f"old key {key}"


@secrets_app.command("status")
def status(as_json: Annotated[bool, typer.Option("--json", help="Print the credentials as JSON")] = False) -> None:
    """Show which key opens each stored credential (ids, names and keys' positions; never a secret)."""
    try:
        uses = key_uses(_vault())
    except GazetteerError as error:
        raise _fail(error) from None
    if as_json:
        console.print_json([{"id": use.id, "name": use.name, "key": _key_label(use.key), "format": use.format}
                            for use in uses])
        return
    if uses:
        table = Table("id", "name", "key", "format")
        for use in uses:
            table.add_row(use.id, escape(use.name), _key_label(use.key), use.format)
        console.out.print(table)
    current = sum(use.current for use in uses)
    legacy = sum(use.key == 0 and use.format == LEGACY_FORMAT for use in uses)
    old = sum(bool(use.key) for use in uses)
    unreadable = sum(use.key is None for use in uses)
    _say(f"{len(uses)} credential(s): {current} current, {legacy} in the legacy format, "
         f"{old} under an old key, {unreadable} that no key opens.")
    if unreadable:
        _say("Set GAZETTEER_OLD_SECRET_KEYS to the key(s) they were stored with (comma-separated), "
             "then run `gazetteer secrets rotate`.")
    elif legacy or old:
        _say("Run `gazetteer secrets rotate` to re-encrypt them with the current key.")
    elif get_settings().old_secret_keys:
        _say("Every credential uses the current key: GAZETTEER_OLD_SECRET_KEYS can be removed.")


@secrets_app.command("rotate")
def rotate() -> None:
    """Re-encrypt every stored credential with the current key, in one transaction (all or nothing)."""
    try:
        done = rotate_vault(_vault())
    except UnreadableCredentials as error:
        raise _fail(error, code=1) from None
    except GazetteerError as error:
        raise _fail(error) from None
    _say(f"Re-encrypted {done.reencrypted} credential(s) with the current key; "
         f"{done.already_current} already current.")
    if get_settings().old_secret_keys:
        _say("Every credential now opens with the current key alone: remove GAZETTEER_OLD_SECRET_KEYS "
             "(and restart the server without it).")
    else:
        _say("Every credential now uses the current key and format.")


if __name__ == "__main__":
    secrets_app()
