"""Where file bytes live: the `Storage` protocol the service needs, and `LocalStorage`.

`LocalStorage` keeps each object as a file under a root directory (`DATA_DIR/files`), one folder
per workspace. An S3-compatible backend (presigned URLs, per-workspace prefixes) is meant to be
another implementation of the same protocol; it does not exist yet.

Keys are made by the service from ids (`<workspace_id>/<file_id>`), never from user input, and are
still checked: a key is slash-separated segments of letters, digits, `_`, `-` and `.`, each
starting with a letter or digit, so `..`, absolute paths and backslashes cannot occur.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK_SIZE = 64 * 1024
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*(?:/[A-Za-z0-9][A-Za-z0-9_.-]*)*")
MAX_KEY_LENGTH = 200

Check = Callable[[BinaryIO], None]
"""Sees the complete content (a seekable file at offset 0) before it is published; whatever it
raises aborts the write, leaving nothing stored. Runs in a worker thread."""


class StorageError(Exception):
    pass


class InvalidKey(StorageError, ValueError):
    pass


class ObjectNotFound(StorageError):
    pass


class ObjectTooLarge(StorageError):
    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        super().__init__(f"more than {max_size} bytes")


@dataclass(frozen=True)
class StoredObject:
    size: int
    sha256: str


def check_key(key: str) -> str:
    if len(key) > MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise InvalidKey(f"not a storage key: {key!r}")
    return key


class Storage(Protocol):
    async def write(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        max_size: int | None = None,
        check: Check | None = None,
    ) -> StoredObject:
        """Store `chunks` under `key`, all or nothing: readers see the old object or the whole
        new one, never a part. More than `max_size` bytes raises `ObjectTooLarge` as soon as
        the limit is passed; `check` may veto the content before it is published."""
        ...

    async def open(
        self, key: str, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """Bytes `[start, end)` of the object as chunks. A missing object raises
        `ObjectNotFound` here, before anything is streamed."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; removing a missing one is not an error."""
        ...


class LocalStorage:
    """Objects as files under `root`; written to a temporary file beside the target, then
    renamed over it (atomic on POSIX and Windows). Blocking file work runs in worker threads."""

    def __init__(self, root: Path) -> None:
        self.root = root.absolute()

    def path(self, key: str) -> Path:
        """Where `key` lives on disk (local storage only)."""
        return self.root.joinpath(*check_key(key).split("/"))

    async def write(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        max_size: int | None = None,
        check: Check | None = None,
    ) -> StoredObject:
        target = self.path(key)
        handle, temp = await asyncio.to_thread(_create_temp, target)
        digest = hashlib.sha256()
        size = 0
        try:
            async for chunk in chunks:
                size += len(chunk)
                if max_size is not None and size > max_size:
                    raise ObjectTooLarge(max_size)
                if chunk:
                    await asyncio.to_thread(_append, handle, digest, chunk)
            await asyncio.to_thread(_publish, handle, temp, target, check)
        except BaseException:
            # Synchronously: this also runs when the task is being cancelled.
            _discard(handle, temp)
            raise
        return StoredObject(size=size, sha256=digest.hexdigest())

    async def open(
        self, key: str, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        path = self.path(key)
        try:
            handle = await asyncio.to_thread(_open_at, path, start)
        except FileNotFoundError as exc:
            raise ObjectNotFound(key) from exc
        return _read(handle, None if end is None else max(end - start, 0))

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path(key).unlink, missing_ok=True)


def _create_temp(target: Path) -> tuple[BinaryIO, Path]:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    return os.fdopen(fd, "w+b"), Path(name)


def _append(handle: BinaryIO, digest: hashlib._Hash, chunk: bytes) -> None:
    handle.write(chunk)
    digest.update(chunk)


def _publish(handle: BinaryIO, temp: Path, target: Path, check: Check | None) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    if check is not None:
        handle.seek(0)
        check(handle)
    handle.close()
    os.replace(temp, target)


def _discard(handle: BinaryIO, temp: Path) -> None:
    handle.close()
    temp.unlink(missing_ok=True)


def _open_at(path: Path, start: int) -> BinaryIO:
    handle = path.open("rb")
    if start:
        handle.seek(start)
    return handle


async def _read(handle: BinaryIO, remaining: int | None) -> AsyncIterator[bytes]:
    try:
        while remaining is None or remaining > 0:
            size = CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
            chunk = await asyncio.to_thread(handle.read, size)
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()
