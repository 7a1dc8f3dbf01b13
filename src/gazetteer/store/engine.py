"""Engine creation: SQLite tuned for a crawl's write bursts, or PostgreSQL, migrated on open; and a PostgreSQL
read replica's engine, never migrated (a hot standby is read-only: the primary's migrations reach it as WAL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from gazetteer.errors import InvalidRequest
from gazetteer.store.budget import install_budget
from gazetteer.store.sqlite_functions import install_sqlite_functions

__all__ = ["open_engine", "open_read_engine"]

_MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 0x67617A6D  # "gazm": any constant the catalog's processes agree on


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web UI read while a crawl writes; NORMAL sync is durable across app crashes in WAL mode.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _parse(url: str, variable: str) -> URL:
    try:
        return make_url(url)
    except sa.exc.ArgumentError:
        # Not the parser's message: it quotes the URL, password and all.
        raise InvalidRequest(f"{variable} is not a database URL "
                             "(expected e.g. postgresql+psycopg://USER@HOST:5432/DB)") from None


def _postgresql_engine(parsed: URL, idle_in_transaction_seconds: float | None = None) -> Engine:
    # At most 20 connections per process, as before, but all kept open: with 10 of them as overflow, a busy
    # server closed and reopened about ten a second (bench/scale.py; req/s unchanged within noise).
    # A server that cannot reach its database answers /health within seconds instead of hanging.
    # Nothing is prepared on the server (psycopg prepares a statement run 5 times, and PostgreSQL may then plan
    # it once for all values): a search's best plan depends on its values (how many assets hold a word, how
    # wide a prefix is), and generic plans made ranked full text 10x slower at 1M assets (bench/search.py).
    # Unprepared statements are planned for their values every time. Forcing that with plan_cache_mode instead
    # would also re-plan every statement of the full-text triggers for every row a crawl writes (half of a
    # bulk load's time went to planning them).
    # A process that stops inside a transaction (frozen, hung: SIGSTOP in the tests) keeps its row locks, and a
    # reaper taking over its run waits for them (workflows/leases.py): PostgreSQL ends such a session after
    # `idle_in_transaction_seconds` (the run lease), which releases them. No transaction of ours idles that long.
    connect_args: dict[str, Any] = {"connect_timeout": 10, "prepare_threshold": None}
    if idle_in_transaction_seconds:
        # Added to the URL's own options (a search_path, say), which connect_args would otherwise replace.
        timeout = f"-c idle_in_transaction_session_timeout={int(idle_in_transaction_seconds * 1000)}"
        connect_args["options"] = " ".join(filter(None, (str(parsed.query.get("options") or ""), timeout)))
    return sa.create_engine(parsed, pool_pre_ping=True, pool_size=20, max_overflow=0, connect_args=connect_args)


def open_engine(url: str, *, migrate: bool = True, idle_in_transaction_seconds: float | None = None) -> Engine:
    """Connect to the catalog at `url` (creating a SQLite file's folder) and bring its schema up to date. On
    PostgreSQL a session idle inside a transaction for `idle_in_transaction_seconds` is ended by the server."""
    parsed = _parse(url, "GAZETTEER_DATABASE_URL")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        # REGEXP on RE2, for the searches' regexp clauses (PostgreSQL has `~` built in).
        sa.event.listen(engine, "connect", install_sqlite_functions)
    elif parsed.get_backend_name() == "postgresql":
        engine = _postgresql_engine(parsed, idle_in_transaction_seconds)
    else:
        raise InvalidRequest(f"Unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql+psycopg")
    install_budget(engine)  # an API request's queries stop at its budget (see gazetteer.store.budget)
    if migrate:
        upgrade(engine)
    return engine


def _read_only(dbapi_connection: Any, _record: Any) -> None:
    # A hot standby refuses writes by itself; this makes any other server named as the replica (in the tests,
    # a second schema of the primary's server) refuse them too, so a write routed here fails loudly.
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    cursor.close()
    dbapi_connection.commit()  # psycopg began a transaction for the SET; what it sets is the session's


def open_read_engine(url: str) -> Engine:
    """Connect to the read replica at `url` (GAZETTEER_READ_DATABASE_URL): PostgreSQL, read-only, not migrated.

    The same pool and query budget as the primary's engine. Nothing is checked or migrated here: the replica
    gets the primary's schema by replication, and a replica that is down must not stop the server (its
    /health says "degraded")."""
    parsed = _parse(url, "GAZETTEER_READ_DATABASE_URL")
    if parsed.get_backend_name() != "postgresql":
        raise InvalidRequest("GAZETTEER_READ_DATABASE_URL must be a PostgreSQL URL (postgresql+psycopg://...)")
    engine = _postgresql_engine(parsed)
    sa.event.listen(engine, "connect", _read_only)
    install_budget(engine)
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
