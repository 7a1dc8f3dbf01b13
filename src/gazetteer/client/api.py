"""`GazetteerClient`: the workflow API pyatlan calls (docs/design.md, Atlan contract), for users without pyatlan."""

from __future__ import annotations

import json
import os
from typing import Any

import httpx

from gazetteer import __version__
from gazetteer.client.errors import GazetteerAPIError, GazetteerConnectionError
from gazetteer.client.workflow import WorkflowClient

__all__ = ["GazetteerClient", "RoleCache", "DEFAULT_URL"]

DEFAULT_URL = "http://127.0.0.1:8000"


class GazetteerClient:
    """Connection to a Gazetteer server: base URL, API token, and the `workflow` and `role_cache` helpers.

    `base_url` defaults to `$GAZETTEER_URL` (else http://127.0.0.1:8000) and `api_token` to `$GAZETTEER_TOKEN`.
    A path prefix in the base URL is kept (`http://host/gz` calls `http://host/gz/api/service/...`).
    `transport` lets tests substitute an `httpx.MockTransport`.
    """

    def __init__(self, base_url: str | None = None, api_token: str | None = None, *, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = (base_url or os.environ.get("GAZETTEER_URL") or DEFAULT_URL).rstrip("/")
        token = api_token if api_token is not None else os.environ.get("GAZETTEER_TOKEN", "")
        headers = {"Accept": "application/json", "User-Agent": f"gazetteer-client/{__version__}"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout, transport=transport)
        self.workflow = WorkflowClient(self)
        self.role_cache = RoleCache(self)

    def __enter__(self) -> GazetteerClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the HTTP connections."""
        self._http.close()

    def call(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        """Send one request and return the parsed JSON answer (None for an empty 200).

        Bodies are written with `json.dumps` defaults, byte for byte what pyatlan sends for the same dict.
        Raises `GazetteerAPIError` on any status but 200 and `GazetteerConnectionError` when unreachable.
        """
        content = None if body is None else json.dumps(body).encode()
        headers = {"content-type": "application/json"} if content is not None else None
        try:
            response = self._http.request(method, path, content=content, params=params, headers=headers)
        except httpx.HTTPError as error:
            raise GazetteerConnectionError(f"Cannot reach the Gazetteer server at {self.base_url}: {error}") from error
        if response.status_code != 200:
            raise GazetteerAPIError.from_response(response.status_code, response.text)
        if not response.content.strip():
            return None
        try:
            return response.json()
        except ValueError as error:
            raise GazetteerAPIError(200, "HTTP-200-JSON", f"{method} {path} answered with non-JSON: "
                                    f"{response.text[:200]!r}") from error


class RoleCache:
    """Role name → id lookups (GET /api/service/roles), as pyatlan's `client.role_cache`."""

    def __init__(self, client: GazetteerClient) -> None:
        self._client = client
        self._by_name: dict[str, str] | None = None

    def refresh(self) -> dict[str, str]:
        """Reload the roles whose names start with `$` (the same query as pyatlan's role cache)."""
        params = {"count": "True", "offset": "0", "limit": "100", "filter": '{"name":{"$ilike":"$%"}}'}
        answer = self._client.call("GET", "/api/service/roles", params=params) or {}
        records = answer.get("records") or []
        self._by_name = {r["name"]: r["id"] for r in records if isinstance(r, dict) and "name" in r and "id" in r}
        return self._by_name

    def get_id_for_name(self, name: str) -> str | None:
        """The id of the role with this name (e.g. `$admin`), or None if the server has no such role."""
        if self._by_name is None or name not in self._by_name:
            self.refresh()
        return (self._by_name or {}).get(name)

    def get_ids(self) -> set[str]:
        """Every known role id."""
        return set((self._by_name if self._by_name is not None else self.refresh()).values())
