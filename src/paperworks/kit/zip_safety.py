"""Opening an uploaded zip archive (XLSX, DOCX, PPTX are zips) without unpacking a bomb.

The archive is refused from its directory alone, before anything is inflated: too many members,
too many bytes once unpacked, or a member that expands suspiciously much. Declared sizes are
enough: Python's zipfile never inflates a member past its declared size.

A refusal's message is a predicate ("is too large when unpacked ..."), so each caller says what
the archive was to its user: `f"The workbook {exc}."`.
"""

from __future__ import annotations

import io
import zipfile

MAX_MEMBERS = 10_000
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
# A member may expand up to this ratio; small members are not checked (XML compresses well).
MAX_RATIO = 100
RATIO_CHECKED_FROM = 1024 * 1024


class NotAZip(ValueError):
    """The bytes are not a readable zip archive."""


class ZipTooLarge(ValueError):
    """The archive would unpack too big (or into too many parts); the message is a predicate."""


def open_checked_zip(
    data: bytes,
    *,
    max_members: int = MAX_MEMBERS,
    max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
    max_ratio: int = MAX_RATIO,
    ratio_checked_from: int = RATIO_CHECKED_FROM,
) -> zipfile.ZipFile:
    """The zip in `data`, open, once its directory says it is safe to read; the caller closes it."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise NotAZip("The file is not a zip archive.") from exc
    try:
        check_sizes(
            members,
            max_members=max_members,
            max_unpacked_bytes=max_unpacked_bytes,
            max_ratio=max_ratio,
            ratio_checked_from=ratio_checked_from,
        )
    except BaseException:
        archive.close()
        raise
    return archive


def check_sizes(
    members: list[zipfile.ZipInfo],
    *,
    max_members: int = MAX_MEMBERS,
    max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
    max_ratio: int = MAX_RATIO,
    ratio_checked_from: int = RATIO_CHECKED_FROM,
) -> None:
    """Raise `ZipTooLarge` when the members' declared sizes go over any of the limits."""
    if len(members) > max_members:
        raise ZipTooLarge(f"has more than {max_members} parts")
    total = sum(member.file_size for member in members)
    if total > max_unpacked_bytes:
        raise ZipTooLarge(
            f"is too large when unpacked ({total // (1024 * 1024)} MB; "
            f"the limit is {max_unpacked_bytes // (1024 * 1024)} MB)"
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > ratio_checked_from and ratio > max_ratio:
            raise ZipTooLarge(
                f"is too large when unpacked: {member.filename} expands {ratio:.0f} times"
            )
