"""CSV and XLSX files in, tables out: encodings, dialects, sheet splitting, merges, formulas,
and the bad files a user may upload (a 50 MB line, a zip bomb, not a workbook at all)."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from datetime import time as clock

import openpyxl
import pytest

from paperworks.extraction import spreadsheets
from paperworks.extraction.engine_errors import (
    BadCsv,
    BadWorkbook,
    CsvTooLarge,
    EncryptedWorkbook,
    WorkbookTooLarge,
)
from paperworks.extraction.spreadsheets import read_csv, read_xlsx
from paperworks.extraction.tables import Cell, Issue

# --- CSV ---

STATEMENT = [["Date", "Payee", "Amount"], ["31.03.2026", "Müller & Söhne", "1.234,50"]]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            "Date,Payee,Amount\n2026-03-31,Café,12.50\n".encode(),
            [["Date", "Payee", "Amount"], ["2026-03-31", "Café", "12.50"]],
            id="utf8-comma",
        ),
        pytest.param(
            b"\xef\xbb\xbf"
            + "Date;Payee;Amount\r\n31.03.2026;Müller & Söhne;1.234,50\r\n".encode(),
            STATEMENT,
            id="utf8-bom-semicolon-crlf",
        ),
        pytest.param(
            "Date\tPayee\tAmount\n31.03.2026\tMüller & Söhne\t1.234,50\n".encode("utf-16"),
            STATEMENT,
            id="utf16-bom-tab",
        ),
        pytest.param(
            "Date|Payee|Amount\n31.03.2026|Müller & Söhne|1.234,50\n".encode("cp1252"),
            STATEMENT,
            id="cp1252-pipe",
        ),
        pytest.param(
            "Date;Payee;Amount\n31.03.2026;Müller & Söhne;1.234,50\n".encode("utf-16-le"),
            STATEMENT,
            id="utf16le-without-bom",
        ),
        pytest.param(
            "Item;Price\nEuro sign €;1,5\n„quoted“;2,5\n".encode("cp1252"),
            [["Item", "Price"], ["Euro sign €", "1,5"], ["„quoted“", "2,5"]],
            id="cp1252-specials-decimal-commas",
        ),
    ],
)
def test_csv_encodings_and_delimiters(data: bytes, expected: list[list[str]]) -> None:
    table = read_csv(data)
    assert (table.page, table.index, table.sheet) == (1, 0, None)
    assert table.grid() == expected


def test_csv_quoted_separators_newlines_and_doubled_quotes() -> None:
    data = b'Name,Note,Amount\n"Smith, John","line one\nline two",3\n"say ""hi""",,4\n'
    table = read_csv(data)
    assert table.grid() == [
        ["Name", "Note", "Amount"],
        ["Smith, John", "line one\nline two", "3"],
        ['say "hi"', "", "4"],
    ]
    # Blank cells are not listed; the grid fills them.
    assert Cell(row=2, col=1, text="") not in table.cells
    assert len(table.cells) == 8


def test_csv_space_after_delimiter_still_honours_quotes() -> None:
    table = read_csv(b'a, b, c\n1, "2, 5", 3\n')
    assert table.grid() == [["a", "b", "c"], ["1", "2, 5", "3"]]


def test_csv_ragged_rows_are_padded_and_trailing_blank_lines_dropped() -> None:
    table = read_csv(b"a,b,c\n1,2\n1,2,3,4\n\n\n")
    assert (table.n_rows, table.n_cols) == (3, 4)
    assert table.grid() == [["a", "b", "c", ""], ["1", "2", "", ""], ["1", "2", "3", "4"]]


def test_csv_single_column() -> None:
    table = read_csv(b"Name\nAlice\nBob\n")
    assert table.grid() == [["Name"], ["Alice"], ["Bob"]]


def test_empty_csv_is_an_empty_table_with_an_issue() -> None:
    table = read_csv(b"\n\n")
    assert (table.n_rows, table.n_cols, table.cells) == (0, 0, [])
    assert [issue.code for issue in table.issues] == ["empty_file"]


def test_csv_of_one_50_mb_line_fails_before_it_is_decoded_or_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def never(*_: object) -> None:
        raise AssertionError("the line is measured before any decoding or parsing")

    monkeypatch.setattr(spreadsheets, "decode_text", never)
    monkeypatch.setattr(spreadsheets, "_parse_rows", never)
    data = b"a," * (25 * 1024 * 1024)
    with pytest.raises(CsvTooLarge) as caught:
        read_csv(data)
    assert caught.value.code == "extraction.csv_too_large"
    assert "line of 51200 KB" in caught.value.message


