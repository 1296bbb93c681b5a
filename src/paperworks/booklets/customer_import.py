"""Customers and their attributes from a CSV file, as a spreadsheet exports them.

One row per customer attribute (`name, external_ref, key, value, year, quarter`); a row without a
key only adds or renames the customer. A row names its customer by `external_ref` when it has one,
else by name. The whole file is checked before anything is written, so a file with one bad row
changes nothing and the answer lists every bad row by its line number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import Field, StringConstraints, ValidationError
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.booklets import exceptions as errors
from paperworks.booklets import schemas, service
from paperworks.booklets.models import Customer
from paperworks.identity.caller import Caller
from paperworks.identity.tenancy import scoped
from paperworks.kit.schemas import ApiModel, PlainText

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_REPORTED_ERRORS = 100
COLUMNS = ("name", "external_ref", "key", "value", "year", "quarter")
# What people type in a header for our column names.
_ALIASES = {"externalref": "external_ref", "ref": "external_ref", "reference": "external_ref"}

Ref = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), PlainText]


class ImportRow(schemas.Period):
    """One CSV row, checked with the same rules as the API's bodies."""

    # A cell is text: "2024" is a year here, where a JSON body sends the number.
    year: Annotated[int, schemas.YEARS] | None = None
    quarter: Annotated[int, schemas.QUARTERS] | None = None

    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), PlainText] = ""
    external_ref: Ref = ""
    key: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), PlainText] = ""
    value: Annotated[str, Field(max_length=4000), PlainText] = ""


class ImportResult(ApiModel):
    customers_created: int
    customers_updated: int
    attributes_written: int
    rows: int


@dataclass
class _Planned:
    """What the file says about one customer."""

    name: str
    line: int
    ref: str | None
    attributes: list[schemas.AttributeIn] = field(default_factory=list)


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise errors.InvalidImport(
            f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it.", "too_large"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise errors.InvalidImport(
            'The file is not UTF-8 text; save it as "CSV UTF-8".', "encoding"
        ) from exc


def _reader(text: str) -> Iterator[tuple[int, dict[str, str], bool]]:
    """Each data row with its line number, under our column names; a comma, semicolon or tab
    separates (spreadsheets in many locales save semicolons)."""
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        raise errors.InvalidImport("The file is empty; its first line names the columns.", "empty")
    names = [_column(cell) for cell in header]
    unknown = [cell for cell, name in zip(header, names, strict=True) if name not in COLUMNS]
    if unknown:
        raise errors.InvalidImport(
            f"Unknown columns: {', '.join(map(repr, unknown))}.", "columns", choices=COLUMNS
        )
    if "name" not in names and "external_ref" not in names:
        raise errors.InvalidImport(
            "A customer needs a name or an external_ref column.", "columns", choices=COLUMNS
        )
    if ("key" in names) != ("value" in names):
        raise errors.InvalidImport("Attributes need both a key and a value column.", "columns")
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        # More cells than columns: a separator inside an unquoted value shifted the rest.
        overflow = len(cells) > len(names)
        yield reader.line_num, dict(zip(names, cells, strict=False)), overflow


def _column(header_cell: str) -> str:
    name = header_cell.strip().lower().replace(" ", "_").replace("-", "_")
    return _ALIASES.get(name.replace("_", ""), name)


def _problems(line: int, exc: ValidationError) -> list[dict[str, object]]:
    return [
        {
            "line": line,
            "field": ".".join(str(part) for part in error["loc"]) or None,
            "message": error["msg"],
        }
        for error in exc.errors()
    ]


def _plan(text: str) -> tuple[dict[str, _Planned], int]:
    """The customers the file describes, keyed by reference or name, and its row count; every
    bad row raises at once, together."""
    planned: dict[str, _Planned] = {}
    problems: list[dict[str, object]] = []
    rows = 0
    for line, cells, overflow in _reader(text):
        rows += 1
        if rows > MAX_ROWS:
            raise errors.InvalidImport(f"More than {MAX_ROWS} rows; split the file.", "too_large")
        if overflow:
            message = "more cells than columns; quote a value that holds the separator"
            problems.append({"line": line, "field": None, "message": message})
            continue
        try:
            row = ImportRow.model_validate({k: v for k, v in cells.items() if v.strip() != ""})
        except ValidationError as exc:
            problems.extend(_problems(line, exc))
            continue
        problems.extend(_add(planned, line, row))
    if problems:
        raise _bad_rows(problems)
    return planned, rows


