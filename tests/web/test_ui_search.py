"""The home page and the search page over HTTP (SQLite, and PostgreSQL where the SQL differs) and in Chromium at
a desktop's and a phone's size: ranking, sorts, page views, owner and certificate facets, the Connection › Schema
tree, a page past the end, the filters on a phone.

One crawl of the sample catalog serves the SQLite tests that only read it.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa

from gazetteer.assets.curation import update_curated
from gazetteer.auth.principal import Principal
from gazetteer.devtools.local_glue import LocalGlue, endpoint_env
from gazetteer.devtools.sample_catalog import seed_sample_catalog
from gazetteer.packages.glue.config import parse_config
from gazetteer.packages.glue.crawl import crawl
from gazetteer.store import assets, open_engine
from gazetteer.store.generation import current_generation
from gazetteer.store.schema import asset_views
from gazetteer.web.ui import search_page
from gazetteer.web.ui.routing import TOKEN_COOKIE, env
from tests.conftest import Server
from tests.web import test_read_routing, test_ui_browser
from tests.web.test_ui_browser import fits_the_screen, in_browser, no_serious_violations, shot, sign_in

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - the dev extra installs it; without it, test_ui_browser's marks skip
    pass

REGION = "us-east-1"
ADMIN = Principal("u0", "admin", frozenset({"$admin"}))
browser = test_ui_browser.browser
page = test_ui_browser.page
catalogs = test_read_routing.catalogs  # a PostgreSQL primary and a "replica" that lags for ever
replica_url = test_read_routing.replica_url


@dataclass(frozen=True)
class Lake:
    server: Server
    guids: dict[str, str]  # by qualified name below the catalog: sales/orders, sales/orders/amount

    def url(self, path: str) -> str:
        return f"/assets/{self.guids[path]}"


def _crawl(server: Server, glue: LocalGlue) -> dict[str, str]:
    """Crawl the sample catalog into `server`'s catalog; the guids by qualified name below the catalog."""
    seed_sample_catalog(glue.client(REGION), s3=glue.s3_client(REGION))
    engine = open_engine(server.database_url)
    config = parse_config(connection_name="lake", region=REGION, access_key="AKIATEST", secret_key="s3cr3t")
    report = crawl(engine, config)
    assert report.status == "Succeeded", report.to_dict()
    with engine.connect() as conn:
        guids = {qn.split("/AwsDataCatalog/", 1)[-1]: guid
                 for qn, guid in conn.execute(sa.select(assets.c.qualified_name, assets.c.guid))}
    engine.dispose()
    return guids


