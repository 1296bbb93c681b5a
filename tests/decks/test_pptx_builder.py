"""The deck builder: what a person opening the .pptx would see, checked in the saved file: slides
made of the themed master's layouts (titles and bodies in placeholders, nothing left empty), text
that fits, pictures described, two columns only for two-sided content."""

from __future__ import annotations

import io
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from PIL import Image
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER
from pptx.enum.text import MSO_AUTO_SIZE
from pptx.oxml.ns import qn
from pptx.presentation import Presentation as PresentationType
from pptx.shapes.base import BaseShape
from pptx.slide import Slide as PptxSlide
from pptx.util import Emu, Length

from paperworks.decks.offline_planner import offline_plan
from paperworks.decks.plan import Layout, OutlineRequest, SlidePlan
from paperworks.decks.pptx_builder import build_deck
from paperworks.decks.sides import two_sides
from paperworks.decks.text_fit import (
    BODY_MIN_PT,
    SLIDE_HEIGHT,
    SLIDE_WIDTH,
    TITLE_MIN_PT,
    TextStyle,
    wrap,
)
from paperworks.decks.themes import THEMES

LONG_TITLE = (
    "A very long title about the many important topics that we need to cover today, including "
    "the market, the product, the people who build it and the customers who pay for all of it"
)
LONG_BULLET = (
    "This bullet is deliberately long so that it wraps across several lines of the slide and "
    "makes the engine shrink the text and then split the slide into parts between its bullets, "
)
# Letters that look Latin are the point of these two.
GREEK = "Γειά σου Κόσμε: η ελληνική γλώσσα γράφεται με το ελληνικό αλφάβητο"  # noqa: RUF001
CYRILLIC = "Привет, мир: кириллица используется во многих языках"
CHINESE = "这是一个用中文写的很长的要点，用来测试没有空格的文本如何换行以及如何测量它的宽度。"  # noqa: RUF001
JAPANESE = "日本語のテキストもあります"
WIDE = (1600, 900)
TALL = (500, 1000)


def _png(size: tuple[int, int], colour: str = "#4488CC") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def _plan(slides: list[dict[str, Any]], title: str = "Test deck") -> SlidePlan:
    numbered = [{"index": position, **slide} for position, slide in enumerate(slides)]
    return SlidePlan.model_validate({"title": title, "slides": numbered})


EVERY_LAYOUT = _plan(
    [
        {"layout": "title", "title": "Annual review", "bullets": ["Where we stand"]},
        {"layout": "agenda", "title": "Agenda"},
        {"layout": "section", "title": "Part one", "bullets": ["The market"]},
        {"layout": "bullets", "title": "Three lessons", "bullets": ["Speed", "Price", "Care"]},
        {"layout": "bullets_image", "title": "Wide picture", "bullets": ["Floor", "Roof"]},
        {"layout": "bullets_image", "title": "Tall picture", "bullets": ["Tower"]},
        {"layout": "bullets_image", "title": "No picture", "bullets": ["Nothing to see"]},
        {"layout": "two_columns", "title": "Before / after", "bullets": list("abcdef")},
        {"layout": "quote", "title": "Customers", "bullets": ['"Saved us a week"', "Jane, CFO"]},
        {"layout": "bullets", "title": LONG_TITLE, "bullets": [LONG_BULLET * 2] * 12},
        {"layout": "bullets", "title": f"{GREEK} {CYRILLIC}", "bullets": [GREEK, CYRILLIC]},
        {"layout": "two_columns", "title": CHINESE, "bullets": [CHINESE, JAPANESE, CHINESE]},
        {"layout": "bullets", "title": "Only empty bullets", "bullets": ["", "   ", "\n"]},
        {"layout": "closing", "title": "Thank you", "bullets": ["Questions?", "team@example.com"]},
    ]
)
for _slide in EVERY_LAYOUT.slides:
    _slide.notes = f"Notes for plan slide {_slide.index}."
IMAGES = {4: _png(WIDE), 5: _png(TALL, "#CC8844")}


@cache
def _built(theme: str) -> tuple[bytes, tuple[tuple[int, int], ...]]:
    calls: list[tuple[int, int]] = []
    data = build_deck(
        EVERY_LAYOUT, theme=theme, images=IMAGES, on_slide=lambda *call: calls.append(call)
    )
    return data, tuple(calls)


