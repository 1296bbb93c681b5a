"""The PDF table engine on PDFs drawn here with ReportLab (exact grids expected), on bad input, and
on a few ICDAR 2013 documents against their ground truth (a similarity floor)."""

from __future__ import annotations

import difflib
import io
import itertools
import math
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from paperworks.extraction.engine_errors import (
    BadPageSelection,
    CorruptPdf,
    EncryptedPdf,
    PdfTooLarge,
)
from paperworks.extraction.pdf_tables import extract_pdf_tables

SHARED_DATA_VARIABLE = "PAPERWORKS_TEST_SHARED_DATA"


def shared_data() -> Path:
    """The shared data directory: $PAPERWORKS_TEST_SHARED_DATA, else `../shared/data` beside
    the checkout."""
    named = os.environ.get(SHARED_DATA_VARIABLE)
    return Path(named) if named else Path(__file__).resolve().parents[3] / "shared" / "data"


ICDAR = shared_data() / "icdar2013-eu"
ROWS = [
    ["Item", "Qty", "Price"],
    ["Apples", "3", "1.20"],
    ["Pears", "12", "0.85"],
    ["Plums", "7", "2.10"],
]
WIDTHS = [120.0, 60.0, 80.0, 80.0]
ROW_HEIGHT = 22.0


def ruled(
    drawing: canvas.Canvas,
    rows: list[list[str]],
    *,
    left: float = 72,
    top: float = 700,
    merged: tuple[int, int] | None = None,
    open_sides: bool = False,
) -> None:
    """A fully ruled grid; `merged=(row, col)` joins that cell with the one to its right (no
    line between them, the text in the first); `open_sides`: no line at the left and right
    ends. A cell text with a newline is two lines."""
    xs = [left]
    for width in WIDTHS[: len(rows[0])]:
        xs.append(xs[-1] + width)
    ys = [top - ROW_HEIGHT * r for r in range(len(rows) + 1)]
    drawing.setLineWidth(0.5)
    for y in ys:
        drawing.line(xs[0], y, xs[-1], y)
    for c, x in enumerate(xs):
        if open_sides and c in (0, len(xs) - 1):
            continue
        for r in range(len(rows)):
            if merged == (r, c - 1):
                continue
            drawing.line(x, ys[r], x, ys[r + 1])
    drawing.setFont("Helvetica", 9)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            for n, part in enumerate(text.split("\n")):
                drawing.drawString(xs[c] + 3, ys[r] - 9 - 9 * n, part)


def unruled(drawing: canvas.Canvas, rows: list[list[str]], *, top: float = 700) -> None:
    drawing.setFont("Helvetica", 10)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            drawing.drawString(72 + 110 * c, top - 16 * r, text)


def pdf(*pages: object, rotate: int = 0, encrypt: str | None = None) -> bytes:
    """A PDF of one page per drawing function."""
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pagesize=A4, invariant=1, encrypt=encrypt)
    for draw in pages:
        if rotate:
            drawing.setPageRotation(rotate)
        draw(drawing)  # type: ignore[operator]
        drawing.showPage()
    drawing.save()
    return buffer.getvalue()


def test_a_ruled_table_is_read_cell_by_cell() -> None:
    result = extract_pdf_tables(pdf(lambda d: ruled(d, ROWS)))
    assert len(result.tables) == 1
    table = result.tables[0]
    assert (table.page, table.index, table.n_rows, table.n_cols) == (1, 0, 4, 3)
    assert table.grid() == ROWS
    assert result.page_issues == {}
    assert all(cell.bbox is not None for cell in table.cells)


def test_an_unruled_table_is_read_from_the_alignment_of_its_words() -> None:
    paragraph = "This paragraph above the table is prose, not a row of a table at all."

    def draw(d: canvas.Canvas) -> None:
        d.setFont("Helvetica", 10)
        d.drawString(72, 760, paragraph)
        unruled(d, ROWS)

    result = extract_pdf_tables(pdf(draw))
    assert [t.grid() for t in result.tables] == [ROWS]
    assert extract_pdf_tables(pdf(draw), mode="ruled").tables == []


def test_a_cell_across_two_columns_is_one_cell_with_its_span() -> None:
    rows = [["Fruit", "Stock and price", ""], *ROWS[1:]]
    table = extract_pdf_tables(pdf(lambda d: ruled(d, rows, merged=(0, 1)))).tables[0]
    assert table.grid() == rows
    header = next(c for c in table.cells if (c.row, c.col) == (0, 1))
    assert (header.col_span, header.row_span) == (2, 1)
    assert not any((c.row, c.col) == (0, 2) for c in table.cells)


