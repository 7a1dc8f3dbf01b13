"""The web UI in a real headless Chromium (Debian's `chromium`, driven by Playwright) against a live server.

A person's path through it: sign in with a token, create a Glue crawler through the form (previewing the
databases the keys see), watch its first run finish live, search with facets and the keyboard, open a
table, see its columns and nested types, edit its description and owners, and open the workflow's runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from gazetteer.auth.service import create_token, create_user
from gazetteer.client import GlueCrawler
from gazetteer.devtools.sample_catalog import seed_sample_catalog
from gazetteer.store import assets, open_engine

CHROMIUM = os.environ.get("GAZETTEER_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
REGION = "eu-west-1"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYUISECRET"
SCREENSHOTS = Path(os.environ.get("GAZETTEER_UI_SCREENSHOTS", "/tmp/gazetteer-ui"))

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    sync_playwright = None

pytestmark = [
    pytest.mark.skipif(sync_playwright is None, reason="Playwright for Python is not installed: "
                       "pip install -e '.[dev]'"),
    pytest.mark.skipif(not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)),
                       reason=f"no Chromium at {CHROMIUM}: apt-get install -y chromium (.ci/run installs it), "
                              "or point GAZETTEER_TEST_CHROMIUM at one"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies); any script error or CSP violation fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    tab.on("console", lambda message: problems.append(f"console: {message.text}")
           if message.type == "error" and "Failed to load resource" not in message.text else None)
    yield tab
    context.close()
    assert not problems, problems


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, server, token: str | None = None, path: str = "/") -> None:
    page.goto(server.url + path)
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    page.fill("#token", token or server.ADMIN_TOKEN)
    page.click("form[action='/sign-in'] button[type=submit]")
    expect(page).to_have_url(server.url + path)


def in_browser(test: Callable[..., None]) -> Callable[..., None]:
    """This module's skips (no Playwright, no Chromium), for a browser test in another module."""
    for mark in pytestmark:
        test = mark(test)
    return test


