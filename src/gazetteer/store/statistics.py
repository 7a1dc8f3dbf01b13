"""Planner statistics kept fresh after big writes (PostgreSQL).

PostgreSQL plans every search from the statistics `ANALYZE` gathers. Autovacuum gathers them, but only once
it gets to a table, which after a catalog's first big crawl is minutes too late: exactly when people first
look, every query was planned as if the catalog were empty (10–100× slower in bench/search.py). So whoever
writes a large share of the catalog analyzes it when done, with a plain VACUUM too: a freshly written table
has no visibility map, so even with statistics the facet counts read every row from the heap instead of
the index alone (bench/search.py at 1M assets: type + facets p95 226 ms after ANALYZE, 26 ms after VACUUM
ANALYZE; 0.6 s against 1.5 s of maintenance). The full-text table `asset_words` goes with it: its word
statistics decide between its GIN indexes and a walk in id order. SQLite's planner needs no statistics for
the catalog's queries (its indexes are chosen by shape), so this does nothing there.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.engine import Engine

__all__ = ["STALE_SHARE", "refresh_statistics"]

log = logging.getLogger(__name__)
# Autovacuum's own default trigger (autovacuum_analyze_scale_factor) is 10% of a table's rows.
STALE_SHARE = 0.1
_TABLE = "assets"  # what every search reads, and what decides whether to refresh
# Written along with it by triggers: full text and its counts read asset_words (migration 0009), lineage walks
# lineage_edges (0013; without statistics PostgreSQL scans it instead of using its index: 8.6 ms against 0.2 ms).
_WITH = ("asset_words", "lineage_edges")


def refresh_statistics(engine: Engine, changed: int) -> bool:
    """VACUUM ANALYZE the catalog when `changed` rows are a large share of it, or it was never analyzed;
    whether it did. Runs outside any transaction; a plain VACUUM blocks neither readers nor writers."""
    if engine.dialect.name != "postgresql" or changed <= 0:
        return False
    with engine.connect() as conn:
        # reltuples: the row count as of the last ANALYZE (or VACUUM); -1 for a table never analyzed.
        known = conn.execute(sa.text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:table)"),
                             {"table": _TABLE}).scalar()
    if known is None or (known >= 0 and changed < STALE_SHARE * known):
        return False
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"VACUUM (ANALYZE) {', '.join((_TABLE, *_WITH))}"))
    log.info("vacuumed and analyzed %s after %d changed rows (%d before)", _TABLE, changed, max(known, 0))
    return True