TOTALS = ["Total", "3.60", "10.20", "14.70"]


def test_a_grid_open_at_its_sides_keeps_its_first_and_last_columns() -> None:
    rows = [[*row, total] for row, total in zip(ROWS, TOTALS, strict=True)]
    (table,) = extract_pdf_tables(pdf(lambda d: ruled(d, rows, open_sides=True))).tables
    assert table.grid() == rows


def test_rows_ruled_only_above_and_below_are_rows_not_one_cell() -> None:
    """A header rule and a closing rule around the body, a line after the first column only:
    the body's lines are its rows (no border closes the sides of a block of rows)."""

    def draw(d: canvas.Canvas) -> None:
        left, right, top = 72.0, 400.0, 700.0
        body = top - 18 - 14 * (len(ROWS) - 1)
        d.setLineWidth(0.4)
        for y in (top, top - 18, body - 4):
            d.line(left, y, right, y)
        d.line(192, top, 192, body - 4)
        d.setFont("Helvetica", 9)
        for r, row in enumerate(ROWS):
            y = top - 12 - (14 * r + (4 if r else 0))
            for c, text in enumerate(row):
                d.drawString(left + 3 + 120 * c, y, text)

    (table,) = extract_pdf_tables(pdf(draw)).tables
    assert table.grid() == ROWS


def column_ruled(d: canvas.Canvas, header: list[str], body: list[list[str]]) -> None:
    """Lines between the columns and around the header and the body, none between body rows:
    each body column is one ruled cell holding a line per row."""
    xs = [72.0, 192.0, 262.0, 352.0]
    top, pitch = 700.0, 12.0
    header_bottom = top - 8 - pitch * max(len(h.split("\n")) for h in header)
    bottom = header_bottom - 6 - pitch * len(body)
    d.setLineWidth(0.5)
    for y in (top, header_bottom, bottom):
        d.line(xs[0], y, xs[-1], y)
    for x in xs:
        d.line(x, top, x, bottom)
    d.setFont("Helvetica", 9)
    for c, title in enumerate(header):
        for n, part in enumerate(title.split("\n")):
            d.drawString(xs[c] + 3, top - 12 - pitch * n, part)
    for r, row in enumerate(body):
        for c, text in enumerate(row):
            d.drawString(xs[c] + 3, header_bottom - 12 - pitch * r, text)


def test_a_body_ruled_only_between_columns_is_read_row_by_row() -> None:
    body = [*ROWS[1:], ["Kiwis", "5", "0.40"], ["Limes", "9", "0.30"]]
    (table,) = extract_pdf_tables(pdf(lambda d: column_ruled(d, ROWS[0], body))).tables
    assert table.grid() == [ROWS[0], *body]


def test_header_titles_wrapped_over_lines_stay_one_row() -> None:
    header = ["Fruit\nsold at\nthe market", "Number\nof\ncrates", "Price\nper\nkilo"]
    body = [["Apples", "3", "1.20"]]
    (table,) = extract_pdf_tables(pdf(lambda d: column_ruled(d, header, body))).tables
    titles = [h.replace("\n", " ") for h in header]
    assert table.grid() == [titles, *body]


def test_column_lines_a_few_points_apart_are_one_boundary_not_a_sliver_column() -> None:
    """The header's column lines 5 points right of the body's (cells drawn one by one, a
    little apart): the slivers between them hold no text and are no columns."""

    def draw(d: canvas.Canvas) -> None:
        xs = [72.0, 192.0, 252.0, 332.0]
        ys = [700 - ROW_HEIGHT * r for r in range(len(ROWS) + 1)]
        d.setLineWidth(0.5)
        for y in ys:
            d.line(xs[0], y, xs[-1], y)
        for r in range(len(ROWS)):
            shift = 5.0 if r == 0 else 0.0
            for c, x in enumerate(xs):
                inner = 0 < c < len(xs) - 1
                d.line(
                    x + (shift if inner else 0.0), ys[r], x + (shift if inner else 0.0), ys[r + 1]
                )
        d.setFont("Helvetica", 9)
        for r, row in enumerate(ROWS):
            for c, text in enumerate(row):
                d.drawString(xs[c] + 8, ys[r] - 14, text)

    (table,) = extract_pdf_tables(pdf(draw)).tables
    assert table.grid() == ROWS


