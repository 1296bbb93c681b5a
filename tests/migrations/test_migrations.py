"""Migrations go up, down and up again on both databases, and match the models."""

from collections.abc import AsyncIterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from paperworks import migrations
from paperworks.kit.db import create_engine


@pytest.fixture
async def migrated(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The session's database; each test must leave it at head, as it found it."""
    engine = create_engine(database_url)
    yield engine
    await migrations.upgrade(engine)
    await engine.dispose()


def all_revisions() -> list[str]:
    script = ScriptDirectory.from_config(migrations.alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


async def test_every_revision_goes_down_and_up_again(migrated: AsyncEngine) -> None:
    revisions = all_revisions()
    assert revisions[0] == "0001"
    await migrations.downgrade(migrated, "base")
    assert await migrations.current_revision(migrated) is None
    for revision in revisions:
        await migrations.upgrade(migrated, revision)
        assert await migrations.current_revision(migrated) == revision
        await migrations.downgrade(migrated, "-1")
        await migrations.upgrade(migrated, revision)
    assert await migrations.current_revision(migrated) == migrations.head_revision()


async def test_the_models_match_the_migrated_schema(migrated: AsyncEngine) -> None:
    async with migrated.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync), migrations.target_metadata()
            )
        )
    assert diff == [], "models changed without a migration: run `paperworks db revision -m ...`"


async def test_an_old_schema_is_reported_with_the_fix(migrated: AsyncEngine) -> None:
    await migrations.ensure_up_to_date(migrated)
    await migrations.downgrade(migrated, "base")
    with pytest.raises(migrations.SchemaOutOfDate, match="run `paperworks db upgrade`") as info:
        await migrations.ensure_up_to_date(migrated)
    assert info.value.current is None
    assert info.value.head == migrations.head_revision()
