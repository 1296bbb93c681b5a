"""Draw a slide plan as a 16:9 .pptx built on a themed slide master (`slide_master`): every slide
is a layout of the master whose title placeholder holds the slide's title and whose body
placeholder(s) hold its text, set at measured sizes; accent shapes, pictures fitted to their place
(described by the slide's image prompt), speaker notes. Placeholders a slide does not use are
removed, so PowerPoint shows no "Click to add text".

Two steps: `_compose` lays the plan out as pages (a plan slide whose text does not fit at the
smallest allowed size becomes several pages), then `_draw_page` fills each page's layout.
Pure: no I/O but the bytes in and out, the same plan gives the same slides.
"""

from __future__ import annotations

import io
import itertools
import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from PIL import Image, ImageOps
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.oxml.xmlchemy import BaseOxmlElement, OxmlElement
from pptx.shapes.autoshape import Shape
from pptx.shapes.placeholder import SlidePlaceholder
from pptx.slide import Slide as PptxSlide
from pptx.text.text import _Paragraph, _Run
from pptx.util import Emu, Pt

from paperworks.decks.plan import Layout, Slide, SlidePlan
from paperworks.decks.sides import two_sides
from paperworks.decks.slide_master import (
    MasterGeometry,
    MasterLayout,
    Slot,
    layout_named,
    themed_presentation,
)
from paperworks.decks.text_fit import (
    BODY_MIN_PT,
    SLIDE_HEIGHT,
    SLIDE_WIDTH,
    TITLE_MIN_PT,
    Fit,
    TextStyle,
    emu_to_pt,
    fit_text,
    inches,
    is_wide,
    measure,
    normalize,
    text_height,
    wrap_spans,
)
from paperworks.decks.themes import (
    DEFAULT_THEME,
    STATEMENT_SUBTITLE,
    STATEMENT_TITLE,
    TITLE_SLIDE_SUBTITLE_PT,
    TITLE_SLIDE_TITLE_PT,
    Accent,
    Rect,
    Theme,
    get_theme,
    header_accents,
    statement_accents,
    subtitle_style,
    title_style,
)
from paperworks.kit.languages import detect_language

# -- geometry (EMU) and sizes (points) ------------------------------------------------------------

CONTENT_LEFT = inches(0.7)
CONTENT_WIDTH = SLIDE_WIDTH - 2 * CONTENT_LEFT
HEADER_TOP = inches(0.45)
HEADER_HEIGHT = inches(1.0)
HEADER_MAX_HEIGHT = inches(2.3)
HEADER_AIR = inches(0.2)
BODY_GAP = inches(0.45)  # from the title box to the body, room for the accent treatment
BODY_BOTTOM = SLIDE_HEIGHT - inches(0.55)
COLUMN_GAP = inches(0.5)
IMAGE_GAP = inches(0.45)
TEXT_SHARE = 0.5  # of the body's width, beside a picture

HEADER_PT = 36.0
BULLETS_PT = 28.0
COLUMNS_PT = 24.0
SECTION_PT = 44.0
SECTION_LINE_PT = 24.0
QUOTE_PT = 32.0
ATTRIBUTION_PT = 20.0
QUOTE_MARK_PT = 96.0

# Text is measured a little narrower than its box: a renderer's font or kerning may differ.
FIT_SLACK = 0.97
CONTINUED = " (cont.)"
ELLIPSIS = "\u2026"

_LEADING_MARKER = re.compile(r"^(?:[-*\u2022\u00b7\u25aa\u2013]\s+)+")
_QUOTE_MARKS = "\"'\u201c\u201d\u2018\u2019\u00ab\u00bb\u201e"
_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff]")
_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_CONTENT_LAYOUTS = (Layout.bullets, Layout.bullets_image, Layout.two_columns, Layout.quote)


class Marker(StrEnum):
    none = "none"
    bullet = "bullet"
    number = "number"


@dataclass(frozen=True)
class _Text:
    """A text box to draw: its paragraphs are set at one size, one run each."""

    name: str  # "Title..." for titles (>= 24 pt), anything else is body (>= 14 pt)
    slot: Slot | None  # the layout's placeholder it fills; None: a text box of its own
    rect: Rect
    paragraphs: tuple[str, ...]
    style: TextStyle
    size: float
    colour: str
    marker: Marker = Marker.none
    marker_colour: str = ""
    first_number: int = 1
    align: PP_ALIGN = PP_ALIGN.LEFT
    anchor: MSO_ANCHOR = MSO_ANCHOR.TOP


