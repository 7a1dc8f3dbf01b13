"""The regex engine of SQLite's REGEXP: RE2, whose matching time grows linearly with the text.

What for: Python's `re` backtracks, so a pattern like ``(.|.)*X`` takes exponential time on a long value, and
SQLite runs REGEXP inside the query while holding the GIL: one search would stop the whole server. RE2 has
no backtracking. Every regexp a search carries is also compiled here once at parse time (`check_regex`), so a
pattern RE2 refuses (too large, such as ``a{255}{255}``) is a 400 on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import functools
from typing import Any

import re2  # type: ignore[import-untyped]

from gazetteer.errors import InvalidRequest

__all__ = ["check_regex", "compiled_regex"]

_OPTIONS = re2.Options()
_OPTIONS.dot_nl = True  # PostgreSQL's `.` matches a newline too
_OPTIONS.log_errors = False  # a refused pattern is the caller's 400, not a line on the server's stderr


# SQLite calls REGEXP once per row and regexp clause. The re2 module keeps its own 128 compiled patterns
# (each at most 8 MiB, program and lazily built DFA); this cache in front skips its per-call option handling.
@functools.lru_cache(maxsize=64)
def compiled_regex(pattern: str) -> Any:
    """`pattern` compiled by RE2; raises ``re2.error`` when RE2 refuses it."""
    return re2.compile(pattern, _OPTIONS)


def check_regex(pattern: str, what: str) -> None:
    """Raise `InvalidRequest` naming `what` unless RE2 compiles `pattern`, with and without ``(?i)``."""
    for variant in (pattern, "(?i)" + pattern):  # a field may make the clause case-insensitive later
        try:
            compiled_regex(variant)
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            raise InvalidRequest(f"{what} is refused by the regex engine: {reason}") from None
