"""Extraction's operations on documents and configurations. Plain async functions taking the
caller's session; they never commit.

A document is an upload of the `extraction` purpose (PDF, XLSX or CSV, told from its bytes and
capped like every upload); a configuration's settings are checked on every save, which bumps its
version; deleting one archives it, so the jobs that used it keep pointing at it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable
from typing import Any

import pypdfium2  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.events import service as events
from paperworks.events.service import Resource
from paperworks.extraction import exceptions as errors
from paperworks.extraction import schemas
from paperworks.extraction.models import Configuration, Document, DocumentKind, DocumentStatus
from paperworks.extraction.pdf_tables import PDFIUM_LOCK
from paperworks.files import service as files
from paperworks.files import sniffing
from paperworks.files.models import StoredFile
from paperworks.files.purposes import Purpose
from paperworks.files.storage import Storage
from paperworks.identity.caller import Caller
from paperworks.identity.tenancy import get_scoped, scoped
from paperworks.kit.db import utcnow
from paperworks.kit.pagination import DEFAULT_LIMIT, fetch_page

KINDS = {
    sniffing.PDF: DocumentKind.pdf,
    sniffing.XLSX: DocumentKind.xlsx,
    sniffing.CSV: DocumentKind.csv,
}


# --- documents --------------------------------------------------------------------------------


def _document_resource(document: Document) -> Resource:
    return Resource("document", document.id, document.workspace_id)


# PDFium is not thread-safe: the page count takes the PDF engine's process-wide lock, and gives up
# (null, the job will count) rather than hold an upload behind a long extraction.
PAGE_COUNT_WAIT_SECONDS = 2.0


def pdf_page_count(data: bytes) -> int | None:
    """A PDF's number of pages, read from its page tree only; None when PDFium cannot open it
    (encrypted, corrupt: the extraction job says why, not the upload) or is busy elsewhere."""
    if not PDFIUM_LOCK.acquire(timeout=PAGE_COUNT_WAIT_SECONDS):
        return None
    try:
        try:
            pdf = pypdfium2.PdfDocument(data)
        except pypdfium2.PdfiumError:
            return None
        try:
            return len(pdf)
        finally:
            pdf.close()
    finally:
        PDFIUM_LOCK.release()


async def upload_document(
    session: AsyncSession,
    storage: Storage,
    caller: Caller,
    *,
    filename: str | None,
    chunks: AsyncIterable[bytes],
    max_size: int,
) -> Document:
    """Store the upload as a file of the workspace (refused, with nothing kept, unless it is a
    PDF, an XLSX workbook or a CSV file within the upload cap) and its document; publish
    `document.uploaded`."""
    record = await files.store_stream(
        session,
        storage,
        caller,
        filename=filename,
        chunks=chunks,
        purpose=Purpose.extraction,
        max_size=max_size,
    )
    kind = KINDS[record.content_type]
    page_count = None
    if kind == DocumentKind.pdf:
        data = await files.read_bytes(storage, record)
        page_count = await asyncio.to_thread(pdf_page_count, data)
    document = Document(
        workspace_id=caller.workspace,
        file_id=record.id,
        name=record.filename,
        kind=kind,
        page_count=page_count,
        status=DocumentStatus.uploaded,
        uploaded_by=caller.user_id,
    )
    session.add(document)
    await session.flush()
    payload = {"name": document.name, "kind": kind, "fileId": record.id, "pageCount": page_count}
    await events.publish(
        session, "document.uploaded", _document_resource(document), payload, actor=caller
    )
    return document


async def list_documents(
    session: AsyncSession,
    caller: Caller,
    *,
    kind: DocumentKind | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> tuple[list[Document], str | None]:
    """A page of the workspace's documents, oldest first."""
    query = scoped(select(Document), caller)
    if kind is not None:
        query = query.where(Document.kind == kind)
    return await fetch_page(session, query, Document.id, limit=limit, cursor=cursor)


