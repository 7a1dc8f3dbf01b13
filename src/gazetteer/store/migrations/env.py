"""Alembic environment: always run against the connection the caller hands over (see engine.upgrade)."""

from __future__ import annotations

from alembic import context

from gazetteer.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
