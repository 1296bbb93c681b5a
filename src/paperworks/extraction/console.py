"""Extraction in the web console: upload a PDF, XLSX or CSV file, watch its tables being
extracted (with the default settings or a configuration), look at each table's grid beside the
page it was found on with the table outlined (pick a cell, see where it came from), the records a
configuration shaped from it, and download it as CSV, XLSX or JSON. Configurations are made and
changed in an editor of their own."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from paperworks.console.dependencies import CheckedForm, SignedInConsole
from paperworks.console.pages import (
    Console,
    ConsolePages,
    ResourceMissing,
    Templates,
    problem_lines,
    validation_lines,
)
from paperworks.extraction import jobs, page_images, results, schemas, service
from paperworks.extraction.engine_errors import ExtractionError
from paperworks.extraction.exceptions import (
    ConfigurationNotFound,
    DocumentNotFound,
    TableNotFound,
)
from paperworks.extraction.models import Configuration, Document, DocumentKind, ExportFormat
from paperworks.extraction.models import ExtractedTable as TableRow
from paperworks.extraction.settings_model import ColumnType, ExtractionSettings
from paperworks.files import exceptions as file_errors
from paperworks.files import service as files
from paperworks.files.dependencies import upload_chunks
from paperworks.jobs.service import is_finished
from paperworks.kit.errors import AppError
from paperworks.services import Services, ServicesDep, SessionDep

router = APIRouter(include_in_schema=False)
templates = Templates(Path(__file__).parent / "templates")
SHOWN = 100  # documents, and tables of a document, a page lists
SHOWN_ROWS = 60  # of a table's grid on the page; the download has them all
BLANK_COLUMNS = 3  # empty column rows the configuration editor offers for new columns


async def _list_page(
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    *,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    documents, _ = await service.list_documents(session, console.caller, limit=SHOWN)
    configurations, _ = await service.list_configurations(session, console.caller, limit=SHOWN)
    return templates.render(
        request,
        "documents.html",
        console,
        status_code=status_code,
        documents=list(reversed(documents)),
        configurations=configurations,
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
    configuration_id = str(form.get("configuration") or "") or None
    try:
        await jobs.start_extraction(
            session, services, console.caller, document.id, configuration_id
        )
    except AppError as error:  # the configuration was archived meanwhile
        said = f"{document.name} is uploaded but not extracted: {error.detail}"
        return await _list_page(request, console, session, status_code=422, error=said)
    return RedirectResponse(f"/extraction/documents/{document.id}", status_code=303)


async def _document(
    request: Request, session: SessionDep, console: Console, document_id: str
) -> Document:
    try:
        return await service.get_document(session, console.caller, document_id)
    except DocumentNotFound:
        raise ResourceMissing(
            request, console, "document", "/extraction", "All documents"
        ) from None


async def _configuration(
    request: Request, session: SessionDep, console: Console, configuration_id: str
) -> Configuration:
    try:
        return await service.get_configuration(session, console.caller, configuration_id)
    except ConfigurationNotFound:
        raise ResourceMissing(
            request, console, "configuration", "/extraction/configurations", "All configurations"
        ) from None


@dataclass(frozen=True)
class TableView:
    """A table as its document's page shows it: the grid as found, the page it was found on
    with the table's and each cell's box (PDF points, the page's frame), and the records a
    configuration shaped from it."""

    table: TableRow
    grid: list[list[str]]
    page_size: page_images.PageSize | None
    cells: list[dict[str, Any]]
    shaped: bool

    sources: dict[tuple[int, int], str]


def _cell_sources(table: TableRow) -> dict[tuple[int, int], str]:
    """Where each found cell came from, in words, by its (row, column)."""
    sources = {}
    for cell in table.cells:
        row, col = cell.get("row", 0), cell.get("col", 0)
        where = f"Row {row + 1}, column {col + 1}"
        if table.sheet:
            sources[(row, col)] = f"{where} of the table on sheet {table.sheet}"
        elif cell.get("bbox"):
            x0, top, x1, bottom = (round(value) for value in cell["bbox"])
            page = cell.get("page", table.page)
            sources[(row, col)] = (
                f"{where}: page {page}, {x0} to {x1} pt from the left, "
                f"{top} to {bottom} pt from the top"
            )
    return sources


async def _document_page(
    request: Request,
    console: Console,
    session: SessionDep,
    services: Services,
    document: Document,
    *,
    status_code: int = 200,
    problems: list[str] | None = None,
) -> Response:
    job = await results.latest_job(session, console.caller, document.id)
    tables, _ = await results.document_tables(
        session, console.caller, document.id, limit=SHOWN, cursor=None
    )
    sizes = await _page_sizes(session, services, console, document, tables)
    views = [
        TableView(
            table=table,
            grid=results.grid(table)[:SHOWN_ROWS],
            page_size=sizes.get(table.page),
            cells=[
                cell
                for cell in table.cells
                if cell.get("bbox") and cell.get("page", table.page) == table.page
            ],
            shaped=any(m.get("column") for m in table.mapping),
            sources=_cell_sources(table),
        )
        for table in tables
    ]
    configurations, _ = await service.list_configurations(session, console.caller, limit=SHOWN)
    return templates.render(
        request,
        "document.html",
        console,
        status_code=status_code,
        document=document,
        job=job,
        running=job is not None and not is_finished(job),
        tables=views,
        shown_rows=SHOWN_ROWS,
        formats=list(ExportFormat),
        configurations=configurations,
        problems=problems or [],
    )


async def _page_sizes(
    session: SessionDep,
    services: Services,
    console: Console,
    document: Document,
    tables: list[TableRow],
) -> dict[int, page_images.PageSize]:
    """The sizes of the PDF pages its tables were found on; none for a workbook or CSV file, or
    a PDF PDFium cannot open (the extraction said why)."""
    if document.kind != DocumentKind.pdf or not tables:
        return {}
    record = await files.get_file(session, console.caller, document.file_id)
    data = await files.read_bytes(services.storage, record)
    try:
        return await asyncio.to_thread(page_images.page_sizes, data, {t.page for t in tables})
    except ExtractionError:
        return {}


@router.get("/extraction/documents/{document_id}")
async def document_page(
    document_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    document = await _document(request, session, console, document_id)
    return await _document_page(request, console, session, services, document)


@router.post("/extraction/documents/{document_id}/extract")
async def extract_again(
    document_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
    form: CheckedForm,
) -> Response:
    """Extract the document again, with a configuration or the default settings."""
    document = await _document(request, session, console, document_id)
    configuration_id = str(form.get("configuration") or "") or None
    try:
        await jobs.start_extraction(
            session, services, console.caller, document_id, configuration_id
        )
    except AppError as error:
        return await _document_page(
            request,
            console,
            session,
            services,
            document,
            status_code=422,
            problems=problem_lines(error),
        )
    return RedirectResponse(f"/extraction/documents/{document_id}", status_code=303)


@router.get("/extraction/documents/{document_id}/pages/{page}.png")
async def page_image(
    document_id: str,
    page: int,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    """A page of a PDF document as a PNG, for the outlines drawn over it."""
    try:
        document = await service.get_document(session, console.caller, document_id)
    except DocumentNotFound:
        return Response("No such document.", status_code=404, media_type="text/plain")
    png = None
    if document.kind == DocumentKind.pdf:
        record = await files.get_file(session, console.caller, document.file_id)
        data = await files.read_bytes(services.storage, record)
        try:
            png = await asyncio.to_thread(page_images.render_page, data, page)
        except ExtractionError:
            png = None
    if png is None:
        return Response("No such page.", status_code=404, media_type="text/plain")
    # A document's bytes never change: the browser may keep the picture (for this user only).
    return Response(
        png, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"}
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


EXTRACTION_CONSOLE = ConsolePages(
    label="Extraction",
    path="/extraction",
    router=router,
    summary="Pull the tables out of PDFs, workbooks and CSV files, and export them.",
)


# --- configurations ---------------------------------------------------------------------------


@router.get("/extraction/configurations")
async def configurations(
    request: Request, console: SignedInConsole, session: SessionDep
) -> Response:
    shown, _ = await service.list_configurations(session, console.caller, limit=SHOWN)
    return templates.render(request, "configurations.html", console, configurations=shown)


def _editor(
    request: Request,
    console: Console,
    configuration: Configuration | None,
    settings: dict[str, Any],
    *,
    name: str = "",
    description: str = "",
    status_code: int = 200,
    problems: list[str] | None = None,
) -> Response:
    columns = list(settings.get("columns", []))
    return templates.render(
        request,
        "configuration.html",
        console,
        status_code=status_code,
        configuration=configuration,
        config_name=name or (configuration.name if configuration else ""),
        description=description or (configuration.description if configuration else ""),
        settings=settings,
        columns=columns + [{} for _ in range(BLANK_COLUMNS)],
        column_types=list(ColumnType),
        problems=problems or [],
    )


@router.get("/extraction/configurations/new")
async def new_configuration(request: Request, console: SignedInConsole) -> Response:
    defaults = ExtractionSettings().model_dump(mode="json", by_alias=True)
    return _editor(request, console, None, defaults)


@router.get("/extraction/configurations/{configuration_id}")
async def configuration_page(
    configuration_id: str, request: Request, console: SignedInConsole, session: SessionDep
) -> Response:
    configuration = await _configuration(request, session, console, configuration_id)
    return _editor(request, console, configuration, _stored_settings(configuration))


def _stored_settings(configuration: Configuration) -> dict[str, Any]:
    settings = ExtractionSettings.model_validate(configuration.settings)
    return settings.model_dump(mode="json", by_alias=True)


def _edited_settings(form: FormData) -> dict[str, Any]:
    """The settings as the editor's form sends them: one line a date format, one row a column
    (its aliases comma-separated); rows without a name are left out."""

    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    columns = []
    for number in range(min(int(text("columns") or 0), 200 + BLANK_COLUMNS)):
        name = text(f"column-{number}-name")
        if name:
            aliases = [a.strip() for a in text(f"column-{number}-aliases").split(",") if a.strip()]
            columns.append(
                {
                    "name": name,
                    "aliases": aliases,
                    "type": text(f"column-{number}-type") or "text",
                    "required": form.get(f"column-{number}-required") == "on",
                }
            )
    return {
        "pages": text("pages") or "all",
        "detectionMode": text("detectionMode") or "auto",
        "numberLocale": text("numberLocale") or "1,234.56",
        "dateFormats": [line.strip() for line in text("dateFormats").splitlines() if line.strip()],
        "detectHeader": form.get("detectHeader") == "on",
        "dropEmptyRows": form.get("dropEmptyRows") == "on",
        "dropRepeatedHeaders": form.get("dropRepeatedHeaders") == "on",
        "keepUnmappedColumns": form.get("keepUnmappedColumns") == "on",
        "columns": columns,
    }


@router.post("/extraction/configurations")
async def create_configuration(
    request: Request, console: SignedInConsole, session: SessionDep, form: CheckedForm
) -> Response:
    return await _saved(request, console, session, form, None)


@router.post("/extraction/configurations/{configuration_id}")
async def change_configuration(
    configuration_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    form: CheckedForm,
) -> Response:
    """Save the configuration (a new version), or archive it (`action=archive`)."""
    configuration = await _configuration(request, session, console, configuration_id)
    if form.get("action") == "archive":
        await service.archive_configuration(session, console.caller, configuration_id)
        return RedirectResponse("/extraction/configurations", status_code=303)
    return await _saved(request, console, session, form, configuration)


async def _saved(
    request: Request,
    console: Console,
    session: SessionDep,
    form: FormData,
    configuration: Configuration | None,
) -> Response:
    """The editor's form saved as a new configuration, or a new version of `configuration`; or
    the editor again with what was typed and why it was refused."""
    sent = _edited_settings(form)
    name, description = str(form.get("name") or ""), str(form.get("description") or "")
    fields = {"name": name, "description": description, "settings": sent}
    try:
        if configuration is None:
            body = schemas.ConfigurationCreate.model_validate(fields)
            configuration = await service.create_configuration(session, console.caller, body)
        else:
            changes = schemas.ConfigurationUpdate.model_validate(fields)
            await service.update_configuration(session, console.caller, configuration.id, changes)
    except ValidationError as error:
        return _editor(
            request,
            console,
            configuration,
            sent,
            name=name,
            description=description,
            status_code=422,
            problems=validation_lines(error),
        )
    return RedirectResponse(f"/extraction/configurations/{configuration.id}", status_code=303)
