"""Booklets' generation as requests see it: the resolve dry run, starting one booklet or a batch,
and showing booklets and batches with their download links.

What a customer gets is decided by `resolution.resolve_pages` both here (to answer `resolve` and
to refuse a generation that would fail) and in the job (which resolves again when it runs, so a
book edited meanwhile is generated as it is then).
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.booklets import exceptions as errors
from paperworks.booklets import schemas, service
from paperworks.booklets.engine_errors import EngineError, TemplateFailed
from paperworks.booklets.field_templates import render_field, template_attributes
from paperworks.booklets.models import (
    Book,
    Booklet,
    BookletBatch,
    Customer,
    PageCondition,
    PageType,
)
from paperworks.booklets.page_checks import check_sheet
from paperworks.booklets.resolution import (
    ResolvedPage,
    attributes_for,
    period_label,
    resolve_pages,
)
from paperworks.files import service as files
from paperworks.files import sniffing
from paperworks.files.models import StoredFile
from paperworks.files.purposes import Purpose
from paperworks.identity.caller import Caller
from paperworks.identity.tenancy import get_scoped, scoped
from paperworks.jobs.models import Job
from paperworks.kit.ids import new_id
from paperworks.kit.pagination import DEFAULT_LIMIT, fetch_page
from paperworks.services import Services

GENERATE_KIND = "booklets.generate"


@dataclass
class Plan:
    """One customer's booklet of one book for one period, resolved: what the job will make."""

    book: Book
    customer: Customer
    year: int | None
    quarter: int | None
    attributes: dict[str, str]
    pages: list[ResolvedPage]

    @property
    def period(self) -> str:
        return period_label(self.year, self.quarter)

    def context(self) -> dict[str, Any]:
        """What a field template sees."""
        return {
            "customer": {
                "id": self.customer.id,
                "name": self.customer.name,
                "external_ref": self.customer.external_ref or "",
            },
            "attr": self.attributes,
            "period": self.period,
            "year": self.year,
            "quarter": self.quarter,
        }

    def missing(self, page: ResolvedPage) -> list[str]:
        needed = set()
        for template in page.fields.values():
            needed |= template_attributes(template)
        return sorted(needed - set(self.attributes))

    def all_missing(self) -> list[str]:
        return sorted(
            {key for page in self.pages if not page.skipped for key in self.missing(page)}
        )

    def form_values(self, page: ResolvedPage) -> dict[str, str]:
        """The page's rendered field values; a field whose template lacks an attribute is left
        out (`missing` names it)."""
        values = {}
        context = self.context()
        for name, template in page.fields.items():
            try:
                values[name] = render_field(template, context)
            except TemplateFailed:
                continue
        return values


async def plan_booklet(
    session: AsyncSession,
    caller: Caller,
    book_id: str,
    customer_id: str,
    year: int | None,
    quarter: int | None,
    *,
    spreadsheet_file_id: str | None = None,
) -> Plan:
    book = await service.get_book(session, caller, book_id)
    customer = await service.get_customer(session, caller, customer_id)
    return await _plan(
        session, caller, book, customer, year, quarter, spreadsheet_file_id=spreadsheet_file_id
    )


async def _plan(
    session: AsyncSession,
    caller: Caller,
    book: Book,
    customer: Customer,
    year: int | None,
    quarter: int | None,
    *,
    spreadsheet_file_id: str | None = None,
) -> Plan:
    pages = await service.pages_of(session, caller, [book.id])
    conditions: dict[str, list[PageCondition]] = {}
    for condition in await service.conditions_of(session, caller, [page.id for page in pages]):
        conditions.setdefault(condition.page_id, []).append(condition)
    rows = await service.attributes_of(session, caller, customer.id)
    attributes = attributes_for(rows, year, quarter)
    resolved = resolve_pages(pages, conditions, attributes, spreadsheet_file_id=spreadsheet_file_id)
    return Plan(book, customer, year, quarter, attributes, resolved)


def resolution_out(plan: Plan) -> schemas.ResolutionOut:
    return schemas.ResolutionOut(
        book_id=plan.book.id,
        customer_id=plan.customer.id,
        year=plan.year,
        quarter=plan.quarter,
        pages=[
            schemas.ResolvedPageOut(
                page_id=page.page.id,
                position=page.page.position,
                title=page.page.title,
                type=page.type,
                source_file_id=page.source_file_id,
                rule=rule_out(page, plan.attributes),
                skipped=page.skipped,
                reason=page.reason,
                form_values=plan.form_values(page) if not page.skipped else {},
                missing_attributes=plan.missing(page) if not page.skipped else [],
            )
            for page in plan.pages
        ],
        missing_attributes=plan.all_missing(),
    )


def rule_out(page: ResolvedPage, attributes: dict[str, str]) -> schemas.RuleOut | None:
    condition = page.condition
    if condition is None:
        return None
    return schemas.RuleOut(
        condition_id=condition.id,
        attribute_key=condition.attribute_key,
        operator=condition.operator,
        attribute_value=condition.attribute_value,
        actual_value=attributes.get(condition.attribute_key),
    )


