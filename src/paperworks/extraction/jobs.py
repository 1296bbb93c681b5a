"""The `extraction.run` job: read a document's bytes, find its tables with the engine for its kind
(off the event loop), shape them by the configuration's settings (the defaults without one) and
store each shaped table as an `extracted_tables` row.

`POST /documents/{id}/extract` queues it (`start_extraction`), recording the configuration and the
version it used; the settings themselves are copied into the job's payload, so a configuration
saved meanwhile does not change a queued job.

Live, on the job's room besides `job:*`: `extraction:progress {jobId, page, done, total}` as
each page (or sheet) has been read, then `extraction:completed {jobId, tables}` with the tables'
summaries. An unreadable document (corrupt, encrypted, more pages than
`EXTRACTION_MAX_PAGES`) fails the job at once with the engine's code (`extraction.corrupt_pdf`...)
and its message; a page that takes longer than `EXTRACTION_PAGE_SECONDS` is a `page_timeout`
issue in the job's result and the other pages are still read. The document's status says how its
latest job went (`extracted`, `failed`).

The PDF engine tells each page as it reads it (from its worker thread, so the job's progress is
recorded on the event loop before the next page is read, and a cancelled job stops there).

With a language model configured, shaping asks it (`header_mapping`, cached) for the headers no
name, alias or fuzzy match decided, from its worker thread the same way; a model that fails is a
`mapping_model_unavailable` issue on the table, not a failed job. Offline it is never asked.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.events import service as events
from paperworks.events.service import Resource
from paperworks.extraction import exceptions as errors
from paperworks.extraction import service
from paperworks.extraction.engine_errors import ExtractionError, PdfTooLarge
from paperworks.extraction.header_mapping import HeaderMapper
from paperworks.extraction.models import (
    Configuration,
    Document,
    DocumentKind,
    DocumentStatus,
    ExtractedTable,
    ExtractionJob,
)
from paperworks.extraction.pdf_tables import PageRead, extract_pdf_tables
from paperworks.extraction.settings_model import ExtractionSettings, parse_pages
from paperworks.extraction.shaping import Shaped, shape
from paperworks.extraction.spreadsheets import read_csv, read_xlsx
from paperworks.extraction.tables import Issue, Table
from paperworks.files import service as files
from paperworks.identity.caller import Caller
from paperworks.jobs.handlers import JobCancelled, JobContext, JobFailed, job_handler
from paperworks.jobs.models import Job, JobStatus
from paperworks.services import Services
from paperworks.settings import Settings

EXTRACT_KIND = "extraction.run"

# Progress, in points: reading the pages up to READ, shaping, then storing up to STORED.
STARTED, READ, STORED = 5, 60, 95


def _job_resource(job_id: str, workspace_id: str) -> Resource:
    return Resource("job", job_id, workspace_id)


def _document_resource(document: Document) -> Resource:
    return Resource("document", document.id, document.workspace_id)


# --- queueing ---------------------------------------------------------------------------------


async def start_extraction(
    session: AsyncSession,
    services: Services,
    caller: Caller,
    document_id: str,
    configuration_id: str | None,
) -> ExtractionJob:
    """Queue `extraction.run` for the workspace's document, with the workspace's configuration
    (not archived) or the default settings; publish `job.created`."""
    document = await service.get_document(session, caller, document_id)
    configuration: Configuration | None = None
    if configuration_id is not None:
        configuration = await service.get_configuration(session, caller, configuration_id)
        if configuration.archived_at is not None:
            raise errors.ConfigurationArchived(
                f"The configuration {configuration_id} is archived; restore or copy it to "
                "extract with it."
            )
    settings = (
        ExtractionSettings.model_validate(configuration.settings)
        if configuration is not None
        else ExtractionSettings()
    )
    payload = {
        "documentId": document.id,
        "configurationId": configuration.id if configuration is not None else None,
        "configurationVersion": configuration.version if configuration is not None else None,
        "settings": settings.model_dump(mode="json", by_alias=True),
    }
    job = await services.jobs.enqueue(session, caller, kind=EXTRACT_KIND, payload=payload)
    extraction = ExtractionJob(
        id=job.id,
        workspace_id=document.workspace_id,
        document_id=document.id,
        configuration_id=payload["configurationId"],
        configuration_version=payload["configurationVersion"],
    )
    session.add(extraction)
    await session.flush()
    created = {
        "kind": EXTRACT_KIND,
        "documentId": document.id,
        "configurationId": extraction.configuration_id,
        "configurationVersion": extraction.configuration_version,
    }
    await events.publish(
        session, "job.created", _job_resource(job.id, job.workspace_id), created, actor=caller
    )
    await events.publish(
        session,
        "document.extraction_queued",
        _document_resource(document),
        {"jobId": job.id, "configurationId": extraction.configuration_id},
        actor=caller,
    )
    return extraction


# --- the handler ------------------------------------------------------------------------------


async def extraction_ended(job: Job, services: Services) -> list[tuple[str, dict[str, Any]]]:
    """A finished extraction's own end, told again to a client that follows it late."""
    if job.status == JobStatus.succeeded and job.result:
        return [("extraction:completed", {"tables": job.result.get("tables", [])})]
    return []


