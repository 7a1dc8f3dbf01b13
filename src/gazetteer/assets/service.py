"""Small catalog look-ups the crawl and the UI share."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gazetteer.store.schema import assets

__all__ = ["find_connection", "qualified_name_taken"]


def find_connection(engine: Engine, name: str, connector: str = "glue") -> str | None:
    """The qualified name of the active connection called `name` for this connector, if there is one."""
    query = (
        sa.select(assets.c.qualified_name)
        .where(assets.c.type_name == "Connection", assets.c.name == name, assets.c.status == "ACTIVE",
               assets.c.qualified_name.like(f"default/{connector}/%"))
        .order_by(assets.c.created_at)
        .limit(1)
    )
    with engine.connect() as conn:
        return conn.execute(query).scalar()


def qualified_name_taken(engine: Engine, qualified_name: str) -> bool:
    with engine.connect() as conn:
        query = sa.select(assets.c.id).where(assets.c.qualified_name == qualified_name)
        return conn.execute(query).first() is not None
