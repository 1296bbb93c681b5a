"""Tables out of a PDF's text layer: ruled tables from the page's lines and rectangles, unruled
tables from the alignment of words, each as a `Table` of `Cell`s with spans and boxes.

Pure: bytes in, `PdfTables` out (no DB, no settings), built on pdfplumber (pdfminer.six).

    result = extract_pdf_tables(data, pages=[1, 2], mode="auto")
    result.tables        # every table found, in page then position order
    result.page_issues   # {page: [Issue]}: pages that need OCR, pages that ran out of time

What a page gives:
- **ruled** tables: pdfplumber's line finder (lines, rectangle edges, snapped and joined) gives
  the cell rectangles; their edges make the grid, and a rectangle across several grid lines is one
  cell with its row/column span. A box around a paragraph (one row or one column) is no table.
- **unruled** tables (mode `auto` on the words outside ruled tables, or mode `unruled`): words
  make lines by baseline, a wide gap splits a line into segments, and a run of lines with two or
  more segments whose gaps line up is a table; its columns are the gutters no segment crosses,
  a segment across a gutter spans columns, and a line filling only columns that the row above
  fills, with its first column empty, continues that row's cells (a multi-line cell).
- running headers and footers (the same text, digits aside, in the top or bottom band of two or
  more pages) are dropped before the unruled search, so they never become a table row.
- a page without a text layer (a scan) gives no table and the issue `needs_ocr`; a page that
  takes longer than `page_seconds` (100,000 tiny text objects) gives `page_timeout` and the other
  pages are still read. Both are in `page_issues`, keyed by the 1-based page number.
- a rotated page (/Rotate 90, 180, 270) is read as it is displayed: pdfplumber turns the
  coordinates, so columns are columns as a reader sees them.

Raises `CorruptPdf`, `EncryptedPdf`, `PdfTooLarge` or `BadPageSelection` (engine_errors), each
with a stable `code`.
"""

from __future__ import annotations

import bisect
import io
import itertools
import re
import statistics
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfinterp import PDFPageInterpreter
from pdfminer.pdfparser import PDFSyntaxError
from pdfminer.psparser import PSException
from pdfplumber.page import Page, PDFPageAggregatorWithMarkedContent
from pdfplumber.pdf import PDF
from pdfplumber.utils.exceptions import PdfminerException

from paperworks.extraction.engine_errors import (
    BadPageSelection,
    CorruptPdf,
    EncryptedPdf,
    PdfTooLarge,
)
from paperworks.extraction.tables import BBox, Cell, Issue, Table

Mode = Literal["auto", "ruled", "unruled"]

# Ruled tables: pdfplumber's line finder, a little more forgiving than its defaults about lines
# that nearly meet (producers draw cell borders as separate strokes).
RULED_SETTINGS: dict[str, Any] = {
    "vertical_strategy": "lines",
    "horizontal_strategy": "lines",
    "snap_tolerance": 3,
    "join_tolerance": 3,
    "intersection_tolerance": 3,
    "edge_min_length": 3,
}
# Two grid lines closer than this (points) are one.
GRID_TOLERANCE = 2.0
# Header/footer band: this share of the page height at the top and at the bottom.
BAND = 0.1


@dataclass(frozen=True)
class PdfTables:
    """What `extract_pdf_tables` found: the tables, in page then position order, and the problems
    of pages as a whole (`needs_ocr`, `page_timeout`), keyed by the 1-based page number. A page
    with an issue and no table is only in `page_issues`. `pages` are the pages read."""

    tables: list[Table]
    page_issues: dict[int, list[Issue]] = field(default_factory=dict)
    page_count: int = 0
    pages: list[int] = field(default_factory=list)


class PageTimeout(Exception):
    """Raised inside a page's work when its time is up."""


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise PageTimeout


