"""`gazetteer search` as a real process: through a live server (GAZETTEER_URL) and on the local catalog, the
same assets printed the same way, curated descriptions first; bad types and unreachable or refusing servers end
it with one line and exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gazetteer.assets.text_search import FacetedQuery, faceted_search
from gazetteer.store import open_engine
from tests.conftest import flat

CURATED = "Every web-shop order, one line each [curated]"


def gazetteer(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gazetteer.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def through_server(server, token: str | None = None) -> dict[str, str]:
    """The server's own environment (its catalog home) plus GAZETTEER_URL: the search must go to the server."""
    return {**server.env, "GAZETTEER_URL": server.url, "GAZETTEER_TOKEN": token or server.ADMIN_TOKEN}


def local(server) -> dict[str, str]:
    """The same catalog, read from its database directly (GAZETTEER_DATABASE_URL): an empty GAZETTEER_URL names
    no server."""
    return {**server.env, "GAZETTEER_URL": "", "GAZETTEER_TOKEN": ""}


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def test_through_the_server_as_the_ui_finds_with_curated_descriptions(crawled, server):
    from pyatlan.model.assets import Table

    client, _, catalog = crawled  # crawled into `server`
    orders = next(qn for qn in catalog["Table"] if qn.endswith("/sales/orders"))
    update = Table.updater(qualified_name=orders, name="orders")
    update.user_description = CURATED
    client.asset.save(update)

    remote = gazetteer("search", "order", "--json", env=through_server(server))
    assert remote.returncode == 0, remote.stderr
    found = json.loads(remote.stdout)
    by_name = {e["attributes"]["qualifiedName"]: e for e in found}
    assert by_name[orders]["attributes"]["userDescription"] == CURATED
    assert by_name[orders]["attributes"]["description"] == "One row per customer order"  # the crawled one, kept

    # The same assets in the same order as the web UI's search (its own function, on the server's catalog).
    engine = open_engine(server.env["GAZETTEER_DATABASE_URL"])
    try:
        page = faceted_search(engine, FacetedQuery(text="order", size=50))
    finally:
        engine.dispose()
    assert [e["attributes"]["qualifiedName"] for e in found] == [a.qualified_name for a in page.assets]

    # Found by a word of the curated description only, and the table shows it rather than the crawled one.
    # Wide enough not to wrap; the brackets are text, not rich markup.
    table = gazetteer("search", "web-shop", "--type", "table", env={**through_server(server), "COLUMNS": "250"})
    assert table.returncode == 0, table.stderr
    assert CURATED in table.stdout and "One row per customer order" not in table.stdout

    # The local catalog answers exactly the same, both ways of printing.
    for args in (("order", "--json"), ("web-shop", "--type", "table"), ("order", "--type", "Column", "--limit", "3")):
        remote_out = gazetteer("search", *args, env=through_server(server))
        local_out = gazetteer("search", *args, env=local(server))
        assert remote_out.returncode == local_out.returncode == 0, remote_out.stderr + local_out.stderr
        assert remote_out.stdout == local_out.stdout


@pytest.mark.parametrize("url", ["http://127.0.0.1:9", ""])
def test_an_unknown_type_is_refused_naming_the_types(url, cli_env, tmp_path):
    """Refused before any server is asked (this one is not there) or any catalog opened."""
    done = gazetteer("search", "orders", "--type", "Tabel", env={**cli_env, "GAZETTEER_URL": url})
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stdout == ""
    message = flat(done.stderr)
    assert ("'Tabel' is not a type of asset; choose one of AtlasGlossary, AtlasGlossaryCategory, AtlasGlossaryTerm, "
            "Connection, Database, Schema, Table, View") in message
    assert not (tmp_path / "home" / "catalog.db").exists()


def test_an_unreachable_server_a_refused_token_or_a_refused_search_is_one_line(server):
    unreachable = gazetteer("search", "orders", env={**through_server(server), "GAZETTEER_URL": "http://127.0.0.1:9"})
    assert unreachable.returncode == 2 and unreachable.stdout == ""
    assert one_line(unreachable.stderr).startswith("Error: Cannot reach the Gazetteer server at http://127.0.0.1:9")

    refused = gazetteer("search", "orders", "--json", env=through_server(server, token="not-a-token"))
    assert refused.returncode == 2 and refused.stdout == ""
    line = one_line(refused.stderr)
    assert "HTTP 401" in line and "GAZETTEER_TOKEN" in line and "not-a-token" not in refused.stderr


    # What the server refuses, the local catalog refuses alike.
    for env in (through_server(server), local(server)):
        too_long = gazetteer("search", "x" * 5000, env=env)
        assert too_long.returncode == 2 and too_long.stdout == ""
        assert "is 5,000 characters long; at most 1,000 are accepted" in one_line(too_long.stderr)