async def get_document(session: AsyncSession, caller: Caller, document_id: str) -> Document:
    document = await get_scoped(session, caller, Document, document_id)
    if document is None:
        raise errors.DocumentNotFound(f"No document {document_id}.")
    return document


async def delete_document(
    session: AsyncSession, caller: Caller, document_id: str
) -> StoredFile | None:
    """The document, its jobs' tables and exports' rows, and its uploaded file's row. Returns that
    file: the caller removes its bytes once the transaction has committed. Export files already
    made stay among the workspace's files."""
    document = await get_document(session, caller, document_id)
    record = await files.get_file_or_none(session, caller, document.file_id)
    await events.publish(
        session,
        "document.deleted",
        _document_resource(document),
        {"name": document.name},
        actor=caller,
    )
    await session.delete(document)
    await session.flush()
    if record is not None:
        await files.delete_file(session, record, actor=caller)
    return record


# --- configurations ---------------------------------------------------------------------------


def _configuration_resource(configuration: Configuration) -> Resource:
    return Resource("configuration", configuration.id, configuration.workspace_id)


async def _publish_configuration(
    session: AsyncSession, type: str, configuration: Configuration, caller: Caller, **extra: Any
) -> None:
    payload = {"name": configuration.name, "version": configuration.version, **extra}
    resource = _configuration_resource(configuration)
    await events.publish(session, type, resource, payload, actor=caller)


async def create_configuration(
    session: AsyncSession, caller: Caller, data: schemas.ConfigurationCreate
) -> Configuration:
    configuration = Configuration(
        workspace_id=caller.workspace,
        name=data.name,
        description=data.description,
        version=1,
        settings=data.settings.model_dump(mode="json"),
    )
    session.add(configuration)
    await session.flush()
    await _publish_configuration(session, "configuration.created", configuration, caller)
    return configuration


async def list_configurations(
    session: AsyncSession,
    caller: Caller,
    *,
    archived: bool = False,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> tuple[list[Configuration], str | None]:
    """A page of the workspace's configurations, oldest first; archived ones only when asked."""
    query = scoped(select(Configuration), caller)
    if not archived:
        query = query.where(Configuration.archived_at.is_(None))
    return await fetch_page(session, query, Configuration.id, limit=limit, cursor=cursor)


async def get_configuration(
    session: AsyncSession, caller: Caller, configuration_id: str
) -> Configuration:
    """The workspace's configuration, archived or not."""
    configuration = await get_scoped(session, caller, Configuration, configuration_id)
    if configuration is None:
        raise errors.ConfigurationNotFound(f"No configuration {configuration_id}.")
    return configuration


async def update_configuration(
    session: AsyncSession,
    caller: Caller,
    configuration_id: str,
    changes: schemas.ConfigurationUpdate,
) -> Configuration:
    """Save the fields sent (`settings` whole); every save bumps the version."""
    configuration = await get_configuration(session, caller, configuration_id)
    changed = [
        name
        for name in ("name", "description", "settings")
        if name in changes.model_fields_set and getattr(changes, name) is not None
    ]
    if changes.name is not None:
        configuration.name = changes.name
    if changes.description is not None:
        configuration.description = changes.description
    if changes.settings is not None:
        configuration.settings = changes.settings.model_dump(mode="json")
    configuration.version += 1
    configuration.updated_at = utcnow()
    await session.flush()
    await _publish_configuration(
        session, "configuration.updated", configuration, caller, fields=changed
    )
    return configuration


async def archive_configuration(
    session: AsyncSession, caller: Caller, configuration_id: str
) -> tuple[Configuration, bool]:
    """Archive the configuration: hidden from the list, still readable by id and by the jobs
    that used it. Returns it and whether it was archived now (False: it already was)."""
    configuration = await get_configuration(session, caller, configuration_id)
    if configuration.archived_at is not None:
        return configuration, False
    configuration.archived_at = utcnow()
    await session.flush()
    await _publish_configuration(session, "configuration.archived", configuration, caller)
    return configuration, True
