"""What a webhook subscription may say, checked field by field with a message that names the field and the fix.

The API, the CLI (through the API) and the UI form all send the same JSON object; bad input is an
InvalidRequest (400), never a 500. A message never quotes the secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from gazetteer.assets.records import ASSET_TYPES
from gazetteer.errors import InvalidRequest
from gazetteer.webhooks.outbox import EVENT_KINDS

__all__ = ["FIELDS", "FORMATS", "MAX_NAME", "MAX_URL", "MAX_SECRET", "MIN_SECRET", "WebhookInput", "parse"]

FORMATS = ("json", "slack")
MAX_NAME = 255
MAX_URL = 2048
MIN_SECRET, MAX_SECRET = 16, 256
MAX_QUALIFIED_NAME = 1024
# The API's names → the columns they set (the secret is sealed apart).
FIELDS = {"name": "name", "url": "url", "events": "events", "format": "format",
          "connectionQualifiedName": "connection_qualified_name", "assetTypes": "asset_types", "enabled": "enabled",
          "secret": None}
# What an answer carries besides: sent back in an update (a GET, edited, POSTed again), they are ignored.
READ_ONLY = frozenset({"guid", "createdBy", "createdAt", "updatedAt", "lastDelivery"})


@dataclass(frozen=True, repr=False)
class WebhookInput:
    """The columns a body sets, checked, and the secret it gives (if any)."""

    columns: dict[str, Any]
    secret: str | None

    def __repr__(self) -> str:
        return f"WebhookInput({sorted(self.columns)}, secret={'given' if self.secret else 'none'})"


def _text(body: Mapping[str, Any], field: str, limit: int) -> str:
    value = body[field]
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"{field} must be a non-empty string.")
    value = value.strip()
    if len(value) > limit:
        raise InvalidRequest(f"{field} is {len(value):,} characters long; at most {limit:,} are allowed.")
    if any(ord(character) < 32 or ord(character) == 127 for character in value):
        raise InvalidRequest(f"{field} must be one line of text, without control characters.")
    return value


def _url(body: Mapping[str, Any]) -> str:
    url = _text(body, "url", MAX_URL)
    if any(character.isspace() for character in url):
        raise InvalidRequest("url must not contain spaces.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number from 0 to 65535
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        raise InvalidRequest(f"url {url!r} is not a valid URL.") from None
    if parts.scheme.lower() not in ("http", "https"):
        given = f"{parts.scheme}:" if parts.scheme else "a bare host"
        raise InvalidRequest(f"url must start with https:// or http://, not {given} "
                             "(e.g. https://hooks.example.com/gazetteer).")
    if not parts.hostname:
        raise InvalidRequest("url has no host: give the full address, e.g. https://hooks.example.com/gazetteer.")
    if parts.username is not None or parts.password is not None:
        raise InvalidRequest("url must not carry a user name or password: answers and logs show the URL. The "
                             "receiver should check each delivery's signature instead.")
    return url


def _choices(body: Mapping[str, Any], field: str, allowed: tuple[str, ...], what: str, *,
             empty_ok: bool) -> list[str] | None:
    value = body[field]
    if value is None and empty_ok:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidRequest(f"{field} must be a list of strings, e.g. {list(allowed[:2])}.")
    if len(value) > 4 * len(allowed):
        raise InvalidRequest(f"{field} has {len(value):,} entries; there are only {len(allowed)} {what}s.")
    unknown = [item for item in value if item not in allowed]
    if unknown:
        raise InvalidRequest(f"Unknown {what} {unknown[0][:100]!r} in {field}: choose from {', '.join(allowed)}.")
    chosen = list(dict.fromkeys(value))
    if not chosen and not empty_ok:
        raise InvalidRequest(f"{field} is empty: choose at least one of {', '.join(allowed)}.")
    return chosen or None


def _secret(body: Mapping[str, Any]) -> str:
    value = body["secret"]
    if not isinstance(value, str):
        raise InvalidRequest("secret must be a string.")
    if not MIN_SECRET <= len(value) <= MAX_SECRET:
        raise InvalidRequest(f"secret must be {MIN_SECRET} to {MAX_SECRET} characters long (leave it out and one is "
                             "generated and shown once).")
    if any(ord(character) < 33 or ord(character) == 127 for character in value):
        raise InvalidRequest("secret must not contain spaces or control characters.")
    return value


def _connection(body: Mapping[str, Any]) -> str | None:
    if body["connectionQualifiedName"] is None:
        return None
    return _text(body, "connectionQualifiedName", MAX_QUALIFIED_NAME)


def _check(body: Mapping[str, Any], field: str) -> Any:
    if field == "name":
        return _text(body, field, MAX_NAME)
    if field == "url":
        return _url(body)
    if field == "events":
        return _choices(body, field, EVENT_KINDS, "event kind", empty_ok=False)
    if field == "assetTypes":
        return _choices(body, field, ASSET_TYPES, "asset type", empty_ok=True)
    if field == "format":
        if body[field] not in FORMATS:
            shown = repr(body[field])[:100]
            raise InvalidRequest(f"Unknown format {shown}: use \"json\" (the event as JSON) or \"slack\" (a Slack "
                                 "incoming-webhook message).")
        return body[field]
    if field == "enabled":
        if not isinstance(body[field], bool):
            raise InvalidRequest("enabled must be true or false.")
        return body[field]
    return _connection(body)


def parse(body: Any, *, partial: bool) -> WebhookInput:
    """Check a create body (`partial=False`: name, url and events are required) or an update body (any subset)."""
    if not isinstance(body, Mapping):
        raise InvalidRequest('Send a JSON object, e.g. {"name": "alerts", "url": "https://hooks.example.com/x", '
                             '"events": ["breaking_change"], "connectionQualifiedName": "default/glue/1700000000"}.')
    unknown = [key for key in body if key not in FIELDS and key not in READ_ONLY]
    if unknown:
        raise InvalidRequest(f"Unknown field {str(unknown[0])[:100]!r}: a webhook has {', '.join(FIELDS)}.")
    if not partial:
        missing = [field for field in ("name", "url", "events") if field not in body]
        if missing:
            raise InvalidRequest(f"{missing[0]} is required (a webhook needs a name, a url and its events).")
    columns = {column: _check(body, field) for field, column in FIELDS.items() if column and field in body}
    return WebhookInput(columns, _secret(body) if "secret" in body and body["secret"] is not None else None)