def test_shaded_backgrounds_are_no_rules() -> None:
    """Cells shaded line by line (a filled band behind each line of the header, inset from the
    borders), as HTML-to-PDF printers draw them: the bands' edges are no row or column lines."""
    rows = [["Item", "Qty", "Unit\nprice"], *ROWS[1:]]

    def draw(d: canvas.Canvas) -> None:
        d.setFillColorRGB(1.0, 0.8, 0.6)
        for c, (left, width) in enumerate(zip([72.0, 192.0, 252.0], WIDTHS, strict=False)):
            for line in range(2):
                d.rect(left + 3, 700 - 11 * (line + 1), width - 6 - 2 * c, 10, stroke=0, fill=1)
        d.setFillColorRGB(0, 0, 0)
        ruled(d, rows)

    (table,) = extract_pdf_tables(pdf(draw)).tables
    assert table.grid() == [["Item", "Qty", "Unit price"], *ROWS[1:]]


def test_a_cell_of_two_lines_is_one_cell() -> None:
    rows = [["Item", "Qty", "Unit\nprice"], *ROWS[1:]]
    table = extract_pdf_tables(pdf(lambda d: ruled(d, rows))).tables[0]
    assert table.grid()[0] == ["Item", "Qty", "Unit price"]
    assert table.n_rows == 4


def test_a_carried_balance_under_a_wrapped_line_is_a_row_of_its_own() -> None:
    """A statement's lines set tight: a booking text wraps onto a second line (the rest of its
    row), and the carried balance just under it puts a figure under a figure (a row)."""

    def draw(d: canvas.Canvas) -> None:
        d.setFont("Helvetica", 8)
        y = 700.0
        for date, text, amount, balance, rest in [
            ("Date", "Text", "Amount", "Balance", ""),
            ("02.10.2026", "Rent Linden St. 12", "-960,00", "1.040,00", "standing order"),
            ("03.10.2026", "Salary October", "+2.500,00", "3.540,00", ""),
            ("05.10.2026", "Telekom mobile", "-45,99", "3.494,01", "contract 8812"),
        ]:
            d.drawString(50, y, date)
            d.drawString(110, y, text)
            d.drawRightString(330, y, amount)
            d.drawRightString(400, y, balance)
            if rest:
                y -= 10
                d.drawString(110, y, rest)
            y -= 13
        d.drawString(110, y, "Carried forward")
        d.drawRightString(400, y, "3.494,01")

    (table,) = extract_pdf_tables(pdf(draw)).tables
    assert table.grid()[1:] == [
        ["02.10.2026", "Rent Linden St. 12 standing order", "-960,00", "1.040,00"],
        ["03.10.2026", "Salary October", "+2.500,00", "3.540,00"],
        ["05.10.2026", "Telekom mobile contract 8812", "-45,99", "3.494,01"],
        ["", "Carried forward", "", "3.494,01"],
    ]


def test_a_table_over_two_pages_is_a_table_per_page_without_the_running_header() -> None:
    def page(n: int, rows: list[list[str]]) -> object:
        def draw(d: canvas.Canvas) -> None:
            d.setFont("Helvetica", 8)
            d.drawString(72, 810, f"Annual report 2026          Page {n}")
            unruled(d, rows)

        return draw

    first = [ROWS[0], *ROWS[1:]]
    second = [ROWS[0], ["Kiwis", "5", "0.40"], ["Limes", "9", "0.30"], ["Mango", "2", "1.90"]]
    result = extract_pdf_tables(pdf(page(1, first), page(2, second)))
    assert [(t.page, t.grid()) for t in result.tables] == [(1, first), (2, second)]
    assert extract_pdf_tables(pdf(page(1, first), page(2, second)), pages=[2]).tables[0].page == 2


