"""The declarative base, its mixins and the per-test rollback every other test relies on."""

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import ForeignKey, MetaData, String, func, select, text
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


def file_lock_is_free(path: Path) -> bool:
    """Whether another process could take the writers' file lock now (flock conflicts between
    open files, so a second open of it stands for another process)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


@pytest.fixture
async def sqlite_file(tmp_path: Path) -> AsyncIterator[tuple[Database, Path]]:
    db = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}")
    async with db.session_scope() as session:
        await session.execute(text("CREATE TABLE notes (n INTEGER)"))
    yield db, tmp_path / "turns.db.write-lock"
    await db.dispose()


async def test_a_sqlite_writer_holds_the_file_lock_other_processes_queue_on(
    sqlite_file: tuple[Database, Path],
) -> None:
    """The kernel hands the turn to another process's writer the moment this one ends, where
    SQLite's busy handler would sleep on; reads take no turn."""
    db, lock = sqlite_file
    async with db.session_scope() as session:
        await session.execute(text("SELECT count(*) FROM notes"))
        assert file_lock_is_free(lock)
        await session.execute(text("INSERT INTO notes VALUES (1)"))
        assert not file_lock_is_free(lock)
    assert file_lock_is_free(lock)
    async with db.sessionmaker() as session:
        await session.execute(text("INSERT INTO notes VALUES (2)"))
        await session.rollback()
    assert file_lock_is_free(lock)


async def test_a_sqlite_writer_waits_for_another_process_s_turn(
    sqlite_file: tuple[Database, Path],
) -> None:
    db, lock = sqlite_file
    fd = os.open(lock, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another process is writing
    try:
        async with db.session_scope() as session:
            writing = asyncio.create_task(session.execute(text("INSERT INTO notes VALUES (1)")))
            await asyncio.sleep(0.1)
            assert not writing.done()
            fcntl.flock(fd, fcntl.LOCK_UN)
            await writing
            assert not file_lock_is_free(lock)
    finally:
        os.close(fd)
    async with db.sessionmaker() as session:
        assert (await session.execute(text("SELECT count(*) FROM notes"))).scalar() == 1


async def test_a_sqlite_writer_cancelled_while_waiting_leaves_no_turn_held(
    sqlite_file: tuple[Database, Path],
) -> None:
    db, lock = sqlite_file
    fd = os.open(lock, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)

    async def write() -> None:
        async with db.session_scope() as session:
            await session.execute(text("INSERT INTO notes VALUES (1)"))

    writing = asyncio.create_task(write())
    await asyncio.sleep(0.1)  # waiting for the turn in a thread
    writing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writing
    fcntl.flock(fd, fcntl.LOCK_UN)  # the thread now gets the turn, and must give it back
    os.close(fd)
    for _ in range(200):
        if file_lock_is_free(lock):
            break
        await asyncio.sleep(0.01)
    assert file_lock_is_free(lock)
    async with db.session_scope() as session:  # and the next writer of this process writes
        await session.execute(text("INSERT INTO notes VALUES (2)"))
