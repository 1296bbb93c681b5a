"""Text measurement for slides with real font metrics: fonts resolved to files, words wrapped into
lines for a box, the height those lines take, and the largest size at which text fits a box.

Units: sizes in points, boxes in EMU (python-pptx's unit: 12,700 per point, 914,400 per inch).
Widths are sums of glyph advances measured with Pillow from the font file the slide names, or a
bundled DejaVu face (wider than the usual presentation fonts, so a fit stays a fit) when that file
is not on this machine. Glyphs a font lacks (CJK in DejaVu) count as one em each.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from paperworks.kit import bundled_fonts

EMU_PER_PT = 12700
EMU_PER_INCH = 914400
SLIDE_WIDTH = 12192000  # 13.333 in: 16:9
SLIDE_HEIGHT = 6858000  # 7.5 in

TITLE_MIN_PT = 24.0
BODY_MIN_PT = 14.0

BUNDLED_FONTS = bundled_fonts.FONTS_DIR

# Measured at a large size, where hinting no longer rounds advances, then scaled linearly.
_REFERENCE_PX = 1000
# Small enough to render cheaply when telling a real glyph from the font's .notdef box.
_PROBE_PX = 48
# A private-use code point no text font maps: what it draws is the font's .notdef glyph.
_UNMAPPED = "\U0010fffd"
_MISSING_GLYPH_EM = 1.0
_EPSILON = 1e-6

_SYSTEM_FONT_DIRS = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".fonts",
    Path.home() / ".local/share/fonts",
    Path("/Library/Fonts"),
    Path("/System/Library/Fonts"),
    Path("C:/Windows/Fonts"),
)
_FONT_SUFFIXES = {".ttf", ".otf", ".ttc"}

# Family -> (regular files, bold files), the family's own files first, then a metric-compatible
# stand-in (Liberation, Carlito, Gelasio) that measures the same.
_FAMILY_FILES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "dejavu sans": (("DejaVuSans.ttf",), ("DejaVuSans-Bold.ttf",)),
    "dejavu serif": (("DejaVuSerif.ttf",), ("DejaVuSerif-Bold.ttf",)),
    "arial": (
        ("arial.ttf", "Arial.ttf", "LiberationSans-Regular.ttf", "Arimo-Regular.ttf"),
        ("arialbd.ttf", "Arial Bold.ttf", "LiberationSans-Bold.ttf", "Arimo-Bold.ttf"),
    ),
    "liberation sans": (("LiberationSans-Regular.ttf",), ("LiberationSans-Bold.ttf",)),
    "calibri": (
        ("calibri.ttf", "Calibri.ttf", "Carlito-Regular.ttf"),
        ("calibrib.ttf", "Calibri Bold.ttf", "Carlito-Bold.ttf"),
    ),
    "georgia": (
        ("georgia.ttf", "Georgia.ttf", "Gelasio-Regular.ttf"),
        ("georgiab.ttf", "Georgia Bold.ttf", "Gelasio-Bold.ttf"),
    ),
    "times new roman": (
        ("times.ttf", "Times New Roman.ttf", "LiberationSerif-Regular.ttf", "Tinos-Regular.ttf"),
        ("timesbd.ttf", "Times New Roman Bold.ttf", "LiberationSerif-Bold.ttf", "Tinos-Bold.ttf"),
    ),
    "liberation serif": (("LiberationSerif-Regular.ttf",), ("LiberationSerif-Bold.ttf",)),
}
_SERIF_FAMILIES = {
    "georgia",
    "times new roman",
    "times",
    "cambria",
    "garamond",
    "palatino",
    "palatino linotype",
    "book antiqua",
    "dejavu serif",
    "liberation serif",
    "noto serif",
}

# Characters that cannot live in slide XML or only confuse a renderer.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def pt_to_emu(points: float) -> int:
    return round(points * EMU_PER_PT)


def emu_to_pt(emu: int) -> float:
    return emu / EMU_PER_PT


def inches(value: float) -> int:
    return round(value * EMU_PER_INCH)


def normalize(text: str) -> str:
    """Text as a slide shows it: one line, single spaces, nothing XML cannot hold. Measure and
    write this, so what was measured is what is drawn."""
    return " ".join(_UNWRITABLE.sub("", text).split())


def is_wide(char: str) -> bool:
    """A full-width character (CJK): a line may break before or after it."""
    return unicodedata.east_asian_width(char) in ("W", "F")


# -- fonts ----------------------------------------------------------------------------------------


def is_serif(family: str) -> bool:
    key = family.strip().lower()
    return key in _SERIF_FAMILIES or ("serif" in key and "sans" not in key)


def font_file(family: str, *, bold: bool = False) -> Path:
    """The file that draws `family` here, else the bundled DejaVu face of its kind and weight."""
    return _font_file(family.strip().lower(), bold)


@lru_cache(maxsize=64)
def _font_file(key: str, bold: bool) -> Path:
    regular, heavy = _FAMILY_FILES.get(key, _guessed_file_names(key))
    installed = _installed_fonts()
    for name in heavy if bold else regular:
        found = installed.get(name.lower())
        if found is not None:
            return found
    # The regular face stands in for no bold one: bold is wider, so it would under-measure.
    stem = "DejaVuSerif" if is_serif(key) else "DejaVuSans"
    return BUNDLED_FONTS / f"{stem}{'-Bold' if bold else ''}.ttf"


def _guessed_file_names(key: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    joined = key.replace(" ", "")
    return (
        (f"{joined}.ttf", f"{joined}-regular.ttf", f"{joined}.otf", f"{joined}-regular.otf"),
        (f"{joined}bd.ttf", f"{joined}-bold.ttf", f"{joined}-bold.otf"),
    )


@lru_cache(maxsize=1)
def _installed_fonts() -> dict[str, Path]:
    """Font files by lower-cased file name; the first directory that has a name wins."""
    found: dict[str, Path] = {}
    for directory in _SYSTEM_FONT_DIRS:
        try:
            paths = sorted(directory.rglob("*")) if directory.is_dir() else []
        except OSError:
            continue
        for path in paths:
            if path.suffix.lower() in _FONT_SUFFIXES:
                found.setdefault(path.name.lower(), path)
    return found


class FontFace:
    """Advances of one font file's glyphs, in ems, measured once per character."""

    def __init__(self, path: Path) -> None:
        self.path = path
        layout = ImageFont.Layout.BASIC  # the same advances whether or not libraqm is present
        self._font = ImageFont.truetype(str(path), _REFERENCE_PX, layout_engine=layout)
        self._probe = ImageFont.truetype(str(path), _PROBE_PX, layout_engine=layout)
        self._notdef_shape = self._shape(_UNMAPPED)
        self._notdef_pixels = self._pixels(_UNMAPPED)
        self._ems: dict[str, float] = {}
        # FreeType faces are not safe to use from two threads at once; builds run in threads.
        self._lock = threading.RLock()

    def em(self, char: str) -> float:
        width = self._ems.get(char)
        if width is None:
            with self._lock:
                width = self._font.getlength(char) / _REFERENCE_PX
                if not self.has_glyph(char):
                    width = max(width, _MISSING_GLYPH_EM)
            self._ems[char] = width
        return width

    def ems(self, text: str) -> float:
        """Advance of `text` in ems. Kerning is left out: it almost always narrows text."""
        return sum(self.em(char) for char in text)

    def has_glyph(self, char: str) -> bool:
        """Whether the font draws `char` itself rather than its .notdef box (Pillow has no
        cmap lookup, so the two are compared: advance and box first, pixels only on a tie)."""
        if unicodedata.category(char) in ("Zs", "Mn", "Me", "Cf"):
            return True  # spacing and marks draw nothing, so they never look like .notdef
        with self._lock:
            if self._shape(char) != self._notdef_shape:
                return True
            return self._pixels(char) != self._notdef_pixels

    def _shape(self, char: str) -> tuple[float, tuple[float, float, float, float]]:
        return self._probe.getlength(char), self._probe.getbbox(char)

    def _pixels(self, char: str) -> bytes:
        canvas = Image.new("L", (_PROBE_PX * 3, _PROBE_PX * 3))
        ImageDraw.Draw(canvas).text((0, 0), char, font=self._probe, fill=255)
        return canvas.tobytes()


