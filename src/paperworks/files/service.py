"""Files' operations: store (uploads and products' outputs), find, list, sign and delete files.

Plain async functions taking the request's `session`; they never commit (the request does). The
bytes go to a `Storage`; a file is sniffed, checked against its purpose and published there before
its row is written, so a refused file leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.events import service as events
from paperworks.events.service import Resource
from paperworks.files import exceptions as errors
from paperworks.files import signing, sniffing
from paperworks.files.filenames import extension_of, safe_filename
from paperworks.files.models import StoredFile
from paperworks.files.purposes import ALLOWED_TYPES, Purpose
from paperworks.files.storage import CHUNK_SIZE, ObjectNotFound, ObjectTooLarge, Storage
from paperworks.identity.caller import SYSTEM, Caller
from paperworks.identity.tenancy import get_scoped, scoped
from paperworks.kit.ids import new_id
from paperworks.kit.logging import get_logger
from paperworks.kit.pagination import fetch_page
from paperworks.settings import Settings

log = get_logger(__name__)

DOWNLOADS_PATH = "/api/v1/downloads"


@dataclass(frozen=True)
class FilesConfig:
    """What files need from the settings."""

    secret_key: str
    public_url: str
    max_upload_bytes: int
    signed_url_ttl: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> FilesConfig:
        return cls(
            secret_key=settings.secret_key.get_secret_value(),
            public_url=settings.public_url,
            max_upload_bytes=settings.max_upload_bytes,
            signed_url_ttl=timedelta(seconds=settings.signed_url_ttl_seconds),
        )


def storage_key(workspace_id: str, file_id: str) -> str:
    return f"{workspace_id}/{file_id}"


class _Inspection:
    """The storage's `check`: refuses empty files, types the purpose does not allow and names
    whose extension contradicts the bytes; remembers the type it found."""

    def __init__(self, filename: str, purpose: Purpose) -> None:
        self.filename = filename
        self.purpose = purpose
        self.content_type: str | None = None

    def __call__(self, file: BinaryIO) -> None:
        if not file.read(1):
            raise errors.FileEmpty("The file is empty.")
        allowed = ALLOWED_TYPES[self.purpose]
        sniffed = sniffing.sniff_file(file)
        if sniffed is None:
            raise errors.UnsupportedFileType(
                f"The content is not a type we accept for {self.purpose}: {_describe(allowed)}."
            )
        extension = extension_of(self.filename)
        content_type = sniffing.content_type_for(sniffed, extension)
        if content_type is None and sniffed == sniffing.SINGLE_BYTE_TEXT:
            raise errors.UnsupportedFileType(
                "The content is text that is not UTF-8; only a CSV file (named .csv) may be "
                "in Windows-1252 or Latin-1. Save it as UTF-8."
            )
        if content_type is None:
            raise errors.ExtensionMismatch(
                f"The content is {sniffed} but the name ends in {extension}."
            )
        if content_type not in allowed:
            raise errors.UnsupportedFileType(
                f"{content_type} is not accepted for {self.purpose}; it takes {_describe(allowed)}."
            )
        self.content_type = content_type


def _describe(content_types: frozenset[str]) -> str:
    return ", ".join(sorted(content_types))


async def store_stream(
    session: AsyncSession,
    storage: Storage,
    caller: Caller,
    *,
    filename: str | None,
    chunks: AsyncIterable[bytes],
    purpose: Purpose,
    max_size: int | None,
) -> StoredFile:
    """Store a file in the caller's workspace from a stream of chunks, never holding it whole;
    publish `file.uploaded` (or `file.created` for a product's output).

    Raises `FileTooLarge` past `max_size` bytes, `FileEmpty`, `UnsupportedFileType` (the
    purpose does not take what the bytes are) and `ExtensionMismatch`; nothing is stored then."""
    file_id, workspace_id = new_id(), caller.workspace
    key = storage_key(workspace_id, file_id)
    name = safe_filename(filename)
    inspection = _Inspection(name, purpose)
    try:
        stored = await storage.write(key, chunks, max_size=max_size, check=inspection)
    except ObjectTooLarge as exc:
        raise errors.FileTooLarge(
            f"The file is larger than {exc.max_size} bytes, the limit for uploads."
        ) from exc
    assert inspection.content_type is not None  # the check passed
    record = StoredFile(
        id=file_id,
        workspace_id=workspace_id,
        user_id=caller.user_id,
        filename=name,
        content_type=inspection.content_type,
        size=stored.size,
        sha256=stored.sha256,
        purpose=purpose,
        storage_key=key,
    )
    session.add(record)
    try:
        await session.flush()
    except Exception:
        await storage.delete(key)
        raise
    await events.publish(
        session,
        "file.created" if purpose == Purpose.output else "file.uploaded",
        Resource("file", file_id, workspace_id),
        {"filename": name, "contentType": record.content_type, "size": record.size},
        actor=caller,
    )
    log.info(
        "file_stored",
        file_id=file_id,
        workspace_id=workspace_id,
        content_type=record.content_type,
        size=record.size,
        purpose=purpose,
    )
    return record


async def store_bytes(
    session: AsyncSession,
    storage: Storage,
    caller: Caller,
    *,
    filename: str,
    data: bytes,
    purpose: Purpose = Purpose.output,
) -> StoredFile:
    """Store bytes a product made (a .pptx, a booklet PDF, an export) as a file of the workspace.

    The same checks as an upload apply, except the upload size limit."""

    async def chunks() -> AsyncIterator[bytes]:
        for offset in range(0, len(data), CHUNK_SIZE):
            yield data[offset : offset + CHUNK_SIZE]

    return await store_stream(
        session,
        storage,
        caller,
        filename=filename,
        chunks=chunks(),
        purpose=purpose,
        max_size=None,
    )


async def get_file(session: AsyncSession, caller: Caller, file_id: str) -> StoredFile:
    """The workspace's file; another workspace's is as missing as one that never existed."""
    record = await get_file_or_none(session, caller, file_id)
    if record is None:
        raise errors.FileNotFound(f"No file {file_id}.")
    return record


async def get_file_or_none(
    session: AsyncSession, caller: Caller, file_id: str | None
) -> StoredFile | None:
    """The workspace's file if there is one by that id (a product's link may have gone stale)."""
    if file_id is None:
        return None
    return await get_scoped(session, caller, StoredFile, file_id)


async def files_by_id(
    session: AsyncSession, caller: Caller, file_ids: Iterable[str | None]
) -> dict[str, StoredFile]:
    """The workspace's files among these ids, in one query (a page of a product's rows, each
    linking a file, must not cost a query per row)."""
    wanted = {file_id for file_id in file_ids if file_id is not None}
    if not wanted:
        return {}
    found = await session.scalars(
        scoped(select(StoredFile).where(StoredFile.id.in_(wanted)), caller)
    )
    return {record.id: record for record in found}


async def list_files(
    session: AsyncSession,
    caller: Caller,
    *,
    purpose: Purpose | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[StoredFile], str | None]:
    """One page of the workspace's files, oldest first, and the cursor of the next page."""
    query = scoped(select(StoredFile), caller)
    if purpose is not None:
        query = query.where(StoredFile.purpose == purpose)
    return await fetch_page(session, query, StoredFile.id, limit=limit, cursor=cursor)


