"""Booklets' operations on customers, their attributes, books, pages and conditions. Plain async
functions taking the caller's session; they never commit.

Shaping books (pages, conditions) needs `booklets:manage` (owners and admins); every member
manages customers. A configuration is checked when it is saved, against the file it names, so a
mistake is a 422 now rather than a failed job later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.booklets import exceptions as errors
from paperworks.booklets import page_checks, schemas
from paperworks.booklets.engine_errors import EngineError
from paperworks.booklets.models import (
    Book,
    Customer,
    CustomerAttribute,
    Page,
    PageCondition,
    PageType,
)
from paperworks.events import service as events
from paperworks.events.service import Resource
from paperworks.files import service as files
from paperworks.files import sniffing
from paperworks.files.models import StoredFile
from paperworks.files.storage import Storage
from paperworks.identity.caller import Caller
from paperworks.identity.tenancy import get_scoped, scoped
from paperworks.kit.db import utcnow
from paperworks.kit.pagination import DEFAULT_LIMIT, fetch_page

MANAGE = "booklets:manage"


def require_manage(caller: Caller) -> None:
    if not caller.allows(MANAGE):
        raise errors.CannotManageBooks(
            "Your role in this workspace does not allow changing books, pages or conditions "
            f"({MANAGE}: owners and admins)."
        )


# --- customers --------------------------------------------------------------------------------


async def _publish_customer(
    session: AsyncSession, type: str, customer: Customer, caller: Caller, **payload: Any
) -> None:
    resource = Resource("customer", customer.id, customer.workspace_id)
    await events.publish(session, type, resource, {"name": customer.name, **payload}, actor=caller)


async def _ensure_ref_free(
    session: AsyncSession, caller: Caller, ref: str | None, but: str | None = None
) -> None:
    if not ref:
        return
    query = scoped(select(Customer.id).where(Customer.external_ref == ref), caller, Customer)
    taken = await session.scalar(query)
    if taken is not None and taken != but:
        raise errors.ExternalRefTaken(f"Customer {taken} already has the reference {ref!r}.")


async def create_customer(
    session: AsyncSession, caller: Caller, data: schemas.CustomerCreate
) -> Customer:
    await _ensure_ref_free(session, caller, data.external_ref)
    customer = Customer(
        workspace_id=caller.workspace, name=data.name, external_ref=data.external_ref or None
    )
    session.add(customer)
    await session.flush()
    await _publish_customer(session, "customer.created", customer, caller)
    return customer


async def list_customers(
    session: AsyncSession,
    caller: Caller,
    *,
    q: str | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> tuple[list[Customer], str | None]:
    """A page of the workspace's customers, oldest first; `q` finds a part of a name or a
    reference, whatever the case."""
    query = scoped(select(Customer), caller)
    if q:
        pattern = f"%{q.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(Customer.name).like(pattern),
                func.lower(Customer.external_ref).like(pattern),
            )
        )
    return await fetch_page(session, query, Customer.id, limit=limit, cursor=cursor)


async def get_customer(session: AsyncSession, caller: Caller, customer_id: str) -> Customer:
    customer = await get_scoped(session, caller, Customer, customer_id)
    if customer is None:
        raise errors.CustomerNotFound(f"No customer {customer_id}.")
    return customer


async def update_customer(
    session: AsyncSession, caller: Caller, customer_id: str, changes: schemas.CustomerUpdate
) -> Customer:
    customer = await get_customer(session, caller, customer_id)
    changed = []
    if changes.name is not None and changes.name != customer.name:
        customer.name = changes.name
        changed.append("name")
    if "external_ref" in changes.model_fields_set:
        ref = changes.external_ref or None
        if ref != customer.external_ref:
            await _ensure_ref_free(session, caller, ref, but=customer.id)
            customer.external_ref = ref
            changed.append("externalRef")
    if changed:
        customer.updated_at = utcnow()
        await session.flush()
        await _publish_customer(session, "customer.updated", customer, caller, fields=changed)
    return customer


async def delete_customer(session: AsyncSession, caller: Caller, customer_id: str) -> None:
    """The customer, their attributes and their booklets' rows; the booklets' files stay."""
    customer = await get_customer(session, caller, customer_id)
    await _publish_customer(session, "customer.deleted", customer, caller)
    await session.delete(customer)
    await session.flush()


async def attributes_of(
    session: AsyncSession, caller: Caller, customer_id: str
) -> list[CustomerAttribute]:
    query = scoped(select(CustomerAttribute), caller).where(
        CustomerAttribute.customer_id == customer_id
    )
    rows = await session.scalars(
        query.order_by(
            CustomerAttribute.key,
            CustomerAttribute.year.is_not(None),
            CustomerAttribute.year,
            CustomerAttribute.quarter.is_not(None),
            CustomerAttribute.quarter,
        )
    )
    return list(rows)


async def attribute_keys(session: AsyncSession, caller: Caller, *, limit: int = 500) -> list[str]:
    """The attribute names the workspace's customers have, for a page editor's suggestions."""
    query = scoped(select(CustomerAttribute.key).distinct(), caller, CustomerAttribute)
    return list(await session.scalars(query.order_by(CustomerAttribute.key).limit(limit)))


async def set_attributes(
    session: AsyncSession,
    caller: Caller,
    customer: Customer,
    values: Sequence[schemas.AttributeIn],
) -> list[CustomerAttribute]:
    """Insert or replace each value for its (key, year, quarter); the last of repeats wins."""
    existing = {
        (row.key, row.year, row.quarter): row
        for row in await attributes_of(session, caller, customer.id)
    }
    written: dict[tuple[str, int | None, int | None], CustomerAttribute] = {}
    for value in values:
        slot = (value.key, value.year, value.quarter)
        row = written.get(slot) or existing.get(slot)
        if row is None:
            row = CustomerAttribute(
                workspace_id=customer.workspace_id,
                customer_id=customer.id,
                key=value.key,
                year=value.year,
                quarter=value.quarter,
                value=value.value,
            )
            session.add(row)
        else:
            row.value = value.value
        written[slot] = row
    customer.updated_at = utcnow()
    await session.flush()
    keys = sorted({key for key, _, _ in written})
    await _publish_customer(session, "customer.updated", customer, caller, attributes=keys)
    return list(written.values())


# --- books ------------------------------------------------------------------------------------


async def _publish_book(
    session: AsyncSession, type: str, book: Book, caller: Caller, **payload: Any
) -> None:
    resource = Resource("book", book.id, book.workspace_id)
    await events.publish(session, type, resource, {"name": book.name, **payload}, actor=caller)


async def create_book(session: AsyncSession, caller: Caller, data: schemas.BookCreate) -> Book:
    require_manage(caller)
    book = Book(workspace_id=caller.workspace, name=data.name, description=data.description)
    session.add(book)
    await session.flush()
    await _publish_book(session, "book.created", book, caller)
    return book


async def list_books(
    session: AsyncSession, caller: Caller, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> tuple[list[Book], str | None]:
    return await fetch_page(
        session, scoped(select(Book), caller), Book.id, limit=limit, cursor=cursor
    )


async def get_book(session: AsyncSession, caller: Caller, book_id: str) -> Book:
    book = await get_scoped(session, caller, Book, book_id)
    if book is None:
        raise errors.BookNotFound(f"No book {book_id}.")
    return book


async def pages_of(session: AsyncSession, caller: Caller, book_ids: Sequence[str]) -> list[Page]:
    """The pages of these books, in order, in one query."""
    if not book_ids:
        return []
    query = scoped(select(Page), caller).where(Page.book_id.in_(book_ids))
    return list(await session.scalars(query.order_by(Page.book_id, Page.position)))


async def update_book(
    session: AsyncSession, caller: Caller, book_id: str, changes: schemas.BookUpdate
) -> Book:
    require_manage(caller)
    book = await get_book(session, caller, book_id)
    changed = []
    for name in ("name", "description"):
        value = getattr(changes, name)
        if value is not None and value != getattr(book, name):
            setattr(book, name, value)
            changed.append(name)
    if changed:
        await _book_changed(session, caller, book, fields=changed)
    return book


async def _book_changed(session: AsyncSession, caller: Caller, book: Book, **what: Any) -> None:
    book.updated_at = utcnow()
    await session.flush()
    await _publish_book(session, "book.updated", book, caller, **what)


async def delete_book(session: AsyncSession, caller: Caller, book_id: str) -> None:
    """The book, its pages, rules and booklets' rows; files (uploads, booklets) stay."""
    require_manage(caller)
    book = await get_book(session, caller, book_id)
    await _publish_book(session, "book.deleted", book, caller)
    await session.delete(book)
    await session.flush()