@lru_cache(maxsize=32)
def _face_at(path: Path) -> FontFace:
    return FontFace(path)


def font_face(family: str, *, bold: bool = False) -> FontFace:
    return _face_at(font_file(family, bold=bold))


# -- styles and measurement -----------------------------------------------------------------------


@dataclass(frozen=True)
class TextStyle:
    """How a block of paragraphs is set. Spacing is exact (points, scaled from the size), so the
    height of wrapped text does not depend on the renderer's idea of a line."""

    family: str
    bold: bool = False
    line_spacing: float = 1.2  # line pitch, in ems
    paragraph_gap: float = 0.0  # space before every paragraph but the first, in ems
    indent: float = 0.0  # hanging indent that makes room for a bullet or number, in ems

    @property
    def face(self) -> FontFace:
        return font_face(self.family, bold=self.bold)

    def pitch(self, size: float) -> float:
        """Line pitch in points, rounded to what the file stores (hundredths of a point)."""
        return round(size * self.line_spacing, 2)

    def gap(self, size: float) -> float:
        return round(size * self.paragraph_gap, 2)

    def indent_emu(self, size: float) -> int:
        return pt_to_emu(size * self.indent)


@dataclass(frozen=True)
class Measure:
    size: float
    lines: tuple[tuple[str, ...], ...]  # per paragraph, its wrapped lines
    height: int  # EMU