def ensure_generable(plan: Plan) -> None:
    """Refuse a booklet that would fail: no pages, a page without its file, missing values."""
    if not plan.pages:
        raise errors.InvalidBookletInput(
            f"Book {plan.book.id} has no pages yet.", code="book.empty"
        )
    without = [page.page.title for page in plan.pages if page.missing_file]
    if without:
        raise errors.InvalidBookletInput(
            f"These pages have no file to make them from: {', '.join(without)}.",
            code="page.file_required",
        )
    missing = plan.all_missing()
    if missing:
        raise errors.MissingAttributes(
            missing,
            f"{plan.customer.name} has no value for {', '.join(missing)}"
            + (f" in {plan.period}" if plan.period else "")
            + "; set them with POST /customers/{id}/attributes.",
        )


async def start_generation(
    session: AsyncSession,
    services: Services,
    caller: Caller,
    plan: Plan,
    *,
    spreadsheet_file_id: str | None = None,
    batch_id: str | None = None,
) -> Booklet:
    ensure_generable(plan)
    booklet_id = new_id()
    payload: dict[str, Any] = {"bookletId": booklet_id}
    if spreadsheet_file_id is not None:
        payload["spreadsheetFileId"] = spreadsheet_file_id
    job = await services.jobs.enqueue(session, caller, kind=GENERATE_KIND, payload=payload)
    booklet = Booklet(
        id=booklet_id,
        workspace_id=plan.book.workspace_id,
        book_id=plan.book.id,
        customer_id=plan.customer.id,
        year=plan.year,
        quarter=plan.quarter,
        job_id=job.id,
        batch_id=batch_id,
        resolution=[],
    )
    session.add(booklet)
    await session.flush()
    return booklet


async def generate(
    session: AsyncSession,
    services: Services,
    caller: Caller,
    book_id: str,
    body: schemas.GenerateRequest,
) -> Booklet:
    workbook = None
    if body.spreadsheet_file_id is not None:
        workbook = await _workbook(session, services, caller, body.spreadsheet_file_id)
    plan = await plan_booklet(
        session,
        caller,
        book_id,
        body.customer_id,
        body.year,
        body.quarter,
        spreadsheet_file_id=body.spreadsheet_file_id,
    )
    if workbook is not None:
        await _check_sheets(plan, workbook)
    return await start_generation(
        session, services, caller, plan, spreadsheet_file_id=body.spreadsheet_file_id
    )


async def _workbook(
    session: AsyncSession, services: Services, caller: Caller, file_id: str
) -> bytes:
    record = await files.get_file_or_none(session, caller, file_id)
    if record is None or record.content_type != sniffing.XLSX:
        raise errors.InvalidBookletInput(
            f"spreadsheetFileId: {file_id} is not an XLSX workbook of this workspace.",
            code="booklets.wrong_file_type",
            choices=[sniffing.XLSX],
        )
    return await files.read_bytes(services.storage, record)


async def _check_sheets(plan: Plan, workbook: bytes) -> None:
    """The workbook given at generation has each sheet the excel pages show, small enough to
    print: checked now, as a page's own workbook is when the page is saved."""
    for resolved in plan.pages:
        if resolved.type != PageType.excel:
            continue
        config = resolved.page.config or {}
        try:
            await asyncio.to_thread(check_sheet, workbook, config["sheet"], config.get("range"))
        except EngineError as exc:
            where = f"Page {resolved.page.position} '{resolved.page.title}'"
            raise errors.InvalidBookletInput.of(exc, where) from exc


async def generate_batch(
    session: AsyncSession,
    services: Services,
    caller: Caller,
    book_id: str,
    body: schemas.BatchRequest,
) -> tuple[BookletBatch, list[Booklet]]:
    """A booklet per customer (every customer of the workspace when none are named), all checked
    before any is queued: one customer lacking a value refuses the whole batch, naming them."""
    book = await service.get_book(session, caller, book_id)
    customers = await _batch_customers(session, caller, body.customer_ids)
    plans = [
        await _plan(session, caller, book, customer, body.year, body.quarter)
        for customer in customers
    ]
    problems = []
    for plan in plans:
        try:
            ensure_generable(plan)
        except errors.MissingAttributes as exc:
            problems.append(f"{plan.customer.name} ({plan.customer.id}): {', '.join(exc.keys)}")
    if problems:
        raise errors.InvalidBookletInput(
            "Some customers lack values this book needs: " + "; ".join(problems) + ".",
            code="booklets.missing_attributes",
        )
    batch = BookletBatch(
        workspace_id=book.workspace_id, book_id=book.id, year=body.year, quarter=body.quarter
    )
    session.add(batch)
    await session.flush()
    booklets = [
        await start_generation(session, services, caller, plan, batch_id=batch.id) for plan in plans
    ]
    return batch, booklets


