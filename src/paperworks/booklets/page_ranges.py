"""Which pages of a file a booklet page uses, written as people write print ranges.

A spec is a comma-separated list of items, each a page ("5"), a closed range ("1-3"), an open end
("4-": page 4 to the last) or an open start ("-3": pages 1 to 3); pages are numbered from 1, as
viewers number them. Whitespace anywhere is ignored, and an en dash works as the hyphen (text
pasted from a word processor). No spec, an empty one or "all" means every page.

Decisions a caller can rely on:
- Pages come out in the order written: "5,1-3" puts page 5 first.
- A page may be asked for once only: "1,1" and "1-3,2-4" are refused. Repeating a page is far
  more often a typo than a wish, and a page copied twice into a booklet would carry its links
  and form widgets twice, which viewers handle badly.
- A range that runs backwards ("5-3") is refused rather than read as "3-5" or reversed, so
  the booklet never silently differs from what was meant.
- Without the file at hand (`validate_page_ranges`) only what the spec alone says is checked:
  syntax, page 0, backward ranges and overlaps; that a page exists needs the page count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from paperworks.booklets.engine_errors import BadPageRange

# More pages than any booklet file could have; it keeps "1-99999999999" from filling memory.
MAX_PAGE = 100_000

_ITEM = re.compile(r"(?P<start>\d*)(?P<dash>-)?(?P<end>\d*)")
_EXAMPLES = "write e.g. '1-3,5', '4-', '-3' or 'all'"


@dataclass(frozen=True)
class _Span:
    """One item of a spec, 1-based and inclusive; `end` None runs to the last page."""

    text: str
    start: int
    end: int | None


def parse_page_ranges(spec: str | None, page_count: int | None = None) -> list[int]:
    """The 0-based indexes of the pages `spec` asks for, in its order.

    With `page_count` every page must exist. Without it, a spec whose every item is closed
    ("1-3,5") is expanded as written; "all" or an open end ("4-") cannot be, and is a
    `ValueError`: that is a caller that forgot the count, not a user's mistake.
    """
    spans = _spans(spec)
    if spans is None:
        if page_count is None:
            raise ValueError("'all' pages needs the page count")
        return list(range(page_count))
    if page_count is not None:
        for span in spans:
            _check_exists(spec, span, page_count)
    indexes: list[int] = []
    for span in spans:
        end = span.end if span.end is not None else page_count
        if end is None:
            raise ValueError(f"the open range {span.text!r} needs the page count")
        indexes.extend(range(span.start - 1, end))
    return indexes


def validate_page_ranges(spec: str | None) -> None:
    """Raises `BadPageRange` when `spec` is wrong whatever the file: for a page configuration
    saved before (or without) its file."""
    _spans(spec)


def _spans(spec: str | None) -> list[_Span] | None:
    """The items of `spec`, checked on their own and against each other; None for all pages."""
    text = re.sub(r"\s+", "", spec or "").replace("\u2013", "-")
    if text == "" or text.lower() == "all":
        return None
    spans = [_span(spec or "", item) for item in text.split(",")]
    _check_overlaps(spec or "", spans)
    return spans


def _span(spec: str, item: str) -> _Span:
    match = _ITEM.fullmatch(item)
    if not item or match is None or not (match["start"] or match["end"]):
        shown = f"{item!r} is not" if item else "an empty item is not"
        raise BadPageRange(f"Page range {spec!r}: {shown} a page or a range of pages; {_EXAMPLES}.")
    start = int(match["start"]) if match["start"] else 1
    end: int | None = start
    if match["dash"]:
        end = int(match["end"]) if match["end"] else None
    for number in (start, end):
        if number == 0:
            raise BadPageRange(f"Page range {spec!r}: pages are numbered from 1, not 0.")
        if number is not None and number > MAX_PAGE:
            raise BadPageRange(f"Page range {spec!r}: page {number} is beyond any file.")
    if end is not None and end < start:
        raise BadPageRange(f"Page range {spec!r}: {item!r} runs backwards; write '{end}-{start}'.")
    return _Span(item, start, end)


def _check_overlaps(spec: str, spans: list[_Span]) -> None:
    """Each page once: sorted by start, a span that begins before the previous ones end
    repeats its first page (an open end reaches every later page)."""
    reached = 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start <= reached:
            raise BadPageRange(
                f"Page range {spec!r}: page {span.start} is asked for twice; "
                "each page can be used once."
            )
        reached = span.end if span.end is not None else MAX_PAGE + 1


def _check_exists(spec: str | None, span: _Span, page_count: int) -> None:
    last = span.end if span.end is not None else span.start
    if last > page_count:
        raise BadPageRange(
            f"Page range {spec!r}: page {last} asked for, "
            f"the file has {page_count} page{'s' if page_count != 1 else ''}."
        )