def _open(data: bytes) -> PresentationType:
    return Presentation(io.BytesIO(data))


def _has_text_body(shape: BaseShape) -> bool:
    # Read from the XML: python-pptx's `has_text_frame` is True for any autoshape.
    return shape._element.find(qn("p:txBody")) is not None


def _text_shapes(slide: PptxSlide) -> Iterator[Any]:
    return (shape for shape in slide.shapes if _has_text_body(shape))


def _titles(deck: PresentationType) -> list[str]:
    return [
        next(shape.text_frame.text for shape in slide.shapes if shape.name == "Title")
        for slide in deck.slides
    ]


def _shape(slide: PptxSlide, name: str) -> Any:
    return next(shape for shape in slide.shapes if shape.name == name)


_TITLES = (PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE)


def _inherited(slide: PptxSlide, shape: Any, run: Any, find: str) -> str | None:
    """A run property as PowerPoint resolves it: the run's own, else the list styles of the
    shape, of its layout placeholder and of the master's text style for its kind.
    `find` is a path under a run-properties element, ending in the attribute wanted."""
    path, attribute = find.rsplit("/@", 1)
    chain = [run._r.rPr]
    level = "a:lstStyle/a:lvl1pPr/a:defRPr"
    chain.append(shape._element.find(_q(f"p:txBody/{level}")))
    if shape.is_placeholder:
        idx = shape.placeholder_format.idx
        layout = next(
            (ph for ph in slide.slide_layout.placeholders if ph.placeholder_format.idx == idx), None
        )
        if layout is not None:
            chain.append(layout._element.find(_q(f"p:txBody/{level}")))
        master = slide.slide_layout.slide_master._element
        kind = "p:titleStyle" if shape.placeholder_format.type in _TITLES else "p:bodyStyle"
        chain.append(master.find(_q(f"p:txStyles/{kind}/a:lvl1pPr/a:defRPr")))
    for element in chain:
        if element is None:
            continue
        found = element.find(_q(path))
        if found is not None and found.get(attribute):
            return str(found.get(attribute))
    return None


def _q(path: str) -> str:
    return "/".join(qn(step) for step in path.split("/"))


def _font_of(slide: PptxSlide, shape: Any, run: Any) -> str | None:
    return _inherited(slide, shape, run, "a:latin/@typeface")


def _colour_of(slide: PptxSlide, shape: Any, run: Any) -> str | None:
    return _inherited(slide, shape, run, "a:solidFill/a:srgbClr/@val")


def _needed_height(slide: PptxSlide, shape: Any) -> int:
    """The height the frame's text takes, measured again from what the file says."""
    frame = shape.text_frame
    width = shape.width - frame.margin_left - frame.margin_right
    height = 0
    for position, paragraph in enumerate(frame.paragraphs):
        font = paragraph.runs[0].font
        family = _font_of(slide, shape, paragraph.runs[0])
        assert family, "every run has a font, its own or the master's"
        style = TextStyle(family, bold=bool(font.bold))
        p_pr = paragraph._p.pPr
        indent = int(p_pr.get("marL", "0")) if p_pr is not None else 0
        lines = wrap(paragraph.text, style, font.size.pt, width - indent)
        assert isinstance(paragraph.line_spacing, Length), "line spacing is exact, in points"
        height += len(lines) * paragraph.line_spacing
        if position:
            height += paragraph.space_before or 0
    return height