@job_handler(EXTRACT_KIND, max_attempts=2, end_events=extraction_ended)
async def extract_job(ctx: JobContext) -> dict[str, Any]:
    document_id: str = ctx.payload["documentId"]
    try:
        return await _extract(ctx, document_id)
    except JobCancelled:
        await _set_status(ctx, document_id, DocumentStatus.uploaded, None)
        raise
    except ExtractionError as exc:
        await _set_status(ctx, document_id, DocumentStatus.failed, exc.message)
        raise JobFailed(exc.message, exc.code) from exc
    except JobFailed as exc:
        await _set_status(ctx, document_id, DocumentStatus.failed, str(exc))
        raise
    except Exception:
        await _set_status(ctx, document_id, DocumentStatus.failed, "The extraction failed.")
        raise


def selected_pages(settings: ExtractionSettings, page_count: int | None) -> list[int] | None:
    """The settings' pages as a list (None: all), within the document when its length is known."""
    if settings.pages == "all":
        return None
    last = page_count if page_count is not None else None
    pages: set[int] = set()
    for first, end in parse_pages(settings.pages):
        if last is not None:
            end = min(end, last)
        pages.update(range(first, end + 1))
    return sorted(pages)


@dataclass(frozen=True)
class PdfCaps:
    """What reading one PDF may cost: its pages (`EXTRACTION_MAX_PAGES`) and the time for each
    (`EXTRACTION_PAGE_SECONDS`)."""

    max_pages: int
    page_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> PdfCaps:
        return cls(settings.extraction_max_pages, settings.extraction_page_seconds)


def _read(
    kind: str,
    data: bytes,
    settings: ExtractionSettings,
    page_count: int | None,
    on_page: PageRead,
    caps: PdfCaps,
) -> tuple[list[Table], dict[int, list[Issue]], int]:
    """The document's tables, the issues of pages as a whole, and how many pages (or sheets)
    it has (in a worker thread)."""
    if kind == DocumentKind.pdf:
        pages = selected_pages(settings, page_count)
        if pages == []:
            return [], {}, page_count or 0
        try:
            found = extract_pdf_tables(
                data,
                pages=pages,
                mode=settings.detection_mode,
                max_pages=caps.max_pages,
                page_seconds=caps.page_seconds,
                on_page=on_page,
            )
        except PdfTooLarge as exc:
            raise PdfTooLarge(
                f"{exc.message} A configuration's pages setting chooses which to read "
                f'(e.g. "1-{caps.max_pages}").'
            ) from exc
        return found.tables, found.page_issues, found.page_count
    if kind == DocumentKind.xlsx:
        tables = read_xlsx(data)
        sheets = max((t.page for t in tables), default=0)
    else:
        tables, sheets = [read_csv(data)], 1
    for sheet in range(1, sheets + 1):
        on_page(sheet, sheet, sheets)
    return tables, {}, sheets