def fits_the_screen(page: Page) -> None:
    """Nothing wider than the screen (a box that scrolls sideways on its own, as the lineage graph, is fine)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def no_serious_violations(page: Page, context: str | None = None) -> None:
    """axe-core finds no serious or critical accessibility violation on the page (or within `context`)."""
    axe = pytest.importorskip("axe_playwright_python.sync_playwright",
                              reason="axe-core for Playwright is not installed: pip install -e '.[dev]'")
    results = axe.Axe().run(page, context=context)
    serious = [(v["id"], v["impact"], [node["target"] for node in v["nodes"]][:3])
               for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], serious


def wait_for_run(page: Page, phase: str = "Succeeded", timeout: float = 90_000) -> None:
    expect(page.locator(".run").first.locator(".status")).to_have_text(phase, timeout=timeout)


def test_wrong_token_shows_an_error_and_sets_no_cookie(page: Page, server) -> None:
    page.goto(server.url + "/workflows")
    expect(page).to_have_url(server.url + "/sign-in?next=%2Fworkflows")
    page.fill("#token", "gzt_not-a-real-token")
    page.click("form[action='/sign-in'] button[type=submit]")
    expect(page.locator("#sign-in-error")).to_contain_text("not valid")
    expect(page.locator("#token")).to_have_value("")
    assert "gzt_not-a-real-token" not in page.content()
    assert page.context.cookies() == []
    # The right token then goes on to the page first asked for.
    page.fill("#token", server.ADMIN_TOKEN)
    page.click("form[action='/sign-in'] button[type=submit]")
    expect(page).to_have_url(server.url + "/workflows")
    cookie = next(c for c in page.context.cookies() if c["name"] == "gazetteer_token")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert server.ADMIN_TOKEN not in page.content()
    expect(page.locator("main")).to_contain_text("No connections yet")
    # Signing out forgets the token; pages ask for it again.
    page.click("text=Sign out")
    expect(page.locator(".flash.ok")).to_have_text("You are signed out.")
    page.goto(server.url + "/")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=%2F$"))


def test_create_a_crawler_watch_it_search_open_a_table_and_edit_it(page: Page, any_server, glue) -> None:
    server = any_server  # a SQLite catalog, and PostgreSQL when GAZETTEER_TEST_POSTGRES_URL is set
    seed_sample_catalog(glue.client(REGION), s3=glue.s3_client(REGION))
    sign_in(page, server)
    expect(page.locator("main")).to_contain_text("No connections yet")
    shot(page, "01-empty")

    # The form, with the databases the keys can see.
    page.click("text=Create a Glue crawler")
    expect(page).to_have_url(server.url + "/workflows/new")
    page.fill("#connection_name", "production")
    page.fill("#access_key", "AKIAGAZETTEERUITEST")
    page.fill("#secret_key", SECRET)
    page.select_option("#region", REGION)
    page.click("#preview")
    expect(page.locator("#databases table")).to_contain_text("staging_empty")
    expect(page.locator("#databases")).to_contain_text("Orders, customers and clickstream")
    page.check("input[name=include][value=sales]")
    page.check("input[name=include][value=analytics]")
    shot(page, "02-new-crawler")
    page.click("text=Create crawler and run it")
    expect(page).to_have_url(re.compile(r"/workflows/atlan-glue-\d{10}\?created=1$"))
    workflow_name = page.url.rsplit("/", 1)[1].split("?")[0]
    expect(page.locator(".flash.ok")).to_contain_text("first run has started")

    # The run is followed live until it ends, then shows its report.
    wait_for_run(page)
    run = page.locator(".run").first
    found = run.locator(".figures", has_text="Found")
    expect(found).to_contain_text("Tables")
    assert int(found.locator("dt:text-is('Tables') + dd").inner_text()) == 10  # sales 5 + analytics 5
    lineage = run.locator(".figures", has_text="Lineage")
    assert int(lineage.locator("dt:text-is('From views') + dd").inner_text()) == 5
    shot(page, "03-run-finished")
    assert SECRET not in page.content()

    # What the form submitted is the workflow GlueCrawler builds (the API shows it back, secret removed).
    with server.client() as http:
        stored = http.get(f"/api/service/workflows/{workflow_name}").json()
        roles = {r["name"]: r["id"] for r in http.get("/api/service/roles").json()["records"]}
    expected = (GlueCrawler(connection_name="production", admin_roles=[roles["$admin"]],
                            epoch=int(workflow_name.rsplit("-", 1)[1]), guid_factory=lambda: "-1")
                .iam_user_auth(access_key="AKIAGAZETTEERUITEST", secret_key=SECRET).direct(region=REGION)
                .include(["sales", "analytics"]).exclude([]).to_workflow())
    parameters, wanted = ({p["name"]: p["value"] for p in doc["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]
                           ["parameters"]} for doc in (stored, expected))
    assert json.loads(parameters["include-filter"]) == json.loads(wanted["include-filter"])
    assert parameters["exclude-filter"] == wanted["exclude-filter"] == "{}"
    connection = json.loads(parameters["connection"])["attributes"]
    assert {k: v for k, v in connection.items() if k not in ("defaultCredentialGuid",)} == \
        {k: v for k, v in json.loads(wanted["connection"])["attributes"].items() if k != "defaultCredentialGuid"}
    assert stored["metadata"]["annotations"] == expected["metadata"]["annotations"]
    assert SECRET not in json.dumps(stored)

    # Search: "/" focuses the box, results come while typing, facets narrow them.
    page.click("nav >> text=Search")
    page.wait_for_url(server.url + "/")  # the key must reach the search page, not the one being left
    page.wait_for_load_state("load")
    page.keyboard.press("/")
    page.keyboard.type("orders")
    results = page.locator("#result-list")
    expect(results).to_contain_text("orders")
    expect(page).to_have_url(re.compile(r"\?q=orders"))
    type_facet = page.locator("fieldset.facet", has_text="Type")
    expect(type_facet).to_contain_text("Table")
    page.locator("input.facet-box[name=type][value=Table]").check()
    expect(page).to_have_url(re.compile(r"type=Table"))
    expect(page.locator("#result-list .badge.type-column")).to_have_count(0)
    expect(page.locator("fieldset.facet", has_text="Format")).to_contain_text("parquet")
    # The sample's partitioned orders landed minutes ago (its partitions were just created).
    expect(page.locator("fieldset.facet", has_text="Last landed")).to_contain_text("In the last day")
    first = page.locator("#result-list [data-result]").first
    expect(first).to_contain_text("production › AwsDataCatalog › sales")
    shot(page, "04-search")

    # Keyboard: arrow down from the box to the first result, Enter opens it.
    page.focus("#q")
    page.keyboard.press("ArrowDown")
    expect(first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/assets/[0-9a-f-]{36}$"))

    # The table: breadcrumbs, details, columns with partition keys.
    expect(page.locator("h1")).to_have_text("orders")
    crumbs = page.locator("nav.crumbs")
    for part in ("production", "AwsDataCatalog", "sales", "orders"):
        expect(crumbs).to_contain_text(part)
    facts = page.locator(".facts")
    expect(facts).to_contain_text("s3://gazetteer-demo-lake/sales/orders")
    expect(facts).to_contain_text("parquet")
    expect(facts).to_contain_text("1,284,331")
    expect(facts).to_contain_text("117.6 MiB")
    columns = page.locator("table.columns")
    for name in ("order_id", "customer_id", "amount", "dt", "region"):
        expect(columns).to_contain_text(name)
    expect(columns.locator("tr", has_text="amount")).to_contain_text("decimal(12,2)")
    expect(columns.locator("tr", has_text="Order date")).to_contain_text("partition key 1")
    expect(columns.locator("tr", has_text="order_id")).to_contain_text("Distinct values 1,284,331")
    shot(page, "05-table")

    # Edit the description inline; it stays after a reload and through the API.
    table_url = page.url
    page.click("#description [data-edit]")
    page.fill("#userDescription", "Orders <b>as placed</b> in the web shop.\nOne row per order.")
    page.click("#description button[type=submit]")
    expect(page.locator("#description .saved")).to_have_text("Saved")
    expect(page.locator("#description .prose")).to_contain_text("Orders <b>as placed</b> in the web shop.")
    expect(page.locator("#description")).to_contain_text("In Glue: One row per customer order")
    # Owners are the catalog's users and groups (tests/web/test_ui_pages.py: suggestions, refusals, adopting).
    engine = open_engine(server.database_url)
    for name in ("alice", "bob"):
        create_user(engine, name, "$member")
    engine.dispose()
    page.click("#owners [data-edit]")
    page.fill("#owner-add", "alice, bob, alice")
    page.keyboard.press("Enter")
    expect(page.locator("#owners .chip")).to_have_text(["alice", "bob"])
    page.reload()
    expect(page.locator("#description .prose")).to_contain_text("as placed")
    guid = table_url.rsplit("/", 1)[1]
    with server.client() as http:
        attributes = http.get(f"/api/meta/entity/guid/{guid}").json()["entity"]["attributes"]
    assert attributes["userDescription"].startswith("Orders <b>as placed</b>")
    assert attributes["ownerUsers"] == ["alice", "bob"]
    # Escape cancels an edit without saving.
    page.click("#description [data-edit]")
    page.fill("#userDescription", "never saved")
    page.keyboard.press("Escape")
    expect(page.locator("#description textarea")).to_have_count(0)
    expect(page.locator("#description")).not_to_contain_text("never saved")

    # A nested type expands into its fields.
    page.goto(server.url + "/?q=events&type=Table")
    page.locator("#result-list [data-result]", has_text="events").first.click()
    context_row = page.locator("table.columns tr", has_text="context")
    summary = context_row.locator("details.nested > summary")
    expect(summary).to_contain_text("struct")
    expect(summary).to_contain_text("3 fields")
    expect(context_row.locator(".type-tree")).not_to_be_visible()
    summary.click()
    expect(context_row.locator(".type-tree")).to_contain_text("device")
    expect(context_row.locator(".type-tree")).to_contain_text("props")
    shot(page, "06-nested")
    # Each field is a nested column of its own, with its own page and its fields linked in turn.
    context_row.locator(".type-tree a", has_text="device").click()
    expect(page.locator("h1")).to_have_text("device")
    expect(page.locator("nav.crumbs")).to_contain_text("events")
    expect(page.locator("nav.crumbs a", has_text="context")).to_have_count(1)
    expect(page.locator("#type .type-tree a")).to_have_text(["os", "version"])

    # A view's SQL is highlighted and escaped.
    page.goto(server.url + "/?q=daily_revenue&type=View")
    page.locator("#result-list [data-result]", has_text="daily_revenue").first.click()
    sql = page.locator("pre.sql")
    expect(sql).to_contain_text("status <> 'CANCELLED'")
    expect(sql.locator(".sql-kw").first).to_have_text("SELECT")
    expect(sql.locator(".sql-str")).to_have_text(["'CANCELLED'"])

    # The connection's workflows, and a re-run from the workflow page.
    page.click("nav >> text=Connections & crawls")
    connection_card = page.locator("section.connection", has_text="production")
    expect(connection_card).to_contain_text("Succeeded")
    connection_card.locator(f"a[href='/workflows/{workflow_name}']").click()
    expect(page.locator("#runs h2")).to_contain_text("1")
    page.click("text=Run again")
    expect(page.locator("#runs .run")).to_have_count(2)
    wait_for_run(page)
    expect(page.locator(".run").first.locator(".figures", has_text="Changes")).to_contain_text("Unchanged")
    shot(page, "07-workflow")

    # Creating the same connection again is caught, with a re-run offered instead; the secret is not kept.
    page.goto(server.url + "/workflows/new")
    page.fill("#connection_name", "production")
    page.fill("#access_key", "AKIAGAZETTEERUITEST")
    page.fill("#secret_key", SECRET)
    page.select_option("#region", REGION)
    page.click("text=Create crawler and run it")
    expect(page.locator("#existing")).to_contain_text("already exists")
    expect(page.locator("#secret_key")).to_have_value("")
    assert SECRET not in page.content()
    expect(page.locator("#create_anyway")).not_to_be_checked()
    shot(page, "08-existing")
    page.locator("#existing").get_by_role("button", name="Run it again").click()
    expect(page).to_have_url(re.compile(rf"/workflows/{workflow_name}#run-"))
    expect(page.locator("#runs .run")).to_have_count(3)
    wait_for_run(page)


def test_preview_says_why_glue_refused_the_keys(page: Page, server, glue) -> None:
    glue.client(REGION).create_database(DatabaseInput={"Name": "sales"})
    glue.set_faults([{"operation": "GetDatabases", "code": "AccessDeniedException", "times": 10}])
    sign_in(page, server, path="/workflows/new")
    page.fill("#access_key", "AKIAGAZETTEERUITEST")
    page.fill("#secret_key", SECRET)
    page.select_option("#region", REGION)
    page.click("#preview")
    error = page.locator("#preview-error")
    expect(error).to_contain_text("AccessDeniedException")
    expect(error).to_contain_text("glue:GetDatabases")
    # A problem with the form is named, and nothing typed is lost but the secret, which is never sent back.
    page.fill("#connection_name", "lake")
    page.uncheck("input[name=admin_roles]:checked")
    page.click("text=Create crawler and run it")
    expect(page.locator("#form-error")).to_contain_text("at least one admin")
    expect(page.locator("#connection_name")).to_have_value("lake")
    expect(page.locator("#access_key")).to_have_value("AKIAGAZETTEERUITEST")
    expect(page.locator("#secret_key")).to_have_value("")
    assert SECRET not in page.content()


def test_a_guest_reads_but_cannot_change(page: Page, server, glue) -> None:
    seed_sample_catalog(glue.client(REGION), s3=glue.s3_client(REGION))
    engine = open_engine(f"sqlite:///{server.home / 'catalog.db'}")
    guest = create_token(engine, "viewer", "$guest")
    engine.dispose()
    with server.client() as http:
        body = (GlueCrawler(connection_name="lake", admin_roles=["$admin"]).iam_user_auth("AKIAX", "secret")
                .direct(region=REGION).include(["sales"]).to_workflow())
        name = http.post("/api/service/workflows?submit=true", json=body).json()["metadata"]["name"]
    sign_in(page, server, token=guest, path=f"/workflows/{name}")
    wait_for_run(page)
    expect(page.locator("text=Run again")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("Only admins of this connection")
    expect(page.locator("nav.nav")).not_to_contain_text("New crawler")
    page.goto(server.url + "/?q=orders&type=Table")
    page.locator("#result-list [data-result]").first.click()
    expect(page.locator("table.columns")).to_contain_text("order_id")
    expect(page.locator("#description [data-edit]")).to_have_count(0)
    expect(page.locator("#owners [data-edit]")).to_have_count(0)
    page.goto(server.url + "/workflows/new")
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator(".flash.error")).to_contain_text("read-only")


def test_a_running_crawl_shows_live_progress_and_can_be_stopped(page: Page, server, glue) -> None:
    seed_sample_catalog(glue.client(REGION), s3=glue.s3_client(REGION))
    glue.set_faults([{"operation": "GetTables", "delay_seconds": 1.5}])  # slow, not failing
    with server.client() as http:
        body = (GlueCrawler(connection_name="slow", admin_roles=["$admin"]).iam_user_auth("AKIAX", "secret")
                .direct(region=REGION).to_workflow())
        name = http.post("/api/service/workflows?submit=true", json=body).json()["metadata"]["name"]
    sign_in(page, server, path=f"/workflows/{name}")
    run = page.locator(".run").first
    expect(run.locator(".status")).to_have_text("Running")
    expect(run.locator("progress")).to_be_visible()
    expect(run.locator(".progress")).to_contain_text("databases")
    shot(page, "09-running")
    page.once("dialog", lambda dialog: dialog.accept())
    run.locator("button", has_text="Stop").click()
    wait_for_run(page, "Failed", timeout=60_000)
    expect(page.locator(".run").first).to_contain_text("Stopped on request")
    expect(page.locator(".run").first.locator("button", has_text="Stop")).to_have_count(0)


def test_a_crawler_can_assume_a_role_read_another_catalog_and_leave_tables_out(page: Page, server, glue) -> None:
    seed_sample_catalog(glue.client(REGION), s3=glue.s3_client(REGION))
    sign_in(page, server, path="/workflows/new")
    page.fill("#connection_name", "role-lake")
    page.fill("#access_key", "AKIAGAZETTEERUITEST")
    page.fill("#secret_key", SECRET)
    page.select_option("#region", REGION)
    page.fill("#role_arn", "not-an-arn")
    page.click("text=Create crawler and run it")
    expect(page.locator("#form-error")).to_contain_text("is not an IAM role ARN")
    expect(page.locator("#role_arn")).to_have_attribute("aria-invalid", "true")
    page.fill("#secret_key", SECRET)
    page.fill("#role_arn", "arn:aws:iam::123456789012:role/glue-reader")
    page.fill("#external_id", "ext-ui")
    page.fill("#catalog_id", "123456789012")
    page.fill("#exclude_table_regex", "^order")
    glue.clear_requests()
    page.click("text=Create crawler and run it")
    wait_for_run(page)
    assert [call["body"]["ExternalId"] for call in glue.requests("AssumeRole")][:1] == ["ext-ui"]
    assert {call["body"].get("CatalogId") for call in glue.requests("GetTables")} == {"123456789012"}
    assert SECRET not in page.content()
    engine = open_engine(f"sqlite:///{server.home / 'catalog.db'}")
    with engine.connect() as conn:
        tables = {row.name for row in conn.execute(sa.select(assets.c.name).where(
            assets.c.type_name == "Table", assets.c.connection_qualified_name.like("default/glue/%")))}
    engine.dispose()
    assert "partner_orders" in tables and not any(name.startswith("order") for name in tables)
