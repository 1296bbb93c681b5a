"""Migrations go up, down and up again on both databases, and match the models."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from paperworks import migrations
from paperworks.kit.db import create_engine
from paperworks.kit.ids import new_id


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


def _one_table_and_its_export(sync: Connection) -> dict[str, str]:
    """A workspace with a document, an extraction job, one extracted table and an export of it,
    written through the tables as the database has them now; their ids."""
    tables = MetaData()
    tables.reflect(sync)
    now = datetime.now(UTC)
    ids = {name: new_id() for name in ("workspace", "file", "job", "document", "table", "export")}
    stamps = {"created_at": now, "updated_at": now}
    rows: list[tuple[str, dict[str, Any]]] = [
        ("workspaces", {"id": ids["workspace"], "name": "Old tables", **stamps}),
        *[
            (
                "files",
                {
                    "id": ids[name],
                    "workspace_id": ids["workspace"],
                    "filename": f"{name}.csv",
                    "content_type": "text/csv",
                    "size": 1,
                    "sha256": "0" * 64,
                    "purpose": "extraction",
                    "storage_key": f"{ids['workspace']}/{ids[name]}",
                    **stamps,
                },
            )
            for name in ("file", "export")
        ],
        (
            "jobs",
            {
                "id": ids["job"],
                "workspace_id": ids["workspace"],
                "kind": "extraction.run",
                "status": "succeeded",
                "progress": 100,
                "payload": {},
                "attempts": 1,
                "max_attempts": 2,
                "cancel_requested": False,
                "run_after": now,
                **stamps,
            },
        ),
        (
            "documents",
            {
                "id": ids["document"],
                "workspace_id": ids["workspace"],
                "file_id": ids["file"],
                "name": "old.csv",
                "kind": "csv",
                "status": "extracted",
                "created_at": now,
            },
        ),
        (
            "extraction_jobs",
            {
                "id": ids["job"],
                "workspace_id": ids["workspace"],
                "document_id": ids["document"],
                "created_at": now,
            },
        ),
        (
            "extracted_tables",
            {
                "id": ids["table"],
                "workspace_id": ids["workspace"],
                "job_id": ids["job"],
                "document_id": ids["document"],
                "page": 1,
                "index": 0,
                "n_rows": 2,
                "n_cols": 1,
                "header": ["A"],
                "rows": [{"A": "1"}],
                "cells": [{"row": 0, "col": 0, "text": "A"}, {"row": 1, "col": 0, "text": "1"}],
                "mapping": [],
                "issues": [],
                "created_at": now,
            },
        ),
        (
            "exports",
            {
                "id": ids["export"],
                "workspace_id": ids["workspace"],
                "table_id": ids["table"],
                "job_id": ids["job"],
                "format": "csv",
                "file_id": ids["export"],
                "created_at": now,
            },
        ),
    ]
    for name, values in rows:
        sync.execute(tables.tables[name].insert().values(**values))
    return ids


async def test_tables_stored_before_0011_get_empty_row_sources_and_keep_their_exports(
    migrated: AsyncEngine,
) -> None:
    await migrations.downgrade(migrated, "0010")
    async with migrated.begin() as connection:
        ids = await connection.run_sync(_one_table_and_its_export)
    try:
        await migrations.upgrade(migrated, "0011")
        async with migrated.connect() as connection:
            sources = await connection.scalar(
                text("SELECT row_sources FROM extracted_tables WHERE id = :id"),
                {"id": ids["table"]},
            )
            assert (json.loads(sources) if isinstance(sources, str) else sources) == []

        await migrations.downgrade(migrated, "0010")
        async with migrated.connect() as connection:
            columns = await connection.run_sync(
                lambda sync: {c["name"] for c in inspect(sync).get_columns("extracted_tables")}
            )
            assert "row_sources" not in columns
            # The table and the export made from it are still there, both ways.
            kept = await connection.scalar(
                text("SELECT count(*) FROM exports WHERE table_id = :id"), {"id": ids["table"]}
            )
            assert kept == 1
    finally:
        async with migrated.begin() as connection:
            for name, key in (
                ("exports", "export"),
                ("extracted_tables", "table"),
                ("extraction_jobs", "job"),
                ("documents", "document"),
                ("jobs", "job"),
                ("files", "export"),
                ("files", "file"),
                ("workspaces", "workspace"),
            ):
                await connection.execute(
                    text(f"DELETE FROM {name} WHERE id = :id"),  # noqa: S608 (our table names)
                    {"id": ids[key]},
                )
