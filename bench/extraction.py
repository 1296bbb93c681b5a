"""Extraction: our PDF table engine against camelot and pdfplumber on ICDAR 2013 (EU half).

Over `../shared/data/icdar2013-eu/` (27 born-digital PDFs; `-str.xml` gives each table's cells,
one table per `<region>`, pages 1-based), each contender reads every document and is scored:

- **F1**: table counts per page. On each page, `min(found, truth)` tables are right; precision
  and recall are summed over all pages of all documents (a page without truth counts what was
  found on it as wrong).
- **similarity** (the "TEDS proxy" of the data README): a table is its non-empty cell texts in
  row-major order (whitespace collapsed; a spanning cell once, at its top-left). Each truth table
  takes the not-yet-taken found table on its page with the highest
  `difflib.SequenceMatcher(None, truth, found).ratio()`; the mean over truth tables, 0 for a
  truth table left without one.
- **rows / cols**: the share of truth tables whose matched table has exactly as many rows
  (columns) as the truth (max end-row + 1).
- **seconds**: the total wall time of reading all documents (each contender once, after the
  imports; camelot's two flavours separately).

Anchor: camelot's best flavour by F1 + similarity in this run. The goal: our F1 and similarity at
least the anchor's, in at most a fifth of its time. camelot is a bench-only dependency
(`pip install -e '.[bench]'`); without it, only ours and pdfplumber are measured.

Run: .venv/bin/python bench/extraction.py [--data DIR] [--only eu-001,eu-002] [--verbose]
"""

from __future__ import annotations

import argparse
import difflib
import logging
import re
import time
import warnings
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pdfplumber

from paperworks.extraction.pdf_tables import extract_pdf_tables

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "icdar2013-eu"
SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Found:
    """One table as a contender found it: its page, size and non-empty cells in row order."""

    page: int
    n_rows: int
    n_cols: int
    cells: list[str]


Reader = Callable[[Path], list[Found]]


def norm(text: str | None) -> str:
    return SPACE.sub(" ", text or "").strip()


def truth(path: Path) -> list[Found]:
    """The `-str.xml` tables of a document, one per region."""
    tables = []
    for region in ET.parse(path).getroot().iter("region"):  # noqa: S314 (our own data files)
        cells = []
        n_rows = n_cols = 0
        for cell in region.iter("cell"):
            row, col = int(cell.get("start-row", 0)), int(cell.get("start-col", 0))
            n_rows = max(n_rows, int(cell.get("end-row", row)) + 1)
            n_cols = max(n_cols, int(cell.get("end-col", col)) + 1)
            content = cell.find("content")
            cells.append((row, col, norm(content.text if content is not None else "")))
        cells.sort()
        texts = [t for _, _, t in cells if t]
        tables.append(Found(int(region.get("page", 1)), n_rows, n_cols, texts))
    return tables


def ours(path: Path) -> list[Found]:
    result = extract_pdf_tables(path.read_bytes())
    return [
        Found(t.page, t.n_rows, t.n_cols, [norm(x) for row in t.grid() for x in row if norm(x)])
        for t in result.tables
    ]


def with_pdfplumber(path: Path) -> list[Found]:
    found = []
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            for rows in page.extract_tables():
                cells = [norm(x) for row in rows for x in row if norm(x)]
                width = max((len(row) for row in rows), default=0)
                found.append(Found(page.page_number, len(rows), width, cells))
    return found


def with_camelot(flavor: str) -> Reader:
    import camelot

    def read(path: Path) -> list[Found]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tables = camelot.read_pdf(str(path), flavor=flavor, pages="all")
        found = []
        for table in tables:
            values = table.df.values.tolist()
            cells = [norm(str(x)) for row in values for x in row if norm(str(x))]
            rows, cols = table.df.shape
            found.append(Found(int(table.page), rows, cols, cells))
        return found

    return read


@dataclass
class Score:
    f1: float
    similarity: float
    rows: float
    cols: float
    seconds: float