class _TimedAggregator(PDFPageAggregatorWithMarkedContent):
    """pdfplumber's page device, stopping the page's parse when its time is up: pdfminer has no
    cancellation, so the check is in the calls it makes for every glyph and path."""

    deadline: _Deadline
    calls = 0

    def _tick(self) -> None:
        self.calls += 1
        if self.calls % 256 == 0:
            self.deadline.check()

    def render_char(self, *args: Any, **kwargs: Any) -> float:
        self._tick()
        return super().render_char(*args, **kwargs)

    def paint_path(self, *args: Any, **kwargs: Any) -> None:
        self._tick()
        super().paint_path(*args, **kwargs)


def _parse_page(page: Page, deadline: _Deadline) -> None:
    """Parse the page's content stream under the deadline, leaving the layout where pdfplumber
    looks for it (its `layout` property caches `_layout`)."""
    device = _TimedAggregator(page.pdf.rsrcmgr, pageno=page.page_number, laparams=page.pdf.laparams)
    device.deadline = deadline
    interpreter = PDFPageInterpreter(page.pdf.rsrcmgr, device)
    interpreter.process_page(page.page_obj)
    page._layout = device.get_result()


# --- words and lines -------------------------------------------------------------------------


@dataclass
class Word:
    x0: float
    top: float
    x1: float
    bottom: float
    text: str

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass
class Line:
    words: list[Word]

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return max(w.x1 for w in self.words)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def _words(page: Page) -> list[Word]:
    return [
        Word(float(w["x0"]), float(w["top"]), float(w["x1"]), float(w["bottom"]), w["text"])
        for w in page.extract_words(x_tolerance=1.5, y_tolerance=2, keep_blank_chars=False)
        if w["text"].strip()
    ]


def _lines(words: Iterable[Word]) -> list[Line]:
    """Words grouped into lines: a word joins the line whose vertical middle it shares."""
    lines: list[Line] = []
    for word in sorted(words, key=lambda w: (w.top, w.x0)):
        middle = (word.top + word.bottom) / 2
        for line in reversed(lines[-3:]):
            if line.top - 0.5 <= middle <= line.bottom + 0.5:
                line.words.append(word)
                break
        else:
            lines.append(Line([word]))
    for line in lines:
        line.words.sort(key=lambda w: w.x0)
    lines.sort(key=lambda line: line.top)
    return lines


def _text_of(words: Sequence[Word]) -> str:
    """Words in reading order: lines top to bottom, joined by spaces."""
    return " ".join(line.text for line in _lines(words))


# --- ruled tables ----------------------------------------------------------------------------


def _cluster(values: Iterable[float], tolerance: float = GRID_TOLERANCE) -> list[float]:
    """Sorted values with near-equal ones merged into their mean."""
    groups: list[list[float]] = []
    for value in sorted(values):
        if groups and value - groups[-1][-1] <= tolerance:
            groups[-1].append(value)
        else:
            groups.append([value])
    return [sum(g) / len(g) for g in groups]


def _nearest(bounds: list[float], value: float) -> int:
    i = bisect.bisect_left(bounds, value)
    if i == 0:
        return 0
    if i == len(bounds):
        return len(bounds) - 1
    return i if bounds[i] - value < value - bounds[i - 1] else i - 1


