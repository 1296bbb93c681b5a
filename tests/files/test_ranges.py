"""One byte range is served; what cannot be read is ignored; what lies past the end is a 416."""

from __future__ import annotations

import pytest

from paperworks.files.exceptions import RangeNotSatisfiable
from paperworks.files.ranges import byte_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("bytes=0-9", (0, 10)),
        ("bytes=5-", (5, 100)),
        ("bytes=90-200", (90, 100)),  # clipped to the end
        ("bytes=-10", (90, 100)),  # the last ten
        ("bytes=-500", (0, 100)),
        ("BYTES=1-1", (1, 2)),
        (" bytes=1-2 ", (1, 3)),
        # ignored: the whole file is sent
        ("bytes=0-1,5-6", None),
        ("items=0-9", None),
        ("bytes=9-2", None),
        ("bytes=200-100", None),
        ("bytes=-", None),
        ("bytes=a-b", None),
        ("bytes 0-9", None),
    ],
)
def test_a_single_range_is_understood(header: str | None, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=100-200", "bytes=-0"])
def test_a_range_past_the_end_is_unsatisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable) as info:
        byte_range(header, 100)
    assert info.value.headers["Content-Range"] == "bytes */100"