def score(documents: list[tuple[Path, list[Found]]], read: Reader, verbose: str = "") -> Score:
    right = found_total = truth_total = 0
    sims: list[float] = []
    rows_ok = cols_ok = 0
    started = time.perf_counter()
    results = [(pdf, expected, read(pdf)) for pdf, expected in documents]
    seconds = time.perf_counter() - started
    for pdf, expected, found in results:
        by_page_t: dict[int, list[Found]] = defaultdict(list)
        by_page_f: dict[int, list[Found]] = defaultdict(list)
        for t in expected:
            by_page_t[t.page].append(t)
        for f in found:
            by_page_f[f.page].append(f)
        for page in set(by_page_t) | set(by_page_f):
            ts, fs = by_page_t.get(page, []), by_page_f.get(page, [])
            right += min(len(ts), len(fs))
            found_total += len(fs)
            truth_total += len(ts)
            taken: set[int] = set()
            for t in ts:
                best, best_i = 0.0, -1
                for i, f in enumerate(fs):
                    if i in taken:
                        continue
                    ratio = difflib.SequenceMatcher(None, t.cells, f.cells, autojunk=False).ratio()
                    if ratio > best:
                        best, best_i = ratio, i
                sims.append(best)
                if best_i >= 0:
                    taken.add(best_i)
                    f = fs[best_i]
                    rows_ok += f.n_rows == t.n_rows
                    cols_ok += f.n_cols == t.n_cols
                    if verbose:
                        print(
                            f"  {verbose} {pdf.stem} p{page}: sim {best:.2f} rows {f.n_rows}/"
                            f"{t.n_rows} cols {f.n_cols}/{t.n_cols}"
                        )
                elif verbose:
                    print(f"  {verbose} {pdf.stem} p{page}: truth table not found")
            if verbose and len(fs) != len(ts):
                print(f"  {verbose} {pdf.stem} p{page}: found {len(fs)}, truth {len(ts)}")
    precision = right / found_total if found_total else 0.0
    recall = right / truth_total if truth_total else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    n = len(sims) or 1
    return Score(f1, sum(sims) / n, rows_ok / n, cols_ok / n, seconds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--only", default="", help="comma-separated document names")
    parser.add_argument("--verbose", action="store_true", help="print ours per table")
    parser.add_argument("--skip-camelot", action="store_true")
    args = parser.parse_args()
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    if not args.data.is_dir():
        print(f"no data at {args.data}: nothing to measure")
        return
    only = {name for name in args.only.split(",") if name}
    documents = [
        (pdf, truth(pdf.with_name(f"{pdf.stem}-str.xml")))
        for pdf in sorted(args.data.glob("*.pdf"))
        if pdf.with_name(f"{pdf.stem}-str.xml").exists() and (not only or pdf.stem in only)
    ]
    tables = sum(len(t) for _, t in documents)
    contenders: list[tuple[str, Reader]] = [
        ("ours: extract_pdf_tables (auto)", ours),
        ("pdfplumber default extract_tables", with_pdfplumber),
    ]
    camelot_rows: list[int] = []
    try:
        if args.skip_camelot:
            raise ImportError
        import camelot  # noqa: F401

        contenders += [
            ("camelot lattice", with_camelot("lattice")),
            ("camelot stream", with_camelot("stream")),
        ]
        camelot_rows = [2, 3]
    except ImportError:
        print("camelot not installed: pip install -e '.[bench]' (measuring without it)")
    for _, read in contenders:  # warm-up: imports, fonts, caches
        read(documents[0][0])
    scores = [
        (name, score(documents, read, "ours" if args.verbose and n == 0 else ""))
        for n, (name, read) in enumerate(contenders)
    ]
    anchor = (
        max(camelot_rows, key=lambda i: scores[i][1].f1 + scores[i][1].similarity)
        if camelot_rows
        else 1
    )
    base = scores[anchor][1]
    print(
        f"\nICDAR 2013 EU: {len(documents)} documents, {tables} tables; anchor: {scores[anchor][0]}"
    )
    print(
        f"{'contender':<36}{'F1':>7}{'sim':>7}{'rows':>7}{'cols':>7}{'seconds':>9}"
        f"{'F1/anc':>8}{'sim/anc':>8}{'time/anc':>9}"
    )
    for name, s in scores:
        print(
            f"{name:<36}{s.f1:>7.3f}{s.similarity:>7.3f}{s.rows:>7.3f}{s.cols:>7.3f}"
            f"{s.seconds:>9.2f}{s.f1 / base.f1 if base.f1 else 0:>8.2f}"
            f"{s.similarity / base.similarity if base.similarity else 0:>8.2f}"
            f"{s.seconds / base.seconds if base.seconds else 0:>9.2f}"
        )
    mine = scores[0][1]
    meets = (
        mine.f1 >= base.f1
        and mine.similarity >= base.similarity
        and mine.seconds <= base.seconds / 5
    )
    print(
        f"goal (F1 and similarity >= {scores[anchor][0]}, time <= 1/5 of it): "
        f"{'PASS' if meets else 'NOT YET'}"
    )


if __name__ == "__main__":
    main()
