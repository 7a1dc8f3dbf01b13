"""A throw-away PostgreSQL schema for a test or a benchmark: a catalog of its own on a shared server."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import sqlalchemy as sa

__all__ = ["scratch_schema"]


@contextlib.contextmanager
def scratch_schema(admin_url: str, prefix: str = "gz_test", **query: str) -> Iterator[str]:
    """Create a fresh schema, yield the URL whose search_path is it (plus `query` options), drop it after."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    options = {key: value.format(schema=schema) for key, value in query.items()}  # "{schema}" names it
    url = sa.make_url(admin_url).update_query_dict({"options": f"-csearch_path={schema}", **options})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
