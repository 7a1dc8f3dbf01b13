"""The web UI's search by words, asked of a Gazetteer server (GET /api/meta/search/text).

What for: `gazetteer search` with GAZETTEER_URL. The server answers with the function the CLI calls on a local
catalog (`gazetteer.api.asset_search.text_search_answer`), which is the search page's own ranked search: every
word must be found in the asset's name, its descriptions (crawled and curated) or, for a table or view, its
columns' names; tables and views before columns, the most viewed first. So one search decides what is found and
in which order, wherever the CLI runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gazetteer.client.api import GazetteerClient

__all__ = ["SEARCH_PATH", "entities_of", "search_assets"]

SEARCH_PATH = "/api/meta/search/text"


def entities_of(answer: Any) -> list[dict[str, Any]]:
    """The entities (Atlas entity headers) of a search answer, best first; a page with none has no key."""
    entities = (answer.get("entities") or []) if isinstance(answer, dict) else []
    return [entity for entity in entities if isinstance(entity, dict)]


def search_assets(client: GazetteerClient, text: str, type_name: str | None = None, size: int = 50
                  ) -> list[dict[str, Any]]:
    """The assets a server's search by words finds, best first."""
    params: dict[str, Any] = {"q": text, "size": size, **({"type": type_name} if type_name else {})}
    return entities_of(client.call("GET", SEARCH_PATH, params=params))
