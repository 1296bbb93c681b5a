"""One worksheet of an XLSX drawn as a PDF page range, the way Excel would print it.

openpyxl reads the sheet, ReportLab draws it; LibreOffice is an optional second engine for sheets
that need what this one leaves out (charts, images, conditional formatting, rich text runs).

Rules this engine follows, where Excel leaves room or we differ on purpose:

- Units: a column width of `w` characters is `trunc(7w + 0.49)` pixels of Excel's default font
  (Calibri 11, 7 px per digit) and a pixel is 0.75 pt; row heights are already in points.
  Unset widths and heights use the sheet's defaults (8.43 characters, 15 pt unless it says).
- Text is DejaVu (shipped, so Greek and Cyrillic render) at 85% of the cell's font size, which
  gives about Calibri's x-height and digit width, so text fits the columns Excel sized for it.
- A row with a stored height keeps it and its text is clipped to it, as in Excel. A row without
  one is auto-sized to its wrapped text and largest font, as Excel and LibreOffice do on opening.
  Merged cells never grow rows; their text is clipped to the merged box.
- Text that does not wrap overflows into empty neighbours (right for left-aligned, left for
  right-aligned, both for centred) and is clipped at the first non-empty one. A number that does
  not fit is shrunk down to 60% of its size, then shown as `###`, like Excel's `####`.
- Header rows repeated on each page: the sheet's print titles when set. Otherwise the range's
  leading rows up to the first with text in two cells (or in its only column), within its first
  three rows, when they hold only text and that row stands out from the body: a cell in it is
  bold or filled, or a number or date follows within 20 rows. So a title row, a blank row and the
  column titles repeat together; a list of names repeats nothing. A header taller than half the
  page is not repeated.
- The range is the argument, else the sheet's single-range print area, else A1 to the last used
  cell; trailing rows and columns whose cells show nothing (no value, fill or border) are dropped
  in every case, and an empty range is one blank page. Hidden rows and columns are skipped. A
  cell the file does not store takes its row's format, else its column's (a filled row). A
  merge's text is placed in the whole merged box and clipped to what each page shows of it.
- Fit to width scales the sheet down (never up) so all columns fit the page width, to no less
  than 25%; past that, and without fit to width, columns that overflow go to following pages
  ("down, then over" unless the sheet asks for "over, then down").
- Number formats follow Excel's codes (sections, colours, literals, scaling commas, percent,
  scientific, fractions, dates and elapsed times, accounting fill). Separators are `,` and `.`
  unless the format names a locale (`[$€-407]`): then that locale's. Month and day names are
  English; the system short date (built-in format 14) is shown as ISO `yyyy-mm-dd`. A format
  stored only as a built-in id is read from that id, a locale's own ids (East Asian, Thai) as
  the built-in they stand for, dates in the workbook's date system (1900 or 1904).
- A right-to-left sheet prints mirrored: column A at the right margin, a cell's left border on
  its right; text keeps its alignment within the cell.
- Formula cells show their cached result; a formula without one (the file was written by a
  library, not saved by a spreadsheet application) is `UncachedFormula`, naming the cell. An
  empty text result (`=IF(..,"",..)`, stored as t="str" with an empty value) is fine.
- Safety: the zip's declared sizes are checked before anything is unpacked (100 MB in all, no
  member over 1 MB expanding more than 100 times); a sheet is refused as too large from its
  <dimension>, and from a streaming count of its rows, before openpyxl loads it in full.
- Not drawn: conditional formatting, charts, images, shapes, comments, rich text runs (a cell's
  text takes its cell's font), text rotation, diagonal borders, gradient fills, headers/footers.
"""

from __future__ import annotations

import colorsys
import io
import math
import re
import shutil
import subprocess  # nosec B404  # LibreOffice only, with arguments fixed here
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal
from fractions import Fraction
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

import openpyxl  # type: ignore[import-untyped]
import pikepdf
from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml.ElementTree import ParseError, iterparse  # type: ignore[import-untyped]
from openpyxl.packaging.relationship import get_rels_path  # type: ignore[import-untyped]
from openpyxl.styles.colors import COLOR_INDEX  # type: ignore[import-untyped]
from openpyxl.styles.numbers import (  # type: ignore[import-untyped]
    BUILTIN_FORMATS,
    BUILTIN_FORMATS_MAX_SIZE,
    is_date_format,
    is_timedelta_format,
)
from openpyxl.utils.cell import (  # type: ignore[import-untyped]
    column_index_from_string,
    get_column_letter,
)
from openpyxl.utils.datetime import from_excel  # type: ignore[import-untyped]
from openpyxl.worksheet.properties import PageSetupProperties  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from paperworks.booklets.engine_errors import (
    BadWorkbook,
    EngineError,
    SheetTooLarge,
    UncachedFormula,
    UnknownSheet,
)
from paperworks.kit import bundled_fonts
from paperworks.kit.xlsx_archive import (
    DAMAGED_ZIP,
    UNSAFE_XML,
    NotAWorkbook,
    WorkbookTooLarge,
    open_xlsx_archive,
    reason,
)

Orientation = Literal["portrait", "landscape"]
RGB = tuple[float, float, float]

# Upper bounds of what one page can hold (25% scale, 10 pt rows), for refusing a sheet before
# it is loaded; the exact page count is checked again after layout.
ROWS_PER_PAGE_BOUND = 340
CELLS_PER_PAGE_BOUND = 10_000
MIN_SCALE = 0.25
FONT_FACTOR = 0.85
LINE_FACTOR = 15 / 11  # Excel's row pitch per point of font size: Calibri 11 sits in 15 pt rows
PAD_X = 1.5
INDENT_PT = 9.0
SHRINK_FLOOR = 0.6
HEADER_DEPTH = 3
HEADER_LOOKAHEAD = 20
MAX_TITLE_ROWS = 40
# Excel itself shows at most 1,024 characters in a cell; the rest only in the formula bar.
MAX_CELL_CHARS = 1024
SOFFICE_TIMEOUT_S = 120

_RANGE = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+):\$?([A-Za-z]{1,3})\$?(\d+)$")
_AREA = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+):\$?([A-Za-z]{1,3})\$?(\d+)")
_COORD = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
_EMPTY_SHEET = (
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<sheetData/></worksheet>"
)


class ConverterMissing(EngineError):
    """The LibreOffice engine was asked for on a machine without LibreOffice: a setup problem."""

    code = "booklets.converter_missing"


# --------------------------------------------------------------------------------------------
# Public entry points


def sheet_names(xlsx: bytes) -> list[str]:
    """The workbook's worksheets in tab order (chart sheets have no cells to render)."""
    _open_archive(xlsx).close()
    book = _read_only_book(xlsx)
    try:
        return [str(ws.title) for ws in book.worksheets]
    finally:
        book.close()


def render_sheet(
    xlsx: bytes,
    sheet: str,
    *,
    cell_range: str | None = None,
    orientation: Orientation | None = None,
    fit_to_width: bool = True,
    max_pages: int = 50,
    title: str | None = None,
) -> bytes:
    """The worksheet `sheet` (or its `cell_range`, like "A1:F40") as an A4 PDF."""
    requested = _parse_range(cell_range) if cell_range else None
    with _opened(xlsx, sheet) as (archive, book, ro_ws):
        bounds, extent = _checked_extent(archive, ro_ws, requested, sheet, max_pages)
        if extent is None:
            return _blank_pdf(orientation or "portrait", title)
        ws = _load_sheet(xlsx, archive, book, ro_ws)
    sheet_view = _Sheet.read(ws, extent, bounds)
    plan = _plan(sheet_view, orientation, fit_to_width)
    if plan.page_count > max_pages:
        raise SheetTooLarge(
            f"Sheet {sheet!r} needs {plan.page_count} pages; the limit is {max_pages}. "
            "Choose a smaller range or turn on fit to width.",
        )
    return _draw(sheet_view, plan, title)


def check_sheet_fits(
    xlsx: bytes, sheet: str, *, cell_range: str | None = None, max_pages: int = 50
) -> None:
    """Refuse now a sheet (or range) that could never fit in `max_pages`, streaming through it
    without loading it. Formulas without results are left to the renderer: LibreOffice computes
    them."""
    requested = _parse_range(cell_range) if cell_range else None
    with _opened(xlsx, sheet) as (archive, _, ro_ws):
        _checked_extent(archive, ro_ws, requested, sheet, max_pages, needs_results=False)


def render_sheet_with_libreoffice(
    xlsx: bytes,
    sheet: str,
    *,
    cell_range: str | None = None,
    orientation: Orientation | None = None,
    fit_to_width: bool = True,
    max_pages: int = 50,
    title: str | None = None,
) -> bytes:
    """The same page range made by LibreOffice, which draws charts, images and conditional
    formatting; not byte-for-byte reproducible, and it needs `soffice` on the machine."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise ConverterMissing("LibreOffice (soffice) is not installed on this server.")
    requested = _parse_range(cell_range) if cell_range else None

    def check(xlsx: bytes) -> None:
        with _opened(xlsx, sheet) as (archive, _, ro_ws):
            _checked_extent(archive, ro_ws, requested, sheet, max_pages)

    try:
        check(xlsx)
    except UncachedFormula:
        # LibreOffice computes what no application saved, from the whole workbook, before the
        # sheet is copied out on its own (where a formula could lose the sheets it refers to).
        xlsx = _soffice_convert(soffice, xlsx, "xlsx")
        check(xlsx)
    single = _single_sheet_copy(xlsx, sheet, requested, orientation, fit_to_width, title)
    pdf = _soffice_convert(soffice, single, "pdf")
    with pikepdf.open(io.BytesIO(pdf)) as document:
        pages = len(document.pages)
    if pages > max_pages:
        raise SheetTooLarge(f"Sheet {sheet!r} needs {pages} pages; the limit is {max_pages}.")
    return pdf


def format_value(value: object, number_format: str = "General") -> str:
    """`value` as Excel shows it under `number_format` (the text only, no colour or fill)."""
    return _format(value, number_format).text


# --------------------------------------------------------------------------------------------
# Opening the file safely


_MAX_ROW = 1_048_576
_MAX_COL = 16_384


@dataclass(frozen=True)
class _Box:
    """A block of cells, 1-based and inclusive, as Excel's A1:B2."""

    min_row: int
    min_col: int
    max_row: int
    max_col: int

    @property
    def rows(self) -> int:
        return self.max_row - self.min_row + 1

    @property
    def cols(self) -> int:
        return self.max_col - self.min_col + 1

    def holds(self, row: int, col: int) -> bool:
        return self.min_row <= row <= self.max_row and self.min_col <= col <= self.max_col


def _parse_range(text: str) -> _Box:
    match = _RANGE.match(text.strip())
    if match is None:
        raise EngineError(f"{text!r} is not a cell range like A1:F40.")
    try:
        cols = sorted(column_index_from_string(match[i].upper()) for i in (1, 3))
    except ValueError as exc:
        raise EngineError(f"{text!r} is not a cell range like A1:F40.") from exc
    rows = sorted(int(match[i]) for i in (2, 4))
    if rows[0] < 1 or rows[1] > _MAX_ROW or cols[1] > _MAX_COL:
        raise EngineError(f"{text!r} is outside a worksheet's {_MAX_ROW} rows and XFD columns.")
    return _Box(rows[0], cols[0], rows[1], cols[1])


