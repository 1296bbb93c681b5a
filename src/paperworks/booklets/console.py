"""Booklets in the web console: books with their pages in an order to drag, each page's editor
(its file, form field mapping from the form's own field list, the sheet of a workbook, a
choosable page's rules), customers with their attributes per period and a CSV import, the
resolve preview, generating one booklet or a batch with progress, and the downloads.

Every change is the API's: the same service call, the same checks, the same refusals, shown on
the page instead of as a problem."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import FormData, UploadFile

from paperworks.booklets import customer_import, generation, schemas, service
from paperworks.booklets import exceptions as errors
from paperworks.booklets.engine_errors import EngineError
from paperworks.booklets.excel_render import sheet_names
from paperworks.booklets.models import Book, BookletBatch, Customer, Operator, PageType
from paperworks.booklets.models import Page as PageRow
from paperworks.booklets.pdf_forms import FormField, read_fields
from paperworks.booklets.resolution import period_label
from paperworks.console.dependencies import CheckedForm, SignedInConsole
from paperworks.console.pages import (
    Console,
    ConsolePages,
    ResourceMissing,
    Templates,
    problem_lines,
    refusal_lines,
    validation_lines,
)
from paperworks.files import service as files
from paperworks.files import sniffing
from paperworks.files.dependencies import upload_chunks
from paperworks.files.models import StoredFile
from paperworks.files.purposes import Purpose
from paperworks.identity.tenancy import get_scoped, scoped
from paperworks.kit.errors import AppError
from paperworks.services import Services, ServicesDep, SessionDep

router = APIRouter(include_in_schema=False)
templates = Templates(Path(__file__).parent / "templates")
SHOWN = 100  # books, booklets and customers a page lists
CHOOSABLE_CUSTOMERS = 500  # in the preview's customer picker
PAGE_TYPES = {
    PageType.static: "A PDF's pages as they are",
    PageType.pdf_form: "A PDF form filled in for each customer",
    PageType.choosable: "A PDF chosen by rules on the customer's attributes",
    PageType.excel: "A worksheet of an XLSX workbook",
}
OPERATORS = {
    Operator.eq: "is",
    Operator.ne: "is not",
    Operator.in_: "is one of (comma-separated)",
    Operator.gte: "is at least",
    Operator.lte: "is at most",
    Operator.exists: "has any value",
}


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _number(form: FormData, name: str) -> int | str | None:
    """A number field as the schema takes it: an int, None when empty, the text when no number
    (so the schema names the field in its refusal)."""
    text = _text(form, name)
    if not text:
        return None
    return int(text) if text.lstrip("-").isdigit() else text


async def _file_from(
    form: FormData,
    name: str,
    session: SessionDep,
    services: Services,
    console: Console,
    *,
    kept: str | None = None,
) -> str | None:
    """The file a form names: one uploaded in `<name>Upload`, else one picked in `<name>` (none
    when "(none)" is picked), else, when the form has no such field, the one `kept`."""
    upload = form.get(f"{name}Upload")
    if isinstance(upload, UploadFile) and upload.filename:
        record = await files.store_stream(
            session,
            services.storage,
            console.caller,
            filename=upload.filename,
            chunks=upload_chunks(upload),
            purpose=Purpose.document,
            max_size=services.files.max_upload_bytes,
        )
        return record.id
    return (_text(form, name) or None) if name in form else kept


async def _workspace_files(session: SessionDep, console: Console) -> dict[str, list[StoredFile]]:
    """The workspace's PDFs and workbooks a page can be made from, newest first."""
    rows, _ = await files.list_files(
        session, console.caller, purpose=Purpose.document, limit=SHOWN, cursor=None
    )
    newest = list(reversed(rows))
    return {
        "pdf": [f for f in newest if f.content_type == sniffing.PDF],
        "xlsx": [f for f in newest if f.content_type == sniffing.XLSX],
    }


async def _names(
    session: SessionDep, console: Console, model: type[Book] | type[Customer], ids: set[str]
) -> dict[str, str]:
    """The names of these books or customers, in one query; a deleted one is "(deleted)"."""
    query = scoped(select(model.id, model.name).where(model.id.in_(ids)), console.caller, model)
    found = {row.id: row.name for row in await session.execute(query)} if ids else {}
    return {row_id: found.get(row_id, "(deleted)") for row_id in ids}


