"""Zip archives refused from their directory alone, before anything is inflated."""

from __future__ import annotations

import io
import zipfile

import pytest

from paperworks.kit.zip_safety import NotAZip, ZipTooLarge, open_checked_zip


def archive(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, data in members.items():
            zipped.writestr(name, data)
    return buffer.getvalue()


def test_a_plain_archive_opens() -> None:
    with open_checked_zip(archive({"a.xml": b"<a/>" * 1000})) as opened:
        assert opened.read("a.xml").startswith(b"<a/>")


@pytest.mark.parametrize(
    ("members", "limits", "message"),
    [
        ({"bomb.xml": b"\0" * (2 * 1024 * 1024)}, {}, "bomb.xml expands"),
        ({"big.xml": b"x" * 3000}, {"max_unpacked_bytes": 2000}, "too large when unpacked"),
        ({f"{n}.xml": b"" for n in range(4)}, {"max_members": 3}, "has more than 3 parts"),
    ],
    ids=["one member expands", "too large in all", "too many parts"],
)
def test_an_archive_too_big_to_unpack_is_refused(
    members: dict[str, bytes], limits: dict[str, int], message: str
) -> None:
    with pytest.raises(ZipTooLarge, match=message) as refused:
        open_checked_zip(archive(members), **limits)
    assert not str(refused.value)[0].isupper()  # a predicate: callers name the archive


def test_bytes_that_are_not_a_zip_are_refused() -> None:
    with pytest.raises(NotAZip):
        open_checked_zip(b"PK\x03\x04 not really")
