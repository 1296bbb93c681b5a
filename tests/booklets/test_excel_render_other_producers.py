"""The worksheet-to-PDF engine on what Excel, LibreOffice and other applications write and
openpyxl's own files seldom hold: built-in number format ids without a format code, the 1904
date system, right-to-left sheets.

Workbooks are made with openpyxl and their XML edited in the zip where it must say what openpyxl
never writes.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from typing import Any

import openpyxl
import pdfplumber
from openpyxl.styles import Border, PatternFill, Side
from openpyxl.styles.numbers import BUILTIN_FORMATS
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from paperworks.booklets.excel_render import render_sheet

RIGHT_EDGE = 595.28 - 0.75 * 72  # A4 portrait less openpyxl's default right margin


def save(workbook: Any) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def edit_parts(xlsx: bytes, edits: dict[str, Callable[[str], str]]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = source.read(item)
            if item.filename in edits:
                body = edits[item.filename](body.decode()).encode()
            target.writestr(item.filename, body)
    return out.getvalue()


def words(pdf: bytes, page: int = 0) -> list[dict[str, Any]]:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return list(document.pages[page].extract_words())


def lines(pdf: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return (document.pages[0].extract_text() or "").splitlines()


def word(pdf: bytes, text: str, page: int = 0) -> dict[str, Any]:
    found = [w for w in words(pdf, page) if w["text"] == text]
    assert found, f"{text!r} not on page {page + 1}: {[w['text'] for w in words(pdf, page)]}"
    return found[0]


def test_excel_accounting_and_tenths_of_a_second_builtins_are_shown_as_excel_shows_them() -> None:
    """Excel's Accounting button gives numFmtId 44 with no format code in styles.xml; openpyxl's
    table has that code without its section separators (and 47 without its colon)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.column_dimensions["A"].width = 20
    for row, value in enumerate([1234.5, -1234.5, 0], start=1):
        sheet.cell(row=row, column=1, value=value).number_format = BUILTIN_FORMATS[44]
    sheet["A4"] = dt.time(13, 2, 29, 760_000)
    sheet["A4"].number_format = BUILTIN_FORMATS[47]
    xlsx = save(workbook)
    assert 'numFmtId="44"' in zipfile.ZipFile(io.BytesIO(xlsx)).read("xl/styles.xml").decode()

    pdf = render_sheet(xlsx, "Sheet")

    assert lines(pdf) == ["$ 1,234.50", "$ (1,234.50)", "$ -", "02:29.8"]
    # The currency sign sits at the cell's left edge, the amount at its right.
    assert word(pdf, "$")["x0"] < word(pdf, "1,234.50")["x0"] - 50


def test_locale_builtin_date_and_time_ids_read_in_the_workbooks_date_system() -> None:
    """Ids Excel keeps for a locale's own dates and times (East Asian 27-36 and 50-58, Thai
    71-81) have no code in openpyxl: they show as the short date and the time, as LibreOffice
    shows them, and a 1904 workbook's serials count from 1904."""
    workbook = openpyxl.Workbook()
    workbook.epoch = CALENDAR_MAC_1904
    sheet = workbook.active
    sheet["A1"] = 45351.5  # 2028-03-01 12:00 counted from 1904-01-01
    sheet["A1"].number_format = "0.00"  # built-in 2, made 57 below
    sheet["A2"] = 0.25
    sheet["A2"].number_format = "0%"  # built-in 9, made 33 below
    sheet["A3"] = 45351.5
    sheet["A3"].number_format = "0.00E+00"  # built-in 11, made 71 below

    def locale_ids(styles: str) -> str:
        styles = re.sub(r'numFmtId="2"', 'numFmtId="57"', styles)
        styles = re.sub(r'numFmtId="9"', 'numFmtId="33"', styles)
        return re.sub(r'numFmtId="11"', 'numFmtId="71"', styles)

    xlsx = edit_parts(save(workbook), {"xl/styles.xml": locale_ids})
    assert 'date1904="1"' in zipfile.ZipFile(io.BytesIO(xlsx)).read("xl/workbook.xml").decode()

    assert lines(render_sheet(xlsx, "Sheet")) == ["2028-03-01", "6:00:00", "2028-03-01"]


def right_to_left(sheet: Any) -> None:
    sheet.sheet_view.rightToLeft = True
    sheet["A1"] = "first"
    sheet["A1"].border = Border(left=Side(style="thick"))
    sheet["B1"] = "second"
    sheet["C1"] = "third"


def test_a_right_to_left_sheet_prints_mirrored_from_the_right_margin() -> None:
    workbook = openpyxl.Workbook()
    right_to_left(workbook.active)
    pdf = render_sheet(save(workbook), "Sheet")

    first, second, third = (word(pdf, text) for text in ("first", "second", "third"))
    assert third["x0"] < second["x0"] < first["x0"]
    column = 64 * 0.75  # the default width, 8.43 characters
    assert abs(first["x0"] - (RIGHT_EDGE - column) - 1.5) < 1
    # A1's left border is drawn on its right side, along the right margin.
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        edges = [line["x0"] for line in document.pages[0].lines if line["linewidth"] > 1.5] + [
            rect["x0"] for rect in document.pages[0].rects if rect["width"] < 3
        ]
    assert edges
    assert all(abs(x - RIGHT_EDGE) < 2 for x in edges)


def test_a_wide_right_to_left_sheet_starts_with_column_a_on_the_right() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.sheet_view.rightToLeft = True
    for col in range(1, 21):
        sheet.cell(row=1, column=col, value=f"c{col}")
    pdf = render_sheet(save(workbook), "Sheet", fit_to_width=False)

    first = words(pdf, 0)
    assert [w["text"] for w in sorted(first, key=lambda w: -w["x0"])][:3] == ["c1", "c2", "c3"]
    assert max(w["x1"] for w in first) > RIGHT_EDGE - 48
    assert "c20" in [w["text"] for w in words(pdf, 1)]


def test_cells_the_file_does_not_store_take_their_rows_or_columns_format() -> None:
    """Excel fills a whole row or column by formatting the row or column (<row s=".."
    customFormat="1">, <col style="..">) and stores only the cells with content."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in range(1, 5):
        sheet.append([f"r{row}", row, None, row * 2])
    sheet.row_dimensions[3].fill = PatternFill("solid", fgColor="FFFF00")
    sheet.column_dimensions["C"].fill = PatternFill("solid", fgColor="00FF00")
    pdf = render_sheet(save(workbook), "Sheet")

    with pdfplumber.open(io.BytesIO(pdf)) as document:
        fills = [
            (tuple(rect["non_stroking_color"]), rect["x0"], rect["top"])
            for rect in document.pages[0].rects
            if rect["fill"]
        ]
    b_right, d_left = word(pdf, "1")["x1"], word(pdf, "2")["x0"]
    in_c = [(colour, top) for colour, x0, top in fills if b_right < x0 < d_left]
    # C1..C4 are green from their column, but C3 yellow: the row's format comes first.
    assert [colour for colour, top in sorted(in_c, key=lambda item: item[1])] == [
        (0, 1, 0),
        (0, 1, 0),
        (1, 1, 0),
        (0, 1, 0),
    ]
