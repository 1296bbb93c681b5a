"""What extraction jobs found, read back: a job's (or a document's latest) tables a page at a time,
one table whole, and exports of tables as CSV, XLSX or JSON files (stored through the files
service, with signed download links) or streamed directly.

A stored table is turned back into the shaping engine's `Shaped` for the exporters, with the
column types of the settings its job used (kept in the job's payload).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.events import service as events
from paperworks.events.service import Resource
from paperworks.extraction import exceptions as errors
from paperworks.extraction import service
from paperworks.extraction.exports import (
    column_types,
    table_label,
    to_csv,
    to_json,
    to_xlsx,
    zip_csvs,
)
from paperworks.extraction.models import Export as ExportRow
from paperworks.extraction.models import ExportFormat, ExtractedTable, ExtractionJob
from paperworks.extraction.settings_model import ExtractionSettings
from paperworks.extraction.shaping import ColumnMatch, RowSource, Shaped
from paperworks.extraction.tables import Issue
from paperworks.files import service as files
from paperworks.files.models import StoredFile
from paperworks.files.purposes import Purpose
from paperworks.files.storage import Storage
from paperworks.identity.caller import Caller
from paperworks.identity.tenancy import get_scoped, scoped
from paperworks.jobs.exceptions import JobNotFound
from paperworks.jobs.models import Job, JobStatus

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "zip": "application/zip",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


# --- tables -----------------------------------------------------------------------------------


async def get_extraction_job(session: AsyncSession, caller: Caller, job_id: str) -> ExtractionJob:
    """The workspace's extraction job; another workspace's (or another kind of job) is missing."""
    extraction = await get_scoped(session, caller, ExtractionJob, job_id)
    if extraction is None:
        raise JobNotFound(f"No extraction job {job_id}.")
    return extraction


def _cursor(table: ExtractedTable) -> str:
    return f"{table.page}.{table.index}"


def _after(cursor: str | None) -> tuple[int, int] | None:
    if not cursor:
        return None
    try:
        page, index = cursor.split(".", 1)
        return int(page), int(index)
    except ValueError:
        return None


async def _page_of_tables(
    session: AsyncSession, caller: Caller, job_id: str, limit: int, cursor: str | None
) -> tuple[list[ExtractedTable], str | None]:
    query = scoped(select(ExtractedTable), caller).where(ExtractedTable.job_id == job_id)
    after = _after(cursor)
    if after is not None:
        page, index = after
        query = query.where(
            or_(
                ExtractedTable.page > page,
                and_(ExtractedTable.page == page, ExtractedTable.index > index),
            )
        )
    query = query.order_by(ExtractedTable.page, ExtractedTable.index).limit(limit + 1)
    found = list(await session.scalars(query))
    more = len(found) > limit
    found = found[:limit]
    return found, (_cursor(found[-1]) if more and found else None)


async def job_tables(
    session: AsyncSession, caller: Caller, job_id: str, *, limit: int, cursor: str | None
) -> tuple[list[ExtractedTable], str | None]:
    """A page of the job's tables, in page then position order."""
    await get_extraction_job(session, caller, job_id)
    return await _page_of_tables(session, caller, job_id, limit, cursor)


async def document_tables(
    session: AsyncSession, caller: Caller, document_id: str, *, limit: int, cursor: str | None
) -> tuple[list[ExtractedTable], str | None]:
    """A page of the tables of the document's latest succeeded job (none before one)."""
    await service.get_document(session, caller, document_id)
    latest = await session.scalar(
        scoped(select(ExtractionJob), caller)
        .join(Job, Job.id == ExtractionJob.id)
        .where(ExtractionJob.document_id == document_id, Job.status == JobStatus.succeeded)
        .order_by(Job.finished_at.desc(), ExtractionJob.created_at.desc())
        .limit(1)
    )
    if latest is None:
        return [], None
    return await _page_of_tables(session, caller, latest.id, limit, cursor)


async def latest_job(session: AsyncSession, caller: Caller, document_id: str) -> Job | None:
    """The document's most recent extraction job, whatever its state (None before the first)."""
    await service.get_document(session, caller, document_id)
    found: Job | None = await session.scalar(
        select(Job)
        .join(ExtractionJob, ExtractionJob.id == Job.id)
        .where(ExtractionJob.workspace_id == caller.workspace)
        .where(ExtractionJob.document_id == document_id)
        .order_by(Job.created_at.desc(), Job.id.desc())
        .limit(1)
    )
    return found


async def get_table(session: AsyncSession, caller: Caller, table_id: str) -> ExtractedTable:
    table = await get_scoped(session, caller, ExtractedTable, table_id)
    if table is None:
        raise errors.TableNotFound(f"No table {table_id}.")
    return table


def grid(table: ExtractedTable) -> list[list[str]]:
    """The table as found: rows of cell texts, a spanning cell's text at its top-left."""
    rows = [["" for _ in range(table.n_cols)] for _ in range(table.n_rows)]
    for cell in table.cells:
        row, col = cell.get("row", 0), cell.get("col", 0)
        if 0 <= row < table.n_rows and 0 <= col < table.n_cols:
            rows[row][col] = cell.get("text", "")
    return rows


