"""What every `Storage` promises, run against each backend (`local`: files under a directory;
`s3`: moto's S3 over real HTTP): all or nothing, limits and vetoes that leave nothing, ranges,
missing objects, keys checked and kept apart per workspace, a presigned URL or none.

What only one backend does (S3's multipart uploads, prefixes, cancellation in its upload thread
and signature details; the local directory's layout) is tested in that backend's own file."""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import httpx
import pytest

from paperworks.files.storage import (
    InvalidKey,
    LocalStorage,
    ObjectNotFound,
    ObjectTooLarge,
    S3Storage,
    Storage,
)
from tests.files.conftest import chunks_of, eventually, object_keys, read_all

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

S3_PREFIX = "paperworks/test"


@dataclass
class Backend:
    storage: Storage
    held: Callable[[], list[str]]
    """Everything the backend holds, complete or not (temporary files, multipart uploads in
    progress), named relative to where the storage keeps its objects."""
    presigns: bool  # whether it hands out URLs that serve an object without us


def local_backend(tmp_path: Path) -> Backend:
    area = tmp_path / "area"  # the root's parent too: nothing may land beside the root
    storage = LocalStorage(area / "files")

    def held() -> list[str]:
        files = (path for path in area.rglob("*") if path.is_file())
        return sorted(os.path.relpath(path, storage.root).replace(os.sep, "/") for path in files)

    return Backend(storage, held, presigns=False)


def s3_backend(s3: S3Client, bucket: str) -> Backend:
    def held() -> list[str]:
        inside = f"{S3_PREFIX}/"
        return [
            key.removeprefix(inside) if key.startswith(inside) else f"(outside) {key}"
            for key in object_keys(s3, bucket)
        ]

    return Backend(S3Storage(s3, bucket, S3_PREFIX), held, presigns=True)


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        return local_backend(tmp_path)
    return s3_backend(request.getfixturevalue("s3"), request.getfixturevalue("s3_bucket"))


@pytest.fixture
def storage(backend: Backend) -> Storage:
    return backend.storage


# --- writes are all or nothing ------------------------------------------------------------------


async def test_a_write_is_read_back_whole_and_in_ranges(storage: Storage, backend: Backend) -> None:
    data = bytes(range(256)) * 8000  # 2 MB: several chunks (spooled past memory, on S3)
    stored = await storage.write("ws/a", chunks_of(data[:1000], b"", data[1000:]))
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert await read_all(storage, "ws/a") == data
    assert await read_all(storage, "ws/a", start=70_000, end=70_010) == data[70_000:70_010]
    assert await read_all(storage, "ws/a", start=len(data) - 5) == data[-5:]
    assert await read_all(storage, "ws/a", start=len(data) - 5, end=len(data) + 100) == data[-5:]
    assert await read_all(storage, "ws/a", end=3) == data[:3]
    # Nothing to read is nothing, not an error, as long as the object exists.
    assert await read_all(storage, "ws/a", start=len(data)) == b""
    assert await read_all(storage, "ws/a", start=10, end=10) == b""
    assert backend.held() == ["ws/a"]


async def test_an_empty_write_is_an_empty_object(storage: Storage) -> None:
    stored = await storage.write("ws/empty", chunks_of())
    assert (stored.size, stored.sha256) == (0, hashlib.sha256(b"").hexdigest())
    assert await read_all(storage, "ws/empty") == b""


async def test_too_many_bytes_stop_the_write_and_leave_nothing(
    storage: Storage, backend: Backend
) -> None:
    produced: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        for index in range(1000):
            produced.append(index)
            yield b"x" * 100

    with pytest.raises(ObjectTooLarge) as raised:
        await storage.write("ws/big", endless(), max_size=250)
    assert raised.value.max_size == 250
    assert len(produced) == 3  # stopped at the chunk that crossed the limit
    assert backend.held() == []


async def test_a_write_of_exactly_the_limit_is_fine(storage: Storage) -> None:
    stored = await storage.write("ws/a", chunks_of(b"x" * 250), max_size=250)
    assert stored.size == 250
    assert await read_all(storage, "ws/a") == b"x" * 250


async def test_a_check_sees_the_whole_content_and_can_veto_it(
    storage: Storage, backend: Backend
) -> None:
    seen: list[bytes] = []

    def refuse(file: BinaryIO) -> None:
        seen.append(file.read())
        raise ValueError("not today")

    with pytest.raises(ValueError, match="not today"):
        await storage.write("ws/a", chunks_of(b"hello ", b"world"), check=refuse)
    assert seen == [b"hello world"]
    assert backend.held() == []
    with pytest.raises(ObjectNotFound):
        await storage.open("ws/a")


async def test_a_check_that_passes_lets_the_write_through(storage: Storage) -> None:
    seen: list[bytes] = []
    await storage.write("ws/a", chunks_of(b"fine"), check=lambda file: seen.append(file.read()))
    assert seen == [b"fine"]
    assert await read_all(storage, "ws/a") == b"fine"


async def test_a_rewrite_replaces_the_object_whole(storage: Storage, backend: Backend) -> None:
    await storage.write("ws/a", chunks_of(b"the old and longer content"))
    stored = await storage.write("ws/a", chunks_of(b"new"))
    assert (stored.size, stored.sha256) == (3, hashlib.sha256(b"new").hexdigest())
    assert await read_all(storage, "ws/a") == b"new"
    assert backend.held() == ["ws/a"]


