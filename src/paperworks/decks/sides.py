"""Whether a slide's content has two sides (a comparison, before/after, pros/cons, X vs Y), and
which bullets go on which side.

The builder shows a `two_columns` slide in two columns only when its content has two sides, and
the offline planner asks for two columns only then: columns that merely split a list in half read
as two unrelated lists.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

# Wording that announces two sides, in the languages decks are written in. Matched on the
# casefolded title and bullets.
_TWO_SIDED = re.compile(
    r"\b(?:vs\.?|versus|compar\w*|contrast\w*|side[- ]by[- ]side"
    r"|pros?\s*(?:and|&|/)\s*cons?|before\s*(?:and|&|/)\s*after|then\s*(?:and|&|/)\s*now"
    r"|advantages?\s+(?:and|&)\s+disadvantages?|strengths?\s+(?:and|&)\s+weaknesses?"
    r"|benefits?\s+(?:and|&)\s+(?:risks?|drawbacks?|costs?)|on the other hand"
    r"|old\s*(?:and|&|/)\s*new|today\s*(?:and|&|/)\s*tomorrow|problems?\s*(?:and|&|/)\s*solutions?"
    r"|myths?\s*(?:and|&|/)\s*facts?|current\s*(?:and|&|/)\s*future|as-is\s*(?:and|&|/)\s*to-be"
    r"|vergleich\w*|gegenüber|vor-?\s*und\s+nachteile|vorher\s*(?:und|/)\s*nachher"
    r"|comparaison|avantages?\s+et\s+inconvénients?|avant\s*(?:et|/)\s*après|par rapport à"
    r"|comparación|ventajas\s+y\s+desventajas|antes\s*(?:y|/)\s*después|frente a"
    r"|comparação|vantagens\s+e\s+desvantagens|antes\s*(?:e|/)\s*depois"
    r"|confronto|pro\s+e\s+contro|vantaggi\s+e\s+svantaggi|prima\s*(?:e|/)\s*dopo)\b"
    r"|对比|比较|比較|优缺点|優缺點|优点与缺点|利弊|前后对比|メリットとデメリット|長所と短所"
)
# "Pros: cheap" — a short label before a colon names the side a bullet is on.
_LABEL = re.compile("^\\s*([^:\uff1a]{1,30})[:\uff1a]\\s*\\S")  # ASCII or full-width colon
_MAX_LABEL_WORDS = 4


def two_sides(title: str, bullets: Sequence[str]) -> tuple[list[str], list[str]] | None:
    """The bullets as (left, right) when the content has two sides, each side non-empty; None
    when it has not (or there are fewer than two bullets).

    Bullets labelled with exactly two labels in two runs ("Before: ...", "After: ...") split where
    the label changes; other two-sided content splits in half, the first half on the left."""
    items = [bullet for bullet in bullets if bullet.strip()]
    if len(items) < 2:
        return None
    text = " ".join([title, *items]).casefold()
    labelled = _split_by_label(items)
    if labelled is not None:
        left, right, labels = labelled
        if _TWO_SIDED.search(text) or _TWO_SIDED.search(labels):
            return left, right
    if not _TWO_SIDED.search(text):
        return None
    half = math.ceil(len(items) / 2)
    return items[:half], items[half:]


def _split_by_label(items: list[str]) -> tuple[list[str], list[str], str] | None:
    """Items labelled with two labels in two runs, split where the label changes, with the
    labels as "<first> and <second>"; None for anything else."""
    labels = []
    for item in items:
        match = _LABEL.match(item)
        if match is None or len(match.group(1).split()) > _MAX_LABEL_WORDS:
            return None
        labels.append(match.group(1).strip().casefold())
    runs = [label for n, label in enumerate(labels) if not n or label != labels[n - 1]]
    if len(runs) != 2 or runs[0] == runs[1]:
        return None
    cut = labels.index(runs[1])
    return items[:cut], items[cut:], f"{runs[0]} and {runs[1]}"