# --- pages ------------------------------------------------------------------------------------


async def get_page(session: AsyncSession, caller: Caller, book_id: str, page_id: str) -> Page:
    page = await get_scoped(session, caller, Page, page_id)
    if page is None or page.book_id != book_id:
        raise errors.PageNotFound(f"No page {page_id} in book {book_id}.")
    return page


async def add_page(
    session: AsyncSession,
    storage: Storage,
    caller: Caller,
    book_id: str,
    data: schemas.PageCreate,
) -> Page:
    """A new page at `position` (1-based; the pages from there move down one), else last."""
    require_manage(caller)
    book = await get_book(session, caller, book_id)
    config = data.config or {}
    await check_page(session, storage, caller, data.type, data.file_id, config)
    pages = await pages_of(session, caller, [book.id])
    position = min(data.position or len(pages) + 1, len(pages) + 1)
    page = Page(
        workspace_id=book.workspace_id,
        book_id=book.id,
        type=data.type,
        title=data.title,
        file_id=data.file_id,
        config=config,
        position=0,  # placed below, with the others
    )
    session.add(page)
    pages.insert(position - 1, page)
    await _renumber(session, pages)
    await _book_changed(session, caller, book, page=page.id, change="added")
    return page


async def update_page(
    session: AsyncSession,
    storage: Storage,
    caller: Caller,
    book_id: str,
    page_id: str,
    changes: schemas.PageUpdate,
) -> Page:
    require_manage(caller)
    book = await get_book(session, caller, book_id)
    page = await get_page(session, caller, book_id, page_id)
    new_type = changes.type or PageType(page.type)
    file_id = changes.file_id if "file_id" in changes.model_fields_set else page.file_id
    config = changes.config
    if config is None:
        if new_type != page.type:
            raise errors.InvalidBookletInput(
                "A page that changes type needs a config for its new type.",
                code="request.validation_failed",
            )
        config = schemas.page_config(new_type, page.config).model_dump(
            by_alias=True, exclude_none=True
        )
    elif changes.type is None:
        # The body checks a config against the type it names; without one, against the page's.
        # (Unchecked, a config of unknown keys was saved and the page's next change was a 500.)
        try:
            config = schemas.checked_page_config(new_type, config)
        except ValueError as exc:
            raise errors.InvalidBookletInput(str(exc), code="request.validation_failed") from None
    await check_page(session, storage, caller, new_type, file_id, config)
    page.type, page.file_id, page.config = new_type, file_id, config
    if changes.title is not None:
        page.title = changes.title
    await _book_changed(session, caller, book, page=page.id, change="changed")
    return page


