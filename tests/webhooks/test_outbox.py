"""The outbox and its claims on a real catalog (SQLite, then PostgreSQL): who gets a delivery, idempotency,
claims that never overlap and expire, outcomes fenced by the claim, backoff; signing; the Slack shape."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from gazetteer.credentials.keys import KeyRing
from gazetteer.store.schema import webhook_deliveries, webhooks
from gazetteer.webhooks import signing, slack
from gazetteer.webhooks.claims import Outcome, claim, release_all, retry_delay, settle
from gazetteer.webhooks.outbox import EVENT_KINDS, MAX_ASSETS, enqueue, event_key

CONNECTION = "default/glue/1700000000"
OTHER = "default/glue/1700000001"
KEYS = KeyRing("test vault key")


def subscribe(engine, events=EVENT_KINDS, connection=CONNECTION, asset_types=None, enabled=True) -> str:
    guid, now = str(uuid.uuid4()), datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(webhooks.insert().values(
            guid=guid, name=f"hook {guid[:4]}", url="http://127.0.0.1:9/hook", secret=KEYS.seal(b"s" * 20),
            connection_qualified_name=connection, asset_types=asset_types, events=list(events), enabled=enabled,
            created_by="test", created_at=now, updated_at=now))
    return guid


def delivered_to(engine) -> dict[str, list]:
    query = sa.select(webhooks.c.guid, webhook_deliveries.c.body).join(webhooks)
    found: dict[str, list] = {}
    with engine.connect() as conn:
        for guid, body in conn.execute(query):
            found.setdefault(guid, []).append(body)
    return found


def asset(type_name: str, name: str) -> dict:
    return {"typeName": type_name, "qualifiedName": f"{CONNECTION}/db/sales/{name}", "guid": str(uuid.uuid4()),
            "name": name}


def test_each_interested_subscription_gets_one_delivery(engine) -> None:
    mine = subscribe(engine, events=["breaking_change"])
    everywhere = subscribe(engine, events=["breaking_change", "run_failed"], connection=None)
    subscribe(engine, events=["breaking_change"], connection=OTHER)  # another connection
    subscribe(engine, events=["asset_archived"])  # another kind
    subscribe(engine, events=["breaking_change"], enabled=False)
    tables = subscribe(engine, events=["breaking_change"], asset_types=["Table"])
    columns = subscribe(engine, events=["breaking_change"], asset_types=["Column"])
    assets = [asset("Table", "orders"), asset("View", "orders_v")]
    with engine.begin() as conn:
        written = enqueue(conn, "breaking_change", key="run-1:breaking", connection_qualified_name=CONNECTION,
                          body={"run": "run-1", "at": datetime(2024, 5, 1, tzinfo=UTC)}, assets=assets)
    assert written == 3
    found = delivered_to(engine)
    assert set(found) == {mine, everywhere, tables}  # the Column one: none of the assets is a column
    body = found[mine][0]
    assert body["kind"] == "breaking_change" and body["run"] == "run-1" and body["at"] == "2024-05-01T00:00:00+00:00"
    assert body["eventKey"] == event_key(mine, "run-1:breaking") and len(body["eventKey"]) == 64
    assert [a["name"] for a in body["assets"]] == ["orders", "orders_v"] and body["moreAssets"] == 0
    assert [a["name"] for a in found[tables][0]["assets"]] == ["orders"]
    assert columns not in found
    # An event without assets reaches a subscription with asset types all the same (a run's end has none).
    with engine.begin() as conn:
        assert enqueue(conn, "breaking_change", key="run-2:breaking", connection_qualified_name=CONNECTION,
                       body={}) == 4
    # A subscription to every connection hears of events that name none; the others do not.
    with engine.begin() as conn:
        assert enqueue(conn, "run_failed", key="nowhere", connection_qualified_name=None, body={}) == 1


def test_the_same_key_twice_adds_nothing_and_the_callers_transaction_goes_on(engine) -> None:
    guid = subscribe(engine)
    with engine.begin() as conn:
        assert enqueue(conn, "run_failed", key="run-9", connection_qualified_name=CONNECTION, body={"n": 1}) == 1
        # On PostgreSQL a unique violation would abort the transaction; ON CONFLICT DO NOTHING does not.
        assert enqueue(conn, "run_failed", key="run-9", connection_qualified_name=CONNECTION, body={"n": 2}) == 0
        conn.execute(sa.select(1))
    with engine.begin() as conn:
        assert enqueue(conn, "run_failed", key="run-9", connection_qualified_name=CONNECTION, body={"n": 3}) == 0
    assert [body["n"] for body in delivered_to(engine)[guid]] == [1]
    # Rolled back with the caller: nothing was written.
    with pytest.raises(RuntimeError), engine.begin() as conn:
        enqueue(conn, "run_failed", key="run-10", connection_qualified_name=CONNECTION, body={})
        raise RuntimeError("the change failed")
    assert len(delivered_to(engine)[guid]) == 1
    with engine.begin() as conn, pytest.raises(ValueError, match="unknown webhook event kind"):
        enqueue(conn, "run_exploded", key="x", connection_qualified_name=CONNECTION, body={})


def test_a_delivery_names_at_most_a_hundred_assets_and_counts_the_rest(engine) -> None:
    guid = subscribe(engine, asset_types=["Table"])
    many = [asset("Table", f"t{i}") for i in range(MAX_ASSETS + 20)] + [asset("Column", "c")]
    with engine.begin() as conn:
        enqueue(conn, "asset_archived", key="k", connection_qualified_name=CONNECTION, body={}, assets=many)
    body = delivered_to(engine)[guid][0]
    assert len(body["assets"]) == MAX_ASSETS and body["moreAssets"] == 20


def _queue(engine, count: int) -> str:
    guid = subscribe(engine)
    with engine.begin() as conn:
        for number in range(count):
            enqueue(conn, "run_succeeded", key=f"run-{number}", connection_qualified_name=CONNECTION, body={})
    return guid


def test_claims_do_not_overlap_and_an_expired_claim_is_taken_again(engine) -> None:
    _queue(engine, 5)
    now = datetime.now(UTC)
    first = claim(engine, limit=3, lease_seconds=30, now=now)
    second = claim(engine, limit=10, lease_seconds=30, now=now)
    assert len(first) == 3 and len(second) == 2
    assert not {c.id for c in first} & {c.id for c in second}
    assert claim(engine, limit=10, lease_seconds=30, now=now + timedelta(seconds=29)) == []
    # The process holding `first` died: its claims expire and another dispatcher takes them.
    later = now + timedelta(seconds=31)
    again = claim(engine, limit=10, lease_seconds=30, now=later)
    assert {c.id for c in again} == {c.id for c in first} | {c.id for c in second}
    # The dead one's outcome, should it still arrive, is fenced off: its claim is no longer the row's.
    assert settle(engine, first[0], Outcome(True, 200), max_attempts=3, retry_seconds=1) is None
    taken = next(c for c in again if c.id == first[0].id)
    assert settle(engine, taken, Outcome(True, 200), max_attempts=3, retry_seconds=1) == "delivered"
    assert "secret" not in repr(taken) and taken.url not in repr(taken)


def test_failed_attempts_back_off_then_fail_and_release_frees_claims(engine) -> None:
    _queue(engine, 2)
    now = datetime.now(UTC)
    one, two = claim(engine, limit=2, lease_seconds=30, now=now)
    assert settle(engine, one, Outcome(False, 500, "HTTP 500 Internal Server Error"), max_attempts=2,
                  retry_seconds=10, now=now) == "pending"
    with engine.connect() as conn:
        row = conn.execute(sa.select(webhook_deliveries).where(webhook_deliveries.c.id == one.id)).one()
    assert row.attempts == 1 and row.last_status == 500 and row.claimed_until is None
    assert row.last_error == "HTTP 500 Internal Server Error"
    assert timedelta(seconds=5) <= row.next_attempt_at - now <= timedelta(seconds=10)
    assert claim(engine, limit=5, lease_seconds=30, now=now + timedelta(seconds=4)) == []  # not due yet
    (retry,) = claim(engine, limit=5, lease_seconds=30, now=now + timedelta(seconds=11))
    assert retry.attempts == 1
    assert settle(engine, retry, Outcome(False, None, "could not connect: refused"), max_attempts=2,
                  retry_seconds=10) == "failed"
    # A process that restarts on SQLite frees its last life's claims at once.
    assert release_all(engine) == 1
    assert [c.id for c in claim(engine, limit=5, lease_seconds=30)] == [two.id]


def test_backoff_doubles_with_jitter_up_to_an_hour() -> None:
    for attempts, full in ((1, 10), (2, 20), (3, 40), (12, 3600), (60, 3600)):
        delays = [retry_delay(attempts, 10) for _ in range(50)]
        assert all(full / 2 <= delay <= full for delay in delays)
        assert len(set(delays)) > 1


def test_concurrent_dispatchers_never_claim_the_same_delivery(engine) -> None:
    _queue(engine, 60)
    taken: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def dispatcher() -> None:
        start.wait()
        while True:
            got = claim(engine, limit=3, lease_seconds=60)
            if not got:
                return
            with lock:
                taken.extend(c.id for c in got)

    threads = [threading.Thread(target=dispatcher) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(taken) == 60 and len(set(taken)) == 60


def test_a_signature_verifies_with_the_secret_and_a_fresh_timestamp() -> None:
    body, secret, at = b'{"kind":"test"}', "whsec_0123456789abcdef", 1_700_000_000
    signature = signing.sign(secret, at, body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert signing.verify(secret, body, str(at), signature, now=at + 10)
    assert not signing.verify(secret, body, str(at), signature, now=at + 301)  # too old: a replay
    assert not signing.verify("another secret value", body, str(at), signature, now=at)
    assert not signing.verify(secret, body + b" ", str(at), signature, now=at)
    assert not signing.verify(secret, body, "soon", signature, now=at)
    assert signing.new_secret().startswith("whsec_") and signing.new_secret() != signing.new_secret()


def test_a_slack_message_says_what_happened_and_links_into_the_ui() -> None:
    body = {"kind": "breaking_change", "connectionQualifiedName": CONNECTION, "run": "atlan-glue-1-abcde",
            "summary": "2 breaking schema changes in run atlan-glue-1-abcde", "at": "2024-05-01T00:00:00+00:00",
            "assets": [{**asset("Table", "orders<script>"), "action": "updated", "affected": [{"guid": "x"}]}]
            + [asset("Table", f"t{i}") for i in range(12)], "moreAssets": 5}
    message = slack.message(body, "https://catalog.example.com")
    assert set(message) == {"text", "blocks"}
    assert message["text"] == f"Breaking schema change in {CONNECTION}: 2 breaking schema changes in run " \
                              "atlan-glue-1-abcde"
    listing = message["blocks"][1]["text"]["text"]
    first = body["assets"][0]
    assert f"<https://catalog.example.com/assets/{first['guid']}|" in listing
    assert "orders&lt;script&gt;" in listing and "<script>" not in listing
    assert "1 downstream asset affected" in listing and "… and 8 more" in listing
    run = slack.message({"kind": "run_failed", "workflow": "atlan-glue-1", "run": "atlan-glue-1-abcde",
                         "phase": "Failed", "message": "check the access key", "connectionQualifiedName": CONNECTION},
                        "https://catalog.example.com")
    assert run["text"] == f"Run atlan-glue-1-abcde of atlan-glue-1 failed (Failed) in {CONNECTION}: check the " \
                          "access key"
    assert "<https://catalog.example.com/workflows/atlan-glue-1#run-atlan-glue-1-abcde|atlan-glue-1-abcde>" in \
           run["blocks"][0]["text"]["text"]
    # Without a public URL there is nowhere to link to: names stay plain.
    assert "<http" not in str(slack.message(body, None)["blocks"])
