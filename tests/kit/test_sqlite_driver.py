"""SQLite statements make one trip to aiosqlite's thread, and answer as SQLAlchemy expects."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from paperworks.kit.db import Database


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'trips.db'}")
    async with db.session_scope() as session:
        await session.execute(
            text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)")
        )
    yield db
    await db.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of each function sent to a connection's thread."""
    sent: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return sent


async def test_a_query_is_one_trip_to_the_connection_s_thread(
    sqlite_db: Database, trips: list[str]
) -> None:
    async with sqlite_db.engine.connect() as connection:
        trips.clear()
        rows = (await connection.execute(text("SELECT 1 UNION ALL SELECT 2"))).all()
    assert [row[0] for row in rows] == [1, 2]
    assert trips.count("run_statement") == 1
    assert len(trips) <= 2  # and at most the rollback on the way back to the pool


async def test_writes_answer_rows_counts_and_ids(sqlite_db: Database) -> None:
    async with sqlite_db.session_scope() as session:
        inserted = await session.execute(
            text("INSERT INTO notes (body) VALUES ('a'), ('b') RETURNING id, body")
        )
        assert [row.body for row in inserted] == ["a", "b"]
        single = await session.execute(text("INSERT INTO notes (body) VALUES ('c')"))
        assert single.lastrowid == 3
        await session.execute(
            text("INSERT INTO notes (body) VALUES (:body)"), [{"body": "d"}, {"body": "e"}]
        )
        changed = await session.execute(text("UPDATE notes SET body = body || '!' WHERE id < 3"))
        assert changed.rowcount == 2
    async with sqlite_db.sessionmaker() as session:
        bodies = (await session.execute(text("SELECT body FROM notes ORDER BY id"))).scalars()
        assert list(bodies) == ["a!", "b!", "c", "d", "e"]


async def test_driver_errors_are_sqlalchemy_s_own(sqlite_db: Database) -> None:
    async with sqlite_db.sessionmaker() as session:
        await session.execute(text("INSERT INTO notes (body) VALUES ('same')"))
        with pytest.raises(IntegrityError):
            await session.execute(text("INSERT INTO notes (body) VALUES ('same')"))
        await session.rollback()
        with pytest.raises(OperationalError):
            await session.execute(text("SELECT * FROM no_such_table"))


async def test_rows_can_be_streamed(sqlite_db: Database) -> None:
    async with sqlite_db.session_scope() as session:
        await session.execute(
            text("INSERT INTO notes (body) VALUES (:body)"), [{"body": str(n)} for n in range(50)]
        )
    async with sqlite_db.engine.connect() as connection:
        streamed = await connection.stream(text("SELECT body FROM notes ORDER BY id"))
        assert [row.body async for row in streamed] == [str(n) for n in range(50)]
