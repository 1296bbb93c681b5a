"""HTTP byte ranges (RFC 9110 §14): the one range a download is asked for, if any.

One range is served (`bytes=a-b`, `bytes=a-`, `bytes=-n`). Several ranges, other units or a header
we cannot read get the whole file: RFC 9110 lets a server ignore `Range`, and nobody needs
`multipart/byteranges` from us.
"""

from __future__ import annotations

import re

from paperworks.files.exceptions import RangeNotSatisfiable

_SINGLE_RANGE = re.compile(r"bytes=(\d{0,19})-(\d{0,19})", re.IGNORECASE)


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """`[start, end)` of a file of `size` bytes that the `Range` header asks for; None for the
    whole file. Raises `RangeNotSatisfiable` for a range that starts past the end."""
    match = _SINGLE_RANGE.fullmatch(header.strip()) if header else None
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        if not last:
            return None  # "bytes=-" says nothing
        suffix = int(last)  # the last `suffix` bytes
        if suffix == 0:
            raise _unsatisfiable(size)
        return max(size - suffix, 0), size
    start = int(first)
    if last and int(last) < start:
        return None  # invalid: ignored, as RFC 9110 says
    if start >= size:
        raise _unsatisfiable(size)
    return start, size if not last else min(int(last) + 1, size)


def _unsatisfiable(size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(
        f"The file has {size} bytes; the requested range lies outside them.",
        headers={"Content-Range": f"bytes */{size}"},
    )
