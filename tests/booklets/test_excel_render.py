"""The worksheet-to-PDF engine, checked through the text and positions pdfplumber reads back.

Workbooks are built here with openpyxl; where a file must hold what openpyxl never writes
(cached formula results, a missing <dimension>), its sheet XML is edited in the zip.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import zipfile
from collections.abc import Callable
from typing import Any

import openpyxl
import pdfplumber
import pytest
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from paperworks.booklets import excel_render
from paperworks.booklets.engine_errors import (
    BadWorkbook,
    EngineError,
    SheetTooLarge,
    UncachedFormula,
    UnknownSheet,
)
from paperworks.booklets.excel_render import (
    ConverterMissing,
    format_value,
    render_sheet,
    render_sheet_with_libreoffice,
    sheet_names,
)
from tests.files import samples

LEFT = 0.75 * 72  # openpyxl's default page margins
TOP = 1.0 * 72


def points(width: float) -> float:
    """A column width in characters as the engine lays it out (7 px per character)."""
    return int(width * 7 + 0.49) * 0.75


def save(workbook: Any) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def book(build: Callable[[Any], None], title: str = "Sheet") -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    build(sheet)
    return save(workbook)


def pages(pdf: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [page.extract_text() or "" for page in document.pages]


def words(pdf: bytes, page: int = 0) -> list[dict[str, Any]]:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return list(document.pages[page].extract_words())


def word(pdf: bytes, text: str, page: int = 0) -> dict[str, Any]:
    found = [w for w in words(pdf, page) if w["text"] == text]
    assert found, f"{text!r} not on page {page + 1}: {[w['text'] for w in words(pdf, page)]}"
    return found[0]


def edit_sheet_xml(xlsx: bytes, edit: Callable[[str], str]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = edit(body.decode()).encode()
            target.writestr(item.filename, body)
    return out.getvalue()


# Number formats ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "number_format", "expected"),
    [
        (1234.5, "#,##0.00", "1,234.50"),
        (1234.5, "0.00", "1234.50"),
        (1234567, "#,##0", "1,234,567"),
        (0.125, "0.0%", "12.5%"),
        (0.5, "0%", "50%"),
        (1234.5, "$#,##0.00", "$1,234.50"),
        (-1234.5, "$#,##0.00", "-$1,234.50"),
        (-1234.5, "#,##0.00;[Red](#,##0.00)", "(1,234.50)"),
        (0, '#,##0;-#,##0;"nil"', "nil"),
        (1234, '"€"#,##0.00', "€1,234.00"),
        (1234, "#,##0.00 €", "1,234.00 €"),
        (1234, "#,##0.00 [$€-407]", "1.234,00 €"),
        (1234, "[$€-2] #,##0.00", "€ 1,234.00"),
        (1234.5, "#,##0.00 [$€-40C]", "1\u00a0234,50 €"),
        (1.005, "0.00", "1.01"),
        (1234567, "#,##0,", "1,235"),
        (1234567, '0.0,,"M"', "1.2M"),
        (12345.678, "0.00E+00", "1.23E+04"),
        (123, "00000", "00123"),
        (123456789, "000-00-0000", "123-45-6789"),
        (1.5, "0.##", "1.5"),
        (12.5, ".00", "12.50"),
        (0.5, ".00", ".50"),
        (1.25, "# ?/4", "1 1/4"),
        (0.5, "# ?/?", " 1/2"),
        (5, "@", "5"),
        ("abc", '0;-0;0;"text: "@', "text: abc"),
        (1234567.891, "General", "1234567.891"),
        (0.1 + 0.2, "General", "0.3"),
        (123456789012345, "General", "1.23457E+14"),
        (True, "General", "TRUE"),
        (dt.date(2026, 3, 31), "yyyy-mm-dd", "2026-03-31"),
        (dt.date(2026, 3, 31), "dd.mm.yyyy", "31.03.2026"),
        (dt.date(2026, 3, 31), "mmm d, yyyy", "Mar 31, 2026"),
        (dt.date(2026, 3, 31), "dddd d mmmm yy", "Tuesday 31 March 26"),
        (dt.date(2026, 3, 31), "mm-dd-yy", "2026-03-31"),  # built-in 14: the locale's date
        (
            dt.datetime.fromisoformat("2026-03-31T14:05:09"),
            "yyyy-mm-dd hh:mm:ss",
            "2026-03-31 14:05:09",
        ),
        (dt.datetime.fromisoformat("2026-03-31T14:05:09"), "h:mm AM/PM", "2:05 PM"),
        (dt.datetime.fromisoformat("2026-03-31T14:05:09.6"), "mm:ss.0", "05:09.6"),
        (dt.timedelta(hours=27, minutes=3), "[h]:mm", "27:03"),
        (dt.time(10, 15), "hh:mm", "10:15"),
        (46112, "yyyy-mm-dd", "2026-03-31"),  # a serial number under a date format
        (0.4270833333333333, "h:mm", "10:15"),
    ],
)
def test_number_formats(value: object, number_format: str, expected: str) -> None:
    assert format_value(value, number_format) == expected


# Rendering ---------------------------------------------------------------------------------


def styled(sheet: Any) -> None:
    thin, thick = Side(style="thin"), Side(style="thick")
    sheet["A1"] = "Quarterly report"
    sheet.merge_cells("A1:C1")
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append(["Item", "Amount", "Share", "Date"])
    for cell in sheet[2]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="305496")
        cell.border = Border(bottom=Side(style="medium", color="C00000"))
    sheet.append(["Widgets", 1234.5, 0.125, dt.date(2026, 3, 31)])
    sheet.append(["Gadgets with a long name that wraps over lines", 1234, 0.5, None])
    sheet.append(["Ελληνικά", -7, 1, None])
    sheet.append(["Кириллица", 3000.12, 0, None])
    sheet["B3"].number_format = "#,##0.00"
    sheet["B4"].number_format = '"€"#,##0.00'
    sheet["B5"].number_format = "#,##0;[Red]-#,##0"
    sheet["B6"].number_format = "#,##0.00 [$€-407]"
    for row in sheet.iter_rows(min_row=3, max_row=6, min_col=3, max_col=3):
        row[0].number_format = "0.0%"
    sheet["D3"].number_format = "yyyy-mm-dd"
    sheet["A4"].alignment = Alignment(wrap_text=True, vertical="top")
    sheet["A5"].font = Font(italic=True, color="0070C0")
    for row in sheet.iter_rows(min_row=3, max_row=6, max_col=4):
        for cell in row:
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
    sheet["B3"].border = Border(left=thick, right=thick, top=thick, bottom=thick)
    for column in "ABCD":
        sheet.column_dimensions[column].width = 20


@pytest.fixture(scope="module")
def styled_pdf() -> bytes:
    return render_sheet(book(styled, "Report"), "Report", title="Q1 report")


def test_formatted_values_are_on_the_page(styled_pdf: bytes) -> None:
    (text,) = pages(styled_pdf)
    for expected in ("1,234.50", "12.5%", "€1,234.00", "3.000,12 €", "2026-03-31", "-7", "50.0%"):
        assert expected in text
    assert "Ελληνικά" in text
    assert "Кириллица" in text


def test_right_aligned_numbers_end_at_the_cell_edge(styled_pdf: bytes) -> None:
    right_of_b = LEFT + 2 * points(20)
    assert word(styled_pdf, "1,234.50")["x1"] == pytest.approx(right_of_b - 1.5, abs=1)
    assert word(styled_pdf, "Widgets")["x0"] == pytest.approx(LEFT + 1.5, abs=1)


def test_merged_text_is_centred_across_the_merge(styled_pdf: bytes) -> None:
    title = word(styled_pdf, "Quarterly")
    report = word(styled_pdf, "report")
    centre = (title["x0"] + report["x1"]) / 2
    assert centre == pytest.approx(LEFT + 3 * points(20) / 2, abs=1.5)


def test_wrapped_text_stays_in_its_column_on_several_lines(styled_pdf: bytes) -> None:
    found = [w for w in words(styled_pdf) if w["text"] in ("Gadgets", "wraps", "lines")]
    assert len({round(w["top"]) for w in found}) >= 2
    assert all(w["x1"] <= LEFT + points(20) for w in found)
    # The row grew to fit; its wrapped text is top-aligned, the number beside it bottom-aligned.
    assert word(styled_pdf, "Gadgets")["top"] < word(styled_pdf, "€1,234.00")["top"] - 20


def test_fills_borders_and_fonts(styled_pdf: bytes) -> None:
    with pdfplumber.open(io.BytesIO(styled_pdf)) as document:
        page = document.pages[0]
        fills = {tuple(round(c, 2) for c in r["non_stroking_color"]) for r in page.rects}
        widths = {round(line["linewidth"], 1) for line in page.lines}
        fonts = {char["fontname"].split("+")[-1] for char in page.chars}
        colours = {c["text"]: c["non_stroking_color"] for c in page.chars}
        strokes = {tuple(round(c, 2) for c in line["stroking_color"]) for line in page.lines}
    assert (0.19, 0.33, 0.59) in fills  # 305496
    assert {0.6, 1.2, 1.8} <= widths  # thin, medium and thick
    assert (0.75, 0.0, 0.0) in strokes  # the medium C00000 one
    assert {"DejaVuSans", "DejaVuSans-Bold"} <= fonts
    oblique = excel_render._SYSTEM_DEJAVU / "DejaVuSans-Oblique.ttf"
    assert ("DejaVuSans-Oblique" in fonts) == oblique.exists()
    assert tuple(colours["\u0395"]) == pytest.approx((0, 0x70 / 255, 0xC0 / 255), abs=0.01)


def test_header_rows_repeat_on_every_page() -> None:
    def build(sheet: Any) -> None:
        sheet["A1"] = "Ledger 2026"
        sheet.merge_cells("A1:B1")
        sheet.append(["Ledger item", "Amount"])
        sheet.column_dimensions["A"].width = 20
        for n in range(1, 301):
            sheet.append([f"row{n}", n * 10])

    texts = pages(render_sheet(book(build), "Sheet"))
    assert len(texts) > 1
    assert all(text.splitlines()[:2] == ["Ledger 2026", "Ledger item Amount"] for text in texts)
    rows = [line.split()[0] for text in texts for line in text.splitlines()[2:]]
    assert rows == [f"row{n}" for n in range(1, 301)]


def test_print_title_rows_are_the_header() -> None:
    def build(sheet: Any) -> None:
        sheet.append(["Report for March"])
        sheet.append(["Name", "Value"])
        for n in range(1, 201):
            sheet.append([f"n{n}", n])
        sheet.print_title_rows = "1:2"

    texts = pages(render_sheet(book(build), "Sheet"))
    assert len(texts) > 1
    assert all(t.splitlines()[:2] == ["Report for March", "Name Value"] for t in texts)


def test_text_only_first_row_is_not_a_header_when_the_body_is_text_too() -> None:
    def build(sheet: Any) -> None:
        for n in range(1, 201):
            sheet.append([f"name{n}", f"note{n}"])

    texts = pages(render_sheet(book(build), "Sheet"))
    assert sum(t.count("name1 note1") for t in texts) == 1


def test_landscape_from_the_argument_or_the_sheet() -> None:
    def build(sheet: Any) -> None:
        sheet["A1"] = "wide"
        sheet.page_setup.orientation = "landscape"

    data = book(build)
    with pdfplumber.open(io.BytesIO(render_sheet(data, "Sheet"))) as document:
        assert document.pages[0].width > document.pages[0].height
    portrait = render_sheet(data, "Sheet", orientation="portrait")
    with pdfplumber.open(io.BytesIO(portrait)) as document:
        assert document.pages[0].width < document.pages[0].height


def wide(sheet: Any) -> None:
    for col in range(1, 13):
        letter = openpyxl.utils.get_column_letter(col)
        sheet.cell(row=1, column=col, value=f"H{col}")
        sheet.cell(row=2, column=col, value=col * 1000)
        sheet.column_dimensions[letter].width = 15


def test_fit_to_width_scales_all_columns_onto_the_page() -> None:
    pdf = render_sheet(book(wide), "Sheet", fit_to_width=True)
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        assert len(document.pages) == 1
        page = document.pages[0]
        found = {w["text"] for w in page.extract_words()}
        assert {f"H{n}" for n in range(1, 13)} <= found
        assert max(w["x1"] for w in page.extract_words()) <= page.width - LEFT + 1


def test_without_fit_to_width_columns_overflow_to_following_pages() -> None:
    texts = pages(render_sheet(book(wide), "Sheet", fit_to_width=False))
    assert len(texts) == 2
    assert "H1" in texts[0].split()
    assert "H12" in texts[1].split()
    assert "H12" not in texts[0].split()


def test_a_range_renders_only_its_cells() -> None:
    def build(sheet: Any) -> None:
        for row in range(1, 6):
            sheet.append([f"r{row}c{col}" for col in range(1, 6)])

    (text,) = pages(render_sheet(book(build), "Sheet", cell_range="$B$2:c3"))
    assert text.split() == ["r2c2", "r2c3", "r3c2", "r3c3"]

    def with_print_area(sheet: Any) -> None:
        build(sheet)
        sheet.print_area = "D4:E5"

    (text,) = pages(render_sheet(book(with_print_area), "Sheet"))
    assert text.split() == ["r4c4", "r4c5", "r5c4", "r5c5"]


def test_hidden_rows_and_columns_are_skipped() -> None:
    def build(sheet: Any) -> None:
        sheet.append(["shown", "secret", "more secret", "also shown"])
        sheet.append(["hidden row", 1, 2, 3])
        sheet.append(["last", 3, 4, 5])
        sheet.column_dimensions.group("B", "C", hidden=True)  # one <col> for both
        sheet.row_dimensions[2].hidden = True

    (text,) = pages(render_sheet(book(build), "Sheet"))
    assert "secret" not in text
    assert "hidden row" not in text
    assert "shown" in text
    assert "last" in text
    assert word(render_sheet(book(build), "Sheet"), "also")["x0"] == pytest.approx(
        LEFT + 48 + 1.5, abs=1
    )  # column D moved next to A


def test_trailing_empty_rows_and_columns_make_no_pages() -> None:
    def build(sheet: Any) -> None:
        sheet["A1"] = "only"
        sheet["Z500"] = None  # a stored but empty cell far away
        sheet["Z500"].number_format = "0.00"

    pdf = render_sheet(book(build), "Sheet", fit_to_width=False)
    assert pages(pdf) == ["only"]


def test_cached_formula_values_render_and_uncached_ones_are_refused() -> None:
    def build(sheet: Any) -> None:
        sheet["A1"], sheet["A2"], sheet["A3"] = 1, 2, "=SUM(A1:A2)"
        sheet["B1"] = '=IF(A1>5,"big","")'

    data = book(build, "Sums")
    with pytest.raises(UncachedFormula, match=r"B1.*'Sums'") as raised:
        render_sheet(data, "Sums")
    assert raised.value.code == "booklets.uncached_formula"

    def cache(xml: str) -> str:
        xml = xml.replace("<f>SUM(A1:A2)</f><v></v>", "<f>SUM(A1:A2)</f><v>3</v>")
        return xml.replace('<c r="B1"><f>', '<c r="B1" t="str"><f>')  # an empty text result

    (text,) = pages(render_sheet(edit_sheet_xml(data, cache), "Sums"))
    assert text.split() == ["1", "2", "3"]


def test_output_is_deterministic_and_titled() -> None:
    data = book(styled, "Report")
    first = render_sheet(data, "Report", title="Q1 report")
    assert first == render_sheet(data, "Report", title="Q1 report")
    with pdfplumber.open(io.BytesIO(first)) as document:
        assert document.metadata["Title"] == "Q1 report"


def test_empty_sheet_is_one_blank_page() -> None:
    assert pages(render_sheet(book(lambda sheet: None), "Sheet")) == [""]


def test_other_sheets_are_not_rendered_and_stay_intact_for_names() -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Summary"
    workbook.active["A1"] = "summary text"
    data_sheet = workbook.create_sheet("Data")
    for n in range(50):
        data_sheet.append([f"data{n}"])
    data = save(workbook)
    assert sheet_names(data) == ["Summary", "Data"]
    assert pages(render_sheet(data, "Summary")) == ["summary text"]
    assert "data49" in "".join(pages(render_sheet(data, "Data")))


# Errors --------------------------------------------------------------------------------------


def test_unknown_sheet_lists_the_sheets() -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "One"
    workbook.create_sheet("Two")
    with pytest.raises(UnknownSheet) as raised:
        render_sheet(save(workbook), "Three")
    assert raised.value.choices == ["One", "Two"]
    assert raised.value.code == "booklets.unknown_sheet"


def test_a_bad_cell_range_is_an_engine_error() -> None:
    with pytest.raises(EngineError, match="not a cell range"):
        render_sheet(book(styled), "Sheet", cell_range="A1-B2")


def docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types><Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr("word/document.xml", "<document/>")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"just some text", "not a zip"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), r"old \.xls"),
        (docx(), "not an Excel workbook"),
        (b"PK\x05\x06" + bytes(18), "not an XLSX workbook"),
    ],
)
def test_files_that_are_not_workbooks(data: bytes, message: str) -> None:
    with pytest.raises(BadWorkbook, match=message) as raised:
        sheet_names(data)
    assert raised.value.code == "booklets.bad_workbook"
    with pytest.raises(BadWorkbook):
        render_sheet(data, "Sheet")


def test_a_workbook_with_a_broken_part_is_bad() -> None:
    data = edit_sheet_xml(book(styled), lambda xml: xml[: len(xml) // 2])
    with pytest.raises(BadWorkbook, match="cannot be read"):
        render_sheet(data, "Sheet")


def test_a_workbook_whose_xml_declares_entities_is_refused_before_they_expand() -> None:
    """A billion laughs. openpyxl refuses it first, as it reads the sheet's size (it parses with
    defusedxml too); the streaming scan of the sheet's extent refuses it on its own as well."""
    data = samples.xlsx_with_billion_laughs()
    for read in (sheet_names, lambda data: render_sheet(data, "Data")):
        with pytest.raises(BadWorkbook, match="declares entities"):
            read(data)
    with (
        zipfile.ZipFile(io.BytesIO(data)) as archive,
        pytest.raises(BadWorkbook, match="sheet 'Data': its XML declares entities"),
    ):
        excel_render._scan_sheet(
            archive,
            "xl/worksheets/sheet1.xml",
            excel_render._parse_range("A1:B2"),
            "Data",
            max_pages=50,
            needs_results=True,
        )