def test_csv_cell_over_the_limit_fails() -> None:
    # Under the line cap: a quoted cell spread over many short lines.
    data = b'a,b\n"' + b"x\n" * 40_000 + b'",1\n'
    with pytest.raises(CsvTooLarge) as caught:
        read_csv(data)
    assert caught.value.code == "extraction.csv_too_large"


def test_csv_binary_or_other_formats_are_refused() -> None:
    with pytest.raises(BadCsv, match="PDF"):
        read_csv(b"%PDF-1.7\n...")
    with pytest.raises(BadCsv, match="zip"):
        read_csv(b"PK\x03\x04rest")
    with pytest.raises(BadCsv) as caught:
        read_csv(b"abc\x00def,ghi\n1,2\n")
    assert caught.value.code == "extraction.bad_csv"


# --- XLSX ---


def _xlsx(book: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _edit_sheet_xml(data: bytes, edit: object) -> bytes:
    """The workbook with its first sheet's XML passed through `edit`."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for member in source.infolist():
            body = source.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                body = edit(body)  # type: ignore[operator]
            copy.writestr(member, body)
    return out.getvalue()


def test_xlsx_two_tables_split_by_an_empty_row_and_a_side_block() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Report"
    sheet.append(["Item", "Qty"])
    sheet.append(["Pen", 3])
    sheet.append([])
    sheet.append(["Region", "Sales"])
    sheet.append(["North", 1234.5])
    sheet["E1"] = "Notes"
    sheet["E2"] = "checked"
    tables = read_xlsx(_xlsx(book))
    assert [(t.page, t.index, t.sheet) for t in tables] == [
        (1, 0, "Report"),
        (1, 1, "Report"),
        (1, 2, "Report"),
    ]
    assert [t.grid() for t in tables] == [
        [["Item", "Qty"], ["Pen", "3"]],
        [["Notes"], ["checked"]],
        [["Region", "Sales"], ["North", "1234.5"]],
    ]


def test_xlsx_title_rows_and_a_blank_row_inside_the_data_stay_one_table() -> None:
    """A sheet as people keep them: a title over the table (merged across it) and a date
    line, a blank row, the header, the data with a blank row in it, and a note far aside."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "Sales Q3 2026 - North"
    sheet.merge_cells("A1:C1")
    sheet["A2"] = "As of 1 October"
    sheet.append([])
    sheet.append(["Date", "Customer", "Amount"])
    sheet.append([date(2026, 7, 3), "Miller Ltd", 1234.5])
    sheet.append([])
    sheet.append([date(2026, 8, 1), "Weber KG", -120])
    sheet["H20"] = "checked by AS"
    (table,) = read_xlsx(_xlsx(book))
    assert table.grid() == [
        ["Sales Q3 2026 - North", "", ""],
        ["As of 1 October", "", ""],
        ["", "", ""],
        ["Date", "Customer", "Amount"],
        ["2026-07-03", "Miller Ltd", "1234.5"],
        ["", "", ""],
        ["2026-08-01", "Weber KG", "-120"],
    ]


def test_xlsx_merged_cells_are_one_cell_with_spans_and_are_never_split() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "Quarter report"
    sheet.merge_cells("A1:C1")
    sheet.append(["Region", "Q1", "Q2"])
    sheet["A3"] = "North"
    sheet.merge_cells("A3:A4")
    sheet["B3"], sheet["C3"], sheet["B4"], sheet["C4"] = 1, 2, 3, 4
    # A merge down an otherwise empty column E keeps the block together.
    sheet["D2"] = "Total"
    (table,) = read_xlsx(_xlsx(book))
    assert (table.n_rows, table.n_cols) == (4, 4)
    assert Cell(row=0, col=0, text="Quarter report", col_span=3) in table.cells
    assert Cell(row=2, col=0, text="North", row_span=2) in table.cells
    assert table.grid() == [
        ["Quarter report", "", "", ""],
        ["Region", "Q1", "Q2", "Total"],
        ["North", "1", "2", ""],
        ["", "3", "4", ""],
    ]


def test_xlsx_values_are_plain_text_dates_iso_booleans() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["date", "datetime", "time", "number", "float", "big", "bool", "percent"])
    sheet.append(
        [
            date(2026, 3, 31),
            datetime(2026, 3, 31, 14, 30),  # noqa: DTZ001 - a workbook has no time zones
            clock(9, 5),
            1234567,
            1e-05,
            1e20,
            True,
            0.12,
        ]
    )
    sheet["F2"].number_format = "#,##0.00"
    sheet["H2"].number_format = "0%"
    (table,) = read_xlsx(_xlsx(book))
    assert table.grid()[1] == [
        "2026-03-31",
        "2026-03-31T14:30:00",
        "09:05:00",
        "1234567",
        "0.00001",
        "100000000000000000000",
        "TRUE",
        "0.12",
    ]


