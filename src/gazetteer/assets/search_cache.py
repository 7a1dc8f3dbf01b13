"""Search results worth keeping between requests: facet counts, totals, and pages of searches with facets.

What for: the search page with no text asks for five facets counted over every active asset, and its first
page sorted by name: a pass over the whole catalog (seconds at a million assets) on every load, for an
answer that only changes when a crawl or an edit commits. So each API process keeps, per engine, the last
`SIZE` such answers (least recently used first out), keyed by the catalog's generation (see
`gazetteer.store.generation`) and by what the search asks: a request is served from here only if nothing
that can change a search was committed since the answer was computed, in this process or any other, except
the pages of a crawl still running: an answer is served for up to `CRAWL_LAG` seconds after one of those
commits, so that a long crawl costs each process one recount per search every few seconds, not one per
request. Its end, its rollback and every edit are seen at once.

Facets and pages are kept for searches with aggregations (the search page, API clients asking for facets):
they are the ones that read whole match sets. Totals are kept for any search that has to count its matches
(a page that does not tell the total by itself): pyatlan asks for the exact total with every page it reads.
Other searches (lookups by name or guid, ranked full-text pages, short pages) are fast already and read no
generation. Queries with date math relative to "now" are not cached, as their match set moves with the clock.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
import time
import weakref
from collections import OrderedDict
from typing import Any

from sqlalchemy.engine import Engine

from gazetteer.search import DateMath, SearchRequest

__all__ = ["SIZE", "CRAWL_LAG", "MAX_KEPT_BUCKETS", "SearchCache", "cache_for", "count_key", "request_key",
           "worth_keeping"]

SIZE = 256
# Facets with more buckets than this between them are not kept (the search page has 5 × 25 at most): with
# aggregations of up to 10,000 buckets each, SIZE entries could otherwise hold hundreds of megabytes.
MAX_KEPT_BUCKETS = 2000
# Seconds an answer may lag the pages of a running crawl: the search page's counts catch up within this while
# a crawl publishes (bench/load.py: recounting at every page cost 3-4x the cached search).
CRAWL_LAG = 5.0


class SearchCache:
    """A bounded LRU map from keys to values, safe across the server's threads; values are copied out."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, pages: int = 0) -> Any | None:
        """The value kept for `key` if computed at `pages` (a running crawl's page count), or `CRAWL_LAG`
        seconds ago at most."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            value, computed_pages, computed_at = entry
            if computed_pages != pages and time.monotonic() - computed_at > CRAWL_LAG:
                return None
            self._entries.move_to_end(key)
        return copy.deepcopy(value)  # callers may change the answer they get (buckets are plain dicts)

    def put(self, key: Any, value: Any, pages: int = 0) -> None:
        value = copy.deepcopy(value)
        with self._lock:
            self._entries[key] = (value, pages, time.monotonic())
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


_caches: weakref.WeakKeyDictionary[Engine, SearchCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def cache_for(engine: Engine) -> SearchCache:
    """This engine's cache (one per engine: two catalogs never share entries, whatever their generations)."""
    with _caches_lock:
        cache = _caches.get(engine)
        if cache is None:
            cache = _caches[engine] = SearchCache()
        return cache


def worth_keeping(buckets: int) -> bool:
    """Whether facets with this many buckets between them are small enough to keep."""
    return buckets <= MAX_KEPT_BUCKETS


def _relative_to_now(node: Any) -> bool:
    if isinstance(node, DateMath):
        return node.anchor is None
    if dataclasses.is_dataclass(node):
        return any(_relative_to_now(getattr(node, f.name)) for f in dataclasses.fields(node) if f.compare)
    if isinstance(node, tuple):
        return any(_relative_to_now(item) for item in node)
    return False


def request_key(request: SearchRequest) -> str | None:
    """What the match set and its facets depend on, or None when the request's facets are not cached.

    The repr of the parsed clauses: it leaves out where in the body a clause was (`at`), and keeps value
    types apart (the term `true` is not the term `1`), which dataclass equality would not.
    """
    if not request.aggregations or _relative_to_now((request.query, request.post_filter)):
        return None
    return repr(("facets", request.query, request.post_filter, request.aggregations))


def count_key(request: SearchRequest) -> str | None:
    """What the request's total depends on, or None when it is not cached (relative to the clock)."""
    if _relative_to_now((request.query, request.post_filter)):
        return None
    return repr(("count", request.query, request.post_filter, request.track_total_hits))
