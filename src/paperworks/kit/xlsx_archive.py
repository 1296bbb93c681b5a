"""The zip inside an uploaded XLSX workbook, checked before any sheet is read: not an old .xls
or a password-protected one (both OLE containers), not a bomb (`kit.zip_safety`), not a zip of
something else (a Word document, a binary .xlsb).

Refusals are full sentences for the user; each product wraps them in its own error code:

    try:
        archive = open_xlsx_archive(data)
    except WorkbookTooLarge as exc: ...
    except NotAWorkbook as exc: ...   # EncryptedWorkbook among them
"""

from __future__ import annotations

import re
import zipfile
import zlib

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]

from paperworks.kit.zip_safety import MAX_UNPACKED_BYTES, NotAZip, ZipTooLarge, open_checked_zip

# What reading a damaged part of the zip raises: a bad header or CRC, broken deflate data, a
# part encrypted or packed by a method zipfile lacks (NotImplementedError, a RuntimeError).
DAMAGED_ZIP = (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError)

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptionInfo".encode("utf-16-le")
_MAIN_PART = re.compile(rb"(?:spreadsheetml|ms-excel)\.(?:sheet|template|addin)[\w.]*\.main\+xml")
_BINARY_PART = re.compile(rb"ms-excel\.sheet\.binary")


class NotAWorkbook(ValueError):
    """Not an XLSX workbook we can read; the message says why and what to do."""


class EncryptedWorkbook(NotAWorkbook):
    """A password-protected workbook (an OLE container holding an encrypted package)."""


class WorkbookTooLarge(ValueError):
    """Its parts would unpack too big, or into too many parts (a zip bomb)."""


def is_ole(data: bytes) -> bool:
    """An OLE container: an old .xls workbook, or an encrypted .xlsx."""
    return data.startswith(_OLE_MAGIC)


# A workbook's XML is the user's: its readers parse it with defusedxml (openpyxl does whenever
# defusedxml is installed), which refuses entity declarations before expat expands any.
UNSAFE_XML = (
    "its XML declares entities (a billion laughs, or external files), which spreadsheet "
    "applications never write; it is refused as unsafe"
)


def _refused_as_unsafe(exc: BaseException | None) -> bool:
    """Whether defusedxml refused it, somewhere down the chain (openpyxl wraps its errors)."""
    for _ in range(5):
        if exc is None:
            return False
        if isinstance(exc, DefusedXmlException):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def reason(exc: BaseException) -> str:
    """The first line of what a reader raised, for a message that says why."""
    if _refused_as_unsafe(exc):
        return UNSAFE_XML
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def open_xlsx_archive(
    data: bytes, *, max_unpacked_bytes: int = MAX_UNPACKED_BYTES
) -> zipfile.ZipFile:
    """The workbook's zip, open; the caller closes it."""
    if is_ole(data):
        if _ENCRYPTED_STREAM in data:
            raise EncryptedWorkbook(
                "The workbook is protected by a password; save it again without one."
            )
        raise NotAWorkbook("The file is an old .xls workbook; save it as .xlsx.")
    try:
        archive = open_checked_zip(data, max_unpacked_bytes=max_unpacked_bytes)
    except NotAZip as exc:
        raise NotAWorkbook("The file is not an XLSX workbook (it is not a zip archive).") from exc
    except ZipTooLarge as exc:
        raise WorkbookTooLarge(f"The workbook {exc}.") from exc
    try:
        _check_parts(archive)
    except BaseException:
        archive.close()
        raise
    return archive


def _check_parts(archive: zipfile.ZipFile) -> None:
    try:
        types = archive.read("[Content_Types].xml")
    except KeyError as exc:
        raise NotAWorkbook("The file is a zip archive but not an XLSX workbook.") from exc
    except (ValueError, *DAMAGED_ZIP) as exc:
        raise NotAWorkbook(f"The workbook cannot be read: {reason(exc)}") from exc
    if _BINARY_PART.search(types):
        raise NotAWorkbook("Binary .xlsb workbooks are not supported; save it as .xlsx.")
    if not _MAIN_PART.search(types):
        raise NotAWorkbook(
            "The file is not an Excel workbook (it may be a Word or PowerPoint document)."
        )
