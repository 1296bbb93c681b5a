"""Extraction's HTTP surface under /api/v1: documents (upload, list, read, delete, timeline) and
configurations (create, list, read, save, archive, timeline)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, File, Path, Query, UploadFile, status
from fastapi.responses import JSONResponse
from starlette.background import BackgroundTask

from paperworks.events import service as events
from paperworks.events.schemas import EventOut
from paperworks.extraction import exceptions as errors
from paperworks.extraction import schemas, service
from paperworks.extraction.models import DocumentKind
from paperworks.files import exceptions as file_errors
from paperworks.files.storage import CHUNK_SIZE
from paperworks.identity.dependencies import CurrentCaller
from paperworks.kit.errors import problem_responses
from paperworks.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from paperworks.kit.schemas import DefaultResponse
from paperworks.services import ServicesDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["extraction"])

Id = Annotated[str, Path(max_length=64)]


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK_SIZE):
        yield chunk


async def _timeline(
    session: SessionDep,
    caller: CurrentCaller,
    resource_type: str,
    resource_id: str,
    limit: int,
    cursor: str | None,
) -> Page[EventOut]:
    found, next_cursor = await events.timeline(
        session,
        caller,
        resource_type=resource_type,
        resource_id=resource_id,
        limit=limit,
        cursor=cursor,
    )
    return Page(items=[EventOut.of(event) for event in found], next_cursor=next_cursor)


# --- documents --------------------------------------------------------------------------------


@router.post(
    "/documents",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a document to extract tables from: a PDF, an XLSX workbook or a CSV file",
    description="Multipart `file`. Its type is read from its bytes (a CSV file needs its `.csv` "
    "name, since bytes cannot tell it from plain text), within the upload size limit of every "
    "file. A PDF's `pageCount` is read at once. Emits `document.uploaded`.",
    responses=problem_responses(
        file_errors.FileEmpty, file_errors.FileTooLarge, file_errors.UnsupportedFileType
    ),
    form_limits={"max_files": 1, "max_fields": 1},
)
async def upload_document(
    file: Annotated[UploadFile, File(description="The PDF, XLSX or CSV file")],
    caller: CurrentCaller,
    session: SessionDep,
    services: ServicesDep,
) -> schemas.DocumentOut:
    document = await service.upload_document(
        session,
        services.storage,
        caller,
        filename=file.filename,
        chunks=_chunks(file),
        max_size=services.files.max_upload_bytes,
    )
    return schemas.DocumentOut.model_validate(document)


@router.get("/documents", summary="The workspace's documents, oldest first")
async def list_documents(
    caller: CurrentCaller,
    session: SessionDep,
    kind: DocumentKind | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[schemas.DocumentOut]:
    documents, next_cursor = await service.list_documents(
        session, caller, kind=kind, limit=limit, cursor=cursor
    )
    return Page(
        items=[schemas.DocumentOut.model_validate(d) for d in documents], next_cursor=next_cursor
    )


@router.get(
    "/documents/{document_id}",
    summary="One document",
    responses=problem_responses(errors.DocumentNotFound),
)
async def get_document(
    document_id: Id, caller: CurrentCaller, session: SessionDep
) -> schemas.DocumentOut:
    document = await service.get_document(session, caller, document_id)
    return schemas.DocumentOut.model_validate(document)


@router.delete(
    "/documents/{document_id}",
    summary="Delete a document, its uploaded file and its extracted tables",
    response_model=DefaultResponse,
    description="Export files already made stay among the workspace's files.",
    responses=problem_responses(errors.DocumentNotFound),
)
async def delete_document(
    document_id: Id, caller: CurrentCaller, session: SessionDep, services: ServicesDep
) -> JSONResponse:
    record = await service.delete_document(session, caller, document_id)
    answer = DefaultResponse(message=f"Document {document_id} deleted.")
    # A background task runs after the response is sent, so after the request's commit: the
    # bytes go only once the rows are gone for good.
    return JSONResponse(
        answer.model_dump(mode="json"),
        background=(
            BackgroundTask(services.storage.delete, record.storage_key) if record else None
        ),
    )


@router.get(
    "/documents/{document_id}/events",
    summary="A document's timeline: uploaded, extracted, deleted",
    responses=problem_responses(errors.DocumentNotFound),
)
async def document_events(
    document_id: Id,
    caller: CurrentCaller,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[EventOut]:
    await service.get_document(session, caller, document_id)
    return await _timeline(session, caller, "document", document_id, limit, cursor)


# --- configurations ---------------------------------------------------------------------------

SETTINGS_DOC = (
    '`settings`: `pages` ("all" or "1-3,7"), `detectionMode` (auto, ruled, unruled), `columns` '
    "(`{name, aliases, type: text|integer|decimal|percent|currency|date, required}`), "
    '`detectHeader`, `numberLocale` ("1,234.56" or "1.234,56"), `dateFormats` (`DD.MM.YYYY` or '
    "strptime patterns), `dropEmptyRows`, `dropRepeatedHeaders`, `keepUnmappedColumns`. An "
    "unknown or invalid field is a 422 naming it."
)


@router.get(
    "/configurations",
    summary="The workspace's configurations, oldest first",
    description="Archived ones are left out unless `archived=true`, which lists them too.",
)
async def list_configurations(
    caller: CurrentCaller,
    session: SessionDep,
    archived: Annotated[bool, Query(description="Include archived configurations")] = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[schemas.ConfigurationOut]:
    configurations, next_cursor = await service.list_configurations(
        session, caller, archived=archived, limit=limit, cursor=cursor
    )
    return Page(
        items=[schemas.ConfigurationOut.model_validate(c) for c in configurations],
        next_cursor=next_cursor,
    )


@router.post(
    "/configurations",
    status_code=status.HTTP_201_CREATED,
    summary="Create a configuration: which pages, how to find tables, which columns you want",
    description=SETTINGS_DOC,
)
async def create_configuration(
    body: schemas.ConfigurationCreate, caller: CurrentCaller, session: SessionDep
) -> schemas.ConfigurationOut:
    configuration = await service.create_configuration(session, caller, body)
    return schemas.ConfigurationOut.model_validate(configuration)


@router.get(
    "/configurations/{configuration_id}",
    summary="One configuration, archived or not",
    responses=problem_responses(errors.ConfigurationNotFound),
)
async def get_configuration(
    configuration_id: Id, caller: CurrentCaller, session: SessionDep
) -> schemas.ConfigurationOut:
    configuration = await service.get_configuration(session, caller, configuration_id)
    return schemas.ConfigurationOut.model_validate(configuration)


@router.put(
    "/configurations/{configuration_id}",
    summary="Save a configuration; its version goes up by one",
    description="Only the fields sent change; `settings` is replaced whole. " + SETTINGS_DOC,
    responses=problem_responses(errors.ConfigurationNotFound),
)
async def update_configuration(
    configuration_id: Id,
    body: schemas.ConfigurationUpdate,
    caller: CurrentCaller,
    session: SessionDep,
) -> schemas.ConfigurationOut:
    configuration = await service.update_configuration(session, caller, configuration_id, body)
    return schemas.ConfigurationOut.model_validate(configuration)


@router.delete(
    "/configurations/{configuration_id}",
    summary="Archive a configuration",
    description="It leaves the list (see `archived=true`) but stays readable by id, and the jobs "
    "that used it keep pointing at it.",
    responses=problem_responses(errors.ConfigurationNotFound),
)
async def archive_configuration(
    configuration_id: Id, caller: CurrentCaller, session: SessionDep
) -> DefaultResponse:
    _, now = await service.archive_configuration(session, caller, configuration_id)
    state = "archived" if now else "was already archived"
    return DefaultResponse(message=f"Configuration {configuration_id} {state}.")


@router.get(
    "/configurations/{configuration_id}/events",
    summary="A configuration's timeline: created, each save with its version, archived",
    responses=problem_responses(errors.ConfigurationNotFound),
)
async def configuration_events(
    configuration_id: Id,
    caller: CurrentCaller,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[EventOut]:
    await service.get_configuration(session, caller, configuration_id)
    return await _timeline(session, caller, "configuration", configuration_id, limit, cursor)
