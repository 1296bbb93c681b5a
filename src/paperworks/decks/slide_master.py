"""The slide master a deck is built on: python-pptx's default template made 16:9 and restyled by
a theme, so that slides are made of its layouts' title and body placeholders and a change to the
master (fonts, colours, background) reaches every slide.

What the theme sets where:
- the master: the background, the title style (title font, text colour, bold, left aligned) and
  the body style (body font, text colour) of every level;
- the layouts the builder uses: where their placeholders sit (the builder's geometry), a title
  anchored as the builder anchors it, the subtitle lines of title and section slides in the
  theme's muted colour without bullets; the template's own per-layout overrides (centred,
  capitals, tinted colours) are cleared.
Slides still set their placeholders' position and their text's size: those are measured per
slide (see `text_fit`). Pure: builds objects in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE
from pptx.oxml.ns import qn
from pptx.oxml.xmlchemy import BaseOxmlElement, OxmlElement
from pptx.presentation import Presentation as PresentationType
from pptx.shapes.placeholder import LayoutPlaceholder, MasterPlaceholder
from pptx.slide import SlideLayout
from pptx.util import Emu

from paperworks.decks.text_fit import SLIDE_HEIGHT, SLIDE_WIDTH
from paperworks.decks.themes import Rect, Theme


class MasterLayout(StrEnum):
    """The layouts of the default template that decks use, by name."""

    title_slide = "Title Slide"  # title (ctrTitle) + subtitle
    section = "Section Header"  # title + a text placeholder (a divider, a closing)
    content = "Title and Content"  # title + one body
    two_content = "Two Content"  # title + two bodies side by side
    title_only = "Title Only"


class Slot(IntEnum):
    """A placeholder of a layout by its `idx` (the title is 0 on every layout)."""

    title = 0
    body = 1  # the subtitle of a title slide, the text of a section, the (left) body
    right = 2  # the right body of "Two Content"


@dataclass(frozen=True)
class MasterGeometry:
    """Where the builder puts things, in EMU: the layouts' placeholders are set there too, so a
    slide a user adds in PowerPoint looks like the deck's."""

    statement_title: Rect
    statement_subtitle: Rect
    header: Rect
    body: Rect
    left: Rect
    right: Rect


_BODY_LEVELS = 9
# The font Chinese, Japanese and Korean characters are drawn in (`a:ea`): Latin fonts such as
# Calibri have none, and without one a viewer picks its own, maybe with another country's glyph
# forms. These are Office's own, on every Windows and recent macOS; LibreOffice substitutes
# a CJK font it has (Noto Sans CJK on Debian).
EAST_ASIAN_FONTS = {"zh": "Microsoft YaHei", "ja": "Yu Gothic", "ko": "Malgun Gothic"}


def themed_presentation(
    theme: Theme, geometry: MasterGeometry, *, language: str | None = None
) -> PresentationType:
    """A new, empty 16:9 presentation whose master and layouts wear `theme`, with the East Asian
    font for `language` (an ISO 639-1 code) when it is Chinese, Japanese or Korean."""
    east_asian = EAST_ASIAN_FONTS.get(language or "")
    presentation = Presentation()
    old_width = presentation.slide_width or SLIDE_WIDTH
    presentation.slide_width = Emu(SLIDE_WIDTH)
    presentation.slide_height = Emu(SLIDE_HEIGHT)
    master = presentation.slide_master
    # The template is 4:3 at the same height: its boxes widen with the slide.
    for element in (master.element, *(layout.element for layout in master.slide_layouts)):
        _widen(element, SLIDE_WIDTH / old_width)

    fill = master.background.fill
    fill.solid()
    fill.fore_color.rgb = _rgb(theme.background)
    _style_master_text(master.element, theme, east_asian)
    for placeholder in master.placeholders:
        kind = placeholder.element.ph_type
        if kind == "title":
            _place(placeholder, geometry.header, MSO_ANCHOR.MIDDLE)
        elif kind == "body":
            _place(placeholder, geometry.body, MSO_ANCHOR.TOP)

    for layout in master.slide_layouts:
        for placeholder in layout.iter_cloneable_placeholders():
            _clear_list_style(placeholder)
    places: dict[str, dict[int, tuple[Rect, MSO_ANCHOR]]] = {
        MasterLayout.title_slide: {
            Slot.title: (geometry.statement_title, MSO_ANCHOR.BOTTOM),
            Slot.body: (geometry.statement_subtitle, MSO_ANCHOR.TOP),
        },
        MasterLayout.section: {
            Slot.title: (geometry.statement_title, MSO_ANCHOR.BOTTOM),
            Slot.body: (geometry.statement_subtitle, MSO_ANCHOR.TOP),
        },
        MasterLayout.content: {
            Slot.title: (geometry.header, MSO_ANCHOR.MIDDLE),
            Slot.body: (geometry.body, MSO_ANCHOR.TOP),
        },
        MasterLayout.two_content: {
            Slot.title: (geometry.header, MSO_ANCHOR.MIDDLE),
            Slot.body: (geometry.left, MSO_ANCHOR.TOP),
            Slot.right: (geometry.right, MSO_ANCHOR.TOP),
        },
        MasterLayout.title_only: {Slot.title: (geometry.header, MSO_ANCHOR.MIDDLE)},
    }
    for name, slots in places.items():
        chosen = layout_named(presentation, name)
        for placeholder in chosen.iter_cloneable_placeholders():
            idx = placeholder.placeholder_format.idx
            if idx in slots:
                _place(placeholder, *slots[idx])
            if idx == Slot.body and name in (MasterLayout.title_slide, MasterLayout.section):
                _muted_lines(placeholder, theme, east_asian)
    return presentation