def _grid_table(
    page_number: int,
    cell_boxes: Sequence[BBox],
    words: Sequence[Word],
) -> tuple[Table, set[int]] | None:
    """A table from its cell rectangles; returns it with the indexes of the words used."""
    xs = _cluster(x for box in cell_boxes for x in (box[0], box[2]))
    ys = _cluster(y for box in cell_boxes for y in (box[1], box[3]))
    if len(xs) < 2 or len(ys) < 2:
        return None
    slots: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    placed: list[tuple[int, int, int, int, BBox]] = []
    for box in cell_boxes:
        c0, c1 = _nearest(xs, box[0]), _nearest(xs, box[2])
        r0, r1 = _nearest(ys, box[1]), _nearest(ys, box[3])
        if (
            c1 <= c0
            or r1 <= r0
            or any((r, c) in slots for r in range(r0, r1) for c in range(c0, c1))
        ):
            continue
        for r in range(r0, r1):
            for c in range(c0, c1):
                slots[(r, c)] = (r0, c0, r1, c1)
        placed.append((r0, c0, r1, c1, box))
    texts: dict[tuple[int, int], list[Word]] = {}
    used: set[int] = set()
    for i, word in enumerate(words):
        mx, my = (word.x0 + word.x1) / 2, (word.top + word.bottom) / 2
        if not (xs[0] <= mx <= xs[-1] and ys[0] <= my <= ys[-1]):
            continue
        c = min(bisect.bisect_right(xs, mx) - 1, len(xs) - 2)
        r = min(bisect.bisect_right(ys, my) - 1, len(ys) - 2)
        slot = slots.get((r, c))
        if slot is None:
            continue
        texts.setdefault((slot[0], slot[1]), []).append(word)
        used.add(i)
    cells: list[Cell] = []
    for r0, c0, r1, c1, box in placed:
        inside = texts.get((r0, c0), [])
        if c1 - c0 > 1 and inside:
            split = _split_across_columns(r0, r1, c0, c1, xs, inside, box)
            if split:
                cells.extend(split)
                continue
        cells.append(
            Cell(
                row=r0,
                col=c0,
                text=_text_of(inside),
                row_span=r1 - r0,
                col_span=c1 - c0,
                bbox=(box[0], box[1], box[2], box[3]),
            )
        )
    table = Table(
        page=page_number,
        index=0,
        n_rows=len(ys) - 1,
        n_cols=len(xs) - 1,
        cells=cells,
        bbox=(xs[0], ys[0], xs[-1], ys[-1]),
    )
    return _drop_empty_lines(table), used


def _split_across_columns(
    r0: int, r1: int, c0: int, c1: int, xs: list[float], words: list[Word], box: BBox
) -> list[Cell]:
    """A cell across several columns whose text is in separate runs, each inside one of them (a
    table ruled between columns in its header only): one cell per column. A phrase across
    columns (a spanning header) has ordinary spaces and stays one cell."""
    placed: dict[int, list[Word]] = {}
    for line in _lines(words):
        for segment in _segments(line):
            col = bisect.bisect_right(xs, segment.x0 + 0.5) - 1
            if not (c0 <= col < c1) or segment.x1 > xs[col + 1] + 0.5:
                return []
            placed.setdefault(col, []).extend(segment.words)
    if len(placed) < 2:
        return []
    return [
        Cell(
            row=r0,
            col=col,
            text=_text_of(inside),
            row_span=r1 - r0,
            bbox=(xs[col], box[1], xs[col + 1], box[3]),
        )
        for col, inside in sorted(placed.items())
    ]


def _drop_empty_lines(table: Table) -> Table:
    """Rows and columns where no cell with text starts are removed (the gap of a double rule,
    a thin spacer row or column); spans over them shrink, cells starting in them go."""
    grid_rows = [r for r in range(table.n_rows) if any(c.row == r and c.text for c in table.cells)]
    grid_cols = [
        c for c in range(table.n_cols) if any(cell.col == c and cell.text for cell in table.cells)
    ]
    if len(grid_rows) == table.n_rows and len(grid_cols) == table.n_cols:
        return table
    row_at = {r: i for i, r in enumerate(grid_rows)}
    col_at = {c: i for i, c in enumerate(grid_cols)}

    def span(start: int, length: int, kept: list[int]) -> int:
        return max(1, sum(1 for k in kept if start <= k < start + length))

    cells = [
        Cell(
            row=row_at[c.row],
            col=col_at[c.col],
            text=c.text,
            row_span=span(c.row, c.row_span, grid_rows),
            col_span=span(c.col, c.col_span, grid_cols),
            bbox=c.bbox,
        )
        for c in table.cells
        if c.row in row_at and c.col in col_at
    ]
    return Table(
        page=table.page,
        index=0,
        n_rows=len(grid_rows),
        n_cols=len(grid_cols),
        cells=cells,
        bbox=table.bbox,
    )


