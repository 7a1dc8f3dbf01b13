"""Engine creation: SQLite tuned for a crawl's write bursts, or PostgreSQL, migrated on open."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from gazetteer.errors import InvalidRequest
from gazetteer.search.compile import install_sqlite_functions
from gazetteer.store.budget import install_budget

__all__ = ["open_engine"]

_MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 0x67617A6D  # "gazm": any constant the catalog's processes agree on


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web UI read while a crawl writes; NORMAL sync is durable across app crashes in WAL mode.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def open_engine(url: str, *, migrate: bool = True) -> Engine:
    """Connect to the catalog at `url` (creating a SQLite file's folder) and bring its schema up to date."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise InvalidRequest(f"GAZETTEER_DATABASE_URL is not a database URL: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        # The search compiler's REGEXP (PostgreSQL has `~` built in).
        sa.event.listen(engine, "connect", install_sqlite_functions)
    elif parsed.get_backend_name() == "postgresql":
        # At most 20 connections per process, as before, but all kept open: with 10 of them as overflow, a busy
        # server closed and reopened about ten a second (bench/scale.py; req/s unchanged within noise).
        # A server that cannot reach its database answers /health within seconds instead of hanging.
        engine = sa.create_engine(parsed, pool_pre_ping=True, pool_size=20, max_overflow=0,
                                  connect_args={"connect_timeout": 10})
    else:
        raise InvalidRequest(f"Unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql+psycopg")
    install_budget(engine)  # an API request's queries stop at its budget (see gazetteer.store.budget)
    if migrate:
        upgrade(engine)
    return engine


def upgrade(engine: Engine) -> None:
    """Apply every Alembic migration the catalog does not have yet."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Processes starting together (API processes, workers) migrate one after the other; the lock
            # ends with the transaction.
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
