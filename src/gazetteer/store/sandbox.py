"""A sandbox: an engine over the catalog whose writes are all thrown away at the end.

What for: a crawl plan (`gazetteer crawl glue --plan`, a workflow's Plan button) runs the real crawl, with its
real reads, writes, history and lineage, and reports what it changed; then nothing of it remains. Every
transaction the crawl opens becomes a savepoint inside one transaction of one connection, which is rolled back
when the sandbox closes. Readers elsewhere never see the sandbox's writes. On SQLite that one transaction holds
the write lock from the plan's first change to its end: other writers wait for it (the busy timeout), as they
would for a crawl's page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

__all__ = ["sandbox"]

_SAVEPOINT = "gazetteer_sandbox"


def _run(connection: Any, statement: str) -> None:
    cursor = connection.cursor()
    try:
        cursor.execute(statement)
    finally:
        cursor.close()


def _commit(connection: Any) -> None:
    _run(connection, f"RELEASE SAVEPOINT {_SAVEPOINT}")
    _run(connection, f"SAVEPOINT {_SAVEPOINT}")


def _rollback(connection: Any) -> None:
    _run(connection, f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")


@contextmanager
def sandbox(engine: Engine) -> Iterator[Engine]:
    """An engine whose transactions all go into one transaction of `engine`, rolled back on leaving."""
    pooled = engine.raw_connection()
    connection: Any = pooled.driver_connection
    try:
        if engine.dialect.name == "sqlite":  # a RELEASE of the outermost savepoint would commit: BEGIN first
            _run(connection, "BEGIN")
        _run(connection, f"SAVEPOINT {_SAVEPOINT}")
        # One connection for every thread of the crawl, never reset when handed back to the pool; the dialect's
        # commit and rollback end the savepoint instead of the transaction, and closing is left to the sandbox.
        scratch = sa.create_engine(engine.url, creator=lambda: connection, poolclass=StaticPool,
                                   pool_reset_on_return=None)
        dialect: Any = scratch.dialect
        dialect.do_commit, dialect.do_rollback, dialect.do_close = _commit, _rollback, lambda _connection: None
        try:
            yield scratch
        finally:
            scratch.dispose()
    finally:
        connection.rollback()
        pooled.close()