def _ruled_tables(page: Page, words: Sequence[Word]) -> tuple[list[Table], set[int]]:
    tables: list[Table] = []
    used: set[int] = set()
    for found in page.find_tables(RULED_SETTINGS):
        made = _grid_table(page.page_number, found.cells, words)
        if made is None:
            continue
        table, in_table = made
        filled = [c for c in table.cells if c.text]
        # A frame around a paragraph, a single rule or an empty drawing is not a table.
        if table.n_rows < 2 or table.n_cols < 2 or len(filled) < 2:
            continue
        tables.append(table)
        used |= in_table
    return tables, used


# --- unruled tables --------------------------------------------------------------------------


@dataclass
class Segment:
    words: list[Word]

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return self.words[-1].x1

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def _segments(line: Line) -> list[Segment]:
    """A line cut where the gap between two words is wider than a wide space."""
    height = statistics.median(w.height for w in line.words) or 1.0
    segments = [Segment([line.words[0]])]
    for word in line.words[1:]:
        if word.x0 - segments[-1].x1 > 0.9 * height:
            segments.append(Segment([word]))
        else:
            segments[-1].words.append(word)
    return segments


def _gutters(rows: list[list[Segment]], x0: float, x1: float) -> list[float]:
    """Column boundaries: x positions in the block that no segment of the table's many-segment
    lines covers, each gap between covered stretches giving one boundary at its middle."""
    many = [row for row in rows if len(row) >= 2]
    intervals = sorted((s.x0, s.x1) for row in many for s in row)
    covered: list[list[float]] = []
    for a, b in intervals:
        if covered and a <= covered[-1][1] + 1.0:
            covered[-1][1] = max(covered[-1][1], b)
        else:
            covered.append([a, b])
    bounds = [x0 - 1.0]
    for left, right in itertools.pairwise(covered):
        bounds.append((left[1] + right[0]) / 2)
    bounds.append(x1 + 1.0)
    return bounds


def _is_tabular(segments: list[Segment]) -> bool:
    return len(segments) >= 2


def _blocks(lines: list[Line]) -> list[list[Line]]:
    """Runs of lines that look like table rows: two or more segments, close together; a single
    segment line inside a run (a row label alone, a wrapped cell) stays when both neighbours are
    tabular."""
    if not lines:
        return []
    heights = [line.bottom - line.top for line in lines]
    pitch = statistics.median(heights) or 10.0
    flags = [_is_tabular(_segments(line)) for line in lines]
    blocks: list[list[int]] = []
    current: list[int] = []
    for i, line in enumerate(lines):
        close = bool(current) and line.top - lines[current[-1]].bottom < 1.8 * pitch
        inside = (
            not flags[i]
            and 0 < i < len(lines) - 1
            and flags[i - 1]
            and i + 1 < len(lines)
            and flags[i + 1]
        )
        if flags[i] or inside:
            if current and not close:
                blocks.append(current)
                current = []
            current.append(i)
        else:
            if current:
                blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return [[lines[i] for i in b] for b in blocks if sum(flags[i] for i in b) >= 3]


def _unruled_table(page_number: int, block: list[Line]) -> Table | None:
    rows = [_segments(line) for line in block]
    x0 = min(line.x0 for line in block)
    x1 = max(line.x1 for line in block)
    bounds = _gutters(rows, x0, x1)
    n_cols = len(bounds) - 1
    if n_cols < 2:
        return None

    def columns(segment: Segment) -> tuple[int, int]:
        first = max(0, bisect.bisect_right(bounds, segment.x0 + 0.5) - 1)
        last = max(first, min(n_cols - 1, bisect.bisect_left(bounds, segment.x1 - 0.5) - 1))
        return first, last

    grid: list[dict[int, tuple[int, list[Word]]]] = []
    for line, segments in zip(block, rows, strict=True):
        placed: dict[int, tuple[int, list[Word]]] = {}
        for segment in segments:
            first, last = columns(segment)
            if first in placed:
                placed[first][1].extend(segment.words)
            else:
                placed[first] = (last - first + 1, list(segment.words))
        previous = grid[-1] if grid else None
        if (
            previous is not None
            and 0 not in placed
            and 0 in previous
            and set(placed) <= set(previous)
            and len(placed) < len(previous)
            and line.top - max(w.bottom for c in previous.values() for w in c[1])
            < 0.6 * (line.bottom - line.top)
        ):
            for col, (_, words) in placed.items():
                previous[col][1].extend(words)
            continue
        grid.append(placed)
    cells: list[Cell] = []
    for r, placed in enumerate(grid):
        for col, (span, words) in sorted(placed.items()):
            cells.append(
                Cell(
                    row=r,
                    col=col,
                    text=_text_of(words),
                    col_span=span,
                    bbox=(
                        min(w.x0 for w in words),
                        min(w.top for w in words),
                        max(w.x1 for w in words),
                        max(w.bottom for w in words),
                    ),
                )
            )
    top = min(line.top for line in block)
    bottom = max(line.bottom for line in block)
    return Table(
        page=page_number,
        index=0,
        n_rows=len(grid),
        n_cols=n_cols,
        cells=cells,
        bbox=(x0, top, x1, bottom),
    )


