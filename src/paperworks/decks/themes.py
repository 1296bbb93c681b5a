"""Deck themes: colours, fonts and an accent treatment, the shapes each treatment draws on a
title slide and under a content slide's title, and a PNG preview of a theme's title slide.

The builder and the preview share the title slide's geometry and styles defined here, so the
preview shows what a deck's first slide looks like.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from PIL import Image, ImageDraw, ImageFont

from paperworks.decks.text_fit import (
    BODY_MIN_PT,
    EMU_PER_PT,
    SLIDE_HEIGHT,
    SLIDE_WIDTH,
    TITLE_MIN_PT,
    TextStyle,
    fit_text,
    inches,
)


class Treatment(StrEnum):
    bar = "bar"  # a vertical accent bar beside the title
    band = "band"  # the title on a full-width band of the surface colour, an accent line below it
    underline = "underline"  # a short accent rule under the title


@dataclass(frozen=True)
class Theme:
    name: str
    label: str
    background: str  # colours are "#RRGGBB"
    surface: str  # panels, bands and section slides
    text: str
    muted: str  # subtitles, attributions
    accent: str  # the treatment, bullets and numbers
    title_font: str
    body_font: str
    title_bold: bool
    treatment: Treatment


THEMES: dict[str, Theme] = {
    theme.name: theme
    for theme in (
        Theme(
            name="clean",
            label="Clean",
            background="#FFFFFF",
            surface="#F1F5F9",
            text="#0F172A",
            muted="#475569",
            accent="#2563EB",
            title_font="Calibri",
            body_font="Calibri",
            title_bold=True,
            treatment=Treatment.bar,
        ),
        Theme(
            name="midnight",
            label="Midnight",
            background="#0F172A",
            surface="#1E293B",
            text="#F1F5F9",
            muted="#94A3B8",
            accent="#38BDF8",
            title_font="Arial",
            body_font="Arial",
            title_bold=True,
            treatment=Treatment.underline,
        ),
        Theme(
            name="paper",
            label="Paper",
            background="#FBF7F0",
            surface="#F0E6D6",
            text="#3B2F2A",
            muted="#7A6656",
            accent="#B4532A",
            title_font="Georgia",
            body_font="Georgia",
            title_bold=False,
            treatment=Treatment.band,
        ),
    )
}
DEFAULT_THEME = "clean"


def get_theme(name: str) -> Theme:
    try:
        return THEMES[name]
    except KeyError:
        raise ValueError(f"No theme {name!r}; there are: {', '.join(sorted(THEMES))}.") from None


def palette(theme: Theme) -> tuple[str, str, str]:
    """(background, accent, text): the colours a picture made to match the deck may use."""
    return theme.background, theme.accent, theme.text


# -- geometry -------------------------------------------------------------------------------------


class Rect(NamedTuple):
    """A box on the slide, in EMU."""

    left: int
    top: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height


class Accent(NamedTuple):
    rect: Rect
    colour: str


_STATEMENT_LEFT = inches(0.9)
_STATEMENT_WIDTH = SLIDE_WIDTH - 2 * _STATEMENT_LEFT
# The title sits on a line (bottom-anchored) with its subtitle hanging below: long titles grow up.
STATEMENT_TITLE = Rect(_STATEMENT_LEFT, inches(1.45), _STATEMENT_WIDTH, inches(2.75))
STATEMENT_SUBTITLE = Rect(_STATEMENT_LEFT, inches(4.6), _STATEMENT_WIDTH, inches(2.3))
TITLE_SLIDE_TITLE_PT = 54.0
TITLE_SLIDE_SUBTITLE_PT = 28.0


def title_style(theme: Theme) -> TextStyle:
    return TextStyle(theme.title_font, bold=theme.title_bold, line_spacing=1.1)


def subtitle_style(theme: Theme) -> TextStyle:
    return TextStyle(theme.body_font, line_spacing=1.25, paragraph_gap=0.3)


def statement_accents(theme: Theme, title: Rect, subtitle: Rect | None) -> list[Accent]:
    """The treatment on a title, section or closing slide, given where its title's text and
    subtitle's text actually are (`STATEMENT_*` boxes narrowed to their lines)."""
    if theme.treatment is Treatment.bar:
        bottom = subtitle.bottom if subtitle is not None else title.bottom
        bar = Rect(inches(0.5), title.top, inches(0.14), bottom - title.top)
        return [Accent(bar, theme.accent)]
    if theme.treatment is Treatment.underline:
        rule = Rect(title.left, title.bottom + inches(0.14), inches(1.8), inches(0.08))
        return [Accent(rule, theme.accent)]
    band_top = max(0, title.top - inches(0.4))
    band_bottom = STATEMENT_TITLE.bottom + inches(0.2)
    return [
        Accent(Rect(0, band_top, SLIDE_WIDTH, band_bottom - band_top), theme.surface),
        Accent(Rect(0, band_bottom, SLIDE_WIDTH, inches(0.06)), theme.accent),
    ]


