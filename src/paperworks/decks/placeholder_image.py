"""The picture a slide gets when no provider made one: drawn locally with Pillow in the deck's
palette, with the slide's title across it. Blocking work: callers run it in a worker thread.

Latin, Greek and Cyrillic titles use the bundled DejaVu font (`fonts/`). DejaVu has no Chinese,
Japanese or Korean, so a title with those scripts uses a CJK font found on the system (Noto Sans
CJK from Debian's `fonts-noto-cjk`, else WenQuanYi or Droid Sans Fallback): 20 MB is too much to
ship in the package. Without one, such a title is drawn with DejaVu and its CJK characters show
as boxes, and a warning is logged.
"""

from __future__ import annotations

import hashlib
import io
import re
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
# (path, face index in a collection): Noto's collection holds JP, KR, SC, TC, HK in that order.
_CJK_FONTS = (
    (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"), 2),
    (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"), 2),
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"), 0),
)
_JAPANESE_FACE = 0  # kana in the title: Noto's Japanese face
_CJK = re.compile("[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
_KANA = re.compile("[\u3040-\u30ff]")
_DEFAULT_PALETTE = ((255, 255, 255), (37, 99, 235), (15, 23, 42))
_SMALLEST = 8  # px: a long word shrinks down to this rather than break
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


@lru_cache(maxsize=1)
def _cjk_font() -> tuple[Path, int] | None:
    found = next(((path, face) for path, face in _CJK_FONTS if path.is_file()), None)
    if found is None:
        log.warning("placeholder_cjk_font_missing", looked_in=[str(p) for p, _ in _CJK_FONTS])
    return found


def _font(size: int, text: str = "") -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The font for `text` at `size`: DejaVu, or a CJK font for a title in those scripts."""
    # Not cached: placeholders are drawn in worker threads, and a font object is not shared.
    cjk = _cjk_font() if _CJK.search(text) else None
    if cjk is not None:
        path, face = cjk
        if _KANA.search(text) and path.suffix == ".ttc" and "Noto" in path.name:
            face = _JAPANESE_FACE
        try:
            return ImageFont.truetype(str(path), size, index=face)
        except OSError:
            pass
    primary = _font_path()
    if primary is not None:
        try:
            return ImageFont.truetype(str(primary), size)
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


def _broken_word(draw: ImageDraw.ImageDraw, text: str, font: Any, max_width: float) -> bool:
    """Whether a word of a spaced script is wider than the line, so `_wrap` would break it: the
    font shrinks instead ("performance" never becomes "performanc" / "e"). CJK may break
    anywhere."""
    return any(
        draw.textlength(word, font=font) > max_width
        for word in text.split(" ")
        if word and not _CJK.search(word)
    )


def _layout(
    draw: ImageDraw.ImageDraw, text: str, max_width: float, max_height: float, size: int
) -> tuple[Any, list[str], int]:
    """The biggest font (down to a legible floor) that fits; past the floor, an ellipsis."""
    floor = max(10, size // 3)
    while True:
        font = _font(size, text)
        lines = _wrap(draw, text, font, max_width)
        line_height = round(size * 1.25)
        broken = _broken_word(draw, text, font, max_width)
        if (len(lines) * line_height <= max_height or size <= floor) and not broken:
            break
        if size <= _SMALLEST:  # a word too long for any legible size breaks after all
            break
        # Below the floor only for a word that would break; then an ellipsis ends the text.
        size = max(floor if not broken else _SMALLEST, int(size * 0.85))
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
