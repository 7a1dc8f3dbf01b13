"""`gazetteer user` and `gazetteer group` as real processes, on the catalog directly (no server running)."""

from __future__ import annotations

import os
import subprocess
import sys

import sqlalchemy as sa

from gazetteer.auth.people import resolve, suggest


def test_users_and_groups_created_from_the_command_line_can_own_assets(tmp_path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GAZETTEER_")}
    env["GAZETTEER_HOME"] = str(tmp_path)

    def gazetteer(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "gazetteer.cli", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120, check=False)

    assert gazetteer("group", "create", "stewards", "--alias", "Data stewards").returncode == 0
    made = gazetteer("user", "create", "dora", "--email", "dora@example.com", "--first-name", "Dora",
                     "--group", "stewards")
    assert made.returncode == 0 and "Created user 'dora' with role $member" in made.stderr
    refused = gazetteer("user", "create", "eve", "--group", "nobody")
    assert refused.returncode == 2 and "Unknown group(s) 'nobody'" in refused.stderr
    assert "dora" in gazetteer("user", "list").stdout and "Data stewards" in gazetteer("group", "list").stdout
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'catalog.db'}")
    with engine.connect() as conn:
        assert resolve(conn, ["dora", "stewards", "eve"]).unknown == ("eve",)
        assert suggest(conn, "dor")[0].label == "user · Dora · dora@example.com"
    engine.dispose()
