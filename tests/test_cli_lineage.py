"""`gazetteer lineage`, in-process, on a SQLite catalog where a crawl of the sample catalog derived lineage."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from gazetteer import cli_lineage, console
from gazetteer.cli import app
from gazetteer.devtools.local_glue import LocalGlue, endpoint_env
from gazetteer.devtools.sample_catalog import seed_sample_catalog
from gazetteer.packages.glue.config import parse_config
from gazetteer.packages.glue.crawl import crawl
from gazetteer.packages.glue.settings import GlueSettings
from gazetteer.settings import get_settings
from gazetteer.store import open_engine

REGION = "eu-west-1"


@dataclass(frozen=True)
class Catalog:
    url: str
    connection: str

    def qn(self, path: str) -> str:
        """The qualified name of a Glue table, view or column: `sales/orders`, `sales/orders/amount`."""
        return f"{self.connection}/AwsDataCatalog/{path}"


@pytest.fixture(scope="module")
def catalog(glue_server: LocalGlue, tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """A catalog holding one crawl of the sample catalog, crawled once: the tests only read it."""
    glue_server.reset()
    url = f"sqlite:///{tmp_path_factory.mktemp('lineage') / 'catalog.db'}"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in endpoint_env(glue_server.url).items():
            patch.setenv(name, value)
        seed_sample_catalog(glue_server.client(REGION), s3=glue_server.s3_client(REGION))
        engine = open_engine(url)
        config = parse_config(connection_name="lake", region=REGION, access_key="AKIATEST", secret_key="s3cr3t")
        report = crawl(engine, config, settings=GlueSettings(max_attempts=3, workers=2))
        engine.dispose()
    assert report.status == "Succeeded" and report.lineage["processes"] > 0, report.to_dict()
    return Catalog(url, report.connection_qualified_name)


Run = Callable[..., Result]


@pytest.fixture()
def lineage(catalog: Catalog, monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[Run]:
    """Runs `gazetteer lineage ARGS` on the catalog, in a terminal wide enough that no qualified name is folded."""
    monkeypatch.setenv("GAZETTEER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GAZETTEER_DATABASE_URL", catalog.url)
    monkeypatch.setattr(console, "out", Console(width=300))
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(app, ["lineage", *args])
    get_settings.cache_clear()


def document(result: Result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def depths(doc: dict) -> dict[str, int]:
    return {entity["qualifiedName"]: entity["depth"] for entity in doc["entities"]}


def test_downstream_of_a_table_by_depth(catalog: Catalog, lineage: Run) -> None:
    doc = document(lineage(catalog.qn("sales/orders"), "--json"))
    assert doc["start"]["qualifiedName"] == catalog.qn("sales/orders") and doc["start"]["typeName"] == "Table"
    assert doc["direction"] == "downstream" and doc["depth"] == 5 and doc["hasMore"] is False
    found = depths(doc)
    assert found[catalog.qn("analytics/customer_orders")] == 1
    assert found[catalog.qn("analytics/country_revenue")] == 2
    # Each hop is a process, then what it writes: the view's own process sits between the two views.
    view = next(e for e in doc["entities"] if e["qualifiedName"] == catalog.qn("analytics/customer_orders"))
    (process,) = view["upstream"]
    assert found[process] == 1 and process.startswith(f"{catalog.connection}/lineage/")
    assert view["downstream"] == [e["qualifiedName"] for e in doc["entities"]
                                  if e["typeName"] == "Process" and e["depth"] == 2]


def test_the_table_shows_what_the_json_holds(catalog: Catalog, lineage: Run) -> None:
    doc = document(lineage(catalog.qn("sales/orders"), "--json"))
    human = lineage(catalog.qn("sales/orders"))
    assert human.exit_code == 0, human.output
    lines = human.stdout.splitlines()
    for entity in doc["entities"]:
        shown = (f"via {entity['name']}" if entity["typeName"] in ("Process", "ColumnProcess")
                 else entity["qualifiedName"])
        assert any(shown in line and f" {entity['depth']} " in line and entity["typeName"] in line
                   for line in lines), shown
    processes = sum(e["typeName"] == "Process" for e in doc["entities"])
    assert lines[-1] == f"{len(doc['entities'])} assets downstream ({processes} processes)"
    assert "via analytics.customer_orders" in human.stdout


def test_upstream_of_a_view_of_a_view(catalog: Catalog, lineage: Run) -> None:
    doc = document(lineage(catalog.qn("analytics/country_revenue"), "--upstream", "--json"))
    assert doc["direction"] == "upstream"
    found = depths(doc)
    assert found[catalog.qn("analytics/customer_orders")] == 1
    assert found[catalog.qn("sales/orders")] == found[catalog.qn("sales/customers")] == 2
    assert catalog.qn("analytics/daily_revenue") not in found  # a sibling downstream of orders, not upstream
    human = lineage(catalog.qn("analytics/country_revenue"), "--upstream")
    assert human.exit_code == 0 and human.stdout.splitlines()[-1].endswith(
        f"{len(found)} assets upstream ({sum(e['typeName'] == 'Process' for e in doc['entities'])} processes)")


def test_depth_cuts_the_walk(catalog: Catalog, lineage: Run) -> None:
    one = depths(document(lineage(catalog.qn("sales/orders"), "--depth", "1", "--json")))
    assert catalog.qn("analytics/customer_orders") in one and catalog.qn("analytics/country_revenue") not in one
    assert set(one.values()) == {1}
    every = document(lineage(catalog.qn("sales/orders"), "--depth", "all", "--json"))
    assert every["depth"] == 1_000_000 and set(one) < set(depths(every))
    for bad in ("0", "1000001", "deep"):
        refused = lineage(catalog.qn("sales/orders"), "--depth", bad)
        assert refused.exit_code == 2 and "Traceback" not in refused.output, bad


def test_a_column_shows_the_view_columns_computed_from_it(catalog: Catalog, lineage: Run) -> None:
    doc = document(lineage(catalog.qn("sales/orders/amount"), "--json"))
    found = depths(doc)
    assert found[catalog.qn("analytics/customer_orders/revenue")] == 1
    assert found[catalog.qn("analytics/daily_revenue/revenue")] == 1
    assert found[catalog.qn("analytics/country_revenue/revenue")] == 2
    assert {e["typeName"] for e in doc["entities"]} == {"ColumnProcess", "Column"}
    assert catalog.qn("analytics/customer_orders/country") not in found  # computed from other columns


def test_an_unknown_name_exits_1_with_a_hint(catalog: Catalog, lineage: Run) -> None:
    done = lineage(catalog.qn("sales/ordres"))
    assert done.exit_code == 1 and done.stdout == ""
    assert (f"No active asset has the qualified name {catalog.qn('sales/ordres')}; `gazetteer search ordres` "
            "finds it") in done.stderr
    assert isinstance(done.exception, SystemExit)  # an exit, not an error


def test_a_walk_past_the_cap_says_it_was_cut(catalog: Catalog, lineage: Run, monkeypatch) -> None:
    monkeypatch.setattr(cli_lineage, "CAP", 3)
    doc = document(lineage(catalog.qn("sales/orders"), "--json"))
    assert len(doc["entities"]) == 3 and doc["hasMore"] is True
    human = lineage(catalog.qn("sales/orders"))
    assert "cut at 3: there are more" in human.stdout.splitlines()[-1]
