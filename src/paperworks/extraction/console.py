"""Extraction in the web console: upload a PDF, XLSX or CSV file, watch its tables being
extracted (default settings), look at each table's grid, and download it as CSV, XLSX or JSON."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from paperworks.console.dependencies import CheckedForm, SignedInConsole
from paperworks.console.pages import ConsolePages, Templates
from paperworks.extraction import jobs, results, service
from paperworks.extraction.exceptions import DocumentNotFound, TableNotFound
from paperworks.extraction.models import ExportFormat
from paperworks.files import exceptions as file_errors
from paperworks.files.dependencies import upload_chunks
from paperworks.jobs.service import is_finished
from paperworks.services import ServicesDep, SessionDep

router = APIRouter(include_in_schema=False)
templates = Templates(Path(__file__).parent / "templates")
SHOWN = 100  # documents, and tables of a document, a page lists
SHOWN_ROWS = 60  # of a table's grid on the page; the download has them all


async def _list_page(
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    *,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    documents, _ = await service.list_documents(session, console.caller, limit=SHOWN)
    return templates.render(
        request,
        "documents.html",
        console,
        status_code=status_code,
        documents=list(reversed(documents)),
        error=error,
    )


@router.get("/extraction")
async def documents(request: Request, console: SignedInConsole, session: SessionDep) -> Response:
    return await _list_page(request, console, session)


@router.post("/extraction/documents")
async def upload(
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
    form: CheckedForm,
) -> Response:
    """Store the file and extract its tables at once, with the workspace's default settings."""
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return await _list_page(request, console, session, status_code=422, error="Pick a file.")
    try:
        document = await service.upload_document(
            session,
            services.storage,
            console.caller,
            filename=file.filename,
            chunks=upload_chunks(file),
            max_size=services.files.max_upload_bytes,
        )
    except (
        file_errors.FileEmpty,
        file_errors.FileTooLarge,
        file_errors.UnsupportedFileType,
    ) as error:
        said = error.detail or error.title
        return await _list_page(request, console, session, status_code=422, error=said)
    await jobs.start_extraction(session, services, console.caller, document.id, None)
    return RedirectResponse(f"/extraction/documents/{document.id}", status_code=303)


@router.get("/extraction/documents/{document_id}")
async def document_page(
    document_id: str, request: Request, console: SignedInConsole, session: SessionDep
) -> Response:
    try:
        document = await service.get_document(session, console.caller, document_id)
    except DocumentNotFound:
        return templates.render(request, "document_missing.html", console, status_code=404)
    job = await results.latest_job(session, console.caller, document_id)
    tables, _ = await results.document_tables(
        session, console.caller, document_id, limit=SHOWN, cursor=None
    )
    shown = [(table, results.grid(table)[:SHOWN_ROWS]) for table in tables]
    return templates.render(
        request,
        "document.html",
        console,
        document=document,
        job=job,
        running=job is not None and not is_finished(job),
        tables=shown,
        formats=list(ExportFormat),
    )


@router.get("/extraction/tables/{table_id}/{export_format}")
async def download_table(
    table_id: str, export_format: ExportFormat, console: SignedInConsole, session: SessionDep
) -> Response:
    try:
        rendered = await results.render_table(session, console.caller, table_id, export_format)
    except TableNotFound:
        return Response("No such table.", status_code=404, media_type="text/plain")
    return Response(
        rendered.data,
        media_type=rendered.media_type,
        headers={"Content-Disposition": f'attachment; filename="{rendered.filename}"'},
    )


EXTRACTION_CONSOLE = ConsolePages(label="Extraction", path="/extraction", router=router)
