"""The webhook API on a live server (SQLite, then PostgreSQL): subscriptions and who may manage them, bad input,
the secret kept secret, and deliveries to real receivers on 127.0.0.1: signed, retried, failed, logged, Slack."""

from __future__ import annotations

import itertools
import json

from gazetteer.auth.models import ADMIN_USERNAME
from gazetteer.webhooks.signing import verify
from tests.webhooks.conftest import wait_status
from tests.workflows.test_workflow_api import token, workflow

ALLY = "service-account-ally"  # a $member named as an admin of the connection
_epochs = itertools.count(1797000000)


def connection(http, **overrides) -> str:
    """A new connection (its workflow created, not run) naming ALLY as an admin; its qualified name."""
    epoch = next(_epochs)
    answer = http.post("/api/service/workflows", json=workflow(epoch=epoch, admin_users=[ALLY], **overrides))
    assert answer.status_code == 200, answer.text
    return f"default/glue/{epoch}"


def hook(url: str, connection_qn: str | None, **fields) -> dict:
    return {"name": "alerts", "url": url, "events": ["breaking_change", "run_failed"],
            "connectionQualifiedName": connection_qn, **fields}


def test_who_may_manage_which_subscriptions(hook_server) -> None:
    server = hook_server
    admin = server.client()
    ally = server.client(token=token(server, "ally", "$member"))
    mallory = server.client(token=token(server, "mallory", "$member"))
    guest = server.client(token=token(server, "visitor", "$guest"))
    qn = connection(admin)
    body = hook("https://hooks.example.com/a", qn)

    created = ally.post("/api/service/webhooks", json=body)
    assert created.status_code == 200, created.text
    mine = created.json()
    secret = mine["secret"]  # generated, and answered this once
    assert secret.startswith("whsec_") and mine["connectionQualifiedName"] == qn and mine["format"] == "json"
    assert mine["createdBy"] == ALLY and mine["enabled"] is True and mine["lastDelivery"] is None
    for caller, name in ((mallory, "mallory"), (guest, "visitor")):
        refused = caller.post("/api/service/webhooks", json=body)
        assert refused.status_code == 403, refused.text
        assert f"'service-account-{name}'" in refused.json()["errorMessage"]
    assert "not an admin of connection" in mallory.post("/api/service/webhooks", json=body).json()["errorMessage"]
    everywhere = hook("https://hooks.example.com/all", None)
    refused = ally.post("/api/service/webhooks", json=everywhere)
    assert refused.status_code == 403 and "every connection" in refused.json()["errorMessage"]
    assert "$admin" in refused.json()["errorMessage"]
    given_secret = "my-own-secret-0123456789"
    all_of_them = admin.post("/api/service/webhooks", json={**everywhere, "secret": given_secret})
    assert all_of_them.status_code == 200 and "secret" not in all_of_them.json()  # given: never answered
    assert given_secret not in all_of_them.text

    listed = {caller: [w["guid"] for w in client.get("/api/service/webhooks").json()["records"]]
              for caller, client in (("admin", admin), ("ally", ally), ("mallory", mallory), ("guest", guest))}
    assert listed == {"admin": [mine["guid"], all_of_them.json()["guid"]], "ally": [mine["guid"]], "mallory": [],
                      "guest": []}
    assert admin.get("/api/service/webhooks", params={"connection": qn}).json()["count"] == 1

    one = f"/api/service/webhooks/{mine['guid']}"
    assert ally.get(one).json()["url"] == "https://hooks.example.com/a"
    assert mallory.get(one).status_code == 403 and guest.get(one).status_code == 403
    assert mallory.get(f"{one}/deliveries").status_code == 403 and mallory.post(f"{one}/test").status_code == 403
    assert ally.get("/api/service/webhooks/no-such-guid").status_code == 404
    assert ally.get(f"/api/service/webhooks/{all_of_them.json()['guid']}").status_code == 403

    changed = ally.post(one, json={"name": "renamed", "events": ["run_succeeded"], "format": "slack", "enabled": False,
                                   "assetTypes": ["Table", "View"], "secret": "a-new-secret-abcdefgh"})
    assert changed.status_code == 200, changed.text
    after = changed.json()
    assert (after["name"], after["events"], after["format"], after["assetTypes"], after["enabled"]) == \
           ("renamed", ["run_succeeded"], "slack", ["Table", "View"], False)
    assert "secret" not in after and "a-new-secret" not in changed.text
    # An answer sent back as an update (read-only fields and all) changes nothing else.
    assert ally.post(one, json=after).json() | {"updatedAt": 0} == after | {"updatedAt": 0}
    assert mallory.post(one, json={"name": "mine now"}).status_code == 403
    moved = ally.post(one, json={"connectionQualifiedName": None})
    assert moved.status_code == 403 and "every connection" in moved.json()["errorMessage"]
    assert admin.get(one).json()["name"] == "renamed"

    answers = [ally.get(one).text, admin.get("/api/service/webhooks").text, ally.get(f"{one}/deliveries").text,
               ally.post(f"{one}/test").text]
    assert not any(secret in text or "a-new-secret" in text for text in answers)
    assert mallory.delete(one).status_code == 403
    removed = ally.delete(one)
    assert removed.status_code == 200 and removed.json() == {"guid": mine["guid"], "name": "renamed", "deleted": True}
    assert ally.get(one).status_code == 404 and ally.delete(one).status_code == 404
    log = server.log()
    assert secret not in log and given_secret not in log and "a-new-secret" not in log