async def delete_page(session: AsyncSession, caller: Caller, book_id: str, page_id: str) -> None:
    require_manage(caller)
    book = await get_book(session, caller, book_id)
    page = await get_page(session, caller, book_id, page_id)
    await session.delete(page)
    await session.flush()
    await _renumber(session, await pages_of(session, caller, [book.id]))
    await _book_changed(session, caller, book, page=page_id, change="removed")


async def reorder_pages(
    session: AsyncSession, caller: Caller, book_id: str, page_ids: Sequence[str]
) -> list[Page]:
    require_manage(caller)
    book = await get_book(session, caller, book_id)
    pages = {page.id: page for page in await pages_of(session, caller, [book.id])}
    if sorted(page_ids) != sorted(pages):
        raise errors.InvalidBookletInput(
            "List every page of the book exactly once.",
            code="book.bad_page_order",
            choices=sorted(pages),
        )
    ordered = [pages[page_id] for page_id in page_ids]
    await _renumber(session, ordered)
    await _book_changed(session, caller, book, change="reordered")
    return ordered


async def _renumber(session: AsyncSession, pages: Sequence[Page]) -> None:
    """Positions 1..n in this order. Positions are unique per book, so pages step aside to
    negative positions first: a swap would otherwise collide half-way."""
    for index, page in enumerate(pages, start=1):
        page.position = -index
    await session.flush()
    for index, page in enumerate(pages, start=1):
        page.position = index
    await session.flush()


# --- conditions -------------------------------------------------------------------------------


async def conditions_of(
    session: AsyncSession, caller: Caller, page_ids: Sequence[str]
) -> list[PageCondition]:
    if not page_ids:
        return []
    query = scoped(select(PageCondition), caller).where(PageCondition.page_id.in_(page_ids))
    return list(await session.scalars(query.order_by(PageCondition.priority, PageCondition.id)))


