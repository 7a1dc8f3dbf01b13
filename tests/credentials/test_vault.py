"""The credential vault: encrypted at rest, keyed by GAZETTEER_SECRET_KEY or a private key file."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import stat
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from gazetteer.credentials import keys
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


def store_legacy(engine: sa.Engine, material: str, body: dict) -> str:
    """A credential as the vault wrote it before the v2 format: a bare Fernet token keyed by SHA-256."""
    key = base64.urlsafe_b64encode(hashlib.sha256(material.encode("utf-8")).digest())
    token = Fernet(key).encrypt(json.dumps(body).encode("utf-8")).decode("ascii")
    guid, now = str(uuid.uuid4()), datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(credentials.insert().values(id=guid, name=body["name"], ciphertext=token, created_at=now,
                                                 updated_at=now))
    return guid


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


def test_new_records_use_the_salted_format_with_a_salt_each(engine: sa.Engine, tmp_path) -> None:
    vault = Vault(engine, Settings(home=tmp_path, secret_key="correct horse battery staple"))
    first, second = (vault.store(glue_body(), name=name) for name in ("a", "b"))
    texts = [stored_row(engine, guid).ciphertext for guid in (first, second)]
    parts = [text.split(":") for text in texts]
    assert [part[0] for part in parts] == ["v2", "v2"]
    salts = [base64.urlsafe_b64decode(part[1]) for part in parts]
    assert len(salts[0]) == 16 and salts[0] != salts[1]
    # The format is what the vault says it is: scrypt(n=2**15, r=8, p=1) of the key and the record's salt
    # keys the Fernet token, so a reader outside Gazetteer could open it.
    derived = Scrypt(salt=salts[0], length=32, n=2**15, r=8, p=1).derive(b"correct horse battery staple")
    assert json.loads(Fernet(base64.urlsafe_b64encode(derived)).decrypt(parts[0][2])) == glue_body()
    assert vault.load(second) == glue_body()


def test_a_legacy_record_still_decrypts(engine: sa.Engine, tmp_path) -> None:
    guid = store_legacy(engine, "the key", glue_body())
    assert not stored_row(engine, guid).ciphertext.startswith("v2:")
    assert Vault(engine, Settings(home=tmp_path, secret_key="the key")).load(guid) == glue_body()
    with pytest.raises(VaultKeyError):
        Vault(engine, Settings(home=tmp_path, secret_key="another key")).load(guid)


def test_old_keys_still_decrypt_and_new_records_use_the_current_key(engine: sa.Engine, tmp_path) -> None:
    under_a = Vault(engine, Settings(home=tmp_path, secret_key="key A")).store(glue_body(), name="a")
    legacy_under_a = store_legacy(engine, "key A", glue_body(name="legacy"))
    rotated = Vault(engine, Settings(home=tmp_path, secret_key="key B", old_secret_keys="key Z,key A"))
    assert rotated.load(under_a) == glue_body()
    assert rotated.load(legacy_under_a)["name"] == "legacy"
    fresh = rotated.store(glue_body(name="fresh"), name="fresh")
    assert Vault(engine, Settings(home=tmp_path, secret_key="key B")).load(fresh)["name"] == "fresh"
    with pytest.raises(VaultKeyError):
        Vault(engine, Settings(home=tmp_path, secret_key="key A")).load(fresh)


def test_old_keys_come_from_the_environment_comma_separated(monkeypatch) -> None:
    monkeypatch.setenv("GAZETTEER_OLD_SECRET_KEYS", "first key, second-key,,")
    settings = Settings()
    assert [key.get_secret_value() for key in settings.old_secret_keys] == ["first key", "second-key"]
    assert "first key" not in repr(settings) and "second-key" not in repr(settings)
    monkeypatch.setenv("GAZETTEER_OLD_SECRET_KEYS", "")
    assert Settings().old_secret_keys == []


def test_a_key_is_derived_once_per_record(engine: sa.Engine, tmp_path, monkeypatch) -> None:
    derivations = []

    def counting_scrypt(**parameters) -> Scrypt:
        derivations.append(parameters["salt"])
        return Scrypt(**parameters)

    guid = Vault(engine, Settings(home=tmp_path, secret_key="k")).store(glue_body(), name="c")
    monkeypatch.setattr(keys, "Scrypt", counting_scrypt)
    vault = Vault(engine, Settings(home=tmp_path, secret_key="k"))
    for _ in range(3):
        assert vault.load(guid) == glue_body()
    assert len(derivations) == 1


def test_unreadable_says_what_to_do_and_nothing_secret_is_logged(engine: sa.Engine, tmp_path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # the SQL and its parameters, in the log too
    caplog.set_level(logging.DEBUG)  # last: it sets the capturing handler's level too
    guid = Vault(engine, Settings(home=tmp_path, secret_key="passphrase one")).store(glue_body(), name="c")
    vault = Vault(engine, Settings(home=tmp_path, secret_key="passphrase two", old_secret_keys="passphrase three"))
    assert vault.load(vault.store(glue_body(), name="d")) == glue_body()
    with pytest.raises(VaultKeyError) as caught:
        vault.load(guid)
    message = caught.value.message
    assert guid in message and "'c'" in message
    assert "GAZETTEER_OLD_SECRET_KEYS" in message and "gazetteer secrets rotate" in message
    seen = message + caplog.text + repr(vault.keys)
    assert "INSERT INTO credentials" in caplog.text  # so the check below looks at the SQL and its parameters
    for secret in (ACCESS_KEY, SECRET, "passphrase one", "passphrase two", "passphrase three"):
        assert secret not in seen