async def _batch_customers(
    session: AsyncSession, caller: Caller, customer_ids: Sequence[str] | None
) -> list[Customer]:
    query = scoped(select(Customer), caller)
    if customer_ids is not None:
        query = query.where(Customer.id.in_(customer_ids))
    found = list(await session.scalars(query.order_by(Customer.id)))
    if customer_ids is not None:
        unknown = sorted(set(customer_ids) - {customer.id for customer in found})
        if unknown:
            raise errors.CustomerNotFound(f"No customer {', '.join(unknown)}.")
    if not found:
        raise errors.InvalidBookletInput(
            "The workspace has no customers yet.", code="customers.none"
        )
    return found


# --- showing booklets -------------------------------------------------------------------------


async def list_booklets(
    session: AsyncSession,
    caller: Caller,
    *,
    book_id: str | None = None,
    customer_id: str | None = None,
    year: int | None = None,
    quarter: int | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> tuple[list[Booklet], str | None]:
    query = scoped(select(Booklet), caller)
    for column, value in (
        (Booklet.book_id, book_id),
        (Booklet.customer_id, customer_id),
        (Booklet.year, year),
        (Booklet.quarter, quarter),
    ):
        if value is not None:
            query = query.where(column == value)
    return await fetch_page(session, query, Booklet.id, limit=limit, cursor=cursor)


async def get_booklet(session: AsyncSession, caller: Caller, booklet_id: str) -> Booklet:
    booklet = await get_scoped(session, caller, Booklet, booklet_id)
    if booklet is None:
        raise errors.BookletNotFound(f"No booklet {booklet_id}.")
    return booklet


async def booklet_views(
    session: AsyncSession, services: Services, caller: Caller, booklets: Sequence[Booklet]
) -> list[schemas.BookletOut]:
    """Booklets as the API shows them: their jobs and files found in two queries in all."""
    job_ids = [booklet.job_id for booklet in booklets]
    jobs = {
        job.id: job
        for job in (
            await session.scalars(select(Job).where(Job.id.in_(job_ids))) if job_ids else []
        )
    }
    made = await files.files_by_id(session, caller, (booklet.file_id for booklet in booklets))
    views = []
    for booklet in booklets:
        job = jobs.get(booklet.job_id)
        record = made.get(booklet.file_id or "")
        url = None
        if record is not None:
            url, _ = await files.download_url(services.files, services.storage, record)
        views.append(
            schemas.BookletOut(
                id=booklet.id,
                book_id=booklet.book_id,
                customer_id=booklet.customer_id,
                year=booklet.year,
                quarter=booklet.quarter,
                status=job.status if job is not None else "failed",
                job_id=booklet.job_id,
                file_id=record.id if record is not None else None,
                download_url=url,
                page_count=booklet.page_count,
                error=job.error_message if job is not None else None,
                resolution=[schemas.ResolutionEntry.model_validate(e) for e in booklet.resolution],
                created_at=booklet.created_at,
            )
        )
    return views


async def batch_view(
    session: AsyncSession, services: Services, caller: Caller, batch: BookletBatch
) -> schemas.BatchOut:
    """A batch's booklets and counts; once none is still queued or running, a ZIP of those that
    were made (stored the first time it is asked for, then reused)."""
    booklets = list(
        await session.scalars(
            scoped(select(Booklet), caller).where(Booklet.batch_id == batch.id).order_by(Booklet.id)
        )
    )
    views = await booklet_views(session, services, caller, booklets)
    counts = dict.fromkeys(("queued", "running", "succeeded", "failed", "cancelled"), 0)
    for view in views:
        counts[view.status] += 1
    download_url = None
    if counts["queued"] == counts["running"] == 0 and counts["succeeded"]:
        archive = await _batch_archive(session, services, caller, batch, views)
        download_url, _ = await files.download_url(services.files, services.storage, archive)
    return schemas.BatchOut(
        id=batch.id,
        book_id=batch.book_id,
        year=batch.year,
        quarter=batch.quarter,
        total=len(views),
        succeeded=counts["succeeded"],
        failed=counts["failed"] + counts["cancelled"],
        running=counts["running"],
        queued=counts["queued"],
        download_url=download_url,
        booklets=views,
        created_at=batch.created_at,
    )


async def _batch_archive(
    session: AsyncSession,
    services: Services,
    caller: Caller,
    batch: BookletBatch,
    views: Sequence[schemas.BookletOut],
) -> StoredFile:
    existing = await files.get_file_or_none(session, caller, batch.file_id)
    if existing is not None:
        return existing
    made = await files.files_by_id(session, caller, (view.file_id for view in views))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        names: set[str] = set()
        for view in views:
            record = made.get(view.file_id or "")
            if record is None:
                continue
            name = record.filename if record.filename not in names else f"{view.id}.pdf"
            names.add(name)
            # PDFs barely compress; a fixed date keeps the same batch's ZIP the same bytes.
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            archive.writestr(info, await files.read_bytes(services.storage, record))
    record = await files.store_bytes(
        session,
        services.storage,
        caller,
        filename=f"booklets-{batch.id}.zip",
        data=buffer.getvalue(),
        purpose=Purpose.output,
    )
    batch.file_id = record.id
    await session.flush()
    return record
