"""The History tab, the Changes page, the changed assets of a run report and the Plan button, in Chromium and
over HTTP.

One story serves every test (they only read it, but for the plan, which writes nothing): a crawler of the
sample catalog runs; someone edits `sales.orders`' description in the UI; `sales.orders` changes in Glue (its
`status` column dropped, `order_id` narrowed from bigint to int, a `channel` column added) and the crawler runs
again. Then `sales.customers` changes in Glue without a crawl (`email` dropped, `segment` added): what the Plan
button must show, and not write.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from gazetteer.client import GazetteerClient, GlueCrawler, documents
from gazetteer.devtools.local_glue import LocalGlue
from gazetteer.devtools.sample_catalog import change_columns, seed_sample_catalog
from gazetteer.store import assets, open_engine
from gazetteer.store.schema import asset_events
from gazetteer.web.ui.routing import TOKEN_COOKIE
from tests.assets.test_changes import drop_narrow_add
from tests.conftest import Server
from tests.web import test_ui_browser
from tests.web.test_ui_browser import fits_the_screen, in_browser, no_serious_violations, shot, sign_in

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - the dev extra installs it; without it, test_ui_browser's marks skip
    pass

REGION = "us-east-1"
# test_ui_browser's fixtures (one Chromium for the module, a fresh context per test), shared rather than copied.
browser = test_ui_browser.browser
page = test_ui_browser.page
SIZES = ((1440, 900), (390, 844))


@dataclass(frozen=True)
class Story:
    server: Server
    workflow: str
    first: str  # the two runs
    second: str
    connection: str
    guids: dict[str, str]  # by qualified name without the connection and catalog: sales/orders

    def url(self, path: str, tab: str = "") -> str:
        return f"/assets/{self.guids[path]}{tab}"

    def events(self) -> int:
        engine = open_engine(f"sqlite:///{self.server.home / 'catalog.db'}")
        with engine.connect() as conn:
            count = conn.execute(sa.select(sa.func.count()).select_from(asset_events)).scalar_one()
        engine.dispose()
        return int(count)


def _guids(server: Server) -> tuple[str, dict[str, str]]:
    engine = open_engine(f"sqlite:///{server.home / 'catalog.db'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.select(assets.c.type_name, assets.c.qualified_name, assets.c.guid)).all()
    engine.dispose()
    connection = next(qualified_name for type_name, qualified_name, _ in rows if type_name == "Connection")
    return connection, {qualified_name.removeprefix(connection + "/").removeprefix("AwsDataCatalog/"): guid
                        for _, qualified_name, guid in rows}


def _finish(client: GazetteerClient, answer: dict[str, Any]) -> None:
    assert client.workflow.monitor(answer, poll_seconds=0.3, timeout=180) == "Succeeded"


@pytest.fixture(scope="module")
def story(glue_server: LocalGlue, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    glue_server.reset()
    glue = glue_server.client(REGION)
    seed_sample_catalog(glue, s3=glue_server.s3_client(REGION))
    server = Server(tmp_path_factory.mktemp("history-ui"), glue_server.url)
    try:
        with GazetteerClient(server.url, Server.ADMIN_TOKEN) as client:
            body = (GlueCrawler(connection_name="lake", admin_roles=["$admin"]).iam_user_auth("AKIATEST", "s3cr3t")
                    .direct(region=REGION).include(["sales", "analytics"]).to_workflow())
            created = client.workflow.run(body)
            _finish(client, created)
            workflow = documents.name_of(created)
            first = documents.name_of(client.workflow.find_latest_run(workflow))
            connection, guids = _guids(server)
            with httpx.Client(base_url=server.url, cookies={TOKEN_COOKIE: Server.ADMIN_TOKEN}) as http:
                saved = http.post(f"/assets/{guids['sales/orders']}/description",
                                  data={"userDescription": "Every order, one a row"})
                assert saved.status_code == 303, saved.text[:500]
            drop_narrow_add(glue)
            rerun = client.workflow.rerun(workflow)
            _finish(client, rerun)
            second = documents.name_of(rerun)
        # For the plan: a change never crawled.
        change_columns(glue, "sales", "customers", drop="email", add=("segment", "string"))
        yield Story(server, workflow, first, second, connection, _guids(server)[1])
    finally:
        server.stop()


@pytest.fixture()
def http(story: Story) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=story.server.url, cookies={TOKEN_COOKIE: Server.ADMIN_TOKEN}, timeout=60) as client:
        yield client


def _page(http: httpx.Client, url: str, status: int = 200) -> str:
    answer = http.get(url)
    assert answer.status_code == status, answer.text[:2000]
    return html.unescape(answer.text)


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))


# ---- over HTTP -------------------------------------------------------------------------------------------

def test_the_history_tab_over_http(story: Story, http: httpx.Client) -> None:
    text = _page(http, story.url("sales/orders", "/history"))
    assert f'<a href="{story.url("sales/orders", "/history")}" aria-current="page">History</a>' in text
    entries = text.split('<li class="entry')[1:]
    assert len(entries) == 3
    assert entries[0].startswith(" breaking") and f"/workflows/{story.workflow}#run-{story.second}" in entries[0]
    assert "userDescription" in entries[1] and "through the web UI" in _text(entries[1])
    assert "Created with 8 columns" in _text(entries[2])
    # Every asset has the tab, a schema too (which has no Lineage tab).
    schema = _page(http, story.url("sales", "/history"))
    assert ">History</a>" in schema and ">Lineage</a>" not in schema and 'id="schema"' not in schema


def test_unknown_assets_and_bad_points_are_pages_not_crashes(story: Story, http: httpx.Client) -> None:
    missing = _page(http, "/assets/00000000-0000-0000-0000-000000000000/history", status=404)
    assert "<h1>Not found</h1>" in missing
    bad = _page(http, story.url("sales/orders", "/history?at=yesterday"), status=400)
    assert "is not a point of this history (Schema at)" in bad and 'id="timeline"' in bad
    assert "is not a kind of asset" in _page(http, "/changes?kind=Nothing", status=400)
    assert "is not a place in the list of changes" in _page(http, "/changes?before=-3", status=400)
    found = http.get("/assets/by-name", params={"qn": f"{story.connection}/AwsDataCatalog/sales/orders"})
    assert (found.status_code, found.headers["location"]) == (303, story.url("sales/orders"))
    assert "holds no asset named" in _page(http, "/assets/by-name?qn=nothing/here", status=404)


def test_a_plan_without_htmx_is_a_page_of_its_own(story: Story, http: httpx.Client) -> None:
    before = story.events()
    answer = http.post(f"/workflows/{story.workflow}/plan")
    assert answer.status_code == 200, answer.text[:2000]
    text = html.unescape(answer.text)
    assert "<title>Plan of" in text and "What a run would change" in text and "sales.customers" in text
    assert story.events() == before
    missing = http.post("/workflows/nope/plan")
    assert missing.status_code == 404 and "<h1>Not found</h1>" in missing.text


def _run_report(history: dict[str, Any]) -> str:
    """`_run.html` of a finished run whose report holds `history`, as the workflow page renders it."""
    from datetime import UTC, datetime

    import gazetteer.web.ui  # noqa: F401 - registers the pages' template filters
    from gazetteer.web.ui.routing import env
    from gazetteer.workflows.views import RunView

    now = datetime.now(UTC)
    run = RunView(name="atlan-glue-1-abcde", namespace="default", uid="u", workflow="atlan-glue-1", phase="Failed",
                  message="Refused by the circuit breaker", progress="1/1", created=now, started=now, finished=now,
                  creator="admin", stop_requested=False,
                  report={"counts": {}, "changes": {"archived": 0}, "history": history, "duration_seconds": 1})
    return html.unescape(env.get_template("_run.html").render(run=run, open=True, may_run=False))


def test_a_refused_runs_report_says_what_it_would_have_changed() -> None:
    dropped = {"change": "table_dropped", "breaking": True,
               "why": "the table was dropped and 1 downstream asset depends on it"}
    glue = "default/glue/1/AwsDataCatalog"
    history = {"refused": True, "counts": {"created": 0, "updated": 0, "archived": 40, "restored": 0},
               "breaking": 1, "more": 38, "assets": [
                   {"guid": "g-orders", "typeName": "Table", "qualifiedName": f"{glue}/sales/orders",
                    "name": "orders", "action": "archived", "breaking": True, "diff": [dropped],
                    "affected": [f"{glue}/analytics/daily_sales"]},
                   {"guid": "g-new", "typeName": "Table", "qualifiedName": f"{glue}/sales/new",
                    "name": "new", "action": "created", "breaking": False}]}
    text = _run_report(history)
    section = text.split('<section class="run-changes"', 1)[1].split("</section>", 1)[0]
    assert "What this run would have changed" in section and "none of this was written" in section
    assert "It would have created 0, changed 0, archived 40, restored 0" in _text(section)
    items = section.split('<li class="change')[1:]
    assert items[0].startswith(" breaking") and "Dropped" in items[0] and "sales.orders" in items[0]
    assert '/assets/by-name?qn=default/glue/1/AwsDataCatalog/analytics/daily_sales' in items[0]
    assert 'href="/assets/g-orders/history"' in items[0]
    assert "/assets/g-new" not in items[1]  # rolled back: nothing to link to
    assert "38 more changes are not listed." in section and "/changes?run=" not in section
    # A run that changed nothing says so; one without history (older runs) shows no list at all.
    assert "No asset changed." in _run_report({"counts": {}, "breaking": 0, "assets": [], "more": 0})
    assert 'class="run-changes"' not in _run_report({})


# ---- in Chromium -----------------------------------------------------------------------------------------

@in_browser
@pytest.mark.parametrize("size", SIZES)
def test_the_history_tab_is_a_timeline_of_crawls_and_edits(page: Page, story: Story, size: tuple[int, int]) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    sign_in(page, story.server, path=story.url("sales/orders"))
    page.locator("nav.tabs a", has_text="History").click()
    expect(page).to_have_url(story.server.url + story.url("sales/orders", "/history"))
    entries = page.locator("#timeline .entry")
    expect(entries).to_have_count(3)
    recrawl, edit, created = entries.nth(0), entries.nth(1), entries.nth(2)
    # The re-crawl: breaking (said in words, not only in red), its diff breaking first, what it affects.
    expect(recrawl.locator(".entry-head .badge.breaking")).to_have_text("⚠ Breaking")
    diff = recrawl.locator("ul.diff > li")
    expect(diff).to_have_count(3)
    expect(diff.nth(0)).to_contain_text("Type changed order_id bigint → int")
    expect(diff.nth(0)).to_contain_text("Breaking")
    expect(diff.nth(1)).to_contain_text("Column dropped status")
    expect(diff.nth(2)).to_contain_text("Column added channel")
    expect(diff.nth(2).locator(".badge")).to_have_text("Safe")
    expect(recrawl.locator(".affected")).to_contain_text("analytics.customer_orders")
    expect(recrawl.locator(f"a[href='/workflows/{story.workflow}#run-{story.second}']")).to_be_visible()
    # The edit: who, through what, from what to what.
    expect(edit).to_contain_text("admin through the web UI")
    expect(edit.locator(".attr-changes")).to_contain_text("userDescription")
    expect(edit.locator(".attr-changes")).to_contain_text("Every order, one a row")
    expect(created).to_contain_text("Created with 8 columns")
    fits_the_screen(page)
    shot(page, f"history-{size[0]}")
    # A downstream asset the change affects is a link to it.
    recrawl.locator(".affected a", has_text="analytics.customer_orders").click()
    expect(page).to_have_url(story.server.url + story.url("analytics/customer_orders"))


@in_browser
def test_schema_at_a_past_crawl_and_compare_two_points(page: Page, story: Story) -> None:
    sign_in(page, story.server, path=story.url("sales/orders", "/history"))
    schema = page.locator("#schema table")
    expect(schema).to_contain_text("channel")
    expect(schema).not_to_contain_text("status")
    created = page.locator("#at option", has_text="created").get_attribute("value")
    page.select_option("#at", created)
    page.locator("#schema button", has_text="Show").click()
    expect(page).to_have_url(re.compile(rf"\?at={created}#schema$"))
    expect(page.locator("#schema .note")).to_contain_text("right after")
    expect(schema.locator("tbody tr")).to_have_count(8)
    expect(schema.locator("tr", has_text="status")).to_contain_text("string")
    expect(schema.locator("tr", has_text="order_id")).to_contain_text("bigint")
    expect(schema).not_to_contain_text("channel")
    # Compare the first crawl with now.
    page.select_option("#from", created)
    page.select_option("#to", "")
    page.locator("#compare button", has_text="Compare").click()
    result = page.locator("#compare .compare-result")
    expect(result).to_contain_text("3 changes, ⚠ 2 breaking")
    changes = result.locator("ul.diff > li")
    expect(changes).to_have_count(3)
    expect(changes.nth(0)).to_contain_text("Breaking Type changed order_id")
    expect(changes.nth(1)).to_contain_text("Breaking Column dropped status")
    expect(changes.nth(2)).to_contain_text("Safe Column added channel")
    expect(schema.locator("tbody tr")).to_have_count(8)  # the point shown is kept
    fits_the_screen(page)
    shot(page, "history-compare")
    # The same points the other way round: what came back and what went.
    page.select_option("#from", "")
    page.select_option("#to", created)
    page.locator("#compare button", has_text="Compare").click()
    expect(result).to_contain_text("Column added status")
    expect(result).to_contain_text("Column dropped channel")


@in_browser
def test_the_changes_page_filters_and_pages(page: Page, story: Story) -> None:
    sign_in(page, story.server, path="/")
    page.locator("nav.nav a", has_text="Changes").click()
    expect(page).to_have_url(story.server.url + "/changes")
    rows = page.locator("#changes .change-rows > li")
    expect(rows.first).to_be_visible()
    expect(page.locator("#changes")).not_to_contain_text("Column sales.orders.status")  # columns hidden
    # Breaking only: the changed table and the view that read its dropped column; nothing unchanged.
    page.check("input[name=breaking]")
    page.locator("form.filters button", has_text="Show").click()
    expect(page).to_have_url(re.compile(r"/changes\?.*breaking=1"))
    expect(rows).to_have_count(2)
    names = [name.strip() for name in rows.locator(".asset .break").all_inner_texts()]
    assert sorted(names) == ["analytics.order_lines", "sales.orders"]
    for index in range(2):
        expect(rows.nth(index).locator(".change-head .badge.breaking")).to_have_text("⚠ Breaking")
    expect(page.locator("#changes")).not_to_contain_text("sales.customers")
    expect(rows.filter(has_text="Table sales.orders")).to_contain_text("Column dropped status")
    fits_the_screen(page)
    shot(page, "changes-breaking")
    # Kind and run: the re-crawl's columns.
    page.uncheck("input[name=breaking]")
    page.select_option("#f-kind", "Column")
    page.fill("#f-run", story.second)
    page.locator("form.filters button", has_text="Show").click()
    expect(rows).to_have_count(3)
    expect(page.locator("#changes")).to_contain_text("sales.orders.channel")
    expect(page.locator("main")).to_contain_text(f"Changes of the crawl {story.second}")
    # A connection with no changes, then back to everything, and the older ones.
    page.goto(story.server.url + "/changes?connection=default/glue/0")
    expect(page.locator("#changes")).to_contain_text("No changes match these filters")
    page.goto(story.server.url + "/changes")
    first_page = rows.first.get_attribute("id")
    page.locator("a", has_text="Older changes").click()
    expect(page).to_have_url(re.compile(r"/changes\?before=\d+$"))
    expect(rows.first).not_to_have_attribute("id", first_page or "")
    expect(page.locator("a", has_text="Newest changes")).to_be_visible()


@in_browser
def test_the_run_report_lists_the_changed_table_breaking_first(page: Page, story: Story) -> None:
    sign_in(page, story.server, path=f"/workflows/{story.workflow}")
    latest = page.locator(f"#run-{story.second}")
    report = latest.locator(".run-changes")
    expect(report.locator("h3")).to_contain_text("What this run changed")
    expect(report.locator("h3 .badge.breaking")).to_contain_text("breaking")
    first = report.locator(".change-list > li").first
    expect(first).to_have_class(re.compile(r"\bbreaking\b"))
    expect(first.locator(".change-head")).to_contain_text("sales.orders")
    expect(first.locator("ul.diff > li").first).to_contain_text("Breaking Type changed order_id bigint → int")
    expect(first).to_contain_text("Column dropped status")
    expect(report.locator(f"a[href='/changes?run={story.second}']")).to_be_visible()
    fits_the_screen(page)
    shot(page, "run-report-changes")
    first.locator(".change-head a").click()
    expect(page).to_have_url(story.server.url + story.url("sales/orders", "/history"))


@in_browser
def test_the_plan_button_shows_what_a_run_would_change_and_writes_nothing(page: Page, story: Story,
                                                                          glue_server: LocalGlue) -> None:
    before = story.events()
    sign_in(page, story.server, path=f"/workflows/{story.workflow}")
    runs = page.locator(".run").count()
    glue_server.set_faults([{"operation": "GetTables", "delay_seconds": 0.7}])  # slow enough to see it working
    try:
        button = page.locator("#plan-button")
        button.click()
        expect(button).to_be_disabled()
        expect(page.locator("#planning")).to_be_visible()
        expect(page.locator("#planning")).to_contain_text("Planning…")
        plan = page.locator("#plan-result #plan")
        expect(plan).to_be_visible(timeout=90_000)
    finally:
        glue_server.clear_faults()
    expect(button).to_be_enabled()
    expect(page.locator("#planning")).to_be_hidden()
    expect(plan.locator("h2")).to_have_text("Plan: what a run would change now")
    expect(plan.locator(".plan-breaking")).to_contain_text("1 breaking")
    first = plan.locator(".change-list > li").first
    expect(first.locator(".change-head")).to_contain_text("sales.customers")
    expect(first).to_contain_text("Breaking Column dropped email")
    expect(first).to_contain_text("Safe Column added segment")
    expect(plan).not_to_contain_text("sales.orders")  # already crawled as it is
    fits_the_screen(page)
    shot(page, "plan")
    # Nothing written: no event, no run, the table's history as it was.
    assert story.events() == before
    page.reload()
    expect(page.locator(".run")).to_have_count(runs)
    page.goto(story.server.url + story.url("sales/customers", "/history"))
    expect(page.locator("#timeline .entry")).to_have_count(1)
    expect(page.locator("#schema table")).to_contain_text("email")


@in_browser
@pytest.mark.parametrize("which", ["history", "changes", "breaking", "plan", "plan-page"])
def test_the_new_pages_have_no_serious_accessibility_violations(page: Page, story: Story, which: str) -> None:
    paths = {"history": story.url("sales/orders", "/history"), "changes": "/changes",
             "breaking": "/changes?breaking=1", "plan": f"/workflows/{story.workflow}",
             "plan-page": f"/workflows/{story.workflow}"}
    sign_in(page, story.server, path=paths[which])
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.reload()
        if which == "plan":
            page.locator("#plan-button").click()
            expect(page.locator("#plan-result #plan")).to_be_visible(timeout=90_000)
        if which == "plan-page":  # the plan as a page of its own: the form sent without htmx
            with page.expect_navigation():
                page.evaluate("""name => { const form = document.createElement('form'); form.method = 'post';
                                 form.action = '/workflows/' + name + '/plan'; document.body.append(form);
                                 form.submit(); }""", story.workflow)
            expect(page.locator("h2#plan-title")).to_be_visible(timeout=90_000)
            expect(page).to_have_title(re.compile("^Plan of"))
        if which == "history":
            page.locator("#compare button", has_text="Compare").click()
            expect(page.locator("#compare .compare-result")).to_be_visible()
        fits_the_screen(page)
        # The plan is checked where it shows: the rest of the workflow page is not this module's.
        no_serious_violations(page, "#plan-result" if which == "plan" else None)
