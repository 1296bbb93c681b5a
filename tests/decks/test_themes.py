"""Themes: what there is, how one is chosen, the shapes a treatment draws, the preview."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image, ImageColor

from paperworks.decks.text_fit import SLIDE_HEIGHT, SLIDE_WIDTH, inches
from paperworks.decks.themes import (
    DEFAULT_THEME,
    STATEMENT_SUBTITLE,
    STATEMENT_TITLE,
    THEMES,
    Rect,
    Theme,
    get_theme,
    header_accents,
    palette,
    statement_accents,
    theme_preview_png,
)

HEX = re.compile(r"^#[0-9A-F]{6}$")


def test_there_are_at_least_three_distinct_themes_and_a_default() -> None:
    assert len(THEMES) >= 3
    assert DEFAULT_THEME in THEMES
    assert len({(t.background, t.accent, t.title_font) for t in THEMES.values()}) == len(THEMES)
    assert len({t.treatment for t in THEMES.values()}) >= 3
    assert all(name == theme.name for name, theme in THEMES.items())


@pytest.mark.parametrize("theme", THEMES.values(), ids=THEMES.keys())
def test_a_theme_s_colours_are_hex_and_its_text_stands_out(theme: Theme) -> None:
    colours = (theme.background, theme.surface, theme.text, theme.muted, theme.accent)
    assert all(HEX.match(colour) for colour in colours)
    assert _contrast(theme.text, theme.background) >= 7
    assert _contrast(theme.muted, theme.background) >= 3


def test_get_theme_names_the_valid_themes_when_asked_for_another() -> None:
    assert get_theme("midnight") is THEMES["midnight"]
    with pytest.raises(ValueError, match="clean") as raised:
        get_theme("neon")
    assert all(name in str(raised.value) for name in THEMES)


def test_palette_is_background_accent_text() -> None:
    theme = THEMES["paper"]
    assert palette(theme) == (theme.background, theme.accent, theme.text)


@pytest.mark.parametrize("theme", THEMES.values(), ids=THEMES.keys())
def test_accents_stay_on_the_slide(theme: Theme) -> None:
    tall_title = Rect(STATEMENT_TITLE.left, 0, STATEMENT_TITLE.width, STATEMENT_TITLE.bottom)
    accents = [
        *statement_accents(theme, STATEMENT_TITLE, STATEMENT_SUBTITLE),
        *statement_accents(theme, tall_title, None),
        *header_accents(theme, Rect(inches(0.7), inches(0.45), inches(11.9), inches(2.3))),
    ]
    assert accents
    for accent in accents:
        box = accent.rect
        assert box.left >= 0
        assert box.top >= 0
        assert box.width > 0
        assert box.height > 0
        assert box.right <= SLIDE_WIDTH
        assert box.bottom <= SLIDE_HEIGHT


@pytest.mark.parametrize("theme", THEMES.values(), ids=THEMES.keys())
def test_the_preview_is_a_16_9_png_in_the_theme_s_colours(theme: Theme) -> None:
    data = theme_preview_png(theme)
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert image.size == (640, 360)
    colours = {colour for _, colour in image.convert("RGB").getcolors(640 * 360) or []}
    assert ImageColor.getrgb(theme.background) in colours
    assert ImageColor.getrgb(theme.accent) in colours
    # The title is drawn: some pixels are (close to) the text colour.
    text = ImageColor.getrgb(theme.text)
    assert any(
        sum(abs(a - b) for a, b in zip(colour, text, strict=True)) < 30 for colour in colours
    )


def test_the_preview_takes_a_width() -> None:
    image = Image.open(io.BytesIO(theme_preview_png(THEMES[DEFAULT_THEME], width=320)))
    assert image.size == (320, 180)


def _contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two colours."""

    def luminance(colour: str) -> float:
        channels = [value / 255 for value in ImageColor.getrgb(colour)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)