def test_xlsx_formulas_cached_values_read_and_uncached_flagged() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["a", "b", "sum", "missing"])
    sheet.append([1, 2, "=A2+B2", "=A2*10"])
    sheet.append([3, 4, "=1/0", None])

    def add_cached_results(xml: bytes) -> bytes:
        # openpyxl computes nothing: give C2 a result as Excel would, C3 an error, leave D2.
        xml = re.sub(
            rb"(<c r=\"C2\"[^>]*>)<f>A2\+B2</f><v>\s*</v>", rb"\1<f>A2+B2</f><v>3</v>", xml
        )
        return re.sub(
            rb"<c r=\"C3\"[^>]*><f>1/0</f><v>\s*</v>",
            b'<c r="C3" t="e"><f>1/0</f><v>#DIV/0!</v>',
            xml,
        )

    data = _edit_sheet_xml(_xlsx(book), add_cached_results)
    (table,) = read_xlsx(data)
    assert table.grid() == [
        ["a", "b", "sum", "missing"],
        ["1", "2", "3", ""],
        ["3", "4", "#DIV/0!", ""],
    ]
    assert table.issues == [
        Issue("uncached_formula", "The formula has no computed result saved.", row=1, col=3),
        Issue("formula_error", "The cell shows the error #DIV/0!.", row=2, col=2),
    ]


def test_xlsx_hidden_sheets_skipped_unless_asked_and_then_flagged() -> None:
    book = openpyxl.Workbook()
    book.active.title = "Visible"
    book.active.append(["shown", 1])
    lookups = book.create_sheet("Lookups")
    lookups.append(["secret", 2])
    lookups.sheet_state = "hidden"
    last = book.create_sheet("Last")
    last.append(["third", 3])
    data = _xlsx(book)

    assert [(t.page, t.sheet, t.grid()) for t in read_xlsx(data)] == [
        (1, "Visible", [["shown", "1"]]),
        (3, "Last", [["third", "3"]]),
    ]
    tables = read_xlsx(data, include_hidden=True)
    assert [(t.page, t.sheet) for t in tables] == [(1, "Visible"), (2, "Lookups"), (3, "Last")]
    assert [issue.code for issue in tables[1].issues] == ["hidden_sheet"]
    assert tables[0].issues == []


def test_xlsx_empty_sheet_gives_no_tables() -> None:
    assert read_xlsx(_xlsx(openpyxl.Workbook())) == []


def test_xlsx_zip_bomb_is_refused_before_unpacking() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("[Content_Types].xml", "<Types/>")
        bomb.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    with pytest.raises(WorkbookTooLarge) as caught:
        read_xlsx(out.getvalue())
    assert caught.value.code == "extraction.workbook_too_large"
    assert "expands" in caught.value.message


@pytest.mark.parametrize(
    ("data", "error", "code"),
    [
        pytest.param(b"Date,Amount\n1,2\n", BadWorkbook, "extraction.bad_workbook", id="csv"),
        pytest.param(b"", BadWorkbook, "extraction.bad_workbook", id="empty"),
        pytest.param(
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500 + "Workbook".encode("utf-16-le"),
            BadWorkbook,
            "extraction.bad_workbook",
            id="old-xls",
        ),
        pytest.param(
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
            + b"\0" * 500
            + "EncryptionInfo".encode("utf-16-le")
            + b"\0" * 100,
            EncryptedWorkbook,
            "extraction.encrypted_workbook",
            id="encrypted",
        ),
    ],
)
def test_not_a_workbook(data: bytes, error: type[Exception], code: str) -> None:
    with pytest.raises(error) as caught:
        read_xlsx(data)
    assert caught.value.code == code  # type: ignore[attr-defined]


def test_zip_that_is_not_a_workbook() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(BadWorkbook, match="not an XLSX"):
        read_xlsx(out.getvalue())
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types><Override ContentType="application/vnd.openxmlformats-officedocument.'
            'wordprocessingml.document.main+xml"/></Types>',
        )
    with pytest.raises(BadWorkbook, match="Word or PowerPoint"):
        read_xlsx(out.getvalue())
