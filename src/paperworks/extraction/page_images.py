"""A PDF page as the console shows it: a PNG of the page as displayed, and the page's size in
points, the frame the tables' and cells' boxes are in (top-left origin, /Rotate applied), so an
outline drawn over the picture falls on the table."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pypdfium2 as pdfium  # type: ignore[import-untyped]

from paperworks.extraction.engine_errors import CorruptPdf
from paperworks.extraction.pdf_tables import PDFIUM_LOCK

# 1.5 times 72 dpi: a letter page is 918 pixels wide, sharp enough to read a cell, small to send;
# a poster-sized page is drawn smaller, at most this many pixels along its longer side.
SCALE = 1.5
MAX_PIXELS = 2400


@dataclass(frozen=True)
class PageSize:
    width: float
    height: float


def page_sizes(data: bytes, pages: set[int]) -> dict[int, PageSize]:
    """The displayed size in points of each of these pages (1-based) that the PDF has."""
    with PDFIUM_LOCK:
        document = _open(data)
        try:
            return {
                number: _size(document[number - 1])
                for number in pages
                if 0 < number <= len(document)
            }
        finally:
            document.close()


def render_page(data: bytes, page: int) -> bytes | None:
    """Page `page` (1-based) as a PNG; None when the PDF has no such page."""
    with PDFIUM_LOCK:
        document = _open(data)
        try:
            if not 0 < page <= len(document):
                return None
            shown = document[page - 1]
            size = _size(shown)
            scale = min(SCALE, MAX_PIXELS / max(size.width, size.height, 1.0))
            bitmap = shown.render(scale=scale)
            image = bitmap.to_pil()
        finally:
            document.close()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)  # optimize=True took 4 times longer
    return buffer.getvalue()


def _size(page: Any) -> PageSize:
    left, bottom, right, top = page.get_bbox()
    width, height = right - left, top - bottom
    if page.get_rotation() % 180:
        width, height = height, width
    return PageSize(width, height)


def _open(data: bytes) -> Any:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        raise CorruptPdf(f"The PDF cannot be read: {error}.") from error
