"""The command line, run as a real process against a local Glue and a SQLite catalog under GAZETTEER_HOME."""

from __future__ import annotations

import json
import subprocess
import sys

from gazetteer.devtools.sample_catalog import seed_sample_catalog
from tests.conftest import flat, in_terminal

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def gazetteer(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gazetteer.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_crawl_json_report_then_search(glue, cli_env, tmp_path):
    seed_sample_catalog(glue.client("eu-west-1"), s3=glue.s3_client("eu-west-1"))
    args = ["crawl", "glue", "--connection-name", "lake", "--region", "eu-west-1", "--access-key", "AKIAEXAMPLE",
            "--secret-key", SECRET, "--include", "sales", "--include", "analytics", "--exclude", "analytics", "--json"]
    done = gazetteer(*args, env=cli_env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report) >= {"status", "connection_qualified_name", "counts", "changes", "api_calls", "throttled",
                           "warnings", "duration_seconds"}
    assert report["status"] == "Succeeded" and report["counts"]["schemas"] == 1 and report["counts"]["tables"] == 5
    assert (tmp_path / "home" / "catalog.db").exists()
    assert SECRET not in done.stdout + done.stderr

    again = json.loads(gazetteer(*args, env=cli_env).stdout)
    assert again["connection_qualified_name"] == report["connection_qualified_name"]
    assert again["changes"]["created"] == 0 and again["changes"]["updated"] == 0

    found = gazetteer("search", "order", "--type", "Table", "--json", env=cli_env)
    names = [entity["attributes"]["name"] for entity in json.loads(found.stdout)]
    assert names[0] == "orders" and all(e["typeName"] == "Table" for e in json.loads(found.stdout))
    # A column name finds its table.
    by_column = json.loads(gazetteer("search", "occurred_at", "--json", env=cli_env).stdout)
    assert "events" in {entity["attributes"]["name"] for entity in by_column}

    human = gazetteer("search", "customers", env=cli_env)
    assert human.returncode == 0 and "customers" in human.stdout


def test_bad_input_exits_2_with_a_message(cli_env):
    done = gazetteer("crawl", "glue", "--connection-name", "x", "--region", "nowhere-1", env=cli_env)
    assert done.returncode == 2 and "unknown AWS region 'nowhere-1'" in done.stderr and "Traceback" not in done.stderr


def test_failed_crawl_exits_1_and_keeps_the_secret(cli_env):
    env = {**cli_env, "AWS_ENDPOINT_URL_GLUE": "http://127.0.0.1:9", "GAZETTEER_GLUE_MAX_ATTEMPTS": "1"}
    done = gazetteer("crawl", "glue", "--connection-name", "x", "--region", "us-east-1", "--access-key", "AKIA1",
                     "--secret-key", SECRET, env=env)
    assert done.returncode == 1 and "Failed" in done.stdout and SECRET not in done.stdout + done.stderr


def test_the_keys_from_the_environment_or_nothing_is_crawled(glue, cli_env, tmp_path):
    seed_sample_catalog(glue.client("eu-west-1"), s3=glue.s3_client("eu-west-1"))
    glue.clear_requests()
    args = ("crawl", "glue", "--connection-name", "lake", "--region", "eu-west-1", "--include", "sales", "--json")
    # An access key without its secret, and no terminal to ask in: refused before the catalog is even opened.
    missing = gazetteer(*args, "--access-key", "AKIAFROMFLAG", env=cli_env)
    assert missing.returncode == 2 and missing.stdout == "" and "Traceback" not in missing.stderr
    assert "the secret key of AKIAFROMFLAG is missing" in flat(missing.stderr)
    assert not (tmp_path / "home" / "catalog.db").exists() and glue.requests() == []

    keys = {"GAZETTEER_GLUE_ACCESS_KEY": "AKIAFROMENV", "GAZETTEER_GLUE_SECRET_KEY": SECRET}
    done = gazetteer(*args, env={**cli_env, **keys})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["counts"]["tables"] == 5 and SECRET not in done.stdout + done.stderr
    assert {call["access_key"] for call in glue.requests("GetTables")} == {"AKIAFROMENV"}


def test_the_secret_key_typed_at_a_hidden_prompt(glue, cli_env):
    seed_sample_catalog(glue.client("eu-west-1"), s3=glue.s3_client("eu-west-1"))
    code, shown = in_terminal(["crawl", "glue", "--connection-name", "lake", "--region", "eu-west-1", "--include",
                               "sales", "--access-key", "AKIATYPED"], cli_env, typed=SECRET,
                              prompt=b"Secret key of AKIATYPED: ")
    assert code == 0, shown
    assert "Succeeded" in shown and SECRET not in shown  # the terminal did not echo it
    assert {call["access_key"] for call in glue.requests("GetTables")} == {"AKIATYPED"}
