"""The glossary's pages in Chromium: the glossaries, a glossary's category tree and terms, a term with the assets it
is assigned to, the terms on an asset's page and the search page's term facet; at a desktop's and a phone's size,
each checked with axe-core.

The glossary is made with pyatlan 10.0.0 (as people make it) over a catalog a pyatlan-submitted crawl filled.
"""

from __future__ import annotations

import re

from tests.assets.conftest import crawled  # noqa: F401  (the fixture: a crawled catalog and a pyatlan client)
from tests.web import test_ui_browser
from tests.web.test_ui_browser import fits_the_screen, in_browser, no_serious_violations, shot, sign_in

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - the dev extra installs it; without it, test_ui_browser's marks skip
    pass

browser = test_ui_browser.browser
page = test_ui_browser.page
SIZES = ((1440, 900), (390, 844))


def _make_glossary(client, catalog) -> dict[str, str]:
    """Sales metrics: Money > Refunds; Revenue (in Money, defined) assigned to sales.orders; Margin unassigned."""
    from pyatlan.model.assets import AtlasGlossary, AtlasGlossaryCategory, AtlasGlossaryTerm, Table

    glossary = AtlasGlossary.creator(name="Sales metrics")
    glossary.user_description = "What the sales team means by its numbers."
    money = AtlasGlossaryCategory.creator(name="Money", anchor=glossary)
    refunds = AtlasGlossaryCategory.creator(name="Refunds", anchor=glossary, parent_category=money)
    revenue = AtlasGlossaryTerm.creator(name="Revenue", anchor=glossary, categories=[money])
    revenue.user_description = "Money from sales, net of refunds."
    margin = AtlasGlossaryTerm.creator(name="Margin", anchor=glossary)
    assigned = client.asset.save([glossary, money, refunds, revenue, margin]).guid_assignments
    orders = next(qn for qn in catalog["Table"] if qn.endswith("/sales/orders"))
    client.asset.append_terms(Table, [AtlasGlossaryTerm.ref_by_guid(assigned[revenue.guid])], qualified_name=orders)
    return {"glossary": assigned[glossary.guid], "money": assigned[money.guid], "revenue": assigned[revenue.guid],
            "margin": assigned[margin.guid], "orders": catalog["Table"][orders]}


@in_browser
def test_glossary_pages_terms_on_assets_and_the_term_facet(page: Page, crawled, server) -> None:  # noqa: F811
    client, _, catalog = crawled
    guids = _make_glossary(client, catalog)
    sign_in(page, server, path="/glossary")

    # The glossaries, then one glossary: its category tree and its terms.
    page.get_by_role("link", name=re.compile("Sales metrics")).click()
    expect(page).to_have_url(server.url + f"/glossary/{guids['glossary']}")
    expect(page.locator("h1")).to_have_text("Sales metrics")
    tree = page.locator("#categories")
    expect(tree.locator(f"#category-{guids['money']} > a")).to_have_text("Money")
    expect(tree.locator(f"#category-{guids['money']} .category-tree a")).to_have_text("Refunds")  # nested
    expect(page.locator("#terms .list strong")).to_have_text(["Margin", "Revenue"])
    tree.get_by_role("link", name="Money").click()
    expect(page.locator("#terms .list strong")).to_have_text(["Revenue"])
    expect(page.locator("#terms h2")).to_contain_text("Terms in Money")

    # A term: its definition, where it is assigned, the way back; the asset names its terms as links.
    page.get_by_role("link", name=re.compile("Revenue")).click()
    expect(page).to_have_url(server.url + f"/glossary/term/{guids['revenue']}")
    expect(page.locator("#definition")).to_contain_text("Money from sales, net of refunds.")
    expect(page.locator("#assigned h2")).to_contain_text("1")
    page.locator("#assigned").get_by_role("link", name=re.compile("orders")).click()
    expect(page).to_have_url(server.url + f"/assets/{guids['orders']}")
    expect(page.locator("#terms a.chip.term")).to_have_text(["Revenue"])
    page.locator("#terms a.chip.term").click()
    expect(page).to_have_url(server.url + f"/glossary/term/{guids['revenue']}")
    page.locator(".crumbs").get_by_role("link", name="Sales metrics").click()
    expect(page).to_have_url(server.url + f"/glossary/{guids['glossary']}")
    # A search hit of a term opens its page (every hit links to /assets/...).
    page.goto(server.url + f"/assets/{guids['margin']}")
    expect(page).to_have_url(server.url + f"/glossary/term/{guids['margin']}")
    expect(page.locator("#assigned")).to_contain_text("No asset has this term yet")

    # The search page's term facet narrows the hits to the assets with that term.
    page.goto(server.url + "/?type=Table")  # "/" alone is the home page, without facets
    facet = page.locator("fieldset.facet", has_text="Glossary term")
    expect(facet).to_contain_text("Revenue")
    facet.locator("input.facet-box[value=Revenue]").check()
    expect(page).to_have_url(re.compile(r"term=Revenue"))
    expect(page.locator("#result-list .result .name")).to_have_text(["orders"])
    # A term is a hit like any asset, and its glossary is no schema.
    page.goto(server.url + "/?q=revenue")
    expect(page.locator("#result-list .result", has_text="Term")).to_contain_text("Revenue")
    glossary_qn = client.asset.get_by_guid(guids["glossary"]).qualified_name
    expect(page.locator("input.facet-box[name=schema]")).not_to_have_count(0)
    expect(page.locator(f"input.facet-box[name=schema][value='{glossary_qn}']")).to_have_count(0)

    # Every page at a desktop's and a phone's size: nothing wider than the screen, no serious axe violation.
    # (The asset page and the search page are other parts' to check whole: here, what this part adds to them.)
    pages = [("/glossary", None), (f"/glossary/{guids['glossary']}", None),
             (f"/glossary/{guids['glossary']}?category={guids['money']}", None),
             (f"/glossary/term/{guids['revenue']}", None), (f"/assets/{guids['orders']}", "#terms"),
             ("/?term=Revenue", "fieldset.facet:has(input[name=term])")]
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        for i, (path, part) in enumerate(pages):
            page.goto(server.url + path)
            fits_the_screen(page)
            no_serious_violations(page, part)
            shot(page, f"glossary-{width}-{i}")


def test_glossary_pages_say_what_is_missing(crawled, server) -> None:  # noqa: F811
    with server.client() as http:
        http.cookies.set("gazetteer_token", server.ADMIN_TOKEN)
        for path in ("/glossary/nope", "/glossary/term/nope"):
            answer = http.get(path)
            assert answer.status_code == 404 and "text/html" in answer.headers["content-type"], path
        empty = http.get("/glossary")
        assert empty.status_code == 200 and "No glossaries yet" in empty.text
        table = next(iter(crawled[2]["Table"].values()))
        assert http.get(f"/glossary/term/{table}").status_code == 404  # a table is not a term
        assert http.get(f"/glossary/{table}").status_code == 404