async def open_content(
    storage: Storage, record: StoredFile, *, start: int = 0, end: int | None = None
) -> AsyncIterator[bytes]:
    """The file's bytes `[start, end)` as chunks."""
    try:
        return await storage.open(record.storage_key, start=start, end=end)
    except ObjectNotFound as exc:  # deleted since its row was read
        raise errors.FileNotFound(f"No file {record.id}.") from exc


async def read_bytes(storage: Storage, record: StoredFile) -> bytes:
    """The whole file, for a product that works on it in memory (a form to fill, a workbook)."""
    chunks = await open_content(storage, record)
    return b"".join([chunk async for chunk in chunks])


async def delete_file(session: AsyncSession, record: StoredFile, *, actor: Caller = SYSTEM) -> None:
    """Delete the file's row. The caller removes its bytes (`storage.delete(record.storage_key)`)
    once the transaction has committed, so a rollback never leaves a row without bytes."""
    await session.delete(record)
    await session.flush()
    resource = Resource("file", record.id, record.workspace_id)
    await events.publish(
        session, "file.deleted", resource, {"filename": record.filename}, actor=actor
    )


async def download_url(
    config: FilesConfig, storage: Storage, record: StoredFile, *, now: datetime | None = None
) -> tuple[str, datetime]:
    """An unauthenticated URL for the file's content, and when it stops working: the storage's
    own (an S3 presigned URL) when it makes one, else a signed link to our download route."""
    now = now or datetime.now(UTC)
    expires_at = datetime.fromtimestamp(int((now + config.signed_url_ttl).timestamp()), UTC)
    presigned = await storage.presigned_url(
        record.storage_key,
        filename=record.filename,
        content_type=record.content_type,
        # Signed after `now`, so it works at least until `expires_at`.
        expires_in=config.signed_url_ttl,
    )
    if presigned is not None:
        return presigned, expires_at
    token = signing.sign_download(config.secret_key, record.id, expires_at)
    return f"{config.public_url}{DOWNLOADS_PATH}/{token}", expires_at


async def file_for_download(session: AsyncSession, config: FilesConfig, token: str) -> StoredFile:
    """The file a download token names. The signature is the authorisation: no workspace."""
    file_id = signing.verify_download(config.secret_key, token)
    record = await session.get(StoredFile, file_id)
    if record is None:
        raise errors.FileNotFound(f"No file {file_id}.")
    return record
