"""The SQL statements an engine runs, for tests and benches that pin what a call reads or writes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

__all__ = ["statements"]


@contextmanager
def statements(engine: sa.Engine, matching: str | None = None) -> Iterator[list[str]]:
    """The statements `engine` runs within the block, in order; only those `matching` (a regex) if given."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if matching is None or re.search(matching, statement):
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
