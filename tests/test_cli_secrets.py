"""`gazetteer secrets status` and `rotate`, as real processes (and once in-process, to see the logs)."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from gazetteer.cli import app
from gazetteer.credentials.vault import Vault, VaultKeyError, credentials
from gazetteer.settings import Settings, get_settings

ACCESS_KEY = "AKIAEXAMPLEACCESS123"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
KEY_A, KEY_B, KEY_C = "old passphrase A", "new passphrase B", "lost passphrase C"
NEVER_SHOWN = (ACCESS_KEY, SECRET, KEY_A, KEY_B, KEY_C)


def body(name: str) -> dict:
    return {"name": name, "authType": "iam", "username": ACCESS_KEY, "password": SECRET,
            "extra": {"region": "eu-west-1"}, "connectorConfigName": "atlan-connectors-glue"}


def store_legacy(engine: sa.Engine, material: str, name: str) -> str:
    """A credential as the vault wrote it before the v2 format: a bare Fernet token keyed by SHA-256."""
    key = base64.urlsafe_b64encode(hashlib.sha256(material.encode("utf-8")).digest())
    token = Fernet(key).encrypt(json.dumps(body(name)).encode("utf-8")).decode("ascii")
    guid, now = str(uuid.uuid4()), datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(credentials.insert().values(id=guid, name=name, ciphertext=token, created_at=now,
                                                 updated_at=now))
    return guid


def stored(engine: sa.Engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(credentials.c.id, credentials.c.ciphertext, credentials.c.updated_at)).all()
    return {row.id: (row.ciphertext, row.updated_at) for row in rows}


def vault(engine: sa.Engine, tmp_path, key: str, old: str = "") -> Vault:
    return Vault(engine, Settings(home=tmp_path, secret_key=key, old_secret_keys=old))


def flat(text: str) -> str:
    # Rich wraps long lines at the console width; the assertions are about words, not layout.
    return " ".join(text.split())


@pytest.fixture()
def secrets_cli(engine: sa.Engine, tmp_path):
    base = {key: value for key, value in os.environ.items() if not key.startswith("GAZETTEER_")}
    base["GAZETTEER_HOME"] = str(tmp_path)
    base["GAZETTEER_DATABASE_URL"] = engine.url.render_as_string(hide_password=False)

    def run(*args: str, key: str | None, old: str | None = None) -> subprocess.CompletedProcess:
        env = dict(base, **({"GAZETTEER_SECRET_KEY": key} if key else {}),
                   **({"GAZETTEER_OLD_SECRET_KEYS": old} if old is not None else {}))
        done = subprocess.run([sys.executable, "-m", "gazetteer.cli", "secrets", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120, check=False)
        for secret in NEVER_SHOWN:
            assert secret not in done.stdout + done.stderr
        return done

    return run


def test_rotate_from_a_to_b_then_b_alone_opens_everything(secrets_cli, engine: sa.Engine, tmp_path) -> None:
    under_a = [vault(engine, tmp_path, KEY_A).store(body(name), name=name) for name in ("first", "second")]
    legacy = store_legacy(engine, KEY_A, "legacy")
    before = stored(engine)

    done = secrets_cli("rotate", key=KEY_B, old=KEY_A)
    assert done.returncode == 0, done.stderr
    said = flat(done.stdout)
    assert "Re-encrypted 3 credential(s) with the current key; 0 already current." in said
    assert "remove GAZETTEER_OLD_SECRET_KEYS" in said

    after = stored(engine)
    assert all(after[guid][0].startswith("v2:") and after[guid][0] != before[guid][0] for guid in before)
    assert all(after[guid][1] == before[guid][1] for guid in before)  # the content did not change
    only_b = vault(engine, tmp_path, KEY_B)
    assert [only_b.load(guid)["name"] for guid in [*under_a, legacy]] == ["first", "second", "legacy"]
    for guid in [*under_a, legacy]:
        with pytest.raises(VaultKeyError):
            vault(engine, tmp_path, KEY_A).load(guid)

    again = secrets_cli("rotate", key=KEY_B)
    assert again.returncode == 0, again.stderr
    assert "Re-encrypted 0 credential(s) with the current key; 3 already current." in flat(again.stdout)
    assert stored(engine) == after


def test_a_credential_no_key_opens_stops_the_rotation(secrets_cli, engine: sa.Engine, tmp_path) -> None:
    store_legacy(engine, KEY_A, "readable")
    lost = vault(engine, tmp_path, KEY_C).store(body("lost one"), name="lost one")
    before = stored(engine)

    done = secrets_cli("rotate", key=KEY_B, old=KEY_A)
    assert done.returncode == 1
    said = flat(done.stderr)
    assert f"{lost} ('lost one')" in said and "Nothing was re-encrypted" in said
    assert "set GAZETTEER_OLD_SECRET_KEYS to the previous key, then run `gazetteer secrets rotate`" in said
    assert "Traceback" not in said and done.stdout == ""
    assert stored(engine) == before


def test_status_tells_which_key_each_credential_needs(secrets_cli, engine: sa.Engine, tmp_path) -> None:
    current = vault(engine, tmp_path, KEY_B).store(body("current"), name="current")
    old = vault(engine, tmp_path, KEY_A).store(body("old"), name="old")
    legacy = store_legacy(engine, KEY_B, "legacy")
    lost = store_legacy(engine, KEY_C, "lost")

    listed = secrets_cli("status", "--json", key=KEY_B, old=f"some other key,{KEY_A}")
    assert listed.returncode == 0, listed.stderr
    assert {row["id"]: (row["name"], row["key"], row["format"]) for row in json.loads(listed.stdout)} == {
        current: ("current", "current", "v2"), old: ("old", "old key 2", "v2"),
        legacy: ("legacy", "current", "legacy"), lost: ("lost", "none", "legacy")}

    human = flat(secrets_cli("status", key=KEY_B, old=KEY_A).stdout)
    assert ("4 credential(s): 1 current, 1 in the legacy format, 1 under an old key, 1 that no key opens."
            in human)
    assert "Set GAZETTEER_OLD_SECRET_KEYS" in human


def test_the_key_file_rotates_legacy_records_too(secrets_cli, engine: sa.Engine, tmp_path) -> None:
    # Without GAZETTEER_SECRET_KEY the generated key file is the current key.
    from_file = Vault(engine, Settings(home=tmp_path)).store(body("from file"), name="from file")
    material = (tmp_path / "secret.key").read_text().strip()
    legacy = store_legacy(engine, material, "legacy")

    assert "1 current, 1 in the legacy format" in flat(secrets_cli("status", key=None).stdout)
    done = secrets_cli("rotate", key=None)
    assert done.returncode == 0, done.stderr
    assert "Re-encrypted 1 credential(s) with the current key; 1 already current." in flat(done.stdout)
    assert stored(engine)[legacy][0].startswith("v2:")
    assert Vault(engine, Settings(home=tmp_path)).load(legacy)["name"] == "legacy"
    assert Vault(engine, Settings(home=tmp_path)).load(from_file)["name"] == "from file"
    assert material not in done.stdout + done.stderr


@pytest.fixture()
def environment(engine: sa.Engine, tmp_path, monkeypatch):
    for name in [name for name in os.environ if name.startswith("GAZETTEER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("GAZETTEER_HOME", str(tmp_path))
    monkeypatch.setenv("GAZETTEER_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_no_secret_reaches_the_output_or_the_logs(environment, engine: sa.Engine, tmp_path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # the SQL and its parameters, in the log too
    caplog.set_level(logging.DEBUG)  # last: it sets the capturing handler's level too
    vault(engine, tmp_path, KEY_A).store(body("first"), name="first")
    store_legacy(engine, KEY_A, "legacy")
    lost = vault(engine, tmp_path, KEY_C).store(body("lost"), name="lost")
    environment.setenv("GAZETTEER_SECRET_KEY", KEY_B)
    environment.setenv("GAZETTEER_OLD_SECRET_KEYS", KEY_A)
    runner = CliRunner()

    outputs = [runner.invoke(app, ["secrets", *args]) for args in (["status"], ["status", "--json"], ["rotate"])]
    assert [result.exit_code for result in outputs] == [0, 0, 1]
    with engine.begin() as conn:
        conn.execute(credentials.delete().where(credentials.c.id == lost))
    outputs.append(runner.invoke(app, ["secrets", "rotate"]))
    assert outputs[-1].exit_code == 0 and "Re-encrypted 2" in flat(outputs[-1].output)

    assert "UPDATE credentials" in caplog.text  # so the check below looks at the SQL and its parameters
    seen = caplog.text + "".join(result.output for result in outputs)
    for secret in NEVER_SHOWN:
        assert secret not in seen
