"""The catalog store: one SQLAlchemy engine (SQLite by default, PostgreSQL at scale) and its schema."""

from __future__ import annotations

from gazetteer.store.engine import open_engine
from gazetteer.store.schema import assets, metadata

__all__ = ["open_engine", "assets", "metadata"]