def _open_archive(xlsx: bytes) -> zipfile.ZipFile:
    """The zip inside an XLSX, refused before anything is unpacked when it is no workbook we can
    read or its declared sizes are too big (`kit.xlsx_archive`)."""
    try:
        return open_xlsx_archive(xlsx)
    except (NotAWorkbook, WorkbookTooLarge) as exc:
        raise BadWorkbook(str(exc)) from exc


@contextmanager
def _opened(xlsx: bytes, sheet: str) -> Iterator[tuple[zipfile.ZipFile, Any, Any]]:
    """The checked zip, the workbook in openpyxl's read-only mode (fast: it reads no cells) and
    the sheet in it."""
    archive = _open_archive(xlsx)
    try:
        book = _read_only_book(xlsx)
        try:
            yield archive, book, _worksheet(book, sheet)
        finally:
            book.close()
    finally:
        archive.close()


def _checked_extent(
    archive: zipfile.ZipFile,
    ro_ws: Any,
    requested: _Box | None,
    sheet: str,
    max_pages: int,
    *,
    needs_results: bool = True,
) -> tuple[_Box, _Box | None]:
    """The range to render and the part of it holding cells (None: nothing), after refusing a
    sheet too large to render or (`needs_results`) with formulas lacking a result."""
    bounds = requested or _print_area(ro_ws) or _Box(1, 1, _MAX_ROW, _MAX_COL)
    _precheck_size(ro_ws, bounds, sheet, max_pages)
    extent = _scan_sheet(archive, ro_ws._worksheet_path, bounds, sheet, max_pages, needs_results)
    if extent is not None:
        _refuse_if_too_many(extent.rows, extent.cols, sheet, max_pages)
    return bounds, extent


