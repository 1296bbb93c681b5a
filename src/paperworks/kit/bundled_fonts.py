"""The DejaVu faces shipped with Paperworks in `kit/fonts/` (Bitstream Vera licence, beside them).

Shipped rather than found on the machine because they cover Latin, Greek and Cyrillic, so a slide
title or a form value in those scripts renders the same on every install.
"""

from __future__ import annotations

from pathlib import Path

FONTS_DIR = Path(__file__).with_name("fonts")
SANS = FONTS_DIR / "DejaVuSans.ttf"
SANS_BOLD = FONTS_DIR / "DejaVuSans-Bold.ttf"
SERIF = FONTS_DIR / "DejaVuSerif.ttf"
SERIF_BOLD = FONTS_DIR / "DejaVuSerif-Bold.ttf"
