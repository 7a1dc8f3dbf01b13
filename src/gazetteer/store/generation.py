"""The catalog's generation: a number that moves with every committed write to `assets`, in the database.

What for: caching what searches compute over the whole catalog (the facet counts of the search page) in each
API process, and never serving a stale answer. Every writer of `assets` (the crawl's Publisher and its
rollback, people's edits) calls `bump_generation` as the *last* statement of its write transaction, so the
new generation commits with the writes, atomically; a search reads `current_generation` *before* it reads
any asset, so whatever it then computes is at least as new as that generation. A result cached under
generation G is thus only ever served to requests that read G, i.e. that started before any later write
committed: crawls and edits committed before a request started are always reflected, in every process.

Why several rows, and why last: on PostgreSQL an UPDATE locks its row until the transaction ends, so one hot
row would make concurrent writers (crawls of different connections, each committing a page per transaction,
and people's edits) queue on it. Bumping last holds the lock only for the commit itself, and never while
waiting for another lock (no deadlock: the generation row is always the last lock a writer takes); and
with `SLOTS` rows, each transaction bumping one at random, two concurrent writers rarely want the same row
at all. The generation is the sum over the slots: every bump adds one, so the sum grows with every commit.
On SQLite (one writer at a time anyway) it is one more row write in a transaction that writes already.

Why two counters: a crawl commits a page every few hundred assets, and a facet count recomputed after every
page is a scan of the catalog per search for as long as the crawl runs. So a running crawl's pages move
`pages` instead, and only its end (or its rollback) moves `generation`. A cache may serve an answer older
than `pages` for a few seconds (`gazetteer.assets.search_cache.CRAWL_LAG`), never one older than `generation`:
counts lag a running crawl by seconds at most, and are exact once it ends and after every edit.
"""

from __future__ import annotations

import random
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gazetteer.store.schema import catalog_generation

__all__ = ["SLOTS", "Generation", "bump_generation", "current_generation"]

SLOTS = 16  # migration 0008 creates slots 0..SLOTS-1
_slots = random.Random()

_BUMP = {column: (catalog_generation.update().where(catalog_generation.c.slot == sa.bindparam("pick"))
                  .values({column: catalog_generation.c[column] + 1}))
         for column in ("generation", "pages")}
_READ = sa.select(*(sa.func.coalesce(sa.func.sum(catalog_generation.c[column]), 0)
                    for column in ("generation", "pages")))


class Generation(NamedTuple):
    """The catalog's two counters: every write but a running crawl's pages, and those pages."""

    settled: int
    pages: int


def bump_generation(conn: Connection, *, crawl_page: bool = False) -> None:
    """Mark the catalog changed. Call it last in every transaction that writes `assets`, just before commit.

    `crawl_page`: the write is a page of a crawl that has not ended (its end or rollback bumps without it)."""
    statement = _BUMP["pages" if crawl_page else "generation"]
    if conn.execute(statement, {"pick": _slots.randrange(SLOTS)}).rowcount != 1:
        # A catalog with fewer slots than this code expects (a later change of SLOTS): slot 0 always exists.
        conn.execute(statement, {"pick": 0})


def current_generation(conn: Connection) -> Generation:
    """The catalog's generation as of now (read it before reading the assets a cached result depends on)."""
    settled, pages = conn.execute(_READ).one()
    return Generation(int(settled), int(pages))