def layout_named(presentation: PresentationType, name: str) -> SlideLayout:
    layout = presentation.slide_layouts.get_by_name(name)
    if layout is None:
        raise LookupError(f"the slide master has no layout {name!r}")
    return layout


def _widen(element: BaseOxmlElement, factor: float) -> None:
    for xfrm in element.iter(qn("a:xfrm")):
        offset, extent = xfrm.find(qn("a:off")), xfrm.find(qn("a:ext"))
        if offset is not None:
            offset.set("x", str(round(int(offset.get("x", "0")) * factor)))
        if extent is not None:
            extent.set("cx", str(round(int(extent.get("cx", "0")) * factor)))


def _style_master_text(master: BaseOxmlElement, theme: Theme, east_asian: str | None) -> None:
    styles = master.find(qn("p:txStyles"))
    if styles is None:
        return
    title = styles.find(f"{qn('p:titleStyle')}/{qn('a:lvl1pPr')}")
    if title is not None:
        title.set("algn", "l")
        _default_run(title, theme.title_font, theme.text, east_asian, bold=theme.title_bold)
    body = styles.find(qn("p:bodyStyle"))
    if body is not None:
        for level in range(1, _BODY_LEVELS + 1):
            paragraph = body.find(qn(f"a:lvl{level}pPr"))
            if paragraph is not None:
                _default_run(paragraph, theme.body_font, theme.text, east_asian)


def _default_run(
    paragraph: BaseOxmlElement,
    family: str,
    colour: str,
    east_asian: str | None,
    *,
    bold: bool | None = None,
) -> None:
    """Set the fonts and colour of a list style level's default run properties."""
    defaults = paragraph.find(qn("a:defRPr"))
    if defaults is None:
        defaults = OxmlElement("a:defRPr")
        paragraph.append(defaults)
    if bold is not None:
        defaults.set("b", "1" if bold else "0")
    for child in list(defaults):
        replaced = ("a:solidFill", "a:latin", "a:ea", "a:noFill", "a:gradFill")
        if child.tag in {qn(tag) for tag in replaced}:
            defaults.remove(child)
    fill = OxmlElement("a:solidFill")
    srgb = OxmlElement("a:srgbClr")
    srgb.set("val", colour.lstrip("#").upper())
    fill.append(srgb)
    latin = OxmlElement("a:latin")
    latin.set("typeface", family)
    # defRPr's children: ln, fills, effects, highlight, underline, latin, ea, cs, ...
    defaults.insert(_first_index(defaults, ("a:effectLst", "a:highlight", "a:latin", "a:ea")), fill)
    defaults.insert(_first_index(defaults, ("a:ea", "a:cs", "a:sym", "a:hlinkClick")), latin)
    if east_asian:
        ea = OxmlElement("a:ea")
        ea.set("typeface", east_asian)
        defaults.insert(_first_index(defaults, ("a:cs", "a:sym", "a:hlinkClick")), ea)


def _first_index(parent: BaseOxmlElement, tags: tuple[str, ...]) -> int:
    names = {qn(tag) for tag in tags}
    for position, child in enumerate(parent):
        if child.tag in names:
            return position
    return len(parent)


def _clear_list_style(placeholder: LayoutPlaceholder) -> None:
    body = placeholder.element.find(qn("p:txBody"))
    styles = body.find(qn("a:lstStyle")) if body is not None else None
    if styles is not None:
        for child in list(styles):
            styles.remove(child)


def _muted_lines(placeholder: LayoutPlaceholder, theme: Theme, east_asian: str | None) -> None:
    """Plain lines (no bullet, no indent) in the muted colour: a subtitle's look."""
    styles = placeholder.element.find(f"{qn('p:txBody')}/{qn('a:lstStyle')}")
    if styles is None:
        return
    level = OxmlElement("a:lvl1pPr")
    level.set("marL", "0")
    level.set("indent", "0")
    level.set("algn", "l")
    level.append(OxmlElement("a:buNone"))
    styles.append(level)
    _default_run(level, theme.body_font, theme.muted, east_asian)


def _place(
    placeholder: LayoutPlaceholder | MasterPlaceholder, rect: Rect, anchor: MSO_ANCHOR
) -> None:
    placeholder.left, placeholder.top = Emu(rect.left), Emu(rect.top)
    placeholder.width, placeholder.height = Emu(rect.width), Emu(rect.height)
    frame = placeholder.text_frame
    frame.word_wrap = True
    frame.auto_size = MSO_AUTO_SIZE.NONE
    frame.margin_left = frame.margin_right = frame.margin_top = frame.margin_bottom = Emu(0)
    frame.vertical_anchor = anchor


def _rgb(colour: str) -> RGBColor:
    value = int(colour.lstrip("#"), 16)
    return RGBColor(value >> 16, (value >> 8) & 0xFF, value & 0xFF)  # type: ignore[no-untyped-call]
