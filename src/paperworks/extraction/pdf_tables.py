"""Tables out of a PDF's text layer: ruled tables from the page's lines and rectangles, unruled
tables from the alignment of words, each as a `Table` of `Cell`s with spans and boxes.

Pure: bytes in, `PdfTables` out (no DB, no settings). The page is read with PDFium (pypdfium2:
character boxes and the paths drawn, in C, four times faster than pdfminer.six through
pdfplumber on ICDAR 2013); pdfplumber's line finder (pure geometry) turns the edges into cells.

    result = extract_pdf_tables(data, pages=[1, 2], mode="auto")
    result.tables        # every table found, in page then position order
    result.page_issues   # {page: [Issue]}: pages that need OCR, pages that ran out of time

What a page gives:
- **ruled** tables: pdfplumber's line finder (path segments, snapped and joined) gives
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
- a rotated page (/Rotate 90, 180, 270) is read as it is displayed, so columns are columns as a
  reader sees them; a page whose text mostly runs another way (a table printed sideways) is read
  turned so that it runs left to right. Boxes are in that reading frame (points, top-left origin).
- PDFium is not thread-safe: documents are read one at a time in a process (a lock).

Raises `CorruptPdf`, `EncryptedPdf`, `PdfTooLarge` or `BadPageSelection` (engine_errors), each
with a stable `code`.
"""

from __future__ import annotations

import bisect
import ctypes
import itertools
import math
import re
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]
from pdfplumber.table import (
    cells_to_tables,
    edges_to_intersections,
    intersections_to_cells,
    merge_edges,
)

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


PageRead = Callable[[int, int, int], None]
"""`on_page(page, done, total)`: page `page` (1-based) was read, the `done`th of `total`."""


class PageTimeout(Exception):
    """Raised inside a page's work when its time is up."""


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise PageTimeout


# --- reading a page with PDFium ---------------------------------------------------------------

# A point's frame: x to the right, y down, origin at the top-left of the page as a reader holds it.
Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
# Characters closer than this (points) along a line are one word; lines whose tops are this close
# are one line.
WORD_GAP = 1.5
LINE_TOLERANCE = 2.0
# Ends of a drawn segment this close on one axis make it a horizontal or vertical edge.
AXIS_TOLERANCE = 0.1
# pdfium is not thread-safe: one document at a time in this process.
PDFIUM_LOCK = threading.Lock()


@dataclass
class _Char:
    x0: float
    top: float
    x1: float
    bottom: float
    text: str
    baseline: float


# (quarter turn of the baseline's direction, text, left, bottom, right, top, origin x, origin y),
# in PDF space.
_RawChar = tuple[int, str, float, float, float, float, float, float]


@dataclass
class _PageContent:
    width: float
    height: float
    words: list[Word]
    edges: list[dict[str, Any]]
    chars: int
    # Middles of the diagonal segments drawn: a chart's lines and curves.
    marks: list[tuple[float, float]] = field(default_factory=list)


def _compose(inner: Matrix, outer: Matrix) -> Matrix:
    """The matrix applying `inner` then `outer` (PDF row-vector convention)."""
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (
        a * A + b * C,
        a * B + b * D,
        c * A + d * C,
        c * B + d * D,
        e * A + f * C + E,
        e * B + f * D + F,
    )


class _Frame:
    """From PDF user space (y up) to the reading frame (y down, top-left origin) of a page turned
    clockwise by `turn` degrees (0, 90, 180, 270) inside its box."""

    def __init__(self, box: tuple[float, float, float, float], turn: int) -> None:
        self.left, self.top = box[0], box[3]
        self.w, self.h = box[2] - box[0], box[3] - box[1]
        self.turn = turn % 360
        turned = self.turn in (90, 270)
        self.width, self.height = (self.h, self.w) if turned else (self.w, self.h)

    def point(self, x: float, y: float) -> tuple[float, float]:
        u, v = x - self.left, self.top - y
        if self.turn == 0:
            return u, v
        if self.turn == 90:
            return self.h - v, u
        if self.turn == 180:
            return self.w - u, self.h - v
        return v, self.w - u

    def box(self, left: float, bottom: float, right: float, top: float) -> BBox:
        ax, ay = self.point(left, bottom)
        bx, by = self.point(right, top)
        return (min(ax, bx), min(ay, by), max(ax, bx), max(ay, by))