def _read_only_book(xlsx: bytes) -> Any:
    try:
        return openpyxl.load_workbook(io.BytesIO(xlsx), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises a grab bag (KeyError, ValueError, TypeError...)
        raise BadWorkbook(f"The workbook cannot be read: {reason(exc)}") from exc


def _worksheet(book: Any, sheet: str) -> Any:
    names = [str(ws.title) for ws in book.worksheets]
    if sheet not in names:
        raise UnknownSheet(f"The workbook has no sheet {sheet!r}.", choices=names)
    return book[sheet]


def _print_area(ro_ws: Any) -> _Box | None:
    """The sheet's print area when it is one block; openpyxl keeps it on a private attribute
    in read-only mode, and several blocks print as separate pages we do not model."""
    area = getattr(ro_ws, "_print_area", None)
    blocks = _AREA.findall(str(area)) if area is not None else []
    if len(blocks) != 1:
        return None
    return _parse_range("{}{}:{}{}".format(*blocks[0]))


def _precheck_size(ro_ws: Any, bounds: _Box, sheet: str, max_pages: int) -> None:
    """Refuse from the sheet's stated dimension alone, before any cell is read."""
    if ro_ws.max_row is None or ro_ws.max_column is None:
        return  # no <dimension>: the scan counts rows as it goes instead
    rows = min(int(ro_ws.max_row), bounds.max_row) - bounds.min_row + 1
    cols = min(int(ro_ws.max_column), bounds.max_col) - bounds.min_col + 1
    _refuse_if_too_many(rows, max(cols, 1), sheet, max_pages)


def _refuse_if_too_many(rows: int, cols: int, sheet: str, max_pages: int) -> None:
    if rows > max_pages * ROWS_PER_PAGE_BOUND or rows * cols > max_pages * CELLS_PER_PAGE_BOUND:
        raise SheetTooLarge(
            f"Sheet {sheet!r} has {rows} rows and {cols} columns, more than fit in "
            f"{max_pages} pages (the limit); choose a smaller range.",
        )


def _scan_sheet(
    archive: zipfile.ZipFile,
    part: str,
    bounds: _Box,
    sheet: str,
    max_pages: int,
    needs_results: bool,
) -> _Box | None:
    """The block from the range's corner to its last stored cell, in one streaming pass that also
    finds formulas without a cached result. openpyxl cannot tell those from formulas whose
    result is empty text (both read as None), and the latter are everywhere (=IF(..,"",..))."""
    try:
        return _scan_rows(archive, part, bounds, sheet, max_pages, needs_results)
    except DefusedXmlException as exc:
        raise BadWorkbook(f"The workbook cannot be read: sheet {sheet!r}: {UNSAFE_XML}.") from exc
    except (ParseError, KeyError, ValueError, *DAMAGED_ZIP) as exc:
        raise BadWorkbook(f"The workbook cannot be read: sheet {sheet!r}: {exc}") from exc


def _scan_rows(
    archive: zipfile.ZipFile,
    part: str,
    bounds: _Box,
    sheet: str,
    max_pages: int,
    needs_results: bool,
) -> _Box | None:
    last_row = last_col = 0
    row = col = 0
    row_cap = max_pages * ROWS_PER_PAGE_BOUND
    with archive.open(part) as source:
        # The workbook is the user's: defusedxml refuses entity declarations (billion laughs,
        # external entities) before expat expands any. openpyxl uses defusedxml too when present.
        for event, element in iterparse(source, events=("start", "end")):
            tag = element.tag.rpartition("}")[2]
            if event == "start":
                if tag == "row":
                    row = int(element.get("r") or row + 1)
                    col = 0
                    if row > bounds.max_row:
                        break
                continue
            if tag == "row":
                element.clear()
            elif tag == "c":
                row, col = _cell_position(element.get("r"), row, col)
                if not bounds.holds(row, col):
                    continue
                if needs_results and _lacks_cached_value(element):
                    raise UncachedFormula(
                        f"Cell {get_column_letter(col)}{row} on sheet {sheet!r} has a formula "
                        "with no saved result; open the workbook in Excel or LibreOffice and "
                        "save it, then upload it again."
                    )
                last_row, last_col = max(last_row, row), max(last_col, col)
                if last_row - bounds.min_row + 1 > row_cap:
                    raise SheetTooLarge(
                        f"Sheet {sheet!r} has more than {row_cap} rows, more than fit in "
                        f"{max_pages} pages (the limit); choose a smaller range."
                    )
    if last_row == 0:
        return None
    return _Box(bounds.min_row, bounds.min_col, last_row, last_col)


def _cell_position(ref: str | None, row: int, col: int) -> tuple[int, int]:
    if ref:
        match = _COORD.match(ref)
        if match:
            return int(match[2]), column_index_from_string(match[1].upper())
    return row, col + 1


def _lacks_cached_value(element: Any) -> bool:
    """A formula without <v>, or with an empty one that is not a text result: spreadsheet
    applications store an empty text result as t="str" with <v></v>, while openpyxl writes
    every formula with an empty <v> and no type."""
    children = {child.tag.rpartition("}")[2]: child for child in element}
    if "f" not in children:
        return False
    value = children.get("v")
    return value is None or (not value.text and element.get("t") != "str")


def _load_sheet(xlsx: bytes, archive: zipfile.ZipFile, book: Any, ro_ws: Any) -> Any:
    """The sheet in openpyxl's full mode (merges, widths and styles need it), with every other
    worksheet emptied first: full mode loads all sheets, and a workbook's big data sheet must
    not slow down printing its summary."""
    keep = ro_ws._worksheet_path
    others = {ws._worksheet_path for ws in book.worksheets} - {keep}
    try:
        # Copying reads every part: a damaged one fails here (BadZipFile, zlib.error).
        data = _without_sheets(archive, others) if others else xlsx
        workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # same grab bag as in read-only mode
        raise BadWorkbook(f"The workbook cannot be read: {reason(exc)}") from exc
    return workbook[ro_ws.title]


def _without_sheets(archive: zipfile.ZipFile, parts: set[str]) -> bytes:
    """A copy of the package whose `parts` are empty worksheets without relationships (charts,
    comments, tables). The workbook part is untouched, so sheet indexes and names still match.
    Stored uncompressed: it only lives for the load."""
    dropped = {get_rels_path(part) for part in parts}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as copy:
        for member in archive.infolist():
            if member.filename in dropped:
                continue
            body = _EMPTY_SHEET if member.filename in parts else archive.read(member)
            copy.writestr(member.filename, body)
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# Reading the sheet into what the layout needs


@dataclass(frozen=True)
class _Side:
    width: float
    color: RGB
    dash: tuple[float, ...]
    double: bool = False


@dataclass(frozen=True)
class _Style:
    face: str
    bold: bool
    size: float  # Excel points; drawn at FONT_FACTOR of it
    color: RGB
    underline: bool
    strike: bool
    fill: RGB | None
    left: _Side | None
    right: _Side | None
    top: _Side | None
    bottom: _Side | None
    horizontal: str
    vertical: str
    wrap: bool
    shrink: bool
    indent: int
    number_format: str

    @property
    def shows(self) -> bool:
        return self.fill is not None or any((self.left, self.right, self.top, self.bottom))


@dataclass(frozen=True)
class _Cell:
    text: str
    style: _Style
    kind: Literal["text", "number", "centre", "empty"]
    color: RGB | None = None  # from the number format's [Red]
    split: int | None = None  # accounting formats: text before it left, after it right

    @property
    def shows(self) -> bool:
        return bool(self.text) or self.style.shows


@dataclass
class _Sheet:
    """What the layout needs from the worksheet: visible rows and columns with their sizes, the
    cells that show something, merges, the header rows and the page setup."""

    cols: list[int]
    col_width: dict[int, float]
    body: list[int]
    header: list[int]
    row_height: dict[int, float]
    cells: dict[tuple[int, int], _Cell]
    merges: list[_Box]
    merge_at: dict[tuple[int, int], _Box]
    row_breaks: set[int]
    orientation: str | None
    margins: tuple[float, float, float, float]  # left, right, top, bottom in points
    centred: bool
    gridlines: bool
    over_then_down: bool
    scale: float | None
    right_to_left: bool = False  # column A on the right, as Excel prints such sheets

    @cached_property
    def col_pos(self) -> dict[int, float]:
        """Where each column starts from the left of the whole sheet as printed."""
        if not self.right_to_left:
            return _positions(self.cols, self.col_width)
        return _positions(self.cols[::-1], self.col_width)

    @cached_property
    def body_pos(self) -> dict[int, float]:
        return _positions(self.body, self.row_height)

    @cached_property
    def header_pos(self) -> dict[int, float]:
        return _positions(self.header, self.row_height)

    @classmethod
    def read(cls, ws: Any, extent: _Box, bounds: _Box) -> _Sheet:
        styles = _StyleReader(ws.parent)
        stored = set(ws._cells)  # before reading creates the cells it asks for
        box = _used_box(ws, extent, bounds, styles)
        col_width = _column_widths(ws, box)
        title_rows = _title_rows(ws)
        visible_rows = [r for r in _span(box.min_row, box.max_row) if not _row_hidden(ws, r)]
        header_rows = [r for r in title_rows if not _row_hidden(ws, r)]
        cols = sorted(col_width)
        cells = _read_cells(ws, sorted(set(visible_rows) | set(header_rows)), cols, styles, stored)
        right_to_left = bool(ws.views.sheetView and ws.views.sheetView[0].rightToLeft)
        if right_to_left:
            cells = {key: _mirrored(cell) for key, cell in cells.items()}
        merges = _merges(ws, box)
        merge_at = {cell: merge for merge in merges for cell in _merge_cells(merge)}
        if not header_rows:
            header_rows = _detected_header(visible_rows, cols, cells)
        heights = _row_heights(ws, sorted(set(visible_rows) | set(header_rows)))
        heights = _autofit(ws, heights, cols, col_width, cells, merge_at)
        setup, margins = ws.page_setup, ws.page_margins
        return cls(
            cols=cols,
            col_width=col_width,
            body=visible_rows,
            header=header_rows,
            row_height=heights,
            cells=cells,
            merges=merges,
            merge_at=merge_at,
            row_breaks={int(b.id) for b in ws.row_breaks.brk if b.id},
            orientation=setup.orientation if setup.orientation in _ORIENTATIONS else None,
            margins=(
                _margin(margins.left),
                _margin(margins.right),
                _margin(margins.top),
                _margin(margins.bottom),
            ),
            centred=bool(ws.print_options.horizontalCentered),
            gridlines=bool(ws.print_options.gridLines),
            over_then_down=setup.pageOrder == "overThenDown",
            scale=float(setup.scale) / 100 if setup.scale and 10 <= setup.scale <= 400 else None,
            right_to_left=right_to_left,
        )


_ORIENTATIONS = ("portrait", "landscape")


def _ids(text: str) -> list[str]:
    """Words of a table written as one string, to keep long constant lists short."""
    return text.split()


def _mirrored(cell: _Cell) -> _Cell:
    """A right-to-left sheet is printed mirrored: a cell's left border is on its right."""
    style = replace(cell.style, left=cell.style.right, right=cell.style.left)
    return replace(cell, style=style)


def _margin(inches: float | None) -> float:
    return min(max(float(inches if inches is not None else 0.75), 0.0), 3.0) * 72


def _span(first: int, last: int) -> range:
    return range(first, last + 1)


def _row_hidden(ws: Any, row: int) -> bool:
    dim = ws.row_dimensions.get(row)
    return bool(dim is not None and dim.hidden)


def _used_box(ws: Any, extent: _Box, bounds: _Box, styles: _StyleReader) -> _Box:
    """`extent` without trailing rows and columns that show nothing, stretched by merges whose
    first cell shows something (a merge's other cells are often not stored at all), up to
    `bounds`, the range asked for."""
    last_row = last_col = 0
    for row in ws.iter_rows(
        min_row=extent.min_row,
        max_row=extent.max_row,
        min_col=extent.min_col,
        max_col=extent.max_col,
    ):
        for cell in row:
            if _shows(cell, styles):
                last_row, last_col = max(last_row, cell.row), max(last_col, cell.column)
    for merged in ws.merged_cells.ranges:
        if bounds.holds(merged.min_row, merged.min_col) and _shows(
            ws.cell(row=merged.min_row, column=merged.min_col), styles
        ):
            last_row = max(last_row, min(merged.max_row, bounds.max_row))
            last_col = max(last_col, min(merged.max_col, bounds.max_col))
    return _Box(
        extent.min_row,
        extent.min_col,
        max(last_row, extent.min_row),
        max(last_col, extent.min_col),
    )


def _shows(cell: Any, styles: _StyleReader) -> bool:
    value: object = cell.value
    if value is None:
        return styles.of(cell).shows
    return value != ""


def _column_widths(ws: Any, box: _Box) -> dict[int, float]:
    """Points per visible column of `box`; a <col> element may cover a span of columns."""
    default = _default_column_width(ws)
    widths = dict.fromkeys(_span(box.min_col, box.max_col), default)
    for dim in ws.column_dimensions.values():
        first = dim.min or column_index_from_string(dim.index)
        last = dim.max or first
        for col in _span(max(first, box.min_col), min(last, box.max_col)):
            if dim.hidden:
                widths.pop(col, None)
            elif dim.width:
                widths[col] = _width_points(float(dim.width))
    return {col: width for col, width in widths.items() if width > 0}


def _width_points(width: float) -> float:
    return math.trunc(width * 7 + 0.49) * 0.75


def _default_column_width(ws: Any) -> float:
    fmt = ws.sheet_format
    if fmt.defaultColWidth:
        return _width_points(float(fmt.defaultColWidth))
    base = float(fmt.baseColWidth or 8)
    # Excel pads the base width by 5 px and rounds up to a multiple of 8 px.
    return math.ceil((base * 7 + 5) / 8) * 8 * 0.75


def _title_rows(ws: Any) -> list[int]:
    """The print title rows; more than MAX_TITLE_ROWS could never repeat (they would fill half
    the page), so they are not read at all."""
    titles = ws.print_title_rows
    match = re.fullmatch(r"\$?(\d+):\$?(\d+)", titles or "")
    if match is None or int(match[2]) - int(match[1]) >= MAX_TITLE_ROWS:
        return []
    return list(_span(int(match[1]), int(match[2])))


def _read_cells(
    ws: Any,
    rows: list[int],
    cols: list[int],
    styles: _StyleReader,
    stored: set[tuple[int, int]],
) -> dict[tuple[int, int], _Cell]:
    cells: dict[tuple[int, int], _Cell] = {}
    row_styles, col_styles = _line_styles(ws, cols)
    for row in rows:
        for col in cols:
            line = row_styles.get(row) or col_styles.get(col)
            if line is not None and (row, col) not in stored:
                # A cell the file does not store takes its row's format, else its column's
                # (a filled row or column in Excel stores only the cells with content).
                read = _Cell("", styles.of(line), "empty")
            else:
                cell = ws.cell(row=row, column=col)
                read = _read_cell(cell, styles.of(cell))
            if read.shows:
                cells[(row, col)] = read
    return cells


def _line_styles(ws: Any, cols: list[int]) -> tuple[dict[int, Any], dict[int, Any]]:
    """The rows and the columns (of `cols`) given a format of their own."""
    rows = {r: dim for r, dim in ws.row_dimensions.items() if dim.customFormat}
    wanted = set(cols)
    columns = {}
    for dim in ws.column_dimensions.values():
        if dim.has_style:
            first = dim.min or column_index_from_string(dim.index)
            columns.update(dict.fromkeys(wanted.intersection(_span(first, dim.max or first)), dim))
    return rows, columns


def _read_cell(cell: Any, style: _Style) -> _Cell:
    value = cell.value
    if value is None:
        return _Cell("", style, "empty")
    if cell.data_type == "e" or isinstance(value, bool):
        kind: Literal["text", "number", "centre"] = "centre"
        return _Cell(format_value(value) if isinstance(value, bool) else str(value), style, kind)
    if isinstance(value, int | float) and is_date_format(style.number_format):
        # A date under a format openpyxl did not take for one (an aliased built-in id), read
        # in the workbook's date system as openpyxl reads the others.
        timed = is_timedelta_format(style.number_format)
        try:
            value = from_excel(value, cell.parent.parent.epoch, timedelta=timed)
        except (OverflowError, ValueError):
            value = -1  # shown as ###### like any serial no date can be
    formatted = _format(value, style.number_format)
    kind = "text" if isinstance(value, str) else "number"
    text = formatted.text[:MAX_CELL_CHARS]
    return _Cell(text, style, kind, formatted.color, formatted.split)


def _merges(ws: Any, box: _Box) -> list[_Box]:
    found = []
    for merged in ws.merged_cells.ranges:
        clipped = _Box(
            max(merged.min_row, box.min_row),
            max(merged.min_col, box.min_col),
            min(merged.max_row, box.max_row),
            min(merged.max_col, box.max_col),
        )
        if clipped.min_row <= clipped.max_row and clipped.min_col <= clipped.max_col:
            found.append(
                _Box(merged.min_row, merged.min_col, merged.max_row, merged.max_col)
                if clipped.holds(merged.min_row, merged.min_col)
                else clipped
            )
    return found


def _detected_header(
    rows: list[int], cols: list[int], cells: dict[tuple[int, int], _Cell]
) -> list[int]:
    """The leading rows that read as a title and column titles (see the module's rules)."""
    for depth, row in enumerate(rows[:HEADER_DEPTH]):
        texts = [cells[(row, c)] for c in cols if (row, c) in cells and cells[(row, c)].text]
        if any(cell.kind != "text" for cell in texts):
            return []
        if len(texts) < min(2, len(cols)):
            continue  # a title above the column titles, or a blank row
        body = rows[depth + 1 :]
        stands_out = any(cell.style.fill is not None or cell.style.bold for cell in texts) or any(
            cells[(r, c)].kind == "number"
            for r in body[:HEADER_LOOKAHEAD]
            for c in cols
            if (r, c) in cells
        )
        return rows[: depth + 1] if body and stands_out else []
    return []


def _row_heights(ws: Any, rows: list[int]) -> dict[int, float]:
    """Stored heights; rows without one get -1, sized by `_autofit`."""
    heights = {}
    for row in rows:
        dim = ws.row_dimensions.get(row)
        heights[row] = float(dim.ht) if dim is not None and dim.ht is not None else -1.0
    return heights


def _autofit(
    ws: Any,
    heights: dict[int, float],
    cols: list[int],
    col_width: dict[int, float],
    cells: dict[tuple[int, int], _Cell],
    merge_at: dict[tuple[int, int], _Box],
) -> dict[int, float]:
    default = float(ws.sheet_format.defaultRowHeight or 15)
    fitted = {}
    for row, height in heights.items():
        if height >= 0:
            fitted[row] = height
            continue
        needed = default
        for col in cols:
            cell = cells.get((row, col))
            merge = merge_at.get((row, col))
            if cell is None or not cell.text or (merge and merge.rows > 1):
                continue
            # Merged text never wraps the row taller, but its font size still counts.
            wraps = cell.style.wrap and merge is None
            lines = len(_lines(cell, col_width[col])) if wraps else 1
            needed = max(needed, lines * cell.style.size * LINE_FACTOR)
        fitted[row] = needed
    return fitted


# --------------------------------------------------------------------------------------------
# Styles


_BORDER_STYLES: dict[str, tuple[float, tuple[float, ...]]] = {
    "hair": (0.25, ()),
    "thin": (0.6, ()),
    "dotted": (0.6, (0.6, 1.2)),
    "dashed": (0.6, (2.5, 1.5)),
    "dashDot": (0.6, (3, 1.5, 0.6, 1.5)),
    "dashDotDot": (0.6, (3, 1.5, 0.6, 1.5, 0.6, 1.5)),
    "medium": (1.2, ()),
    "mediumDashed": (1.2, (4, 2)),
    "mediumDashDot": (1.2, (4, 2, 1, 2)),
    "mediumDashDotDot": (1.2, (4, 2, 1, 2, 1, 2)),
    "slantDashDot": (1.2, (4, 1, 1.5, 1)),
    "thick": (1.8, ()),
    "double": (0.5, ()),
}
# Share of the foreground colour in each patterned fill, for a flat approximation.
_PATTERN_DENSITY = {
    "solid": 1.0,
    "darkGray": 0.75,
    "mediumGray": 0.5,
    "lightGray": 0.25,
    "gray125": 0.125,
    "gray0625": 0.0625,
}
_BUILTIN_FIXES = {
    44: '_("$"* #,##0.00_);_("$"* \\(#,##0.00\\);_("$"* "-"??_);_(@_)',
    47: "mm:ss.0",
}
# Locale-dependent built-in ids and the built-in each shows as outside its locale, as Excel and
# LibreOffice do: 14 the short date, 21 the time, 1-4 numbers, 9-13 percent and fractions.
_BUILTIN_ALIASES = {
    **dict.fromkeys([*range(27, 32), 36, *range(50, 59), 71, 72], 14),
    **dict.fromkeys([32, 33, 34, 35, 77], 21),
    **{59: 1, 60: 2, 61: 3, 62: 4, 67: 9, 68: 10, 69: 12, 70: 13, 73: 15, 74: 16, 75: 17},
    **{76: 20, 78: 22, 79: 45, 80: 46, 81: 47},
}
_SERIF_HINTS = ("times", "cambria", "georgia", "garamond", "serif", "book", "palatino", "roman")
_BLACK: RGB = (0.0, 0.0, 0.0)
_WHITE: RGB = (1.0, 1.0, 1.0)
# Office's default theme, for workbooks without one: lt1, dk1, lt2, dk2, accents, links.
_DEFAULT_THEME = tuple(
    _ids("FFFFFF 000000 E7E6E6 44546A 4472C4 ED7D31 A5A5A5 FFC000 5B9BD5 70AD47 0563C1 954F72")
)


class _StyleReader:
    """Resolved cell styles, one per openpyxl style id: reading `cell.font` and friends builds
    proxies each time and a sheet has few distinct styles."""

    def __init__(self, workbook: Any) -> None:
        self._theme = _theme_colours(getattr(workbook, "loaded_theme", None))
        self._cache: dict[int, _Style] = {}

    def of(self, cell: Any) -> _Style:
        key = int(cell.style_id)
        style = self._cache.get(key)
        if style is None:
            style = self._cache[key] = self._resolve(cell)
        return style

    def _resolve(self, cell: Any) -> _Style:
        font, align, border = cell.font, cell.alignment, cell.border
        return _Style(
            face=_face(_is_serif(font.name), bool(font.b), bool(font.i)),
            bold=bool(font.b),
            size=float(font.sz or 11),
            color=self.colour(font.color) or _BLACK,
            underline=bool(font.u and font.u != "none"),
            strike=bool(font.strike),
            fill=self._fill(cell.fill),
            left=self._side(border.left),
            right=self._side(border.right),
            top=self._side(border.top),
            bottom=self._side(border.bottom),
            horizontal=align.horizontal or "general",
            vertical=align.vertical or "bottom",
            wrap=bool(align.wrap_text) or align.horizontal in ("justify", "distributed"),
            shrink=bool(align.shrink_to_fit),
            indent=int(align.indent or 0),
            number_format=_number_format(cell),
        )

    def _fill(self, fill: Any) -> RGB | None:
        pattern = getattr(fill, "fill_type", None)  # gradient fills have none: not drawn
        if not pattern or pattern == "none":
            return None
        density = _PATTERN_DENSITY.get(pattern, 0.5)
        front = self.colour(fill.fgColor) or _BLACK
        if density == 1.0:
            return front
        back = self.colour(fill.bgColor) or _WHITE
        return _mix(front, back, density)

    def _side(self, side: Any) -> _Side | None:
        if side is None or side.style not in _BORDER_STYLES:
            return None
        width, dash = _BORDER_STYLES[side.style]
        return _Side(width, self.colour(side.color) or _BLACK, dash, side.style == "double")

    def colour(self, color: Any) -> RGB | None:
        """An openpyxl Color as RGB; None for automatic (the caller's default)."""
        if color is None:
            return None
        kind, hex_value = color.type, None
        if kind == "rgb" and isinstance(color.rgb, str):
            hex_value = color.rgb[-6:]
        elif kind == "indexed" and int(color.indexed) < len(COLOR_INDEX):
            hex_value = COLOR_INDEX[int(color.indexed)][-6:]  # not 64/65, the system's colours
        elif kind == "theme" and int(color.theme) < len(self._theme):
            hex_value = self._theme[int(color.theme)]
        if hex_value is None:
            return None
        return _tint(_hex_rgb(hex_value), float(color.tint or 0))


def _number_format(cell: Any) -> str:
    """The cell's format code, from its format id for the built-in ones: openpyxl misspells two
    (44 lost its section separators, 47 a colon) and reads the ids Excel shows as a locale's
    own variant of a built-in (East Asian and Thai dates, times, numbers) as General."""
    style = getattr(cell, "_style", None)
    fmt_id = int(getattr(style, "numFmtId", 0) or 0)
    if fmt_id >= BUILTIN_FORMATS_MAX_SIZE:
        return str(cell.number_format or "General")
    fmt_id = _BUILTIN_ALIASES.get(fmt_id, fmt_id)
    return _BUILTIN_FIXES.get(fmt_id) or BUILTIN_FORMATS.get(fmt_id, "General")


def _theme_colours(theme: bytes | None) -> tuple[str, ...]:
    """The theme's colours in the order cells index them: the scheme lists dark 1 before light 1
    and dark 2 before light 2, cells number them the other way round."""
    if not theme:
        return _DEFAULT_THEME
    scheme = re.search(rb"<a:clrScheme\b.*?</a:clrScheme>", theme, re.DOTALL)
    if scheme is None:
        return _DEFAULT_THEME
    found = re.findall(rb'(?:srgbClr val|lastClr)="([0-9A-Fa-f]{6})"', scheme.group(0))
    values = [value.decode() for value in found]
    if len(values) < 12:
        return _DEFAULT_THEME
    return (values[1], values[0], values[3], values[2], *values[4:12])


def _hex_rgb(value: str) -> RGB:
    try:
        number = int(value, 16)
    except ValueError:
        return _BLACK
    return ((number >> 16 & 255) / 255, (number >> 8 & 255) / 255, (number & 255) / 255)


def _tint(rgb: RGB, tint: float) -> RGB:
    """Excel's tint: towards white for positive values, towards black for negative, on
    lightness."""
    if not tint:
        return rgb
    hue, light, sat = colorsys.rgb_to_hls(*rgb)
    light = light * (1 + tint) if tint < 0 else light * (1 - tint) + tint
    return colorsys.hls_to_rgb(hue, light, sat)


def _mix(front: RGB, back: RGB, share: float) -> RGB:
    r, g, b = (f * share + k * (1 - share) for f, k in zip(front, back, strict=True))
    return (r, g, b)


def _is_serif(name: str | None) -> bool:
    lowered = (name or "").lower()
    return "sans" not in lowered and any(hint in lowered for hint in _SERIF_HINTS)


# --------------------------------------------------------------------------------------------
# Fonts

_SYSTEM_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
_FONT_LOCK = threading.Lock()
_REGISTERED: set[str] = set()


def _face(serif: bool, bold: bool, italic: bool) -> str:
    """The registered ReportLab name of a DejaVu face: shipped upright faces, the system's
    oblique ones when installed (they are not shipped), else the upright face."""
    family = "Serif" if serif else "Sans"
    upright = {
        (False, False): bundled_fonts.SANS,
        (False, True): bundled_fonts.SANS_BOLD,
        (True, False): bundled_fonts.SERIF,
        (True, True): bundled_fonts.SERIF_BOLD,
    }[(serif, bold)]
    path = upright
    if italic:
        slanted = _SYSTEM_DEJAVU / (
            f"DejaVu{family}-{'Bold' if bold else ''}{'Italic' if serif else 'Oblique'}.ttf"
        )
        path = slanted if slanted.is_file() else upright
    name = f"PwExcel{family}{'Bold' if bold else ''}{'Italic' if path != upright else ''}"
    if name not in _REGISTERED:
        with _FONT_LOCK:
            if name not in _REGISTERED:
                pdfmetrics.registerFont(TTFont(name, str(path)))
                _REGISTERED.add(name)
    return name


@lru_cache(maxsize=16384)
def _width(text: str, face: str, size: float) -> float:
    """Cached: a cell's text is measured to fit, to align and to decide on clipping."""
    return float(pdfmetrics.stringWidth(text, face, size))


# --------------------------------------------------------------------------------------------
# Layout: scale, column bands and row pages


@dataclass(frozen=True)
class _Segment:
    rows: list[int]
    top: float
    header: bool = False


@dataclass(frozen=True)
class _Page:
    cols: list[int]  # from left to right as printed
    segments: list[_Segment]
    indent: float = 0.0  # from the left margin, in sheet points: right-to-left sheets


@dataclass(frozen=True)
class _Plan:
    size: tuple[float, float]
    scale: float
    origin: tuple[float, float]  # top-left of the drawing area, in PDF points
    pages: list[_Page]

    @property
    def page_count(self) -> int:
        return len(self.pages)


def _plan(sheet: _Sheet, orientation: Orientation | None, fit: bool) -> _Plan:
    chosen = orientation or sheet.orientation or "portrait"
    width, height = (A4[1], A4[0]) if chosen == "landscape" else (A4[0], A4[1])
    left, right, top, bottom = sheet.margins
    usable_w = max(width - left - right, 72.0)
    usable_h = max(height - top - bottom, 72.0)
    total_w = sum(sheet.col_width.values())
    if fit:
        scale = max(MIN_SCALE, min(1.0, usable_w / total_w)) if total_w else 1.0
    else:
        scale = sheet.scale or 1.0
    bands = _bands(sheet.cols, sheet.col_width, usable_w / scale)
    row_pages = _row_pages(sheet, usable_h / scale)
    ordered = (
        [(band, rows) for rows in row_pages for band in bands]
        if sheet.over_then_down
        else [(band, rows) for band in bands for rows in row_pages]
    )
    pages = [_Page(band, segments) for band, segments in ordered]
    offset = 0.0
    if sheet.centred and len(bands) == 1:
        offset = max(0.0, (usable_w - total_w * scale) / 2)
    if sheet.right_to_left:
        # Mirrored: column A against the right margin, each band's columns right to left.
        room = usable_w / scale if not offset else total_w
        pages = [
            _Page(p.cols[::-1], p.segments, max(0.0, room - _band_width(sheet, p.cols)))
            for p in pages
        ]
    return _Plan((width, height), scale, (left + offset, height - top), pages)


def _band_width(sheet: _Sheet, cols: list[int]) -> float:
    return sum(sheet.col_width[c] for c in cols)


def _bands(cols: list[int], widths: dict[int, float], room: float) -> list[list[int]]:
    bands: list[list[int]] = []
    used = 0.0
    for col in cols:
        if not bands or (used + widths[col] > room + 0.01 and bands[-1]):
            bands.append([])
            used = 0.0
        bands[-1].append(col)
        used += widths[col]
    return bands or [[]]


def _row_pages(sheet: _Sheet, room: float) -> list[list[_Segment]]:
    """Body rows split greedily into pages, each after the header rows once the body has gone
    past them (a header inside the range first prints in its own place)."""
    header = sheet.header
    header_h = sum(sheet.row_height[r] for r in header)
    if header_h > room / 2:
        header, header_h = [], 0.0
    pages: list[list[_Segment]] = []
    body = sheet.body
    i = 0
    while i < len(body):
        repeat = bool(header) and body[i] > header[-1]
        space = room - (header_h if repeat else 0.0)
        rows: list[int] = []
        used = 0.0
        while i < len(body) and (not rows or used + sheet.row_height[body[i]] <= space + 0.01):
            rows.append(body[i])
            used += sheet.row_height[body[i]]
            i += 1
            if rows[-1] in sheet.row_breaks:
                break
        segments = [_Segment(header, 0.0, header=True)] if repeat else []
        segments.append(_Segment(rows, header_h if repeat else 0.0))
        pages.append(segments)
    return pages or [[_Segment([], 0.0)]]


# --------------------------------------------------------------------------------------------
# Drawing


@dataclass(frozen=True)
class _Rect:
    x: float
    y: float  # downwards from the top of the drawing area
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def meet(self, other: _Rect) -> _Rect:
        x, y = max(self.x, other.x), max(self.y, other.y)
        return _Rect(
            x,
            y,
            max(0.0, min(self.right, other.right) - x),
            max(0.0, min(self.bottom, other.bottom) - y),
        )


@dataclass(frozen=True)
class _Placed:
    """A cell or merged block on a page: its full box (a merge may reach beyond the page) and
    the part of it that is on the page."""

    row: int
    col: int
    box: _Rect
    visible: _Rect
    merge: _Box | None


def _draw(sheet: _Sheet, plan: _Plan, title: str | None) -> bytes:
    out = io.BytesIO()
    canvas = _canvas(out, plan.size, title)
    for page in plan.pages:
        canvas.saveState()
        canvas.translate(*plan.origin)
        canvas.scale(plan.scale, plan.scale)
        canvas.translate(page.indent, 0)
        _draw_page(canvas, sheet, page)
        canvas.restoreState()
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def _blank_pdf(orientation: Orientation, title: str | None) -> bytes:
    """An empty sheet prints as one blank page, so a booklet keeps its page for it."""
    out = io.BytesIO()
    canvas = _canvas(out, (A4[1], A4[0]) if orientation == "landscape" else A4, title)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _canvas(out: io.BytesIO, size: tuple[float, float], title: str | None) -> Any:
    """A canvas whose output depends on its content only (`invariant`: no dates, fixed ids)."""
    canvas = Canvas(out, pagesize=size, invariant=1, pageCompression=1)
    if title:
        canvas.setTitle(title)
    canvas.setCreator("Paperworks")
    return canvas


def _draw_page(canvas: Any, sheet: _Sheet, page: _Page) -> None:
    placed = list(_place(sheet, page))
    _draw_fills(canvas, sheet, placed)
    if sheet.gridlines:
        _draw_gridlines(canvas, placed)
    _draw_texts(canvas, [b for item in placed if (b := _text_block(sheet, page, item))])
    _draw_borders(canvas, sheet, placed)


def _place(sheet: _Sheet, page: _Page) -> Iterator[_Placed]:
    if not page.cols:
        return
    col_base = sheet.col_pos[page.cols[0]]
    band_w = _band_width(sheet, page.cols)
    for segment in page.segments:
        if not segment.rows:
            continue
        row_pos = sheet.header_pos if segment.header else sheet.body_pos
        row_base = row_pos[segment.rows[0]] - segment.top
        area = _Rect(0.0, segment.top, band_w, sum(sheet.row_height[r] for r in segment.rows))
        done: set[_Box] = set()
        for row in segment.rows:
            for col in page.cols:
                merge = sheet.merge_at.get((row, col))
                if merge is None:
                    box = _Rect(
                        sheet.col_pos[col] - col_base,
                        row_pos[row] - row_base,
                        sheet.col_width[col],
                        sheet.row_height[row],
                    )
                    yield _Placed(row, col, box, box, None)
                elif merge not in done:
                    done.add(merge)
                    merged = _merge_rect(sheet, merge, col_base, row_pos, row_base)
                    if merged is not None:
                        yield _Placed(
                            merge.min_row, merge.min_col, merged, merged.meet(area), merge
                        )


def _merge_cells(merge: _Box) -> Iterator[tuple[int, int]]:
    for row in _span(merge.min_row, merge.max_row):
        for col in _span(merge.min_col, merge.max_col):
            yield row, col


def _positions(items: list[int], sizes: dict[int, float]) -> dict[int, float]:
    """Where each row or column starts, from the first one."""
    positions: dict[int, float] = {}
    position = 0.0
    for item in items:
        positions[item] = position
        position += sizes[item]
    return positions


def _merge_rect(
    sheet: _Sheet, merge: _Box, col_base: float, row_pos: dict[int, float], row_base: float
) -> _Rect | None:
    """The whole merged box relative to the page, even where it reaches past the page's rows or
    band's columns, so its text sits where it would on one big sheet of paper."""
    cols = _visual_cols(sheet, merge)
    rows = [r for r in _span(merge.min_row, merge.max_row) if r in row_pos]
    if not cols or not rows:
        return None
    x = sheet.col_pos[cols[0]]
    y = row_pos[rows[0]]
    w = sheet.col_pos[cols[-1]] + sheet.col_width[cols[-1]] - x
    h = row_pos[rows[-1]] + sheet.row_height[rows[-1]] - y
    return _Rect(x - col_base, y - row_base, w, h)


def _visual_cols(sheet: _Sheet, merge: _Box) -> list[int]:
    """The merge's visible columns from left to right on the page."""
    cols = [c for c in _span(merge.min_col, merge.max_col) if c in sheet.col_pos]
    return cols[::-1] if sheet.right_to_left else cols


def _re(rect: _Rect) -> str:
    """A rectangle as PDF path operators. Paths with thousands of segments (a bordered table)
    are written as literal operators: ReportLab's path objects format every number in Python
    and took most of a page's drawing time."""
    return f"{rect.x:.2f} {-rect.bottom:.2f} {rect.w:.2f} {rect.h:.2f} re"


def _segment(x0: float, y0: float, x1: float, y1: float) -> str:
    return f"{x0:.2f} {-y0:.2f} m {x1:.2f} {-y1:.2f} l"


def _clip_to(canvas: Any, rect: _Rect) -> None:
    canvas.addLiteral(f"{_re(rect)} W n")


def _draw_fills(canvas: Any, sheet: _Sheet, placed: list[_Placed]) -> None:
    """One path per fill colour: a banded table is a handful of operators, not one per cell."""
    by_colour: dict[RGB, list[_Rect]] = {}
    for item in placed:
        cell = sheet.cells.get((item.row, item.col))
        if cell is not None and cell.style.fill is not None and item.visible.w > 0:
            by_colour.setdefault(cell.style.fill, []).append(item.visible)
    for colour, rects in by_colour.items():
        canvas.setFillColorRGB(*colour)
        canvas.addLiteral("\n".join([*map(_re, rects), "f"]))


def _draw_gridlines(canvas: Any, placed: list[_Placed]) -> None:
    canvas.setLineWidth(0.25)
    canvas.setStrokeColorRGB(0.75, 0.75, 0.75)
    canvas.setDash()
    rects = [_re(item.visible) for item in placed if item.visible.w > 0]
    canvas.addLiteral("\n".join([*rects, "S"]))


# Text ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
    text: str
    x: float
    baseline: float
    width: float


@dataclass(frozen=True)
class _TextBlock:
    """A cell's text laid out: its runs, and the rectangle to clip them to when they do not fit
    (None when they do, so most cells need no clipping path)."""

    cell: _Cell
    size: float
    runs: list[_Run]
    clip: _Rect | None


def _lines(cell: _Cell, width: float) -> list[str]:
    """The cell's text broken into lines that fit `width` (the cell's inner width), at spaces
    and, for a word longer than a line, inside it. Widths add up (ReportLab does not kern), so
    each word and character is measured once."""
    face, size = cell.style.face, cell.style.size * FONT_FACTOR
    room = width - 2 * PAD_X - cell.style.indent * INDENT_PT
    space = _width(" ", face, size)
    lines: list[str] = []
    for paragraph in cell.text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line, used = "", 0.0
        for word in paragraph.split(" "):
            word_w = _width(word, face, size)
            extra = word_w + (space if line else 0.0)
            if used + extra <= room:
                line, used = (f"{line} {word}" if line else word), used + extra
                continue
            if line:
                lines.append(line)
            line, used = "", 0.0
            for char in word:
                char_w = _width(char, face, size)
                if line and used + char_w > room:
                    lines.append(line)
                    line, used = "", 0.0
                line, used = line + char, used + char_w
        lines.append(line)
    return lines


def _text_block(sheet: _Sheet, page: _Page, item: _Placed) -> _TextBlock | None:
    cell = sheet.cells.get((item.row, item.col))
    if cell is None or not cell.text or item.visible.w <= 0:
        return None
    style = cell.style
    size = style.size * FONT_FACTOR
    align = _horizontal(cell)
    if style.wrap:
        lines = _lines(cell, item.box.w)
    else:
        lines = [cell.text.replace("\r", "").replace("\n", " ")]
        size = _fitting_size(cell, lines[0], item.box.w, size)
        if size <= 0:
            lines, size = [_hashes(cell, item.box.w)], style.size * FONT_FACTOR
    pitch = size / FONT_FACTOR * LINE_FACTOR
    top = _block_top(style.vertical, item.box, pitch * len(lines))
    runs = [
        _Run(text, x, top + i * pitch + pitch / 2 + 0.36 * size, width)
        for i, line in enumerate(lines)
        for text, x, width in _line_pieces(cell, line, align, item.box, size)
    ]
    room = item.visible if style.wrap or item.merge else _overflow(sheet, page, item, align)
    fits = top >= room.y - 0.5 and top + pitch * len(lines) <= room.bottom + 0.5
    fits = fits and all(room.x <= run.x and run.x + run.width <= room.right for run in runs)
    return _TextBlock(cell, size, runs, None if fits else room)


def _draw_texts(canvas: Any, blocks: list[_TextBlock]) -> None:
    """Text that fits goes into one text object per page; clipped text needs its own graphics
    state for the clipping path."""
    text = canvas.beginText()
    pen: list[object] = [None, None]
    for block in blocks:
        if block.clip is None:
            _add_runs(text, block, pen)
    canvas.drawText(text)
    for block in blocks:
        if block.clip is None:
            _decorate(canvas, block)
            continue
        canvas.saveState()
        _clip_to(canvas, block.clip)
        clipped = canvas.beginText()
        _add_runs(clipped, block, [None, None])
        canvas.drawText(clipped)
        _decorate(canvas, block)
        canvas.restoreState()


def _add_runs(text: Any, block: _TextBlock, pen: list[object]) -> None:
    """`pen` holds the text object's current font and colour, which are only set on change."""
    style = block.cell.style
    font = (style.face, block.size)
    colour = block.cell.color or style.color
    if pen[0] != font:
        text.setFont(*font)
        pen[0] = font
    if pen[1] != colour:
        text.setFillColorRGB(*colour)
        pen[1] = colour
    for run in block.runs:
        text.setTextOrigin(run.x, -run.baseline)
        text.textOut(run.text)


def _horizontal(cell: _Cell) -> str:
    wanted = cell.style.horizontal
    if wanted in ("center", "centerContinuous", "distributed"):
        return "center"
    if wanted == "right":
        return "right"
    if wanted in ("left", "fill", "justify"):
        return "left"
    return {"number": "right", "centre": "center"}.get(cell.kind, "left")


def _fitting_size(cell: _Cell, text: str, box_w: float, size: float) -> float:
    """The size numbers (and shrink-to-fit text) are drawn at to fit the cell; 0 when even the
    floor does not fit, for numbers only. Other text keeps its size and overflows."""
    if cell.kind != "number" and not cell.style.shrink:
        return size
    room = box_w - 2 * PAD_X - cell.style.indent * INDENT_PT
    needed = _width(text, cell.style.face, size)
    if needed <= room:
        return size
    shrunk = size * room / needed
    if shrunk >= size * SHRINK_FLOOR or cell.kind != "number":
        return max(shrunk, 1.0)
    return 0.0


def _hashes(cell: _Cell, box_w: float) -> str:
    size = cell.style.size * FONT_FACTOR
    each = _width("#", cell.style.face, size)
    return "#" * max(1, int((box_w - 2 * PAD_X) // each))


def _line_pieces(
    cell: _Cell, line: str, align: str, box: _Rect, size: float
) -> list[tuple[str, float, float]]:
    """A line's text, start and width; an accounting format's line is two pieces, pushed to the
    cell's two sides."""
    face, indent = cell.style.face, cell.style.indent * INDENT_PT
    if cell.split is not None and line == cell.text:
        head, tail = line[: cell.split], line[cell.split :]
        tail_w = _width(tail, face, size)
        return [
            (head, box.x + PAD_X, _width(head, face, size)),
            (tail, box.right - PAD_X - tail_w, tail_w),
        ]
    width = _width(line, face, size)
    if align == "right":
        return [(line, box.right - PAD_X - indent - width, width)]
    if align == "center":
        return [(line, box.x + (box.w - width) / 2, width)]
    return [(line, box.x + PAD_X + indent, width)]


def _block_top(vertical: str, box: _Rect, block: float) -> float:
    if vertical in ("top", "justify", "distributed"):
        return box.y
    if vertical == "center":
        return box.y + (box.h - block) / 2
    return box.bottom - block


def _overflow(sheet: _Sheet, page: _Page, item: _Placed, align: str) -> _Rect:
    """Where unwrapped text may spill: over empty neighbours in the text's direction, within
    the band; numbers never spill."""
    cell = sheet.cells[(item.row, item.col)]
    if cell.kind == "number":
        return item.visible
    cols = page.cols
    index = cols.index(item.col)
    left = right = index
    if align in ("left", "center"):
        while right + 1 < len(cols) and _is_free(sheet, item.row, cols[right + 1]):
            right += 1
    if align in ("right", "center"):
        while left > 0 and _is_free(sheet, item.row, cols[left - 1]):
            left -= 1
    x0 = item.box.x - sum(sheet.col_width[c] for c in cols[left:index])
    x1 = item.box.right + sum(sheet.col_width[c] for c in cols[index + 1 : right + 1])
    return _Rect(x0, item.visible.y, x1 - x0, item.visible.h)


def _is_free(sheet: _Sheet, row: int, col: int) -> bool:
    cell = sheet.cells.get((row, col))
    return (cell is None or not cell.text) and (row, col) not in sheet.merge_at


def _decorate(canvas: Any, block: _TextBlock) -> None:
    style, size = block.cell.style, block.size
    if not (style.underline or style.strike):
        return
    canvas.setStrokeColorRGB(*(block.cell.color or style.color))
    canvas.setLineWidth(max(size * 0.06, 0.4))
    canvas.setLineCap(0)
    canvas.setDash()
    for run in block.runs:
        for drop in ((size * 0.12,) if style.underline else ()) + (
            (-size * 0.3,) if style.strike else ()
        ):
            y = -(run.baseline + drop)
            canvas.line(run.x, y, run.x + run.width, y)


# Borders ---------------------------------------------------------------------------------------

_Line = tuple[float, float, float, float]


def _draw_borders(canvas: Any, sheet: _Sheet, placed: list[_Placed]) -> None:
    """Borders in one path per pen, thinnest first so a thick edge covers a thin neighbour's;
    a merge cut by the page edge is drawn on its own, clipped to what is on the page."""
    pens: dict[_Side, dict[_Line, None]] = {}
    for item in placed:
        if item.visible.w <= 0:
            continue
        edges = list(_edges(sheet, item))
        if item.merge is not None and item.visible != item.box and edges:
            canvas.saveState()
            visible = item.visible
            _clip_to(canvas, _Rect(visible.x - 2, visible.y - 2, visible.w + 4, visible.h + 4))
            for side, line in edges:
                _stroke(canvas, side, {line: None})
            canvas.restoreState()
            continue
        for side, line in edges:
            pens.setdefault(side, {})[line] = None
    for side in sorted(pens, key=lambda side: side.width):
        _stroke(canvas, side, pens[side])


def _edges(sheet: _Sheet, item: _Placed) -> Iterator[tuple[_Side, _Line]]:
    """Each side of the box with the border its cells give it; a merged box takes each stretch
    of its outline from the member cell along it."""
    box = item.box
    if item.merge is None:
        cell = sheet.cells.get((item.row, item.col))
        if cell is not None:
            yield from _cell_edges(cell.style, box)
        return
    merge = item.merge
    x = box.x
    for col in _visual_cols(sheet, merge):
        width = sheet.col_width[col]
        yield from _side_at(sheet, merge.min_row, col, "top", (x, box.y, x + width, box.y))
        yield from _side_at(
            sheet, merge.max_row, col, "bottom", (x, box.bottom, x + width, box.bottom)
        )
        x += width
    first, last = merge.min_col, merge.max_col
    if sheet.right_to_left:
        first, last = last, first
    y = box.y
    for row in _span(merge.min_row, merge.max_row):
        height = sheet.row_height.get(row)
        if height is None:
            continue
        yield from _side_at(sheet, row, first, "left", (box.x, y, box.x, y + height))
        yield from _side_at(sheet, row, last, "right", (box.right, y, box.right, y + height))
        y += height


def _cell_edges(style: _Style, box: _Rect) -> Iterator[tuple[_Side, _Line]]:
    if style.top:
        yield style.top, (box.x, box.y, box.right, box.y)
    if style.bottom:
        yield style.bottom, (box.x, box.bottom, box.right, box.bottom)
    if style.left:
        yield style.left, (box.x, box.y, box.x, box.bottom)
    if style.right:
        yield style.right, (box.right, box.y, box.right, box.bottom)


def _side_at(
    sheet: _Sheet, row: int, col: int, name: str, line: _Line
) -> Iterator[tuple[_Side, _Line]]:
    cell = sheet.cells.get((row, col))
    side = getattr(cell.style, name) if cell is not None else None
    if side is not None:
        yield side, line


def _stroke(canvas: Any, side: _Side, lines: dict[_Line, None]) -> None:
    """`lines` is a dict used as an ordered set: neighbours share edges."""
    canvas.setStrokeColorRGB(*side.color)
    canvas.setLineWidth(side.width)
    canvas.setLineCap(0 if side.dash else 2)
    if side.dash:
        canvas.setDash(list(side.dash))
    else:
        canvas.setDash()
    offsets = (-0.75, 0.75) if side.double else (0.0,)
    segments = []
    for x0, y0, x1, y1 in lines:
        for offset in offsets:
            dx, dy = (0.0, offset) if y0 == y1 else (offset, 0.0)
            segments.append(_segment(x0 + dx, y0 + dy, x1 + dx, y1 + dy))
    canvas.addLiteral("\n".join([*segments, "S"]))


# --------------------------------------------------------------------------------------------
# Number formats


@dataclass(frozen=True)
class _Formatted:
    text: str
    color: RGB | None = None
    split: int | None = None


@dataclass(frozen=True)
class _Token:
    # lit, digit, dot, comma, percent, exp, date, ampm, elapsed, text, slash, fill, general,
    # bracket (a [..] code, resolved into the section's colour, condition or locale)
    kind: str
    text: str


@dataclass(frozen=True)
class _Section:
    tokens: tuple[_Token, ...]
    color: RGB | None
    condition: tuple[str, float] | None
    locale: str | None

    @property
    def is_date(self) -> bool:
        return any(t.kind in ("date", "ampm", "elapsed") for t in self.tokens)

    @property
    def is_text(self) -> bool:
        return any(t.kind == "text" for t in self.tokens)


_NAMED_COLOURS: dict[str, RGB] = {
    "black": (0.0, 0.0, 0.0),
    "blue": (0.0, 0.0, 1.0),
    "cyan": (0.0, 1.0, 1.0),
    "green": (0.0, 0.5, 0.0),
    "magenta": (1.0, 0.0, 1.0),
    "red": (1.0, 0.0, 0.0),
    "white": (1.0, 1.0, 1.0),
    "yellow": (1.0, 1.0, 0.0),
}


# Language ids (low 16 bits of an LCID) whose decimal mark is a comma, with their grouping mark:
# German, Italian, Spanish, Dutch, Portuguese, Danish, Greek, Turkish...; French, Russian,
# Polish, Czech, Nordic...; Swiss German and Italian.
_COMMA_LOCALES = {
    **dict.fromkeys(_ids("407 c07 1007 410 c0a 40a 413 813 416 816 406 408 41f 421 41a 424"), "."),
    **dict.fromkeys(_ids("418 81a c1a 42f"), "."),
    **dict.fromkeys(_ids("40c 80c c0c 140c 419 422 415 405 41b 41d 414 814 40b 40e"), "\u00a0"),
    **dict.fromkeys(_ids("402 425 426 427 423 43f"), "\u00a0"),
    **dict.fromkeys(_ids("807 810 100c 1407"), "'"),
}
_MONTHS = _ids(
    "January February March April May June July August September October November December"
)
_DAYS = _ids("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")
# Built-in formats whose look depends on the viewer's locale; we have none, so ISO.
_LOCALE_BUILTINS = {"mm-dd-yy": "yyyy-mm-dd", "m/d/yy h:mm": "yyyy-mm-dd h:mm"}
_DECIMAL_CONTEXT = Context(prec=400)


def _format(value: object, number_format: str) -> _Formatted:
    if value is None:
        return _Formatted("")
    if isinstance(value, bool):
        return _Formatted("TRUE" if value else "FALSE")
    sections = _parse_format(_LOCALE_BUILTINS.get(number_format, number_format))
    if isinstance(value, str):
        return _format_text(value, sections)
    if isinstance(value, datetime | date | time | timedelta):
        return _format_moment(value, sections)
    if isinstance(value, int | float | Decimal):
        return _format_number(value, sections)
    return _Formatted(str(value))


@lru_cache(maxsize=512)
def _parse_format(number_format: str) -> tuple[_Section, ...]:
    code = number_format.strip()
    if not code or code.lower() == "general":
        return (_Section((_Token("general", ""),), None, None, None),)
    return tuple(_section(part) for part in _split_sections(code)[:4])


def _split_sections(code: str) -> list[str]:
    parts, current, i = [], "", 0
    while i < len(code):
        char = code[i]
        if char == '"':
            end = code.find('"', i + 1)
            end = len(code) - 1 if end < 0 else end
            current += code[i : end + 1]
            i = end + 1
            continue
        if char == "\\" and i + 1 < len(code):
            current += code[i : i + 2]
            i += 2
            continue
        if char == "[":
            end = code.find("]", i)
            end = len(code) - 1 if end < 0 else end
            current += code[i : end + 1]
            i = end + 1
            continue
        if char == ";":
            parts.append(current)
            current = ""
        else:
            current += char
        i += 1
    parts.append(current)
    return parts


def _section(part: str) -> _Section:
    tokens: list[_Token] = []
    color: RGB | None = None
    condition: tuple[str, float] | None = None
    locale: str | None = None
    for token in _tokens(part):
        if token.kind != "bracket":
            tokens.append(token)
            continue
        content = token.text
        lowered = content.lower()
        if lowered in _NAMED_COLOURS:
            color = _NAMED_COLOURS[lowered]
        elif lowered.startswith("color") and lowered[5:].isdigit():
            index = int(lowered[5:]) + 7  # Color1 is the palette's ninth entry
            color = _hex_rgb(COLOR_INDEX[index][-6:]) if index < len(COLOR_INDEX) else None
        elif re.fullmatch(r"(h+|m+|s+)", lowered):
            tokens.append(_Token("elapsed", lowered))
        elif content.startswith("$"):
            symbol, _, lcid = content[1:].partition("-")
            if symbol:
                tokens.append(_Token("lit", symbol))
            locale = lcid.lower() or locale
        elif match := re.fullmatch(r"(<=|>=|<>|<|>|=)\s*(-?[\d.]+)", content):
            condition = (match[1], float(match[2]))
    if locale and (locale.endswith("f800") or locale == "x-sysdate"):
        return _section("dddd, mmmm d, yyyy")
    if locale and (locale.endswith("f400") or locale == "x-systime"):
        return _section("h:mm:ss AM/PM")
    return _Section(tuple(tokens), color, condition, locale)


def _tokens(part: str) -> Iterator[_Token]:
    i = 0
    while i < len(part):
        char = part[i]
        rest = part[i:]
        if char == '"':
            end = part.find('"', i + 1)
            end = len(part) if end < 0 else end
            yield _Token("lit", part[i + 1 : end])
            i = end + 1
        elif char == "\\":
            yield _Token("lit", part[i + 1 : i + 2])
            i += 2
        elif char == "_":
            yield _Token("lit", " ")  # room the width of the next character
            i += 2
        elif char == "*":
            yield _Token("fill", part[i + 1 : i + 2])
            i += 2
        elif char == "[":
            end = part.find("]", i)
            end = len(part) if end < 0 else end
            yield _Token("bracket", part[i + 1 : end])
            i = end + 1
        elif rest[:7].lower() == "general":
            yield _Token("general", "")
            i += 7
        elif rest[:5].upper() == "AM/PM":
            yield _Token("ampm", rest[:5])
            i += 5
        elif rest[:3].upper() == "A/P":
            yield _Token("ampm", rest[:3])
            i += 3
        elif char in "Ee" and rest[1:2] in ("+", "-"):
            yield _Token("exp", rest[:2])
            i += 2
        elif char.lower() in "ymdhse":
            run = len(rest) - len(rest.lstrip(char.lower() + char.upper()))
            yield _Token("date", rest[:run].lower())
            i += run
        else:
            yield _Token(_SYMBOLS.get(char, "lit"), char)
            i += 1


_SYMBOLS = {
    "0": "digit",
    "#": "digit",
    "?": "digit",
    ".": "dot",
    ",": "comma",
    "%": "percent",
    "@": "text",
    "/": "slash",
}


def _format_text(value: str, sections: tuple[_Section, ...]) -> _Formatted:
    section = sections[3] if len(sections) >= 4 else None
    if section is None and len(sections) == 1 and sections[0].is_text:
        section = sections[0]
    if section is None:
        return _Formatted(value)
    pieces = [value if t.kind == "text" else _literal(t) for t in section.tokens]
    return _joined(pieces, section)


def _literal(token: _Token) -> str:
    if token.kind in ("lit", "dot", "comma", "percent", "slash", "digit", "date", "ampm"):
        return token.text
    return ""


def _joined(pieces: list[str], section: _Section) -> _Formatted:
    split = None
    for index, token in enumerate(section.tokens):
        if token.kind == "fill":
            split = len("".join(pieces[:index]))
            break
    return _Formatted("".join(pieces), section.color, split)


def _choose(sections: tuple[_Section, ...], value: float) -> tuple[_Section, bool, bool]:
    """The section for `value`, whether it shows the value at all (a zero section does not) and
    whether a minus sign goes in front (only a single section has no negative of its own)."""
    numeric = sections[:3]
    if any(s.condition for s in numeric):
        for index, section in enumerate(numeric):
            if section.condition and _holds(section.condition, value):
                return section, True, value < 0 and index == 0
        rest = [s for s in numeric if not s.condition] or list(numeric[-1:])
        return rest[0], True, False
    if len(numeric) == 1 or value > 0 or (value == 0 and len(numeric) == 2):
        return numeric[0], True, value < 0 and len(numeric) == 1
    if value < 0:
        return numeric[1], True, False
    return numeric[2], False, False


def _holds(condition: tuple[str, float], value: float) -> bool:
    op, limit = condition
    return {
        "<": value < limit,
        ">": value > limit,
        "=": value == limit,
        "<=": value <= limit,
        ">=": value >= limit,
        "<>": value != limit,
    }[op]


def _format_number(value: float | int | Decimal, sections: tuple[_Section, ...]) -> _Formatted:
    number = float(value) if isinstance(value, Decimal) else value
    if isinstance(number, float) and not math.isfinite(number):
        return _Formatted("#NUM!")
    section, shows, minus = _choose(sections, float(number))
    magnitude = abs(number) if shows else 0
    if section.is_date:
        formatted = _serial_moment(section, number)
    elif section.is_text and not any(t.kind in ("digit", "general") for t in section.tokens):
        formatted = _Formatted(_general(magnitude), section.color)  # "@" shows numbers as-is
    else:
        formatted = _render_number(section, magnitude)
    if minus:
        split = formatted.split + 1 if formatted.split is not None else None
        return _Formatted("-" + formatted.text, formatted.color, split)
    return formatted


def _serial_moment(section: _Section, serial: float | int) -> _Formatted:
    """A plain number under a date format: a day count from 1899-12-30, as Excel stores dates."""
    if serial < 0:
        return _Formatted("#" * 6)
    try:
        moment = from_excel(serial)
    except (OverflowError, ValueError):
        return _Formatted("#" * 6)
    return _render_moment(section, _as_datetime(moment), timedelta(days=float(serial)))


_EPOCH = datetime(1899, 12, 30)  # noqa: DTZ001 - spreadsheet serials have no time zone


def _format_moment(
    value: datetime | date | time | timedelta, sections: tuple[_Section, ...]
) -> _Formatted:
    section = next((s for s in sections if s.is_date), None)
    if section is None:
        return _Formatted(_iso(value))
    moment = _as_datetime(value)
    elapsed = value if isinstance(value, timedelta) else moment - _EPOCH
    return _render_moment(section, moment, elapsed)


def _as_datetime(value: datetime | date | time | timedelta) -> datetime:
    if isinstance(value, timedelta):
        return _EPOCH + value
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)  # noqa: DTZ001
    return datetime.combine(_EPOCH.date(), value.replace(tzinfo=None))


def _iso(value: datetime | date | time | timedelta) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S" if value.time() != time() else "%Y-%m-%d")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


# Numbers ---------------------------------------------------------------------------------------


def _render_number(section: _Section, value: float | int) -> _Formatted:
    tokens = section.tokens
    value = value * 100 ** sum(1 for t in tokens if t.kind == "percent")
    if any(t.kind == "general" for t in tokens):
        pieces = [_general(value) if t.kind == "general" else _literal(t) for t in tokens]
        return _joined(pieces, section)
    digits = [i for i, t in enumerate(tokens) if t.kind == "digit"]
    if not digits:
        return _joined([_literal(t) for t in tokens], section)
    if any(t.kind == "slash" for t in tokens[digits[0] :]):
        return _render_fraction(section, value)
    first, last = digits[0], digits[-1]
    group, decimal = _separators(section.locale)
    # The decimal point may lead (".00") or trail ("0.") the placeholders.
    near = range(max(first - 1, 0), min(last + 2, len(tokens)))
    dot = next((i for i in near if tokens[i].kind == "dot"), None)
    exp = next((i for i in range(first, last + 1) if tokens[i].kind == "exp"), None)
    int_end = dot if dot is not None else (exp if exp is not None else last + 1)
    int_pos = [i for i in digits if i < int_end]
    dec_pos = [i for i in digits if dot is not None and i > dot and (exp is None or i < exp)]
    exp_pos = [i for i in digits if exp is not None and i > exp]
    grouping, scaling, literal_commas = _commas(tokens, int_pos)
    value = value / 1000**scaling if scaling else value
    exponent = 0
    if exp is not None:
        value, exponent = _scientific(value, int_pos, tokens, len(dec_pos))
    int_digits, frac_digits = _round_split(value, len(dec_pos))
    pieces = [_literal(t) if t.kind != "comma" else "" for t in tokens]
    for index in literal_commas:
        pieces[index] = ","
    if dot is not None:
        # Without integer placeholders (".00") Excel still shows a non-zero integer part.
        pieces[dot] = decimal if int_pos or int_digits == "0" else int_digits + decimal
    _place_integer(pieces, tokens, int_pos, int_digits, group if grouping else None)
    _place_fraction(pieces, tokens, dec_pos, frac_digits)
    if exp is not None:
        _place_exponent(pieces, tokens, exp, exp_pos, exponent)
    return _joined(pieces, section)


def _separators(locale: str | None) -> tuple[str, str]:
    if locale:
        language = locale[-4:].lstrip("0") or "0"
        if language in _COMMA_LOCALES:
            return _COMMA_LOCALES[language], ","
    return ",", "."


def _commas(tokens: tuple[_Token, ...], int_pos: list[int]) -> tuple[bool, int, list[int]]:
    """Whether the integer part is grouped (a comma between its placeholders), how many
    thousands the value is divided by (commas after the last integer placeholder: "0,", "0.0,,")
    and which commas are plain text."""
    grouping, scaling, literal = False, 0, []
    for index, token in enumerate(tokens):
        if token.kind != "comma":
            continue
        before = index - 1
        while before >= 0 and tokens[before].kind == "comma":
            before -= 1
        if int_pos and int_pos[0] < index < int_pos[-1]:
            grouping = True
        elif (
            before >= 0 and tokens[before].kind == "digit" and (not int_pos or index > int_pos[-1])
        ):
            scaling += 1
        else:
            literal.append(index)
    return grouping, scaling, literal


def _scientific(
    value: float | int, int_pos: list[int], tokens: tuple[_Token, ...], decimals: int
) -> tuple[float, int]:
    if value == 0:
        return 0.0, 0
    width = max(len(int_pos), 1)
    engineering = width > 1 and any(tokens[i].text == "#" for i in int_pos)
    power = math.floor(math.log10(abs(value)))
    power = (power // width) * width if engineering else power - (width - 1)
    mantissa = value / 10.0**power
    int_digits, _ = _round_split(mantissa, decimals)
    if len(int_digits.lstrip("0")) > width:
        step = width if engineering else 1
        power += step
        mantissa = value / 10.0**power
    return mantissa, power


def _round_split(value: float | int, decimals: int) -> tuple[str, str]:
    """Integer and fraction digits, rounded half away from zero on the decimal value Excel
    shows (repr, not the binary float: 1.005 shows as 1.01)."""
    exact = Decimal(value) if isinstance(value, int) else Decimal(repr(float(value)))
    step = Decimal(1).scaleb(-decimals)
    rounded = exact.quantize(step, rounding=ROUND_HALF_UP, context=_DECIMAL_CONTEXT)
    text = format(abs(rounded), "f")
    integer, _, fraction = text.partition(".")
    return integer, fraction.ljust(decimals, "0")


def _place_integer(
    pieces: list[str],
    tokens: tuple[_Token, ...],
    int_pos: list[int],
    digits: str,
    group: str | None,
) -> None:
    digits = "" if digits == "0" else digits
    if not int_pos:
        return
    if group is not None:
        zeros = sum(1 for i in int_pos if tokens[i].text == "0")
        padded = digits.rjust(zeros, "0")
        grouped = _group(padded, group) if padded else ""
        spaces = sum(1 for i in int_pos if tokens[i].text == "?")
        pieces[int_pos[0]] = grouped.rjust(spaces + zeros) if spaces else grouped
        for index in int_pos[1:]:
            pieces[index] = ""
        return
    for count, index in enumerate(reversed(int_pos)):
        leftmost = count == len(int_pos) - 1
        chunk, digits = (digits, "") if leftmost else (digits[-1:], digits[:-1])
        pieces[index] = chunk or {"0": "0", "?": " "}.get(tokens[index].text, "")


def _group(digits: str, separator: str) -> str:
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return separator.join(parts)


def _place_fraction(
    pieces: list[str], tokens: tuple[_Token, ...], dec_pos: list[int], digits: str
) -> None:
    significant = len(digits.rstrip("0"))
    for count, index in enumerate(dec_pos):
        placeholder = tokens[index].text
        if count < significant or placeholder == "0":
            pieces[index] = digits[count]
        else:
            pieces[index] = " " if placeholder == "?" else ""


def _place_exponent(
    pieces: list[str], tokens: tuple[_Token, ...], exp: int, exp_pos: list[int], power: int
) -> None:
    sign = "-" if power < 0 else ("+" if tokens[exp].text[1] == "+" else "")
    pieces[exp] = tokens[exp].text[0] + sign
    zeros = sum(1 for i in exp_pos if tokens[i].text == "0")
    if exp_pos:
        pieces[exp_pos[0]] = str(abs(power)).rjust(zeros, "0")
        for index in exp_pos[1:]:
            pieces[index] = ""


def _render_fraction(section: _Section, value: float | int) -> _Formatted:
    """`# ?/?`, `# ??/??` and fixed denominators like `# ?/8`: the nearest fraction with that
    many denominator digits, or over that denominator."""
    tokens = section.tokens
    slash = next(i for i, t in enumerate(tokens) if t.kind == "slash")
    num_start = slash
    while num_start > 0 and tokens[num_start - 1].kind == "digit":
        num_start -= 1
    int_pos = [i for i in range(num_start) if tokens[i].kind == "digit"]
    den_end = slash + 1
    while den_end < len(tokens) and (
        tokens[den_end].kind == "digit" or tokens[den_end].text.isdigit()
    ):
        den_end += 1
    den_spec = "".join(t.text for t in tokens[slash + 1 : den_end])
    fixed = int(den_spec) if den_spec.isdigit() and den_spec.strip("0") else None
    whole = int(value) if int_pos else 0
    rest = value - whole
    if fixed:
        numerator, denominator = round(rest * fixed), fixed
    else:
        limit = 10 ** max(len(den_spec), 1) - 1
        fraction = Fraction(rest).limit_denominator(limit)
        numerator, denominator = fraction.numerator, fraction.denominator
    if numerator == denominator and int_pos:
        whole, numerator = whole + 1, 0
    pieces = [_literal(t) for t in tokens]
    for index in range(num_start, den_end):
        pieces[index] = ""
    width = slash - num_start
    if numerator == 0 and int_pos:
        pieces[slash] = " " * (width + 1 + len(den_spec))
    else:
        pieces[slash] = f"{numerator:>{width}}/{denominator:<{len(den_spec)}}"
    if int_pos:
        head = str(whole) if whole or numerator == 0 else ""
        for index in int_pos:
            pieces[index] = ""
        pieces[int_pos[0]] = head
    return _joined(pieces, section)


def _general(value: float | int) -> str:
    """Excel's General: up to 11 characters, scientific beyond."""
    if isinstance(value, int) and abs(value) < 10**11:
        return str(value)
    number = float(value)
    if number == 0:
        return "0"
    size = abs(number)
    if size >= 1e11 or size < 1e-5:
        power = math.floor(math.log10(size))
        mantissa = round(number / 10**power, 5)
        if abs(mantissa) >= 10:
            mantissa, power = mantissa / 10, power + 1
        text = f"{mantissa:.5f}".rstrip("0").rstrip(".")
        return f"{text}E{'-' if power < 0 else '+'}{abs(power):02d}"
    integer = len(str(int(size)))
    text = f"{number:.{max(0, 10 - integer)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# Dates and times -------------------------------------------------------------------------------


def _render_moment(section: _Section, moment: datetime, elapsed: timedelta) -> _Formatted:
    tokens = section.tokens
    dot, places = _fraction_of_second(tokens)
    unit = 10 ** (6 - places)
    micro = round(moment.microsecond / unit) * unit
    moment = moment.replace(microsecond=0) + timedelta(microseconds=micro)
    total = round(elapsed.total_seconds() * 10**places) / 10**places
    minutes = _minute_tokens(tokens)
    twelve = any(t.kind == "ampm" for t in tokens)
    pieces: list[str] = []
    for index, token in enumerate(tokens):
        if dot is not None and index == dot:
            pieces.append("." + f"{moment.microsecond:06d}"[:places])
        elif dot is not None and dot < index <= dot + places:
            pieces.append("")
        else:
            pieces.append(_moment_piece(token, index in minutes, moment, total, twelve))
    return _joined(pieces, section)


def _fraction_of_second(tokens: tuple[_Token, ...]) -> tuple[int | None, int]:
    """Where `ss.00` puts its decimal point and how many places follow it."""
    for index, token in enumerate(tokens):
        if token.kind == "dot" and index and tokens[index - 1].text.startswith("s"):
            places = 0
            while index + 1 + places < len(tokens) and tokens[index + 1 + places].text == "0":
                places += 1
            return index, min(places, 6)
    return None, 0


def _minute_tokens(tokens: tuple[_Token, ...]) -> set[int]:
    """Indexes of `m`/`mm` that mean minutes: right after an hour or right before a second."""
    timed = [i for i, t in enumerate(tokens) if t.kind in ("date", "elapsed")]
    found = set()
    for n, index in enumerate(timed):
        token = tokens[index]
        if token.kind != "date" or token.text not in ("m", "mm"):
            continue
        before = tokens[timed[n - 1]].text if n else ""
        after = tokens[timed[n + 1]].text if n + 1 < len(timed) else ""
        if before.startswith("h") or after.startswith("s"):
            found.add(index)
    return found


def _moment_piece(token: _Token, minute: bool, moment: datetime, total: float, twelve: bool) -> str:
    if token.kind == "elapsed":
        per = {"h": 3600, "m": 60, "s": 1}[token.text[0]]
        return str(int(total // per)).rjust(len(token.text), "0")
    if token.kind == "ampm":
        return _ampm(token.text, moment.hour)
    if token.kind != "date":
        return _literal(token)
    text = token.text
    if minute:
        return f"{moment.minute:0{len(text)}d}"
    if text[0] in "ye":
        return f"{moment.year % 100:02d}" if len(text) <= 2 and text[0] == "y" else str(moment.year)
    if text[0] == "m":
        return _month(text, moment.month)
    if text[0] == "d":
        return _day(text, moment)
    if text[0] == "h":
        hour = (moment.hour % 12 or 12) if twelve else moment.hour
        return f"{hour:0{min(len(text), 2)}d}"
    return f"{moment.second:0{min(len(text), 2)}d}"


def _ampm(text: str, hour: int) -> str:
    morning = hour < 12
    if text.upper() == "A/P":
        letter = "A" if morning else "P"
        return letter if text[0].isupper() else letter.lower()
    word = "AM" if morning else "PM"
    return word if text[0].isupper() else word.lower()


def _month(text: str, month: int) -> str:
    name = _MONTHS[month - 1]
    return {1: str(month), 2: f"{month:02d}", 3: name[:3], 5: name[0]}.get(len(text), name)


def _day(text: str, moment: datetime) -> str:
    name = _DAYS[moment.weekday()]
    return {1: str(moment.day), 2: f"{moment.day:02d}", 3: name[:3]}.get(len(text), name)


# --------------------------------------------------------------------------------------------
# LibreOffice


def _single_sheet_copy(
    xlsx: bytes,
    sheet: str,
    requested: _Box | None,
    orientation: Orientation | None,
    fit: bool,
    title: str | None,
) -> bytes:
    """The workbook with only `sheet`, values in place of formulas (so nothing refers to the
    removed sheets) and the page setup asked for."""
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(xlsx), data_only=True)
    except Exception as exc:  # same grab bag as elsewhere
        raise BadWorkbook(f"The workbook cannot be read: {reason(exc)}") from exc
    for other in [ws for ws in workbook.worksheets if ws.title != sheet]:
        workbook.remove(other)
    for chart_sheet in list(workbook.chartsheets):
        workbook.remove(chart_sheet)
    ws = workbook[sheet]
    ws.sheet_state = "visible"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    if orientation:
        ws.page_setup.orientation = orientation
    if fit:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
    if requested:
        ws.print_area = (
            f"{get_column_letter(requested.min_col)}{requested.min_row}:"
            f"{get_column_letter(requested.max_col)}{requested.max_row}"
        )
    if title:
        workbook.properties.title = title
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _soffice_convert(soffice: str, xlsx: bytes, to: Literal["pdf", "xlsx"]) -> bytes:
    """`xlsx` converted by LibreOffice, in a temporary folder removed whatever happens."""
    with tempfile.TemporaryDirectory(prefix="pw-soffice-") as work:
        folder = Path(work)
        source = folder / "in" / "sheet.xlsx"
        source.parent.mkdir()
        source.write_bytes(xlsx)
        # A profile of its own, so concurrent conversions do not fight over one lock.
        profile = (folder / "profile").as_uri()
        command = [
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            to,
            "--outdir",
            str(folder),
            str(source),
        ]
        try:
            # soffice is the absolute path shutil.which found; the rest are our own arguments
            # and file names in a fresh temporary folder, and no shell sees any of it.
            subprocess.run(  # noqa: S603  # nosec B603
                command, check=True, capture_output=True, timeout=SOFFICE_TIMEOUT_S
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            raise EngineError(f"LibreOffice could not convert the sheet: {exc}") from exc
        result = folder / f"sheet.{to}"
        if not result.is_file():
            raise EngineError(f"LibreOffice produced no {to.upper()} for the sheet.")
        return result.read_bytes()
