"""The SQL functions a SQLite catalog lacks, registered on each new connection: REGEXP, run by RE2.

What for: PostgreSQL has `~` built in; SQLite only calls a function named REGEXP, which SQLAlchemy's pysqlite
dialect fills with Python's `re`. That engine backtracks, so a pattern like ``(.|.)*X`` takes exponential
time on a long value, and SQLite runs REGEXP inside the query while holding the GIL: one search would stop
the whole server. RE2 has no backtracking: its matching time grows linearly with the text. The search
package checks every regexp against `compiled_regex` when it parses a query, so a pattern RE2 refuses is a
400 before any SQL runs, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import functools
from typing import Any

import re2

__all__ = ["compiled_regex", "install_sqlite_functions"]

_OPTIONS = re2.Options()
_OPTIONS.dot_nl = True  # PostgreSQL's `.` matches a newline too
_OPTIONS.log_errors = False  # a refused pattern is the caller's 400, not a line on the server's stderr


# SQLite calls REGEXP once per row and regexp clause. The re2 module keeps its own 128 compiled patterns
# (each at most 8 MiB, program and lazily built DFA); this cache in front skips its per-call option handling.
@functools.lru_cache(maxsize=64)
def compiled_regex(pattern: str) -> Any:
    """`pattern` compiled by RE2 as REGEXP runs it; raises ``re2.error`` when RE2 refuses it."""
    return re2.compile(pattern, _OPTIONS)


def _regexp(pattern: str | None, value: Any) -> bool | None:
    if pattern is None or value is None:
        return None
    # UTF-8 bytes: RE2 reports byte offsets, which for a str it would convert back to characters on every row.
    return compiled_regex(pattern).search(str(value).encode()) is not None


def install_sqlite_functions(dbapi_connection: Any, connection_record: Any = None) -> None:
    """Register REGEXP (RE2: linear time, cached, newline-matching like PostgreSQL) on a raw sqlite3 connection.

    Use as ``sa.event.listen(engine, "connect", install_sqlite_functions)``; it replaces the REGEXP that
    SQLAlchemy's pysqlite dialect installs (Python's backtracking ``re``, recompiling every pattern, whose ``.``
    skips newlines).
    """
    dbapi_connection.create_function("regexp", 2, _regexp, deterministic=True)