def _missing(request: Request, console: Console, what: str) -> ResourceMissing:
    return ResourceMissing(request, console, what, "/booklets", "All books")


async def _book(request: Request, session: SessionDep, console: Console, book_id: str) -> Book:
    try:
        return await service.get_book(session, console.caller, book_id)
    except errors.BookNotFound:
        raise _missing(request, console, "book") from None


async def _customer(
    request: Request, session: SessionDep, console: Console, customer_id: str
) -> Customer:
    try:
        return await service.get_customer(session, console.caller, customer_id)
    except errors.CustomerNotFound:
        raise ResourceMissing(
            request, console, "customer", "/booklets/customers", "All customers"
        ) from None


# --- books ------------------------------------------------------------------------------------


async def _books_page(
    request: Request,
    console: Console,
    session: SessionDep,
    services: Services,
    *,
    status_code: int = 200,
    problems: list[str] | None = None,
) -> Response:
    books, _ = await service.list_books(session, console.caller, limit=SHOWN)
    pages = await service.pages_of(session, console.caller, [book.id for book in books])
    page_counts = {book.id: sum(p.book_id == book.id for p in pages) for book in books}
    booklets, _ = await generation.list_booklets(session, console.caller, limit=SHOWN)
    return templates.render(
        request,
        "books.html",
        console,
        status_code=status_code,
        books=books,
        page_counts=page_counts,
        booklets=await _booklet_rows(session, services, console, booklets[-20:]),
        can_manage=console.caller.allows(service.MANAGE),
        problems=problems or [],
    )


async def _booklet_rows(
    session: SessionDep, services: Services, console: Console, booklets: list[Any]
) -> list[dict[str, Any]]:
    """Booklets newest first, each with its book's and customer's names."""
    views = await generation.booklet_views(session, services, console.caller, booklets)
    names = {
        **await _names(session, console, Book, {v.book_id for v in views}),
        **await _names(session, console, Customer, {v.customer_id for v in views}),
    }
    return [
        {
            "view": view,
            "book": names.get(view.book_id, ""),
            "customer": names.get(view.customer_id, ""),
            "period": period_label(view.year, view.quarter) or "undated",
        }
        for view in reversed(views)
    ]


@router.get("/booklets")
async def books(
    request: Request, console: SignedInConsole, session: SessionDep, services: ServicesDep
) -> Response:
    return await _books_page(request, console, session, services)


@router.post("/booklets/books")
async def create_book(
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
    form: CheckedForm,
) -> Response:
    try:
        body = schemas.BookCreate(name=_text(form, "name"), description=_text(form, "description"))
        book = await service.create_book(session, console.caller, body)
    except ValidationError as error:
        problems = validation_lines(error)
        return await _books_page(
            request, console, session, services, status_code=422, problems=problems
        )
    except AppError as error:
        problems = problem_lines(error)
        return await _books_page(
            request, console, session, services, status_code=422, problems=problems
        )
    return RedirectResponse(f"/booklets/books/{book.id}", status_code=303)


async def _book_page(
    request: Request,
    console: Console,
    session: SessionDep,
    services: Services,
    book: Book,
    *,
    status_code: int = 200,
    problems: list[str] | None = None,
) -> Response:
    pages = await service.pages_of(session, console.caller, [book.id])
    sources = await files.files_by_id(session, console.caller, (p.file_id for p in pages))
    customers, _ = await service.list_customers(session, console.caller, limit=CHOOSABLE_CUSTOMERS)
    booklets, _ = await generation.list_booklets(
        session, console.caller, book_id=book.id, limit=SHOWN
    )
    return templates.render(
        request,
        "book.html",
        console,
        status_code=status_code,
        book=book,
        pages=pages,
        sources=sources,
        customers=customers,
        booklets=await _booklet_rows(session, services, console, booklets),
        files=await _workspace_files(session, console),
        page_types=PAGE_TYPES,
        can_manage=console.caller.allows(service.MANAGE),
        problems=problems or [],
    )