BAD_INPUT = [
    ({"url": "https://h.example.com/x", "events": ["run_failed"]}, "name is required"),
    ({"name": "x", "url": "ftp://h.example.com/x", "events": ["run_failed"]}, "url must start with https:// or http://"),
    ({"name": "x", "url": "h.example.com/x", "events": ["run_failed"]}, "url must start with https:// or http://"),
    ({"name": "x", "url": "https:///nohost", "events": ["run_failed"]}, "url has no host"),
    ({"name": "x", "url": "https://u:p@h.example.com/", "events": ["run_failed"]}, "must not carry a user name"),
    ({"name": "x", "url": "https://h.example.com:99999/", "events": ["run_failed"]}, "is not a valid URL"),
    ({"name": "x", "url": "https://h.example.com/" + "a" * 2100, "events": ["run_failed"]}, "at most 2,048"),
    ({"name": "n" * 300, "url": "https://h.example.com/", "events": ["run_failed"]}, "name is 300 characters long"),
    ({"name": "two\nlines", "url": "https://h.example.com/", "events": ["run_failed"]}, "one line of text"),
    ({"name": "x", "url": "https://h.example.com/", "events": ["run_exploded"]}, "Unknown event kind 'run_exploded'"),
    ({"name": "x", "url": "https://h.example.com/", "events": []}, "events is empty"),
    ({"name": "x", "url": "https://h.example.com/", "events": "run_failed"}, "events must be a list of strings"),
    ({"name": "x", "url": "https://h.example.com/", "events": ["run_failed"] * 100}, "there are only 4 event kinds"),
    ({"name": "x", "url": "https://h.example.com/", "events": ["run_failed"], "format": "xml"}, "Unknown format 'xml'"),
    ({"name": "x", "url": "https://h.example.com/", "events": ["run_failed"], "assetTypes": ["Tabel"]},
     "Unknown asset type 'Tabel'"),
    ({"name": "x", "url": "https://h.example.com/", "events": ["run_failed"],
      "connectionQualifiedName": "default/glue/404"}, "Unknown connection 'default/glue/404'"),
    ({"name": "x", "url": "https://h.example.com/", "events": ["run_failed"], "enabled": "yes"},
     "enabled must be true or false"),
    ({"name": "x", "url": "https://h.example.com/", "events": ["run_failed"], "secret": "short"},
     "secret must be 16 to 256 characters"),
    ({"name": "x", "url": "https://h.example.com/", "events": ["run_failed"], "colour": "red"},
     "Unknown field 'colour'"),
]


def test_bad_input_is_a_clear_400_and_stores_nothing(server) -> None:
    http = server.client()
    for body, message in BAD_INPUT:
        answer = http.post("/api/service/webhooks", json=body)
        assert answer.status_code == 400, (body, answer.text)
        assert message in answer.json()["errorMessage"], (body, answer.json())
        assert body.get("secret", "no secret") not in answer.json()["errorMessage"]  # never echoes a secret
    not_json = http.post("/api/service/webhooks", content=b"{name: x", headers={"content-type": "application/json"})
    assert not_json.status_code == 400 and "not valid JSON" in not_json.json()["errorMessage"]
    a_list = http.post("/api/service/webhooks", json=["name", "url"])
    assert a_list.status_code == 400 and "valid dictionary" in a_list.json()["errorMessage"]
    assert http.get("/api/service/webhooks").json()["records"] == []

    made = http.post("/api/service/webhooks", json=hook("https://h.example.com/", None)).json()
    one = f"/api/service/webhooks/{made['guid']}"
    before = http.get(one).json()
    for body, message in (({"url": "javascript:alert(1)"}, "url must start with"), ({"events": None}, "list of"),
                          ({"format": None}, "Unknown format None"), ({"guid": "ignored", "size": 1}, "'size'")):
        answer = http.post(one, json=body)
        assert answer.status_code == 400 and message in answer.json()["errorMessage"], (body, answer.text)
    assert http.get(one).json() == before  # a refused update changed nothing
    bad_status = http.get(f"{one}/deliveries", params={"status": "lost"})
    assert bad_status.status_code == 400 and "Unknown delivery status 'lost'" in bad_status.json()["errorMessage"]
    assert http.get(f"{one}/deliveries", params={"limit": 100000}).status_code == 400
    assert http.get("/api/service/webhooks/" + "g" * 200).status_code == 400