# --- exports ----------------------------------------------------------------------------------


def as_shaped(table: ExtractedTable) -> Shaped:
    """A stored table as the exporters take it."""
    return Shaped(
        page=table.page,
        index=table.index,
        sheet=table.sheet,
        pages=sorted({table.page, *(c.get("page", table.page) for c in table.cells)}),
        header=list(table.header),
        rows=[dict(record) for record in table.rows],
        row_sources=[
            RowSource(source["page"], source["index"], source["row"])
            for source in table.row_sources
        ],
        mapping=[
            ColumnMatch(
                column=m.get("column"),
                source_col=m.get("sourceCol"),
                source_header=m.get("sourceHeader"),
                method=m.get("method", "unmapped"),
                score=m.get("score"),
                key=m.get("key"),
            )
            for m in table.mapping
        ],
        issues=[
            Issue(i.get("code", ""), i.get("message", ""), i.get("row"), i.get("col"))
            for i in table.issues
        ],
        source_header=None,
        header_row=None,
        n_cols=table.n_cols,
    )


async def _settings_of(session: AsyncSession, job_id: str) -> ExtractionSettings:
    job = await session.get(Job, job_id)
    stored = (job.payload or {}).get("settings") if job is not None else None
    try:
        return ExtractionSettings.model_validate(stored or {})
    except ValueError:
        return ExtractionSettings()


@dataclass(frozen=True)
class Rendered:
    filename: str
    data: bytes
    media_type: str


def render(
    tables: list[ExtractedTable], format: ExportFormat, settings: ExtractionSettings, stem: str
) -> Rendered:
    """The tables as one file: a CSV (one table) or a ZIP of CSVs, a workbook with a sheet per
    table, or a JSON document."""
    shaped = [as_shaped(table) for table in tables]
    types = column_types(settings)
    if format == ExportFormat.csv:
        if len(shaped) == 1:
            return Rendered(f"{stem}.csv", to_csv(shaped[0]), MEDIA_TYPES["csv"])
        named = [(table_label(one), to_csv(one)) for one in shaped]
        return Rendered(f"{stem}.zip", zip_csvs(named), MEDIA_TYPES["zip"])
    if format == ExportFormat.xlsx:
        return Rendered(f"{stem}.xlsx", to_xlsx(shaped, types=types), MEDIA_TYPES["xlsx"])
    return Rendered(f"{stem}.json", to_json(shaped, types=types), MEDIA_TYPES["json"])


def _stem(table: ExtractedTable | None, job_id: str) -> str:
    if table is None:
        return f"tables-{job_id}"
    stem = f"table-{table.sheet}" if table.sheet else f"table-p{table.page}-{table.index + 1}"
    return re.sub(r"[^\w.-]+", "-", stem).strip("-.") or "table"


async def render_table(
    session: AsyncSession, caller: Caller, table_id: str, format: ExportFormat
) -> Rendered:
    """One table as a file, to stream directly."""
    table = await get_table(session, caller, table_id)
    settings = await _settings_of(session, table.job_id)
    return render([table], format, settings, _stem(table, table.job_id))


async def create_exports(
    session: AsyncSession,
    storage: Storage,
    caller: Caller,
    job_id: str,
    format: ExportFormat,
    table_ids: list[str] | None,
) -> list[tuple[ExportRow, StoredFile]]:
    """The job's tables (all, or those named, in page then position order) exported as files of
    the workspace; publishes `export.created` on the job's timeline for each."""
    extraction = await get_extraction_job(session, caller, job_id)
    query = scoped(select(ExtractedTable), caller).where(ExtractedTable.job_id == job_id)
    if table_ids:
        query = query.where(ExtractedTable.id.in_(set(table_ids)))
    tables = list(await session.scalars(query.order_by(ExtractedTable.page, ExtractedTable.index)))
    if table_ids:
        missing = sorted(set(table_ids) - {t.id for t in tables})
        if missing:
            raise errors.TableNotOfJob(f"The table {missing[0]} is not one of job {job_id}'s.")
    if not tables:
        job = await session.get(Job, job_id)
        if job is None or job.status != JobStatus.succeeded:
            raise errors.JobNotFinished(f"The job {job_id} has not succeeded: no tables yet.")
    settings = await _settings_of(session, job_id)
    one = tables[0] if len(tables) == 1 else None
    rendered = render(tables, format, settings, _stem(one, job_id))
    record = await files.store_bytes(
        session,
        storage,
        caller,
        filename=rendered.filename,
        data=rendered.data,
        purpose=Purpose.output,
    )
    export = ExportRow(
        workspace_id=extraction.workspace_id,
        table_id=one.id if one is not None else None,
        job_id=job_id,
        format=format,
        file_id=record.id,
    )
    session.add(export)
    await session.flush()
    payload: dict[str, Any] = {
        "exportId": export.id,
        "format": format,
        "fileId": record.id,
        "tableIds": [t.id for t in tables],
    }
    await events.publish(
        session,
        "export.created",
        Resource("job", job_id, extraction.workspace_id),
        payload,
        actor=caller,
    )
    return [(export, record)]