async def add_condition(
    session: AsyncSession,
    storage: Storage,
    caller: Caller,
    book_id: str,
    page_id: str,
    data: schemas.ConditionCreate,
) -> PageCondition:
    require_manage(caller)
    book = await get_book(session, caller, book_id)
    page = await get_page(session, caller, book_id, page_id)
    if page.type != PageType.choosable:
        raise errors.InvalidBookletInput(
            f"Only choosable pages have conditions; this page is {page.type}.",
            code="page.not_choosable",
        )
    target = await _check_pdf(session, storage, caller, data.target_file_id, "targetFileId")
    config = page.config or {}
    await _engine(page_checks.check_pdf_page, target, config.get("pages"), None)
    condition = PageCondition(
        workspace_id=page.workspace_id,
        page_id=page.id,
        attribute_key=data.attribute_key,
        operator=data.operator,
        attribute_value=data.attribute_value,
        target_file_id=data.target_file_id,
        priority=data.priority,
    )
    session.add(condition)
    await session.flush()
    await _book_changed(session, caller, book, page=page.id, change="condition added")
    return condition


async def delete_condition(
    session: AsyncSession, caller: Caller, book_id: str, page_id: str, condition_id: str
) -> None:
    require_manage(caller)
    book = await get_book(session, caller, book_id)
    page = await get_page(session, caller, book_id, page_id)
    condition = await get_scoped(session, caller, PageCondition, condition_id)
    if condition is None or condition.page_id != page.id:
        raise errors.ConditionNotFound(f"No condition {condition_id} on page {page_id}.")
    await session.delete(condition)
    await session.flush()
    await _book_changed(session, caller, book, page=page.id, change="condition removed")


# --- checking a page against its file ---------------------------------------------------------


async def check_page(
    session: AsyncSession,
    storage: Storage,
    caller: Caller,
    type: PageType,
    file_id: str | None,
    config: dict[str, Any],
) -> None:
    """Refuse now what would fail the job later: a missing or wrong kind of file, a form field or
    a sheet the file does not have, pages beyond its end."""
    if type == PageType.excel:
        if file_id is not None:
            data = await _file_bytes(session, storage, caller, file_id, sniffing.XLSX, "fileId")
            await _engine(page_checks.check_sheet, data, config["sheet"], config.get("range"))
        return
    if type == PageType.choosable:
        # Its file comes from its rules or its default; a fileId it keeps must still be one of
        # this workspace's files (an id of anything else was a foreign-key error, a 500).
        if file_id is not None:
            await _existing_file(session, caller, file_id, "fileId")
        default = config.get("defaultFileId")
        if default is not None:
            data = await _check_pdf(session, storage, caller, default, "config.defaultFileId")
            await _engine(page_checks.check_pdf_page, data, config.get("pages"), None)
        return
    if file_id is None:
        raise errors.InvalidBookletInput(
            f"A {type} page needs a file: upload a PDF with POST /files and give its id as fileId.",
            code="page.file_required",
        )
    data = await _check_pdf(session, storage, caller, file_id, "fileId")
    fields = config.get("fields") if type == PageType.pdf_form else None
    await _engine(page_checks.check_pdf_page, data, config.get("pages"), fields or {})


async def _existing_file(
    session: AsyncSession, caller: Caller, file_id: str, where: str
) -> StoredFile:
    record = await files.get_file_or_none(session, caller, file_id)
    if record is None:
        raise errors.InvalidBookletInput(
            f"{where}: no file {file_id} in this workspace; upload it with POST /files.",
            code="booklets.unknown_file",
        )
    return record


async def _check_pdf(
    session: AsyncSession, storage: Storage, caller: Caller, file_id: str, where: str
) -> bytes:
    return await _file_bytes(session, storage, caller, file_id, sniffing.PDF, where)


async def _file_bytes(
    session: AsyncSession,
    storage: Storage,
    caller: Caller,
    file_id: str,
    content_type: str,
    where: str,
) -> bytes:
    record = await _existing_file(session, caller, file_id, where)
    if record.content_type != content_type:
        wanted = "a PDF" if content_type == sniffing.PDF else "an XLSX workbook"
        raise errors.InvalidBookletInput(
            f"{where}: {record.filename} is {record.content_type}, not {wanted}.",
            code="booklets.wrong_file_type",
            choices=[content_type],
        )
    return await files.read_bytes(storage, record)


async def _engine(check: Any, *args: Any) -> None:
    try:
        await asyncio.to_thread(check, *args)
    except EngineError as exc:
        raise errors.InvalidBookletInput.of(exc) from exc
