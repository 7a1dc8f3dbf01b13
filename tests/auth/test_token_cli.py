"""`gazetteer token` as a real process: it works on the catalog directly, with no server running."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from gazetteer.auth.service import TOKEN_PREFIX, authenticate
from gazetteer.errors import Unauthenticated
from gazetteer.settings import Settings


@pytest.fixture()
def token_cli(engine: sa.Engine, tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("GAZETTEER_")}
    env["GAZETTEER_HOME"] = str(tmp_path)
    # The SQLite case is the default catalog under GAZETTEER_HOME; PostgreSQL needs its URL.
    if engine.dialect.name != "sqlite":
        env["GAZETTEER_DATABASE_URL"] = engine.url.render_as_string(hide_password=False)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "gazetteer.cli_token", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120, check=False)

    return run


def test_create_list_revoke(token_cli, engine: sa.Engine) -> None:
    created = token_cli("create", "--name", "ci-bot", "--role", "$member")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert created.stdout == token + "\n" and token.startswith(TOKEN_PREFIX) and " " not in token
    assert "service-account-ci-bot" in created.stderr and token not in created.stderr

    principal = authenticate(engine, Settings(), token)
    assert principal.username == "service-account-ci-bot" and principal.roles == {"$member"}

    listed = token_cli("list", "--json")
    assert listed.returncode == 0, listed.stderr
    [record] = json.loads(listed.stdout)
    assert record["displayName"] == "ci-bot" and record["workspaceRole"] == "$member"
    assert record["revoked"] is False and token not in listed.stdout
    assert "ci-bot" in token_cli("list").stdout

    revoked = token_cli("revoke", "ci-bot")
    assert revoked.returncode == 0, revoked.stderr
    with pytest.raises(Unauthenticated, match="revoked"):
        authenticate(engine, Settings(), token)
    assert json.loads(token_cli("list", "--json").stdout)[0]["revoked"] is True


def test_errors_go_to_stderr_with_exit_code_2(token_cli) -> None:
    assert token_cli("create", "--name", "dup").returncode == 0
    again = token_cli("create", "--name", "dup")
    assert again.returncode == 2 and again.stdout == "" and "already exists" in again.stderr
    bad_role = token_cli("create", "--name", "x", "--role", "$owner")
    assert bad_role.returncode == 2 and "Unknown role" in bad_role.stderr
    missing = token_cli("revoke", "nobody")
    assert missing.returncode == 2 and "nobody" in missing.stderr
