"""Where file bytes live: the `Storage` protocol the service needs, `LocalStorage` and `S3Storage`.

`LocalStorage` keeps each object as a file under a root directory (`DATA_DIR/files`), one folder
per workspace. `S3Storage` keeps it in an S3-compatible bucket (AWS S3, MinIO, ...) under the
prefix of `STORAGE_URL=s3://bucket/prefix`, one prefix per workspace, and hands out presigned
URLs. `storage_from_settings` picks the one the settings ask for.

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
import threading
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol, cast
from urllib.parse import urlsplit

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from paperworks.files.filenames import content_disposition
from paperworks.kit.logging import get_logger
from paperworks.settings import Settings

if TYPE_CHECKING:
    from botocore.response import StreamingBody
    from mypy_boto3_s3 import S3Client

log = get_logger(__name__)

CHUNK_SIZE = 64 * 1024
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*(?:/[A-Za-z0-9][A-Za-z0-9_.-]*)*")
MAX_KEY_LENGTH = 200
SPOOL_MEMORY_BYTES = 1024 * 1024  # an S3 write past this is spooled to a temporary file
S3_PART_BYTES = 8 * 1024 * 1024  # larger S3 writes are multipart uploads of parts this size

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

    async def presigned_url(
        self, key: str, *, filename: str, content_type: str, expires_in: timedelta
    ) -> str | None:
        """A URL that serves the object to anyone for `expires_in`, as an attachment named
        `filename`, without going through us; None when this storage cannot make one (the
        service then signs a link to its own download route)."""
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

    async def presigned_url(
        self, key: str, *, filename: str, content_type: str, expires_in: timedelta
    ) -> str | None:
        check_key(key)
        return None  # files on our disk are served by us, through a signed link


class S3Storage:
    """Objects in an S3-compatible bucket, under `prefix`.

    A write is spooled (in memory up to `SPOOL_MEMORY_BYTES`, then in a temporary file), counted
    and hashed on the way, shown to the `check`, and only then uploaded: in one PUT, or past
    `part_size` as a multipart upload. S3 makes an object visible only once its upload completes,
    so readers see the old object or the whole new one. boto3 blocks: its calls run in worker
    threads, never on the event loop."""

    def __init__(
        self, client: S3Client, bucket: str, prefix: str = "", *, part_size: int = S3_PART_BYTES
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = check_key(prefix.strip("/")) if prefix.strip("/") else ""
        self.transfer = TransferConfig(
            multipart_threshold=part_size, multipart_chunksize=part_size, max_concurrency=4
        )

    def object_key(self, key: str) -> str:
        """The S3 key that holds `key`: `<prefix>/<key>`."""
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    async def write(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        max_size: int | None = None,
        check: Check | None = None,
    ) -> StoredObject:
        name = self.object_key(key)
        # Closed by the thread that uploads it, or here if it never gets that far.
        spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115
        spool = cast(BinaryIO, spooled)
        digest = hashlib.sha256()
        size = 0
        try:
            async for chunk in chunks:
                size += len(chunk)
                if max_size is not None and size > max_size:
                    raise ObjectTooLarge(max_size)
                if chunk:
                    await asyncio.to_thread(_append, spool, digest, chunk)
        except BaseException:
            spool.close()
            raise
        upload = _Upload(spool)
        try:
            await asyncio.to_thread(self._publish, upload, name, check)
        except asyncio.CancelledError:
            self._abandon(upload, name)
            raise
        return StoredObject(size=size, sha256=digest.hexdigest())

    def _publish(self, upload: _Upload, name: str, check: Check | None) -> None:
        """In a worker thread: check, upload, and take the object back if the write was
        cancelled meanwhile (a thread cannot be stopped; it can only notice)."""
        spool = upload.spool
        try:
            if check is not None and upload.proceed():
                spool.seek(0)
                check(spool)
            if not upload.proceed():
                return
            spool.seek(0)
            self.client.upload_fileobj(spool, self.bucket, name, Config=self.transfer)
        finally:
            spool.close()
        if not upload.publish():
            self._delete_quietly(name)

    def _abandon(self, upload: _Upload, name: str) -> None:
        """On the event loop, when the task writing is cancelled: leave nothing behind."""
        started, published = upload.cancel()
        if not started:  # the thread may never run: close the spool here
            upload.spool.close()
        if published:
            # The upload finished just as the task was cancelled; no row will name it.
            asyncio.get_running_loop().run_in_executor(None, self._delete_quietly, name)

    def _delete_quietly(self, name: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=name)
        except Exception as exc:
            log.warning("s3_delete_failed", s3_object=name, error=repr(exc))

    async def open(
        self, key: str, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        name = self.object_key(key)
        body = await asyncio.to_thread(self._get, name, start, end)
        return _stream(body)

    def _get(self, name: str, start: int, end: int | None) -> StreamingBody | None:
        """The body of bytes `[start, end)`; None when there are none to read."""
        try:
            if end is not None and end <= start:
                self.client.head_object(Bucket=self.bucket, Key=name)
                return None
            if start == 0 and end is None:
                return self.client.get_object(Bucket=self.bucket, Key=name)["Body"]
            last = "" if end is None else str(end - 1)
            return self.client.get_object(
                Bucket=self.bucket, Key=name, Range=f"bytes={start}-{last}"
            )["Body"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in {"NoSuchKey", "404"}:
                raise ObjectNotFound(name) from exc
            if code == "InvalidRange":  # starts at or past the end
                return None
            raise

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(
            self.client.delete_object, Bucket=self.bucket, Key=self.object_key(key)
        )

    async def presigned_url(
        self, key: str, *, filename: str, content_type: str, expires_in: timedelta
    ) -> str | None:
        params = {
            "Bucket": self.bucket,
            "Key": self.object_key(key),
            # Signed with the rest: S3 answers with these headers, and nobody can change them.
            "ResponseContentDisposition": content_disposition(filename),
            "ResponseContentType": content_type,
        }
        # In a thread: signing may first have to fetch credentials (instance metadata, SSO...).
        return await asyncio.to_thread(
            self.client.generate_presigned_url,
            "get_object",
            Params=params,
            ExpiresIn=int(expires_in.total_seconds()),
        )


class _Upload:
    """An S3 write handed to a worker thread, and whether the task that started it gave up."""

    def __init__(self, spool: BinaryIO) -> None:
        self.spool = spool
        self._lock = threading.Lock()
        self._started = False
        self._cancelled = False
        self._published = False

    def proceed(self) -> bool:
        """The thread: may it go on?"""
        with self._lock:
            self._started = True
            return not self._cancelled

    def publish(self) -> bool:
        """The thread, once uploaded: is the object wanted (else it must be removed)?"""
        with self._lock:
            self._published = not self._cancelled
            return self._published

    def cancel(self) -> tuple[bool, bool]:
        """The task, cancelled: whether the thread had started, and had published."""
        with self._lock:
            self._cancelled = True
            return self._started, self._published


async def _stream(body: StreamingBody | None) -> AsyncIterator[bytes]:
    if body is None:
        return
    try:
        while chunk := await asyncio.to_thread(body.read, CHUNK_SIZE):
            yield chunk
    finally:
        body.close()


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


def s3_client(settings: Settings) -> S3Client:
    """A client for the settings' S3 endpoint (AWS by default). Without keys in the settings,
    boto3 finds credentials its usual way (environment, profile, instance role)."""
    custom_endpoint = settings.s3_endpoint_url is not None
    config = Config(
        signature_version="s3v4",  # presigned URLs carry their expiry (X-Amz-Expires)
        # MinIO and most self-hosted stores serve buckets as paths, not as host names.
        s3={"addressing_style": "path" if custom_endpoint else "auto"},
        # Stores other than AWS often refuse the checksums boto3 adds by default.
        request_checksum_calculation="when_required" if custom_endpoint else "when_supported",
        response_checksum_validation="when_required" if custom_endpoint else "when_supported",
        retries={"mode": "standard", "max_attempts": 3},
        max_pool_connections=32,  # worker threads at once, each upload using up to 4
        connect_timeout=10,
        read_timeout=60,
    )
    secret = settings.s3_secret_access_key
    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
        config=config,
    )


def storage_from_settings(settings: Settings) -> Storage:
    """`S3Storage` for `STORAGE_URL=s3://bucket/prefix`, else `LocalStorage` in `DATA_DIR/files`."""
    if not settings.storage_url:
        return LocalStorage(settings.data_dir / "files")
    url = urlsplit(settings.storage_url)  # s3://bucket[/prefix], checked by the settings
    return S3Storage(s3_client(settings), url.netloc, url.path)