def _assert_presentable(deck: PresentationType) -> None:
    assert (deck.slide_width, deck.slide_height) == (SLIDE_WIDTH, SLIDE_HEIGHT)
    for number, slide in enumerate(deck.slides, start=1):
        title = slide.shapes.title
        assert title is not None, f"slide {number}: no title placeholder"
        assert title.name == "Title", f"slide {number}"
        assert title.placeholder_format.type in _TITLES, f"slide {number}"
        for placeholder in slide.placeholders:
            # An empty one shows "Click to add text" in PowerPoint.
            assert placeholder.text_frame.text.strip(), f"slide {number}: empty {placeholder.name}"
        for shape in _text_shapes(slide):
            # Text is in the layout's placeholders, where Outline view and re-theming see it;
            # only the decorative quotation mark is a text box of its own.
            assert shape.is_placeholder or shape.name == "Quote Mark", (
                f"slide {number} {shape.name}"
            )
        for shape in slide.shapes:
            where = f"slide {number} {shape.name}"
            assert shape.left >= 0, where
            assert shape.top >= 0, where
            assert shape.left + shape.width <= SLIDE_WIDTH, where
            assert shape.top + shape.height <= SLIDE_HEIGHT, where
        for shape in _text_shapes(slide):
            where = f"slide {number} {shape.name}"
            frame = shape.text_frame
            assert frame.text.strip(), f"{where} is an empty text box"
            assert frame.word_wrap is True, where
            assert frame.auto_size == MSO_AUTO_SIZE.NONE, where
            smallest = TITLE_MIN_PT if shape.name.startswith("Title") else BODY_MIN_PT
            for paragraph in frame.paragraphs:
                assert paragraph.runs, f"{where} has an empty paragraph"
                for run in paragraph.runs:
                    assert run.font.size is not None, f"{where}: a run without a size"
                    assert run.font.size.pt >= smallest, f"{where}: {run.font.size.pt} pt"
                    assert _font_of(slide, shape, run), where
            available = shape.height - frame.margin_top - frame.margin_bottom
            # A few EMU of rounding per paragraph: centipoints in the file, EMU here.
            slack = 4 * len(frame.paragraphs)
            assert _needed_height(slide, shape) <= available + slack, f"{where} overflows"


@pytest.mark.parametrize("theme", THEMES)
def test_every_layout_in_every_theme_is_presentable(theme: str) -> None:
    data, _ = _built(theme)
    deck = _open(data)
    assert len(deck.slides) > len(EVERY_LAYOUT.slides)  # the long slide was split
    _assert_presentable(deck)


@pytest.mark.parametrize("theme", THEMES)
def test_slides_wear_the_theme(theme: str) -> None:
    chosen = THEMES[theme]
    deck = _open(_built(theme)[0])
    backgrounds = {chosen.background.lstrip("#"), chosen.surface.lstrip("#")}
    master = deck.slide_master
    assert str(master.background.fill.fore_color.rgb) == chosen.background.lstrip("#")
    for slide in deck.slides:
        assert _background(slide) in backgrounds
        accents = [shape for shape in slide.shapes if shape.name == "Accent"]
        assert accents
        assert all(shape.shape_type == MSO_SHAPE_TYPE.AUTO_SHAPE for shape in accents)
        assert not any(_has_text_body(shape) for shape in accents)
        # Under the text: drawn first, so a band does not hide the title.
        assert list(slide.shapes)[: len(accents)] == accents
        title = _shape(slide, "Title")
        run = title.text_frame.paragraphs[0].runs[0]
        assert _font_of(slide, title, run) == chosen.title_font
        assert _colour_of(slide, title, run) == chosen.text.lstrip("#")


def _background(slide: PptxSlide) -> str:
    """The slide's own background colour, else its master's."""
    if slide._element.find(_q("p:cSld/p:bg")) is not None:
        return str(slide.background.fill.fore_color.rgb)
    return str(slide.slide_layout.slide_master.background.fill.fore_color.rgb)


def test_on_slide_counts_every_drawn_slide() -> None:
    data, calls = _built("clean")
    total = len(_open(data).slides)
    assert [done for done, _ in calls] == list(range(1, total + 1))
    assert {of for _, of in calls} == {total}


def test_every_slide_keeps_its_plan_slide_s_notes() -> None:
    deck = _open(_built("clean")[0])
    seen = []
    for slide in deck.slides:
        assert slide.has_notes_slide
        notes = slide.notes_slide.notes_text_frame.text
        assert notes.startswith("Notes for plan slide ")
        seen.append(int(notes.removeprefix("Notes for plan slide ").rstrip(".")))
    assert seen == sorted(seen)
    assert set(seen) == {slide.index for slide in EVERY_LAYOUT.slides}


def test_slides_without_notes_get_none() -> None:
    plan = _plan([{"title": "Quiet", "bullets": ["one"]}])
    slide = _open(build_deck(plan)).slides[0]
    assert not slide.has_notes_slide or not slide.notes_slide.notes_text_frame.text


