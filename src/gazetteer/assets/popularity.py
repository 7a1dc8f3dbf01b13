"""Popularity: how often each asset's page was opened, a ranking signal and a sort of the UI's search.

What for: the home page's "most viewed", the search page's sort by popularity, and the UI's ranking (among hits
of the same rank, the most viewed first: `gazetteer.assets.ranking`). A view is one upsert of one narrow row of
`asset_views` (migration 0017), keyed by the asset's guid: it never rewrites the asset's row, its full-text
index or the catalog's generation, so opening pages never invalidates cached searches nor blocks a crawl's
reads. It is recorded on the primary (a read replica is read-only) after the page has been sent.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from gazetteer.assets.search_fields import HAS_LINEAGE
from gazetteer.assets.views import AssetView
from gazetteer.store.schema import asset_views, assets

__all__ = ["record_view", "most_viewed"]

log = logging.getLogger(__name__)

def record_view(engine: Engine, guid: str) -> None:
    """Count one view of the asset `guid` (the primary's engine). A failure (a locked or unreachable database)
    is logged and forgotten: a lost view must never cost the page."""
    insert = (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(asset_views)
    now = datetime.now(UTC)
    statement = insert.values(asset_guid=guid, views=1, last_viewed_at=now).on_conflict_do_update(
        index_elements=[asset_views.c.asset_guid],
        set_={"views": asset_views.c.views + 1, "last_viewed_at": now})
    try:
        with engine.begin() as conn:
            conn.execute(statement)
    except sa.exc.SQLAlchemyError as exc:
        log.warning("a page view of %s was not counted: %s", guid, exc.__class__.__name__)


def most_viewed(engine: Engine, limit: int = 10, types: tuple[str, ...] | None = None
                ) -> list[tuple[AssetView, int]]:
    """The active assets (of `types`, if given) opened most often, with their views: read down the views index,
    a bounded number of rows (archived and other types are skipped, up to 20 times `limit` counters)."""
    query = (sa.select(assets, HAS_LINEAGE.label("has_lineage"), asset_views.c.views)
             .select_from(asset_views.join(assets, assets.c.guid == asset_views.c.asset_guid))
             .where(assets.c.status == "ACTIVE")
             .order_by(asset_views.c.views.desc(), asset_views.c.asset_guid))
    if types is not None:
        query = query.where(assets.c.type_name.in_(types))
    counters = (sa.select(asset_views.c.asset_guid).order_by(asset_views.c.views.desc())
                .limit(20 * limit).subquery())
    query = query.where(asset_views.c.asset_guid.in_(sa.select(counters.c.asset_guid))).limit(limit)
    with engine.connect() as conn:
        return [(AssetView.of(row), int(row.views)) for row in conn.execute(query)]