@pytest.fixture(scope="module")
def lake(glue_server: LocalGlue, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    glue_server.reset()
    server = Server(tmp_path_factory.mktemp("search-ui"), glue_server.url)
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in endpoint_env(glue_server.url).items():
                patch.setenv(name, value)
            guids = _crawl(server, glue_server)
        yield Lake(server, guids)
    finally:
        server.stop()


def _browser(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, cookies={TOKEN_COOKIE: Server.ADMIN_TOKEN}, timeout=30)


@pytest.fixture()
def http(lake: Lake) -> Iterator[httpx.Client]:
    with _browser(lake.server) as client:
        yield client


def _page(http: httpx.Client, url: str, status: int = 200, **headers: str) -> str:
    answer = http.get(url, headers=headers)
    assert answer.status_code == status, answer.text[:2000]
    assert answer.headers["content-type"].startswith("text/html")
    return html.unescape(answer.text)


def _section(text: str, id_: str) -> str:
    return text.split(f'aria-labelledby="{id_}"', 1)[1].split("</section>", 1)[0]


def _cards(text: str) -> list[tuple[str, str]]:
    """The result cards of a page: (type, name), in order."""
    return [(kind, re.sub(r"<[^>]+>", "", name)) for kind, name in re.findall(
        r'<span class="badge type-\w+">(\w+)</span>\s*<span class="name">(.*?)</span>', text)]


def _views(server: Server, guid: str) -> int:
    engine = open_engine(server.database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(asset_views.c.views).where(asset_views.c.asset_guid == guid)).scalar() or 0
    finally:
        engine.dispose()


def _viewed(server: Server, http: httpx.Client, guid: str, times: int) -> None:
    """Open an asset's page `times` times and wait for the views (counted once each page is sent)."""
    before = _views(server, guid)
    for _ in range(times):
        assert http.get(f"/assets/{guid}").status_code == 200
    deadline = time.monotonic() + 10
    while _views(server, guid) < before + times and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _views(server, guid) == before + times


# ---- over HTTP ---------------------------------------------------------------------------------------------

def test_the_home_page_shows_changes_views_and_schemas_and_no_facets(lake: Lake, http: httpx.Client) -> None:
    home = _page(http, "/")
    assert "<title>Home · Gazetteer</title>" in home and 'class="facet' not in home
    browse = _section(home, "browse-title")
    assert f'<a href="{lake.url("sales")}">sales</a>' in browse and "5 tables" in browse
    assert "analytics</a>" in browse and "staging_empty</a>" in browse
    changed = _cards(_section(home, "changed-title"))
    assert len(changed) == 10 and {kind for kind, _ in changed} <= {"Table", "View"}
    assert "Nothing opened yet" in _section(home, "viewed-title")
    fragment = _page(http, "/", **{"HX-Request": "true"})  # the search box emptied: the home page, as a fragment
    assert "<html" not in fragment and 'aria-labelledby="changed-title"' in fragment

    engine = open_engine(lake.server.database_url)
    with engine.connect() as conn:
        generation = current_generation(conn)
    _viewed(lake.server, http, lake.guids["sales/customers"], 2)
    _viewed(lake.server, http, lake.guids["sales/orders"], 1)
    assert http.get(f"{lake.url('sales/orders')}/description", headers={"HX-Request": "true"}).status_code == 200
    assert _views(lake.server, lake.guids["sales/orders"]) == 1  # only the page itself counts, not its fragments
    with engine.connect() as conn:
        assert current_generation(conn) == generation  # views write no asset: cached searches stay valid
    engine.dispose()
    viewed = _section(_page(http, "/"), "viewed-title")
    assert _cards(viewed)[:2] == [("Table", "customers"), ("Table", "orders")] and "2 views" in viewed


def test_a_table_comes_before_columns_of_the_same_name_and_cards_tell_what_matters(lake: Lake,
                                                                                   http: httpx.Client) -> None:
    found = _cards(_page(http, "/?q=cust"))
    first_column = found.index(("Column", "customer_id"))
    assert ("Table", "customers") in found[:first_column] and ("View", "customer_orders") in found[:first_column]
    # pyatlan's search is Elasticsearch's: the same words, the plain ranks (names in order).
    api = httpx.post(f"{lake.server.url}/api/meta/search/indexsearch", timeout=30,
                     headers={"Authorization": f"Bearer {Server.ADMIN_TOKEN}"},
                     json={"dsl": {"size": 5, "query": {"bool": {"must": [{"multi_match": {"query": "cust"}}],
                                                                 "filter": [{"term": {"__state": "ACTIVE"}}]}}}})
    assert [e["typeName"] for e in api.json()["entities"]][:2] == ["Column", "Column"]
    card = _page(http, "/?q=orders&type=Table").split('<a class="result"', 2)[1]
    assert "1,284,331 rows" in card and "Changed " in card and "lineage</span>" in card


def test_sorts_and_a_page_past_the_end(lake: Lake, http: httpx.Client) -> None:
    by_name = [name for _, name in _cards(_page(http, "/?type=Table&sort=name"))]
    assert by_name == sorted(by_name) and len(by_name) == 10
    assert [name for _, name in _cards(_page(http, "/?type=Table"))] == by_name  # best match without words
    assert [name for _, name in _cards(_page(http, "/?type=Table&sort=nonsense"))] == by_name
    _viewed(lake.server, http, lake.guids["analytics/wide_events"], 3)
    assert _cards(_page(http, "/?type=Table&sort=popular"))[0] == ("Table", "wide_events")
    assert 'value="popular" selected' in _page(http, "/?type=Table&sort=popular")

    past = _page(http, "/?q=order&page=99")
    pages = int(re.search(r"fill (\d+) pages", past).group(1))
    assert "There is no page 99" in past and " of 99" not in past and "page 99 of" not in past.lower()
    assert f'<a href="/?q=order&amp;page={pages}">Go to the last page ({pages})</a>' in http.get(
        "/?q=order&page=99").text
    last = _page(http, f"/?q=order&page={pages}")
    assert f"Page {pages} of {pages}" in last and _cards(last)
    assert "There is no page" not in _page(http, "/?q=order&page=1")
    assert http.get("/?q=order&page=two").status_code == 400
    many = _page(http, "/?" + "&".join(f"owner=user{i}" for i in range(300)) + "&owner=user0")
    assert "Filters (100)" in many and "Nothing matches" in many  # a hand-made URL: 100 values a facet at most


def test_past_the_pages_that_can_be_shown_it_asks_to_narrow(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_page, "MAX_FROM", 40)  # pages 1 to 3 can be shown (the server's: 10,000 hits)
    engine = open_engine(lake.server.database_url)
    try:
        found = search_page.run_search(engine, "", {"type": ["Column"]}, 4)
    finally:
        engine.dispose()
    assert found["pages"] == 3 and found["past_end"] and found["total"] > 60
    text = html.unescape(env.get_template("_results.html").render(
        q="", selected={"type": ["Column"]}, page_url=lambda n: f"/?type=Column&page={n}", page_url_clear="/",
        **found))
    assert f"Only the first 3 pages of these {found['total']:,} results can be shown" in text
    assert '<a href="/?type=Column&page=3">Go to the last page (3)</a>' in text


def test_the_tree_and_the_owner_and_certificate_facets(any_server: Server, glue: LocalGlue) -> None:
    guids = _crawl(any_server, glue)
    engine = open_engine(any_server.database_url)
    update_curated(engine, guids["sales/orders"], ADMIN, {"ownerUsers": ["jsmith"], "ownerGroups": ["sales-eng"],
                                                          "certificateStatus": "VERIFIED"})
    update_curated(engine, guids["sales/customers"], ADMIN, {"ownerUsers": ["jsmith", "akhan"],
                                                             "certificateStatus": "DEPRECATED"})
    engine.dispose()
    with _browser(any_server) as http:
        page_ = _page(http, "/?type=Table")
        tree = page_.split("<legend>Connection › Schema</legend>", 1)[1].split("</fieldset>", 1)[0]
        assert re.search(r'value="default/glue/\d+".*?lake</span>', tree, re.S)
        assert tree.index("tree-children") < tree.index(">sales</span>")  # schemas nested below the connection
        owners = page_.split("<legend>Owners</legend>", 1)[1].split("</fieldset>", 1)[0]
        assert re.findall(r'value="(\w+)"', owners) == ["jsmith", "akhan"]  # most assets first
        assert ">Verified</span>" in page_ and ">Deprecated</span>" in page_ and "sales-eng" in page_
        card = next(card for card in page_.split('<a class="result"')[1:] if '"name">customers<' in card)
        assert "Owned by akhan, jsmith" in card and "cert-deprecated" in card
        assert [n for _, n in _cards(_page(http, "/?type=Table&owner=akhan"))] == ["customers"]
        assert [n for _, n in _cards(_page(http, "/?certificate=VERIFIED"))] == ["orders"]
        both = _page(http, "/?owner=jsmith&owner_group=sales-eng")
        assert [n for _, n in _cards(both)] == ["orders"]


@pytest.mark.postgres
def test_a_page_view_is_counted_on_the_primary_with_a_read_replica(start_server, catalogs, postgres_url,
                                                                   replica_url, tmp_path) -> None:
    primary, replica = catalogs
    server = start_server(tmp_path / "home", postgres_url, extra_env={"GAZETTEER_READ_DATABASE_URL": replica_url})
    with primary.connect() as conn:
        guid = conn.execute(sa.select(assets.c.guid).where(assets.c.name == "orders")).scalar_one()
    with _browser(server) as http:
        _viewed(server, http, guid, 2)  # `server.database_url` is the primary's
        # The home page reads the replica, which has not caught up (here: never will).
        assert "Nothing opened yet" in _section(_page(http, "/"), "viewed-title")
    with replica.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(asset_views)).scalar_one() == 0


