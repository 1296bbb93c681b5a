"""Schema migrations (Alembic), run through a live async engine.

Every command runs on a connection we open, so the CLI, the server's start-up and the tests share
one path, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

import paperworks
from paperworks.kit.db import Base

MIGRATIONS_DIR = Path(__file__).resolve().parent


def target_metadata() -> MetaData:
    """Base.metadata after importing every domain's `models` module, so autogenerate sees all."""
    for module in pkgutil.iter_modules(paperworks.__path__):
        if module.ispkg and importlib.util.find_spec(f"paperworks.{module.name}.models"):
            importlib.import_module(f"paperworks.{module.name}.models")
    return Base.metadata


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def _run(engine: AsyncEngine, action: Callable[[Config], Any]) -> Any:
    async with engine.begin() as connection:
        return await connection.run_sync(lambda sync: action(alembic_config(sync)))


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    await _run(engine, lambda config: command.upgrade(config, revision))


async def downgrade(engine: AsyncEngine, revision: str = "-1") -> None:
    await _run(engine, lambda config: command.downgrade(config, revision))


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


async def new_revision(engine: AsyncEngine, message: str, autogenerate: bool) -> str:
    """Write a new revision file; with `autogenerate`, the models diffed against the database."""

    def make(config: Config) -> str:
        script = command.revision(config, message=message, autogenerate=autogenerate)
        scripts = script if isinstance(script, list) else [script]
        return ", ".join(s.path for s in scripts if s is not None)

    result: str = await _run(engine, make)
    return result


class SchemaOutOfDate(RuntimeError):
    def __init__(self, current: str | None, head: str | None) -> None:
        self.current = current
        self.head = head
        super().__init__(
            f"the database schema is at revision {current or 'none'} but this build needs {head}: "
            "run `paperworks db upgrade`"
        )


async def ensure_up_to_date(engine: AsyncEngine) -> None:
    current, head = await current_revision(engine), head_revision()
    if current != head:
        raise SchemaOutOfDate(current, head)