def test_each_page_is_told_as_it_is_read_and_a_raising_listener_stops_the_reading() -> None:
    document = pdf(*[lambda d: ruled(d, ROWS)] * 4)
    told: list[tuple[int, int, int]] = []
    extract_pdf_tables(document, pages=[2, 4, 3], on_page=lambda *page: told.append(page))
    assert told == [(2, 1, 3), (3, 2, 3), (4, 3, 3)]

    class Stop(Exception):
        pass

    def stop_after_two(page: int, done: int, total: int) -> None:
        told.append((page, done, total))
        if done == 2:
            raise Stop

    told.clear()
    with pytest.raises(Stop):
        extract_pdf_tables(document, on_page=stop_after_two)
    assert told == [(1, 1, 4), (2, 2, 4)]
    # The document was closed and the lock released: the next reading works.
    assert len(extract_pdf_tables(document).tables) == 4


def test_a_rotated_page_is_read_the_way_its_text_runs() -> None:
    result = extract_pdf_tables(pdf(lambda d: ruled(d, ROWS), rotate=90))
    assert [t.grid() for t in result.tables] == [ROWS]


def test_a_table_printed_sideways_is_read_along_its_rows() -> None:
    def draw(d: canvas.Canvas) -> None:
        d.saveState()
        d.translate(300, 100)
        d.rotate(90)  # the text runs up the page: a landscape table on a portrait page
        ruled(d, ROWS, left=0, top=0)
        d.restoreState()

    assert [t.grid() for t in extract_pdf_tables(pdf(draw)).tables] == [ROWS]


def test_a_larger_capital_stays_in_its_word() -> None:
    def draw(d: canvas.Canvas) -> None:
        rows = [["Country", "Share"], ["Netherlands", "12"], ["Spain", "7"], ["Italy", "3"]]
        for r, (name, value) in enumerate(rows):
            y = 700 - 16 * r
            d.setFont("Helvetica", 12)
            d.drawString(72, y, name[0])
            d.setFont("Helvetica", 9)
            d.drawString(72 + d.stringWidth(name[0], "Helvetica", 12), y, name[1:])
            d.drawString(250, y, value)

    grid = extract_pdf_tables(pdf(draw)).tables[0].grid()
    assert [row[0] for row in grid] == ["Country", "Netherlands", "Spain", "Italy"]


def test_labels_of_a_line_chart_are_no_table_but_a_table_beside_it_is() -> None:
    def draw(d: canvas.Canvas) -> None:
        d.setFont("Helvetica", 8)
        for n, label in enumerate(["400", "300", "200", "100"]):
            d.drawString(72, 760 - 20 * n, label)
            d.drawString(300, 760 - 20 * n, f"Series {n}")
        d.setLineWidth(1)
        points = [(100, 700), (140, 740), (180, 710), (220, 760), (260, 720), (290, 750)]
        for (ax, ay), (bx, by) in itertools.pairwise(points):
            d.line(ax, ay, bx, by)
        unruled(d, ROWS, top=500)

    assert [t.grid() for t in extract_pdf_tables(pdf(draw)).tables] == [ROWS]


def test_framed_charts_in_a_grid_are_no_table() -> None:
    def draw(d: canvas.Canvas) -> None:
        d.setLineWidth(0.5)
        d.setFont("Helvetica", 7)
        for left, bottom in itertools.product((72, 292), (500, 300)):
            d.rect(left, bottom, 220, 200)
            for n in range(6):
                d.drawString(left + 4, bottom + 180 - 30 * n, f"{500 - 100 * n}")
            d.drawString(left + 60, bottom + 188, "Spread (bp)")
            wave = [(left + 30 + 3 * k, bottom + 60 + 40 * math.sin(k / 4)) for k in range(60)]
            for (ax, ay), (bx, by) in itertools.pairwise(wave):
                d.line(ax, ay, bx, by)
        unruled(d, ROWS, top=250)

    assert [t.grid() for t in extract_pdf_tables(pdf(draw)).tables] == [ROWS]


def test_a_bulleted_list_is_no_table_but_a_table_under_it_is() -> None:
    def draw(d: canvas.Canvas) -> None:
        d.setFont("Helvetica", 10)
        items = ["higher levels for Greece", "lower levels for all", "higher levels in 2010"]
        for n, item in enumerate(items):
            d.drawString(90, 760 - 14 * n, "\u2022")
            d.drawString(110, 760 - 14 * n, item)
        unruled(d, ROWS, top=600)

    assert [t.grid() for t in extract_pdf_tables(pdf(draw)).tables] == [ROWS]