@dataclass(frozen=True)
class _Picture:
    data: bytes
    width: int  # pixels, upright
    height: int


@dataclass(frozen=True)
class _Page:
    layout: MasterLayout
    background: str
    accents: tuple[Accent, ...]
    texts: tuple[_Text, ...]  # texts of one slot are drawn in one placeholder, in this order
    picture: tuple[_Picture, Rect] | None
    notes: str
    alt_text: str = ""  # the picture's description


@dataclass(frozen=True)
class _Header:
    title: _Text
    accents: tuple[Accent, ...]
    body_top: int


@dataclass(frozen=True)
class _Context:
    theme: Theme
    notes: str
    title: str
    alt_text: str  # what a picture on the slide shows: its image prompt, else the slide's title


def build_deck(
    plan: SlidePlan,
    *,
    theme: Theme | str = DEFAULT_THEME,
    images: Mapping[int, bytes] | None = None,
    placeholders: Collection[int] = (),
    on_slide: Callable[[int, int], None] | None = None,
) -> bytes:
    """The plan as .pptx bytes. `images` maps a plan slide's index to PNG/JPEG bytes (used by
    `bullets_image` slides); `placeholders` are the indexes whose picture is a placeholder that
    shows the slide's title, so the title, not the image prompt, describes it (alt text).
    `on_slide(done, total)` follows the drawing, `total` counting the slides drawn, which is more
    than the plan's when some were too long for one slide."""
    chosen = get_theme(theme) if isinstance(theme, str) else theme
    pages = _compose(plan, chosen, images or {}, frozenset(placeholders))
    said = " ".join([plan.title, *(slide.title for slide in plan.slides)])
    presentation = themed_presentation(chosen, _GEOMETRY, language=detect_language(said))
    presentation.core_properties.title = normalize(plan.title)[:255]
    layouts = {name: layout_named(presentation, name) for name in MasterLayout}
    for done, page in enumerate(pages, start=1):
        slide = presentation.slides.add_slide(layouts[page.layout])
        _draw_page(slide, page, chosen)
        if on_slide is not None:
            on_slide(done, len(pages))
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


# -- composing: plan slides to pages --------------------------------------------------------------


def _compose(
    plan: SlidePlan, theme: Theme, images: Mapping[int, bytes], placeholders: frozenset[int]
) -> list[_Page]:
    agenda = _agenda_items(plan)
    # A title of blanks would be an empty box: the deck's own title stands in.
    untitled = normalize(plan.title) or "Untitled"
    pages: list[_Page] = []
    for slide in plan.slides:
        title = normalize(slide.title) or untitled
        prompt = "" if slide.index in placeholders else normalize(slide.image_prompt or "")
        alt_text = prompt or title
        context = _Context(theme, slide.notes.strip(), title, alt_text)
        picture = (
            _picture(images.get(slide.index)) if slide.layout is Layout.bullets_image else None
        )
        pages.extend(_slide_pages(slide, context, agenda, picture))
    return pages


def _slide_pages(
    slide: Slide, context: _Context, agenda: list[str], picture: _Picture | None
) -> list[_Page]:
    title = context.title
    items = _items(slide.bullets)
    layout = slide.layout
    if layout is Layout.title:
        return _statement_pages(
            title,
            items,
            context,
            TITLE_SLIDE_TITLE_PT,
            TITLE_SLIDE_SUBTITLE_PT,
            layout=MasterLayout.title_slide,
        )
    if layout is Layout.section:
        background = context.theme.surface
        return _statement_pages(title, items, context, SECTION_PT, SECTION_LINE_PT, background)
    if layout is Layout.closing:
        return _statement_pages(
            title, items, context, TITLE_SLIDE_TITLE_PT, SECTION_LINE_PT, bulleted=True
        )
    if layout is Layout.agenda:
        entries = items or agenda
        if not entries:
            return _statement_pages(title, [], context, SECTION_PT, SECTION_LINE_PT)
        return _list_pages(title, entries, context, Marker.number)
    if layout is Layout.quote and items:
        return _quote_pages(title, items, context)
    if layout is Layout.bullets_image and picture is not None:
        return _list_pages(title, items, context, Marker.bullet, picture)
    if not items:
        return _statement_pages(title, [], context, SECTION_PT, SECTION_LINE_PT)
    # Two columns only for content with two sides, neither of them empty.
    sides = two_sides(title, items) if layout is Layout.two_columns else None
    if sides is not None:
        return _column_pages(title, sides, context)
    return _list_pages(title, items, context, Marker.bullet)


