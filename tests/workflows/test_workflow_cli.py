"""`gazetteer workflow ...` against a live server: run, list, rerun, logs, show, stop."""

from __future__ import annotations

import json
import subprocess
import sys

import sqlalchemy as sa

from gazetteer.client import Workflow
from gazetteer.credentials.vault import Vault
from gazetteer.settings import Settings
from gazetteer.store import open_engine
from gazetteer.workflows.models import workflows
from tests.conftest import flat, in_terminal

# A run of the local Glue's finance database, the keys to be given some way or other.
RUN = ("run", "--region", "eu-central-1", "--wait", "--poll-seconds", "0.2")


def cli(server, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**server.env, "GAZETTEER_URL": server.url, "GAZETTEER_TOKEN": server.ADMIN_TOKEN, **(env or {})}
    return subprocess.run([sys.executable, "-m", "gazetteer.cli", "workflow", *args], env=env,
                          capture_output=True, text=True, timeout=180)


def vaulted_keys(server) -> dict[str, tuple[str, str]]:
    """Connection name → (access key, secret key) of the credential the server vaulted for its workflow."""
    engine = open_engine(server.env["GAZETTEER_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(workflows.c.document, workflows.c.credential_guid)).all()
        vault = Vault(engine, Settings(home=server.home))
        found = {}
        for document, guid in rows:
            body = vault.load(guid) if guid else {}
            found[Workflow.of(document).connection["name"]] = (body.get("username"), body.get("password"))
        return found
    finally:
        engine.dispose()


def finance(glue) -> None:
    client = glue.client("eu-central-1")
    client.create_database(DatabaseInput={"Name": "finance"})
    client.create_table(DatabaseName="finance", TableInput={
        "Name": "ledger", "StorageDescriptor": {"Columns": [{"Name": "amount", "Type": "decimal(12,2)"}]}})


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
    assert refused.returncode == 2 and "not a valid regular expression" in flat(refused.stderr)


def test_show_rerun_and_plan_take_the_connection_name(server, glue):
    finance(glue)
    keys = {"GAZETTEER_GLUE_ACCESS_KEY": "AKIA1", "GAZETTEER_GLUE_SECRET_KEY": "cli-secret-value"}
    first = cli(server, *RUN, "--connection-name", "finance-lake", "--json", env=keys)
    assert first.returncode == 0, first.stdout + first.stderr
    name = json.loads(first.stdout)["run"]["spec"]["workflowTemplateRef"]["name"]

    for given in ("finance-lake", "FINANCE-Lake", name):
        shown = cli(server, "show", given, "--json")
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["workflow"]["metadata"]["name"] == name
    table = cli(server, "show", "finance-lake")
    assert table.returncode == 0 and name in table.stdout and "Succeeded" in table.stdout
    planned = cli(server, "plan", "finance-lake", "--json")
    assert planned.returncode == 0 and json.loads(planned.stdout)["plan"] is True
    rerun = cli(server, "rerun", "Finance-Lake", "--wait", "--poll-seconds", "0.2", "--json")
    assert rerun.returncode == 0 and json.loads(rerun.stdout)["run"]["spec"]["workflowTemplateRef"]["name"] == name

    unknown = cli(server, "show", "finance")
    assert unknown.returncode == 2 and unknown.stdout == "" and "Traceback" not in unknown.stderr
    assert flat(unknown.stderr) == (
        "Error: No workflow named 'finance', nor a connection of that name. Connections with a workflow: "
        "'finance-lake' (see: gazetteer workflow list).")

    # A second connection of the same name (the CLI creates one each time): the name no longer says which.
    second = cli(server, *RUN, "--connection-name", "finance-lake", "--json", env=keys)
    assert second.returncode == 0, second.stdout + second.stderr
    other = json.loads(second.stdout)["run"]["spec"]["workflowTemplateRef"]["name"]
    ambiguous = cli(server, "show", "finance-lake")
    assert ambiguous.returncode == 2 and ambiguous.stdout == ""
    message = flat(ambiguous.stderr)
    assert message.startswith("Error: 2 workflows crawl into a connection named 'finance-lake': ")
    assert name in message and other in message and message.endswith("Give the workflow's name instead.")
    assert cli(server, "show", other).returncode == 0


def test_the_secret_key_from_the_environment_or_a_hidden_prompt(server, glue):
    """Each way of giving the secret reaches the server's vault with its access key; none shows it."""
    finance(glue)
    from_env = cli(server, *RUN, "--connection-name", "from-env", env={
        "GAZETTEER_GLUE_ACCESS_KEY": "AKIAENV", "GAZETTEER_GLUE_SECRET_KEY": "topsecret-from-env"})
    assert from_env.returncode == 0, from_env.stdout + from_env.stderr
    from_aws = cli(server, *RUN, "--connection-name", "from-aws", "--access-key", "AKIAAWS", env={
        "AWS_ACCESS_KEY_ID": "AKIAAWS", "AWS_SECRET_ACCESS_KEY": "topsecret-from-aws"})
    assert from_aws.returncode == 0, from_aws.stdout + from_aws.stderr
    env = {**server.env, "GAZETTEER_URL": server.url, "GAZETTEER_TOKEN": server.ADMIN_TOKEN}
    code, shown = in_terminal(["workflow", *RUN, "--connection-name", "typed", "--access-key", "AKIATTY"], env,
                              typed="topsecret-typed-in", prompt=b"Secret key of AKIATTY: ")
    assert code == 0, shown
    assert "Secret key of AKIATTY" in shown and "Succeeded" in shown
    for output in (from_env.stdout + from_env.stderr, from_aws.stdout + from_aws.stderr, shown):
        assert "topsecret" not in output
    assert vaulted_keys(server) == {"from-env": ("AKIAENV", "topsecret-from-env"),
                                    "from-aws": ("AKIAAWS", "topsecret-from-aws"),
                                    "typed": ("AKIATTY", "topsecret-typed-in")}

    # Without a terminal nothing is asked, and nothing is created.
    another_key = {"AWS_ACCESS_KEY_ID": "AKIAOTHER", "AWS_SECRET_ACCESS_KEY": "topsecret-of-another-key"}
    temporary = {"AWS_ACCESS_KEY_ID": "AKIAX", "AWS_SECRET_ACCESS_KEY": "topsecret-temporary", "AWS_SESSION_TOKEN": "t"}
    for env in ({}, another_key, temporary):
        missing = cli(server, *RUN, "--connection-name", "missing", "--access-key", "AKIAX", env=env)
        assert missing.returncode == 2 and "topsecret" not in missing.stdout + missing.stderr
        assert "the secret key of AKIAX is missing: set GAZETTEER_GLUE_SECRET_KEY, or run in a terminal" in \
            flat(missing.stderr)
    lone = cli(server, *RUN, "--connection-name", "missing", env={"GAZETTEER_GLUE_SECRET_KEY": "topsecret-alone"})
    assert lone.returncode == 2 and "a secret key needs its access key" in flat(lone.stderr)
    assert set(vaulted_keys(server)) == {"from-env", "from-aws", "typed"}
