"""LocalStorage: atomic writes, limits and vetoes that leave nothing, keys that stay inside."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import BinaryIO

import pytest

from paperworks.files.storage import (
    InvalidKey,
    LocalStorage,
    ObjectNotFound,
    ObjectTooLarge,
    Storage,
)


async def chunks_of(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def read_all(storage: Storage, key: str, **span: int) -> bytes:
    return b"".join([chunk async for chunk in await storage.open(key, **span)])


def files_under(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "files")


async def test_a_write_is_read_back_whole_and_in_ranges(storage: LocalStorage) -> None:
    data = bytes(range(256)) * 1000  # several chunks
    stored = await storage.write("ws/a", chunks_of(data[:1000], b"", data[1000:]))
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert await read_all(storage, "ws/a") == data
    assert await read_all(storage, "ws/a", start=70_000, end=70_010) == data[70_000:70_010]
    assert await read_all(storage, "ws/a", start=len(data) - 5) == data[-5:]
    assert files_under(storage.root) == ["ws/a"]


async def test_too_many_bytes_stop_the_write_and_leave_nothing(storage: LocalStorage) -> None:
    produced: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        for index in range(1000):
            produced.append(index)
            yield b"x" * 100

    with pytest.raises(ObjectTooLarge):
        await storage.write("ws/big", endless(), max_size=250)
    assert len(produced) == 3  # stopped at the chunk that crossed the limit
    assert files_under(storage.root) == []


async def test_a_write_of_exactly_the_limit_is_fine(storage: LocalStorage) -> None:
    stored = await storage.write("ws/a", chunks_of(b"x" * 250), max_size=250)
    assert stored.size == 250


async def test_a_check_sees_the_whole_content_and_can_veto_it(storage: LocalStorage) -> None:
    seen: list[bytes] = []

    def refuse(file: BinaryIO) -> None:
        seen.append(file.read())
        raise ValueError("not today")

    with pytest.raises(ValueError, match="not today"):
        await storage.write("ws/a", chunks_of(b"hello ", b"world"), check=refuse)
    assert seen == [b"hello world"]
    assert files_under(storage.root) == []


async def test_a_failed_rewrite_keeps_the_old_object(storage: LocalStorage) -> None:
    await storage.write("ws/a", chunks_of(b"old"))

    async def broken() -> AsyncIterator[bytes]:
        yield b"new and partial"
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        await storage.write("ws/a", broken())
    assert await read_all(storage, "ws/a") == b"old"
    assert files_under(storage.root) == ["ws/a"]


async def test_delete_removes_the_bytes_and_tolerates_missing_ones(storage: LocalStorage) -> None:
    await storage.write("ws/a", chunks_of(b"data"))
    await storage.delete("ws/a")
    await storage.delete("ws/a")
    assert files_under(storage.root) == []
    with pytest.raises(ObjectNotFound):
        await storage.open("ws/a")


BAD_KEYS: Iterable[str] = [
    "",
    "..",
    "../outside",
    "ws/../../outside",
    "ws/./a",
    "/etc/passwd",
    "ws//a",
    "ws/a/",
    "ws\\..\\a",
    ".hidden",
    "ws/.a",
    "ws/a b",
    "ws/\x00",
    "ws/" + "a" * 300,
]


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_keys_cannot_leave_the_root(storage: LocalStorage, key: str) -> None:
    with pytest.raises(InvalidKey):
        await storage.write(key, chunks_of(b"data"))
    with pytest.raises(InvalidKey):
        await storage.open(key)
    with pytest.raises(InvalidKey):
        await storage.delete(key)
    assert not storage.root.parent.joinpath("outside").exists()
    assert files_under(storage.root.parent) == []
