"""Database access: the declarative base, column mixins, engines and the request session.

One `AsyncSession` per request; services never commit, the request commits once before the
response leaves (see `session_scope`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import time
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import DateTime, MetaData, String, TypeDecorator, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, SessionTransaction, mapped_column
from sqlalchemy.util.concurrency import await_, in_greenlet

from paperworks.kit import sqlite_driver
from paperworks.kit.ids import ID_LENGTH, new_id

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, also on SQLite, which stores no offset."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class IdMixin:
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


READS_OUTSIDE_TRANSACTIONS = frozenset({"SELECT", "PRAGMA"})
BUSY_TIMEOUT_MS = 5000
_HELD_GATE = "paperworks_write_gate"
_HELD_FILE = "paperworks_write_file_lock"


class _WriteGate:
    """One writer at a time among the connections to a SQLite file, queued first come first
    served: in the event loop within a process, and on a file lock across processes.

    SQLite lets one transaction write at a time; the others wait in its busy handler, which
    sleeps and retries (after 1, 2, 5 ... up to 100 ms between tries), so under load a writer
    slept on long after the lock was free, and a newcomer could take it before writers that had
    waited longer. Each waiter also kept a pooled connection, until readers found none left. Here
    writers of one process wait their turn on an asyncio lock, handed over as the last one
    commits or rolls back; the turn's holder then takes an exclusive `flock` on a file beside
    the database, which the kernel hands to the next process (`--workers`, a worker, the CLI)
    the moment it is released, where SQLite's busy handler would have slept on. SQLite's own lock
    still decides who writes: past busy_timeout a writer goes on anyway and meets it."""

    def __init__(self, lock_path: Path | None) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._lock_path = lock_path
        self._lock_file: tuple[int, int] | None = None  # (pid, fd): a forked child opens its own

    def acquire(self, info: dict[str, Any]) -> None:
        """Wait for the gate from inside SQLAlchemy's greenlet; note it in the connection's
        `info` so it is released once. Past busy_timeout go on anyway: SQLite's own wait then
        decides (and a request that cannot write in time gets its 503)."""
        if _HELD_GATE in info or not in_greenlet():
            return
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        deadline = loop.time() + BUSY_TIMEOUT_MS / 1000
        try:
            await_(asyncio.wait_for(lock.acquire(), BUSY_TIMEOUT_MS / 1000))
        except TimeoutError:
            return
        info[_HELD_GATE] = lock
        fd = self._file_descriptor()
        if fd is not None and _lock_file(fd, deadline - loop.time()):
            info[_HELD_FILE] = fd

    @staticmethod
    def release(info: dict[str, Any]) -> None:
        fd = info.pop(_HELD_FILE, None)
        if fd is not None:
            _unlock_file(fd)
        lock = info.pop(_HELD_GATE, None)
        if lock is not None and lock.locked():
            lock.release()

    def _file_descriptor(self) -> int | None:
        if self._lock_path is None:
            return None
        pid = os.getpid()
        if self._lock_file is None or self._lock_file[0] != pid:
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._lock_file = (pid, fd)
        return self._lock_file[1]


def _lock_file(fd: int, timeout: float) -> bool:
    """Take the exclusive lock on `fd` within `timeout` seconds: at once when it is free, else
    waiting in a thread (flock blocks). A wait given up (timeout, cancellation) releases the lock
    as soon as the thread gets it, so no one is left holding it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        pass
    waiting = asyncio.get_running_loop().run_in_executor(None, fcntl.flock, fd, fcntl.LOCK_EX)
    try:
        await_(asyncio.wait_for(asyncio.shield(waiting), max(timeout, 0)))
    except BaseException as exc:
        waiting.add_done_callback(lambda _: _unlock_file(fd))
        if isinstance(exc, TimeoutError):
            return False
        raise
    return True


def _unlock_file(fd: int) -> None:
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_UN)


def _configure_sqlite(engine: AsyncEngine) -> None:
    """SQLite with one writer at a time, without "database is locked" for the loser.

    pysqlite's own transaction handling breaks SAVEPOINT and runs DDL outside transactions, so
    it is off and we begin transactions ourselves. Not with a plain (deferred) BEGIN: a
    transaction that has read and then writes cannot wait for the write lock if another write
    committed meanwhile - it fails at once. Instead reads run on their own until the first write
    (read committed, as PostgreSQL's default), and that write first takes the lock with BEGIN
    IMMEDIATE, which waits its turn (busy_timeout). So a request that reads, then writes, queues
    behind a running job's write instead of failing; a transaction that never writes never
    locks anyone out (Rails and Django moved to IMMEDIATE for the same reason). Writers queue
    before that, on `_WriteGate`."""
    file = _sqlite_file(engine.url.database)
    gate = _WriteGate(file.with_name(f"{file.name}.write-lock") if file else None)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _lock_before_the_first_write(connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        if connection.connection.driver_connection.in_transaction:
            return
        if statement.lstrip()[:6].upper() in READS_OUTSIDE_TRANSACTIONS:
            return
        gate.acquire(connection.info)
        cursor.execute("BEGIN IMMEDIATE")  # before anything that writes, SAVEPOINTs included

    # The transaction ends: the next writer's turn. (At "commit" the COMMIT is about to run; a
    # writer woken now finds it done, or waits a millisecond in SQLite's busy handler.)
    @event.listens_for(engine.sync_engine, "commit")
    @event.listens_for(engine.sync_engine, "rollback")
    def _after_the_transaction(connection: Any) -> None:
        try:
            info = connection.info
        except SQLAlchemyError:
            # An invalidated connection (its task was cancelled mid-statement) has no info to
            # read; the pool's invalidate and reset events release its turn from the record.
            return
        gate.release(info)

    # And whatever else ends a connection's use: returned to the pool (rolled back there),
    # invalidated, closed.
    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(_dbapi_connection: Any, record: Any, _state: Any) -> None:
        gate.release(record.info)

    for name in ("checkin", "invalidate", "soft_invalidate", "close"):
        event.listen(engine.sync_engine, name, _release_on_pool_event(gate))

    # Reads run outside transactions, so most units of work end with nothing to commit and
    # nothing to roll back on the connection's return to the pool; each COMMIT or ROLLBACK is
    # still a round trip through aiosqlite's thread. Send them only inside a transaction.
    dialect = engine.sync_engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection: Any) -> None:
        if _in_transaction(dbapi_connection):
            commit(dbapi_connection)

    def do_rollback(dbapi_connection: Any) -> None:
        if _in_transaction(dbapi_connection):
            rollback(dbapi_connection)

    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]


