"""What the pure extraction engines (PDF, XLSX, CSV readers) raise about their input.

Engines import libraries only, so they cannot raise the platform's `AppError`; the service turns
each of these into a 422 problem (or a failed job) with the same stable `code`.
"""

from __future__ import annotations


class ExtractionError(Exception):
    """Input an extraction engine cannot use; `code` is a stable machine string."""

    code = "extraction.bad_input"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- spreadsheets (CSV, XLSX) ---


class BadCsv(ExtractionError):
    """Not a CSV we can read: binary content, or an encoding we cannot decode."""

    code = "extraction.bad_csv"


class CsvTooLarge(ExtractionError):
    """A CSV over a cap: a line or cell too long, too many rows, columns or bytes."""

    code = "extraction.csv_too_large"


class BadWorkbook(ExtractionError):
    """Not an XLSX workbook: not a zip, a zip of something else, damaged, .xls or .xlsb."""

    code = "extraction.bad_workbook"


class EncryptedWorkbook(ExtractionError):
    """A password-protected workbook (an OLE container holding an encrypted package)."""

    code = "extraction.encrypted_workbook"


class WorkbookTooLarge(ExtractionError):
    """A workbook whose parts unpack too big (a zip bomb) or whose sheets hold too many cells."""

    code = "extraction.workbook_too_large"


# --- PDF ---


class CorruptPdf(ExtractionError):
    """Not a PDF we can read: not a PDF at all, truncated or damaged beyond repair."""

    code = "extraction.corrupt_pdf"


class EncryptedPdf(ExtractionError):
    """A PDF that needs a password to be read (an owner password alone is not a problem)."""

    code = "extraction.encrypted_pdf"


class PdfTooLarge(ExtractionError):
    """A PDF whose selected pages are more than the page cap."""

    code = "extraction.pdf_too_large"


class BadPageSelection(ExtractionError):
    """Pages asked for that the document does not have (0, negative, or past its end)."""

    code = "extraction.bad_page_selection"