def _page_reporter(ctx: JobContext) -> PageRead:
    """`on_page` for the engine's worker thread: tells the page live and records the job's
    progress on the event loop, waiting for it (a cancelled job's `JobCancelled` is raised in
    the engine, which stops reading)."""
    loop = asyncio.get_running_loop()

    async def told(page: int, done: int, total: int) -> None:
        ctx.emit("extraction:progress", {"page": page, "done": done, "total": total})
        await ctx.report(STARTED + (READ - STARTED) * done // total, f"read page {done} of {total}")

    def on_page(page: int, done: int, total: int) -> None:
        asyncio.run_coroutine_threadsafe(told(page, done, total), loop).result()

    return on_page


async def _extract(ctx: JobContext, document_id: str) -> dict[str, Any]:
    settings = ExtractionSettings.model_validate(ctx.payload.get("settings") or {})
    async with ctx.db.session_scope() as session:
        document = await session.get(Document, document_id)
        if document is None:
            raise JobFailed(f"The document {document_id} was deleted.", "document.not_found")
        record = await files.get_file_or_none(session, ctx.caller, document.file_id)
        if record is None:
            raise JobFailed(f"The document {document_id} has no file.", "document.file_missing")
        kind, page_count = document.kind, document.page_count
        document.status = DocumentStatus.extracting
        # A run after a lost lease starts over: no table twice.
        await session.execute(delete(ExtractedTable).where(ExtractedTable.job_id == ctx.job_id))
    data = await files.read_bytes(ctx.services.storage, record)
    await ctx.report(STARTED, "reading the document")

    caps = PdfCaps.from_settings(ctx.services.settings)
    tables, page_issues, count = await ctx.run_blocking(
        _read, kind, data, settings, page_count, _page_reporter(ctx), caps
    )
    await ctx.report(READ, "shaping the tables")
    mapper = HeaderMapper.of(ctx.services)
    ask = mapper.blocking(asyncio.get_running_loop()) if mapper is not None else None
    shaped = await ctx.run_blocking(shape, tables, settings, ask)
    parts = _parts(tables, shaped, settings)
    for one in shaped:
        for issue in page_issues.get(one.page, []):
            one.issues.insert(0, issue)

    pages = sorted({t.page for t in tables if settings.includes_page(t.page)} | set(page_issues))
    summaries: list[dict[str, Any]] = []
    stored_pages = 0
    for number in pages or [1]:
        async with ctx.db.session_scope() as session:
            for one, sources in zip(shaped, parts, strict=True):
                if one.page != number:
                    continue
                row = stored_table(one, sources, ctx.workspace_id, ctx.job_id, document_id)
                session.add(row)
                await session.flush()
                summaries.append(table_summary(row))
        stored_pages += 1
        total = max(len(pages), 1)
        await ctx.report(READ + (STORED - READ) * stored_pages // total, f"stored page {number}")

    issues = [
        {"page": page, "code": issue.code, "message": issue.message}
        for page, found in sorted(page_issues.items())
        for issue in found
    ]
    async with ctx.db.session_scope() as session:
        document = await session.get_one(Document, document_id)
        document.status = DocumentStatus.extracted
        if kind == DocumentKind.pdf and count:
            document.page_count = count
        persisted = {"documentId": document_id, "tables": len(summaries), "issues": issues}
        await events.publish(
            session, "job.outputs.persisted", _job_resource(ctx.job_id, ctx.workspace_id), persisted
        )
        await events.publish(
            session,
            "document.extracted",
            _document_resource(document),
            {"jobId": ctx.job_id, "tables": len(summaries), "issues": issues},
        )
    ctx.emit("extraction:completed", {"tables": summaries})
    ctx.summary = f"Found {len(summaries)} table{'s' if len(summaries) != 1 else ''}."
    return {"documentId": document_id, "tables": summaries, "issues": issues}


async def _set_status(
    ctx: JobContext, document_id: str, status: DocumentStatus, error: str | None
) -> None:
    async with ctx.db.session_scope() as session:
        document = await session.get(Document, document_id)
        if document is None:
            return
        document.status = status
        if status == DocumentStatus.failed:
            await events.publish(
                session,
                "document.extraction_failed",
                _document_resource(document),
                {"jobId": ctx.job_id, "error": error},
            )


# --- stored tables ----------------------------------------------------------------------------


def _parts(
    tables: list[Table], shaped: list[Shaped], settings: ExtractionSettings
) -> list[list[Table]]:
    """For each shaped table, the found tables it was made of (one, or a table and its
    continuations on the next pages), in order."""
    chosen = [t for t in tables if settings.includes_page(t.page)]
    starts = [(one.page, one.index) for one in shaped]
    parts: list[list[Table]] = []
    for table in chosen:
        if len(parts) < len(starts) and (table.page, table.index) == starts[len(parts)]:
            parts.append([table])
        elif parts:
            parts[-1].append(table)
    return parts


def stored_table(
    shaped: Shaped, sources: list[Table], workspace_id: str, job_id: str, document_id: str
) -> ExtractedTable:
    """The row of one shaped table: its found cells (the parts' grids one under the other, each
    cell with its page), its records and where each came from, mapping and issues."""
    cells: list[dict[str, Any]] = []
    offset = 0
    offsets: dict[tuple[int, int], int] = {}
    for table in sources:
        offsets[(table.page, table.index)] = offset
        for cell in sorted(table.cells, key=lambda c: (c.row, c.col)):
            cells.append(
                {
                    "row": cell.row + offset,
                    "col": cell.col,
                    "rowSpan": cell.row_span,
                    "colSpan": cell.col_span,
                    "text": cell.text,
                    "bbox": list(cell.bbox) if cell.bbox is not None else None,
                    "page": table.page,
                }
            )
        offset += table.n_rows
    first = sources[0]
    return ExtractedTable(
        workspace_id=workspace_id,
        job_id=job_id,
        document_id=document_id,
        page=shaped.page,
        index=shaped.index,
        sheet=shaped.sheet,
        bbox=list(first.bbox) if first.bbox is not None else None,
        n_rows=offset,
        n_cols=max(t.n_cols for t in sources),
        header=list(shaped.header),
        rows=[dict(record) for record in shaped.rows],
        row_sources=[
            {
                "page": source.page,
                "index": source.index,
                "row": source.row,
                "gridRow": offsets[(source.page, source.index)] + source.row,
            }
            for source in shaped.row_sources
        ],
        cells=cells,
        mapping=[
            {
                "column": m.column,
                "sourceCol": m.source_col,
                "sourceHeader": m.source_header,
                "method": m.method,
                "score": m.score,
                "key": m.key,
            }
            for m in shaped.mapping
        ],
        issues=[
            {"code": i.code, "message": i.message, "row": i.row, "col": i.col}
            for i in shaped.issues
        ],
    )


def table_summary(table: ExtractedTable) -> dict[str, Any]:
    return {
        "id": table.id,
        "page": table.page,
        "index": table.index,
        "sheet": table.sheet,
        "bbox": table.bbox,
        "nRows": table.n_rows,
        "nCols": table.n_cols,
    }
