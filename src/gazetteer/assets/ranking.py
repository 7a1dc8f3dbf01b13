"""The web UI's order of full-text hits: within each rank of `gazetteer.assets.fulltext`, tables and views first,
then schemas, databases and connections, S3 objects, columns, and processes last; among those, the most viewed
first (`gazetteer.assets.popularity`); then the rank's own order.

What for: people searching "cust" want the `customers` table before three `customer_id` columns, and the
table everyone opens before the one nobody does. The API (pyatlan's FluentSearch) keeps Elasticsearch's
semantics and the plain tiers; only the UI asks for this (`search_assets(..., prefer=True)`).

Bounded: a rank is read in its index's order, as the plain ranking reads it, in blocks of `BLOCK` hits, and
each block is reordered on its own (one query of its ids' types and views). A rank of at most `BLOCK` hits
(the usual: exact and prefix names) is thus ordered exactly; in a bigger rank a table comes before the columns
of its block. Blocks are fixed by the rank's order, so every page of a search sees the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gazetteer.store.schema import asset_views, assets

__all__ = ["BLOCK", "KIND_ORDER", "KIND_RANK", "VIEWS", "POPULARITY", "kind_rank", "reorder", "block_limit"]

BLOCK = 500
# Lower first. Types not named (processes, anything created through the API) come last.
KIND_ORDER: tuple[tuple[str, ...], ...] = (
    ("Table", "View", "MaterialisedView"),
    ("Schema", "Database", "Connection"),
    ("S3Object", "S3Bucket"),
    ("Column",),
)
KIND_RANK = {name: rank for rank, names in enumerate(KIND_ORDER) for name in names}
_LAST = len(KIND_ORDER)

# An asset's page views as an expression on `assets` (0 when never opened), and the name the searches sort it
# by (`AssetFields` resolves it; not an Atlan field).
VIEWS: sa.ColumnElement[Any] = sa.func.coalesce(
    sa.select(asset_views.c.views).where(asset_views.c.asset_guid == assets.c.guid).scalar_subquery(), 0)
POPULARITY = "_popularity"

# The same order as SQL, for searches that sort instead of reading ranks (pages past the ranked window).
kind_rank: sa.ColumnElement[Any] = sa.case(
    *((assets.c.type_name.in_(names), rank) for rank, names in enumerate(KIND_ORDER)), else_=_LAST)


def block_limit(wanted: int) -> int:
    """How many of a rank's hits to read to have `wanted` of them in whole blocks."""
    return max(1, -(-wanted // BLOCK)) * BLOCK


def reorder(conn: Connection, ids: Sequence[int]) -> list[int]:
    """`ids` (a rank's hits in its order) reordered block by block: kind, then views, then as given."""
    out: list[int] = []
    for start in range(0, len(ids), BLOCK):
        block = list(ids[start:start + BLOCK])
        query = (sa.select(assets.c.id, assets.c.type_name, sa.func.coalesce(asset_views.c.views, 0))
                 .select_from(assets.outerjoin(asset_views, asset_views.c.asset_guid == assets.c.guid))
                 .where(assets.c.id.in_(block)))
        keys = {asset_id: (KIND_RANK.get(type_name, _LAST), -int(views))
                for asset_id, type_name, views in conn.execute(query)}
        position = {asset_id: i for i, asset_id in enumerate(block)}
        out += sorted(block, key=lambda asset_id: (*keys.get(asset_id, (_LAST, 0)), position[asset_id]))
    return out
