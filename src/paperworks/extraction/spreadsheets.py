"""Tables from spreadsheets: a CSV is one table, a workbook gives the tables of its sheets.

Pure: bytes in, `Table`s out. Both readers refuse what would hang or eat memory (a CSV of one
50 MB line, a zip bomb) with an `ExtractionError` whose `code` is stable.

Choices a user can notice:
- Only non-blank cells are listed in `Table.cells`; `Table.grid()` fills the blanks.
- CSV: the encoding is taken from a BOM (UTF-8, UTF-16, UTF-32), else UTF-8 when the bytes are
  valid UTF-8, else cp1252 (latin-1 for the five bytes cp1252 leaves undefined); UTF-16 without
  a BOM is recognised by its zero bytes. The delimiter is the one of `, ; TAB |` that splits the
  first lines into the same number of fields most consistently; on a tie the rarer in ordinary
  text wins (TAB, `;`, `|`, then `,`), so a `;` file with decimal commas reads as `;`. Quotes are
  `"` with `""` inside. Short rows are padded with blanks, trailing blank rows are dropped.
- XLSX: hidden and very hidden sheets are skipped (they usually hold lookup lists and helper
  sums); `read_xlsx(..., include_hidden=True)` reads them too and flags each of their tables with
  a `hidden_sheet` issue. A table's `page` is the sheet's 1-based position among all the
  workbook's worksheets, hidden ones counted, so numbers do not move when hidden sheets are
  included. A sheet is split into tables at rows and columns with no value (recursively, so a
  block beside another is its own table); tables are ordered top to bottom, then left to right.
- Cell texts from a workbook are the stored values, not their display: numbers as plain text
  (`1234.5`, `0.12` for 12 %, never `1,234.50`), dates as ISO (`2026-03-31`, or
  `2026-03-31T14:30:00` with a time), times as `14:30:00`, booleans as `TRUE`/`FALSE`, errors as
  Excel shows them (`#DIV/0!`, with a `formula_error` issue). A formula is read from its cached
  result; one with no cached result (a file written by a library that does not compute) is a
  blank cell with an `uncached_formula` issue.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import openpyxl  # type: ignore[import-untyped]
from openpyxl.worksheet._reader import (  # type: ignore[import-untyped]
    FORMULA_TAG,
    WorkSheetParser,
)

from paperworks.extraction.engine_errors import (
    BadCsv,
    BadWorkbook,
    CsvTooLarge,
    EncryptedWorkbook,
    WorkbookTooLarge,
)
from paperworks.extraction.tables import Cell, Issue, Table
from paperworks.kit import xlsx_archive as xlsx
from paperworks.kit.xlsx_archive import is_ole, open_xlsx_archive, reason

# --- CSV limits ---
MAX_CSV_BYTES = 100 * 1024 * 1024
MAX_LINE_BYTES = 1024 * 1024
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
MAX_COLUMNS = 16_384  # Excel's widest sheet
MAX_CELLS = 5_000_000

# --- XLSX limits ---
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_WORKBOOK_CELLS = 2_000_000
MAX_TABLE_AREA = 5_000_000  # rows x columns of one table's grid

_DELIMITERS = ("\t", ";", "|", ",")  # tie-break order: rarer in ordinary text first
_SNIFF_CHARS = 64 * 1024


# ---------------------------------------------------------------------------------------------
# CSV


def read_csv(data: bytes) -> Table:
    """The CSV in `data` as one table on page 1."""
    if len(data) > MAX_CSV_BYTES:
        raise CsvTooLarge(
            f"The CSV file is {len(data) // (1024 * 1024)} MB; the limit is "
            f"{MAX_CSV_BYTES // (1024 * 1024)} MB."
        )
    _refuse_other_formats(data)
    _check_line_lengths(data)
    text = decode_text(data)
    if not text.strip():
        return Table(
            page=1,
            index=0,
            n_rows=0,
            n_cols=0,
            cells=[],
            issues=[Issue("empty_file", "The file holds no rows.")],
        )
    dialect = detect_dialect(text)
    rows = _parse_rows(text, dialect)
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    n_cols = max((len(row) for row in rows), default=0)
    cells = [
        Cell(row=r, col=c, text=value)
        for r, row in enumerate(rows)
        for c, value in enumerate(row)
        if value.strip()
    ]
    return Table(page=1, index=0, n_rows=len(rows), n_cols=n_cols, cells=cells)


def _refuse_other_formats(data: bytes) -> None:
    if data.startswith(b"%PDF-"):
        raise BadCsv("The file is a PDF, not a CSV.")
    if data.startswith(b"PK\x03\x04"):
        raise BadCsv("The file is a zip archive (an XLSX workbook?), not a CSV.")
    if is_ole(data):
        raise BadCsv("The file is an old Office document (.xls?), not a CSV.")


def _check_line_lengths(data: bytes) -> None:
    """Refuse a line over MAX_LINE_BYTES without scanning line by line: any such line covers a
    whole aligned window of half that size, so only windows with no line break are looked at
    closely. A 50 MB file costs about a hundred `find` calls."""
    step = MAX_LINE_BYTES // 2
    for start in range(0, len(data) - step + 1, step):
        end = start + step
        if data.find(b"\n", start, end) != -1 or data.find(b"\r", start, end) != -1:
            continue
        line_start = max(data.rfind(b"\n", 0, start), data.rfind(b"\r", 0, start)) + 1
        line_end = min(_find_or_end(data, b"\n", end), _find_or_end(data, b"\r", end))
        if line_end - line_start > MAX_LINE_BYTES:
            raise CsvTooLarge(
                f"The CSV has a line of {(line_end - line_start) // 1024} KB; the limit is "
                f"{MAX_LINE_BYTES // 1024} KB. Is it really a CSV?"
            )


def _find_or_end(data: bytes, needle: bytes, start: int) -> int:
    found = data.find(needle, start)
    return len(data) if found == -1 else found


def decode_text(data: bytes) -> str:
    """`data` as text, its encoding detected (see the module's docstring)."""
    encoding = detect_encoding(data)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise BadCsv(f"The file cannot be read as {encoding}: {exc.reason}.") from exc
    if "\x00" in text:
        raise BadCsv("The file holds binary data, not text.")
    return text


def detect_encoding(data: bytes) -> str:
    """The Python codec name for `data`: from its BOM, else UTF-8, else cp1252 or latin-1."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    head = data[:4096]
    if head.count(b"\x00") * 4 >= len(head) > 0:
        # Text in UTF-16 without a BOM: every other byte of ASCII text is zero.
        even_zeros = head[0::2].count(0)
        odd_zeros = head[1::2].count(0)
        return "utf-16-be" if even_zeros > odd_zeros else "utf-16-le"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"


@dataclass(frozen=True)
class CsvDialect:
    delimiter: str
    skip_initial_space: bool


def detect_dialect(text: str) -> CsvDialect:
    """The delimiter that splits the first lines most consistently (see the module's docstring),
    and whether fields start after a space (`a, "b, c"`)."""
    sample = text[:_SNIFF_CHARS]
    truncated = len(text) > len(sample)
    best: tuple[float, int] = (0.0, 0)
    chosen = ","
    for rank, delimiter in enumerate(_DELIMITERS):
        counts = _field_counts(sample, delimiter, drop_last=truncated)
        if not counts:
            continue
        modal = max(set(counts), key=lambda n: (counts.count(n), n))
        if modal < 2:
            continue
        consistency = counts.count(modal) / len(counts)
        score = (consistency, -rank)
        if score > best:
            best, chosen = score, delimiter
    occurrences = sample.count(chosen)
    spaced = sample.count(chosen + " ")
    return CsvDialect(chosen, occurrences > 0 and spaced >= 0.8 * occurrences)


def _field_counts(sample: str, delimiter: str, *, drop_last: bool) -> list[int]:
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, strict=False)
    try:
        counts = [len(row) for row in reader if row]
    except csv.Error:
        return []
    if drop_last and counts:
        counts.pop()
    return counts[:200]


def _parse_rows(text: str, dialect: CsvDialect) -> list[list[str]]:
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=dialect.delimiter,
        quotechar='"',
        doublequote=True,
        skipinitialspace=dialect.skip_initial_space,
        strict=False,
    )
    rows: list[list[str]] = []
    total = 0
    try:
        for row in reader:
            if len(row) > MAX_COLUMNS:
                raise CsvTooLarge(
                    f"Row {reader.line_num} has {len(row)} fields; the limit is {MAX_COLUMNS}."
                )
            for value in row:
                if len(value) > MAX_CELL_CHARS:
                    raise CsvTooLarge(
                        f"A field on line {reader.line_num} has {len(value)} characters; "
                        f"the limit is {MAX_CELL_CHARS}."
                    )
            total += len(row)
            if total > MAX_CELLS:
                raise CsvTooLarge(f"The CSV has more than {MAX_CELLS} fields.")
            rows.append(row)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise CsvTooLarge(
                f"A field near line {reader.line_num} is longer than {MAX_CELL_CHARS} characters."
            ) from exc
        raise BadCsv(f"The CSV cannot be read near line {reader.line_num}: {exc}.") from exc
    return rows


# ---------------------------------------------------------------------------------------------
# XLSX


def read_xlsx(data: bytes, *, include_hidden: bool = False) -> list[Table]:
    """The tables of every visible sheet (and hidden ones with `include_hidden`)."""
    archive = _open_workbook_archive(data)
    archive.close()
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises a grab bag (KeyError, ValueError, TypeError...)
        raise BadWorkbook(f"The workbook cannot be read: {reason(exc)}") from exc
    try:
        tables: list[Table] = []
        budget = [MAX_WORKBOOK_CELLS]
        for number, sheet in enumerate(book.worksheets, start=1):
            hidden = sheet.sheet_state != "visible"
            if hidden and not include_hidden:
                continue
            found = _sheet_tables(book, sheet, number, budget)
            if hidden:
                for table in found:
                    table.issues.insert(
                        0,
                        Issue(
                            "hidden_sheet", f"The sheet {sheet.title!r} is hidden in the workbook."
                        ),
                    )
            tables.extend(found)
        return tables
    finally:
        book.close()


def _open_workbook_archive(data: bytes) -> zipfile.ZipFile:
    try:
        return open_xlsx_archive(data, max_unpacked_bytes=MAX_UNPACKED_BYTES)
    except xlsx.EncryptedWorkbook as exc:
        raise EncryptedWorkbook(str(exc)) from exc
    except xlsx.NotAWorkbook as exc:
        raise BadWorkbook(str(exc)) from exc
    except xlsx.WorkbookTooLarge as exc:
        raise WorkbookTooLarge(str(exc)) from exc


class _SheetParser(WorkSheetParser):  # type: ignore[misc]
    """openpyxl's streaming sheet parser, telling a formula without a cached result apart from
    an empty cell (in data-only mode both come back as None)."""

    def parse_cell(self, element: Any) -> dict[str, Any]:
        cell: dict[str, Any] = super().parse_cell(element)
        if cell["value"] is None and element.find(FORMULA_TAG) is not None:
            cell["data_type"] = "uncached"
        return cell


@dataclass
class _Value:
    text: str
    issue: Issue | None = None  # row/col filled in once the table is known
    figure: bool = False  # a number, a date or a time, not text


def _sheet_tables(book: Any, sheet: Any, number: int, budget: list[int]) -> list[Table]:
    values: dict[tuple[int, int], _Value] = {}
    try:
        with book._archive.open(sheet._worksheet_path) as source:
            parser = _SheetParser(
                source,
                book.shared_strings,
                data_only=True,
                epoch=book.epoch,
                date_formats=book._date_formats,
                timedelta_formats=book._timedelta_formats,
            )
            for _, row in parser.parse():
                for cell in row:
                    value = _cell_value(cell)
                    if value is None:
                        continue
                    budget[0] -= 1
                    if budget[0] < 0:
                        raise WorkbookTooLarge(
                            f"The workbook has more than {MAX_WORKBOOK_CELLS} cells with values."
                        )
                    values[(cell["row"] - 1, cell["column"] - 1)] = value
            merges = _merges(parser)
    except (WorkbookTooLarge, BadWorkbook):
        raise
    except Exception as exc:  # damaged XML or zip member
        raise BadWorkbook(f"The sheet {sheet.title!r} cannot be read: {reason(exc)}") from exc
    return _split_tables(values, merges, number, str(sheet.title))


def _merges(parser: Any) -> list[tuple[int, int, int, int]]:
    """Merged ranges as 0-based (top, left, bottom, right), inclusive."""
    if not parser.merged_cells:
        return []
    found = []
    for merged in parser.merged_cells.mergeCell:
        left, top, right, bottom = openpyxl.utils.cell.range_boundaries(merged.ref)
        found.append((top - 1, left - 1, bottom - 1, right - 1))
    return found


def _cell_value(cell: dict[str, Any]) -> _Value | None:
    kind = cell["data_type"]
    value = cell["value"]
    if kind == "uncached":
        return _Value("", Issue("uncached_formula", "The formula has no computed result saved."))
    if value is None:
        return None
    if kind == "e":
        return _Value(str(value), Issue("formula_error", f"The cell shows the error {value}."))
    text = value_text(value)
    figure = not isinstance(value, (str, bool))
    return _Value(text, figure=figure) if text.strip() else None


def value_text(value: object) -> str:
    """A workbook value as plain text: no locale, no display format (see the module)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(timespec="seconds" if not value.microsecond else "milliseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="seconds" if not value.microsecond else "milliseconds")
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        sign = "-" if seconds < 0 else ""
        hours, rest = divmod(abs(seconds), 3600)
        return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return str(value)


def _split_tables(
    values: dict[tuple[int, int], _Value],
    merges: list[tuple[int, int, int, int]],
    page: int,
    sheet: str,
) -> list[Table]:
    # A merge only counts when its top-left cell holds something; it then fills its whole range,
    # so a split never cuts through it.
    spans = [m for m in merges if (m[0], m[1]) in values]
    covered: set[tuple[int, int]] = set(values)
    for top, left, bottom, right in spans:
        covered.update((r, c) for r in range(top, bottom + 1) for c in range(left, right + 1))
    if not covered:
        return []
    blocks = _join_stacked(sorted(_blocks(covered), key=lambda b: (b[0], b[1])), values)
    # A lone value (a note on a sheet) is no table.
    blocks = [b for b in blocks if sum(1 for key in b[4] if key in values) >= 2]
    tables = []
    for index, (top, left, bottom, right, members) in enumerate(blocks):
        n_rows, n_cols = bottom - top + 1, right - left + 1
        if n_rows * n_cols > MAX_TABLE_AREA:
            raise WorkbookTooLarge(
                f"A table on sheet {sheet!r} spans {n_rows} rows by {n_cols} columns; the limit "
                f"is {MAX_TABLE_AREA} cells."
            )
        span_at = {
            (t, lft): (b - t + 1, r - lft + 1)
            for t, lft, b, r in spans
            if top <= t <= bottom and left <= lft <= right
        }
        cells: list[Cell] = []
        issues: list[Issue] = []
        inside = sorted(key for key in members if key in values)
        hidden_by_merge = {
            (r, c)
            for (t, lft), (rs, cs) in span_at.items()
            for r in range(t, t + rs)
            for c in range(lft, lft + cs)
            if (r, c) != (t, lft)
        }
        for r, c in inside:
            if (r, c) in hidden_by_merge:
                continue  # Excel keeps only the top-left value of a merge
            value = values[(r, c)]
            row_span, col_span = span_at.get((r, c), (1, 1))
            if value.text:
                cells.append(
                    Cell(
                        row=r - top,
                        col=c - left,
                        text=value.text,
                        row_span=row_span,
                        col_span=col_span,
                    )
                )
            if value.issue is not None:
                issues.append(
                    Issue(value.issue.code, value.issue.message, row=r - top, col=c - left)
                )
        tables.append(
            Table(
                page=page,
                index=index,
                n_rows=n_rows,
                n_cols=n_cols,
                cells=cells,
                sheet=sheet,
                issues=issues,
            )
        )
    return tables


Block = tuple[int, int, int, int, set[tuple[int, int]]]
# Blank rows a table may have inside it and stay one table.
BLANK_ROWS_INSIDE = 2


def _join_stacked(blocks: list[Block], values: dict[tuple[int, int], _Value]) -> list[Block]:
    """Blocks one above the other, a blank row or two apart, that are one table: the lower one
    goes on over the same columns with figures (data after a blank row, not a new header), or
    the upper one is only a title (a value or none per row) over the lower one's columns."""
    joined: list[Block] = []
    for block in blocks:
        for i, above in enumerate(joined):
            if _one_table(above, block, values):
                top, left, _, right, cells = above
                joined[i] = (
                    top,
                    min(left, block[1]),
                    block[2],
                    max(right, block[3]),
                    cells | block[4],
                )
                break
        else:
            joined.append(block)
    return joined


def _one_table(above: Block, below: Block, values: dict[tuple[int, int], _Value]) -> bool:
    _, a_left, a_bottom, a_right, a_cells = above
    top, left, _, right, _ = below
    if not 0 <= top - a_bottom - 1 <= BLANK_ROWS_INSIDE:
        return False
    per_row = Counter(r for r, c in a_cells if (r, c) in values)
    if all(n <= 1 for n in per_row.values()) and left <= a_left and a_right <= right:
        return True  # a title
    first_row = (values.get((top, c)) for c in range(left, right + 1))
    return (a_left, a_right) == (left, right) and any(v is not None and v.figure for v in first_row)


def _blocks(covered: set[tuple[int, int]]) -> Iterator[Block]:
    """Rectangles (top, left, bottom, right) with the cells in them, split at fully empty rows,
    then columns, until no empty row or column is left inside any of them (an XY cut)."""
    pending = [covered]
    while pending:
        cells = pending.pop()
        rows = _runs(sorted({r for r, _ in cells}))
        if len(rows) > 1:
            pending.extend({(r, c) for r, c in cells if lo <= r <= hi} for lo, hi in rows)
            continue
        cols = _runs(sorted({c for _, c in cells}))
        if len(cols) > 1:
            pending.extend({(r, c) for r, c in cells if lo <= c <= hi} for lo, hi in cols)
            continue
        yield rows[0][0], cols[0][0], rows[0][1], cols[0][1], cells


def _runs(sorted_values: list[int]) -> list[tuple[int, int]]:
    """Consecutive runs in sorted distinct ints, as (first, last)."""
    runs: list[tuple[int, int]] = []
    for value in sorted_values:
        if runs and value == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs
