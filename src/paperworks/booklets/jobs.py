"""The `booklets.generate` job: resolve the book for the customer and period as they are now,
make each page (a file's pages, a filled form, a chosen file, a rendered worksheet) in a worker
thread, merge them and store the booklet as a file.

Live, on the job's room besides `job:*`: `booklet:progress {jobId, bookletId, page, total}` as
pages are made, then `booklet:completed {jobId, bookletId, fileId, url}` with a signed download
link, or `error {jobId, bookletId, message}` naming the page that failed and why. Nothing is
stored unless the whole booklet was made.
"""

from __future__ import annotations

import re
from typing import Any

from paperworks.booklets import generation
from paperworks.booklets.engine_errors import EngineError
from paperworks.booklets.excel_render import render_sheet, render_sheet_with_libreoffice
from paperworks.booklets.models import Booklet, PageType
from paperworks.booklets.pdf_assembly import Part, assemble
from paperworks.booklets.pdf_forms import fill_form, read_fields
from paperworks.booklets.pdf_inputs import open_pdf
from paperworks.booklets.resolution import ResolvedPage
from paperworks.booklets.schemas import ResolutionEntry
from paperworks.events import service as events
from paperworks.events.service import Resource
from paperworks.files import service as files
from paperworks.files.purposes import Purpose
from paperworks.identity.caller import SYSTEM
from paperworks.jobs.handlers import JobCancelled, JobContext, JobFailed, job_handler
from paperworks.jobs.models import Job, JobStatus
from paperworks.kit.errors import AppError
from paperworks.services import Services
from paperworks.settings import ExcelRenderer

# Progress, in points: resolving, then the pages, then merging and storing.
RESOLVED, MADE = 5, 90


class PageFailed(JobFailed):
    """A page that could not be made; the message names it and says why."""

    def __init__(self, message: str, code: str = "booklets.page_failed") -> None:
        super().__init__(message, code)


async def generation_ended(job: Job, services: Services) -> list[tuple[str, dict[str, Any]]]:
    """A finished generation's own end, told again to a client that follows it late."""
    booklet_id = job.payload.get("bookletId")
    if job.status == JobStatus.succeeded and job.result:
        async with services.db.sessionmaker() as session:
            caller = SYSTEM.within(job.workspace_id)
            record = await files.get_file_or_none(session, caller, job.result.get("fileId"))
        if record is None:
            return []
        url, _ = await files.download_url(services.files, services.storage, record)
        return [("booklet:completed", {"bookletId": booklet_id, "fileId": record.id, "url": url})]
    if job.status == JobStatus.failed:
        message = job.error_message or "The booklet could not be made."
        return [("error", {"bookletId": booklet_id, "message": message})]
    return []


@job_handler(generation.GENERATE_KIND, max_attempts=2, end_events=generation_ended)
async def generate_booklet_job(ctx: JobContext) -> dict[str, Any]:
    booklet_id: str = ctx.payload["bookletId"]
    try:
        return await _generate(ctx, booklet_id)
    except JobCancelled:
        raise
    except Exception as exc:
        failure = _input_failure(exc)
        reason = str(failure or "The booklet could not be made; the job's error says why.")
        await _failed(ctx, booklet_id, reason)
        if failure is None:
            raise
        raise failure from exc


def _input_failure(exc: Exception) -> JobFailed | None:
    """What the books, files or customer made impossible, told as it is; None for a bug."""
    if isinstance(exc, JobFailed):
        return exc
    if isinstance(exc, EngineError):
        return JobFailed(exc.message, exc.code)
    if isinstance(exc, AppError):
        return JobFailed(exc.detail, exc.code)
    return None