def _items(bullets: Sequence[str]) -> list[str]:
    """Bullets as they are shown: one line each, no bullet character a model typed, none empty."""
    cleaned = (_LEADING_MARKER.sub("", normalize(text)) for text in bullets)
    return [text for text in cleaned if text]


def _agenda_items(plan: SlidePlan) -> list[str]:
    """What an agenda without bullets lists: the sections, or when there are fewer than two (one
    section is no outline), the titles of the slides that carry content."""
    sections = [s.title for s in plan.slides if s.layout is Layout.section]
    content = [s.title for s in plan.slides if s.layout in _CONTENT_LAYOUTS]
    chosen = sections if len(sections) >= 2 else content
    titles = (normalize(title) for title in chosen)
    return list(dict.fromkeys(title for title in titles if title))


def _statement_pages(
    title: str,
    lines: list[str],
    context: _Context,
    title_pt: float,
    line_pt: float,
    background: str | None = None,
    *,
    bulleted: bool = False,
    layout: MasterLayout = MasterLayout.section,
) -> list[_Page]:
    """A title slide's look: a big title on a line, its lines below (bulleted when asked and
    there are several). Lines that do not fit there even at the smallest size follow on bullet
    slides of their own."""
    theme = context.theme
    style = title_style(theme)
    box = STATEMENT_TITLE
    fit, text = _fit_or_truncate(title, style, box.width, box.height, title_pt)
    title_box = _Text(
        "Title", Slot.title, box, (text,), style, fit.size, theme.text, anchor=MSO_ANCHOR.BOTTOM
    )
    extent = box._replace(top=box.bottom - fit.height, height=fit.height)

    texts = [title_box]
    sub_extent: Rect | None = None
    overflow: list[str] = []
    if lines:
        sub_style = subtitle_style(theme)
        marker = Marker.bullet if bulleted and len(lines) > 1 else Marker.none
        if marker is Marker.bullet:
            sub_style = replace(sub_style, indent=_bullets(theme).indent)
        sub_box = STATEMENT_SUBTITLE
        sub_fit = _fit(lines, sub_style, sub_box, line_pt, BODY_MIN_PT)
        if sub_fit.fits:
            sub_text = _Text(
                "Subtitle",
                Slot.body,
                sub_box,
                tuple(lines),
                sub_style,
                sub_fit.size,
                theme.muted,
                marker,
                theme.accent,
            )
            texts.append(sub_text)
            sub_extent = sub_box._replace(height=sub_fit.height)
        else:
            overflow = lines
    page = _Page(
        layout=layout,
        background=background or theme.background,
        accents=tuple(statement_accents(theme, extent, sub_extent)),
        texts=tuple(texts),
        picture=None,
        notes=context.notes,
    )
    if not overflow:
        return [page]
    return [page, *_list_pages(title, overflow, context, Marker.bullet, continued=True)]


def _list_pages(
    title: str,
    items: list[str],
    context: _Context,
    marker: Marker,
    picture: _Picture | None = None,
    *,
    continued: bool = False,
) -> list[_Page]:
    """Title and a list (beside a picture, if any), over as many pages as the list needs."""
    theme = context.theme
    style = _numbers(theme) if marker is Marker.number else _bullets(theme)
    first = later = _header(title + (CONTINUED if continued else ""), theme)
    body = _body_rect(first.body_top, picture is not None)
    fit = _fit(items, style, body, BULLETS_PT, BODY_MIN_PT) if items else None
    if fit is not None and not fit.fits:
        first, later = _split_headers(title, theme, continued)
        body = _body_rect(first.body_top, picture is not None)
    chunks = _chunks(items, style, body) if fit is not None and not fit.fits else [items]
    size = _common_size(chunks, style, body, BULLETS_PT)

    pages: list[_Page] = []
    number = 1
    for part, chunk in enumerate(chunks):
        part_header = first if part == 0 else later
        texts = [part_header.title]
        if chunk:
            texts.append(
                _body_text("Body", Slot.body, body, chunk, style, size, theme, marker, number)
            )
        number += len(chunk)
        placed = None
        if picture is not None:
            area = _picture_area(body.top) if chunk else _full_body(body.top)
            placed = (picture, _fitted(picture, area))
        layout = MasterLayout.content if chunk else MasterLayout.title_only
        pages.append(_content_page(layout, theme, part_header, texts, placed, context))
    return pages


