"""The UI's HTTP contract, without a browser: cookies, redirects, HTML errors, cross-site posts, static files."""

from __future__ import annotations

import html
import re

import httpx
import sqlalchemy as sa

from gazetteer.devtools.sample_catalog import seed_sample_catalog
from gazetteer.packages.glue.config import parse_config
from gazetteer.packages.glue.crawl import crawl
from gazetteer.store import assets, open_engine
from gazetteer.web.ui.routing import HINT_COOKIE, TOKEN_COOKIE


def _browser(server, token: str | None = None) -> httpx.Client:
    cookies = {TOKEN_COOKIE: token} if token else {}
    return httpx.Client(base_url=server.url, cookies=cookies, timeout=30, follow_redirects=False)


def test_pages_ask_to_sign_in_and_the_cookie_is_strict(server) -> None:
    with _browser(server) as http:
        answer = http.get("/assets/abc?x=1")
        assert answer.status_code == 303 and answer.headers["location"] == "/sign-in?next=%2Fassets%2Fabc%3Fx%3D1"
        # htmx requests are told where to go instead of getting the sign-in page as a fragment.
        answer = http.get("/", headers={"HX-Request": "true", "HX-Current-URL": f"{server.url}/?q=x"})
        assert answer.status_code == 204 and answer.headers["hx-redirect"] == "/sign-in?next=%2F%3Fq%3Dx"
        answer = http.post("/sign-in", data={"token": server.ADMIN_TOKEN, "next": "//evil.example/"})
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith(TOKEN_COOKIE + "="))
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
        assert server.ADMIN_TOKEN not in answer.text
        assert any(h.startswith(HINT_COOKIE + "=") for h in answer.headers.get_list("set-cookie"))


def test_a_revoked_or_wrong_cookie_signs_out(server) -> None:
    with _browser(server, "gzt_forgotten") as http:
        answer = http.get("/workflows")
        assert answer.status_code == 303 and answer.headers["location"] == "/sign-in?next=%2Fworkflows&reason=expired"
        assert any(h.startswith(f"{TOKEN_COOKIE}=\"\"") or h.startswith(f"{TOKEN_COOKIE}=;")
                   for h in answer.headers.get_list("set-cookie"))
        page = http.get(answer.headers["location"])
        assert "no longer valid" in page.text


def test_errors_are_pages_not_json(server) -> None:
    with _browser(server, server.ADMIN_TOKEN) as http:
        missing = http.get("/assets/00000000-0000-4000-8000-000000000000")
        assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
        assert "No asset has the id" in missing.text and "<h1>Not found</h1>" in missing.text
        workflow = http.get("/workflows/atlan-glue-0000000000")
        assert workflow.status_code == 404 and "There is no crawler called" in workflow.text
        fragment = http.get("/runs/nope", headers={"HX-Request": "true"})
        assert fragment.status_code == 404 and fragment.text.startswith('<div class="flash error"')
        assert "<html" not in fragment.text
        # A form posted from another site is refused even with the cookie (belt and braces with SameSite).
        refused = http.post("/workflows/atlan-glue-0000000000/rerun", headers={"Origin": "https://evil.example"})
        assert refused.status_code == 403 and "another site" in refused.text
        # The API keeps answering JSON.
        api = http.get("/api/meta/entity/guid/00000000-0000-4000-8000-000000000000",
                       headers={"Authorization": f"Bearer {server.ADMIN_TOKEN}"})
        assert api.headers["content-type"].startswith("application/json")


def test_pages_carry_a_strict_content_security_policy_and_static_files_are_served(server) -> None:
    with _browser(server, server.ADMIN_TOKEN) as http:
        page = http.get("/")
        assert page.status_code == 200
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert page.headers["cache-control"] == "no-store"
        for name in ("htmx.min.js", "app.js", "style.css"):
            assert f"/static/{name}?v=" in page.text
        script = http.get("/static/htmx.min.js")
        assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
        assert "htmx" in script.text[:200]
        assert http.get("/static/../app.py").status_code == 404
        assert http.get("/static/nope.js").status_code == 404


def test_a_link_from_another_site_is_opened_without_asking_again(server) -> None:
    # Following a link from another site, the browser sends the Lax hint but not the Strict token cookie.
    with httpx.Client(base_url=server.url, cookies={HINT_COOKIE: "1"}, follow_redirects=False) as http:
        answer = http.get("/sign-in?next=%2Fworkflows")
        assert answer.status_code == 200
        assert '<meta http-equiv="refresh" content="0;url=/workflows">' in answer.text
        # The hint is dropped, so a browser whose token really is gone gets the form next time, not a loop.
        assert any(h.startswith(f"{HINT_COOKIE}=") and "Max-Age=0" in h for h in answer.headers.get_list("set-cookie"))


