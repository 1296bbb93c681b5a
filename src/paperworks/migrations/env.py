"""Alembic environment: always handed a live connection by `paperworks.migrations`."""

from alembic import context

from paperworks.migrations import target_metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `paperworks db ...`, not the bare alembic CLI")

context.configure(
    connection=connection,
    target_metadata=target_metadata(),
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
