"""The deck builder: what a person opening the .pptx would see, checked in the saved file."""

from __future__ import annotations

import io
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from PIL import Image
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.enum.text import MSO_AUTO_SIZE
from pptx.oxml.ns import qn
from pptx.presentation import Presentation as PresentationType
from pptx.shapes.base import BaseShape
from pptx.slide import Slide as PptxSlide
from pptx.util import Emu, Length

from paperworks.decks.plan import Layout, SlidePlan
from paperworks.decks.pptx_builder import build_deck
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


def _needed_height(shape: Any) -> int:
    """The height the frame's text takes, measured again from what the file says."""
    frame = shape.text_frame
    width = shape.width - frame.margin_left - frame.margin_right
    height = 0
    for position, paragraph in enumerate(frame.paragraphs):
        font = paragraph.runs[0].font
        style = TextStyle(font.name, bold=bool(font.bold))
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
        assert len(slide.placeholders) == 0, f"slide {number} has a placeholder"
        assert any(shape.name == "Title" for shape in slide.shapes), f"slide {number}: no title"
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
                    assert run.font.name, where
            available = shape.height - frame.margin_top - frame.margin_bottom
            # A few EMU of rounding per paragraph: centipoints in the file, EMU here.
            slack = 4 * len(frame.paragraphs)
            assert _needed_height(shape) <= available + slack, f"{where} overflows"


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
    for slide in deck.slides:
        assert str(slide.background.fill.fore_color.rgb) in backgrounds
        accents = [shape for shape in slide.shapes if shape.name == "Accent"]
        assert accents
        assert all(shape.shape_type == MSO_SHAPE_TYPE.AUTO_SHAPE for shape in accents)
        assert not any(_has_text_body(shape) for shape in accents)
        title = _shape(slide, "Title").text_frame.paragraphs[0].runs[0].font
        assert title.name == chosen.title_font
        assert str(title.color.rgb) == chosen.text.lstrip("#")


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
    left, right = _shape(chinese, "Body Left"), _shape(chinese, "Body Right")
    assert [p.text for p in left.text_frame.paragraphs] == [CHINESE, JAPANESE]
    assert [p.text for p in right.text_frame.paragraphs] == [CHINESE]
    run = right.text_frame.paragraphs[0].runs[0]
    east_asian = run._r.rPr.find(qn("a:ea"))
    assert east_asian is not None
    assert east_asian.get("typeface")


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
    assert _shape(slide, "Quote").text_frame.text == "Saved us a week"
    assert _shape(slide, "Attribution").text_frame.text == "\u2014 Jane, CFO"


def test_the_title_slide_shows_its_subtitle_and_a_closing_its_lines() -> None:
    deck = _open(_built("clean")[0])
    assert _shape(deck.slides[0], "Title").text_frame.text == "Annual review"
    assert _shape(deck.slides[0], "Subtitle").text_frame.text == "Where we stand"
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
    assert str(deck.slides[0].background.fill.fore_color.rgb) == "0F172A"
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
