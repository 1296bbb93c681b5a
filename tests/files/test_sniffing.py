"""Sniffing tells a file's type from its bytes; the extension only chooses among text types."""

from __future__ import annotations

import codecs
import io

import pytest

from paperworks.files import sniffing
from tests.files import samples


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (samples.pdf(), sniffing.PDF),
        (samples.png(), sniffing.PNG),
        (samples.jpeg(), sniffing.JPEG),
        (samples.gif(), sniffing.GIF),
        (b"GIF87a" + b"\x00" * 8, sniffing.GIF),
        (samples.webp(), sniffing.WEBP),
        (samples.xlsx(), sniffing.XLSX),
        (samples.docx(), sniffing.DOCX),
        (samples.pptx(), sniffing.PPTX),
        (samples.plain_zip(), sniffing.ZIP),
        (samples.CSV, sniffing.TEXT),
        (samples.TEXT, sniffing.TEXT),
        (samples.JSON, sniffing.JSON),
        (b"\xef\xbb\xbf  [1, 2]", sniffing.JSON),  # a BOM and whitespace first
        (b"\r\n\tindented\n", sniffing.TEXT),
    ],
)
def test_each_type_is_recognised_from_its_bytes(data: bytes, expected: str) -> None:
    assert sniffing.sniff_file(io.BytesIO(data)) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01\x02\x03binary",
        b"text with a NUL\x00 inside",
        b"text with a bell \x07",
        b"\xff\xfeu\x00t\x00f\x00-\x001\x006\x00",  # UTF-16 is not text we take
        "中文数据".encode("utf-16"),  # not even without zero bytes: its BOM tells it
        codecs.BOM_UTF16_BE + "中文数据".encode("utf-16-be"),
        b"caf\xe9 with a bell \x07",  # single-byte text has no controls either
        b"caf\xe9 \x81",  # undefined in Windows-1252: a Latin-1 C1 control
        b"RIFF\x00\x00\x00\x00WAVEfmt ",  # RIFF, but audio
        b"PK\x03\x04 not really a zip",
        b"MZ\x90\x00\x03\x00\x00\x00",  # a Windows executable
    ],
)
def test_unknown_or_broken_content_is_no_type(data: bytes) -> None:
    assert sniffing.sniff_file(io.BytesIO(data)) is None


@pytest.mark.parametrize(
    "data",
    [
        samples.CSV_CP1252,
        "café;naïve;Ærø\n".encode("latin-1"),
    ],
)
def test_text_in_windows_1252_or_latin_1_is_single_byte_text(data: bytes) -> None:
    assert sniffing.sniff_file(io.BytesIO(data)) == sniffing.SINGLE_BYTE_TEXT


def test_a_multi_byte_character_cut_at_the_sniffing_window_is_still_text() -> None:
    data = b"a" * (sniffing.HEAD_BYTES - 1) + "é".encode()  # "é" straddles the window's end
    assert sniffing.sniff_file(io.BytesIO(data)) == sniffing.TEXT


def test_office_files_are_told_apart_by_their_zip_directory_not_their_first_bytes() -> None:
    # openpyxl writes [Content_Types].xml last; a big first entry pushes every name far out.
    data = samples.xlsx(content_types_last=True, padding=4 * sniffing.HEAD_BYTES)
    assert b"[Content_Types].xml" not in data[: sniffing.HEAD_BYTES]
    assert sniffing.sniff_file(io.BytesIO(data)) == sniffing.XLSX


def test_a_zip_with_office_folders_but_no_content_types_is_just_a_zip() -> None:
    assert sniffing.sniff(b"PK\x03\x04", ["xl/workbook.xml"]) == sniffing.ZIP
    assert sniffing.sniff(b"PK\x03\x04", None) is None  # unreadable archive


@pytest.mark.parametrize(
    ("sniffed", "extension", "expected"),
    [
        (sniffing.PDF, ".pdf", sniffing.PDF),
        (sniffing.PDF, ".PDF", sniffing.PDF),
        (sniffing.PDF, "", sniffing.PDF),
        (sniffing.JPEG, ".jpg", sniffing.JPEG),
        (sniffing.JPEG, ".jpeg", sniffing.JPEG),
        (sniffing.XLSX, ".xlsx", sniffing.XLSX),
        (sniffing.TEXT, ".csv", sniffing.CSV),
        (sniffing.TEXT, ".txt", sniffing.TEXT),
        (sniffing.TEXT, "", sniffing.TEXT),
        (sniffing.JSON, ".json", sniffing.JSON),
        (sniffing.JSON, ".txt", sniffing.TEXT),  # JSON-looking notes stay notes
        (sniffing.JSON, ".csv", sniffing.CSV),
        (sniffing.JSON, "", sniffing.JSON),
        (sniffing.SINGLE_BYTE_TEXT, ".csv", sniffing.CSV),
        (sniffing.SINGLE_BYTE_TEXT, ".CSV", sniffing.CSV),
        # mismatches
        (sniffing.PDF, ".png", None),
        (sniffing.PNG, ".jpg", None),
        (sniffing.XLSX, ".docx", None),
        (sniffing.ZIP, ".xlsx", None),
        (sniffing.PDF, ".html", None),
        (sniffing.PDF, ".exe", None),
        (sniffing.TEXT, ".json", None),  # says JSON, is not
        (sniffing.TEXT, ".pdf", None),
        (sniffing.TEXT, ".html", None),
        # text that is not UTF-8 is only ever a CSV file
        (sniffing.SINGLE_BYTE_TEXT, ".txt", None),
        (sniffing.SINGLE_BYTE_TEXT, ".json", None),
        (sniffing.SINGLE_BYTE_TEXT, "", None),
    ],
)
def test_the_extension_must_agree_with_the_bytes(
    sniffed: str, extension: str, expected: str | None
) -> None:
    assert sniffing.content_type_for(sniffed, extension) == expected