def _unruled_tables(page_number: int, lines: list[Line]) -> list[Table]:
    tables = []
    for block in _blocks(lines):
        table = _unruled_table(page_number, block)
        if table is not None and table.n_rows >= 2:
            tables.append(table)
    return tables


# --- running headers and footers -------------------------------------------------------------

_DIGITS = re.compile(r"\d+")


def _signature(line: Line) -> str:
    return _DIGITS.sub("#", line.text.lower()).strip()


def _band_lines(lines: list[Line], height: float) -> list[tuple[int, str]]:
    """(index, signature) of the lines in the top and bottom bands of the page."""
    return [
        (i, _signature(line))
        for i, line in enumerate(lines)
        if line.bottom < BAND * height or line.top > (1 - BAND) * height
    ]


# --- the document ----------------------------------------------------------------------------


@dataclass
class _PageWork:
    number: int
    height: float
    tables: list[Table]
    lines: list[Line]
    band: list[tuple[int, str]]
    seconds_left: float


def _open(data: bytes) -> PDF:
    try:
        return pdfplumber.open(io.BytesIO(data))
    except PdfminerException as error:
        cause = error.args[0] if error.args else None
        if isinstance(cause, PDFPasswordIncorrect | PDFEncryptionError):
            raise EncryptedPdf("The PDF is encrypted and needs a password.") from error
        raise CorruptPdf(f"The PDF cannot be read: {cause or error}.") from error
    except (PDFPasswordIncorrect, PDFEncryptionError) as error:
        raise EncryptedPdf("The PDF is encrypted and needs a password.") from error
    except (PDFSyntaxError, PSException, ValueError, TypeError, KeyError) as error:
        raise CorruptPdf(f"The PDF cannot be read: {error}.") from error


def extract_pdf_tables(
    data: bytes,
    *,
    pages: list[int] | None = None,
    mode: Mode = "auto",
    max_pages: int = 500,
    page_seconds: float = 10.0,
) -> PdfTables:
    """The tables of `pages` (1-based; all when None) of the PDF `data`; see the module's doc."""
    if not data.lstrip()[:1024].count(b"%PDF"):
        raise CorruptPdf("The file is not a PDF.")
    pdf = _open(data)
    try:
        count = len(pdf.pages)
        wanted = list(range(1, count + 1)) if pages is None else sorted(set(pages))
        bad = [p for p in wanted if not 1 <= p <= count]
        if bad:
            raise BadPageSelection(f"The PDF has {count} pages; no page {bad[0]}.")
        if len(wanted) > max_pages:
            raise PdfTooLarge(f"{len(wanted)} pages asked for; at most {max_pages} are read.")
        issues: dict[int, list[Issue]] = {}
        work: list[_PageWork] = []
        for number in wanted:
            page = pdf.pages[number - 1]
            started = time.monotonic()
            try:
                done = _read_page(page, mode, _Deadline(page_seconds))
            except PageTimeout:
                issues.setdefault(number, []).append(
                    Issue(
                        "page_timeout",
                        f"Page {number} took more than {page_seconds:g} s to read; its tables "
                        "are not extracted.",
                    )
                )
                continue
            except PdfminerException as error:
                issues.setdefault(number, []).append(
                    Issue("page_unreadable", f"Page {number} cannot be read: {error}.")
                )
                continue
            finally:
                page.close()
            if done is None:
                issues.setdefault(number, []).append(
                    Issue(
                        "needs_ocr",
                        f"Page {number} has no text layer (a scan or an image): it needs OCR.",
                    )
                )
                continue
            done.seconds_left = page_seconds - (time.monotonic() - started)
            work.append(done)
        tables = _finish(work, mode, issues)
        return PdfTables(tables=tables, page_issues=issues, page_count=count, pages=wanted)
    except (PDFSyntaxError, PSException) as error:
        raise CorruptPdf(f"The PDF cannot be read: {error}.") from error
    finally:
        pdf.close()


