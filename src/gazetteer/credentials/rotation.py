"""Key rotation: which key each stored credential needs, and re-encrypting them all under the current key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from gazetteer.credentials.keys import CURRENT_FORMAT, format_of
from gazetteer.credentials.vault import Vault, VaultKeyError, credentials

__all__ = ["KeyUse", "Rotation", "UnreadableCredentials", "key_uses", "rotate"]


@dataclass(frozen=True)
class KeyUse:
    """Which key opens one credential (0: the current one, i: old key i, None: none) and its format."""

    id: str
    name: str
    key: int | None
    format: str

    @property
    def current(self) -> bool:
        return self.key == 0 and self.format == CURRENT_FORMAT


@dataclass(frozen=True)
class Rotation:
    reencrypted: int
    already_current: int


class UnreadableCredentials(VaultKeyError):
    """Credentials no configured key opens: the rotation stops before changing anything."""

    def __init__(self, vault: Vault, rows: Sequence[sa.Row[Any]]) -> None:
        named = ", ".join(f"{row.id} ({row.name!r})" for row in rows)
        super().__init__(vault.unreadable_message(f"{len(rows)} credential(s): {named}")
                         + " Nothing was re-encrypted.")


def _select() -> sa.Select[Any]:
    return sa.select(credentials.c.id, credentials.c.name, credentials.c.ciphertext).order_by(
        credentials.c.name, credentials.c.id)


def key_uses(vault: Vault) -> list[KeyUse]:
    """Every stored credential with the key that opens it (tries the keys, so it costs a derivation each)."""
    with vault.engine.connect() as conn:
        rows = conn.execute(_select()).all()
    uses = []
    for row in rows:
        opened = vault.keys.open(row.ciphertext)
        uses.append(KeyUse(row.id, row.name, None if opened is None else opened.key, format_of(row.ciphertext)))
    return uses


def rotate(vault: Vault) -> Rotation:
    """Re-encrypt every credential not yet under the current key and format, all or nothing."""
    keys = vault.keys
    with vault.engine.begin() as conn:
        # Write-lock first: a SQLite transaction that has only read cannot become a writer once another
        # connection (a running server) has committed, and on PostgreSQL FOR UPDATE keeps the rows as read.
        conn.execute(credentials.update().where(sa.false()).values(id=credentials.c.id))
        rows = conn.execute(_select().with_for_update()).all()
        opened = [(row, keys.open(row.ciphertext)) for row in rows]
        readable = [(row, body) for row, body in opened if body is not None]
        if len(readable) < len(opened):
            raise UnreadableCredentials(vault, [row for row, body in opened if body is None])
        stale = [(row, body) for row, body in readable
                 if body.key != 0 or format_of(row.ciphertext) != CURRENT_FORMAT]
        # updated_at stays: it tells when the credential's content changed, and re-encrypting changes none.
        for row, body in stale:
            conn.execute(credentials.update().where(credentials.c.id == row.id)
                         .values(ciphertext=keys.seal(body.plain)))
    return Rotation(reencrypted=len(stale), already_current=len(rows) - len(stale))
