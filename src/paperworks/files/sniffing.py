"""What a file is, told from its bytes: magic numbers, never the client's word or the name alone.

Pure functions over bytes and open files: no storage, no settings, no HTTP.

Binary formats have signatures. Office documents (xlsx, docx, pptx) are zip archives told apart by
their entries, read from the zip's central directory.

Text is UTF-8, or, for CSV only, a single-byte Western encoding (Windows-1252, which covers
Latin-1's letters): spreadsheet applications still save CSV that way, and the CSV reader decodes
it. Either way it has no NULs and no control characters but tab, line ends and form feed, so
binary data and UTF-16 (its zero bytes, or its byte order mark) are no text. Bytes cannot tell
CSV from plain text, so among text types the file name's extension decides (`content_type_for`);
single-byte text (`SINGLE_BYTE_TEXT`) is taken only with a `.csv` name.
"""

from __future__ import annotations

import codecs
import zipfile
from collections.abc import Collection
from typing import BinaryIO

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
ZIP = "application/zip"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
CSV = "text/csv"
TEXT = "text/plain"
JSON = "application/json"
SINGLE_BYTE_TEXT = "text/plain; charset=windows-1252"
"""What `sniff` says of Windows-1252 / Latin-1 text (not UTF-8): only ever stored as CSV."""

HEAD_BYTES = 8192
"""How much of a file's start sniffing reads (plus the zip directory for zip archives)."""

# The extensions a file of each type may carry. A name without an extension is fine.
EXTENSIONS: dict[str, frozenset[str]] = {
    PDF: frozenset({".pdf"}),
    PNG: frozenset({".png"}),
    JPEG: frozenset({".jpg", ".jpeg", ".jpe"}),
    GIF: frozenset({".gif"}),
    WEBP: frozenset({".webp"}),
    ZIP: frozenset({".zip"}),
    XLSX: frozenset({".xlsx"}),
    DOCX: frozenset({".docx"}),
    PPTX: frozenset({".pptx"}),
    CSV: frozenset({".csv"}),
    TEXT: frozenset({".txt", ".text", ".md", ".log"}),
    JSON: frozenset({".json"}),
}
KNOWN_TYPES = frozenset(EXTENSIONS)

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", PDF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
)
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")  # an archive with entries; an empty one
_OOXML_PARTS = (("xl/", XLSX), ("word/", DOCX), ("ppt/", PPTX))
_TEXT_CONTROLS = frozenset("\t\n\r\f")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # also the start of UTF-32's


def is_zip(head: bytes) -> bool:
    return head.startswith(_ZIP_SIGNATURES)


def sniff(head: bytes, zip_names: Collection[str] | None = None) -> str | None:
    """The content type of a file that starts with `head`, or None if it is none we know.

    For a zip archive pass its entry names (`zip_entry_names`); None means the archive could not
    be read, and an unreadable archive is no type we know."""
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if is_zip(head):
        return None if zip_names is None else _zip_type(zip_names)
    return _text_type(head)


def _zip_type(names: Collection[str]) -> str:
    if "[Content_Types].xml" in names:  # an Office Open XML package
        for folder, content_type in _OOXML_PARTS:
            if any(name.startswith(folder) for name in names):
                return content_type
    return ZIP


def _text_type(head: bytes) -> str | None:
    """TEXT or JSON for UTF-8 text, SINGLE_BYTE_TEXT for Windows-1252 text, else None."""
    if not head or b"\x00" in head or head.startswith(_UTF16_BOMS):
        return None
    try:
        # Not final: `head` may end inside a multi-byte character.
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        # Windows-1252 leaves five bytes undefined (Latin-1's C1 controls): those are no text.
        try:
            text = head.decode("cp1252")
        except UnicodeDecodeError:
            return None
        return SINGLE_BYTE_TEXT if _printable(text) else None
    if not _printable(text):
        return None
    return JSON if text.lstrip()[:1] in ("{", "[") else TEXT


def _printable(text: str) -> bool:
    return not any(char < " " and char not in _TEXT_CONTROLS for char in text)


def zip_entry_names(file: BinaryIO) -> list[str] | None:
    """The entry names of the zip archive in `file` (read from its central directory, nothing is
    decompressed), or None if it is not a readable archive."""
    try:
        with zipfile.ZipFile(file) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return None


def sniff_file(file: BinaryIO) -> str | None:
    """`sniff` on a seekable file, reading its start and, for a zip archive, its directory."""
    file.seek(0)
    head = file.read(HEAD_BYTES)
    names = None
    if is_zip(head):
        file.seek(0)
        names = zip_entry_names(file)
    return sniff(head, names)


def content_type_for(sniffed: str, extension: str) -> str | None:
    """The type a file is stored as: what its bytes say, refined among text types by its
    extension. None when the extension claims something else (a PDF named `.png`, an unknown
    extension, a `.json` file that is not JSON, single-byte text not named `.csv`)."""
    extension = extension.lower()
    if sniffed == SINGLE_BYTE_TEXT:
        return CSV if extension in EXTENSIONS[CSV] else None
    if not extension:
        return sniffed
    if sniffed in (TEXT, JSON):
        # Bytes cannot tell CSV from plain text, nor a JSON-looking text file from JSON.
        for content_type in (CSV, TEXT):
            if extension in EXTENSIONS[content_type]:
                return content_type
        return JSON if sniffed == JSON and extension in EXTENSIONS[JSON] else None
    return sniffed if extension in EXTENSIONS.get(sniffed, ()) else None
