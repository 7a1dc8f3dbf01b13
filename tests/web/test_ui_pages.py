"""Every UI page on a desktop and a phone, errors said plainly, copy buttons, and editing certificates and owners.

One catalog serves the module: the sample catalog crawled through the workflow API, three users and a group
(alice in sales-engineering, bob, analyst), a guest token and a webhook. Tests that edit an asset each edit
their own, so they do not depend on one another's order.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa

from gazetteer.auth.service import create_group, create_token, create_user
from gazetteer.devtools.local_glue import LocalGlue
from gazetteer.store import assets, open_engine
from gazetteer.web.ui.routing import TOKEN_COOKIE
from tests.assets.conftest import crawl_with_pyatlan
from tests.conftest import Server
from tests.web import test_ui_browser
from tests.web.test_ui_browser import fits_the_screen, in_browser, no_serious_violations

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - the dev extra installs it; without it, test_ui_browser's marks skip
    pass

browser = test_ui_browser.browser  # one Chromium for the module, a fresh context per test
page = test_ui_browser.page
SIZES = ((1440, 900), (390, 844))
MISSING = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Catalog:
    server: Server
    workflow: str
    webhook: str
    guest: str  # a $guest's token
    guids: dict[str, str]  # by qualified name below the catalog: sales/orders

    def url(self, path: str, tab: str = "") -> str:
        return f"/assets/{self.guids[path]}{tab}"

    def curated(self, path: str) -> dict:
        engine = open_engine(self.server.database_url)
        with engine.connect() as conn:
            row = conn.execute(sa.select(assets.c.curated).where(assets.c.guid == self.guids[path])).one()
        engine.dispose()
        return dict(row.curated or {})


@pytest.fixture(scope="module")
def catalog(glue_server: LocalGlue, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalog]:
    glue_server.reset()
    server = Server(tmp_path_factory.mktemp("ui-pages"), glue_server.url)
    try:
        _, workflow, _ = crawl_with_pyatlan(server, glue_server)  # the sample catalog's sales and analytics
        engine = open_engine(server.database_url)
        create_group(engine, "sales-engineering", "Sales engineering")
        create_user(engine, "alice", "$member", "alice@example.com", ["sales-engineering"], first_name="Alice",
                    last_name="Martin")
        create_user(engine, "bob", "$member")
        create_user(engine, "analyst", "$member")
        guest = create_token(engine, "viewer", "$guest")
        with engine.connect() as conn:
            rows = conn.execute(sa.select(assets.c.qualified_name, assets.c.guid)).all()
        engine.dispose()
        guids = {qn.split("/AwsDataCatalog/", 1)[1]: guid for qn, guid in rows if "/AwsDataCatalog/" in qn}
        with server.client() as api:
            connection = next(qn for qn, _ in rows if qn.count("/") == 2)
            hook = api.post("/api/service/webhooks", json={"name": "ops", "url": "https://hooks.example.com/x",
                                                           "events": ["run_failed"],
                                                           "connectionQualifiedName": connection})
            assert hook.status_code == 200, hook.text
        yield Catalog(server, workflow, hook.json()["guid"], guest, guids)
    finally:
        server.stop()


def _browser(catalog: Catalog, token: str | None = Server.ADMIN_TOKEN, **headers: str) -> httpx.Client:
    return httpx.Client(base_url=catalog.server.url, cookies={TOKEN_COOKIE: token} if token else {},
                        headers={"Accept": "text/html,application/xhtml+xml", **headers}, timeout=60,
                        follow_redirects=False)


def _text(answer: httpx.Response, status: int) -> str:
    assert answer.status_code == status, answer.text[:2000]
    return html.unescape(answer.text)


# ---- errors ------------------------------------------------------------------------------------------------

def test_an_unknown_address_is_a_page_for_browsers_and_atlas_json_for_the_api(catalog: Catalog) -> None:
    with _browser(catalog) as http:
        answer = http.get("/no/such/page")
        page_text = _text(answer, 404)
        assert answer.headers["content-type"].startswith("text/html")
        assert "<h1>Not found</h1>" in page_text and "There is no page at this address" in page_text
        assert "Sign out" in page_text  # the signed-in user's navigation
        assert 'href="/">Search the catalog</a>' in page_text
        assert "default-src 'self'" in answer.headers["content-security-policy"]
        # A form's address opened as a link: said so, with the methods it takes.
        answer = http.get("/sign-out")
        assert "takes a form, not a link" in _text(answer, 405) and answer.headers["allow"] == "POST"
        # API paths answer Atlas JSON whatever the client accepts: pyatlan reads these bodies.
        api = http.get("/api/meta/no/such/thing")
        assert api.status_code == 404 and api.json() == {"errorCode": "ATLAS-404-00-005", "errorMessage": "Not Found"}
        assert http.get("/api/meta/search/indexsearch").json()["errorCode"] == "GAZETTEER-405-000"
        # Refused before routing (a NUL in the query): a page too, in the UI's words and layout.
        text = _text(http.get("/changes?kind=a%00b"), 400)
        assert "<h1>That did not work</h1>" in text and "NUL character" in text
        api = http.get("/api/meta/entity/guid/x%00y")
        assert api.status_code == 400 and api.json()["errorCode"] == "GAZETTEER-400-002"
    with httpx.Client(base_url=catalog.server.url) as client:  # not a browser: JSON, as before
        answer = client.get("/no/such/page")
        assert answer.json() == {"errorCode": "ATLAS-404-00-005", "errorMessage": "Not Found"}
    with _browser(catalog, token=None) as stranger:  # no sign-in: the page, with a way to sign in
        assert 'href="/sign-in">Sign in</a>' in _text(stranger.get("/no/such/page"), 404)
    with _browser(catalog, **{"HX-Request": "true"}) as htmx:  # htmx swaps a fragment, never a whole page
        fragment = _text(htmx.get("/no/such/page"), 404)
        assert fragment.startswith('<div class="flash error"') and "<html" not in fragment


def test_missing_assets_crawlers_runs_and_webhooks_are_said_plainly(catalog: Catalog) -> None:
    with _browser(catalog) as http:
        for tab in ("", "/lineage", "/history", "/owners/edit"):
            text = _text(http.get(f"/assets/{MISSING}{tab}"), 404)
            assert f"No asset has the id '{MISSING}'" in text and "Search for it by name" in text
            assert "Given instance guid" not in text and 'href="/changes">Recent changes</a>' in text
        text = _text(http.get("/workflows/atlan-glue-0000000000"), 404)
        assert "There is no crawler called 'atlan-glue-0000000000'" in text and "/api/" not in text
        assert "There is no run called 'nope'" in _text(http.post("/runs/nope/stop"), 404)
        assert "There is no crawler called" in _text(http.post("/workflows/nope/rerun"), 404)
        text = _text(http.get("/webhooks/nope"), 404)
        assert "No webhook has the id 'nope'" in text and 'href="/webhooks">Webhooks</a>' in text
        assert "No webhook has the id" in _text(http.post("/webhooks/nope/test"), 404)
        long = "x" * 5000  # names from the URL are cut short in the message
        assert "x" * 101 not in _text(http.get(f"/workflows/{long}"), 404)
    with _browser(catalog, **{"HX-Request": "true"}) as htmx:
        fragment = _text(htmx.get("/runs/nope"), 404)
        assert "There is no run called 'nope'" in fragment and "<html" not in fragment


def test_a_guest_is_told_who_may_edit_and_changes_nothing(catalog: Catalog) -> None:
    before = catalog.curated("sales/line_items")
    with _browser(catalog, token=catalog.guest) as http:
        text = _text(http.get(catalog.url("sales/line_items", "/certificate/edit")), 403)
        assert "only admins of its connection and $admin users may" in text and "data-edit-form" not in text
        text = _text(http.post(catalog.url("sales/line_items", "/owners"), data={"add": "alice"}), 403)
        assert "only admins of its connection" in text
        refused = http.post(catalog.url("sales/line_items", "/owners/adopt"))
        assert refused.status_code == 403
    assert catalog.curated("sales/line_items") == before


# ---- certificates and owners -------------------------------------------------------------------------------

def test_a_certificate_with_a_message_is_set_and_cleared_without_javascript(catalog: Catalog) -> None:
    url = catalog.url("sales/customers")
    with _browser(catalog) as http:
        form = _text(http.get(f"{url}/certificate/edit"), 200)
        assert "<html" in form and 'name="certificateStatus" value="VERIFIED"' in form  # a page of its own
        saved = http.post(f"{url}/certificate", data={"certificateStatus": "VERIFIED",
                                                      "certificateStatusMessage": "Reconciled with the CRM"})
        assert saved.status_code == 303 and saved.headers["location"] == url
        text = _text(http.get(url), 200)
        assert 'class="badge cert-verified">Verified</span>' in text and "Reconciled with the CRM" in text
        assert "by admin" in text
        # Bad input: the form again, with what was typed and the message, and nothing written.
        text = _text(http.post(f"{url}/certificate", data={"certificateStatus": "GOLDEN",
                                                           "certificateStatusMessage": "keep me"}), 400)
        assert "'GOLDEN' is not a certificate status" in text and "keep me</textarea>" in text
        text = _text(http.post(f"{url}/certificate", data={"certificateStatus": "DRAFT",
                                                           "certificateStatusMessage": "x" * 2001}), 400)
        assert "longer than 2,000 characters" in text
        assert catalog.curated("sales/customers")["certificateStatus"] == "VERIFIED"
        with catalog.server.client() as api:
            entity = api.get(f"/api/meta/entity/guid/{catalog.guids['sales/customers']}").json()["entity"]
            assert entity["attributes"]["certificateStatusMessage"] == "Reconciled with the CRM"
        # None clears the status and its message.
        assert http.post(f"{url}/certificate", data={"certificateStatus": "",
                                                     "certificateStatusMessage": "ignored"}).status_code == 303
        assert "certificateStatus" not in catalog.curated("sales/customers")
        assert "certificateStatusMessage" not in catalog.curated("sales/customers")


def test_owners_are_the_catalogs_users_and_groups_and_unknown_names_are_refused(catalog: Catalog) -> None:
    url = catalog.url("sales/events")
    with _browser(catalog) as http:
        form = _text(http.get(f"{url}/owners/edit"), 200)
        # The datalist is filled without htmx: users first, then groups; service accounts are not people.
        options = re.findall(r'<option value="([^"]+)" label="([^"]+)"', form)
        assert options[:3] == [("admin", "user"), ("alice", "user · Alice Martin · alice@example.com"),
                               ("analyst", "user")]
        assert ("sales-engineering", "group · Sales engineering") in options
        assert not any(value.startswith("service-account-") for value, _ in options)
        saved = http.post(f"{url}/owners", data={"add": "alice, sales-engineering, alice"})
        assert saved.status_code == 303
        curated = catalog.curated("sales/events")
        assert curated["ownerUsers"] == ["alice"] and curated["ownerGroups"] == ["sales-engineering"]
        text = _text(http.post(f"{url}/owners", data={"keep": ["user:alice", "group:sales-engineering"],
                                                      "add": "bob, nobody, Alice"}), 400)
        assert "No user or group of this catalog is called 'nobody', 'Alice'" in text
        assert 'value="bob, nobody, Alice"' in text and 'aria-invalid="true"' in text  # kept to correct
        assert catalog.curated("sales/events")["ownerUsers"] == ["alice"]
        # Unticking removes an owner; adding bob keeps the group.
        assert http.post(f"{url}/owners", data={"keep": ["group:sales-engineering"],
                                                "add": "bob"}).status_code == 303
        curated = catalog.curated("sales/events")
        assert curated["ownerUsers"] == ["bob"] and curated["ownerGroups"] == ["sales-engineering"]
        text = _text(http.get(url), 200)
        assert '<span class="chip">bob</span>' in text and "sales-engineering" in text


def test_owner_suggestions_complete_the_last_name_typed(catalog: Catalog) -> None:
    with _browser(catalog, **{"HX-Request": "true"}) as http:
        def options(typed: str) -> list[str]:
            answer = _text(http.get("/owners/suggestions", params={"add": typed}), 200)
            assert answer.startswith('<datalist id="owner-options">')
            return re.findall(r'<option value="([^"]+)"', answer)

        assert options("al") == ["alice"]
        assert options("MART") == ["alice"]  # a user's last name, any case
        assert options("bob, sa") == ["bob, sales-engineering"]
        assert options("%") == [] and options("_lice") == []  # LIKE's wildcards are matched as typed
        assert options("service") == []
        assert len(options("")) >= 4


def test_the_glue_owner_is_adopted_when_the_catalog_knows_them(catalog: Catalog) -> None:
    with _browser(catalog) as http:
        orders = catalog.url("sales/orders")
        assert "Adopt the Glue owner" in _text(http.get(orders), 200)  # Glue's owner: sales-engineering
        assert http.post(f"{orders}/owners/adopt").status_code == 303
        assert catalog.curated("sales/orders")["ownerGroups"] == ["sales-engineering"]
        assert "Adopt the Glue owner" not in _text(http.get(orders), 200)
        revenue = catalog.url("analytics/daily_revenue")  # an Athena view whose Glue owner is the user analyst
        assert http.post(f"{revenue}/owners/adopt").status_code == 303
        assert catalog.curated("analytics/daily_revenue")["ownerUsers"] == ["analyst"]
        # data-platform is nobody here: refused, saying why, and nothing written.
        text = _text(http.post(catalog.url("sales/clicks", "/owners/adopt")), 400)
        assert "Glue's owner 'data-platform' is not a user or group of this catalog" in text
        assert "ownerUsers" not in catalog.curated("sales/clicks")


# ---- table facts -------------------------------------------------------------------------------------------

def test_delta_tables_show_their_real_location_and_iceberg_its_format_once(catalog: Catalog) -> None:
    with _browser(catalog) as http:
        shipments = _text(http.get(catalog.url("analytics/shipments")), 200)
        assert '<code id="location">s3://gazetteer-demo-lake/analytics/shipments</code>' in shipments
        assert "__PLACEHOLDER__" not in shipments.split("Glue parameters")[0]
        assert "partitioned by ship_date" in shipments
        assert "Glue lists no partitions for a Delta table: its transaction log holds them" in shipments
        inventory = _text(http.get(catalog.url("analytics/inventory")), 200)
        assert "<dt>Format</dt><dd>iceberg</dd>" in inventory
        assert "Iceberg keeps its partition spec in its own metadata" in inventory
        orders = _text(http.get(catalog.url("sales/orders")), 200)
        assert "<dt>Partitions</dt><dd>6</dd>" in orders
        assert 'data-copy="qualified-name" aria-label="Copy the qualified name"' in orders
        assert 'data-copy="location" aria-label="Copy the location"' in orders


# ---- in Chromium, at both sizes ------------------------------------------------------------------------------

def _signed_in(page: Page, catalog: Catalog) -> None:
    page.context.add_cookies([{"name": TOKEN_COOKIE, "value": Server.ADMIN_TOKEN, "url": catalog.server.url}])


PAGES = {
    "search": lambda c: "/?q=orders",
    "table": lambda c: c.url("sales/orders"),
    "nested table": lambda c: c.url("analytics/shipments"),
    "view": lambda c: c.url("analytics/order_lines"),
    "column": lambda c: c.url("sales/orders/amount"),
    "schema": lambda c: c.url("sales"),
    "workflows": lambda c: "/workflows",
    "workflow": lambda c: f"/workflows/{c.workflow}",
    "new crawler": lambda c: "/workflows/new",
    "lineage": lambda c: c.url("sales/orders", "/lineage?columns=true"),
    "history": lambda c: c.url("sales/orders", "/history"),
    "changes": lambda c: "/changes",
    "webhooks": lambda c: "/webhooks",
    "webhook": lambda c: f"/webhooks/{c.webhook}",
    "owners editor": lambda c: c.url("sales/line_items", "/owners/edit"),
    "certificate editor": lambda c: c.url("sales/line_items", "/certificate/edit"),
    "error": lambda c: "/no/such/page",
    "missing asset": lambda c: f"/assets/{MISSING}",
}


@in_browser
@pytest.mark.parametrize("which", [*PAGES, "sign-in"])
def test_every_page_fits_a_phone_and_a_desktop_without_serious_violations(page: Page, catalog: Catalog,
                                                                          which: str) -> None:
    if which == "sign-in":
        path = "/sign-in"
    else:
        _signed_in(page, catalog)
        path = PAGES[which](catalog)
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(catalog.server.url + path)
        expect(page.locator("main")).to_be_visible()
        fits_the_screen(page)
        no_serious_violations(page)


@in_browser
def test_a_phone_shows_each_columns_description_within_the_screen(page: Page, catalog: Catalog) -> None:
    _signed_in(page, catalog)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(catalog.server.url + catalog.url("sales/orders"))
    description = page.locator("table.columns tr", has_text="customer_id").locator("td.coldesc")
    expect(description).to_have_text("References customers.customer_id")
    box = description.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    run = page.context.new_page()  # the run report's warnings table, stacked as well
    run.set_viewport_size({"width": 390, "height": 844})
    run.goto(f"{catalog.server.url}/workflows/{catalog.workflow}")
    fits_the_screen(run)
    run.close()


@in_browser
def test_copy_buttons_copy_and_say_so(page: Page, catalog: Catalog) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=catalog.server.url)
    _signed_in(page, catalog)
    page.goto(catalog.server.url + catalog.url("analytics/shipments"))
    copy = page.get_by_role("button", name="Copy the qualified name")
    copy.click()
    expect(copy).to_have_text("Copied")
    expect(page.locator("#announce")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()").endswith("/AwsDataCatalog/analytics/shipments")
    page.get_by_role("button", name="Copy the location").click()
    assert page.evaluate("navigator.clipboard.readText()") == "s3://gazetteer-demo-lake/analytics/shipments"
    expect(copy).to_have_text("Copy", timeout=5_000)  # back to its label


@in_browser
def test_editing_the_certificate_and_owners_in_place(page: Page, catalog: Catalog) -> None:
    _signed_in(page, catalog)
    page.goto(catalog.server.url + catalog.url("analytics/wide_events"))
    page.click("#certificate [data-edit]")
    page.get_by_label("Deprecated").check()
    page.fill("#certificateStatusMessage", "Use analytics.daily_sales instead")
    page.click("#certificate button[type=submit]")
    expect(page.locator("#certificate .saved")).to_have_text("Saved")
    expect(page.locator("#certificate")).to_contain_text("Use analytics.daily_sales instead")
    expect(page.locator("#certificate .badge")).to_have_text("Deprecated")
    # Owners: typing suggests names; an unknown one is refused in place; Escape cancels.
    page.click("#owners [data-edit]")
    page.locator("#owner-add").press_sequentially("ali")
    expect(page.locator("#owner-options option")).to_have_count(1)
    assert page.locator("#owner-options option").get_attribute("value") == "alice"
    page.fill("#owner-add", "alice, zed")
    page.keyboard.press("Enter")
    expect(page.locator("#owners-error")).to_contain_text("'zed'")
    expect(page.locator("#owner-add")).to_have_attribute("aria-invalid", "true")
    page.fill("#owner-add", "alice")
    page.keyboard.press("Enter")
    expect(page.locator("#owners .saved")).to_have_text("Saved")
    expect(page.locator("#owners .chip")).to_have_text(["alice"])
    no_serious_violations(page)
    page.reload()
    expect(page.locator(".asset-head .badge.cert-deprecated")).to_be_visible()


def test_an_unexpected_error_is_a_page_without_a_traceback_for_browsers_only(tmp_path) -> None:
    """What the app's last-resort handler answers (an exception outside the UI's routes, which catch their own)."""
    from starlette.requests import Request

    from gazetteer.settings import Settings
    from gazetteer.web.app import create_app
    from gazetteer.web.ui.error_pages import browser_page

    app = create_app(Settings(home=tmp_path))

    def request(path: str, accept: str) -> Request:
        return Request({"type": "http", "method": "GET", "path": path, "query_string": b"", "app": app,
                        "headers": [(b"accept", accept.encode()), (b"host", b"testserver")]})

    answer = browser_page(request("/workflows", "text/html"), 500, "Traceback (most recent call last): boom")
    assert answer is not None and answer.status_code == 500
    text = bytes(answer.body).decode()
    assert "<h1>Something went wrong</h1>" in text and "the server log has the details" in text
    assert "Traceback" not in text and "boom" not in text
    assert browser_page(request("/api/meta/entity/bulk", "text/html"), 500, None) is None
    assert browser_page(request("/workflows", "application/json"), 404, None) is None
