"""Regexps a search may carry: only those the catalog's regex engines accept.

What for: on SQLite a regexp runs on RE2 (`gazetteer.store.sqlite_functions`), which refuses patterns whose
program would be too large (such as ``a{255}{255}``). Every regexp is compiled there once at parse time, so
such a pattern is a 400 naming the clause, on SQLite and PostgreSQL alike, instead of an error mid-query.
"""

from __future__ import annotations

import re2

from gazetteer.errors import InvalidRequest
from gazetteer.store.sqlite_functions import compiled_regex

__all__ = ["check_regex"]


def check_regex(pattern: str, what: str) -> None:
    """Raise `InvalidRequest` naming `what` unless RE2 compiles `pattern`, with and without ``(?i)``."""
    for variant in (pattern, "(?i)" + pattern):  # a field may make the clause case-insensitive later
        try:
            compiled_regex(variant)
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            raise InvalidRequest(f"{what} is refused by the regex engine: {reason}") from None
