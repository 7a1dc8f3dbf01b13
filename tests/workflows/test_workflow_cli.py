"""`gazetteer workflow ...` against a live server: run, list, rerun, logs, show, stop."""

from __future__ import annotations

import json
import subprocess
import sys


def cli(server, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**server.env, "GAZETTEER_URL": server.url, "GAZETTEER_TOKEN": server.ADMIN_TOKEN}
    return subprocess.run([sys.executable, "-m", "gazetteer.cli", "workflow", *args], env=env,
                          capture_output=True, text=True, timeout=180)


def test_workflow_commands_end_to_end(server, glue):
    client = glue.client("eu-central-1")
    client.create_database(DatabaseInput={"Name": "finance"})
    client.create_table(DatabaseName="finance", TableInput={
        "Name": "ledger", "StorageDescriptor": {"Columns": [{"Name": "amount", "Type": "decimal(12,2)"}]}})

    run = cli(server, "run", "--connection-name", "finance-lake", "--region", "eu-central-1", "--access-key", "AKIA1",
              "--secret-key", "cli-secret-value", "--wait", "--poll-seconds", "0.2", "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "cli-secret-value" not in run.stdout + run.stderr

    listed = cli(server, "list", "--json")
    workflows = json.loads(listed.stdout)
    assert listed.returncode == 0 and len(workflows) == 1
    assert workflows[0]["connection"] == "finance-lake" and workflows[0]["phase"] == "Succeeded"
    name = workflows[0]["name"]

    rerun = cli(server, "rerun", name, "--wait", "--poll-seconds", "0.2", "--json")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    answer = json.loads(rerun.stdout)
    assert answer["phase"] == "Succeeded"
    run_name = answer["run"]["metadata"]["name"]
    assert run_name != workflows[0]["last_run"]

    shown = cli(server, "show", name)
    assert shown.returncode == 0 and "finance-lake" in shown.stdout and "Succeeded" in shown.stdout
    logs = cli(server, "logs", run_name)
    assert logs.returncode == 0 and "Succeeded" in logs.stdout and "ledger" not in logs.stderr

    missing = cli(server, "rerun", "atlan-glue-0000000000")
    assert missing.returncode == 2 and "No workflow named 'atlan-glue-0000000000'" in missing.stderr


def test_a_crawler_with_a_role_a_catalog_and_a_table_regex(server, glue):
    """The Glue app's options through the CLI and the server: the role is assumed with its external id, Glue is
    read in the given catalog, the regex leaves tables out; the vaulted keys never come back."""
    client = glue.client("eu-central-1")
    client.create_database(DatabaseInput={"Name": "finance"})
    for table in ("ledger", "tmp_ledger"):
        client.create_table(DatabaseName="finance", TableInput={
            "Name": table, "StorageDescriptor": {"Columns": [{"Name": "amount", "Type": "bigint"}]}})
    glue.clear_requests()
    run = cli(server, "run", "--connection-name", "role-lake", "--region", "eu-central-1", "--access-key", "AKIA1",
              "--secret-key", "cli-secret-value", "--role-arn", "arn:aws:iam::123456789012:role/reader",
              "--external-id", "ext-7", "--catalog-id", "123456789012", "--exclude-table-regex", "^tmp_",
              "--wait", "--poll-seconds", "0.2", "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)["run"]["status"]["report"]
    assert report["counts"]["tables"] == 1 and "cli-secret-value" not in run.stdout + run.stderr
    (assume, *_) = glue.requests("AssumeRole")
    assert assume["body"]["ExternalId"] == "ext-7" and assume["access_key"] == "AKIA1"
    assert {call["body"].get("CatalogId") for call in glue.requests("GetTables")} == {"123456789012"}

    refused = cli(server, "run", "--connection-name", "bad", "--region", "eu-central-1", "--access-key", "AKIA1",
                  "--secret-key", "x", "--exclude-table-regex", "(")
    assert refused.returncode == 2 and "not a valid regular expression" in " ".join(refused.stderr.split())