def _read_page(page: Page, mode: Mode, deadline: _Deadline) -> _PageWork | None:
    """First pass over a page: parse, ruled tables, the lines left; None if it has no text."""
    try:
        _parse_page(page, deadline)
    except PageTimeout:
        raise
    except Exception as error:
        raise PdfminerException(error) from error
    if not page.chars:
        return None
    if page.rotation and not _mostly_upright(page):
        # Text that /Rotate shows turned (upright in the page's own frame) is read in that
        # frame: columns and rows as the text runs. Text drawn turned, so the rotated page shows
        # it upright, is read as shown (pdfplumber's coordinates are the displayed ones).
        page = _unrotated(page)
        _parse_page(page, deadline)
    words = _words(page)
    deadline.check()
    tables: list[Table] = []
    used: set[int] = set()
    if mode != "unruled":
        tables, used = _ruled_tables(page, words)
        deadline.check()
    rest = [w for i, w in enumerate(words) if i not in used]
    rest = [w for w in rest if not any(_inside(w, t.bbox) for t in tables)]
    lines = _lines(rest)
    deadline.check()
    return _PageWork(
        number=page.page_number,
        height=float(page.height),
        tables=tables,
        lines=lines,
        band=_band_lines(lines, float(page.height)),
        seconds_left=0.0,
    )


def _mostly_upright(page: Page) -> bool:
    """Whether most characters are upright as the page is displayed."""
    upright = sum(1 for char in page.chars if char.get("upright"))
    return upright * 2 > len(page.chars)


def _unrotated(page: Page) -> Page:
    """The same page without its /Rotate (on a copy of its attributes)."""
    page.page_obj.attrs = {**page.page_obj.attrs, "Rotate": 0}
    page.page_obj.rotate = 0  # pdfminer turns the content by this
    return Page(page.pdf, page.page_obj, page.page_number, page.initial_doctop)


def _inside(word: Word, box: BBox | None) -> bool:
    if box is None:
        return False
    mx, my = (word.x0 + word.x1) / 2, (word.top + word.bottom) / 2
    return box[0] <= mx <= box[2] and box[1] <= my <= box[3]


def _finish(work: list[_PageWork], mode: Mode, issues: dict[int, list[Issue]]) -> list[Table]:
    """Second pass: running headers and footers dropped, unruled tables, numbering."""
    seen = Counter(sig for page in work for sig in {s for _, s in page.band if s})
    tables: list[Table] = []
    for page in work:
        found = list(page.tables)
        if mode != "ruled":
            running = {i for i, sig in page.band if sig and seen[sig] >= 2}
            lines = [line for i, line in enumerate(page.lines) if i not in running]
            started = time.monotonic()
            unruled = _unruled_tables(page.number, lines)
            if time.monotonic() - started > max(page.seconds_left, 0.0):
                issues.setdefault(page.number, []).append(
                    Issue("page_timeout", f"Page {page.number} took too long to read.")
                )
            found.extend(unruled)
        found.sort(key=lambda t: (t.bbox[1], t.bbox[0]) if t.bbox else (0.0, 0.0))
        for index, table in enumerate(found):
            table.index = index
        tables.extend(found)
    return tables