# ---- in Chromium -------------------------------------------------------------------------------------------

@in_browser
@pytest.mark.parametrize("size", [(1440, 900), (390, 844)])
def test_home_and_search_fit_the_screen_and_pass_axe(page: Page, lake: Lake, size) -> None:
    width, height = size
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, lake.server)
    expect(page.locator("#changed-title")).to_be_visible()
    expect(page.locator(".home-browse")).to_contain_text("analytics")
    fits_the_screen(page)
    no_serious_violations(page)
    shot(page, f"home-{width}")

    page.fill("#q", "cust")
    expect(page).to_have_url(re.compile(r"\?q=cust$"))
    first = page.locator("#result-list [data-result]").first
    expect(first.locator(".badge").first).to_have_text(re.compile(r"^(Table|View)$"))
    type_facet = page.locator("fieldset.facet", has_text="Type")
    if width < 900:  # a phone: the filters fold away behind a button, and open with it
        expect(type_facet).to_be_hidden()
        page.click("label.filters-toggle")
    expect(type_facet).to_be_visible()
    fits_the_screen(page)
    no_serious_violations(page)
    page.locator("input.facet-box[name=type][value=Column]").check()
    expect(page).to_have_url(re.compile(r"type=Column"))
    expect(page.locator("#result-list .badge.type-table")).to_have_count(0)
    expect(type_facet).to_be_visible()  # still open after the results were swapped
    expect(page.locator("label.filters-toggle")).to_have_text("Filters (1)" if width < 900 else re.compile("."))
    page.select_option("#sort", "name")
    expect(page).to_have_url(re.compile(r"sort=name"))
    fits_the_screen(page)
    shot(page, f"search-{width}")

    page.goto(lake.server.url + "/?q=cust&page=99")
    expect(page.locator(".empty")).to_contain_text("There is no page 99")
    page.click("text=Go to the last page")
    expect(page.locator("#result-list [data-result]").first).to_be_visible()
    fits_the_screen(page)
    no_serious_violations(page)

    # Clearing the box brings the home page back.
    page.fill("#q", "")
    expect(page.locator("#changed-title")).to_be_visible()
    expect(page).to_have_url(lake.server.url + "/")
