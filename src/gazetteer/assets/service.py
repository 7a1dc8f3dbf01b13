"""Reading the catalog: finding connections and assets."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gazetteer.store.schema import assets

__all__ = ["find_connection", "qualified_name_taken", "search_text", "asset_document"]


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


def epoch_ms(moment: datetime) -> int:
    """Atlan's timestamps are epoch milliseconds; SQLite hands back naive datetimes, which are UTC here."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def asset_document(row: Any) -> dict[str, Any]:
    """An asset row in the Atlan entity shape (attributes in camelCase)."""
    return {
        "typeName": row.type_name,
        "guid": row.guid,
        "status": row.status,
        "attributes": {"qualifiedName": row.qualified_name, "name": row.name, **row.attributes},
        "createTime": epoch_ms(row.created_at),
        "updateTime": epoch_ms(row.updated_at),
        "createdBy": row.created_by,
        "updatedBy": row.updated_by,
    }


def search_text(engine: Engine, text: str, *, type_name: str | None = None, limit: int = 50) -> list[dict]:
    """Active assets whose name or description contains `text`, and tables/views with such a column.

    Exact names first, then name prefixes, then the rest. A simple, portable match; the ranked full-text
    search of the discovery API replaces it.
    """
    needle = text.strip().lower()
    pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    name = sa.func.lower(assets.c.name)
    description = sa.func.lower(sa.cast(assets.c.attributes["description"].as_string(), sa.Text))
    column = assets.alias("col")
    column_parents = sa.select(column.c.parent_qualified_name).where(
        column.c.type_name == "Column", column.c.status == "ACTIVE",
        sa.func.lower(column.c.name).like(pattern, escape="\\"),
    )
    rank = sa.case((name == needle, 0), (name.like(pattern[1:], escape="\\"), 1), (name.like(pattern, escape="\\"), 2),
                   else_=3)
    query = (
        sa.select(assets)
        .where(assets.c.status == "ACTIVE",
               sa.or_(name.like(pattern, escape="\\"), description.like(pattern, escape="\\"),
                      assets.c.qualified_name.in_(column_parents)))
        .order_by(rank, assets.c.type_name, assets.c.qualified_name)
        .limit(limit)
    )
    if type_name:
        query = query.where(sa.func.lower(assets.c.type_name) == type_name.lower())
    with engine.connect() as conn:
        return [asset_document(row) for row in conn.execute(query)]
