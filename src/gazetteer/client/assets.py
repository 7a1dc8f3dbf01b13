"""The asset search a Gazetteer server answers at POST /api/meta/search/indexsearch, as the web UI searches.

What for: `gazetteer search` sends this body to a server, or hands it to the function behind that route on the
local catalog; either way one request decides what is found and in which order, and the answer is the same.
The query is the one the web UI's search box makes (`gazetteer.assets.text_search`; a test checks they agree):
every word must be found in the asset's name, its descriptions (crawled and curated) or, for a table or view,
its columns' names, the last word also as a prefix; best matches first (exact name, then names starting with
the text...). With no words: every active asset, by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gazetteer.client.api import GazetteerClient

__all__ = ["SEARCH_PATH", "SEARCH_ATTRIBUTES", "text_search_body", "entities_of", "search_assets"]

SEARCH_PATH = "/api/meta/search/indexsearch"
# Beside the name and qualified name every hit has: the crawled and the curated description.
SEARCH_ATTRIBUTES = ("description", "userDescription")


def text_search_body(text: str, type_name: str | None = None, size: int = 50) -> dict[str, Any]:
    """The body of the web UI's search for `text`: active assets (of `type_name` only, if given), best first."""
    filters: list[dict[str, Any]] = [{"term": {"__state": "ACTIVE"}}]
    if type_name:
        filters.append({"terms": {"__typeName.keyword": [type_name]}})
    query: dict[str, Any] = {"bool": {"filter": filters}}
    # The total is not shown, and counting every hit costs a pass over them all.
    dsl: dict[str, Any] = {"from": 0, "size": size, "track_total_hits": False, "query": query}
    if text.strip():
        query["bool"]["must"] = [{"multi_match": {"query": text, "operator": "and"}}]
    else:
        dsl["sort"] = [{"name.keyword": {"order": "asc"}}]
    return {"dsl": dsl, "attributes": list(SEARCH_ATTRIBUTES)}


def entities_of(answer: Any) -> list[dict[str, Any]]:
    """The entities (Atlas entity headers) of a search answer, best first; a page with none has no key."""
    entities = (answer.get("entities") or []) if isinstance(answer, dict) else []
    return [entity for entity in entities if isinstance(entity, dict)]


def search_assets(client: GazetteerClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The entities a server finds for a search body (e.g. `text_search_body(...)`), best first."""
    return entities_of(client.call("POST", SEARCH_PATH, body=body))
