"""The XLSX zip check both workbook readers (booklets' renderer, extraction's tables) share."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from paperworks.kit.xlsx_archive import (
    EncryptedWorkbook,
    NotAWorkbook,
    WorkbookTooLarge,
    open_xlsx_archive,
)

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def zipped(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    return out.getvalue()


def test_a_workbook_opens() -> None:
    out = io.BytesIO()
    openpyxl.Workbook().save(out)
    with open_xlsx_archive(out.getvalue()) as archive:
        assert "[Content_Types].xml" in archive.namelist()


@pytest.mark.parametrize(
    ("data", "refused", "says"),
    [
        (OLE + b"..." + "EncryptionInfo".encode("utf-16-le"), EncryptedWorkbook, "password"),
        (OLE + b"old workbook", NotAWorkbook, ".xls workbook"),
        (b"plain text", NotAWorkbook, "not a zip archive"),
        (zipped({"readme.txt": b"hi"}), NotAWorkbook, "not an XLSX workbook"),
        (
            zipped({"[Content_Types].xml": b"application/vnd.ms-excel.sheet.binary.macroEnabled"}),
            NotAWorkbook,
            ".xlsb",
        ),
        (
            zipped({"[Content_Types].xml": b"wordprocessingml.document.main+xml"}),
            NotAWorkbook,
            "Word or PowerPoint",
        ),
    ],
)
def test_what_is_no_readable_workbook_is_refused_with_a_reason(
    data: bytes, refused: type[Exception], says: str
) -> None:
    with pytest.raises(refused) as caught:
        open_xlsx_archive(data)
    assert says in str(caught.value)


def test_a_bomb_is_refused_before_it_is_unpacked() -> None:
    bomb = zipped({"[Content_Types].xml": b"spreadsheetml.sheet.main+xml", "x.xml": b"0" * 4096})
    with pytest.raises(WorkbookTooLarge, match=r"^The workbook "):
        open_xlsx_archive(bomb, max_unpacked_bytes=1024)
