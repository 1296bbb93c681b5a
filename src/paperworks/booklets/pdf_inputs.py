"""Opening a PDF someone uploaded: corrupt and encrypted files become clear engine errors.

qpdf (through pikepdf) repairs what it can, as every viewer does; a file it cannot read, or that has
no pages, is corrupt. A file with only an owner password (printing/editing restrictions) opens;
one that needs a user password to open is `EncryptedPdf`.
"""

from __future__ import annotations

import io
import re

import pikepdf

from paperworks.booklets.engine_errors import CorruptPdf, EncryptedPdf


def open_pdf(data: bytes, *, name: str = "the PDF") -> pikepdf.Pdf:
    """The PDF in `data`, opened; `name` says which file in the error messages."""
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError as exc:
        raise EncryptedPdf(
            f"{name} is encrypted with a password; upload an unprotected copy."
        ) from exc
    except (pikepdf.PdfError, ValueError, OSError) as exc:
        raise CorruptPdf(f"{name} is not a readable PDF: {qpdf_reason(exc)}") from exc
    try:
        page_count = len(pdf.pages)
    except pikepdf.PdfError as exc:
        raise CorruptPdf(f"{name} is not a readable PDF: {qpdf_reason(exc)}") from exc
    if page_count == 0:
        raise CorruptPdf(f"{name} has no pages.")
    return pdf


# qpdf names the file it read (a BytesIO here) and where in it: `stream <_io.BytesIO object at
# 0x7f...> (object 3 0, offset 120): `, which tells a user nothing.
_QPDF_PREFIX = re.compile(r"^.*?<_io\.BytesIO object at 0x[0-9a-f]+>(?:\s*\([^)]*\))?:\s*")


def qpdf_reason(exc: Exception) -> str:
    """qpdf's reason for an error, without the name of the in-memory file it read."""
    return _QPDF_PREFIX.sub("", str(exc)) or "unreadable"