def test_deliveries_are_signed_retried_and_logged(hook_server, receivers) -> None:
    http = hook_server.client()
    receiver = receivers(statuses=[500, 503])  # two failures, then 200
    made = http.post("/api/service/webhooks", json=hook(receiver.url, None)).json()
    queued = http.post(f"/api/service/webhooks/{made['guid']}/test")
    assert queued.status_code == 200 and queued.json()["status"] == "pending" and queued.json()["attempts"] == 0
    got = receiver.wait_for(lambda seen: len(seen) == 3)
    log = wait_status(http, made["guid"], "delivered")
    (delivery,) = log["deliveries"]
    assert delivery["attempts"] == 3 and delivery["lastStatus"] == 200 and delivery["lastError"] is None
    assert delivery["deliveredAt"] and log["counts"] == {"pending": 0, "delivered": 1, "failed": 0}
    assert {r.key for r in got} == {delivery["eventKey"]}  # the same idempotency key on every attempt
    assert len({r.body for r in got}) == 1  # the same body too; only the timestamp and signature may change
    for request in got:
        assert request.headers["content-type"] == "application/json"
        assert request.headers["x-gazetteer-event"] == "test"
        assert request.headers["user-agent"].startswith("Gazetteer-Webhooks/")
        assert verify(made["secret"], request.body, request.headers["x-gazetteer-timestamp"],
                      request.headers["x-gazetteer-signature"])
        assert not verify("whsec_not-the-secret-at-all", request.body, request.headers["x-gazetteer-timestamp"],
                          request.headers["x-gazetteer-signature"])
    body = got[-1].json()
    assert body["kind"] == "test" and body["eventKey"] == delivery["eventKey"] and body["assets"] == []
    assert body["webhook"] == {"guid": made["guid"], "name": "alerts"} and body["sentBy"] == ADMIN_USERNAME
    # Backoff: the retries were spread out, not sent at once.
    assert got[2].at - got[0].at >= 0.2
    listed = http.get("/api/service/webhooks").json()["records"][0]["lastDelivery"]
    assert listed["status"] == "delivered" and listed["attempts"] == 3
    assert made["secret"] not in hook_server.log()


def test_a_receiver_down_or_refusing_fails_after_the_last_attempt(hook_server, receivers) -> None:
    http = hook_server.client()
    down = receivers(started=False)  # nothing listens on its port
    refusing = receivers(status=404)
    dead = http.post("/api/service/webhooks", json=hook(down.url, None, name="down")).json()
    gone = http.post("/api/service/webhooks", json=hook(refusing.url, None, name="gone")).json()
    http.post(f"/api/service/webhooks/{dead['guid']}/test")
    http.post(f"/api/service/webhooks/{gone['guid']}/test")
    (failed,) = wait_status(http, dead["guid"], "failed")["deliveries"]
    assert failed["attempts"] == 3 and failed["lastStatus"] is None  # GAZETTEER_WEBHOOK_MAX_ATTEMPTS=3
    assert failed["lastError"].startswith("could not connect:") and down.url not in failed["lastError"]
    (refused,) = wait_status(http, gone["guid"], "failed")["deliveries"]
    assert refused["attempts"] == 3 and refused["lastStatus"] == 404 and refused["lastError"] == "HTTP 404 Not Found"
    assert len(refusing.received) == 3
    only_failed = http.get(f"/api/service/webhooks/{dead['guid']}/deliveries", params={"status": "failed"}).json()
    assert [d["id"] for d in only_failed["deliveries"]] == [failed["id"]] and only_failed["counts"]["failed"] == 1


def test_the_slack_format_posts_a_slack_message(hook_server, receiver) -> None:
    http = hook_server.client()
    made = http.post("/api/service/webhooks", json=hook(receiver.url, None, name="#data-alerts",
                                                        format="slack")).json()
    http.post(f"/api/service/webhooks/{made['guid']}/test")
    (request,) = receiver.wait_for(lambda seen: len(seen) == 1)
    message = request.json()
    assert set(message) == {"text", "blocks"}
    assert message["text"] == "Test delivery from Gazetteer for webhook #data-alerts"
    assert message["blocks"][0]["type"] == "section" and message["blocks"][-1]["type"] == "context"
    assert json.dumps(message).count("`test`") == 1
    assert verify(made["secret"], request.body, request.headers["x-gazetteer-timestamp"],
                  request.headers["x-gazetteer-signature"])