def _page_content(document: Any, index: int, deadline: _Deadline) -> _PageContent:
    """The words and ruling edges of one page, in the frame where most of its text reads left to
    right: the page as displayed (its /Rotate applied) when its text is upright there, else the
    page turned so that it is (a table printed sideways is read along its rows)."""
    page = document[index]
    try:
        textpage = page.get_textpage()
        try:
            deadline.check()
            chars = _raw_chars(textpage.raw, deadline)
        finally:
            textpage.close()
        box = page.get_bbox()
        shown = page.get_rotation() % 360
        quarters = Counter(q for q, *_ in chars)
        upright = quarters.get(shown // 90, 0)
        if quarters and upright * 2 <= sum(quarters.values()):
            turn = 90 * quarters.most_common(1)[0][0]
        else:
            turn = shown
        frame = _Frame(box, turn)
        words = _words(chars, frame, turn // 90)
        deadline.check()
        marks: list[tuple[float, float]] = []
        edges = _edges(page.raw, frame, deadline, marks)
        return _PageContent(frame.width, frame.height, words, edges, len(chars), marks)
    finally:
        page.close()


def _raw_chars(textpage: Any, deadline: _Deadline) -> list[_RawChar]:
    """A `_RawChar` for every character the page draws; a space is kept with text " " (it parts
    words), pdfium's own generated spaces and line ends are not."""
    rect = pdfium_c.FS_RECTF()
    out: list[_RawChar] = []
    count = pdfium_c.FPDFText_CountChars(textpage)
    get_unicode = pdfium_c.FPDFText_GetUnicode
    is_generated = pdfium_c.FPDFText_IsGenerated
    loose_box = pdfium_c.FPDFText_GetLooseCharBox
    get_matrix = pdfium_c.FPDFText_GetMatrix
    get_origin = pdfium_c.FPDFText_GetCharOrigin
    ox, oy = ctypes.c_double(), ctypes.c_double()
    ox_pointer, oy_pointer = ctypes.byref(ox), ctypes.byref(oy)
    pointer = ctypes.byref(rect)
    matrix = pdfium_c.FS_MATRIX()
    matrix_pointer = ctypes.byref(matrix)
    for i in range(count):
        if i & 1023 == 1023:
            deadline.check()
        code = get_unicode(textpage, i)
        if code in (0, 0xFFFE, 0xFFFF) or is_generated(textpage, i) == 1:
            continue
        text = chr(code)
        if text in "\r\n":
            continue
        if not loose_box(textpage, i, pointer):
            continue
        # The baseline's direction from the character's matrix (pdfium's own angle reads a
        # mirrored text matrix as upside down).
        quarter = (
            round(math.degrees(math.atan2(matrix.b, matrix.a)) / 90) % 4
            if get_matrix(textpage, i, matrix_pointer)
            else 0
        )
        if not get_origin(textpage, i, ox_pointer, oy_pointer):
            ox.value, oy.value = rect.left, rect.bottom
        out.append(
            (
                quarter,
                " " if text.isspace() else text,
                rect.left,
                rect.bottom,
                rect.right,
                rect.top,
                ox.value,
                oy.value,
            )
        )
    return out


def _words(chars: list[_RawChar], frame: _Frame, quarter: int) -> list[Word]:
    """Characters made words: those that read left to right in the frame by position (lines by
    top, then left to right, a space or a gap wider than `WORD_GAP` ending a word); characters
    running another way (a turned header) in the order they are drawn."""
    level: list[_Char] = []
    turned: list[Word] = []
    run: list[_Char] = []
    run_quarter = -1

    def flush() -> None:
        if run:
            turned.append(
                Word(
                    min(c.x0 for c in run),
                    min(c.top for c in run),
                    max(c.x1 for c in run),
                    max(c.bottom for c in run),
                    "".join(c.text for c in run),
                )
            )
            run.clear()

    for q, text, left, bottom, right, top, ox, oy in chars:
        x0, y0, x1, y1 = frame.box(left, bottom, right, top)
        char = _Char(x0, y0, x1, y1, text, frame.point(ox, oy)[1])
        if q == quarter:
            level.append(char)
            continue
        if text == " " or q != run_quarter:
            flush()
            run_quarter = q
        if text != " ":
            if run and not _touching(run[-1], char):
                flush()
            run.append(char)
    flush()
    words: list[Word] = []
    for line in _char_lines(level):
        current: list[_Char] = []
        for char in line:
            if current and (
                char.text == " " or char.x0 < current[-1].x0 or char.x0 > current[-1].x1 + WORD_GAP
            ):
                words.append(_word_of(current))
                current = []
            if char.text != " ":
                current.append(char)
        if current:
            words.append(_word_of(current))
    return [w for w in words if w.text.strip()] + [w for w in turned if w.text.strip()]


def _touching(a: _Char, b: _Char) -> bool:
    slack = WORD_GAP
    return (
        b.x0 <= a.x1 + slack
        and a.x0 <= b.x1 + slack
        and b.top <= a.bottom + slack
        and a.top <= b.bottom + slack
    )


def _word_of(chars: list[_Char]) -> Word:
    return Word(
        chars[0].x0,
        min(c.top for c in chars),
        max(c.x1 for c in chars),
        max(c.bottom for c in chars),
        "".join(c.text for c in chars),
    )


def _char_lines(chars: list[_Char]) -> list[list[_Char]]:
    """Characters grouped by baseline (within `LINE_TOLERANCE` of the previous one: a larger
    capital or a small-caps run stays in its word), each group left to right."""
    lines: list[list[_Char]] = []
    last = -math.inf
    for char in sorted(chars, key=lambda c: c.baseline):
        if lines and char.baseline - last <= LINE_TOLERANCE:
            lines[-1].append(char)
        else:
            lines.append([char])
        last = char.baseline
    for line in lines:
        line.sort(key=lambda c: c.x0)
    return lines


# A filled shape thinner than this (points) is a rule drawn as a rectangle.
THIN = 2.0


def _is_background(
    obj: Any, segments: list[tuple[tuple[float, float], tuple[float, float]]]
) -> bool:
    """A filled, unstroked shape wider and taller than a rule: a cell's or a band's shade."""
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    if not pdfium_c.FPDFPath_GetDrawMode(obj, ctypes.byref(fill), ctypes.byref(stroke)):
        return False
    if stroke.value or not fill.value:
        return False
    xs = [p[0] for segment in segments for p in segment]
    ys = [p[1] for segment in segments for p in segment]
    return max(xs) - min(xs) > THIN and max(ys) - min(ys) > THIN


def _edges(
    page: Any, frame: _Frame, deadline: _Deadline, drawn: list[tuple[float, float]]
) -> list[dict[str, Any]]:
    """Horizontal and vertical edges of every path the page draws (in forms too): each straight
    segment, including a subpath's closing one, whose ends share an x or a y."""
    edges: list[dict[str, Any]] = []
    marks = drawn
    matrix = pdfium_c.FS_MATRIX()
    x, y = ctypes.c_float(), ctypes.c_float()
    count = [0]

    def add(p0: tuple[float, float], p1: tuple[float, float]) -> None:
        (ax, ay), (bx, by) = frame.point(*p0), frame.point(*p1)
        if abs(ax - bx) <= AXIS_TOLERANCE:
            orientation = "v"
        elif abs(ay - by) <= AXIS_TOLERANCE:
            orientation = "h"
        else:
            marks.append(((ax + bx) / 2, (ay + by) / 2))
            return
        x0, x1 = (ax, bx) if ax <= bx else (bx, ax)
        top, bottom = (ay, by) if ay <= by else (by, ay)
        if orientation == "v":
            x0 = x1 = (x0 + x1) / 2
        else:
            top = bottom = (top + bottom) / 2
        edges.append(
            {
                "object_type": "line",
                "orientation": orientation,
                "x0": x0,
                "x1": x1,
                "top": top,
                "bottom": bottom,
                "doctop": top,
                "width": x1 - x0,
                "height": bottom - top,
            }
        )

    def path(obj: Any, outer: Matrix) -> None:
        m = outer
        if pdfium_c.FPDFPageObj_GetMatrix(obj, ctypes.byref(matrix)):
            m = _compose((matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f), outer)
        a, b, c, d, e, f = m
        start: tuple[float, float] | None = None
        current: tuple[float, float] | None = None
        segments: list[tuple[tuple[float, float], tuple[float, float]]] = []
        for i in range(pdfium_c.FPDFPath_CountSegments(obj)):
            segment = pdfium_c.FPDFPath_GetPathSegment(obj, i)
            if not pdfium_c.FPDFPathSegment_GetPoint(segment, ctypes.byref(x), ctypes.byref(y)):
                continue
            point = (x.value * a + y.value * c + e, x.value * b + y.value * d + f)
            kind = pdfium_c.FPDFPathSegment_GetType(segment)
            if kind == pdfium_c.FPDF_SEGMENT_MOVETO or current is None:
                start = point
            elif kind == pdfium_c.FPDF_SEGMENT_LINETO:
                segments.append((current, point))
            current = point
            if pdfium_c.FPDFPathSegment_GetClose(segment) and start is not None:
                if start != point:
                    segments.append((point, start))
                current = start
        if segments and _is_background(obj, segments):
            # Its outline is no rule: only a change of shade, or none beside a like fill.
            segments = [(p, q) for p, q in segments if p[0] != q[0] and p[1] != q[1]]
        for p, q in segments:
            add(p, q)

    def walk(objects: Iterable[Any], outer: Matrix) -> None:
        for obj in objects:
            count[0] += 1
            if count[0] & 255 == 0:
                deadline.check()
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind == pdfium_c.FPDF_PAGEOBJ_PATH:
                path(obj, outer)
            elif kind == pdfium_c.FPDF_PAGEOBJ_FORM:
                m = outer
                if pdfium_c.FPDFPageObj_GetMatrix(obj, ctypes.byref(matrix)):
                    m = _compose(
                        (matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f), outer
                    )
                n = pdfium_c.FPDFFormObj_CountObjects(obj)
                walk((pdfium_c.FPDFFormObj_GetObject(obj, i) for i in range(n)), m)

    n = pdfium_c.FPDFPage_CountObjects(page)
    walk((pdfium_c.FPDFPage_GetObject(page, i) for i in range(n)), _IDENTITY)
    return edges


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
    # Lines closer than a letter is wide are one column boundary: cells drawn with space
    # between them (or a double rule) leave slivers that no text fits in.
    letter = 0.6 * statistics.median(w.height for w in words) if words else 0.0
    xs = _cluster((x for box in cell_boxes for x in (box[0], box[2])), max(GRID_TOLERANCE, letter))
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
    # A row ruled around but holding several lines that line up across its columns (a body
    # ruled only between columns) is that many rows: `start[r]` is where grid row r begins.
    lines_of = {
        r: _sub_rows([texts.get((p[0], p[1]), []) for p in placed if p[0] == r and p[2] == r + 1])
        for r in range(len(ys) - 1)
    }
    start = [0]
    for r in range(len(ys) - 1):
        start.append(start[-1] + max(1, len(lines_of[r])))
    cells: list[Cell] = []
    for r0, c0, r1, c1, box in placed:
        inside = texts.get((r0, c0), [])
        if r1 == r0 + 1 and len(lines_of[r0]) > 1:
            cells.extend(_cells_by_line(start[r0], c0, c1 - c0, inside, lines_of[r0]))
            continue
        if c1 - c0 > 1 and inside:
            split = _split_across_columns(start[r0], start[r1], c0, c1, xs, inside, box)
            if split:
                cells.extend(split)
                continue
        cells.append(
            Cell(
                row=start[r0],
                col=c0,
                text=_text_of(inside),
                row_span=start[r1] - start[r0],
                col_span=c1 - c0,
                bbox=(box[0], box[1], box[2], box[3]),
            )
        )
    table = Table(
        page=page_number,
        index=0,
        n_rows=start[-1],
        n_cols=len(xs) - 1,
        cells=cells,
        bbox=(xs[0], ys[0], xs[-1], ys[-1]),
    )
    return _drop_empty_lines(table), used


_FIGURE = re.compile(r"\d")


def _sub_rows(row: list[list[Word]]) -> list[float]:
    """The middles of a grid row's text lines when the row is really several rows of data: three
    or more lines, shared by more than half of its cells that have text, and a column of
    figures among them (a wrapped cell beside one-line cells, or a header whose titles wrap
    over several lines, is one row). Empty when it is one row."""
    filled = [_lines(words) for words in row if words]
    middles = _cluster(
        ((line.top + line.bottom) / 2 for lines in filled for line in lines), LINE_TOLERANCE
    )
    if len(middles) < 3:
        return []
    several = [lines for lines in filled if 2 * len(lines) >= len(middles)]
    figures = any(
        sum(1 for line in lines if _FIGURE.search(line.text)) >= 0.8 * len(lines)
        for lines in several
    )
    return middles if 2 * len(several) > len(filled) and figures else []


def _cells_by_line(
    row: int, col: int, span: int, words: list[Word], middles: list[float]
) -> list[Cell]:
    """A cell of a row that is several rows, cut into one cell per line."""
    by_row: dict[int, list[Word]] = {}
    for line in _lines(words):
        at = _nearest(middles, (line.top + line.bottom) / 2)
        by_row.setdefault(at, []).extend(line.words)
    return [
        Cell(
            row=row + at,
            col=col,
            text=_text_of(inside),
            col_span=span,
            bbox=(
                min(w.x0 for w in inside),
                min(w.top for w in inside),
                max(w.x1 for w in inside),
                max(w.bottom for w in inside),
            ),
        )
        for at, inside in sorted(by_row.items())
    ]


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


def _cell_groups(edges: list[dict[str, Any]], row_height: float) -> list[list[BBox]]:
    """pdfplumber's line finder on our edges: snapped and joined, too short ones dropped, their
    crossings made cells and the cells grouped into tables."""
    settings = RULED_SETTINGS
    edges = merge_edges(
        [e for e in edges if (e["height"] if e["orientation"] == "v" else e["width"]) >= 1],
        snap_x_tolerance=settings["snap_tolerance"],
        snap_y_tolerance=settings["snap_tolerance"],
        join_x_tolerance=settings["join_tolerance"],
        join_y_tolerance=settings["join_tolerance"],
    )
    edges = [
        e
        for e in edges
        if (e["height"] if e["orientation"] == "v" else e["width"]) >= settings["edge_min_length"]
    ]
    tolerance = settings["intersection_tolerance"]
    edges += _open_sides(edges, tolerance, row_height)
    crossings = edges_to_intersections(edges, tolerance, tolerance)
    return [list(group) for group in cells_to_tables(intersections_to_cells(crossings))]


def _open_sides(
    edges: list[dict[str, Any]], tolerance: float, row_height: float
) -> list[dict[str, Any]]:
    """The borders a grid leaves out: a table ruled between its columns and across its rows but
    open at the sides (the rules run past the outer columns, no line closes them) would lose its
    first and last columns. Two rules one above the other, at most `row_height` apart (one row
    between them, not a block of rows ruled only above and below), that end at the same x and
    that an inner vertical line joins, get a vertical there between them."""
    across = sorted((e for e in edges if e["orientation"] == "h"), key=lambda e: e["top"])
    down = [e for e in edges if e["orientation"] == "v"]
    added: list[dict[str, Any]] = []

    def joined(upper: dict[str, Any], lower: dict[str, Any]) -> bool:
        left, right = max(upper["x0"], lower["x0"]), min(upper["x1"], lower["x1"])
        return any(
            left < v["x0"] < right
            and v["top"] <= upper["top"] + tolerance
            and v["bottom"] >= lower["top"] - tolerance
            for v in down
        )

    for upper, lower in itertools.pairwise(across):
        gap = lower["top"] - upper["top"]
        if gap <= tolerance or gap > row_height or not joined(upper, lower):
            continue
        for end in ("x0", "x1"):
            x = upper[end]
            if abs(x - lower[end]) > tolerance:
                continue
            if any(
                abs(v["x0"] - x) <= tolerance
                and v["top"] <= upper["top"] + tolerance
                and v["bottom"] >= lower["top"] - tolerance
                for v in down
            ):
                continue
            added.append(_vertical(x, upper["top"], lower["top"]))
    return added


def _vertical(x: float, top: float, bottom: float) -> dict[str, Any]:
    return {
        "object_type": "line",
        "orientation": "v",
        "x0": x,
        "x1": x,
        "top": top,
        "bottom": bottom,
        "doctop": top,
        "width": 0.0,
        "height": bottom - top,
    }


def _ruled_tables(
    page_number: int,
    edges: list[dict[str, Any]],
    words: Sequence[Word],
    marks: list[tuple[float, float]],
) -> tuple[list[Table], set[int]]:
    tables: list[Table] = []
    used: set[int] = set()
    # A ruled row holds a line or two of text.
    row_height = 3.2 * statistics.median(w.height for w in words) if words else 0.0
    for group in _cell_groups(edges, row_height) if edges else []:
        made = _grid_table(page_number, group, words)
        if made is None:
            continue
        table, in_table = made
        filled = [c for c in table.cells if c.text]
        # A frame around a paragraph, a single rule or an empty drawing is not a table; nor
        # are the frames of charts (their curves drawn inside).
        if table.n_rows < 2 or table.n_cols < 2 or len(filled) < 2:
            continue
        if _marks_inside(table, marks) >= max(50, 5 * len(table.cells)):
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
            and not _second_figure(placed, previous)
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


_AMOUNT = re.compile(r"^[-+(]?[$€£¥]?\s?\d[\d.,' ]*\)?%?[-+]?$")


def _second_figure(
    line: dict[int, tuple[int, list[Word]]], row: dict[int, tuple[int, list[Word]]]
) -> bool:
    """Whether a line puts a figure under a figure of the row above: a row of its own (a carried
    balance, a subtotal), not the wrapped rest of that row's cells."""
    return any(
        _AMOUNT.match(" ".join(w.text for w in words).strip())
        and _AMOUNT.match(" ".join(w.text for w in row[col][1]).strip())
        for col, (_, words) in line.items()
    )


def _is_chart(table: Table, marks: list[tuple[float, float]]) -> bool:
    """Text aligned in a chart (axis labels, a legend): diagonal strokes (its lines and curves)
    drawn among it, at least one per row. A table has no slanted strokes."""
    return _marks_inside(table, marks) >= max(4, table.n_rows)


def _marks_inside(table: Table, marks: list[tuple[float, float]]) -> int:
    """How many slanted strokes (their middles) are drawn within the table."""
    if table.bbox is None:
        return 0
    x0, top, x1, bottom = table.bbox
    return sum(1 for x, y in marks if x0 <= x <= x1 and top <= y <= bottom)


# Marks that start a list item: bullets, squares, arrows, ticks, dashes (en, em, hyphen), stars.
BULLETS = frozenset("•·▪▫◦‣∙○●■□◆◇►▸✓✔➢➤*-\u2013\u2014")


def _is_bullet_list(table: Table) -> bool:
    """A bulleted list: its first column is nothing but bullets (a mark alone in its cell), the
    rest of each line the item's text."""
    first = [c.text for c in table.cells if c.col == 0 and c.text]
    return (
        len(first) >= 2
        and all(len(text) == 1 and text in BULLETS for text in first)
        and table.n_cols <= 3
    )


def _unruled_tables(page_number: int, lines: list[Line]) -> list[Table]:
    tables = []
    for block in _blocks(lines):
        table = _unruled_table(page_number, block)
        if table is not None and table.n_rows >= 2 and not _is_bullet_list(table):
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
    marks: list[tuple[float, float]] = field(default_factory=list)


def _open(data: bytes) -> Any:
    if data.rfind(b"%%EOF") < 0:
        raise CorruptPdf("The PDF cannot be read: it is truncated (no end of file marker).")
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if error.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise EncryptedPdf("The PDF is encrypted and needs a password.") from error
        raise CorruptPdf(f"The PDF cannot be read: {error}.") from error


def extract_pdf_tables(
    data: bytes,
    *,
    pages: list[int] | None = None,
    mode: Mode = "auto",
    max_pages: int = 500,
    page_seconds: float = 10.0,
    on_page: PageRead | None = None,
) -> PdfTables:
    """The tables of `pages` (1-based; all when None) of the PDF `data`; see the module's doc.
    `on_page(page, done, total)` is called as each page has been read (in the calling thread);
    an exception it raises (the job was cancelled) stops the reading and propagates."""
    if not data.lstrip()[:1024].count(b"%PDF"):
        raise CorruptPdf("The file is not a PDF.")
    with PDFIUM_LOCK:
        document = _open(data)
        try:
            return _extract(document, pages, mode, max_pages, page_seconds, on_page)
        finally:
            document.close()


def _extract(
    document: Any,
    pages: list[int] | None,
    mode: Mode,
    max_pages: int,
    page_seconds: float,
    on_page: PageRead | None,
) -> PdfTables:
    count = len(document)
    wanted = list(range(1, count + 1)) if pages is None else sorted(set(pages))
    bad = [p for p in wanted if not 1 <= p <= count]
    if bad:
        raise BadPageSelection(f"The PDF has {count} pages; no page {bad[0]}.")
    if len(wanted) > max_pages:
        raise PdfTooLarge(f"{len(wanted)} pages asked for; at most {max_pages} are read.")
    issues: dict[int, list[Issue]] = {}
    work: list[_PageWork] = []
    for done, number in enumerate(wanted, start=1):
        page = _first_pass(document, number, mode, page_seconds, issues)
        if page is not None:
            work.append(page)
        if on_page is not None:
            on_page(number, done, len(wanted))
    tables = _finish(work, mode, issues)
    return PdfTables(tables=tables, page_issues=issues, page_count=count, pages=wanted)


def _first_pass(
    document: Any, number: int, mode: Mode, page_seconds: float, issues: dict[int, list[Issue]]
) -> _PageWork | None:
    """A page's first pass, or None with the reason in `issues` (out of time, unreadable, no
    text layer)."""
    started = time.monotonic()
    try:
        page = _read_page(document, number, mode, _Deadline(page_seconds))
    except PageTimeout:
        message = (
            f"Page {number} took more than {page_seconds:g} s to read; its tables are not "
            "extracted."
        )
        issues.setdefault(number, []).append(Issue("page_timeout", message))
        return None
    except pdfium.PdfiumError as error:
        message = f"Page {number} cannot be read: {error}."
        issues.setdefault(number, []).append(Issue("page_unreadable", message))
        return None
    if page is None:
        message = f"Page {number} has no text layer (a scan or an image): it needs OCR."
        issues.setdefault(number, []).append(Issue("needs_ocr", message))
        return None
    page.seconds_left = page_seconds - (time.monotonic() - started)
    return page


def _read_page(document: Any, number: int, mode: Mode, deadline: _Deadline) -> _PageWork | None:
    """First pass over a page: its words and edges, ruled tables, the lines left; None if it
    has no text."""
    content = _page_content(document, number - 1, deadline)
    if not content.chars:
        return None
    words = content.words
    deadline.check()
    tables: list[Table] = []
    used: set[int] = set()
    if mode != "unruled":
        tables, used = _ruled_tables(number, content.edges, words, content.marks)
        deadline.check()
    rest = [w for i, w in enumerate(words) if i not in used]
    rest = [w for w in rest if not any(_inside(w, t.bbox) for t in tables)]
    lines = _lines(rest)
    deadline.check()
    return _PageWork(
        number=number,
        height=content.height,
        tables=tables,
        lines=lines,
        band=_band_lines(lines, content.height),
        marks=content.marks,
        seconds_left=0.0,
    )


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
            unruled = [
                t for t in _unruled_tables(page.number, lines) if not _is_chart(t, page.marks)
            ]
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