async def _generate(ctx: JobContext, booklet_id: str) -> dict[str, Any]:
    async with ctx.db.session_scope() as session:
        booklet = await session.get_one(Booklet, booklet_id)
        plan = await generation.plan_booklet(
            session,
            ctx.caller,
            booklet.book_id,
            booklet.customer_id,
            booklet.year,
            booklet.quarter,
            spreadsheet_file_id=ctx.payload.get("spreadsheetFileId"),
        )
        created_at = booklet.created_at
    generation.ensure_generable(plan)  # the book may have changed since it was queued
    await ctx.report(RESOLVED, "resolved the pages")

    sources = await _sources(ctx, plan.pages)
    made = [page for page in plan.pages if not page.skipped]
    excel_renderer = ctx.services.settings.excel_renderer
    parts: list[Part] = []
    for number, page in enumerate(made, start=1):
        data = sources[page.source_file_id or ""]
        values = plan.form_values(page)
        parts.append(await ctx.run_blocking(_make_page, page, data, values, excel_renderer))
        ctx.emit("booklet:progress", {"bookletId": booklet_id, "page": number, "total": len(made)})
        await ctx.report(RESOLVED + (MADE - RESOLVED) * number // len(made), f"made page {number}")

    title = f"{plan.book.name} — {plan.customer.name}"
    subject = f"{plan.customer.name}, {plan.period}" if plan.period else plan.customer.name
    content = await ctx.run_blocking(
        assemble, parts, title=title, subject=subject, creation_date=created_at
    )
    page_count = _page_count(content)
    await ctx.report(MADE, "storing the booklet")

    resolution = [_entry(page, plan.attributes) for page in plan.pages]
    async with ctx.db.session_scope() as session:
        booklet = await session.get_one(Booklet, booklet_id)
        record = await files.store_bytes(
            session,
            ctx.services.storage,
            ctx.caller,
            filename=_filename(plan),
            data=content,
            purpose=Purpose.booklet,
        )
        booklet.file_id, booklet.page_count, booklet.resolution = record.id, page_count, resolution
        await events.publish(
            session,
            "booklet.generated",
            Resource("booklet", booklet.id, booklet.workspace_id),
            {"bookId": booklet.book_id, "customerId": booklet.customer_id, "pages": page_count},
        )
    url, _ = await files.download_url(ctx.services.files, ctx.services.storage, record)
    ctx.emit("booklet:completed", {"bookletId": booklet_id, "fileId": record.id, "url": url})
    ctx.summary = f"Made a booklet of {page_count} page{'s' if page_count != 1 else ''}."
    return {"bookletId": booklet_id, "fileId": record.id, "pages": page_count}


async def _sources(ctx: JobContext, pages: list[ResolvedPage]) -> dict[str, bytes]:
    """Each file the pages are made from, read once however many pages use it."""
    wanted = {page.source_file_id for page in pages if page.source_file_id is not None}
    found: dict[str, bytes] = {}
    for file_id in sorted(wanted):
        async with ctx.db.session_scope() as session:
            record = await files.get_file_or_none(session, ctx.caller, file_id)
        if record is None:
            titles = [page.page.title for page in pages if page.source_file_id == file_id]
            raise PageFailed(
                f"Page '{titles[0]}': its file {file_id} was deleted.", "booklets.file_deleted"
            )
        found[file_id] = await files.read_bytes(ctx.services.storage, record)
    return found


def _make_page(
    page: ResolvedPage, data: bytes, values: dict[str, str], excel_renderer: ExcelRenderer
) -> Part:
    """One page of the booklet as PDF bytes (in a worker thread)."""
    config = page.page.config or {}
    try:
        if page.type == PageType.excel:
            render = (
                render_sheet_with_libreoffice
                if excel_renderer == ExcelRenderer.libreoffice
                else render_sheet
            )
            pdf = render(
                data,
                config["sheet"],
                cell_range=config.get("range"),
                orientation=config.get("orientation"),
                fit_to_width=config.get("fitToWidth", True),
                title=page.page.title,
            )
            return Part(title=page.page.title, pdf=pdf)
        if page.fields and (page.type == PageType.pdf_form or read_fields(data)):
            data = fill_form(data, values, flatten=page.flatten)
        return Part(title=page.page.title, pdf=data, pages=page.pages)
    except EngineError as exc:
        where = f"Page {page.page.position} '{page.page.title}'"
        raise PageFailed(f"{where}: {exc.message}", exc.code) from exc


def _entry(page: ResolvedPage, attributes: dict[str, str]) -> dict[str, Any]:
    entry = ResolutionEntry(
        page_id=page.page.id,
        type=page.type,
        source_file_id=page.source_file_id,
        rule=generation.rule_out(page, attributes),
        skipped=page.skipped,
    )
    return entry.model_dump(mode="json", by_alias=True)


def _page_count(content: bytes) -> int:
    with open_pdf(content) as pdf:
        return len(pdf.pages)


def _filename(plan: generation.Plan) -> str:
    stem = "-".join(part for part in (plan.book.name, plan.customer.name, plan.period) if part)
    safe = re.sub(r"[^\w.-]+", "-", stem).strip("-")[:150]
    return f"{safe or 'booklet'}.pdf"


async def _failed(ctx: JobContext, booklet_id: str, message: str) -> None:
    ctx.emit("error", {"bookletId": booklet_id, "message": message})
    async with ctx.db.session_scope() as session:
        booklet = await session.get(Booklet, booklet_id)
        if booklet is not None:
            await events.publish(
                session,
                "booklet.failed",
                Resource("booklet", booklet.id, booklet.workspace_id),
                {"bookId": booklet.book_id, "customerId": booklet.customer_id, "error": message},
            )
