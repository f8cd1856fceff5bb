"""Alembic's environment: migrate the connection the store handed over, inside its transaction."""

from alembic import context

from llm_sessions.core.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