def test_a_slide_too_long_for_one_is_split_between_bullets_keeping_every_word() -> None:
    deck = _open(_built("clean")[0])
    titles = _titles(deck)
    parts = [n for n, title in enumerate(titles) if title.startswith(LONG_TITLE[:40])]
    assert len(parts) >= 2
    assert all(titles[n].endswith("(cont.)") for n in parts[1:])
    assert not titles[parts[0]].endswith("(cont.)")
    texts = [
        paragraph.text
        for n in parts
        for paragraph in _shape(deck.slides[n], "Body").text_frame.paragraphs
    ]
    assert texts == [(LONG_BULLET * 2).strip()] * 12
    sizes = {
        _shape(deck.slides[n], "Body").text_frame.paragraphs[0].runs[0].font.size for n in parts
    }
    assert len(sizes) == 1  # the parts of one slide read as one


def test_a_single_bullet_too_long_for_a_slide_continues_on_the_next() -> None:
    bullet = " ".join(f"word{n}" for n in range(1200))
    plan = _plan([{"title": "One endless bullet", "bullets": [bullet], "notes": "Go slowly."}])
    deck = _open(build_deck(plan))
    assert len(deck.slides) >= 2
    _assert_presentable(deck)
    shown = " ".join(_shape(slide, "Body").text_frame.text for slide in deck.slides)
    assert shown == bullet
    assert all(s.notes_slide.notes_text_frame.text == "Go slowly." for s in deck.slides)


def test_a_title_too_long_for_its_box_is_cut_short_with_an_ellipsis() -> None:
    endless = "长" * 300
    plan = _plan([{"title": endless, "bullets": ["x"]}, {"layout": "title", "title": endless}])
    deck = _open(build_deck(plan))
    _assert_presentable(deck)
    for title in _titles(deck):
        assert title.endswith("\u2026")
        assert 20 < len(title) < 300


def test_long_titles_grow_their_box_before_being_cut() -> None:
    deck = _open(_built("clean")[0])
    title = next(
        shape
        for slide in deck.slides
        for shape in slide.shapes
        if shape.name == "Title" and shape.text_frame.text == LONG_TITLE
    )
    assert title.height > Emu(914400)  # taller than the one-inch default
    assert title.text_frame.paragraphs[0].runs[0].font.size.pt >= TITLE_MIN_PT


def test_a_slide_with_only_empty_bullets_shows_its_title_alone() -> None:
    deck = _open(_built("clean")[0])
    slide = deck.slides[_titles(deck).index("Only empty bullets")]
    assert [shape.name for shape in _text_shapes(slide)] == ["Title"]


