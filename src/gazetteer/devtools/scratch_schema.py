"""A throw-away PostgreSQL schema for a test or a benchmark: a catalog of its own on a shared server."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import sqlalchemy as sa

__all__ = ["create_schema", "scratch_schema"]


def create_schema(conn: sa.Connection, schema: str) -> None:
    """Create `schema` if missing, with the extensions the migrations use already in the server's default schema.

    A migration run with only `schema` on its search_path would create pg_trgm inside it, and dropping that
    schema would then drop the extension and, with it, the trigram index of every other catalog on the server.
    """
    try:
        with conn.begin_nested():
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        pass  # not allowed here: the migration goes without typo tolerance, as on any such server
    conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))


@contextlib.contextmanager
def scratch_schema(admin_url: str, prefix: str = "gz_test", **query: str) -> Iterator[str]:
    """Create a fresh schema, yield the URL whose search_path is it (plus `query` options), drop it after."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url)
    with admin.begin() as conn:
        create_schema(conn, schema)
    options = {key: value.format(schema=schema) for key, value in query.items()}  # "{schema}" names it
    url = sa.make_url(admin_url).update_query_dict({"options": f"-csearch_path={schema}", **options})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
