"""Crawl plans: what a crawl would change, worked out from Glue in a sandbox that writes nothing, and equal to what
the crawl that follows does. A local Glue over HTTP, real catalogs (SQLite and PostgreSQL), a real server."""

from __future__ import annotations

import json
import subprocess
import sys

import sqlalchemy as sa

from gazetteer.devtools.sample_catalog import seed_sample_catalog
from gazetteer.packages.glue.config import parse_config
from gazetteer.packages.glue.crawl import crawl, plan_crawl
from gazetteer.store.schema import asset_events, assets, crawl_undo, webhook_deliveries
from tests.assets.test_history import change_orders
from tests.workflows.test_workflow_api import create, token, wait_for, workflow

REGION = "us-east-1"


def _config():
    return parse_config(connection_name="lake", region=REGION, access_key="AKIATEST", secret_key="s3cr3t")


def _catalog(engine) -> dict[str, list]:
    """Every row of every table a crawl writes, to compare before and after."""
    with engine.connect() as conn:
        return {table.name: sorted(map(repr, conn.execute(sa.select(table)).all()))
                for table in (assets, asset_events, crawl_undo, webhook_deliveries)}


def _shape(history: dict) -> list:
    """A report's changes without the guids a first crawl makes up."""
    return [(item["qualifiedName"], item["action"], item["breaking"], item.get("diff"), item.get("affected"))
            for item in history["assets"]]


def test_a_plan_writes_nothing_and_is_what_the_next_crawl_does(glue, engine):
    client = glue.client(REGION)
    seed_sample_catalog(client, s3=glue.s3_client(REGION))
    assert crawl(engine, _config()).status == "Succeeded"
    change_orders(client, drop="status", retype=("order_id", "int"), add=("channel", "string"))
    client.delete_table(DatabaseName="sales", Name="clicks")
    before = _catalog(engine)
    plan = plan_crawl(engine, _config())
    assert plan.status == "Succeeded" and plan.plan and plan.to_dict()["plan"] is True
    assert _catalog(engine) == before
    done = crawl(engine, _config())
    assert done.status == "Succeeded" and not done.plan
    assert plan.changes == done.changes and plan.history["counts"] == done.history["counts"]
    assert _shape(plan.history) == _shape(done.history) and plan.history["breaking"] >= 2
    assert {item["name"] for item in plan.history["assets"] if item["action"] == "archived"} >= {"clicks"}


def test_a_plan_of_a_new_connection_lists_what_a_first_crawl_creates(glue, engine):
    seed_sample_catalog(glue.client(REGION), s3=glue.s3_client(REGION))
    plan = plan_crawl(engine, _config())
    assert plan.status == "Succeeded" and plan.changes["created"] > 100
    assert plan.history["counts"]["created"] == plan.changes["created"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(assets)).scalar_one() == 0


def test_the_cli_plans_without_writing(glue, cli_env):
    env = cli_env
    seed_sample_catalog(glue.client(REGION), s3=glue.s3_client(REGION))
    args = [sys.executable, "-m", "gazetteer.cli", "crawl", "glue", "--connection-name", "lake", "--region", REGION,
            "--access-key", "AKIATEST", "--secret-key", "s3cr3t"]
    assert subprocess.run(args, env=env, capture_output=True, text=True, timeout=300).returncode == 0
    change_orders(glue.client(REGION), drop="status")
    planned = subprocess.run([*args, "--plan"], env=env, capture_output=True, text=True, timeout=300)
    assert planned.returncode == 0, planned.stderr
    assert "Plan" in planned.stdout and "nothing was written" in planned.stdout
    assert "BREAKING" in planned.stdout and "column status was dropped" in planned.stdout
    as_json = json.loads(subprocess.run([*args, "--plan", "--json"], env=env, capture_output=True, text=True,
                                        timeout=300).stdout)
    assert as_json["plan"] is True and as_json["history"]["breaking"] >= 1
    again = json.loads(subprocess.run([*args, "--json"], env=env, capture_output=True, text=True, timeout=300).stdout)
    assert again["changes"] == as_json["changes"]  # the plan wrote nothing: the crawl still had it all to do


def test_a_workflow_plan_through_the_server(server, glue):
    seed_sample_catalog(glue.client("eu-west-1"), s3=glue.s3_client("eu-west-1"))
    http = server.client()
    name, first = create(http, workflow())
    assert wait_for(http, first)["status"]["phase"] == "Succeeded"
    change_orders(glue.client("eu-west-1"), drop="status")
    answer = http.post(f"/api/service/workflows/{name}/plan", timeout=120)
    assert answer.status_code == 200, answer.text
    plan = answer.json()
    assert plan["plan"] is True and plan["status"] == "Succeeded" and plan["history"]["breaking"] >= 1
    orders = next(item for item in plan["history"]["assets"] if item["name"] == "orders")
    assert orders["diff"][0]["change"] == "column_dropped" and orders["diff"][0]["column"] == "status"
    # Nothing was written: a run now does all of it.
    rerun = http.post("/api/service/workflows/submit", json={"namespace": "default", "resourceKind":
                                                             "WorkflowTemplate", "resourceName": name})
    done = wait_for(http, rerun.json()["metadata"]["name"])
    assert done["status"]["phase"] == "Succeeded"
    guest = server.client(token=token(server, "visitor", "$guest"))
    refused = guest.post(f"/api/service/workflows/{name}/plan")
    assert refused.status_code == 403 and "read-only" in refused.json()["errorMessage"]
    missing = http.post("/api/service/workflows/no-such-workflow/plan")
    assert missing.status_code == 404
    cli = subprocess.run([sys.executable, "-m", "gazetteer.cli", "workflow", "plan", name, "--json"],
                         env={**server.env, "GAZETTEER_URL": server.url, "GAZETTEER_TOKEN": server.ADMIN_TOKEN},
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["history"] == {}  # the run just crawled it all: nothing more to change
