"""The placeholder picture: drawn from any title in the deck's palette, the same every time, and
never an exception, even when it cannot be drawn."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from paperworks.decks import placeholder_image as placeholder
from paperworks.decks.placeholder_image import placeholder_image, placeholder_picture

PALETTE = ("#0F172A", "#38BDF8", "#F1F5F9")


@pytest.mark.parametrize(
    "title",
    [
        "",
        "x" * 500,
        " ".join(["word"] * 100),
        "Ελληνικά: η ανάπτυξη της εταιρείας",
        "Кириллица: рост выручки по регионам",
        "日本語のタイトル 売上の伸び",
        "控制\x00字符\u200b和😀表情\ud800",
    ],
    ids=["empty", "500-chars", "many-words", "greek", "cyrillic", "cjk", "control-and-emoji"],
)
def test_placeholder_draws_any_title(title: str) -> None:
    data = placeholder_image(title, palette=PALETTE, width=1344, height=768)

    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.size) == ("PNG", (1344, 768))
        image.verify()
    assert placeholder_image(title, palette=PALETTE, width=1344, height=768) == data


def test_placeholder_is_branded_by_palette_and_title() -> None:
    first = placeholder_image("Growth", palette=PALETTE, width=400, height=300)

    assert placeholder_image("Hiring", palette=PALETTE, width=400, height=300) != first
    light = ("#FFFFFF", "#2563EB", "#0F172A")
    assert placeholder_image("Growth", palette=light, width=400, height=300) != first
    with Image.open(io.BytesIO(first)) as image:
        assert image.convert("RGB").getpixel((0, 0)) == (15, 23, 42)  # the background's corner


def test_placeholder_survives_odd_palettes_and_sizes() -> None:
    data = placeholder_image("T", palette=("not a colour", "", "38BDF8"), width=0, height=99999)

    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (16, 4096)  # clamped to what a slide could use


def test_the_placeholder_picture_is_a_png_of_the_placeholder_provider() -> None:
    image = placeholder_picture("Growth", palette=PALETTE, width=400, height=300)

    assert (image.provider, image.content_type, image.width, image.height) == (
        "placeholder",
        "image/png",
        400,
        300,
    )
    assert image.data == placeholder_image("Growth", palette=PALETTE, width=400, height=300)


def test_a_placeholder_that_cannot_be_drawn_is_a_plain_picture_not_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> bytes:
        raise MemoryError

    monkeypatch.setattr(placeholder, "placeholder_image", broken)

    image = placeholder_picture("T", palette=PALETTE, width=0, height=768)

    assert (image.provider, image.content_type, image.width, image.height) == (
        "placeholder",
        "image/png",
        16,
        768,
    )
    with Image.open(io.BytesIO(image.data)) as opened:
        assert (opened.format, opened.size) == ("PNG", (16, 768))
        assert opened.convert("RGB").getcolors() == [(16 * 768, (255, 255, 255))]


def test_a_chinese_or_japanese_title_is_drawn_with_a_font_that_has_its_characters() -> None:
    from fontTools.ttLib import TTFont

    from paperworks.decks import placeholder_image as module

    if module._cjk_font() is None:
        pytest.skip("no CJK font on this machine (Debian: fonts-noto-cjk)")
    for title in ("新能源汽车市场分析", "チームの振り返り"):
        font = module._font(40, title)
        path, index = font.path, font.index  # type: ignore[union-attr]
        cmap = TTFont(path, fontNumber=index).getBestCmap()
        assert all(ord(ch) in cmap for ch in title), (title, path)
        assert placeholder_image(title, palette=PALETTE, width=400, height=300)


def test_a_long_word_shrinks_the_font_rather_than_breaking() -> None:
    from PIL import Image, ImageDraw

    from paperworks.decks.placeholder_image import _layout

    draw = ImageDraw.Draw(Image.new("RGB", (300, 300)))
    _, lines, _ = _layout(draw, "Internationalization performance", 180, 200, 60)

    assert " ".join(lines) == "Internationalization performance"