def header_accents(theme: Theme, title: Rect) -> list[Accent]:
    """The treatment of a content slide's title box."""
    if theme.treatment is Treatment.bar:
        bar = Rect(inches(0.35), title.top + inches(0.12), inches(0.1), title.height - inches(0.24))
        return [Accent(bar, theme.accent)]
    if theme.treatment is Treatment.underline:
        rule = Rect(title.left, title.bottom + inches(0.08), inches(1.2), inches(0.06))
        return [Accent(rule, theme.accent)]
    band_bottom = title.bottom + inches(0.12)
    return [
        Accent(Rect(0, 0, SLIDE_WIDTH, band_bottom), theme.surface),
        Accent(Rect(0, band_bottom, SLIDE_WIDTH, inches(0.05)), theme.accent),
    ]


# -- preview --------------------------------------------------------------------------------------

_SAMPLE_TITLE = "Annual strategy review"
_SAMPLE_SUBTITLE = "Where we stand, where we go next"


def theme_preview_png(theme: Theme, width: int = 640) -> bytes:
    """A 16:9 PNG of a title slide in `theme`, laid out and measured as the builder does it."""
    height = round(width * SLIDE_HEIGHT / SLIDE_WIDTH)
    scale = width / SLIDE_WIDTH  # pixels per EMU
    image = Image.new("RGB", (width, height), theme.background)
    draw = ImageDraw.Draw(image)

    title_fit = fit_text(
        [_SAMPLE_TITLE],
        title_style(theme),
        STATEMENT_TITLE.width,
        STATEMENT_TITLE.height,
        max_pt=TITLE_SLIDE_TITLE_PT,
        min_pt=TITLE_MIN_PT,
    )
    subtitle_fit = fit_text(
        [_SAMPLE_SUBTITLE],
        subtitle_style(theme),
        STATEMENT_SUBTITLE.width,
        STATEMENT_SUBTITLE.height,
        max_pt=TITLE_SLIDE_SUBTITLE_PT,
        min_pt=BODY_MIN_PT,
    )
    title_box = STATEMENT_TITLE._replace(
        top=STATEMENT_TITLE.bottom - title_fit.height, height=title_fit.height
    )
    subtitle_box = STATEMENT_SUBTITLE._replace(height=subtitle_fit.height)
    for accent in statement_accents(theme, title_box, subtitle_box):
        box = accent.rect
        corners = [box.left * scale, box.top * scale, box.right * scale, box.bottom * scale]
        draw.rectangle(corners, fill=accent.colour)

    title_lines, subtitle_lines = title_fit.lines[0], subtitle_fit.lines[0]
    _draw_lines(draw, title_box, title_lines, title_style(theme), title_fit.size, scale, theme.text)
    subtitle_font = subtitle_style(theme)
    _draw_lines(
        draw, subtitle_box, subtitle_lines, subtitle_font, subtitle_fit.size, scale, theme.muted
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _draw_lines(
    draw: ImageDraw.ImageDraw,
    box: Rect,
    lines: tuple[str, ...],
    style: TextStyle,
    size: float,
    scale: float,
    colour: str,
) -> None:
    pitch = style.pitch(size) * EMU_PER_PT * scale
    font = ImageFont.truetype(str(style.face.path), max(1, round(size * EMU_PER_PT * scale)))
    for number, line in enumerate(lines):
        # A line's baseline sits about four fifths down its pitch, as in a slide renderer.
        baseline = box.top * scale + pitch * (number + 0.8)
        draw.text((box.left * scale, baseline), line, font=font, fill=colour, anchor="ls")