def bomb(size_mb: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "spreadsheetml.sheet.main+xml")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = b" " * (1 << 20)
            for _ in range(size_mb):
                member.write(chunk)
    return out.getvalue()


def test_zip_bombs_are_refused_before_unpacking() -> None:
    with pytest.raises(BadWorkbook, match=r"too large when unpacked.*limit is 100 MB"):
        sheet_names(bomb(101))
    with pytest.raises(BadWorkbook, match=r"too large when unpacked.*expands"):
        render_sheet(bomb(5), "Sheet")


def huge_sheet(rows: int, *, dimension: bool) -> bytes:
    data = book(lambda sheet: sheet.append(["x"]))
    body = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(1, rows + 1))

    def fill(xml: str) -> str:
        xml = re.sub(r"<sheetData>.*</sheetData>", f"<sheetData>{body}</sheetData>", xml)
        ref = f'<dimension ref="A1:A{rows}"/>' if dimension else ""
        return re.sub(r"<dimension [^>]*/>", ref, xml)

    return edit_sheet_xml(data, fill)


@pytest.mark.parametrize("dimension", [True, False])
def test_a_huge_sheet_fails_fast(dimension: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Refused from the streamed scan, before the whole sheet is loaded into memory."""

    def load_everything(*args: Any) -> None:
        raise AssertionError("the whole sheet was loaded before it was refused")

    monkeypatch.setattr(excel_render, "_load_sheet", load_everything)
    data = huge_sheet(100_000, dimension=dimension)
    with pytest.raises(SheetTooLarge, match="50 pages") as raised:
        render_sheet(data, "Sheet")
    assert raised.value.code == "booklets.sheet_too_large"


def test_the_page_limit_is_checked_after_layout_too() -> None:
    def build(sheet: Any) -> None:
        for n in range(1, 301):
            sheet.append([f"row{n}"])

    with pytest.raises(SheetTooLarge, match="limit is 2"):
        render_sheet(book(build), "Sheet", max_pages=2)


# LibreOffice -------------------------------------------------------------------------------


def test_libreoffice_engine_needs_soffice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(excel_render.shutil, "which", lambda name: None)
    with pytest.raises(ConverterMissing, match="not installed"):
        render_sheet_with_libreoffice(book(styled), "Sheet")


def test_libreoffice_engine_converts_a_copy_with_only_the_sheet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[bytes] = []

    def convert(soffice: str, xlsx: bytes, to: str) -> bytes:
        sent.append(xlsx)
        return render_sheet(xlsx, "Report")

    monkeypatch.setattr(excel_render.shutil, "which", lambda name: "/usr/bin/soffice")
    monkeypatch.setattr(excel_render, "_soffice_convert", convert)
    workbook = openpyxl.Workbook()
    workbook.create_sheet("Other")["A1"] = "elsewhere"
    styled(workbook.active)
    workbook.active.title = "Report"
    pdf = render_sheet_with_libreoffice(
        save(workbook), "Report", cell_range="A2:B3", orientation="landscape", title="T"
    )
    copy = openpyxl.load_workbook(io.BytesIO(sent[0]))
    assert copy.sheetnames == ["Report"]
    sheet = copy["Report"]
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1
    assert sheet.print_area == "'Report'!$A$2:$B$3"
    assert copy.properties.title == "T"
    assert pages(pdf)[0].split() == ["Item", "Amount", "Widgets", "1,234.50"]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_libreoffice_engine_renders_the_sheet() -> None:
    pdf = render_sheet_with_libreoffice(book(styled, "Report"), "Report")
    assert "1,234.50" in "".join(pages(pdf))


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_libreoffice_engine_computes_formulas_no_application_saved() -> None:
    def build(sheet: Any) -> None:
        sheet["A1"], sheet["A2"], sheet["A3"] = 20, 22, "=SUM(A1:A2)"

    (text,) = pages(render_sheet_with_libreoffice(book(build, "Sums"), "Sums"))
    assert text.split() == ["20", "22", "42"]
