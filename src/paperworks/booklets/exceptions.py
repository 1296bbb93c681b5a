"""Booklets' errors: each knows its status and stable code."""

from __future__ import annotations

from collections.abc import Sequence

from paperworks.booklets.engine_errors import EngineError
from paperworks.kit.errors import AppError, Conflict, NotFound, PermissionDenied


class CustomerNotFound(NotFound):
    code = "customer.not_found"
    title = "Customer not found"


class BookNotFound(NotFound):
    code = "book.not_found"
    title = "Book not found"


class PageNotFound(NotFound):
    code = "page.not_found"
    title = "Page not found"


class ConditionNotFound(NotFound):
    code = "condition.not_found"
    title = "Condition not found"


class BookletNotFound(NotFound):
    code = "booklet.not_found"
    title = "Booklet not found"


class BatchNotFound(NotFound):
    code = "booklet_batch.not_found"
    title = "Batch not found"


class ExternalRefTaken(Conflict):
    code = "customer.external_ref_taken"
    title = "Another customer has this reference"


class CannotManageBooks(PermissionDenied):
    """Members generate booklets; owners and admins shape the books they come from."""

    title = "Only owners and admins manage books"


class InvalidBookletInput(AppError):
    """A page's configuration, a file or a request that cannot make a booklet; `errors` lists the
    valid choices where there are some."""

    status_code = 422
    code = "booklets.invalid"
    title = "Cannot make a booklet from this"

    def __init__(
        self, detail: str, *, code: str | None = None, choices: Sequence[str] | None = None
    ) -> None:
        errors = [{"choices": list(choices)}] if choices is not None else None
        super().__init__(detail, errors=errors)
        if code is not None:
            self.code = code  # type: ignore[misc]

    @classmethod
    def of(cls, error: EngineError, where: str | None = None) -> InvalidBookletInput:
        detail = f"{where}: {error.message}" if where else error.message
        return cls(detail, code=error.code, choices=error.choices)


class MissingAttributes(AppError):
    status_code = 422
    code = "booklets.missing_attributes"
    title = "The customer lacks attributes this book needs"

    def __init__(self, keys: Sequence[str], detail: str) -> None:
        super().__init__(detail, errors=[{"missingAttributes": list(keys)}])
        self.keys = list(keys)


class InvalidImport(AppError):
    """A customers CSV that cannot be imported; `errors` lists each bad row by its line, or the
    valid columns."""

    status_code = 422
    code = "customers.import_invalid"
    title = "Cannot import this file"

    def __init__(
        self,
        detail: str,
        reason: str,
        *,
        choices: Sequence[str] | None = None,
        problems: Sequence[dict[str, object]] | None = None,
    ) -> None:
        errors = list(problems or []) + ([{"choices": list(choices)}] if choices else [])
        super().__init__(detail, errors=errors or None)
        self.code = f"customers.import_{reason}"  # type: ignore[misc]
