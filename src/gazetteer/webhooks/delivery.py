"""The dispatcher: a thread in each server process that claims due deliveries and posts them, a few at a time.

What for: receivers are other people's servers, down, slow or failing. Deliveries are sent from a small pool
(GAZETTEER_WEBHOOK_SENDERS) with a short timeout, so one slow receiver holds up one sender, never the others
and never a crawl (which only wrote rows: `gazetteer.webhooks.outbox`). Which process sends what is decided by
the claims in the database (`gazetteer.webhooks.claims`), so any number of servers may run a dispatcher.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import httpx
from sqlalchemy.engine import Engine

from gazetteer import __version__
from gazetteer.credentials.vault import Vault
from gazetteer.settings import Settings
from gazetteer.webhooks import signing, slack
from gazetteer.webhooks.claims import Claimed, Outcome, claim, prune, release_all, settle

__all__ = ["Dispatcher", "KEEP_FINISHED", "render", "send"]

log = logging.getLogger(__name__)

KEEP_FINISHED = timedelta(days=30)  # the delivery log keeps delivered and failed deliveries this long
_PRUNE_EVERY = 600.0
_MAX_SECRETS = 1000


def render(claimed: Claimed, public_url: str | None) -> bytes:
    """The body bytes to send (and sign): the stored JSON, or a Slack message made from it."""
    document = slack.message(claimed.body, public_url) if claimed.format == "slack" else claimed.body
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _reason(error: Exception, url: str) -> str:
    # httpx's messages are the socket's ("[Errno 111] Connection refused"); the URL is cut out in case one
    # quotes it (a Slack URL is a credential).
    text = " ".join(str(error).replace(url, "<url>").split()) or type(error).__name__
    return text[:200]


def send(http: httpx.Client, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
    """POST once; a 2xx is delivered, anything else is not, with a short plain reason. The answer's body is
    never read: nothing a receiver says is stored or shown, and a huge answer costs nothing."""
    try:
        with http.stream("POST", url, content=body, headers=headers) as answer:
            status = answer.status_code
    except httpx.TimeoutException:
        return Outcome(False, None, f"no answer within {timeout:g} s")
    except httpx.ConnectError as error:
        return Outcome(False, None, f"could not connect: {_reason(error, url)}")
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        return Outcome(False, None, f"{type(error).__name__}: {_reason(error, url)}")
    if 200 <= status < 300:
        return Outcome(True, status)
    try:
        phrase = f" {HTTPStatus(status).phrase}"
    except ValueError:
        phrase = ""
    if 300 <= status < 400:
        return Outcome(False, status, f"HTTP {status}{phrase}: redirects are not followed; give the final URL")
    return Outcome(False, status, f"HTTP {status}{phrase}")


class Dispatcher:
    """Claims due deliveries while it has free senders, posts them from a thread pool, records each outcome."""

    def __init__(self, engine: Engine, vault: Vault, settings: Settings, *, recover: bool) -> None:
        self.engine, self.vault, self.settings, self.recover = engine, vault, settings, recover
        self.timeout = settings.webhook_timeout_seconds
        # A claim outlives the attempt it covers (connect, send, first byte of the answer) with room to record it.
        self.lease_seconds = 2 * self.timeout + 10
        self._senders = settings.webhook_senders
        self._free = self._senders
        self._lock = threading.Lock()
        self._wake, self._stop = threading.Event(), threading.Event()
        self._pool = ThreadPoolExecutor(self._senders, thread_name_prefix="gazetteer-webhook")
        self._thread = threading.Thread(target=self._loop, name="gazetteer-webhooks", daemon=True)
        self._http = httpx.Client(timeout=httpx.Timeout(self.timeout), follow_redirects=False, trust_env=False,
                                  headers={"User-Agent": f"Gazetteer-Webhooks/{__version__}"})
        self._secrets: dict[tuple[int, str], str | None] = {}
        self._pruned = 0.0

    def start(self) -> Dispatcher:
        if self.recover:
            release_all(self.engine)
        self._thread.start()
        return self

    def wake(self) -> None:
        """Look for due deliveries now rather than at the next poll (after a commit that queued some)."""
        self._wake.set()

    def stop(self) -> None:
        """Claim nothing more; let the attempts in flight finish (each within the timeout) and record them."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=self.lease_seconds)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._http.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                busy = self.tick()
            except Exception:  # noqa: BLE001 - the database away: deliveries wait in it, try again later
                log.exception("webhook dispatch failed; trying again in %s s", self.settings.webhook_poll_seconds)
                busy = False
            if not busy:
                self._wake.wait(self.settings.webhook_poll_seconds)

    def tick(self) -> bool:
        """Claim as many due deliveries as there are free senders and hand them out; whether the batch was full
        (more may be due at once)."""
        with self._lock:
            free = self._free
        if free <= 0 or self._stop.is_set():
            return False
        claimed = claim(self.engine, limit=free, lease_seconds=self.lease_seconds)
        for delivery in claimed:
            with self._lock:
                self._free -= 1
            self._pool.submit(self._deliver, delivery)
        if time.monotonic() - self._pruned > _PRUNE_EVERY:
            self._pruned = time.monotonic()
            prune(self.engine, datetime.now(UTC) - KEEP_FINISHED)
        return len(claimed) == free

    def _secret(self, claimed: Claimed) -> str | None:
        cache_key = (claimed.webhook_id, claimed.sealed_secret)
        if cache_key not in self._secrets:
            if len(self._secrets) >= _MAX_SECRETS:
                self._secrets.clear()
            opened = self.vault.keys.open(claimed.sealed_secret)
            self._secrets[cache_key] = None if opened is None else opened.plain.decode("utf-8")
        return self._secrets[cache_key]

    def attempt(self, claimed: Claimed) -> Outcome:
        """Sign and post one delivery."""
        secret = self._secret(claimed)
        if secret is None:
            return Outcome(False, None, "the webhook's secret cannot be decrypted: the vault key changed "
                                        "(set GAZETTEER_OLD_SECRET_KEYS to the previous key, or give the webhook a "
                                        "new secret)")
        body = render(claimed, self.settings.public_url)
        headers = signing.headers(claimed.kind, claimed.event_key, secret, body, int(time.time()))
        return send(self._http, claimed.url, body, headers, self.timeout)

    def _deliver(self, claimed: Claimed) -> None:
        try:
            outcome = self.attempt(claimed)
            status = settle(self.engine, claimed, outcome, max_attempts=self.settings.webhook_max_attempts,
                            retry_seconds=self.settings.webhook_retry_seconds)
            if status == "failed":
                log.warning("webhook %r: delivery %s (%s) failed for good after %s attempts: %s",
                            claimed.webhook_name, claimed.id, claimed.kind, claimed.attempts + 1, outcome.error)
        except Exception:  # noqa: BLE001 - the claim expires and another attempt follows
            log.exception("webhook delivery %s could not be attempted or recorded", claimed.id)
        finally:
            with self._lock:
                self._free += 1
            self._wake.set()
