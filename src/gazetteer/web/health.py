"""What GET /health checks: the catalog database, its read replica if any, and, when runs go to workers,
the broker."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.engine import Engine

__all__ = ["health_checks"]

log = logging.getLogger(__name__)
_TIMEOUT_SECONDS = 2.0


def _database(engine: Engine, what: str = "database") -> str:
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as error:
        log.warning("health: the %s is unreachable: %s", what, type(error).__name__)
        return "unreachable"
    return "ok"


def _broker(url: str | None) -> str:
    if not url:
        return "not used"
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=_TIMEOUT_SECONDS, socket_connect_timeout=_TIMEOUT_SECONDS)
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError as error:
        # Never the URL: it may hold the broker's password.
        log.warning("health: the broker is unreachable: %s", type(error).__name__)
        return "unreachable"
    return "ok"


def health_checks(engine: Engine, broker_url: str | None, read_engine: Engine | None = None) -> dict[str, str]:
    """Each check's "ok", "unreachable" or "not used"; `read_engine` is the replica's (None or `engine`: none)."""
    replica = "not used" if read_engine is None or read_engine is engine else _database(read_engine, "read replica")
    return {"database": _database(engine), "read_replica": replica, "broker": _broker(broker_url)}