@router.get("/booklets/books/{book_id}")
async def book_page(
    book_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    book = await _book(request, session, console, book_id)
    return await _book_page(request, console, session, services, book)


@router.post("/booklets/books/{book_id}")
async def change_book(
    book_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
    form: CheckedForm,
) -> Response:
    """Rename or describe the book, or delete it (`action=delete`)."""
    book = await _book(request, session, console, book_id)
    try:
        if _text(form, "action") == "delete":
            await service.delete_book(session, console.caller, book_id)
            return RedirectResponse("/booklets", status_code=303)
        body = schemas.BookUpdate(name=_text(form, "name"), description=_text(form, "description"))
        await service.update_book(session, console.caller, book_id, body)
    except (ValidationError, AppError) as error:
        problems = refusal_lines(error)
    else:
        return RedirectResponse(f"/booklets/books/{book_id}", status_code=303)
    return await _book_page(
        request, console, session, services, book, status_code=422, problems=problems
    )


@router.post("/booklets/books/{book_id}/pages")
async def add_page(
    book_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
    form: CheckedForm,
) -> Response:
    """A new page from its title, type and file; its settings are made on its own page next
    (an excel page starts on the workbook's first sheet, or the sheet named)."""
    book = await _book(request, session, console, book_id)
    try:
        service.require_manage(console.caller)
        page_type = _text(form, "type")
        file_id = await _file_from(form, "file", session, services, console)
        config: dict[str, Any] = {}
        if page_type == PageType.excel:
            config["sheet"] = _text(form, "sheet") or await _first_sheet(
                session, services, console, file_id
            )
        body = schemas.PageCreate.model_validate(
            {"type": page_type, "title": _text(form, "title"), "fileId": file_id, "config": config}
        )
        page = await service.add_page(session, services.storage, console.caller, book_id, body)
    except (ValidationError, AppError) as error:
        problems = refusal_lines(error)
    else:
        return RedirectResponse(f"/booklets/books/{book_id}/pages/{page.id}", status_code=303)
    return await _book_page(
        request, console, session, services, book, status_code=422, problems=problems
    )


async def _first_sheet(
    session: SessionDep, services: Services, console: Console, file_id: str | None
) -> str:
    sheets = await _sheets_of(session, services, console, file_id)
    if not sheets:
        raise errors.InvalidBookletInput(
            "An excel page needs a workbook, or the name of the sheet of the workbook given when "
            "generating.",
            code="page.sheet_required",
        )
    return sheets[0]


async def _sheets_of(
    session: SessionDep, services: Services, console: Console, file_id: str | None
) -> list[str]:
    record = await files.get_file_or_none(session, console.caller, file_id)
    if record is None or record.content_type != sniffing.XLSX:
        return []
    data = await files.read_bytes(services.storage, record)
    try:
        return await asyncio.to_thread(sheet_names, data)
    except EngineError as error:
        raise errors.InvalidBookletInput.of(error, record.filename) from error


@router.post("/booklets/books/{book_id}/order")
async def reorder_pages(
    book_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
    form: CheckedForm,
) -> Response:
    """The pages in the order the form lists them (dragged there), or with one moved up or down
    (`action=up:N`, `down:N`: the buttons that do the same without a mouse)."""
    book = await _book(request, session, console, book_id)
    order = [str(page_id) for page_id in form.getlist("pageId")]
    action, _, target = _text(form, "action").partition(":")
    if action in ("up", "down") and target.isdigit():
        index = int(target)
        other = index - 1 if action == "up" else index + 1
        if 0 <= index < len(order) and 0 <= other < len(order):
            order[index], order[other] = order[other], order[index]
    try:
        await service.reorder_pages(session, console.caller, book_id, order)
    except AppError as error:
        return await _book_page(
            request, console, session, services, book, status_code=422, problems=[error.detail]
        )
    return RedirectResponse(f"/booklets/books/{book_id}#pages", status_code=303)


# --- one page ---------------------------------------------------------------------------------


async def _page_editor(
    request: Request,
    console: Console,
    session: SessionDep,
    services: Services,
    book: Book,
    page: PageRow,
    *,
    status_code: int = 200,
    problems: list[str] | None = None,
) -> Response:
    conditions = await service.conditions_of(session, console.caller, [page.id])
    config = page.config or {}
    form_file = page.file_id
    if page.type == PageType.choosable:
        form_file = config.get("defaultFileId") or next(
            (c.target_file_id for c in conditions if c.target_file_id), None
        )
    named = await files.files_by_id(
        session,
        console.caller,
        [page.file_id, config.get("defaultFileId"), *(c.target_file_id for c in conditions)],
    )
    notes: list[str] = []
    fields: list[FormField] = []
    sheets: list[str] = []
    try:
        if page.type in (PageType.pdf_form, PageType.choosable):
            fields = await _fields_of(session, services, console, form_file)
        if page.type == PageType.excel:
            sheets = await _sheets_of(session, services, console, page.file_id)
    except AppError as error:
        notes = problem_lines(error)
    keys = await service.attribute_keys(session, console.caller)
    return templates.render(
        request,
        "page.html",
        console,
        status_code=status_code,
        book=book,
        page=page,
        config=config,
        conditions=conditions,
        named=named,
        fields=fields,
        form_source=named.get(form_file or ""),
        unknown_fields=sorted(set(config.get("fields", {})) - {f.name for f in fields}),
        sheets=sheets,
        files=await _workspace_files(session, console),
        suggestions=_suggestions(keys),
        operators=OPERATORS,
        page_types=PAGE_TYPES,
        can_manage=console.caller.allows(service.MANAGE),
        problems=(problems or []) + notes,
    )


def _suggestions(keys: list[str]) -> list[str]:
    """What a form field's template can say: the customer, the period, each attribute."""
    fixed = ["customer.name", "customer.external_ref", "period", "year", "quarter"]
    return ["{{ " + name + " }}" for name in (*fixed, *(f"attr.{key}" for key in keys))]


async def _fields_of(
    session: SessionDep, services: Services, console: Console, file_id: str | None
) -> list[FormField]:
    record = await files.get_file_or_none(session, console.caller, file_id)
    if record is None or record.content_type != sniffing.PDF:
        return []
    data = await files.read_bytes(services.storage, record)
    try:
        return await asyncio.to_thread(read_fields, data)
    except EngineError as error:
        raise errors.InvalidBookletInput.of(error, record.filename) from error


async def _book_and_page(
    request: Request, session: SessionDep, console: Console, book_id: str, page_id: str
) -> tuple[Book, PageRow]:
    book = await _book(request, session, console, book_id)
    try:
        return book, await service.get_page(session, console.caller, book_id, page_id)
    except errors.PageNotFound:
        raise _missing(request, console, "page") from None


@router.get("/booklets/books/{book_id}/pages/{page_id}")
async def page_editor(
    book_id: str,
    page_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    found = await _book_and_page(request, session, console, book_id, page_id)
    return await _page_editor(request, console, session, services, *found)


@router.post("/booklets/books/{book_id}/pages/{page_id}")
async def change_page(
    book_id: str,
    page_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
    form: CheckedForm,
) -> Response:
    """Save the page's title, file and settings, or remove it (`action=delete`)."""
    found = await _book_and_page(request, session, console, book_id, page_id)
    book, page = found
    try:
        if _text(form, "action") == "delete":
            await service.delete_page(session, console.caller, book_id, page_id)
            return RedirectResponse(f"/booklets/books/{book_id}#pages", status_code=303)
        service.require_manage(console.caller)
        file_id = await _file_from(form, "file", session, services, console, kept=page.file_id)
        changes: dict[str, Any] = {"title": _text(form, "title")}
        if page.type != PageType.choosable:
            changes["fileId"] = file_id
        config = await _edited_config(form, page, session, services, console)
        body = schemas.PageUpdate.model_validate({**changes, "config": config})
        await service.update_page(session, services.storage, console.caller, book_id, page_id, body)
    except (ValidationError, AppError) as error:
        problems = refusal_lines(error)
    else:
        return RedirectResponse(f"/booklets/books/{book_id}/pages/{page_id}", status_code=303)
    return await _page_editor(
        request, console, session, services, book, page, status_code=422, problems=problems
    )


async def _edited_config(
    form: FormData, page: PageRow, session: SessionDep, services: Services, console: Console
) -> dict[str, Any]:
    """The page's settings as its type's form sends them; empty fields are left out."""
    fields = {
        name.removeprefix("field:"): str(value).strip()
        for name, value in form.multi_items()
        if name.startswith("field:") and str(value).strip()
    }
    flatten = form.get("flatten") == "on"
    page_type = PageType(page.type)
    config: dict[str, Any]
    if page_type == PageType.static:
        config = {"pages": _text(form, "pages")}
    elif page_type == PageType.pdf_form:
        config = {"fields": fields, "flatten": flatten}
    elif page_type == PageType.choosable:
        default = await _file_from(
            form, "defaultFile", session, services, console, kept=page.config.get("defaultFileId")
        )
        config = {
            "defaultFileId": default,
            "fields": fields,
            "flatten": flatten,
            "pages": _text(form, "pages"),
        }
    else:
        config = {
            "sheet": _text(form, "sheet"),
            "range": _text(form, "range"),
            "orientation": _text(form, "orientation"),
            "fitToWidth": form.get("fitToWidth") == "on",
        }
    return {key: value for key, value in config.items() if value not in ("", None)}


@router.post("/booklets/books/{book_id}/pages/{page_id}/conditions")
async def add_condition(
    book_id: str,
    page_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
    form: CheckedForm,
) -> Response:
    found = await _book_and_page(request, session, console, book_id, page_id)
    try:
        service.require_manage(console.caller)
        operator = _text(form, "operator")
        body = schemas.ConditionCreate.model_validate(
            {
                "attributeKey": _text(form, "attributeKey"),
                "operator": operator,
                "attributeValue": None if operator == Operator.exists else _text(form, "value"),
                "targetFileId": await _file_from(form, "target", session, services, console),
                "priority": _number(form, "priority") or 0,
            }
        )
        await service.add_condition(
            session, services.storage, console.caller, book_id, page_id, body
        )
    except (ValidationError, AppError) as error:
        problems = refusal_lines(error)
    else:
        return RedirectResponse(f"/booklets/books/{book_id}/pages/{page_id}#rules", status_code=303)
    return await _page_editor(
        request, console, session, services, *found, status_code=422, problems=problems
    )


@router.post("/booklets/books/{book_id}/pages/{page_id}/conditions/{condition_id}/delete")
async def delete_condition(
    book_id: str,
    page_id: str,
    condition_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
    form: CheckedForm,
) -> Response:
    found = await _book_and_page(request, session, console, book_id, page_id)
    try:
        await service.delete_condition(session, console.caller, book_id, page_id, condition_id)
    except errors.ConditionNotFound:
        pass  # removed meanwhile: the page shows what is left
    except AppError as error:
        return await _page_editor(
            request, console, session, services, *found, status_code=422, problems=[error.detail]
        )
    return RedirectResponse(f"/booklets/books/{book_id}/pages/{page_id}#rules", status_code=303)


# --- preview and generation -------------------------------------------------------------------


def _period(source: Mapping[str, Any]) -> schemas.Period:
    def number(name: str) -> int | str | None:
        text = str(source.get(name) or "").strip()
        return int(text) if text.isdigit() else (text or None)

    return schemas.Period.model_validate({"year": number("year"), "quarter": number("quarter")})


@router.get("/booklets/books/{book_id}/preview")
async def preview(
    book_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    """What the chosen customer would get for the period: the resolve dry run, in words."""
    book = await _book(request, session, console, book_id)
    query = request.query_params
    try:
        period = _period(query)
        plan = await generation.plan_booklet(
            session,
            console.caller,
            book_id,
            query.get("customer", ""),
            period.year,
            period.quarter,
        )
    except (ValidationError, AppError) as error:
        problems = refusal_lines(error)
    else:
        resolution = generation.resolution_out(plan)
        sources = await files.files_by_id(
            session, console.caller, (p.source_file_id for p in resolution.pages)
        )
        return templates.render(
            request,
            "preview.html",
            console,
            book=book,
            customer=plan.customer,
            period=plan.period,
            resolution=resolution,
            sources=sources,
        )
    return await _book_page(
        request, console, session, services, book, status_code=422, problems=problems
    )


@router.post("/booklets/books/{book_id}/generate")
async def generate(
    book_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
    form: CheckedForm,
) -> Response:
    """One customer's booklet (a `customer` given), else one for every customer: a batch."""
    book = await _book(request, session, console, book_id)
    customer_id = _text(form, "customer")
    try:
        period = _period(form)
        if customer_id:
            body = schemas.GenerateRequest(
                customer_id=customer_id, year=period.year, quarter=period.quarter
            )
            booklet = await generation.generate(session, services, console.caller, book_id, body)
            return RedirectResponse(f"/booklets/made/{booklet.id}", status_code=303)
        batch_body = schemas.BatchRequest(year=period.year, quarter=period.quarter)
        batch, _ = await generation.generate_batch(
            session, services, console.caller, book_id, batch_body
        )
        return RedirectResponse(f"/booklets/batches/{batch.id}", status_code=303)
    except ValidationError as error:
        problems = validation_lines(error)
    except errors.MissingAttributes as error:
        problems = [_lacking(error, customer_id)]
    except AppError as error:
        problems = problem_lines(error)
    return await _book_page(
        request, console, session, services, book, status_code=422, problems=problems
    )


def _lacking(error: errors.MissingAttributes, customer_id: str) -> str:
    return (
        f"{error.detail.split(';')[0]}. Set them on the customer's page first."
        if customer_id
        else error.detail
    )


@router.get("/booklets/made/{booklet_id}")
async def booklet_page(
    booklet_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    try:
        booklet = await generation.get_booklet(session, console.caller, booklet_id)
    except errors.BookletNotFound:
        raise _missing(request, console, "booklet") from None
    (row,) = await _booklet_rows(session, services, console, [booklet])
    pages = await service.pages_of(session, console.caller, [booklet.book_id])
    sources = await files.files_by_id(
        session, console.caller, (entry.source_file_id for entry in row["view"].resolution)
    )
    return templates.render(
        request,
        "booklet.html",
        console,
        booklet=row,
        titles={page.id: page.title for page in pages},
        sources=sources,
        running=row["view"].status in ("queued", "running"),
    )


async def _batch(
    console: Console, session: SessionDep, services: Services, batch_id: str
) -> tuple[BookletBatch, dict[str, Any]] | None:
    batch = await get_scoped(session, console.caller, BookletBatch, batch_id)
    if batch is None:
        return None
    view = await generation.batch_view(session, services, console.caller, batch)
    names = await _names(session, console, Customer, {b.customer_id for b in view.booklets})
    finished = view.succeeded + view.failed
    return batch, {"batch": view, "names": names, "finished": finished}


@router.get("/booklets/batches/{batch_id}")
async def batch_page(
    batch_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    found = await _batch(console, session, services, batch_id)
    if found is None:
        raise _missing(request, console, "batch")
    batch, context = found
    book = await get_scoped(session, console.caller, Book, batch.book_id)
    return templates.render(request, "batch.html", console, book=book, **context)


@router.get("/booklets/batches/{batch_id}/panel")
async def batch_panel(
    batch_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    """The batch's progress, fetched again every few seconds by its page until all have ended."""
    found = await _batch(console, session, services, batch_id)
    if found is None:
        return Response("No such batch.", status_code=404, media_type="text/plain")
    return templates.render(request, "batch_panel.html", console, **found[1])


# --- customers --------------------------------------------------------------------------------


async def _customers_page(
    request: Request,
    console: Console,
    session: SessionDep,
    *,
    status_code: int = 200,
    problems: list[str] | None = None,
    notice: str | None = None,
) -> Response:
    search = request.query_params.get("q", "")[:200]
    customers, more = await service.list_customers(
        session, console.caller, q=search or None, limit=SHOWN
    )
    return templates.render(
        request,
        "customers.html",
        console,
        status_code=status_code,
        customers=customers,
        more=more is not None,
        search=search,
        columns=customer_import.COLUMNS,
        problems=problems or [],
        notice=notice,
    )


@router.get("/booklets/customers")
async def customers(request: Request, console: SignedInConsole, session: SessionDep) -> Response:
    return await _customers_page(request, console, session)


@router.post("/booklets/customers")
async def create_customer(
    request: Request, console: SignedInConsole, session: SessionDep, form: CheckedForm
) -> Response:
    try:
        body = schemas.CustomerCreate(
            name=_text(form, "name"), external_ref=_text(form, "externalRef") or None
        )
        customer = await service.create_customer(session, console.caller, body)
    except (ValidationError, AppError) as error:
        problems = refusal_lines(error)
    else:
        return RedirectResponse(f"/booklets/customers/{customer.id}", status_code=303)
    return await _customers_page(request, console, session, status_code=422, problems=problems)


@router.post("/booklets/customers/import")
async def import_customers(
    request: Request, console: SignedInConsole, session: SessionDep, form: CheckedForm
) -> Response:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _customers_page(
            request, console, session, status_code=422, problems=["Pick a CSV file."]
        )
    data = await upload.read(customer_import.MAX_BYTES + 1)
    try:
        result = await customer_import.import_customers(session, console.caller, data)
    except AppError as error:
        problems = problem_lines(error)
        return await _customers_page(request, console, session, status_code=422, problems=problems)
    notice = (
        f"Imported {result.rows} rows: {result.customers_created} customers added, "
        f"{result.customers_updated} updated, {result.attributes_written} values set."
    )
    return await _customers_page(request, console, session, notice=notice)


async def _customer_page(
    request: Request,
    console: Console,
    session: SessionDep,
    services: Services,
    customer: Customer,
    *,
    status_code: int = 200,
    problems: list[str] | None = None,
) -> Response:
    rows = await service.attributes_of(session, console.caller, customer.id)
    periods: dict[str, list[Any]] = {}
    for row in rows:
        periods.setdefault(period_label(row.year, row.quarter) or "Undated", []).append(row)
    booklets, _ = await generation.list_booklets(
        session, console.caller, customer_id=customer.id, limit=SHOWN
    )
    return templates.render(
        request,
        "customer.html",
        console,
        status_code=status_code,
        customer=customer,
        periods=sorted(periods.items(), key=lambda item: (item[0] != "Undated", item[0])),
        booklets=await _booklet_rows(session, services, console, booklets),
        problems=problems or [],
    )


@router.get("/booklets/customers/{customer_id}")
async def customer_page(
    customer_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    customer = await _customer(request, session, console, customer_id)
    return await _customer_page(request, console, session, services, customer)


@router.post("/booklets/customers/{customer_id}")
async def change_customer(
    customer_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
    form: CheckedForm,
) -> Response:
    """Rename the customer or change their reference, or delete them (`action=delete`)."""
    customer = await _customer(request, session, console, customer_id)
    try:
        if _text(form, "action") == "delete":
            await service.delete_customer(session, console.caller, customer_id)
            return RedirectResponse("/booklets/customers", status_code=303)
        body = schemas.CustomerUpdate(
            name=_text(form, "name"), external_ref=_text(form, "externalRef") or None
        )
        await service.update_customer(session, console.caller, customer_id, body)
    except (ValidationError, AppError) as error:
        problems = refusal_lines(error)
    else:
        return RedirectResponse(f"/booklets/customers/{customer_id}", status_code=303)
    return await _customer_page(
        request, console, session, services, customer, status_code=422, problems=problems
    )


@router.post("/booklets/customers/{customer_id}/attributes")
async def set_attribute(
    customer_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
    form: CheckedForm,
) -> Response:
    """Set one value, undated or for a year or a quarter (the same key and period replaces)."""
    customer = await _customer(request, session, console, customer_id)
    try:
        value = schemas.AttributeIn.model_validate(
            {
                "key": _text(form, "key"),
                "value": _text(form, "value"),
                "year": _number(form, "year"),
                "quarter": _number(form, "quarter"),
            }
        )
        await service.set_attributes(session, console.caller, customer, [value])
    except ValidationError as error:
        problems = validation_lines(error)
    else:
        return RedirectResponse(f"/booklets/customers/{customer_id}#values", status_code=303)
    return await _customer_page(
        request, console, session, services, customer, status_code=422, problems=problems
    )


BOOKLETS_CONSOLE = ConsolePages(
    label="Booklets",
    path="/booklets",
    router=router,
    summary="Make a PDF booklet for each customer from a book of pages and their values.",
)
