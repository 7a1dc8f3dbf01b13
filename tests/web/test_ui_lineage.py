"""The Lineage tab and the lineage shown on asset pages and search results, over HTTP and in Chromium.

One crawl of the sample catalog serves every test (they only read it): its views' SQL, Glue jobs and crawler
give table and column lineage (`sales.orders` → `analytics.customer_orders` → `analytics.country_revenue`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa

from gazetteer.devtools.local_glue import LocalGlue, endpoint_env
from gazetteer.devtools.sample_catalog import seed_sample_catalog
from gazetteer.packages.glue.config import parse_config
from gazetteer.packages.glue.crawl import crawl
from gazetteer.store import assets, open_engine
from gazetteer.web.ui.routing import TOKEN_COOKIE
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


@dataclass(frozen=True)
class Lake:
    server: Server
    connection: str  # its qualified name
    guids: dict[str, str]  # by qualified name without the connection's prefix: sales/orders, lineage/job/x

    def url(self, path: str, tab: str = "") -> str:
        return f"/assets/{self.guids[path]}{tab}"


@pytest.fixture(scope="module")
def lake(glue_server: LocalGlue, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    """A server over one crawl of the sample catalog."""
    glue_server.reset()
    home = tmp_path_factory.mktemp("lineage-ui")
    engine = open_engine(f"sqlite:///{home / 'catalog.db'}")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in endpoint_env(glue_server.url).items():
            patch.setenv(name, value)
        seed_sample_catalog(glue_server.client(REGION), s3=glue_server.s3_client(REGION))
        config = parse_config(connection_name="lake", region=REGION, access_key="AKIATEST", secret_key="s3cr3t")
        report = crawl(engine, config)
    assert report.status == "Succeeded", report.to_dict()
    prefix = report.connection_qualified_name + "/"
    with engine.connect() as conn:
        guids = {qn.removeprefix(prefix).removeprefix("AwsDataCatalog/"): guid
                 for qn, guid in conn.execute(sa.select(assets.c.qualified_name, assets.c.guid))}
    engine.dispose()
    server = Server(home, glue_server.url)
    yield Lake(server, report.connection_qualified_name, guids)
    server.stop()


@pytest.fixture()
def http(lake: Lake) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=lake.server.url, cookies={TOKEN_COOKIE: Server.ADMIN_TOKEN}, timeout=30) as client:
        yield client


def _section(text: str, id_: str) -> str:
    return text.split(f'id="{id_}"', 1)[1].split("</section>", 1)[0]


def _listed(text: str, id_: str) -> dict[str, int]:
    """The assets a lineage list (upstream or impact) shows, by dotted name, with their depth."""
    items = re.findall(r'<span class="break">([^<]+)</span></a>\s*<span class="muted small">depth (\d+)',
                       _section(text, id_))
    return {name: int(depth) for name, depth in items}


def _page(http: httpx.Client, url: str, status: int = 200) -> str:
    answer = http.get(url)
    assert answer.status_code == status, answer.text[:2000]
    assert answer.headers["content-type"].startswith("text/html")
    return html.unescape(answer.text)


def test_the_lineage_tab_of_a_view_shows_both_sides_by_depth(lake: Lake, http: httpx.Client) -> None:
    deep = _page(http, lake.url("analytics/customer_orders", "/lineage"))  # depth 2 unless asked
    assert _listed(deep, "upstream") == {
        "sales.customers": 1, "sales.orders": 1,
        "s3://gazetteer-demo-lake/sales/customers": 2, "s3://gazetteer-demo-lake/sales/orders": 2}
    assert _listed(deep, "impact") == {"analytics.country_revenue": 1}
    graph = _section(deep, "lineage")
    for name in ("orders", "customers", "sales_lake_crawler", "country_revenue"):
        assert f'aria-label="{name} (' in graph
    assert graph.count("<path d=") >= 9 and 'aria-current="true">2</a>' in graph
    shallow = _page(http, lake.url("analytics/customer_orders", "/lineage?depth=1"))
    assert _listed(shallow, "upstream") == {"sales.customers": 1, "sales.orders": 1}
    assert "sales_lake_crawler" not in _section(shallow, "lineage")
    assert _listed(shallow, "impact") == {"analytics.country_revenue": 1}  # the impact list goes all the way
    everything = _page(http, lake.url("analytics/customer_orders", "/lineage?depth=all"))
    assert _listed(everything, "upstream") == _listed(deep, "upstream")
    # Each node links to its asset's page.
    assert f'href="{lake.url("sales/orders")}" aria-label="orders (Table in sales), upstream"' in graph


def test_a_columns_impact_list_follows_it_through_views(lake: Lake, http: httpx.Client) -> None:
    amount = _page(http, lake.url("sales/orders/amount", "/lineage"))
    impact = _listed(amount, "impact")
    assert impact["analytics.customer_orders.revenue"] == 1 and impact["analytics.country_revenue.revenue"] == 2
    assert set(impact) == {"analytics.customer_orders.revenue", "analytics.country_revenue.revenue",
                           "analytics.daily_revenue.revenue", "analytics.order_lines.amount",
                           "analytics.top_customers.total_spent"}
    # Each column with the view it belongs to, linked.
    row = _section(amount, "impact").split("analytics.country_revenue.revenue", 1)[1].split("</li>", 1)[0]
    assert f'<a class="small" href="{lake.url("analytics/country_revenue")}">analytics.country_revenue</a>' in row
    revenue = _page(http, lake.url("analytics/country_revenue/revenue", "/lineage?depth=all"))
    assert _listed(revenue, "upstream") == {"analytics.customer_orders.revenue": 1, "sales.orders.amount": 2}
    assert "Nothing depends on it." in _section(revenue, "impact")


def _cells(table: str) -> dict[str, list[str]]:
    """The rows of a table's body by their first cell: each cell's text, tags left out."""
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in table.split("<tbody>", 1)[1].split("</tr>")]
    return {re.sub(r"<[^>]+>", "", cells[0]): [re.sub(r"<[^>]+>", "", cell) for cell in cells[1:]]
            for cells in rows if cells}


def test_expand_to_columns_shows_each_columns_sources_and_dependants(lake: Lake, http: httpx.Client) -> None:
    plain = _page(http, lake.url("analytics/customer_orders", "/lineage"))
    assert 'id="column-lineage"' not in plain and ">Expand to columns</a>" in plain
    text = _page(http, lake.url("analytics/customer_orders", "/lineage?depth=2&columns=true"))
    card = _section(text, "column-lineage")
    assert _cells(card) == {
        "customer_id": ["sales.customers.customer_id", "—"],
        "country": ["sales.customers.country", "analytics.country_revenue.country"],
        "order_count": ["sales.orders.order_id", "analytics.country_revenue.orders"],
        "revenue": ["sales.orders.amount", "analytics.country_revenue.revenue"],
    }
    assert card.count("<path d=") == 7  # four sources in, three dependants out
    assert ">Hide columns</a>" in text
    table = _page(http, lake.url("analytics/daily_sales", "/lineage?columns=true"))  # a job's output
    assert "None of its columns has lineage recorded" in _section(table, "column-lineage")


@pytest.mark.parametrize("depth", ["abc", "0", "100", "-1", "2.5", "٣", "ALL", ""])
def test_a_bad_depth_is_a_400_page_with_the_tab(lake: Lake, http: httpx.Client, depth: str) -> None:
    text = _page(http, lake.url("analytics/customer_orders", f"/lineage?depth={depth}"), status=400)
    assert "is not a depth: choose 1, 2, 3, 5 or all" in text
    assert ">Overview</a>" in text and 'aria-current="true"' not in text  # no depth claims to be shown


def test_a_bad_column_switch_is_a_400_page(lake: Lake, http: httpx.Client) -> None:
    text = _page(http, lake.url("analytics/customer_orders", "/lineage?columns=maybe"), status=400)
    assert "The request was not understood (query.columns:" in text


def test_processes_and_s3_objects_are_asset_pages(lake: Lake, http: httpx.Client) -> None:
    view_process = _page(http, lake.url("lineage/view/analytics/customer_orders"))
    flow = _section(view_process, "process")
    reads, writes = flow.split("Writes", 1)
    assert "sales.orders" in reads and "sales.customers" in reads and "analytics.customer_orders" in writes
    assert '<span class="sql-kw">WITH</span> paid' in _section(view_process, "sql")
    job = _page(http, lake.url("lineage/job/daily_sales_etl"))
    assert "analytics.daily_sales" in _section(job, "process").split("Writes", 1)[1]
    assert "glueContext.create_dynamic_frame.from_catalog(" in _section(job, "code")
    column_process = _page(http, lake.url("lineage/view/analytics/customer_orders/revenue"))
    assert (f'Part of the process <a href="{lake.url("lineage/view/analytics/customer_orders")}">'
            in column_process)
    s3 = _page(http, lake.url("lineage/s3/gazetteer-demo-lake/sales/orders"))
    assert "<dt>Bucket</dt>" in s3 and "arn:aws:s3:::gazetteer-demo-lake/sales/orders" in s3
    # A process's lineage starts from what it reads and writes.
    tab = _page(http, lake.url("lineage/view/analytics/customer_orders", "/lineage"))
    assert _listed(tab, "upstream") == {
        "sales.orders": 1, "sales.customers": 1,
        "s3://gazetteer-demo-lake/sales/customers": 2, "s3://gazetteer-demo-lake/sales/orders": 2}
    assert _listed(tab, "impact") == {"analytics.customer_orders": 1, "analytics.country_revenue": 2}
    # The crawler reads both exports and writes both tables: Glue does not say which made which.
    s3_tab = _page(http, lake.url("lineage/s3/gazetteer-demo-lake/sales/orders", "/lineage?depth=1"))
    assert _listed(s3_tab, "impact") == {"sales.orders": 1, "sales.customers": 1, **{name: 2 for name in (
        "analytics.customer_orders", "analytics.daily_revenue", "analytics.daily_sales", "analytics.order_lines",
        "analytics.top_customers")}, "analytics.country_revenue": 3}


def test_views_link_what_they_read_and_lineage_is_badged(lake: Lake, http: httpx.Client) -> None:
    view = _page(http, lake.url("analytics/customer_orders"))
    reads = _section(view, "definition").split("Reads:", 1)[1]
    assert re.findall(r'href="([^"]+)"', reads) == [lake.url("sales/customers"), lake.url("sales/orders")]
    assert f'<a class="badge lineage" href="{lake.url("analytics/customer_orders", "/lineage")}"' in view
    assert f'<a href="{lake.url("analytics/customer_orders", "/lineage")}">Lineage</a>' in view
    # No lineage: no badge, and the tab says where lineage would come from.
    partner = _page(http, lake.url("analytics/partner_orders"))
    assert 'class="badge lineage"' not in partner and ">Lineage</a>" in partner
    assert "No lineage recorded for this asset yet" in _page(http, lake.url("analytics/partner_orders", "/lineage"))
    assert ">Lineage</a>" not in _page(http, lake.url("sales"))  # a schema has no lineage to show
    results = _page(http, "/?q=orders&type=Table&type=View")
    cards = {re.sub(r"<[^>]+>", "", card.split('class="name">', 1)[1].split("</span>", 1)[0]):
             'class="badge lineage"' in card for card in results.split("data-result>")[1:]}
    assert cards == {"orders": True, "partner_orders": False, "customer_orders": True,
                     "country_revenue": True}  # (its column "orders")


def test_a_big_graph_is_cut_to_whole_steps_and_says_how_much_is_left_out(lake: Lake, http: httpx.Client) -> None:
    # 210 processes each copying sales.clicks to an S3 object of its own (nothing else reads clicks).
    connection, entities = lake.connection, []
    for i in range(210):
        copy = f"{connection}/fanout/copy{i:03d}"
        entities += [
            {"typeName": "S3Object", "attributes": {"qualifiedName": copy, "name": f"clicks_copy_{i:03d}",
                                                    "connectionQualifiedName": connection}},
            {"typeName": "Process", "attributes": {
                "qualifiedName": f"{copy}/process", "name": f"copy_{i:03d}", "connectionQualifiedName": connection,
                "inputs": [{"typeName": "Table", "guid": lake.guids["sales/clicks"]}],
                "outputs": [{"typeName": "S3Object", "uniqueAttributes": {"qualifiedName": copy}}]}}]
    with lake.server.client() as api:
        assert api.post("/api/meta/entity/bulk", json={"entities": entities}).status_code == 200
    text = _page(http, lake.url("sales/clicks", "/lineage?depth=all"))
    graph = _section(text, "lineage")
    processes, others = graph.count('class="node type-process process"'), graph.count('<a class="node type-')
    assert (processes, others - processes) == (100, 101)  # whole steps: a process and its copy; and the middle
    assert "222 more not shown: the graph shows the 200 nearest." in graph  # 422 in all
    impact = _listed(text, "impact")
    assert len(impact) == 200 and "11 more not listed." in _section(text, "impact")
    assert set(impact.values()) == {1}


# ---- in Chromium -----------------------------------------------------------------------------------------

@in_browser
@pytest.mark.parametrize("size", [(1440, 900), (390, 844)])
def test_the_graph_is_visible_and_its_nodes_lead_to_their_assets(page: Page, lake: Lake, size) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    sign_in(page, lake.server, path=lake.url("analytics/customer_orders"))
    # The tab is reachable from the keyboard.
    tab = page.locator("nav.tabs a", has_text="Lineage")
    for _ in range(40):
        page.keyboard.press("Tab")
        if tab.evaluate("element => element === document.activeElement"):
            break
    expect(tab).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(lake.server.url + lake.url("analytics/customer_orders", "/lineage"))
    graph = page.locator("#lineage svg.lineage-graph")
    expect(graph).to_be_visible()
    center = graph.locator("a.node.center")
    expect(center).to_have_attribute("aria-label", "customer_orders (View in analytics)")
    expect(center).to_be_in_viewport()  # the box opens scrolled to the middle, on a phone too
    fits_the_screen(page)
    shot(page, f"lineage-{size[0]}")
    node = graph.locator("a.node", has=page.locator("title", has_text="orders (Table in sales)"))
    node.scroll_into_view_if_needed()
    node.click()
    expect(page).to_have_url(lake.server.url + lake.url("sales/orders"))
    expect(page.locator("h1")).to_have_text("orders")


@in_browser
def test_expand_to_columns_shows_column_edges(page: Page, lake: Lake) -> None:
    sign_in(page, lake.server, path=lake.url("analytics/customer_orders", "/lineage?depth=1"))
    expect(page.locator("#column-lineage")).to_have_count(0)
    page.click("#column-toggle")
    expect(page).to_have_url(re.compile(r"depth=1&columns=true$"))
    columns = page.locator("#column-lineage svg.lineage-graph")
    expect(columns).to_be_visible()
    expect(columns.locator(".edges path")).to_have_count(7)
    expect(columns.locator("a.node.center")).to_have_count(4)
    expect(page.locator("#column-lineage table")).to_contain_text("sales.orders.amount")
    fits_the_screen(page)
    shot(page, "lineage-columns")
    page.click("#column-toggle")
    expect(page.locator("#column-lineage")).to_have_count(0)


@in_browser
@pytest.mark.parametrize("path", ["analytics/customer_orders", "sales/orders/amount",
                                  "lineage/view/analytics/customer_orders"])
def test_the_lineage_tab_has_no_serious_accessibility_violations(page: Page, lake: Lake, path: str) -> None:
    sign_in(page, lake.server, path=lake.url(path, "/lineage?columns=true"))
    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.reload()
        expect(page.locator("#lineage")).to_be_visible()
        fits_the_screen(page)
        no_serious_violations(page)