@dataclass(frozen=True)
class Fit:
    size: float
    lines: tuple[tuple[str, ...], ...]
    height: int  # EMU
    fits: bool  # False: `size` is the minimum, and the text is still taller than the box


def text_width(text: str, style: TextStyle, size: float) -> float:
    """Width of `text` on one line, in points."""
    return style.face.ems(text) * size


@dataclass(frozen=True)
class _Word:
    """An unbreakable piece of text: a word, or one full-width character."""

    start: int
    end: int
    ems: float
    spaced: bool  # a space separates it from the piece before


def _spans(text: str) -> Iterator[tuple[int, int]]:
    start: int | None = None
    for position, char in enumerate(text):
        if char == " " or is_wide(char):
            if start is not None:
                yield start, position
                start = None
            if char != " ":
                yield position, position + 1
        elif start is None:
            start = position
    if start is not None:
        yield start, len(text)


@lru_cache(maxsize=4096)
def _words(text: str, path: Path) -> tuple[_Word, ...]:
    # Fitting wraps the same text at many sizes: the pieces and their widths in ems are kept.
    face = _face_at(path)
    return tuple(
        _Word(start, end, face.ems(text[start:end]), start > 0 and text[start - 1] == " ")
        for start, end in _spans(text)
    )


def wrap_spans(text: str, style: TextStyle, size: float, width: int) -> list[tuple[int, int]]:
    """Where `text` breaks into lines `width` EMU wide: (start, end) of each line in `text`.
    Greedy, like a slide renderer: a word that fits no line is broken between characters."""
    face = style.face
    room = emu_to_pt(width) / size + _EPSILON  # in ems, the unit the words are measured in
    space = face.em(" ")
    lines: list[tuple[int, int]] = []
    line: tuple[int, int] | None = None
    line_width = 0.0
    for word in _words(text, face.path):
        if line is not None:
            joint = space if word.spaced else 0.0
            if line_width + joint + word.ems <= room:
                line, line_width = (line[0], word.end), line_width + joint + word.ems
                continue
            lines.append(line)
            line = None
        if word.ems <= room:
            line, line_width = (word.start, word.end), word.ems
            continue
        position = word.start
        while position < word.end:
            cut, taken = position, 0.0
            while cut < word.end:
                advance = face.em(text[cut])
                if taken + advance > room and cut > position:
                    break
                taken += advance
                cut += 1
            if cut < word.end:
                lines.append((position, cut))
            else:
                line, line_width = (position, word.end), taken
            position = cut
    if line is not None:
        lines.append(line)
    return lines or [(0, 0)]  # an empty paragraph still takes a line


def wrap(text: str, style: TextStyle, size: float, width: int) -> list[str]:
    """`text` as the lines it takes in a box `width` EMU wide at `size` points."""
    return [text[start:end] for start, end in wrap_spans(text, style, size, width)]


def text_height(line_counts: Sequence[int], style: TextStyle, size: float) -> int:
    """EMU taken by paragraphs of these many lines each, set in `style` at `size`."""
    if not line_counts:
        return 0
    points = sum(line_counts) * style.pitch(size) + (len(line_counts) - 1) * style.gap(size)
    return math.ceil(points * EMU_PER_PT - _EPSILON)


def measure(paragraphs: Sequence[str], style: TextStyle, size: float, width: int) -> Measure:
    """Paragraphs wrapped for a box `width` EMU wide (less the hanging indent) and their height."""
    line_width = width - style.indent_emu(size)
    lines = tuple(tuple(wrap(text, style, size, line_width)) for text in paragraphs)
    return Measure(size, lines, text_height([len(each) for each in lines], style, size))


def sizes_between(max_pt: float, min_pt: float, step: float = 1.0) -> list[float]:
    """Candidate sizes, largest first, ending exactly at `min_pt`."""
    sizes: list[float] = []
    size = max_pt
    while size > min_pt + _EPSILON:
        sizes.append(size)
        size -= step
    sizes.append(min_pt)
    return sizes


def fit_text(
    paragraphs: Sequence[str],
    style: TextStyle,
    width: int,
    height: int,
    *,
    max_pt: float,
    min_pt: float,
    step: float = 1.0,
) -> Fit:
    """The largest size from `max_pt` down to `min_pt` (by `step`) at which the paragraphs fit a
    box of `width` x `height` EMU; at `min_pt` with `fits=False` when none does."""
    if max_pt < min_pt:
        raise ValueError(f"max_pt {max_pt} is below min_pt {min_pt}")
    result: Measure | None = None
    for size in sizes_between(max_pt, min_pt, step):
        result = measure(paragraphs, style, size, width)
        if result.height <= height:
            return Fit(result.size, result.lines, result.height, fits=True)
    assert result is not None
    return Fit(result.size, result.lines, result.height, fits=False)
