"""A time budget for each query of an API request, enforced by the database engines themselves.

What for: a search may ask for more work than any answer is worth (a regexp over every qualified name, a
count over a million JSON attributes), and a worker thread stuck in such a query is gone for everyone. The
`QueryBudget` middleware puts the budget of each HTTP request but /health in a context variable; anyio
copies context variables into the threadpool that runs sync routes, so their queries see it. Work started
elsewhere (crawls and schedules in executor threads, the CLI) has no budget and no limit.

The budget is per statement, not for the whole request: a request may also spend its time on purpose outside
the database (scrypt-deriving a vault key, calling Glue with retries), and its writes must not fail for that.
A search runs a bounded number of statements, so bounding each bounds the request.

* SQLite: each statement's deadline is stamped on its connection just before it runs; a progress handler,
  called every few thousand virtual-machine steps, interrupts it once that has passed
  (``sqlite3.OperationalError: interrupted``).
* PostgreSQL: each transaction begun under a budget sets ``statement_timeout`` (SQLSTATE 57014,
  query_canceled); ``SET LOCAL`` ends with the transaction, before the pool hands the connection on.

`refusal` turns such an error, and PostgreSQL's "regular expression is too complex" (SQLSTATE 2201B), into
the 400 the web layer answers: both mean the request asked too much, and a narrower one would succeed.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gazetteer.errors import InvalidRequest

if TYPE_CHECKING:  # the middleware needs no web framework, only its types
    from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["QueryBudget", "install_budget", "query_budget", "refusal"]

_PROGRESS_STEPS = 10_000  # SQLite VM steps between deadline checks: well under a millisecond apart
_DEADLINE = "gazetteer_statement_deadline"  # key in a SQLite connection's info: its statement's deadline
_QUERY_CANCELED, _INVALID_REGEX = "57014", "2201B"

_budget: ContextVar[float | None] = ContextVar("gazetteer_query_budget", default=None)


@contextmanager
def query_budget(seconds: float) -> Iterator[None]:
    """Let each statement run inside (in this context, or a copy of it) take at most `seconds`."""
    token = _budget.set(seconds)
    try:
        yield
    finally:
        _budget.reset(token)


class QueryBudget:
    """ASGI middleware: every HTTP request except /health runs under `query_budget(seconds)`."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app, self.seconds = app, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/health":
            await self.app(scope, receive, send)
            return
        with query_budget(self.seconds):
            await self.app(scope, receive, send)


def _sqlite_progress(dbapi_connection: Any, record: Any) -> None:
    info = record.info  # the same dict as the `conn.info` of every checkout of this connection

    def past_deadline() -> int:
        deadline = info.get(_DEADLINE)
        return int(deadline is not None and time.monotonic() > deadline)  # non-zero interrupts the statement

    dbapi_connection.set_progress_handler(past_deadline, _PROGRESS_STEPS)


def _sqlite_deadline(conn: Connection, *_: Any) -> None:
    # Every statement sets it, None without a budget: nothing stale reaches the next user of the connection.
    budget = _budget.get()
    conn.info[_DEADLINE] = None if budget is None else time.monotonic() + budget


def _postgresql_timeout(conn: Connection) -> None:
    budget = _budget.get()
    if budget is None:
        return
    # The raw cursor: executing through `conn` here would begin the transaction that is beginning.
    raw = conn.connection.dbapi_connection
    assert raw is not None  # a connection that is beginning a transaction is checked out
    cursor = raw.cursor()
    try:
        cursor.execute(f"SET LOCAL statement_timeout = {max(1, round(budget * 1000))}")
    finally:
        cursor.close()


def install_budget(engine: Engine) -> None:
    """Make `engine` stop any statement running longer than the budget of `query_budget`."""
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_progress)
        sa.event.listen(engine, "before_cursor_execute", _sqlite_deadline)
    elif engine.dialect.name == "postgresql":
        sa.event.listen(engine, "begin", _postgresql_timeout)


def refusal(error: sa.exc.DBAPIError) -> InvalidRequest | None:
    """The 400 for a statement stopped by the budget or a regex PostgreSQL will not run, else None."""
    budget, original = _budget.get(), error.orig
    state = getattr(original, "sqlstate", None)
    if budget is not None and (state == _QUERY_CANCELED or (
            isinstance(original, sqlite3.OperationalError) and str(original) == "interrupted")):
        return InvalidRequest(f"A query took longer than the {budget:g}-second budget of a request and was "
                              "stopped; narrow it (fewer or more selective clauses, a smaller page).")
    if state == _INVALID_REGEX:
        return InvalidRequest(f"PostgreSQL refused a regular expression of the query ({original}); simplify it.")
    return None
