"""Exports of shaped tables: CSV (BOM, read back with csv), XLSX (read back with openpyxl: types,
formats, frozen bold header, sheet names), JSON, a ZIP of CSVs, and formula injection."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, date, datetime
from typing import Any

import openpyxl
import pytest

from paperworks.extraction.exports import (
    column_types,
    safe_file_name,
    safe_sheet_name,
    to_csv,
    to_json,
    to_xlsx,
    zip_csvs,
)
from paperworks.extraction.settings_model import ExtractionSettings
from paperworks.extraction.shaping import Shaped, shape
from paperworks.extraction.tables import Cell, Issue, Table

COLUMNS = [
    {"name": "Date", "type": "date"},
    {"name": "Description"},
    {"name": "Amount", "type": "decimal", "required": True},
    {"name": "Qty", "type": "integer"},
    {"name": "Rate", "type": "percent"},
]
SETTINGS = ExtractionSettings.model_validate({"columns": COLUMNS})
TYPES = column_types(SETTINGS)


def _table(rows: list[list[str]], page: int = 1, index: int = 0, sheet: str | None = None) -> Table:
    cells = [Cell(r, c, text) for r, row in enumerate(rows) for c, text in enumerate(row) if text]
    return Table(page, index, len(rows), max(len(row) for row in rows), cells, sheet=sheet)


def _shaped(rows: list[list[str]], **kwargs: Any) -> Shaped:
    [shaped] = shape([_table(rows, **kwargs)], SETTINGS)
    return shaped


STATEMENT = [
    ["Date", "Description", "Amount", "Qty", "Rate"],
    ["2026-03-31", "Coffee ☕ Zürich", "(1,234.50)", "3", "12.5 %"],
    ["2026-04-01", '=HYPERLINK("http://evil","x")', "9.2", "-4", "7%"],
    ["2026-04-02", "+1+1", "-0.125", "", ""],
    ["2026-04-03", "-2+3", "", "10", ""],
    ["2026-04-04", "@SUM(A1)", "1000000", "", ""],
]


def _plain(header: list[str], rows: list[dict[str, Any]]) -> Shaped:
    """A shaped table built by hand (no configuration: every value as given)."""
    return Shaped(
        page=1,
        index=0,
        sheet=None,
        pages=[1],
        header=header,
        rows=rows,
        row_sources=[],
        mapping=[],
        issues=[],
        source_header=header,
        header_row=0,
        n_cols=len(header),
    )


def _read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _book(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data))


# --- CSV ---


def test_csv_has_a_bom_the_header_and_records_in_header_order() -> None:
    rows = _read_csv(to_csv(_shaped(STATEMENT)))
    assert rows[0] == ["Date", "Description", "Amount", "Qty", "Rate"]
    assert rows[1] == ["2026-03-31", "Coffee ☕ Zürich", "-1234.50", "3", "0.125"]
    assert rows[3][3:] == ["", ""]  # None is empty
    assert len(rows) == 6


def test_csv_escapes_formulas_but_not_negative_numbers() -> None:
    rows = _read_csv(to_csv(_shaped(STATEMENT)))
    assert rows[2][1] == '\'=HYPERLINK("http://evil","x")'
    assert rows[3][1] == "'+1+1"
    assert rows[4][1] == "'-2+3"
    assert rows[5][1] == "'@SUM(A1)"
    assert rows[3][2] == "-0.125"  # a negative decimal is a number
    assert rows[2][3] == "-4"


def test_csv_escapes_tab_and_carriage_return_and_headers() -> None:
    shaped = _plain(["=cmd", "b"], [{"=cmd": "\tx", "b": "\rfoo"}, {"=cmd": "-1", "b": None}])
    rows = _read_csv(to_csv(shaped))
    assert rows == [["'=cmd", "b"], ["'\tx", "'\rfoo"], ["-1", ""]]


def test_csv_of_an_empty_table_is_its_header() -> None:
    assert _read_csv(to_csv(_plain(["A", "B"], []))) == [["A", "B"]]
    assert to_csv(_plain([], [])) == b"\xef\xbb\xbf\r\n"


# --- XLSX ---


def test_xlsx_cells_are_typed_with_formats() -> None:
    sheet = _book(to_xlsx([_shaped(STATEMENT)], types=TYPES)).active
    assert [c.value for c in sheet[1]] == ["Date", "Description", "Amount", "Qty", "Rate"]
    date_cell, text, amount, qty, rate = sheet[2]
    assert date_cell.value == datetime(2026, 3, 31)  # noqa: DTZ001 - Excel dates are naive
    assert date_cell.is_date
    assert date_cell.number_format == "yyyy-mm-dd"
    assert text.value == "Coffee ☕ Zürich"
    assert amount.data_type == "n"
    assert amount.value == -1234.5
    assert amount.number_format == "#,##0.000"  # the column's widest scale (-0.125)
    assert qty.value == 3
    assert isinstance(qty.value, int)
    assert qty.number_format == "#,##0"
    assert rate.value == pytest.approx(0.125)
    assert rate.number_format == "0.0%"
    assert sheet["C3"].value == 9.2  # exact, not 9.199999999999999
    assert sheet["D3"].value == -4
    assert sheet["C6"].value == 1_000_000


def test_xlsx_writes_decimal_digits_exactly() -> None:
    data = to_xlsx([_shaped(STATEMENT)], types=TYPES)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<v>9.2</v>" in xml
    assert "<v>-1234.50</v>" in xml


def test_xlsx_header_is_bold_frozen_and_widths_fitted() -> None:
    long_text = "x" * 200
    shaped = _plain(["A", "Description"], [{"A": "1", "Description": long_text}])
    sheet = _book(to_xlsx([shaped])).active
    assert sheet["A1"].font.b
    assert sheet["B1"].font.b
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width == 8  # lower bound
    assert sheet.column_dimensions["B"].width == 60  # upper bound
    wide = _plain(["Name"], [{"Name": "東京都千代田区"}])
    assert _book(to_xlsx([wide])).active.column_dimensions["A"].width == 16


def test_xlsx_formulas_are_text_never_formulas() -> None:
    sheet = _book(to_xlsx([_shaped(STATEMENT)], types=TYPES)).active
    for ref, text in [
        ("B3", '=HYPERLINK("http://evil","x")'),
        ("B4", "+1+1"),
        ("B5", "-2+3"),
        ("B6", "@SUM(A1)"),
    ]:
        cell = sheet[ref]
        assert cell.value == text
        assert cell.data_type == "s"
        assert cell.quotePrefix
    negative = sheet["C4"]
    assert negative.data_type == "n"
    assert negative.value == -0.125
    assert not negative.quotePrefix
    header = _plain(["=1+2"], [{"=1+2": "=A1"}])
    data = to_xlsx([header])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()
    assert _book(data).active["A1"].data_type == "s"


def test_xlsx_without_types_keeps_strings_as_text() -> None:
    sheet = _book(to_xlsx([_shaped(STATEMENT)])).active
    assert sheet["A2"].value == "2026-03-31"
    assert sheet["A2"].data_type == "s"
    assert sheet["C2"].value == "-1234.50"
    assert sheet["C2"].data_type == "s"
    assert sheet["D2"].value == 3  # integers are numbers either way


def test_xlsx_keeps_what_excel_would_lose_as_text() -> None:
    types = column_types(
        ExtractionSettings.model_validate(
            {"columns": [{"name": "N", "type": "decimal"}, {"name": "When", "type": "date"}]}
        )
    )
    shaped = _plain(
        ["N", "When"],
        [
            {"N": "12345678901234567.5", "When": "2026-03-31T14:30:00+02:00"},
            {"N": "1.5", "When": "2026-03-31T14:30:00"},
            {"N": "not a number", "When": "soon"},
        ],
    )
    sheet = _book(to_xlsx([shaped], types=types)).active
    assert sheet["A2"].data_type == "s"
    assert sheet["A2"].value == "12345678901234567.5"
    assert sheet["B2"].data_type == "s"
    assert sheet["B3"].value == datetime(2026, 3, 31, 14, 30)  # noqa: DTZ001
    assert sheet["B3"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert sheet["A4"].value == "not a number"
    assert sheet["B4"].value == "soon"


def test_xlsx_drops_characters_xml_cannot_hold() -> None:
    sheet = _book(to_xlsx([_plain(["A"], [{"A": "bell\x07 and\ttab"}])])).active
    assert sheet["A2"].value == "bell and\ttab"


def test_xlsx_sheet_names_are_safe_unique_and_short() -> None:
    tables = [_plain(["A"], [{"A": "1"}]) for _ in range(6)]
    names = ["Q1: [draft] a/b\\c*?", "Sales", "sales", "x" * 40, "x" * 40, "'quoted'"]
    book = _book(to_xlsx(tables, names))
    assert book.sheetnames == [
        "Q1_ _draft_ a_b_c__",
        "Sales",
        "sales (2)",
        "x" * 31,
        "x" * 27 + " (2)",
        "quoted",
    ]
    assert all(len(name) <= 31 for name in book.sheetnames)


def test_xlsx_default_sheet_names_come_from_the_table() -> None:
    from_pdf = _shaped(STATEMENT, page=3, index=1)
    from_book = _shaped(STATEMENT, sheet="Umsätze 2026")
    assert _book(to_xlsx([from_pdf, from_book])).sheetnames == ["Page 3 Table 2", "Umsätze 2026"]


def test_safe_sheet_name_edge_cases() -> None:
    assert safe_sheet_name("") == "Table"
    assert safe_sheet_name("[]") == "__"
    assert safe_sheet_name("History") == "History table"
    assert safe_sheet_name("a" * 30 + "'b") == "a" * 30


def test_xlsx_of_empty_tables() -> None:
    book = _book(to_xlsx([]))
    assert book.sheetnames == ["Tables"]
    sheet = _book(to_xlsx([_plain(["A", "B"], [])])).active
    assert [c.value for c in sheet[1]] == ["A", "B"]
    assert sheet.max_row == 1
    assert _book(to_xlsx([_plain([], [])])).active.max_row == 1
    with pytest.raises(ValueError, match="sheet_names"):
        to_xlsx([_plain([], [])], ["a", "b"])


# --- JSON ---


def test_json_has_a_stable_documented_shape() -> None:
    table = _table([*STATEMENT[:3], ["2026-04-05", "Rent", "abc", "1", ""]])
    table.issues.append(Issue("needs_ocr", "Page 1 has no text layer."))
    [shaped] = shape([table], SETTINGS)
    document = json.loads(to_json([shaped], types=TYPES))
    assert document["format"] == "paperworks.tables"
    assert document["version"] == 1
    [out] = document["tables"]
    assert set(out) == {
        "page",
        "pages",
        "index",
        "sheet",
        "header",
        "columns",
        "rows",
        "rowSources",
        "mapping",
        "issues",
    }
    assert out["header"] == ["Date", "Description", "Amount", "Qty", "Rate"]
    assert out["columns"][2] == {"key": "Amount", "type": "decimal"}
    assert out["rows"][0] == {
        "Date": "2026-03-31",
        "Description": "Coffee ☕ Zürich",
        "Amount": "-1234.50",
        "Qty": 3,
        "Rate": "0.125",
    }
    assert out["rowSources"][0] == {"page": 1, "index": 0, "row": 1}
    assert out["mapping"][0] == {
        "column": "Date",
        "sourceCol": 0,
        "sourceHeader": "Date",
        "method": "exact",
        "score": 100.0,
        "key": "Date",
    }
    codes = [issue["code"] for issue in out["issues"]]
    assert codes == ["unparsed_number", "needs_ocr"]
    assert out["issues"][0]["row"] == 2


def test_json_keeps_unicode_and_empty_lists() -> None:
    data = to_json([_plain(["Name"], [{"Name": "Zürich ☕"}])])
    assert "Zürich ☕".encode() in data
    assert json.loads(data)["tables"][0]["columns"] == [{"key": "Name", "type": None}]
    assert json.loads(to_json([]))["tables"] == []


# --- ZIP ---


def test_zip_of_csvs_has_safe_unique_names() -> None:
    named = [
        ("Page 1 Table 1", b"a"),
        ("page 1 table 1", b"b"),
        ("../../etc/passwd", b"c"),
        ("CON", b"d"),
        ("", b"e"),
        ("Umsätze: 2026?.csv", b"f"),
        ("y" * 300, b"g"),
    ]
    data = zip_csvs(named, modified=datetime(2026, 3, 31, 12, 0, tzinfo=UTC))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert names == [
            "Page 1 Table 1.csv",
            "page 1 table 1 (2).csv",
            "_.._etc_passwd.csv",
            "_CON.csv",
            "table.csv",
            "Umsätze_ 2026_.csv",
            "y" * 96 + ".csv",
        ]
        assert [archive.read(name) for name in names] == [b"a", b"b", b"c", b"d", b"e", b"f", b"g"]
        assert archive.getinfo(names[0]).date_time == (2026, 3, 31, 12, 0, 0)
        assert archive.testzip() is None


def test_safe_file_name_strips_dots_and_reserved_names() -> None:
    assert safe_file_name("...") == "table.csv"
    assert safe_file_name("nul.txt") == "_nul.txt.csv"
    assert safe_file_name("a\x00b") == "a_b.csv"


def test_zip_round_trips_real_csvs() -> None:
    shaped = _shaped(STATEMENT)
    data = zip_csvs([("Statement", to_csv(shaped)), ("Statement", to_csv(shaped))])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["Statement.csv", "Statement (2).csv"]
        rows = _read_csv(archive.read("Statement (2).csv"))
    assert rows[1][0] == "2026-03-31"
    assert date.fromisoformat(rows[1][0]).year == 2026
