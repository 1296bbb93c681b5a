"""The picture a slide gets when no provider made one: drawn locally with Pillow in the deck's
palette, with the slide's title across it (the bundled DejaVu font in `fonts/`, so any script
renders). Blocking work: callers run it in a worker thread.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops, ImageColor, ImageDraw, ImageFont

from paperworks.kit import bundled_fonts
from paperworks.kit.logging import get_logger
from paperworks.llm.images import GeneratedImage

log = get_logger(__name__)

PLACEHOLDER = "placeholder"  # the `provider` of a placeholder picture
_FONTS = (
    bundled_fonts.SANS_BOLD,
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
)
_DEFAULT_PALETTE = ((255, 255, 255), (37, 99, 235), (15, 23, 42))
_MAX_TITLE_CHARS = 300


def _rgb(value: str, default: tuple[int, int, int]) -> tuple[int, int, int]:
    for candidate in (value, f"#{value}"):
        try:
            r, g, b, *_ = ImageColor.getrgb(candidate)
        except (ValueError, TypeError):
            continue
        return r, g, b
    return default


@lru_cache(maxsize=1)
def _font_path() -> Path | None:
    return next((path for path in _FONTS if path.is_file()), None)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Not cached: placeholders are drawn in worker threads, and a font object is not shared.
    path = _font_path()
    if path is not None:
        try:
            return ImageFont.truetype(str(path), size)
        except OSError:
            pass
    return ImageFont.load_default(size=size)


def _clean_title(title: str) -> str:
    # Control, format and surrogate characters either render as nothing or make Pillow raise.
    text = "".join(ch for ch in title if not unicodedata.category(ch).startswith("C"))
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TITLE_CHARS else text[: _MAX_TITLE_CHARS - 1] + "…"


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Any, max_width: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        # A word wider than the line (or CJK, written without spaces) breaks between characters.
        pieces = [word]
        if draw.textlength(word, font=font) > max_width:
            pieces, piece = [], ""
            for ch in word:
                if piece and draw.textlength(piece + ch, font=font) > max_width:
                    pieces.append(piece)
                    piece = ""
                piece += ch
            pieces.append(piece)
        for i, piece in enumerate(pieces):
            joined = piece if not line else f"{line}{'' if i else ' '}{piece}"
            if line and draw.textlength(joined, font=font) > max_width:
                lines.append(line)
                line = piece
            else:
                line = joined
    return [*lines, line] if line else lines


def _layout(
    draw: ImageDraw.ImageDraw, text: str, max_width: float, max_height: float, size: int
) -> tuple[Any, list[str], int]:
    """The biggest font (down to a legible floor) that fits; past the floor, an ellipsis."""
    floor = max(10, size // 3)
    while True:
        font = _font(size)
        lines = _wrap(draw, text, font, max_width)
        line_height = round(size * 1.25)
        if len(lines) * line_height <= max_height or size <= floor:
            break
        size = max(floor, int(size * 0.85))
    fitting = max(1, int(max_height // line_height))
    if len(lines) > fitting:
        lines = lines[:fitting]
        last = lines[-1]
        while last and draw.textlength(last + "…", font=font) > max_width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return font, lines, line_height


def placeholder_image(
    title: str, *, palette: tuple[str, str, str], width: int, height: int
) -> bytes:
    """A PNG in the deck's colours `(background, accent, text)` with the title across it.

    The same input always gives the same bytes: shapes are placed by a hash of the title."""
    width, height = _clamped(width, height)
    background = _rgb(palette[0], _DEFAULT_PALETTE[0])
    accent = _rgb(palette[1], _DEFAULT_PALETTE[1])
    ink = _rgb(palette[2], _DEFAULT_PALETTE[2])
    size = (width, height)

    # A diagonal wash from the background into the accent, strongest at the bottom right.
    ramp = Image.linear_gradient("L")
    diagonal = ImageChops.add(ramp.resize(size), ramp.rotate(90).resize(size), scale=2.0)
    wash = diagonal.point([round(v * 0.45) for v in range(256)])
    canvas = Image.composite(
        Image.new("RGB", size, accent), Image.new("RGB", size, background), wash
    )

    overlay = Image.new("RGBA", size, (0, 0, 0, 0))
    shapes = ImageDraw.Draw(overlay)
    seed = hashlib.sha256(title.encode("utf-8", "replace")).digest()
    short = min(width, height)
    for i in range(3):
        cx = seed[i * 3] / 255 * width
        cy = (seed[i * 3 + 1] / 255 * 0.5 + (0.5 if i % 2 else 0)) * height
        radius = short * (0.25 + seed[i * 3 + 2] / 255 * 0.35)
        shapes.ellipse(
            (cx - radius, cy - radius, cx + radius, cy + radius), fill=(*accent, 36 + 12 * i)
        )

    text = _clean_title(title)
    if text:
        draw = ImageDraw.Draw(canvas)
        font, lines, line_height = _layout(
            draw, text, width * 0.78, height * 0.6, max(12, height // 9)
        )
        block = line_height * len(lines)
        top = (height - block) / 2
        # A veil of the background behind the title keeps it legible over the shapes.
        pad = line_height * 0.5
        shapes.rounded_rectangle(
            (width * 0.08, top - pad, width * 0.92, top + block + pad),
            radius=pad,
            fill=(*background, 190),
        )
        rule_top = top + block + pad * 0.4
        shapes.rectangle(
            (width / 2 - short * 0.08, rule_top, width / 2 + short * 0.08, rule_top + short / 90),
            fill=(*accent, 255),
        )
        canvas = Image.alpha_composite(canvas.convert("RGBA"), overlay).convert("RGB")
        draw = ImageDraw.Draw(canvas)
        for n, line in enumerate(lines):
            left, _, right, _ = draw.textbbox((0, 0), line, font=font)
            x = (width - (right - left)) / 2 - left
            draw.text((x, top + n * line_height), line, font=font, fill=ink)
    else:
        canvas = Image.alpha_composite(canvas.convert("RGBA"), overlay).convert("RGB")

    out = io.BytesIO()
    canvas.save(out, "PNG")
    return out.getvalue()


def placeholder_picture(
    title: str, *, palette: tuple[str, str, str], width: int, height: int
) -> GeneratedImage:
    """`placeholder_image` as a picture; never raises: if it cannot be drawn, a plain one."""
    try:
        data = placeholder_image(title, palette=palette, width=width, height=height)
    except Exception as exc:
        log.error("image_placeholder_failed", error=type(exc).__name__)
        return _solid_png(width, height)
    return GeneratedImage(data, "image/png", PLACEHOLDER, *_clamped(width, height))


def _clamped(width: int, height: int) -> tuple[int, int]:
    return min(4096, max(16, width)), min(4096, max(16, height))


def _solid_png(width: int, height: int) -> GeneratedImage:
    width, height = _clamped(width, height)
    out = io.BytesIO()
    Image.new("RGB", (width, height), _DEFAULT_PALETTE[0]).save(out, "PNG")
    return GeneratedImage(out.getvalue(), "image/png", PLACEHOLDER, width, height)
