"""The credential vault: encrypted at rest, keyed by GAZETTEER_SECRET_KEY or a private key file."""

from __future__ import annotations

import os
import stat
import uuid

import pytest
import sqlalchemy as sa

from gazetteer.credentials.vault import KEY_FILE_NAME, Vault, VaultKeyError, credentials
from gazetteer.errors import NotFound
from gazetteer.settings import Settings

ACCESS_KEY = "AKIAEXAMPLEACCESS123"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def glue_body(**changes) -> dict:
    """The credential body pyatlan's GlueCrawler puts in payload[0].body."""
    return {"name": "default-glue-1795609922-0", "authType": "iam", "username": ACCESS_KEY,
            "password": SECRET, "extra": {"region": "ap-south-1"},
            "connectorConfigName": "atlan-connectors-glue", **changes}


def stored_row(engine: sa.Engine, guid: str):
    with engine.connect() as conn:
        return conn.execute(sa.select(credentials).where(credentials.c.id == guid)).one()


def test_round_trip_keeps_secrets_out_of_the_clear(engine: sa.Engine, tmp_path) -> None:
    vault = Vault(engine, Settings(home=tmp_path / "home", secret_key="correct horse battery staple"))
    guid = vault.store(glue_body(), name="default-glue-1795609922-0")
    assert uuid.UUID(guid)
    assert vault.load(guid) == glue_body()

    row = stored_row(engine, guid)
    clear = " ".join(str(value) for value in row)
    assert ACCESS_KEY not in clear and SECRET not in clear
    assert (row.name, row.auth_type, row.connector_config_name, row.region) == (
        "default-glue-1795609922-0", "iam", "atlan-connectors-glue", "ap-south-1")

    described = vault.describe(guid)
    assert described["authType"] == "iam" and described["extra"] == {"region": "ap-south-1"}
    assert ACCESS_KEY not in str(described) and SECRET not in str(described)
    # With a secret key configured, no key file is written.
    assert not (tmp_path / "home" / KEY_FILE_NAME).exists()


def test_update_replaces_the_body(engine: sa.Engine, tmp_path) -> None:
    vault = Vault(engine, Settings(home=tmp_path, secret_key="k"))
    guid = vault.store(glue_body(), name="first")
    vault.update(guid, glue_body(password="rotated-secret", extra={"region": "eu-west-1"}))
    assert vault.load(guid)["password"] == "rotated-secret"
    assert vault.describe(guid)["extra"] == {"region": "eu-west-1"}
    assert vault.describe(guid)["name"] == "default-glue-1795609922-0"
    assert "rotated-secret" not in stored_row(engine, guid).ciphertext


def test_unknown_guid_is_not_found(engine: sa.Engine, tmp_path) -> None:
    vault = Vault(engine, Settings(home=tmp_path, secret_key="k"))
    for call in (vault.load, vault.describe, lambda guid: vault.update(guid, glue_body())):
        with pytest.raises(NotFound):
            call(str(uuid.uuid4()))


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_generated_key_file_is_private_and_reused(engine: sa.Engine, tmp_path) -> None:
    home = tmp_path / "not-yet-there"
    guid = Vault(engine, Settings(home=home)).store(glue_body(), name="c")
    key_file = home / KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [path.name for path in home.iterdir() if path.name.startswith(".secret-")] == []
    # A new process (a new Vault) reads the same key file.
    assert Vault(engine, Settings(home=home)).load(guid)["password"] == SECRET
    # The key file's content works as GAZETTEER_SECRET_KEY, so the key can move to the environment.
    material = key_file.read_text().strip()
    assert Vault(engine, Settings(home=tmp_path / "elsewhere", secret_key=material)).load(guid) == glue_body()


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_readable_key_file_is_refused(engine: sa.Engine, tmp_path) -> None:
    vault = Vault(engine, Settings(home=tmp_path))
    vault.store(glue_body(), name="c")
    (tmp_path / KEY_FILE_NAME).chmod(0o644)
    with pytest.raises(VaultKeyError, match="chmod 600"):
        Vault(engine, Settings(home=tmp_path)).store(glue_body(), name="d")


def test_wrong_key_says_the_key_changed(engine: sa.Engine, tmp_path) -> None:
    guid = Vault(engine, Settings(home=tmp_path, secret_key="the original key")).store(glue_body(), name="c")
    with pytest.raises(VaultKeyError) as caught:
        Vault(engine, Settings(home=tmp_path, secret_key="another key")).load(guid)
    assert "the vault key changed" in caught.value.message
    assert "GAZETTEER_SECRET_KEY" in caught.value.message
    assert "the original key" not in caught.value.message and "another key" not in caught.value.message
    assert caught.value.status_code == 500
