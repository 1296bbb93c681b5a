"""What every extraction engine hands back: tables of cells, each cell with its place in the grid,
its spans and where it came from, and the problems met on the way. Pure data: the PDF, XLSX and
CSV readers make these; shaping by a configuration and exports read them."""

from __future__ import annotations

from dataclasses import dataclass, field

# A box on a PDF page in points, as pdfplumber gives it: (x0, top, x1, bottom), origin top-left.
BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Issue:
    """A problem a user should see beside the table: `code` is stable (`needs_ocr`,
    `unparsed_number`, ...), `message` says it in words; `row`/`col` point at a cell when there is
    one (0-based, in the table's grid)."""

    code: str
    message: str
    row: int | None = None
    col: int | None = None


@dataclass(frozen=True)
class Cell:
    """One cell of the grid, 0-based; a merged cell is one `Cell` at its top-left position with
    its spans. `bbox` is where its text was on the page (PDF) or None (spreadsheets)."""

    row: int
    col: int
    text: str
    row_span: int = 1
    col_span: int = 1
    bbox: BBox | None = None


@dataclass
class Table:
    """A table as found. `page` is 1-based: the PDF page, or for a workbook the sheet's number
    (its name in `sheet`); a CSV is page 1. `index` is its 0-based position on that page."""

    page: int
    index: int
    n_rows: int
    n_cols: int
    cells: list[Cell]
    bbox: BBox | None = None
    sheet: str | None = None
    issues: list[Issue] = field(default_factory=list)

    def grid(self) -> list[list[str]]:
        """The table as rows of cell texts; a spanning cell's text at its top-left position and
        blank in the rest of its span."""
        rows = [["" for _ in range(self.n_cols)] for _ in range(self.n_rows)]
        for cell in self.cells:
            rows[cell.row][cell.col] = cell.text
        return rows
