"""Small catalog look-ups the crawl and the UI share."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gazetteer.store.schema import assets

__all__ = ["find_connection", "qualified_name_taken", "connection_attributes"]


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


def connection_attributes(bind: Engine | Connection, qualified_name: str) -> dict[str, Any] | None:
    """The stored attributes of the Connection `qualified_name` (archived or not), with its name; None if absent.

    Permission checks read a connection's admins from here, never from what a request says about it.
    """
    query = sa.select(assets.c.name, assets.c.attributes).where(assets.c.qualified_name == qualified_name,
                                                               assets.c.type_name == "Connection")
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            row = conn.execute(query).first()
    else:
        row = bind.execute(query).first()
    return None if row is None else {**(row.attributes or {}), "name": row.name}