def _in_transaction(dbapi_connection: Any) -> bool:
    """Whether SQLite has a transaction open on this connection (True when unsure)."""
    try:
        return bool(dbapi_connection.driver_connection.in_transaction)
    except (AttributeError, ValueError):  # a closed connection: let the driver say so
        return True


def _sqlite_file(database: str | None) -> Path | None:
    """The file a SQLite URL's database names; None in memory."""
    return Path(database) if database and database != ":memory:" else None


def _release_on_pool_event(gate: _WriteGate) -> Callable[..., None]:
    def release(_dbapi_connection: Any, record: Any, *_: Any) -> None:
        if record is not None:
            gate.release(record.info)

    return release


def create_engine(
    url: str,
    *,
    pool_size: int | None = None,
    max_overflow: int | None = None,
    **options: Any,
) -> AsyncEngine:
    """An engine for `url`. `pool_size` and `max_overflow` size a server database's pool
    (PostgreSQL); SQLite keeps SQLAlchemy's pool for files, which its write gate is tuned for,
    and ignores them. None: SQLAlchemy's default (5 and 10)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        file = _sqlite_file(parsed.database)
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
        if parsed.get_driver_name() == "aiosqlite":
            options.setdefault("module", sqlite_driver.dbapi())
        engine = create_async_engine(parsed, **options)
        _configure_sqlite(engine)
        return engine
    if pool_size is not None:
        options.setdefault("pool_size", pool_size)
    if max_overflow is not None:
        options.setdefault("max_overflow", max_overflow)
    engine = create_async_engine(parsed, **options)
    _ping_after_idle(engine)
    return engine


PING_AFTER_IDLE_SECONDS = 1.0
_IDLE_SINCE = "paperworks_idle_since"


def _ping_after_idle(engine: AsyncEngine) -> None:
    """Check a pooled connection before use if it has lain idle, so a database restarted while
    the service was quiet costs no request.

    Rather than SQLAlchemy's `pool_pre_ping`, which pings at every checkout: a round trip per
    request that a busy service, whose connections come back within milliseconds, does not need.
    A connection lost under load fails its statement once; SQLAlchemy then drops the pool."""
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _idle_from_now(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception:
            alive = False
        if not alive:  # the pool drops this connection and checks out another
            raise DisconnectionError("the connection did not answer a ping")


# --- after-commit hooks: announce only what was really saved -----------------------------------

AFTER_COMMIT = "paperworks_after_commit"


def on_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run `callback` once `session`'s transaction commits; drop it if the transaction rolls back.

    How jobs are dispatched and events fanned out only after the request's single commit. Inside a
    savepoint, the callback belongs to it: dropped if the savepoint rolls back, run only when the
    whole transaction commits."""
    sync = session.sync_session
    transaction = sync.get_nested_transaction() or sync.get_transaction()
    sync.info.setdefault(AFTER_COMMIT, []).append((transaction, callback))


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the transaction goes on
        return
    for _transaction, callback in session.info.pop(AFTER_COMMIT, []):
        callback()


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_commit(session: Session, rolled_back: SessionTransaction) -> None:
    if rolled_back.parent is None:
        session.info.pop(AFTER_COMMIT, None)
    elif rolled_back.nested:
        pending = session.info.get(AFTER_COMMIT, [])
        pending[:] = [
            (transaction, callback)
            for transaction, callback in pending
            if not _within(transaction, rolled_back)
        ]


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


class Database:
    """An engine and the session factory bound to it (or to one connection, in tests)."""

    def __init__(self, engine: AsyncEngine, bind: AsyncConnection | None = None) -> None:
        self.engine = engine
        if bind is None:
            self.sessionmaker = async_sessionmaker(bind=engine, expire_on_commit=False)
        else:
            # In tests the bind is a connection inside an outer transaction: a commit then
            # releases a savepoint and the test's rollback still undoes everything.
            self.sessionmaker = async_sessionmaker(
                bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )

    @classmethod
    def from_url(cls, url: str, **engine_options: Any) -> Database:
        """`engine_options`: what `create_engine` takes (`Settings.engine_options`)."""
        return cls(create_engine(url, **engine_options))

    def share(self, key: str, value: object) -> None:
        """Make `value` reachable from every session as `session.info[key]`: how services that
        only receive a session (`events.publish`) find the process's event hub."""
        info = dict(self.sessionmaker.kw.get("info") or {})
        info[key] = value
        self.sessionmaker.configure(info=info)

    def shared(self, key: str) -> object | None:
        """What `share` made reachable under `key`, for code that holds the database itself."""
        return (self.sessionmaker.kw.get("info") or {}).get(key)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def session_scope(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits if the block succeeds, rolls back if it raises."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException as exc:
                # Some failures must still leave a trace: a reused refresh token revokes its
                # whole family, and the 401 that follows must not undo that.
                if getattr(exc, "keeps_changes", False):
                    await session.commit()
                else:
                    await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()