def test_a_page_without_text_needs_ocr_and_the_others_are_still_read() -> None:
    def scan(d: canvas.Canvas) -> None:
        image = Image.new("RGB", (200, 100), "white")
        d.drawImage(ImageReader(image), 72, 500, width=400, height=200)

    result = extract_pdf_tables(pdf(scan, lambda d: ruled(d, ROWS)))
    assert [t.page for t in result.tables] == [2]
    assert [i.code for i in result.page_issues[1]] == ["needs_ocr"]
    assert 2 not in result.page_issues


def test_a_page_over_its_time_gets_an_issue_and_the_rest_is_read() -> None:
    def crowded(d: canvas.Canvas) -> None:
        # 100,000 tiny text objects: about a second of work, over the 0.3 s allowed.
        d.setFont("Helvetica", 1)
        for n in range(100_000):
            d.drawString(20 + (n % 250) * 2, 20 + (n // 250) * 2 % 800, "x")

    result = extract_pdf_tables(pdf(crowded, lambda d: ruled(d, ROWS)), page_seconds=0.3)
    assert [i.code for i in result.page_issues[1]] == ["page_timeout"]
    assert [t.grid() for t in result.tables] == [ROWS]


def test_bad_input_raises_an_error_with_a_stable_code() -> None:
    good = pdf(lambda d: ruled(d, ROWS))
    with pytest.raises(CorruptPdf) as corrupt:
        extract_pdf_tables(b"%PDF-1.4\n" + b"\x00garbage" * 100)
    assert corrupt.value.code == "extraction.corrupt_pdf"
    with pytest.raises(CorruptPdf):
        extract_pdf_tables(b"PK\x03\x04 not a pdf")
    with pytest.raises(CorruptPdf):
        extract_pdf_tables(good[: len(good) // 3])
    with pytest.raises(EncryptedPdf) as encrypted:
        extract_pdf_tables(pdf(lambda d: ruled(d, ROWS), encrypt="secret"))
    assert encrypted.value.code == "extraction.encrypted_pdf"
    with pytest.raises(PdfTooLarge):
        extract_pdf_tables(pdf(*[lambda d: None] * 3), max_pages=2)
    with pytest.raises(BadPageSelection):
        extract_pdf_tables(good, pages=[2])


# --- ICDAR 2013 regression ------------------------------------------------------------------

SPACE = re.compile(r"\s+")


def truth(path: Path) -> list[tuple[int, list[str]]]:
    tables = []
    for region in ET.parse(path).getroot().iter("region"):  # noqa: S314 (our own data files)
        cells = sorted(
            (int(c.get("start-row", 0)), int(c.get("start-col", 0)), c.findtext("content") or "")
            for c in region.iter("cell")
        )
        # Case folded: some of these fonts map a capital glyph to a small letter in their
        # ToUnicode, which PDFium and pdfminer read differently; the structure is what counts.
        texts = [SPACE.sub(" ", t).strip().casefold() for _, _, t in cells]
        tables.append((int(region.get("page", 1)), [t for t in texts if t]))
    return tables


@pytest.mark.parametrize(
    ("name", "floor"),
    [
        ("eu-001", 0.95),  # cells shaded line by line, drawn apart
        ("eu-008", 0.95),  # a body ruled between its columns only
        ("eu-012", 0.9),  # grids open at their sides
        ("eu-016", 0.9),
        ("eu-018", 0.9),
        ("eu-025", 0.95),
    ],
)
def test_icdar_documents_keep_their_similarity(name: str, floor: float) -> None:
    pdf_path = ICDAR / f"{name}.pdf"
    if not pdf_path.exists():
        where = f"{pdf_path} is not there"
        if os.environ.get(SHARED_DATA_VARIABLE):  # asked for and absent: CI must not go green
            pytest.fail(f"{where}, though {SHARED_DATA_VARIABLE} names it", pytrace=False)
        pytest.skip(f"{where}: set {SHARED_DATA_VARIABLE} to the shared data directory")
    expected = truth(ICDAR / f"{name}-str.xml")
    found = extract_pdf_tables(pdf_path.read_bytes(), pages=sorted({p for p, _ in expected}))
    scores = []
    for page, cells in expected:
        on_page = [
            [SPACE.sub(" ", x).strip().casefold() for row in t.grid() for x in row if x.strip()]
            for t in found.tables
            if t.page == page
        ]
        ratios = [difflib.SequenceMatcher(None, cells, c, autojunk=False).ratio() for c in on_page]
        scores.append(max(ratios, default=0.0))
    assert sum(scores) / len(scores) >= floor
