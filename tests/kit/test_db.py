"""The declarative base, its mixins and the per-test rollback every other test relies on."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from sqlalchemy import ForeignKey, MetaData, String, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from paperworks.kit.db import NAMING_CONVENTION, Database, IdMixin, TimestampMixin, UTCDateTime


class ScratchBase(DeclarativeBase):
    """Kept apart from `Base`, so these tables never reach the migrations."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Shelf(IdMixin, TimestampMixin, ScratchBase):
    __tablename__ = "scratch_shelves"
    label: Mapped[str] = mapped_column(String(50), unique=True)


class Book(IdMixin, ScratchBase):
    __tablename__ = "scratch_books"
    shelf_id: Mapped[str] = mapped_column(ForeignKey("scratch_shelves.id"))


@pytest.fixture
async def scratch(db: Database) -> Database:
    async with db.sessionmaker() as session:
        connection = await session.connection()
        await connection.run_sync(ScratchBase.metadata.create_all)
        await session.commit()
    return db


async def test_rows_get_ulid_ids_and_utc_timestamps(scratch: Database) -> None:
    async with scratch.session_scope() as session:
        shelf = Shelf(label="a")
        session.add(shelf)
    async with scratch.sessionmaker() as session:
        loaded = await session.get_one(Shelf, shelf.id)
    assert len(loaded.id) == 26
    assert loaded.created_at.tzinfo is UTC
    assert abs((datetime.now(UTC) - loaded.created_at).total_seconds()) < 60
    assert timedelta(0) <= loaded.updated_at - loaded.created_at < timedelta(seconds=1)


async def test_updated_at_moves_on_update(scratch: Database) -> None:
    async with scratch.session_scope() as session:
        shelf = Shelf(label="b")
        session.add(shelf)
    created = shelf.updated_at
    await asyncio.sleep(0.01)
    async with scratch.session_scope() as session:
        (await session.get_one(Shelf, shelf.id)).label = "b2"
    async with scratch.sessionmaker() as session:
        loaded = await session.get_one(Shelf, shelf.id)
    assert loaded.updated_at > created
    assert loaded.created_at == shelf.created_at


async def test_naive_datetimes_are_refused(scratch: Database) -> None:
    naive = datetime(2026, 1, 1)  # noqa: DTZ001
    with pytest.raises(Exception, match="naive datetime"):
        async with scratch.session_scope() as session:
            session.add(Shelf(label="c", created_at=naive))


async def test_foreign_keys_are_enforced(scratch: Database) -> None:
    with pytest.raises(IntegrityError):
        async with scratch.session_scope() as session:
            session.add(Book(shelf_id="01NOSUCHSHELF0000000000000"))


async def test_a_failed_unit_of_work_leaves_nothing_behind(scratch: Database) -> None:
    with pytest.raises(IntegrityError):  # noqa: PT012 - the whole unit of work is under test
        async with scratch.session_scope() as session:
            session.add(Shelf(label="dup"))
            await session.flush()
            session.add(Shelf(label="dup"))
    async with scratch.sessionmaker() as session:
        count = await session.scalar(select(func.count()).select_from(Shelf))
    assert count == 0


def test_constraints_are_named_by_convention() -> None:
    names = {c.name for c in Shelf.__table__.constraints} | {
        c.name for c in Book.__table__.constraints
    }
    assert {
        "pk_scratch_shelves",
        "uq_scratch_shelves_label",
        "fk_scratch_books_shelf_id_scratch_shelves",
    } <= names


# The next two run in order: the first commits, the second must not see it.
async def test_rollback_isolation_writes(scratch: Database) -> None:
    async with scratch.session_scope() as session:
        session.add(Shelf(label="leak?"))


async def test_rollback_isolation_sees_nothing(db: Database) -> None:
    async with db.sessionmaker() as session:
        connection = await session.connection()
        tables = await connection.run_sync(
            lambda sync: sync.dialect.get_table_names(sync)  # type: ignore[no-any-return]
        )
    assert "scratch_shelves" not in tables


async def test_sqlite_pragmas_are_on(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite only")
    async with db.engine.connect() as connection:
        journal = await connection.exec_driver_sql("PRAGMA journal_mode")
        foreign_keys = await connection.exec_driver_sql("PRAGMA foreign_keys")
        assert journal.scalar() == "wal"
        assert foreign_keys.scalar() == 1