def _column_pages(title: str, sides: tuple[list[str], list[str]], context: _Context) -> list[_Page]:
    """Title and the two sides of the content in two columns, at one size. Sides too long for
    their columns even at the smallest size are shown one after the other as a list instead, over
    as many slides as it needs: a column is never left empty."""
    theme = context.theme
    style = _bullets(theme)
    header = _header(title, theme)
    left, right = _columns(header.body_top)
    fits = all(_fit(side, style, left, COLUMNS_PT, BODY_MIN_PT).fits for side in sides)
    if not fits:
        return _list_pages(title, [*sides[0], *sides[1]], context, Marker.bullet)
    size = _common_size(list(sides), style, left, COLUMNS_PT)
    texts = [
        header.title,
        _body_text("Body Left", Slot.body, left, sides[0], style, size, theme, Marker.bullet, 1),
        _body_text("Body Right", Slot.right, right, sides[1], style, size, theme, Marker.bullet, 1),
    ]
    return [_content_page(MasterLayout.two_content, theme, header, texts, None, context)]


def _quote_pages(title: str, items: list[str], context: _Context) -> list[_Page]:
    """A quotation under the title, its attribution below it, the pair centred in the body. A
    quotation too long for the slide is shown as bullets instead."""
    theme = context.theme
    header = _header(title, theme)
    quote = items[0].strip(_QUOTE_MARKS + " ") or items[0]
    sources = [_attributed(items[1]), *items[2:]] if len(items) > 1 else []
    attribution = [line for line in sources if line]
    text_left = CONTENT_LEFT + inches(1.2)
    width = SLIDE_WIDTH - CONTENT_LEFT - text_left
    body_height = BODY_BOTTOM - header.body_top

    attribution_style = TextStyle(theme.body_font, line_spacing=1.25, paragraph_gap=0.2)
    attribution_fit: Fit | None = None
    if attribution:
        box = Rect(text_left, 0, width, body_height // 3)
        attribution_fit = _fit(attribution, attribution_style, box, ATTRIBUTION_PT, BODY_MIN_PT)
    spacing = inches(0.25) if attribution_fit is not None else 0
    attribution_height = attribution_fit.height if attribution_fit is not None else 0
    quote_style = TextStyle(theme.title_font, line_spacing=1.25)
    quote_box = Rect(text_left, 0, width, body_height - attribution_height - spacing)
    quote_fit = _fit([quote], quote_style, quote_box, QUOTE_PT, BODY_MIN_PT)
    if not quote_fit.fits or (attribution_fit is not None and not attribution_fit.fits):
        return _list_pages(title, items, context, Marker.bullet)

    top = header.body_top + (body_height - quote_fit.height - spacing - attribution_height) // 2
    quote_rect = Rect(text_left, top, width, quote_fit.height)
    mark_style = TextStyle(theme.title_font, bold=True, line_spacing=1.0)
    mark_rect = Rect(CONTENT_LEFT, top, inches(1.1), text_height([1], mark_style, QUOTE_MARK_PT))
    texts = [
        header.title,
        _Text("Quote Mark", None, mark_rect, ("\u201c",), mark_style, QUOTE_MARK_PT, theme.accent),
        _Text("Quote", Slot.body, quote_rect, (quote,), quote_style, quote_fit.size, theme.text),
    ]
    if attribution_fit is not None:
        # In the quotation's placeholder, below it: one body, read as one in the Outline view.
        rect = Rect(text_left, quote_rect.bottom + spacing, width, attribution_height)
        size = attribution_fit.size
        lines = tuple(attribution)
        texts.append(
            _Text("Attribution", Slot.body, rect, lines, attribution_style, size, theme.muted)
        )
    return [_content_page(MasterLayout.content, theme, header, texts, None, context)]


def _attributed(source: str) -> str:
    name = source.lstrip("-\u2013\u2014 ")
    return f"\u2014 {name}" if name else ""


def _body_text(
    name: str,
    slot: Slot,
    rect: Rect,
    paragraphs: list[str],
    style: TextStyle,
    size: float,
    theme: Theme,
    marker: Marker,
    first_number: int,
) -> _Text:
    return _Text(
        name,
        slot,
        rect,
        tuple(paragraphs),
        style,
        size,
        theme.text,
        marker,
        theme.accent,
        first_number,
    )


def _content_page(
    layout: MasterLayout,
    theme: Theme,
    header: _Header,
    texts: list[_Text],
    picture: tuple[_Picture, Rect] | None,
    context: _Context,
) -> _Page:
    alt_text = context.alt_text if picture is not None else ""
    return _Page(
        layout,
        theme.background,
        header.accents,
        tuple(texts),
        picture,
        context.notes,
        alt_text,
    )


# -- headers and body areas -----------------------------------------------------------------------


def _header(title: str, theme: Theme) -> _Header:
    """The title box at the top of a content slide: the title shrinks to 24 pt, then its box
    grows (up to `HEADER_MAX_HEIGHT`), then it is cut short with an ellipsis."""
    style = title_style(theme)
    width = CONTENT_WIDTH
    fit = _fit([title], style, Rect(0, 0, width, HEADER_HEIGHT), HEADER_PT, TITLE_MIN_PT)
    text = title
    if not fit.fits:
        fit, text = _fit_or_truncate(title, style, width, HEADER_MAX_HEIGHT, TITLE_MIN_PT)
    # A grown box keeps some air around its lines, as the default box does around one or two.
    rect = Rect(CONTENT_LEFT, HEADER_TOP, width, max(HEADER_HEIGHT, fit.height + HEADER_AIR))
    box = _Text(
        "Title", Slot.title, rect, (text,), style, fit.size, theme.text, anchor=MSO_ANCHOR.MIDDLE
    )
    return _Header(box, tuple(header_accents(theme, rect)), rect.bottom + BODY_GAP)


def _split_headers(title: str, theme: Theme, continued: bool) -> tuple[_Header, _Header]:
    """Headers for the first part of a split slide and the parts after it ("... (cont.)"), their
    bodies starting at the same height so that every part's body has the same box."""
    later = _header(title + CONTINUED, theme)
    first = later if continued else _header(title, theme)
    top = max(first.body_top, later.body_top)
    return replace(first, body_top=top), replace(later, body_top=top)


def _body_rect(top: int, beside_picture: bool) -> Rect:
    width = round(CONTENT_WIDTH * TEXT_SHARE) if beside_picture else CONTENT_WIDTH
    return Rect(CONTENT_LEFT, top, width, BODY_BOTTOM - top)


def _full_body(top: int) -> Rect:
    return Rect(CONTENT_LEFT, top, CONTENT_WIDTH, BODY_BOTTOM - top)


def _picture_area(top: int) -> Rect:
    text = _body_rect(top, beside_picture=True)
    left = text.right + IMAGE_GAP
    return Rect(left, top, CONTENT_LEFT + CONTENT_WIDTH - left, BODY_BOTTOM - top)


def _columns(top: int) -> tuple[Rect, Rect]:
    width = (CONTENT_WIDTH - COLUMN_GAP) // 2
    height = BODY_BOTTOM - top
    return (
        Rect(CONTENT_LEFT, top, width, height),
        Rect(CONTENT_LEFT + width + COLUMN_GAP, top, width, height),
    )


def _bullets(theme: Theme) -> TextStyle:
    return TextStyle(theme.body_font, line_spacing=1.2, paragraph_gap=0.5, indent=1.1)


def _numbers(theme: Theme) -> TextStyle:
    return TextStyle(theme.body_font, line_spacing=1.2, paragraph_gap=0.5, indent=1.8)


# -- fitting and splitting ------------------------------------------------------------------------


def _fit(
    paragraphs: Sequence[str], style: TextStyle, box: Rect, max_pt: float, min_pt: float
) -> Fit:
    width = _measured_width(box.width)
    return fit_text(paragraphs, style, width, box.height, max_pt=max_pt, min_pt=min_pt)


def _measured_width(width: int) -> int:
    return math.floor(width * FIT_SLACK)


def _fit_or_truncate(
    text: str, style: TextStyle, width: int, height: int, max_pt: float
) -> tuple[Fit, str]:
    """`text` fitted to the box from `max_pt` down to the title minimum, cut short with an
    ellipsis at the minimum when it is still too long. Returns the fit and the text shown."""
    box = Rect(0, 0, width, height)
    fit = _fit([text], style, box, max_pt, TITLE_MIN_PT)
    if fit.fits:
        return fit, text
    low, high = 0, len(text)  # the longest prefix that fits, by bisection
    while low < high:
        middle = (low + high + 1) // 2
        if _fit([_cut(text, middle)], style, box, TITLE_MIN_PT, TITLE_MIN_PT).fits:
            low = middle
        else:
            high = middle - 1
    shown = _cut(text, low, at_word=True)
    return _fit([shown], style, box, TITLE_MIN_PT, TITLE_MIN_PT), shown


def _cut(text: str, length: int, *, at_word: bool = False) -> str:
    head = text[:length]
    if at_word and " " in head[len(head) // 2 :]:
        head = head[: head.rindex(" ")]  # a word boundary in the last half reads better
    return head.rstrip(" ,;:.\u2014-") + ELLIPSIS


def _chunks(items: list[str], style: TextStyle, box: Rect) -> list[list[str]]:
    """The items over as few boxes as hold them at the smallest body size, split between items
    (an item too long for a box alone is split between its lines), each box about as full."""
    width = _measured_width(box.width)
    pieces = [piece for item in items for piece in _pieces(item, style, width, box.height)]
    heights = [measure([piece], style, BODY_MIN_PT, width).height for piece in pieces]
    gap = text_height([1, 1], style, BODY_MIN_PT) - text_height([2], style, BODY_MIN_PT)

    def span(start: int, end: int) -> int:
        return sum(heights[start:end]) + gap * (end - start - 1)

    count = _greedy_count(len(pieces), span, box.height)
    cuts = _balanced_cuts(len(pieces), count, span, box.height)
    return [pieces[start:end] for start, end in itertools.pairwise(cuts)]


def _pieces(item: str, style: TextStyle, width: int, height: int) -> list[str]:
    """`item` as parts that each fit a box `height` tall at the smallest size."""
    line_width = width - style.indent_emu(BODY_MIN_PT)
    spans = wrap_spans(item, style, BODY_MIN_PT, line_width)
    per_box = max(1, int(height // text_height([1], style, BODY_MIN_PT)))
    if len(spans) <= per_box:
        return [item]
    groups = [spans[start : start + per_box] for start in range(0, len(spans), per_box)]
    return [item[group[0][0] : group[-1][1]].strip() for group in groups]


def _greedy_count(count: int, span: Callable[[int, int], int], height: int) -> int:
    boxes, start = 0, 0
    while start < count:
        end = start + 1
        while end < count and span(start, end + 1) <= height:
            end += 1
        boxes, start = boxes + 1, end
    return boxes


def _balanced_cuts(
    count: int, boxes: int, span: Callable[[int, int], int], height: int
) -> list[int]:
    """Cut points (0 ... count) splitting `count` pieces into `boxes` runs that each fit
    `height`, with the fullest run as short as can be."""
    worst: dict[tuple[int, int], tuple[int, int]] = {}  # (runs, end) -> (fullest run, cut)
    for end in range(1, count + 1):
        if span(0, end) <= height:
            worst[1, end] = (span(0, end), 0)
    for runs in range(2, boxes + 1):
        for end in range(runs, count + 1):
            options = [
                (max(worst[runs - 1, cut][0], span(cut, end)), cut)
                for cut in range(runs - 1, end)
                if (runs - 1, cut) in worst and span(cut, end) <= height
            ]
            if options:
                worst[runs, end] = min(options)
    cuts = [count]
    for runs in range(boxes, 0, -1):
        cuts.append(worst[runs, cuts[-1]][1])
    return cuts[::-1]


def _common_size(chunks: list[list[str]], style: TextStyle, box: Rect, max_pt: float) -> float:
    """The largest size every chunk fits at: parts of one slide read as one."""
    sizes = [_fit(chunk, style, box, max_pt, BODY_MIN_PT).size for chunk in chunks if chunk]
    return min(sizes, default=max_pt)


# -- pictures -------------------------------------------------------------------------------------


def _picture(data: bytes | None) -> _Picture | None:
    """The picture as a slide can hold it (PNG, JPEG or GIF, upright), or None when the bytes are
    not an image."""
    if not data:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            orientation = image.getexif().get(0x0112, 1)  # EXIF Orientation
            if image.format in ("PNG", "JPEG", "GIF") and orientation == 1:
                return _Picture(data, image.width, image.height)
            upright = ImageOps.exif_transpose(image)
            if upright.mode not in ("RGB", "RGBA", "L", "LA", "P"):
                upright = upright.convert("RGBA")
            out = io.BytesIO()
            upright.save(out, format="PNG")
            return _Picture(out.getvalue(), upright.width, upright.height)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def _fitted(picture: _Picture, area: Rect) -> Rect:
    """The largest box of the picture's proportions inside `area`, centred in it."""
    scale = min(area.width / picture.width, area.height / picture.height)
    width = min(area.width, round(picture.width * scale))
    height = min(area.height, round(picture.height * scale))
    return Rect(
        area.left + (area.width - width) // 2, area.top + (area.height - height) // 2, width, height
    )


# -- drawing --------------------------------------------------------------------------------------


_HEADER_RECT = Rect(CONTENT_LEFT, HEADER_TOP, CONTENT_WIDTH, HEADER_HEIGHT)
_BODY_TOP = _HEADER_RECT.bottom + BODY_GAP
_GEOMETRY = MasterGeometry(
    statement_title=STATEMENT_TITLE,
    statement_subtitle=STATEMENT_SUBTITLE,
    header=_HEADER_RECT,
    body=_full_body(_BODY_TOP),
    left=_columns(_BODY_TOP)[0],
    right=_columns(_BODY_TOP)[1],
)
# Where the master says it (`slide_master`), a run leaves its font and colour to it.
_SUBTITLE_LAYOUTS = (MasterLayout.title_slide, MasterLayout.section)


def _draw_page(slide: PptxSlide, page: _Page, theme: Theme) -> None:
    if page.background != theme.background:  # else the master's background shows
        fill = slide.background.fill
        fill.solid()
        fill.fore_color.rgb = _rgb(page.background)
    tree = slide.shapes._spTree
    behind = 2  # after the tree's own properties: accents sit under the placeholders' text
    for accent in page.accents:
        element = _draw_accent(slide, accent)
        tree.remove(element)
        tree.insert(behind, element)
        behind += 1
    if page.picture is not None:
        picture, rect = page.picture
        shape = slide.shapes.add_picture(io.BytesIO(picture.data), *map(Emu, rect))
        shape.name = "Picture"
        # Alt text: what the picture shows, never the name of a file.
        properties = shape.element.find(f"{qn('p:nvPicPr')}/{qn('p:cNvPr')}")
        if properties is not None:
            properties.set("descr", page.alt_text)
    slots: dict[Slot, list[_Text]] = {}
    for text in page.texts:
        if text.slot is None:
            _draw_text(slide.shapes.add_textbox(*map(Emu, text.rect)), [text], None)
        else:
            slots.setdefault(text.slot, []).append(text)
    for placeholder in list(slide.placeholders):
        slot = Slot(placeholder.placeholder_format.idx)
        if slot in slots:
            defaults = _slot_defaults(slot, page.layout, theme)
            _draw_text(placeholder, slots[slot], defaults)
        else:  # an empty placeholder would say "Click to add text"
            element = placeholder.element
            element.getparent().remove(element)
    if page.notes:
        notes = slide.notes_slide.notes_text_frame
        if notes is not None:
            notes.text = page.notes


def _slot_defaults(slot: Slot, layout: MasterLayout, theme: Theme) -> tuple[str, str]:
    """(font, colour) a run in `slot` of `layout` gets from the master."""
    if slot is Slot.title:
        return theme.title_font, theme.text
    if slot is Slot.body and layout in _SUBTITLE_LAYOUTS:
        return theme.body_font, theme.muted
    return theme.body_font, theme.text


def _draw_accent(slide: PptxSlide, accent: Accent) -> BaseOxmlElement:
    shape = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, *map(Emu, accent.rect))
    shape.name = "Accent"
    shape.fill.solid()
    shape.fill.fore_color.rgb = _rgb(accent.colour)
    shape.line.fill.background()
    shape.shadow.inherit = False  # the default theme's shape style would add a shadow
    # An accent holds no text: without a text body it is no empty text frame to an editor.
    element = shape.element
    body = element.find(qn("p:txBody"))
    if body is not None:
        element.remove(body)
    return element


def _draw_text(
    shape: SlidePlaceholder | Shape, texts: list[_Text], defaults: tuple[str, str] | None
) -> None:
    """`texts` in one frame (a placeholder, or a text box when `defaults` is None), which covers
    them all, each text's first paragraph spaced from the text above as the page places it.
    Runs name their font and colour only where they differ from `defaults`."""
    first = texts[0]
    left = min(text.rect.left for text in texts)
    top = first.rect.top
    right = max(text.rect.right for text in texts)
    bottom = max(text.rect.bottom for text in texts)
    shape.left, shape.top = Emu(left), Emu(top)
    shape.width, shape.height = Emu(right - left), Emu(bottom - top)
    shape.name = first.name
    frame = shape.text_frame
    frame.word_wrap = True
    frame.auto_size = MSO_AUTO_SIZE.NONE
    frame.margin_left = frame.margin_right = frame.margin_top = frame.margin_bottom = Emu(0)
    frame.vertical_anchor = first.anchor
    count = 0
    above: int | None = None
    for text in texts:
        for position, content in enumerate(text.paragraphs):
            paragraph = frame.paragraphs[0] if count == 0 else frame.add_paragraph()
            count += 1
            paragraph.alignment = text.align
            paragraph.line_spacing = Pt(text.style.pitch(text.size))
            if position:
                gap = text.style.gap(text.size)
            else:
                gap = emu_to_pt(text.rect.top - above) if above is not None else 0
            paragraph.space_before = Pt(gap)
            if text.marker is not Marker.none:
                _add_marker(paragraph, text, text.first_number + position)
            elif defaults is not None:
                _no_marker(paragraph)
            _style_run(paragraph.add_run(), content, text, defaults)
        above = text.rect.bottom


def _no_marker(paragraph: _Paragraph) -> None:
    """No bullet and no indent, whatever the master's body style has."""
    p_pr = paragraph._p.get_or_add_pPr()
    p_pr.set("marL", "0")
    p_pr.set("indent", "0")
    p_pr.insert_element_before(OxmlElement("a:buNone"), "a:tabLst", "a:defRPr", "a:extLst")


def _add_marker(paragraph: _Paragraph, text: _Text, number: int) -> None:
    """A hanging bullet or number in the accent colour, in the room the style's indent keeps."""
    p_pr = paragraph._p.get_or_add_pPr()
    indent = text.style.indent_emu(text.size)
    p_pr.set("marL", str(indent))
    p_pr.set("indent", str(-indent))
    colour = OxmlElement("a:buClr")
    srgb = OxmlElement("a:srgbClr")
    srgb.set("val", (text.marker_colour or text.colour).lstrip("#").upper())
    colour.append(srgb)
    font = OxmlElement("a:buFont")
    font.set("typeface", text.style.family)
    if text.marker is Marker.number:
        mark = OxmlElement("a:buAutoNum")
        mark.set("type", "arabicPeriod")
        mark.set("startAt", str(number))
    else:
        mark = OxmlElement("a:buChar")
        mark.set("char", "\u2022")
    for element in (colour, font, mark):
        p_pr.insert_element_before(element, "a:tabLst", "a:defRPr", "a:extLst")


def _style_run(run: _Run, content: str, text: _Text, defaults: tuple[str, str] | None) -> None:
    run.text = content
    font = run.font
    font.size = Pt(text.size)
    font.bold = text.style.bold
    family, colour = defaults or ("", "")
    if text.colour != colour:
        font.color.rgb = _rgb(text.colour)
    if text.style.family != family:
        font.name = text.style.family
    east_asian = _east_asian_font(content)
    if east_asian is not None:
        ea = OxmlElement("a:ea")
        ea.set("typeface", east_asian)
        after = ("a:cs", "a:sym", "a:hlinkClick", "a:hlinkMouseOver", "a:rtl", "a:extLst")
        run._r.get_or_add_rPr().insert_element_before(ea, *after)


def _east_asian_font(content: str) -> str | None:
    """A font with the CJK glyphs `content` needs (Office's defaults on Windows), or None."""
    if not any(is_wide(char) for char in content):
        return None
    if _KANA.search(content):
        return "Yu Gothic"
    if _HANGUL.search(content):
        return "Malgun Gothic"
    return "Microsoft YaHei"


def _rgb(colour: str) -> RGBColor:
    value = int(colour.lstrip("#"), 16)
    # python-pptx 1.0 leaves RGBColor's constructor unannotated.
    return RGBColor(value >> 16, (value >> 8) & 0xFF, value & 0xFF)  # type: ignore[no-untyped-call]