def test_forms_work_without_javascript(server) -> None:
    with _browser(server, server.ADMIN_TOKEN) as http:
        answer = http.post("/assets/00000000-0000-4000-8000-000000000000/description", data={"userDescription": "x"})
        assert answer.status_code == 404 and "<html" in answer.text  # a page, since no htmx sent it
        answer = http.get("/", params={"q": "anything", "type": "Table"})
        assert answer.status_code == 200 and 'value="anything"' in answer.text and "<html" in answer.text


def test_a_nul_in_a_form_is_refused_before_the_page(server) -> None:
    # (a NUL in the search box's q: tests/web/test_request_hygiene.py, on both backends)
    with _browser(server, server.ADMIN_TOKEN) as http:
        form = http.post("/sign-in", content=b"token=a%00b&next=%2F",
                         headers={"content-type": "application/x-www-form-urlencoded"})
        assert form.status_code == 400
        assert form.json()["errorMessage"] == "The form field 'token' has a NUL character (%00) in its value."


def test_asset_pages_link_nested_columns_and_show_statistics_and_tags(server, glue) -> None:
    seed_sample_catalog(glue.client("us-east-1"), s3=glue.s3_client("us-east-1"))
    lake_formation = glue.client("us-east-1", service="lakeformation")
    lake_formation.create_lf_tag(TagKey="pii", TagValues=["true", "false"])
    lake_formation.create_lf_tag(TagKey="domain", TagValues=["sales"])
    lake_formation.add_lf_tags_to_resource(Resource={"Table": {"DatabaseName": "sales", "Name": "orders"}},
                                           LFTags=[{"TagKey": "domain", "TagValues": ["sales"]}])
    lake_formation.add_lf_tags_to_resource(Resource={"TableWithColumns": {
        "DatabaseName": "sales", "Name": "orders", "ColumnNames": ["amount"]}}, LFTags=[
        {"TagKey": "pii", "TagValues": ["false"]}])
    catalog = open_engine(server.database_url)
    config = parse_config(connection_name="lake", region="us-east-1", access_key="AKIATEST", secret_key="s3cr3t")
    assert crawl(catalog, config).status == "Succeeded"
    with catalog.connect() as conn:
        guids = {qn.split("/AwsDataCatalog/", 1)[1]: guid for qn, guid in conn.execute(
            sa.select(assets.c.qualified_name, assets.c.guid).where(assets.c.type_name.in_(("Schema", "Table",
                                                                                           "Column"))))}
    catalog.dispose()
    with _browser(server, server.ADMIN_TOKEN) as http:
        shipments = html.unescape(http.get(f"/assets/{guids['analytics/shipments']}").text)
        # The carrier column's tree links each field to its nested column, deep ones included.
        for path in ("carrier/name", "carrier/contact", "carrier/contact/phone", "carrier/contact/email"):
            name = path.rsplit("/", 1)[1]
            assert f'<a class="fname" href="/assets/{guids["analytics/shipments/" + path]}">{name}</a>' in shipments
        assert "<th>Statistics</th>" not in shipments  # Glue has none for its columns
        phone = html.unescape(http.get(f"/assets/{guids['analytics/shipments/carrier/contact/phone']}").text)
        crumbs = phone.split('<nav class="crumbs"', 1)[1].split("</nav>", 1)[0]
        assert re.findall(r">([^<>]+)</a>", crumbs) == ["lake", "AwsDataCatalog", "analytics", "shipments", "carrier",
                                                         "contact"]
        assert f'<a href="/assets/{guids["analytics/shipments/carrier/contact"]}">contact</a>, level 2' in phone
        orders = html.unescape(http.get(f"/assets/{guids['sales/orders']}").text)
        row = orders.split("order_id</a>", 1)[1].split("</tr>", 1)[0]
        assert "<th>Statistics</th>" in orders and "Distinct values</span> 1,284,331" in row
        assert ('<dt>LF-tags</dt><dd class="tags"><span class="chip">domain=sales</span></dd>' in orders
                and "<dt>Glue tags</dt>" not in orders)  # Glue tags databases, not tables
        sales = html.unescape(http.get(f"/assets/{guids['sales']}").text)
        assert ('<dt>Glue tags</dt><dd class="tags"><span class="chip">cost-center=4410</span>'
                '<span class="chip">team=sales-engineering</span></dd>') in sales  # the sample catalog's
        amount = html.unescape(http.get(f"/assets/{guids['sales/orders/amount']}").text)
        card = amount.split('id="statistics"', 1)[1].split("</section>", 1)[0]
        assert re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", card) == [
            ("Distinct values", "48,120"), ("Nulls", "12"), ("Minimum", "0.99"), ("Maximum", "4,999")]
        assert '<dt>LF-tags</dt><dd class="tags"><span class="chip">pii=false</span></dd>' in amount
