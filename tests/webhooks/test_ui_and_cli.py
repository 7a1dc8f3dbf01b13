"""The Webhooks page (add, list with the last delivery, test, remove; the secret shown once) and
`gazetteer webhook ...`, both against a live server and a real receiver."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import httpx

from gazetteer.web.ui.routing import TOKEN_COOKIE
from tests.conftest import flat
from tests.webhooks.conftest import FAST
from tests.webhooks.test_api import connection
from tests.workflows.test_workflow_api import token


def browser(server, who_token: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, cookies={TOKEN_COOKIE: who_token}, headers={"Origin": server.url},
                        follow_redirects=False, timeout=30)


def test_the_webhooks_page(start_server, tmp_path, receiver) -> None:
    server = start_server(tmp_path / "home", extra_env=FAST)
    qn = connection(server.client())
    with browser(server, server.ADMIN_TOKEN) as admin:
        page = admin.get("/webhooks")
        assert page.status_code == 200 and 'action="/webhooks"' in page.text and "Every connection" in page.text
        assert 'href="/webhooks" aria-current="page">Webhooks' in page.text  # in the nav
        form = {"name": "page hook", "url": "ftp://nope", "events": ["run_failed", "breaking_change"],
                "connection": qn, "format": "json", "secret": "typed-secret-0123456789"}
        refused = admin.post("/webhooks", data=form)
        assert refused.status_code == 400 and "url must start with https:// or http://" in refused.text
        assert 'value="page hook"' in refused.text and "typed-secret" not in refused.text  # kept, but not the secret
        added = admin.post("/webhooks", data={**form, "url": receiver.url, "secret": ""})
        assert added.status_code == 200, added.text
        secret = re.search(r'<code class="break" id="secret">([^<]+)</code>', added.text).group(1)
        assert secret.startswith("whsec_") and "shown this once" in added.text
        listing = admin.get("/webhooks")
        assert "page hook" in listing.text and secret not in listing.text and "none yet" in listing.text
        guid = re.search(r'href="/webhooks/([0-9a-f-]{36})"', listing.text).group(1)

        tested = admin.post(f"/webhooks/{guid}/test")
        assert tested.status_code == 303 and tested.headers["location"] == f"/webhooks/{guid}?tested=1"
        receiver.wait_for(lambda seen: len(seen) == 1)
        detail = admin.get(f"/webhooks/{guid}")
        assert detail.status_code == 200 and receiver.url in detail.text and secret not in detail.text
        assert "Send a test event" in detail.text
        for _ in range(100):
            if "1 delivered" in admin.get(f"/webhooks/{guid}").text:
                break
            time.sleep(0.1)
        assert "1 delivered" in admin.get(f"/webhooks/{guid}").text
        assert "status-succeeded" in admin.get("/webhooks").text  # the list shows the last delivery

    ally = token(server, "ally", "$member")
    guest = token(server, "visitor", "$guest")
    with browser(server, ally) as http:
        page = http.get("/webhooks")
        assert f'<option value="{qn}"' in page.text and "Every connection" not in page.text
        assert "page hook" in page.text  # ALLY is an admin of its connection
    with browser(server, guest) as http:
        page = http.get("/webhooks")
        assert page.status_code == 200 and "You manage no webhooks" in page.text
        assert 'action="/webhooks"' not in page.text
        assert "page hook" not in page.text
        assert http.post("/webhooks", data={**form, "url": receiver.url}).status_code == 403
        assert http.get(f"/webhooks/{guid}").status_code == 403
        assert http.post(f"/webhooks/{guid}/delete").status_code == 403
    with browser(server, server.ADMIN_TOKEN) as admin:
        assert admin.post(f"/webhooks/{guid}/delete", headers={"Origin": "https://evil.example"}).status_code == 403
        removed = admin.post(f"/webhooks/{guid}/delete")
        assert removed.status_code == 303 and removed.headers["location"] == "/webhooks"
        assert admin.get(f"/webhooks/{guid}").status_code == 404
    assert secret not in server.log()


def cli(server, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**server.env, "GAZETTEER_URL": server.url, "GAZETTEER_TOKEN": server.ADMIN_TOKEN, **env}
    return subprocess.run([sys.executable, "-m", "gazetteer.cli", "webhook", *args], env=environment,
                          capture_output=True, text=True, timeout=120)


def test_the_webhook_commands(start_server, tmp_path, receivers) -> None:
    server = start_server(tmp_path / "home", extra_env=FAST)
    qn = connection(server.client())
    up, down = receivers(), receivers(started=False)

    added = cli(server, "add", "--name", "cli hook", "--url", up.url, "--event", "run_failed", "--event",
                "run_succeeded", "--connection", qn, "--asset-type", "table", "--json",
                GAZETTEER_WEBHOOK_SECRET="cli-secret-0123456789")
    assert added.returncode == 0, added.stderr
    made = json.loads(added.stdout)
    assert "secret" not in made and "cli-secret" not in added.stdout + added.stderr
    assert made["assetTypes"] == ["Table"] and made["connectionQualifiedName"] == qn
    unknown = cli(server, "add", "--name", "x", "--url", up.url, "--event", "run_failed", "--asset-type", "Tabel")
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
    assert ("'Tabel' is not a type of asset; choose one of AtlasGlossary, AtlasGlossaryCategory, AtlasGlossaryTerm, "
            "Connection, Database, Schema, Table, View") in flat(unknown.stderr)
    generated = cli(server, "add", "--name", "generated", "--url", down.url, "--event", "run_failed")
    assert generated.returncode == 0 and "shown this once" in generated.stdout
    secret = generated.stdout.strip().splitlines()[-1]
    assert secret.startswith("whsec_")

    listed = cli(server, "list", "--json")
    assert [w["name"] for w in json.loads(listed.stdout)] == ["cli hook", "generated"]
    assert "cli hook" in cli(server, "list").stdout
    shown = cli(server, "show", made["guid"])
    assert shown.returncode == 0 and up.url in shown.stdout and "run_failed, run_succeeded" in shown.stdout

    tested = cli(server, "test", made["guid"], "--json")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert json.loads(tested.stdout)["status"] == "delivered" and len(up.received) == 1
    failing = cli(server, "test", json.loads(listed.stdout)[1]["guid"], "--wait", "10")
    assert failing.returncode == 1 and "failed after 3 attempts · could not connect" in failing.stdout
    log = json.loads(cli(server, "deliveries", made["guid"], "--json").stdout)
    assert log["counts"]["delivered"] == 1 and log["deliveries"][0]["eventKind"] == "test"

    bad = cli(server, "add", "--name", "x", "--url", up.url, "--event", "run_exploded")
    assert bad.returncode == 2 and "Unknown event kind 'run_exploded'" in bad.stderr
    missing = cli(server, "show", "no-such-guid")
    assert missing.returncode == 2 and "No webhook has the guid 'no-such-guid'" in missing.stderr
    removed = cli(server, "remove", made["guid"])
    assert removed.returncode == 0 and "Removed webhook" in removed.stdout
    assert [w["name"] for w in json.loads(cli(server, "list", "--json").stdout)] == ["generated"]
    assert secret not in server.log() and "cli-secret" not in server.log()
