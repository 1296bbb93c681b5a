"""Booklets' HTTP surface under /api/v1: customers and their attributes, books with their pages
and rules, the resolve dry run, generation (one or a batch) and the booklets made."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, File, Path, Query, Response, UploadFile, status

from paperworks.booklets import customer_import, generation, schemas, service
from paperworks.booklets import exceptions as errors
from paperworks.booklets.engine_errors import EngineError
from paperworks.booklets.models import Book, BookletBatch
from paperworks.booklets.models import Page as PageRow
from paperworks.booklets.pdf_forms import read_fields
from paperworks.files import service as files
from paperworks.files import sniffing
from paperworks.identity.caller import Caller
from paperworks.identity.dependencies import CurrentCaller
from paperworks.identity.tenancy import get_scoped
from paperworks.kit.errors import problem_responses
from paperworks.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from paperworks.services import ServicesDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["booklets"])

Id = Annotated[str, Path(max_length=64)]
CANNOT_MANAGE = problem_responses(errors.CannotManageBooks, errors.BookNotFound)


# --- customers --------------------------------------------------------------------------------


@router.get("/customers", summary="The workspace's customers, oldest first")
async def list_customers(
    caller: CurrentCaller,
    session: SessionDep,
    q: Annotated[
        str | None, Query(max_length=200, description="Part of a name or reference")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[schemas.CustomerOut]:
    customers, next_cursor = await service.list_customers(
        session, caller, q=q, limit=limit, cursor=cursor
    )
    return Page(
        items=[schemas.CustomerOut.model_validate(c) for c in customers], next_cursor=next_cursor
    )


@router.post(
    "/customers",
    status_code=status.HTTP_201_CREATED,
    summary="Add a customer",
    responses=problem_responses(errors.ExternalRefTaken),
)
async def create_customer(
    body: schemas.CustomerCreate, caller: CurrentCaller, session: SessionDep
) -> schemas.CustomerOut:
    return schemas.CustomerOut.model_validate(await service.create_customer(session, caller, body))


@router.post(
    "/customers/import",
    summary="Add or update customers and their attributes from a CSV file",
    description="Multipart `file`: a CSV (UTF-8; comma, semicolon or tab) whose first line names "
    "its columns among `name, external_ref, key, value, year, quarter`. One row per attribute; a "
    "row without a key only adds or renames its customer. A row names its customer by "
    "`external_ref` when it has one, else by name; customers not found are created. The whole "
    "file is checked first: when any row is wrong nothing is imported and the problem's `errors` "
    "list every bad row by its line number.",
    responses=problem_responses(errors.InvalidImport),
    form_limits={"max_files": 1, "max_fields": 1},
)
async def import_customers(
    file: Annotated[UploadFile, File(description="The CSV file")],
    caller: CurrentCaller,
    session: SessionDep,
) -> customer_import.ImportResult:
    data = await file.read(customer_import.MAX_BYTES + 1)
    return await customer_import.import_customers(session, caller, data)


@router.get(
    "/customers/{customer_id}",
    summary="One customer",
    responses=problem_responses(errors.CustomerNotFound),
)
async def get_customer(
    customer_id: Id, caller: CurrentCaller, session: SessionDep
) -> schemas.CustomerOut:
    customer = await service.get_customer(session, caller, customer_id)
    return schemas.CustomerOut.model_validate(customer)


@router.put(
    "/customers/{customer_id}",
    summary="Rename a customer or change their reference",
    description="Only the fields sent change; `externalRef: null` clears the reference.",
    responses=problem_responses(errors.CustomerNotFound, errors.ExternalRefTaken),
)
async def update_customer(
    customer_id: Id, body: schemas.CustomerUpdate, caller: CurrentCaller, session: SessionDep
) -> schemas.CustomerOut:
    customer = await service.update_customer(session, caller, customer_id, body)
    return schemas.CustomerOut.model_validate(customer)


@router.delete(
    "/customers/{customer_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a customer, their attributes and their booklets' records",
    description="Booklet PDFs already made stay among the workspace's files.",
    responses=problem_responses(errors.CustomerNotFound),
)
async def delete_customer(customer_id: Id, caller: CurrentCaller, session: SessionDep) -> Response:
    await service.delete_customer(session, caller, customer_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/customers/{customer_id}/attributes",
    summary="A customer's attributes: undated, per year and per quarter",
    responses=problem_responses(errors.CustomerNotFound),
)
async def list_attributes(
    customer_id: Id, caller: CurrentCaller, session: SessionDep
) -> list[schemas.AttributeOut]:
    customer = await service.get_customer(session, caller, customer_id)
    rows = await service.attributes_of(session, caller, customer.id)
    return [schemas.AttributeOut.model_validate(row) for row in rows]


@router.post(
    "/customers/{customer_id}/attributes",
    summary="Set one attribute or several",
    description="One `{key, value, year?, quarter?}` or a list of them. A value replaces the one "
    "of the same key and period. A booklet for a period takes the most specific value: the "
    "quarter's, else the year's, else the undated one.",
    responses=problem_responses(errors.CustomerNotFound),
)
async def set_attributes(
    customer_id: Id,
    body: schemas.AttributeIn | list[schemas.AttributeIn],
    caller: CurrentCaller,
    session: SessionDep,
) -> list[schemas.AttributeOut]:
    customer = await service.get_customer(session, caller, customer_id)
    values = body if isinstance(body, list) else [body]
    rows = await service.set_attributes(session, caller, customer, values)
    return [schemas.AttributeOut.model_validate(row) for row in rows]


# --- books ------------------------------------------------------------------------------------


async def _book_out(session: SessionDep, caller: Caller, book: Book) -> schemas.BookOut:
    pages = await service.pages_of(session, caller, [book.id])
    return _book_view(book, pages)


def _book_view(book: Book, pages: Sequence[PageRow]) -> schemas.BookOut:
    return schemas.BookOut(
        id=book.id,
        name=book.name,
        description=book.description,
        pages=[schemas.PageOut.model_validate(page) for page in pages],
        created_at=book.created_at,
        updated_at=book.updated_at,
    )


@router.get("/books", summary="The workspace's books with their pages, oldest first")
async def list_books(
    caller: CurrentCaller, session: SessionDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[schemas.BookOut]:
    books, next_cursor = await service.list_books(session, caller, limit=limit, cursor=cursor)
    pages = await service.pages_of(session, caller, [book.id for book in books])
    return Page(
        items=[_book_view(book, [p for p in pages if p.book_id == book.id]) for book in books],
        next_cursor=next_cursor,
    )


@router.post(
    "/books",
    status_code=status.HTTP_201_CREATED,
    summary="Create a book (owners and admins)",
    responses=problem_responses(errors.CannotManageBooks),
)
async def create_book(
    body: schemas.BookCreate, caller: CurrentCaller, session: SessionDep
) -> schemas.BookOut:
    book = await service.create_book(session, caller, body)
    return _book_view(book, [])


@router.get(
    "/books/{book_id}",
    summary="A book with its pages in order",
    responses=problem_responses(errors.BookNotFound),
)
async def get_book(book_id: Id, caller: CurrentCaller, session: SessionDep) -> schemas.BookOut:
    return await _book_out(session, caller, await service.get_book(session, caller, book_id))


@router.put(
    "/books/{book_id}",
    summary="Rename or describe a book (owners and admins)",
    responses=CANNOT_MANAGE,
)
async def update_book(
    book_id: Id, body: schemas.BookUpdate, caller: CurrentCaller, session: SessionDep
) -> schemas.BookOut:
    book = await service.update_book(session, caller, book_id, body)
    return await _book_out(session, caller, book)


@router.delete(
    "/books/{book_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a book, its pages and rules (owners and admins)",
    description="Booklet PDFs already made stay among the workspace's files.",
    responses=CANNOT_MANAGE,
)
async def delete_book(book_id: Id, caller: CurrentCaller, session: SessionDep) -> Response:
    await service.delete_book(session, caller, book_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- pages ------------------------------------------------------------------------------------

PAGE_DOC = (
    '`type` decides `config`: `static` `{pages?: "1-3,5"}`; `pdf_form` `{fields: {name: '
    "template}, flatten: true}`; `choosable` `{defaultFileId?, fields?, flatten?, pages?}` (its "
    "file is chosen by its conditions); `excel` `{sheet, range?, orientation?, fitToWidth?}` "
    "with an XLSX `fileId` (or one given at generation). The file and the config are checked "
    "together: a field or sheet the file lacks is a 422 listing the valid ones."
)


@router.get(
    "/books/{book_id}/pages",
    summary="A book's pages in order",
    responses=problem_responses(errors.BookNotFound),
)
async def list_pages(
    book_id: Id, caller: CurrentCaller, session: SessionDep
) -> list[schemas.PageOut]:
    book = await service.get_book(session, caller, book_id)
    return [
        schemas.PageOut.model_validate(p)
        for p in await service.pages_of(session, caller, [book.id])
    ]


@router.post(
    "/books/{book_id}/pages",
    status_code=status.HTTP_201_CREATED,
    summary="Add a page to a book (owners and admins)",
    description=PAGE_DOC,
    responses=problem_responses(
        errors.CannotManageBooks, errors.BookNotFound, errors.InvalidBookletInput
    ),
)
async def add_page(
    book_id: Id,
    body: schemas.PageCreate,
    caller: CurrentCaller,
    session: SessionDep,
    services: ServicesDep,
) -> schemas.PageOut:
    page = await service.add_page(session, services.storage, caller, book_id, body)
    return schemas.PageOut.model_validate(page)


@router.put(
    "/books/{book_id}/pages/order",
    summary="Put a book's pages in a new order (owners and admins)",
    responses=problem_responses(
        errors.CannotManageBooks, errors.BookNotFound, errors.InvalidBookletInput
    ),
)
async def reorder_pages(
    book_id: Id, body: schemas.PageOrder, caller: CurrentCaller, session: SessionDep
) -> list[schemas.PageOut]:
    pages = await service.reorder_pages(session, caller, book_id, body.page_ids)
    return [schemas.PageOut.model_validate(page) for page in pages]


@router.get(
    "/books/{book_id}/pages/{page_id}",
    summary="One page of a book",
    responses=problem_responses(errors.BookNotFound, errors.PageNotFound),
)
async def get_page(
    book_id: Id, page_id: Id, caller: CurrentCaller, session: SessionDep
) -> schemas.PageOut:
    await service.get_book(session, caller, book_id)
    return schemas.PageOut.model_validate(await service.get_page(session, caller, book_id, page_id))


@router.put(
    "/books/{book_id}/pages/{page_id}",
    summary="Change a page (owners and admins)",
    description="Only the fields sent change. " + PAGE_DOC,
    responses=problem_responses(
        errors.CannotManageBooks, errors.PageNotFound, errors.InvalidBookletInput
    ),
)
async def update_page(
    book_id: Id,
    page_id: Id,
    body: schemas.PageUpdate,
    caller: CurrentCaller,
    session: SessionDep,
    services: ServicesDep,
) -> schemas.PageOut:
    page = await service.update_page(session, services.storage, caller, book_id, page_id, body)
    return schemas.PageOut.model_validate(page)


@router.delete(
    "/books/{book_id}/pages/{page_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a page (owners and admins); the pages after it move up",
    responses=problem_responses(errors.CannotManageBooks, errors.PageNotFound),
)
async def delete_page(
    book_id: Id, page_id: Id, caller: CurrentCaller, session: SessionDep
) -> Response:
    await service.delete_page(session, caller, book_id, page_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/books/{book_id}/pages/{page_id}/conditions",
    summary="A choosable page's rules, in the order they are tried",
    responses=problem_responses(errors.BookNotFound, errors.PageNotFound),
)
async def list_conditions(
    book_id: Id, page_id: Id, caller: CurrentCaller, session: SessionDep
) -> list[schemas.ConditionOut]:
    await service.get_book(session, caller, book_id)
    page = await service.get_page(session, caller, book_id, page_id)
    rows = await service.conditions_of(session, caller, [page.id])
    return [schemas.ConditionOut.model_validate(row) for row in rows]


@router.post(
    "/books/{book_id}/pages/{page_id}/conditions",
    status_code=status.HTTP_201_CREATED,
    summary="Add a rule choosing a choosable page's file (owners and admins)",
    description="Operators: `eq`, `ne`, `in` (a list), `gte`, `lte` (numbers and ISO dates "
    "compare as such), `exists`. Rules are tried lowest `priority` first against the "
    "customer's value for the period; the first that matches chooses `targetFileId`; none "
    "matching means `config.defaultFileId`, or the page is left out.",
    responses=problem_responses(
        errors.CannotManageBooks, errors.PageNotFound, errors.InvalidBookletInput
    ),
)
async def add_condition(
    book_id: Id,
    page_id: Id,
    body: schemas.ConditionCreate,
    caller: CurrentCaller,
    session: SessionDep,
    services: ServicesDep,
) -> schemas.ConditionOut:
    condition = await service.add_condition(
        session, services.storage, caller, book_id, page_id, body
    )
    return schemas.ConditionOut.model_validate(condition)


@router.delete(
    "/books/{book_id}/pages/{page_id}/conditions/{condition_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a rule (owners and admins)",
    responses=problem_responses(errors.CannotManageBooks, errors.ConditionNotFound),
)
async def delete_condition(
    book_id: Id, page_id: Id, condition_id: Id, caller: CurrentCaller, session: SessionDep
) -> Response:
    await service.delete_condition(session, caller, book_id, page_id, condition_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/files/{file_id}/form-fields",
    summary="A PDF's form fields, to map them on a pdf_form page",
    description="Name, type (text, checkbox, radio, choice, signature, button), the options a "
    "checkbox, radio group or choice accepts, its current value and page.",
    responses=problem_responses(errors.InvalidBookletInput),
)
async def form_fields(
    file_id: Id, caller: CurrentCaller, session: SessionDep, services: ServicesDep
) -> list[schemas.FormFieldOut]:
    record = await files.get_file(session, caller, file_id)
    if record.content_type != sniffing.PDF:
        raise errors.InvalidBookletInput(
            f"{record.filename} is {record.content_type}, not a PDF.",
            code="booklets.wrong_file_type",
            choices=[sniffing.PDF],
        )
    data = await files.read_bytes(services.storage, record)
    try:
        fields = await asyncio.to_thread(read_fields, data)
    except EngineError as exc:
        raise errors.InvalidBookletInput.of(exc) from exc
    return [schemas.FormFieldOut.model_validate(field, from_attributes=True) for field in fields]


# --- resolving and generating -----------------------------------------------------------------


@router.post(
    "/books/{book_id}/resolve",
    summary="What a customer would get: a dry run, nothing generated",
    description="Each page with its source file, the rule that chose it, the form values it "
    "would be filled with and the attributes the customer lacks for the period.",
    responses=problem_responses(errors.BookNotFound, errors.CustomerNotFound),
)
async def resolve(
    book_id: Id, body: schemas.ResolveRequest, caller: CurrentCaller, session: SessionDep
) -> schemas.ResolutionOut:
    plan = await generation.plan_booklet(
        session, caller, book_id, body.customer_id, body.year, body.quarter
    )
    return generation.resolution_out(plan)


@router.post(
    "/books/{book_id}/generate",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Generate a customer's booklet for a period, as a job",
    description="Follow the job (`GET /jobs/{jobId}`, socket.io `booklet:progress` and "
    "`booklet:completed`); the booklet's `downloadUrl` appears once it is made. A customer "
    "lacking an attribute a page needs is a 422 naming the keys.",
    responses=problem_responses(
        errors.BookNotFound,
        errors.CustomerNotFound,
        errors.MissingAttributes,
        errors.InvalidBookletInput,
    ),
)
async def generate(
    book_id: Id,
    body: schemas.GenerateRequest,
    caller: CurrentCaller,
    session: SessionDep,
    services: ServicesDep,
) -> schemas.GenerateAccepted:
    booklet = await generation.generate(session, services, caller, book_id, body)
    return schemas.GenerateAccepted(job_id=booklet.job_id, booklet_id=booklet.id)


@router.post(
    "/books/{book_id}/generate-batch",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Generate booklets for many customers (all when none named), one job each",
    description="Every customer is checked first: if one lacks a value, nothing is queued.",
    responses=problem_responses(
        errors.BookNotFound, errors.CustomerNotFound, errors.InvalidBookletInput
    ),
)
async def generate_batch(
    book_id: Id,
    body: schemas.BatchRequest,
    caller: CurrentCaller,
    session: SessionDep,
    services: ServicesDep,
) -> schemas.BatchAccepted:
    batch, booklets = await generation.generate_batch(session, services, caller, book_id, body)
    return schemas.BatchAccepted(
        batch_id=batch.id,
        jobs=[
            schemas.BatchItem(customer_id=b.customer_id, job_id=b.job_id, booklet_id=b.id)
            for b in booklets
        ],
    )


@router.get(
    "/booklets",
    summary="Booklets made or being made, oldest first",
    description="Narrow by book, customer and period.",
)
async def list_booklets(
    caller: CurrentCaller,
    session: SessionDep,
    services: ServicesDep,
    book_id: Annotated[str | None, Query(alias="bookId", max_length=64)] = None,
    customer_id: Annotated[str | None, Query(alias="customerId", max_length=64)] = None,
    year: Annotated[int | None, Query(ge=1900, le=2999)] = None,
    quarter: Annotated[int | None, Query(ge=1, le=4)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[schemas.BookletOut]:
    booklets, next_cursor = await generation.list_booklets(
        session,
        caller,
        book_id=book_id,
        customer_id=customer_id,
        year=year,
        quarter=quarter,
        limit=limit,
        cursor=cursor,
    )
    items = await generation.booklet_views(session, services, caller, booklets)
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/booklets/{booklet_id}",
    summary="One booklet: its status, where each page came from, its download link",
    responses=problem_responses(errors.BookletNotFound),
)
async def get_booklet(
    booklet_id: Id, caller: CurrentCaller, session: SessionDep, services: ServicesDep
) -> schemas.BookletOut:
    booklet = await generation.get_booklet(session, caller, booklet_id)
    (view,) = await generation.booklet_views(session, services, caller, [booklet])
    return view


@router.get(
    "/booklet-batches/{batch_id}",
    summary="A batch's progress, and a ZIP of its booklets once all have finished",
    responses=problem_responses(errors.BatchNotFound),
)
async def get_batch(
    batch_id: Id, caller: CurrentCaller, session: SessionDep, services: ServicesDep
) -> schemas.BatchOut:
    batch = await get_scoped(session, caller, BookletBatch, batch_id)
    if batch is None:
        raise errors.BatchNotFound(f"No batch {batch_id}.")
    return await generation.batch_view(session, services, caller, batch)
