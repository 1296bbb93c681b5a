"""Alembic environment: always handed a live connection by `paperworks.migrations`."""

from typing import Any, Literal

from alembic import context

from paperworks.kit.db import UTCDateTime
from paperworks.migrations import target_metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `paperworks db ...`, not the bare alembic CLI")


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Our column types are Python-side conveniences; migrations stay in plain SQLAlchemy types.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


context.configure(
    connection=connection,
    target_metadata=target_metadata(),
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    compare_type=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
