"""Extraction's HTTP surface under /api/v1: documents (upload, list, read, delete, timeline) and
configurations (create, list, read, save, archive, timeline)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Query, UploadFile, status
from fastapi.responses import JSONResponse, Response
from starlette.background import BackgroundTask

from paperworks.events import service as events
from paperworks.events.schemas import EventOut
from paperworks.extraction import exceptions as errors
from paperworks.extraction import jobs, results, schemas, service
from paperworks.extraction.models import DocumentKind, ExportFormat, ExtractedTable
from paperworks.files import exceptions as file_errors
from paperworks.files import service as files
from paperworks.files.dependencies import upload_chunks
from paperworks.identity.dependencies import CurrentCaller
from paperworks.jobs.exceptions import JobNotFound
from paperworks.kit.errors import problem_responses
from paperworks.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from paperworks.kit.schemas import DefaultResponse
from paperworks.services import ServicesDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["extraction"])

Id = Annotated[str, Path(max_length=64)]


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
        chunks=upload_chunks(file),
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


# --- extraction jobs, tables, exports ---------------------------------------------------------


def _summary(table: ExtractedTable) -> schemas.TableSummary:
    return schemas.TableSummary.model_validate(table)


@router.post(
    "/documents/{document_id}/extract",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Extract a document's tables, shaped by a configuration, as a job",
    description="Queues `extraction.run` and answers its `jobId`; follow it on `/jobs/{id}` "
    "(live: `extraction:progress {jobId, page, done, total}` as each page is read, then "
    "`extraction:completed {jobId, tables}`). "
    "Without `configurationId` the default settings apply; an archived configuration is refused. "
    "Emits `job.created`.",
    responses=problem_responses(
        errors.DocumentNotFound, errors.ConfigurationNotFound, errors.ConfigurationArchived
    ),
)
async def extract_document(
    document_id: Id,
    caller: CurrentCaller,
    session: SessionDep,
    services: ServicesDep,
    body: schemas.ExtractRequest | None = None,
) -> schemas.ExtractAccepted:
    configuration_id = body.configuration_id if body is not None else None
    extraction = await jobs.start_extraction(
        session, services, caller, document_id, configuration_id
    )
    return schemas.ExtractAccepted(job_id=extraction.id)


@router.get(
    "/jobs/{job_id}/tables",
    summary="An extraction job's tables, in page then position order",
    responses=problem_responses(JobNotFound),
)
async def job_tables(
    job_id: Id,
    caller: CurrentCaller,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[schemas.TableSummary]:
    found, next_cursor = await results.job_tables(
        session, caller, job_id, limit=limit, cursor=cursor
    )
    return Page(items=[_summary(t) for t in found], next_cursor=next_cursor)


@router.get(
    "/documents/{document_id}/tables",
    summary="The tables of the document's latest succeeded extraction job",
    description="Empty until one of its jobs has succeeded.",
    responses=problem_responses(errors.DocumentNotFound),
)
async def document_tables(
    document_id: Id,
    caller: CurrentCaller,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[schemas.TableSummary]:
    found, next_cursor = await results.document_tables(
        session, caller, document_id, limit=limit, cursor=cursor
    )
    return Page(items=[_summary(t) for t in found], next_cursor=next_cursor)


@router.get(
    "/tables/{table_id}",
    summary="One table: as found (grid, cells) and as shaped (header, rows, mapping, issues)",
    responses=problem_responses(errors.TableNotFound),
)
async def get_table(table_id: Id, caller: CurrentCaller, session: SessionDep) -> schemas.TableOut:
    table = await results.get_table(session, caller, table_id)
    return schemas.TableOut(
        id=table.id,
        job_id=table.job_id,
        document_id=table.document_id,
        page=table.page,
        index=table.index,
        sheet=table.sheet,
        bbox=table.bbox,
        n_rows=table.n_rows,
        n_cols=table.n_cols,
        grid=results.grid(table),
        header=table.header,
        rows=table.rows,
        row_sources=table.row_sources,
        cells=table.cells,
        mapping=table.mapping,
        issues=table.issues,
    )


@router.post(
    "/jobs/{job_id}/exports",
    status_code=status.HTTP_201_CREATED,
    summary="Export a job's tables as CSV, XLSX or JSON files with signed download links",
    description="All the job's tables, or `tableIds`. CSV: one table's file, or a ZIP of one CSV "
    "per table when there are several; XLSX: a workbook with a sheet per table; JSON: one "
    "document. Cells a spreadsheet could run as formulas are escaped. Emits `export.created`.",
    responses=problem_responses(JobNotFound, errors.TableNotOfJob, errors.JobNotFinished),
)
async def create_exports(
    job_id: Id,
    body: schemas.ExportRequest,
    caller: CurrentCaller,
    session: SessionDep,
    services: ServicesDep,
) -> list[schemas.ExportOut]:
    made = await results.create_exports(
        session, services.storage, caller, job_id, body.format, body.table_ids
    )
    answer = []
    for export, record in made:
        url, expires_at = await files.download_url(services.files, services.storage, record)
        answer.append(
            schemas.ExportOut(
                id=export.id,
                job_id=export.job_id,
                table_id=export.table_id,
                format=ExportFormat(export.format),
                file_id=record.id,
                filename=record.filename,
                download_url=url,
                expires_at=expires_at,
                created_at=export.created_at,
            )
        )
    return answer


@router.get(
    "/tables/{table_id}/export",
    summary="One table as a CSV, XLSX or JSON file, streamed directly",
    response_class=Response,
    responses={
        200: {
            "content": {media: {} for media in results.MEDIA_TYPES.values()},
            "description": "The file",
        },
        **problem_responses(errors.TableNotFound),
    },
)
async def export_table(
    table_id: Id,
    caller: CurrentCaller,
    session: SessionDep,
    format: ExportFormat = ExportFormat.csv,
) -> Response:
    rendered = await results.render_table(session, caller, table_id, format)
    return Response(
        rendered.data,
        media_type=rendered.media_type,
        headers={"Content-Disposition": f'attachment; filename="{rendered.filename}"'},
    )
