"""Booklets: merging 1,000 pages with `assemble`, against the qpdf command line and pypdf.

The same inputs for every contender, made once with ReportLab: `--parts` PDFs (default 100) of
`--pages` pages each (default 10), each page a heading and 30 lines of text. The anchor is
`qpdf --empty --pages a.pdf b.pdf ... -- out.pdf` (Debian's qpdf, a subprocess reading and
writing files in a temporary directory); then `assemble` (pikepdf: bookmarks, page labels,
metadata, active content stripped, deterministic save with object streams); pikepdf copying the
pages and nothing else; pypdf's `PdfWriter.append` of each part plus one bookmark per part.
Without qpdf on the PATH its line is skipped and `assemble` is the anchor.

Run: .venv/bin/python bench/booklets_merge.py [--rounds N] [--parts P] [--pages M]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pypdf
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from paperworks.booklets.pdf_assembly import Part, assemble
from support import report


def make_part(number: int, pages: int) -> bytes:
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    for page in range(1, pages + 1):
        drawing.setFont("Helvetica", 18)
        drawing.drawString(72, 760, f"Part {number} page {page}")
        drawing.setFont("Helvetica", 11)
        for line in range(30):
            drawing.drawString(72, 720 - 20 * line, f"Line {line}: lorem ipsum dolor sit amet.")
        drawing.showPage()
    drawing.save()
    return buffer.getvalue()


def with_assemble(parts: list[bytes]) -> bytes:
    return assemble(
        [Part(f"Part {n}", data) for n, data in enumerate(parts, start=1)],
        title="Bench booklet",
        subject="Customer X, 2026 Q1",
        creation_date=datetime(2026, 1, 1, tzinfo=UTC),
    )


def with_pikepdf_pages(parts: list[bytes]) -> bytes:
    """pikepdf copying the pages only: what `assemble` adds on top of the bare copy."""
    sources = [pikepdf.open(io.BytesIO(data)) for data in parts]
    with pikepdf.new() as out:
        for source in sources:
            out.pages.extend(source.pages)
        buffer = io.BytesIO()
        out.save(buffer, deterministic_id=True)
    for source in sources:
        source.close()
    return buffer.getvalue()


def with_pypdf(parts: list[bytes]) -> bytes:
    writer = pypdf.PdfWriter()
    for number, data in enumerate(parts, start=1):
        start = len(writer.pages)
        writer.append(io.BytesIO(data))
        writer.add_outline_item(title=f"Part {number}", page_number=start)
    writer.add_metadata({"/Title": "Bench booklet", "/Producer": "Paperworks"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def qpdf_cli(qpdf: str, paths: list[Path], out: Path) -> Callable[[list[bytes]], bytes]:
    def run(_: list[bytes]) -> bytes:
        subprocess.run([qpdf, "--empty", "--pages", *map(str, paths), "--", str(out)], check=True)
        return out.read_bytes()

    return run


def measure(rounds: int, work: Callable[[list[bytes]], bytes], parts: list[bytes]) -> list[float]:
    work(parts)  # warm-up: imports, fonts, caches
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        work(parts)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="merges per contender")
    parser.add_argument("--parts", type=int, default=100, help="PDFs to merge")
    parser.add_argument("--pages", type=int, default=10, help="pages in each PDF")
    args = parser.parse_args()
    total = args.parts * args.pages
    print(
        f"paperworks booklets merge: {args.parts} PDFs x {args.pages} pages = {total} pages, "
        f"{args.rounds} rounds; {platform.python_implementation()} "
        f"{platform.python_version()}, {len(os.sched_getaffinity(0))} CPUs; "
        f"pikepdf {pikepdf.__version__} (qpdf {pikepdf.__libqpdf_version__}), "
        f"pypdf {pypdf.__version__}"
    )
    parts = [make_part(n, args.pages) for n in range(1, args.parts + 1)]
    contenders: list[tuple[str, Callable[[list[bytes]], bytes]]] = [
        ("assemble (pikepdf, everything)", with_assemble),
        ("pikepdf: copy pages only", with_pikepdf_pages),
        ("pypdf PdfWriter.append + bookmarks", with_pypdf),
    ]
    qpdf = shutil.which("qpdf")
    with tempfile.TemporaryDirectory() as folder:
        if qpdf is None:
            print("qpdf is not on the PATH (apt-get install qpdf): no qpdf line; anchor: assemble")
        else:
            paths = [Path(folder, f"{n}.pdf") for n in range(len(parts))]
            for path, data in zip(paths, parts, strict=True):
                path.write_bytes(data)
            cli = qpdf_cli(qpdf, paths, Path(folder, "out.pdf"))
            contenders.insert(0, ("anchor: qpdf --empty --pages (CLI)", cli))
        rows = [(name, measure(args.rounds, work, parts)) for name, work in contenders]
        sizes = [(name, len(work(parts))) for name, work in contenders]
    report(f"merging {total} pages", rows, anchor=0)
    print("\noutput size")
    for name, size in sizes:
        print(f"{name:<44}{size / 1024:>9.0f} KiB")


if __name__ == "__main__":
    main()
