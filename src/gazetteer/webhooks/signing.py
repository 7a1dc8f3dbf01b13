"""Signing webhook deliveries, and checking a signature as a receiver does.

The signature is `sha256=<hex>`, an HMAC-SHA256 with the subscription's secret of `<timestamp>.<body>`: the
Unix seconds sent in X-Gazetteer-Timestamp, a dot, then the body bytes exactly as sent. Signing the timestamp
with the body lets a receiver refuse a captured delivery replayed later (`verify` allows `tolerance` seconds).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

__all__ = ["SECRET_PREFIX", "SIGNATURE_PREFIX", "TOLERANCE_SECONDS", "headers", "new_secret", "sign", "verify"]

SECRET_PREFIX = "whsec_"  # recognisable to people and secret scanners, like API tokens' gzt_
SIGNATURE_PREFIX = "sha256="
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    """A fresh random secret (256 bits)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`."""
    message = str(timestamp).encode("ascii") + b"." + body
    return SIGNATURE_PREFIX + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, timestamp: str, signature: str, *, tolerance: float = TOLERANCE_SECONDS,
           now: float | None = None) -> bool:
    """Whether `signature` signs `body` at `timestamp` (the headers' text) with `secret`, and that moment is
    within `tolerance` seconds of now."""
    try:
        moment = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - moment) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, moment, body), signature)


def headers(kind: str, event_key: str, secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The headers of one delivery attempt (the timestamp is the attempt's; the event key never changes)."""
    return {"Content-Type": "application/json", "X-Gazetteer-Event": kind, "X-Gazetteer-Delivery": event_key,
            "X-Gazetteer-Timestamp": str(timestamp), "X-Gazetteer-Signature": sign(secret, timestamp, body)}
