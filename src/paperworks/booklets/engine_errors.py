"""What the pure engines (forms, Excel tabs, assembly) raise about their input.

Engines import libraries only, so they cannot raise the platform's `AppError`; the service turns
each of these into a 422 problem with the same `code` and, where there are any, the valid choices.
"""

from __future__ import annotations

from collections.abc import Sequence


class EngineError(Exception):
    """Input an engine cannot use; `choices` lists what would have been valid, when known."""

    code = "booklets.bad_input"

    def __init__(self, message: str, *, choices: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.choices = list(choices) if choices is not None else None


class CorruptPdf(EngineError):
    code = "booklets.corrupt_pdf"


class EncryptedPdf(EngineError):
    code = "booklets.encrypted_pdf"


class UnknownField(EngineError):
    code = "booklets.unknown_field"


class BadFieldValue(EngineError):
    code = "booklets.bad_field_value"


class TemplateFailed(EngineError):
    code = "booklets.template_failed"


class BadWorkbook(EngineError):
    code = "booklets.bad_workbook"


class UnknownSheet(EngineError):
    code = "booklets.unknown_sheet"


class SheetTooLarge(EngineError):
    code = "booklets.sheet_too_large"


class UncachedFormula(EngineError):
    code = "booklets.uncached_formula"


class BadPageRange(EngineError):
    code = "booklets.bad_page_range"
