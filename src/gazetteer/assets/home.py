"""What the home page shows: the tables and views that changed last, and the connections with their schemas.

What for: the web UI's `/` without a search. Every query here is bounded and served by an index, so the page
costs the same at a thousand assets and at a million: no facet, no count over the catalog (the search page
with no words used to count facets over every asset: 4.7 s at 1,050,052 assets). Most viewed comes from
`gazetteer.assets.popularity`.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gazetteer.assets.search_fields import HAS_LINEAGE
from gazetteer.assets.views import AssetView
from gazetteer.store.schema import assets

__all__ = ["Browse", "recently_changed", "browse_connections", "CHANGED_TYPES", "SCHEMAS_SHOWN", "CONNECTIONS_SHOWN"]

CHANGED_TYPES = ("Table", "View")
SCHEMAS_SHOWN = 12  # per connection; the connection's page lists them all
CONNECTIONS_SHOWN = 20


@dataclass(frozen=True, slots=True)
class Browse:
    """A connection, its first schemas by name, and how many schemas it has in all."""

    connection: AssetView
    schemas: tuple[AssetView, ...]
    schema_count: int


def recently_changed(engine: Engine, limit: int = 10) -> tuple[AssetView, ...]:
    """The active tables and views whose catalog entry changed last (created, re-crawled with changes, edited),
    newest first: read backwards along the index on (type, status, updated_at), one type at a time."""
    found: list[AssetView] = []
    with engine.connect() as conn:
        for type_name in CHANGED_TYPES:
            query = (sa.select(assets, HAS_LINEAGE.label("has_lineage"))
                     .where(assets.c.type_name == type_name, assets.c.status == "ACTIVE")
                     .order_by(assets.c.updated_at.desc(), assets.c.id.desc()).limit(limit))
            found += [AssetView.of(row) for row in conn.execute(query)]
    return tuple(sorted(found, key=lambda asset: asset.updated_at, reverse=True)[:limit])


def browse_connections(engine: Engine) -> tuple[Browse, ...]:
    """The active connections by name (at most CONNECTIONS_SHOWN), each with its first SCHEMAS_SHOWN schemas by
    name and its number of schemas (one index range each)."""
    out = []
    with engine.connect() as conn:
        connections = conn.execute(
            sa.select(assets).where(assets.c.type_name == "Connection", assets.c.status == "ACTIVE")
            .order_by(assets.c.name, assets.c.id).limit(CONNECTIONS_SHOWN)).all()
        for connection in connections:
            where = (assets.c.connection_qualified_name == connection.qualified_name,
                     assets.c.type_name == "Schema", assets.c.status == "ACTIVE")
            schemas = conn.execute(sa.select(assets).where(*where).order_by(assets.c.name, assets.c.id)
                                   .limit(SCHEMAS_SHOWN)).all()
            count = len(schemas) if len(schemas) < SCHEMAS_SHOWN else \
                conn.execute(sa.select(sa.func.count()).select_from(assets).where(*where)).scalar_one()
            out.append(Browse(AssetView.of(connection), tuple(AssetView.of(row) for row in schemas), int(count)))
    return tuple(out)