@pytest.mark.parametrize(("title", "size"), [("Wide picture", WIDE), ("Tall picture", TALL)])
def test_pictures_keep_their_proportions_beside_the_bullets(
    title: str, size: tuple[int, int]
) -> None:
    deck = _open(_built("midnight")[0])
    slide = deck.slides[_titles(deck).index(title)]
    pictures = [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
    assert len(pictures) == 1
    picture, body = pictures[0], _shape(slide, "Body")
    assert picture.width / picture.height == pytest.approx(size[0] / size[1], rel=0.01)
    assert picture.left > body.left + body.width  # beside the text, not over it
    assert picture.image.size == size


def test_a_bullets_image_slide_without_its_picture_is_a_bullets_slide() -> None:
    deck = _open(_built("clean")[0])
    slide = deck.slides[_titles(deck).index("No picture")]
    assert not any(s.shape_type == MSO_SHAPE_TYPE.PICTURE for s in slide.shapes)
    full = _shape(deck.slides[_titles(deck).index("Three lessons")], "Body")
    assert _shape(slide, "Body").width == full.width


def test_bytes_that_are_not_a_picture_are_left_out() -> None:
    plan = _plan([{"layout": "bullets_image", "title": "Broken", "bullets": ["still here"]}])
    deck = _open(build_deck(plan, images={0: b"not an image"}))
    slide = deck.slides[0]
    assert not any(s.shape_type == MSO_SHAPE_TYPE.PICTURE for s in slide.shapes)
    assert _shape(slide, "Body").text_frame.text == "still here"


def test_a_picture_without_bullets_fills_the_body() -> None:
    plan = _plan([{"layout": "bullets_image", "title": "Just a picture"}])
    deck = _open(build_deck(plan, images={0: _png(TALL)}))
    _assert_presentable(deck)
    picture = next(s for s in deck.slides[0].shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE)
    assert picture.width / picture.height == pytest.approx(0.5, rel=0.01)
    centre = picture.left + picture.width // 2
    assert abs(centre - SLIDE_WIDTH // 2) < Emu(12700)


def test_non_latin_text_is_written_as_is_with_an_east_asian_font_for_cjk() -> None:
    deck = _open(_built("paper")[0])
    titles = _titles(deck)
    greek = deck.slides[titles.index(f"{GREEK} {CYRILLIC}")]
    assert [p.text for p in _shape(greek, "Body").text_frame.paragraphs] == [GREEK, CYRILLIC]
    chinese = deck.slides[titles.index(CHINESE)]
    # Asked for two columns, but nothing here has two sides: one column.
    body = _shape(chinese, "Body")
    assert [p.text for p in body.text_frame.paragraphs] == [CHINESE, JAPANESE, CHINESE]
    for paragraph in body.text_frame.paragraphs:
        east_asian = paragraph.runs[0]._r.rPr.find(qn("a:ea"))
        assert east_asian is not None
        assert east_asian.get("typeface")
    title_run = _shape(chinese, "Title").text_frame.paragraphs[0].runs[0]
    assert title_run._r.rPr.find(qn("a:ea")) is not None


def test_two_columns_put_the_first_half_on_the_left() -> None:
    deck = _open(_built("clean")[0])
    slide = deck.slides[_titles(deck).index("Before / after")]
    left, right = _shape(slide, "Body Left"), _shape(slide, "Body Right")
    assert [p.text for p in left.text_frame.paragraphs] == ["a", "b", "c"]
    assert [p.text for p in right.text_frame.paragraphs] == ["d", "e", "f"]
    assert left.left + left.width < right.left


def test_an_agenda_without_bullets_lists_the_content_slides() -> None:
    deck = _open(_built("clean")[0])
    slide = deck.slides[_titles(deck).index("Agenda")]
    listed = [
        paragraph.text
        for shape in _text_shapes(slide)
        if shape.name.startswith("Body")
        for paragraph in shape.text_frame.paragraphs
    ]
    content = [s.title for s in EVERY_LAYOUT.slides if s.layout in _CONTENT]
    assert listed == [" ".join(title.split()) for title in content]
    numbers = slide.shapes[-1].text_frame.paragraphs[0]._p.pPr.find(qn("a:buAutoNum"))
    assert numbers is not None


_CONTENT = {Layout.bullets, Layout.bullets_image, Layout.two_columns, Layout.quote}


def test_a_quote_shows_the_quotation_and_who_said_it() -> None:
    deck = _open(_built("clean")[0])
    slide = deck.slides[_titles(deck).index("Customers")]
    quote = _shape(slide, "Quote")
    assert quote.is_placeholder  # the body placeholder: Outline view shows the quotation
    lines = [paragraph.text for paragraph in quote.text_frame.paragraphs]
    assert lines == ["Saved us a week", "\u2014 Jane, CFO"]


def test_the_title_slide_shows_its_subtitle_and_a_closing_its_lines() -> None:
    deck = _open(_built("clean")[0])
    assert deck.slides[0].slide_layout.name == "Title Slide"
    assert deck.slides[0].shapes.title.text_frame.text == "Annual review"
    subtitle = _shape(deck.slides[0], "Subtitle")
    assert subtitle.placeholder_format.type == PP_PLACEHOLDER.SUBTITLE
    assert subtitle.text_frame.text == "Where we stand"
    closing = deck.slides[-1]
    assert _shape(closing, "Title").text_frame.text == "Thank you"
    lines = [p.text for p in _shape(closing, "Subtitle").text_frame.paragraphs]
    assert lines == ["Questions?", "team@example.com"]


def test_the_same_plan_gives_the_same_slides() -> None:
    first, second = _open(_built("clean")[0]), _open(build_deck(EVERY_LAYOUT, images=IMAGES))
    assert [s._element.xml for s in first.slides] == [s._element.xml for s in second.slides]


def test_a_theme_is_chosen_by_name_and_an_unknown_name_is_refused() -> None:
    plan = _plan([{"title": "One", "bullets": ["a"]}])
    deck = _open(build_deck(plan, theme="midnight"))
    assert _background(deck.slides[0]) == "0F172A"
    with pytest.raises(ValueError, match="clean"):
        build_deck(plan, theme="neon")


def test_every_layout_overfilled_still_fits_and_keeps_its_notes() -> None:
    layouts = [layout.value for layout in Layout]
    plan = _plan(
        [
            {
                "layout": layout,
                "title": f"{LONG_TITLE} {LONG_TITLE}"[:300],
                "bullets": [LONG_BULLET * 2] * 12,
                "notes": f"Say this about {layout}.",
            }
            for layout in layouts
        ]
    )
    deck = _open(build_deck(plan, theme="paper", images={3: _png(TALL)}))
    assert len(deck.slides) > len(layouts)
    _assert_presentable(deck)
    notes = [slide.notes_slide.notes_text_frame.text for slide in deck.slides]
    assert list(dict.fromkeys(notes)) == [f"Say this about {layout}." for layout in layouts]


def test_a_title_slide_s_lines_are_plain_and_a_closing_s_are_bulleted() -> None:
    lines = ["Jane Doe", "March 2026"]
    plan = _plan(
        [
            {"layout": "title", "title": "Kick-off", "bullets": lines},
            {"layout": "closing", "title": "Next steps", "bullets": lines},
        ]
    )
    deck = _open(build_deck(plan))
    plain, bulleted = (_shape(slide, "Subtitle").text_frame for slide in deck.slides)
    assert [p.text for p in plain.paragraphs] == lines
    assert plain.paragraphs[0]._p.pPr.find(qn("a:buChar")) is None
    assert bulleted.paragraphs[0]._p.pPr.find(qn("a:buChar")) is not None


def test_a_blank_slide_title_shows_the_deck_s_title() -> None:
    plan = _plan([{"title": "   ", "bullets": ["a point"]}], title="The deck")
    deck = _open(build_deck(plan))
    assert _titles(deck) == ["The deck"]


def test_a_photo_taken_sideways_is_placed_upright() -> None:
    photo = Image.new("RGB", WIDE, "#336699")
    exif = photo.getexif()
    exif[0x0112] = 6  # EXIF Orientation: rotate 90 degrees to view
    out = io.BytesIO()
    photo.save(out, format="JPEG", exif=exif)
    plan = _plan([{"layout": "bullets_image", "title": "Upright", "bullets": ["a point"]}])
    deck = _open(build_deck(plan, images={0: out.getvalue()}))
    picture = next(s for s in deck.slides[0].shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE)
    assert picture.width / picture.height == pytest.approx(WIDE[1] / WIDE[0], rel=0.01)


# -- slide structure: layouts of the master, placeholders, alt text, columns ----------------------

PROMPTS = {
    "topic": "Heat pumps for homeowners: how they work, running costs, installation, grants",
    "comparison": "Renting versus buying a home: pros and cons for young families",
    "notes": "Quarterly review. Revenue grew 12%. Churn fell to 3%. We hired three engineers.",
}


def _offline_deck(prompt: str, theme: str) -> tuple[SlidePlan, PresentationType]:
    plan = offline_plan(OutlineRequest(prompt=prompt, slide_count=10))
    images = {s.index: _png(WIDE) for s in plan.slides if s.layout is Layout.bullets_image}
    return plan, _open(build_deck(plan, theme=theme, images=images))


def _slides_by_plan(plan: SlidePlan, deck: PresentationType) -> list[tuple[Any, PptxSlide]]:
    """Each drawn slide with the plan slide it shows: drawn slides follow the plan's order, and
    the parts of a split slide carry its title (then "... (cont.)") and its notes."""
    pairs = []
    slides = iter(plan.slides)
    current = next(slides)
    for drawn in deck.slides:
        notes = drawn.notes_slide.notes_text_frame.text if drawn.has_notes_slide else ""
        while notes != current.notes.strip():
            current = next(slides)
        pairs.append((current, drawn))
    return pairs


DECKS = [(name, theme) for name in PROMPTS for theme in THEMES]


@pytest.mark.parametrize(("name", "theme"), DECKS)
def test_offline_decks_are_made_of_titled_layouts_with_nothing_left_empty(
    name: str, theme: str
) -> None:
    plan, deck = _offline_deck(PROMPTS[name], theme)
    _assert_presentable(deck)
    pairs = _slides_by_plan(plan, deck)
    assert pairs[0][0] is plan.slides[0]
    assert {slide.index for slide, _ in pairs} == {slide.index for slide in plan.slides}
    for slide, drawn in pairs:
        title = drawn.shapes.title.text_frame.text
        assert title in (slide.title, slide.title + " (cont.)"), (title, slide.title)
        assert drawn.has_notes_slide
        assert drawn.notes_slide.notes_text_frame.text.strip()
    first = deck.slides[0]
    assert first.slide_layout.name == "Title Slide"
    assert first.shapes.title.placeholder_format.type == PP_PLACEHOLDER.CENTER_TITLE
    kinds = [ph.placeholder_format.type for ph in first.slide_layout.placeholders]
    assert PP_PLACEHOLDER.SUBTITLE in kinds
    # The subtitle placeholder holds the subtitle, or is gone when the plan has none.
    subtitles = [p for p in first.placeholders if p.placeholder_format.idx == 1]
    assert [p.text_frame.text for p in subtitles] == plan.slides[0].bullets[:1]
    for _, drawn in pairs[1:]:
        assert drawn.slide_layout.name != "Title Slide"


@pytest.mark.parametrize(("name", "theme"), DECKS)
def test_pictures_are_described_by_their_prompt(name: str, theme: str) -> None:
    plan, deck = _offline_deck(PROMPTS[name], theme)
    described = 0
    for slide, drawn in _slides_by_plan(plan, deck):
        for shape in drawn.shapes:
            if shape.shape_type != MSO_SHAPE_TYPE.PICTURE:
                continue
            alt = shape._element.nvPicPr.cNvPr.get("descr")
            assert alt == " ".join((slide.image_prompt or slide.title).split())
            assert not alt.casefold().endswith((".png", ".jpg", ".jpeg", ".gif"))
            described += 1
    assert described >= 1


def test_a_picture_without_a_prompt_is_described_by_its_slide_s_title() -> None:
    plan = _plan([{"layout": "bullets_image", "title": "Our new office", "bullets": ["Bright"]}])
    deck = _open(build_deck(plan, images={0: _png(WIDE)}))
    picture = next(s for s in deck.slides[0].shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE)
    assert picture._element.nvPicPr.cNvPr.get("descr") == "Our new office"


def _columns_of(slide: PptxSlide) -> list[list[str]]:
    return [
        [paragraph.text for paragraph in shape.text_frame.paragraphs]
        for shape in slide.placeholders
        if shape.placeholder_format.idx in (1, 2) and slide.slide_layout.name == "Two Content"
    ]


SIDED = _plan(
    [
        {
            "layout": "two_columns",
            "title": "Renting or buying",
            "bullets": ["Pros: flexible", "Pros: no repairs", "Cons: no equity"],
        },
        {"layout": "two_columns", "title": "Python vs Rust", "bullets": list("abcde")},
        {"layout": "two_columns", "title": "Key facts", "bullets": list("abcdef")},
        {"layout": "two_columns", "title": "Before and after", "bullets": ["Only one side"]},
        {"layout": "two_columns", "title": "Pros and cons", "bullets": [LONG_BULLET * 2] * 12},
        {"layout": "bullets", "title": "Costs compared", "bullets": list("abcd")},
    ]
)


@pytest.mark.parametrize("theme", THEMES)
def test_two_columns_only_for_two_sided_content_and_never_with_an_empty_column(
    theme: str,
) -> None:
    deck = _open(build_deck(SIDED, theme=theme))
    _assert_presentable(deck)
    by_title: dict[str, list[PptxSlide]] = {}
    for slide in deck.slides:
        title = slide.shapes.title.text_frame.text.removesuffix(" (cont.)")
        by_title.setdefault(title, []).append(slide)
        if slide.slide_layout.name == "Two Content":
            columns = _columns_of(slide)
            assert len(columns) == 2
            assert all(column and all(column) for column in columns)
    two = {
        title for title, slides in by_title.items() if slides[0].slide_layout.name == "Two Content"
    }
    assert two == {"Renting or buying", "Python vs Rust"}
    # Labelled sides split where the label changes; others in half, the first half on the left.
    assert _columns_of(by_title["Renting or buying"][0]) == [
        ["Pros: flexible", "Pros: no repairs"],
        ["Cons: no equity"],
    ]
    assert _columns_of(by_title["Python vs Rust"][0]) == [["a", "b", "c"], ["d", "e"]]
    # Two sides too long for their columns: one column over several slides.
    assert len(by_title["Pros and cons"]) >= 2
    assert {s.slide_layout.name for s in by_title["Pros and cons"]} == {"Title and Content"}


@pytest.mark.parametrize("name", PROMPTS)
def test_offline_two_column_slides_have_two_sides(name: str) -> None:
    plan, deck = _offline_deck(PROMPTS[name], "clean")
    for slide, drawn in _slides_by_plan(plan, deck):
        if drawn.slide_layout.name == "Two Content":
            assert slide.layout is Layout.two_columns
            assert two_sides(slide.title, slide.bullets) is not None


@pytest.mark.parametrize("theme", THEMES)
def test_the_master_wears_the_theme_and_slides_inherit_it(theme: str) -> None:
    chosen = THEMES[theme]
    deck = _open(_built(theme)[0])
    master = deck.slide_master._element
    title_style = master.find(_q("p:txStyles/p:titleStyle/a:lvl1pPr/a:defRPr"))
    body_style = master.find(_q("p:txStyles/p:bodyStyle/a:lvl1pPr/a:defRPr"))
    assert title_style.find(qn("a:latin")).get("typeface") == chosen.title_font
    assert body_style.find(qn("a:latin")).get("typeface") == chosen.body_font
    for style in (title_style, body_style):
        assert style.find(_q("a:solidFill/a:srgbClr")).get("val") == chosen.text.lstrip("#")
    # Latin titles and bullets leave font and colour to the master: restyling it restyles them.
    slide = deck.slides[_titles(deck).index("Three lessons")]
    for name in ("Title", "Body"):
        for paragraph in _shape(slide, name).text_frame.paragraphs:
            properties = paragraph.runs[0]._r.rPr
            assert properties.find(qn("a:latin")) is None
            assert properties.find(qn("a:solidFill")) is None
    # The layouts are laid out for 16:9, inside the slide.
    for layout in deck.slide_layouts:
        for shape in layout.placeholders:
            assert shape.left >= 0, layout.name
            assert shape.left + shape.width <= SLIDE_WIDTH, layout.name


@pytest.mark.parametrize(
    ("title", "bullet", "east_asian"),
    [
        ("新能源汽车市场分析", "电池技术的进步", "Microsoft YaHei"),
        ("日本のお花見の歴史", "桜の名所を紹介します", "Yu Gothic"),
        ("Heat pumps for homeowners", "How they work", None),
    ],
)
def test_the_master_names_an_east_asian_font_for_a_cjk_deck(
    title: str, bullet: str, east_asian: str | None
) -> None:
    plan = _plan([{"layout": "title", "title": title}, {"title": title, "bullets": [bullet]}])
    master = _open(build_deck(plan)).slide_master.element
    styles = master.find(qn("p:txStyles"))
    for style in ("p:titleStyle", "p:bodyStyle"):
        defaults = styles.find(f"{qn(style)}/{qn('a:lvl1pPr')}/{qn('a:defRPr')}")
        ea = defaults.find(qn("a:ea"))
        assert (ea.get("typeface") if ea is not None else None) == east_asian
        assert defaults.find(qn("a:latin")) is not None  # Latin text keeps the theme's font
        # Schema order: latin before ea.
        tags = [child.tag for child in defaults]
        if ea is not None:
            assert tags.index(qn("a:latin")) < tags.index(qn("a:ea"))


def test_a_placeholder_picture_is_described_by_the_title_it_shows() -> None:
    plan = _plan(
        [
            {
                "layout": "bullets_image",
                "title": "Our new office",
                "bullets": ["Bright"],
                "imagePrompt": "A bright open-plan office with plants, photographed at noon",
            }
        ]
    )
    for placeholders, described in (((), "A bright open-plan office"), ((0,), "Our new office")):
        deck = _open(build_deck(plan, images={0: _png(WIDE)}, placeholders=placeholders))
        picture = next(s for s in deck.slides[0].shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE)
        assert picture._element.nvPicPr.cNvPr.get("descr").startswith(described)
