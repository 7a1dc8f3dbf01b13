"""What the HTTP client raises, so callers can tell a refused request from an unreachable server."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["GazetteerClientError", "GazetteerAPIError", "GazetteerConnectionError"]


class GazetteerClientError(Exception):
    """Base of every error `gazetteer.client` raises about talking to a server."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class GazetteerAPIError(GazetteerClientError):
    """The server answered with something other than 200; `code` and `message` come from its error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code

    def __str__(self) -> str:
        return f"{self.code} (HTTP {self.status}): {self.message}"

    @classmethod
    def from_response(cls, status: int, text: str) -> GazetteerAPIError:
        """Build the error from an Atlan-style body `{"errorCode","errorMessage"}` or Heracles' `{"code","message"}`."""
        body: Any = None
        try:
            body = json.loads(text) if text else None
        except ValueError:
            pass
        if isinstance(body, dict):
            code = body.get("errorCode") or body.get("code") or body.get("status")
            message = body.get("errorMessage") or body.get("message")
            if code is not None and message:
                return cls(status, str(code), str(message))
        return cls(status, f"HTTP-{status}", (text or "").strip()[:500] or f"HTTP {status} with an empty body")


class GazetteerConnectionError(GazetteerClientError):
    """The server could not be reached or did not answer in time."""