def _bad_rows(problems: list[dict[str, object]]) -> errors.InvalidImport:
    problems.sort(key=lambda problem: int(str(problem["line"])))
    return errors.InvalidImport(
        f"{len(problems)} problem(s) in the file; nothing was imported.",
        "rows",
        problems=problems[:MAX_REPORTED_ERRORS],
    )


def _add(planned: dict[str, _Planned], line: int, row: ImportRow) -> list[dict[str, object]]:
    if not row.name and not row.external_ref:
        return [{"line": line, "field": "name", "message": "needs a name or an external_ref"}]
    if row.value and not row.key:
        return [{"line": line, "field": "key", "message": "a value needs a key"}]
    slot = f"ref:{row.external_ref}" if row.external_ref else f"name:{row.name}"
    customer = planned.get(slot)
    if customer is None:
        customer = planned[slot] = _Planned(row.name, line, row.external_ref or None)
    elif row.name and customer.name and row.name != customer.name:
        return [
            {
                "line": line,
                "field": "name",
                "message": f"{row.external_ref!r} is named {customer.name!r} on line "
                f"{customer.line}",
            }
        ]
    customer.name = customer.name or row.name
    if row.key:
        customer.attributes.append(
            schemas.AttributeIn(key=row.key, value=row.value, year=row.year, quarter=row.quarter)
        )
    return []


async def import_customers(session: AsyncSession, caller: Caller, data: bytes) -> ImportResult:
    """Write what the file says, or nothing when any row is wrong."""
    planned, rows = _plan(_decode(data))
    existing = await _existing(session, caller, list(planned.values()))
    problems = [
        problem
        for slot, plan in planned.items()
        if (problem := _unmatched(plan, existing.get(slot))) is not None
    ]
    if problems:
        raise _bad_rows(problems)
    created = updated = written = 0
    for slot, plan in planned.items():
        customer = existing.get(slot)
        if isinstance(customer, Customer):
            if plan.name and plan.name != customer.name:
                changes = schemas.CustomerUpdate(name=plan.name)
                await service.update_customer(session, caller, customer.id, changes)
            elif not plan.attributes:
                continue
            updated += 1
        else:
            details = schemas.CustomerCreate(name=plan.name, external_ref=plan.ref)
            customer = await service.create_customer(session, caller, details)
            created += 1
        if plan.attributes:
            written += len(await service.set_attributes(session, caller, customer, plan.attributes))
    return ImportResult(
        customers_created=created, customers_updated=updated, attributes_written=written, rows=rows
    )


def _unmatched(plan: _Planned, found: Customer | int | None) -> dict[str, object] | None:
    if found is None and not plan.name:
        return {"line": plan.line, "field": "name", "message": "a new customer needs a name"}
    if isinstance(found, int):
        message = f"{found} customers are named {plan.name!r}; tell them apart by external_ref"
        return {"line": plan.line, "field": "name", "message": message}
    return None


async def _existing(
    session: AsyncSession, caller: Caller, plans: Sequence[_Planned]
) -> dict[str, Customer | int]:
    """The workspace's customers the file names, by the file's slot; a name that several
    customers share maps to how many there are."""
    refs = {p.ref for p in plans if p.ref}
    names = {p.name for p in plans if not p.ref}
    found: dict[str, Customer | int] = {}
    for chunk in _chunks(sorted(refs), sorted(names)):
        chunk_refs, chunk_names = chunk
        query = scoped(select(Customer), caller).where(
            or_(Customer.external_ref.in_(chunk_refs), Customer.name.in_(chunk_names))
        )
        for customer in await session.scalars(query):
            if customer.external_ref in refs:
                found[f"ref:{customer.external_ref}"] = customer
            if customer.name in names:
                slot = f"name:{customer.name}"
                seen = found.get(slot)
                found[slot] = customer if seen is None else _count(seen) + 1
    return found


def _count(seen: Customer | int) -> int:
    return seen if isinstance(seen, int) else 1


def _chunks(refs: list[str], names: list[str]) -> Iterator[tuple[list[str], list[str]]]:
    # Bound the IN lists: SQLite takes at most 32,766 parameters in one statement.
    size = 2000
    for start in range(0, max(len(refs), len(names), 1), size):
        yield refs[start : start + size], names[start : start + size]
