"""Tags in the web UI, in Chromium: chips on an asset's header (Atlan tags, propagated ones, Glue tags) and the
Tags facet of the search page, at desktop and phone sizes, with no serious accessibility violation."""

from __future__ import annotations

from tests.assets import conftest as asset_fixtures
from tests.web import test_ui_browser
from tests.web.test_ui_browser import fits_the_screen, in_browser, no_serious_violations, sign_in

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - the dev extra installs it; without it, test_ui_browser's marks skip
    pass

browser = test_ui_browser.browser
crawled = asset_fixtures.crawled  # a server whose catalog a pyatlan-run crawl of the sample catalog filled
page = test_ui_browser.page
SIZES = ((1440, 900), (390, 844))


@in_browser
def test_tag_chips_and_the_tags_facet(crawled, server, page: Page) -> None:
    from pyatlan.model.assets import Schema, Table
    from pyatlan.model.enums import AtlanTagColor
    from pyatlan.model.typedef import AtlanTagDef

    client, _, catalog = crawled
    client.typedef.create(AtlanTagDef.create(name="PII", color=AtlanTagColor.RED))
    orders = next(qn for qn in catalog["Table"] if qn.endswith("/sales/orders"))
    client.asset.add_atlan_tags(asset_type=Table, qualified_name=orders, atlan_tag_names=["PII"], propagate=True)
    amount = next(qn for qn in catalog["Column"] if qn == f"{orders}/amount")
    sales = next(qn for qn in catalog["Schema"] if qn.endswith("/sales"))
    assert client.asset.get_by_qualified_name(sales, Schema).asset_tags  # Glue tags the sales database

    sign_in(page, server, path=f"/assets/{catalog['Table'][orders]}")
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{server.url}/assets/{catalog['Table'][orders]}")
        chip = page.locator(".tag-chips .tag-chip")
        expect(chip).to_have_text(["PII"])
        expect(chip).to_have_class("tag-chip tag-red")
        fits_the_screen(page)
        # The header this adds to (the rest of the page is other tests' business).
        no_serious_violations(page, context=".asset-head, .tag-chips")
    page.goto(f"{server.url}/assets/{catalog['Column'][amount]}")
    expect(page.locator(".tag-chips .tag-chip.propagated")).to_have_text(["PII (propagated)"])
    page.goto(f"{server.url}/assets/{catalog['Schema'][sales]}")
    expect(page.locator(".tag-chips .tag-chip.source")).to_contain_text(["team=sales-engineering"])

    # A chip leads to the search for its tag: the Tags facet ticked, the table and where it propagated.
    page.goto(f"{server.url}/assets/{catalog['Table'][orders]}")
    page.locator(".tag-chips .tag-chip").click()
    facet = page.locator("fieldset.facet", has=page.locator("legend", has_text="Tags"))
    expect(facet.locator("input[value='PII']")).to_be_checked()
    expect(page.locator(".results > li")).not_to_have_count(0)
    page.goto(f"{server.url}/?tag=PII&type=Table")
    names = page.locator(".results .result-head .name").all_inner_texts()
    assert "orders" in names and "customers" not in names  # an untagged table is not among them
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        fits_the_screen(page)
        no_serious_violations(page, context=".facets")
    # A Glue tag is found the same way.
    page.goto(f"{server.url}/?tag=team%3Dsales-engineering")
    expect(page.locator(".results > li")).to_have_count(1)
    expect(page.locator(".results > li")).to_contain_text("sales")