async def test_a_failed_rewrite_keeps_the_old_object(storage: Storage, backend: Backend) -> None:
    await storage.write("ws/a", chunks_of(b"old"))

    async def broken() -> AsyncIterator[bytes]:
        yield b"new and partial"
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        await storage.write("ws/a", broken())
    assert await read_all(storage, "ws/a") == b"old"
    assert backend.held() == ["ws/a"]


async def test_a_vetoed_rewrite_keeps_the_old_object(storage: Storage, backend: Backend) -> None:
    await storage.write("ws/a", chunks_of(b"old"))

    def refuse(file: BinaryIO) -> None:
        raise ValueError("not this one")

    with pytest.raises(ValueError, match="not this one"):
        await storage.write("ws/a", chunks_of(b"new"), check=refuse)
    with pytest.raises(ObjectTooLarge):
        await storage.write("ws/a", chunks_of(b"far too new"), max_size=5)
    assert await read_all(storage, "ws/a") == b"old"
    assert backend.held() == ["ws/a"]


async def test_a_write_cancelled_during_its_check_stores_nothing(
    storage: Storage, backend: Backend
) -> None:
    checking, release = threading.Event(), threading.Event()
    files: list[BinaryIO] = []

    def slow_check(file: BinaryIO) -> None:
        files.append(file)
        checking.set()
        assert release.wait(10)

    task = asyncio.create_task(storage.write("ws/a", chunks_of(b"data"), check=slow_check))
    assert await asyncio.to_thread(checking.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()
    await eventually(lambda: files[0].closed)  # the thread is done with it
    assert backend.held() == []
    with pytest.raises(ObjectNotFound):
        await storage.open("ws/a")


# --- deleting, and objects that are not there ---------------------------------------------------


async def test_delete_removes_the_object_and_tolerates_missing_ones(
    storage: Storage, backend: Backend
) -> None:
    await storage.write("ws/a", chunks_of(b"data"))
    await storage.delete("ws/a")
    await storage.delete("ws/a")
    assert backend.held() == []
    with pytest.raises(ObjectNotFound):
        await storage.open("ws/a")
    with pytest.raises(ObjectNotFound):
        await storage.open("ws/a", start=3)
    with pytest.raises(ObjectNotFound):
        await storage.open("ws/a", start=3, end=3)


async def test_an_object_never_written_is_not_found(storage: Storage) -> None:
    await storage.delete("ws/never")
    for span in ({}, {"start": 2}, {"end": 2}, {"start": 0, "end": 0}):
        with pytest.raises(ObjectNotFound):
            await storage.open("ws/never", **span)


# --- keys -----------------------------------------------------------------------------------------


async def test_each_workspace_keeps_its_own_objects(storage: Storage, backend: Backend) -> None:
    await storage.write("ws1/f", chunks_of(b"one"))
    await storage.write("ws2/f", chunks_of(b"two"))
    await storage.write("ws1/g", chunks_of(b"three"))
    assert backend.held() == ["ws1/f", "ws1/g", "ws2/f"]
    assert await read_all(storage, "ws1/f") == b"one"
    assert await read_all(storage, "ws2/f") == b"two"
    await storage.delete("ws1/f")
    assert await read_all(storage, "ws2/f") == b"two"
    assert await read_all(storage, "ws1/g") == b"three"
    with pytest.raises(ObjectNotFound):
        await storage.open("ws2/g")


BAD_KEYS = [
    "",
    "..",
    "../outside",
    "ws/../x",
    "ws/../../outside",
    "ws/./a",
    "/etc/passwd",
    "ws//a",
    "ws/a/",
    "ws\\a",
    "ws\\..\\a",
    ".hidden",
    "ws/.a",
    "ws/a b",
    "ws/\x00",
    "ws/" + "a" * 300,
]


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_keys_are_checked(storage: Storage, backend: Backend, key: str) -> None:
    with pytest.raises(InvalidKey):
        await storage.write(key, chunks_of(b"data"))
    with pytest.raises(InvalidKey):
        await storage.open(key)
    with pytest.raises(InvalidKey):
        await storage.delete(key)
    with pytest.raises(InvalidKey):
        await storage.presigned_url(
            key, filename="a.txt", content_type="text/plain", expires_in=timedelta(minutes=1)
        )
    assert backend.held() == []


# --- presigned URLs -------------------------------------------------------------------------------


async def test_a_presigned_url_serves_the_object_as_a_named_attachment_or_there_is_none(
    storage: Storage, backend: Backend
) -> None:
    data = b"name,amount\nanna,3\n"
    await storage.write("ws/a", chunks_of(data))
    url = await storage.presigned_url(
        "ws/a", filename="Zprávy 2024.csv", content_type="text/csv", expires_in=timedelta(minutes=5)
    )
    if not backend.presigns:
        assert url is None  # the service signs a link to its own download route instead
        return
    assert url is not None
    async with httpx.AsyncClient() as http:  # no credentials: the URL is the authorisation
        response = await http.get(url)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "text/csv"
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"Zpr_vy 2024.csv\"; filename*=UTF-8''Zpr%C3%A1vy%202024.csv"
    )
