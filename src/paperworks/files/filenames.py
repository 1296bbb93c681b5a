"""File names as users see them: sanitised on the way in, quoted safely on the way out.

A stored name is only ever shown and offered as a download name, never used as a path (the bytes
live under a key made of ids), but it still must not smuggle a path, a control character or a
right-to-left override into someone's download.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from urllib.parse import quote

from paperworks.files.models import FILENAME_LENGTH

FALLBACK_NAME = "file"
MAX_EXTENSION_CHARS = 16
# Slashes in both conventions, and their full-width look-alikes.
_SEPARATORS = re.compile(r"[/\\\uff0f\uff3c]")
# Reserved on Windows, or quoting trouble in a header.
_RESERVED = frozenset('<>:"|?*')


def safe_filename(raw: str | None) -> str:
    """The last path segment of `raw`, without control or format characters (bidi overrides
    included), reserved characters replaced by `_`, whitespace collapsed, no leading or
    trailing dots or spaces, at most 255 bytes of UTF-8; `file` if nothing is left.

    `../../etc/passwd` -> `passwd`, `C:\\Users\\a\\report.pdf` -> `report.pdf`."""
    name = unicodedata.normalize("NFC", raw or "")
    segments = [segment for segment in _SEPARATORS.split(name) if segment.strip(" .")]
    name = segments[-1] if segments else ""
    kept: list[str] = []
    for char in name:
        category = unicodedata.category(char)
        if char.isspace():  # tabs, line breaks, every kind of space
            char = " "
        elif category.startswith("C"):  # control, format, surrogate, private use, unassigned
            continue
        elif char in _RESERVED:
            char = "_"
        kept.append(char)
    name = " ".join("".join(kept).split()).strip(" .")
    return _truncate(name) or FALLBACK_NAME


def _truncate(name: str) -> str:
    if len(name.encode()) <= FILENAME_LENGTH:
        return name
    stem, extension = posixpath.splitext(name)
    if len(extension) > MAX_EXTENSION_CHARS:
        stem, extension = name, ""
    room = FILENAME_LENGTH - len(extension.encode())
    stem = stem.encode()[:room].decode(errors="ignore").rstrip(" .")
    return stem + extension


def extension_of(filename: str) -> str:
    """`.pdf` for `report.PDF`... lower-cased; empty for a name without one."""
    return posixpath.splitext(filename)[1].lower()


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """A `Content-Disposition` value with an ASCII fallback and the UTF-8 name (RFC 6266)."""
    fallback = "".join(
        char if " " <= char < "\x7f" and char not in '"\\%' else "_" for char in filename
    )
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
