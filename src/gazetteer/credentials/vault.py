"""The credential vault: connector credentials encrypted at rest with Fernet, keyed by a local secret."""

from __future__ import annotations

import json
import logging
import os
import secrets
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gazetteer.credentials.keys import KeyRing
from gazetteer.errors import GazetteerError, InvalidRequest, NotFound
from gazetteer.settings import Settings
from gazetteer.store.schema import Timestamp, metadata

__all__ = ["KEY_FILE_NAME", "Vault", "VaultKeyError", "credentials"]

log = logging.getLogger(__name__)

KEY_FILE_NAME = "secret.key"

# Migration 0002 creates this table. Only `ciphertext` holds the body (access key, secret, extra); the
# clear columns are what lists and workflow pages show, and none of them is secret.
credentials = sa.Table(
    "credentials",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("auth_type", sa.String(64), nullable=True),
    sa.Column("connector_config_name", sa.String(255), nullable=True),
    sa.Column("region", sa.String(64), nullable=True),
    sa.Column("ciphertext", sa.Text, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)


class VaultKeyError(GazetteerError):
    """The vault key is missing, unsafe or not the one the credentials were encrypted with."""

    status_code = 500
    error_code = "GAZETTEER-500-010"


def _read_key_file(path: Path) -> str:
    if os.name == "posix":
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise VaultKeyError(f"The vault key file {path} can be read by other users (mode {mode:04o}); "
                                f"run `chmod 600 {path}` or set GAZETTEER_SECRET_KEY instead.")
    material = path.read_text(encoding="utf-8").strip()
    if not material:
        raise VaultKeyError(f"The vault key file {path} is empty; restore it from a backup, or set "
                            "GAZETTEER_SECRET_KEY to the key the credentials were stored with.")
    return material


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Write a private temporary file, then link it into place: the link fails if another process got there
    # first, so concurrent first uses agree on one key and nobody ever reads a half-written file.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret-", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return
        except OSError:  # a file system without hard links: exclusive create is the next best thing
            try:
                target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return
            with os.fdopen(target, "w", encoding="utf-8") as handle:
                handle.write(Path(temporary).read_text(encoding="utf-8"))
        log.warning("generated the vault key %s: back it up, stored credentials are lost without it", path)
    finally:
        os.unlink(temporary)


def _metadata(body: dict[str, Any]) -> dict[str, Any]:
    # pyatlan sends camelCase (authType, connectorConfigName); its Python objects use snake_case.
    extra = cast(dict[str, Any], body.get("extra")) if isinstance(body.get("extra"), dict) else {}
    return {
        "auth_type": body.get("authType", body.get("auth_type")),
        "connector_config_name": body.get("connectorConfigName", body.get("connector_config_name")),
        "region": extra.get("region"),
    }


class Vault:
    """Stores credential bodies encrypted; hands back either the whole body or only its clear metadata."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._keys: KeyRing | None = None

    @property
    def key_file(self) -> Path:
        """Where the generated key lives when GAZETTEER_SECRET_KEY is not set."""
        return self.settings.home / KEY_FILE_NAME

    @property
    def keys(self) -> KeyRing:
        """The current key (GAZETTEER_SECRET_KEY, else the key file) and GAZETTEER_OLD_SECRET_KEYS."""
        if self._keys is None:
            secret = self.settings.secret_key.get_secret_value() if self.settings.secret_key else ""
            if not secret:
                if not self.key_file.exists():
                    _create_key_file(self.key_file)
                secret = _read_key_file(self.key_file)
            self._keys = KeyRing(secret, [key.get_secret_value() for key in self.settings.old_secret_keys])
        return self._keys

    def _encrypt(self, body: dict[str, Any]) -> str:
        if not isinstance(body, dict):
            raise InvalidRequest("A credential body must be a JSON object.")
        try:
            plain = json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise InvalidRequest(f"The credential body cannot be stored as JSON: {exc}") from None
        return self.keys.seal(plain)

    def store(self, body: dict[str, Any], *, name: str) -> str:
        """Encrypt and keep `body`; returns the new credential's guid."""
        guid, now = str(uuid.uuid4()), datetime.now(UTC)
        row = {"id": guid, "name": name, "ciphertext": self._encrypt(body), "created_at": now,
               "updated_at": now, **_metadata(body)}
        with self.engine.begin() as conn:
            conn.execute(credentials.insert().values(**row))
        return guid

    def _row(self, guid: str) -> Any:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(credentials).where(credentials.c.id == guid)).first()
        if row is None:
            raise NotFound(f"No credential has the guid {guid!r}.")
        return row

    def load(self, guid: str) -> dict[str, Any]:
        """The decrypted body, secrets included: only for the code that connects to the source."""
        row = self._row(guid)
        opened = self.keys.open(row.ciphertext)
        if opened is None:
            raise VaultKeyError(self.unreadable_message(f"credential {guid} ({row.name!r})"))
        return cast(dict[str, Any], json.loads(opened.plain))

    def unreadable_message(self, what: str) -> str:
        """What to do when no configured key opens `what`."""
        return (f"Cannot decrypt {what}: the vault key changed. Set GAZETTEER_SECRET_KEY to the key used when "
                f"it was stored (or restore {self.key_file}); if that key has since been replaced, set "
                "GAZETTEER_OLD_SECRET_KEYS to the previous key, then run `gazetteer secrets rotate`. "
                "Otherwise, enter the credential again.")

    def describe(self, guid: str) -> dict[str, Any]:
        """What may be shown about a credential: no access key, no secret."""
        row = self._row(guid)
        return {"guid": row.id, "name": row.name, "authType": row.auth_type,
                "connectorConfigName": row.connector_config_name, "extra": {"region": row.region},
                "createdAt": _ms(row.created_at), "updatedAt": _ms(row.updated_at)}

    def update(self, guid: str, body: dict[str, Any]) -> None:
        """Replace the body of an existing credential (its name changes only if the body names one)."""
        row = self._row(guid)
        values = {"ciphertext": self._encrypt(body), "updated_at": datetime.now(UTC), **_metadata(body)}
        if isinstance(body.get("name"), str) and body["name"]:
            values["name"] = body["name"]
        with self.engine.begin() as conn:
            conn.execute(credentials.update().where(credentials.c.id == row.id).values(**values))

    def delete(self, guid: str) -> None:
        """Forget a credential (used when the workflow that brought it could not be stored)."""
        with self.engine.begin() as conn:
            conn.execute(credentials.delete().where(credentials.c.id == guid))


def _ms(moment: datetime) -> int:
    # SQLite hands back naive datetimes; everything stored here is UTC.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
