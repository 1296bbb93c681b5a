"""The decks evaluation set (tests/decks/quality/): its decks built offline, and measured checks.

`build_set()` plans every prompt and pasted document with the offline planner, draws the
placeholder pictures the job would draw (recording every string Pillow draws and the font it uses),
and builds the .pptx. `evaluate()` runs the checks over the whole set; each gives a score and the
failing examples. `python -m tests.decks.deck_quality [out_dir]` is `make preview`: a few decks as
.pptx and, where LibreOffice and pdftoppm are installed, PNG renders of their slides.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

from fontTools.ttLib import TTFont
from PIL import ImageDraw
from pptx import Presentation
from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.oxml.ns import qn
from pptx.presentation import Presentation as PresentationType

from paperworks.decks.offline_planner import offline_plan
from paperworks.decks.placeholder_image import placeholder_image
from paperworks.decks.plan import Layout, OutlineRequest, SlidePlan
from paperworks.decks.pptx_builder import build_deck
from paperworks.decks.themes import THEMES, get_theme, palette
from tests.decks.test_pptx_builder import _needed_height

QUALITY = Path(__file__).parent / "quality"
IMAGE_SIZE = (1024, 1024)  # as paperworks.decks.jobs.IMAGE_SIZE
PREVIEW = ("en-onboarding", "de-vertrieb", "zh-ev", "doc-meeting")


def _set(words: str) -> set[str]:
    return set(words.split())


# Function words: what tells the Latin-script languages apart, and what a title must not end in.
STOP = {
    "en": _set(
        "a an the and or but of to in on at for with from by as is are was were be been it its "
        "this that these those which who what how why when our your their we you they he she "
        "not no do does can will should would has have had than then so if into about over"
    ),
    "de": _set(
        "der die das den dem des ein eine einen einem einer eines und oder aber mit von zu zum "
        "zur im in am an auf für bei aus nach über unter ist sind war wird werden wie was wer "
        "nicht kein keine sich wir ihr sie es dass als auch noch nur vom durch um"
    ),
    "fr": _set(
        "le la les un une des du de et ou mais avec pour par sur dans au aux est sont était "
        "être ce cette ces qui que quoi comment nous vous ils elles il elle ne pas plus se sa "
        "son ses leur leurs en à d l qu"
    ),
    "es": _set(
        "el la los las un una unos unas y o pero con para por en del al de es son era ser "
        "este esta estos estas que qué cómo nosotros ustedes ellos ella no más se su sus "
        "lo como muy entre"
    ),
    "pt": _set(
        "o a os as um uma uns umas e ou mas com para por em no na nos nas do da dos das de é "
        "são era ser este esta estes estas que como nós vocês eles elas não mais se seu sua "
        "seus suas ao aos pelo pela"
    ),
    "it": _set(
        "il lo la i gli le un uno una e o ma con per in nel nella nei nelle del della dei "
        "delle di da dal dalla al alla ai è sono era essere questo questa che come noi voi "
        "loro non più si suo sua suoi sue anche"
    ),
}
CONJUNCTIONS = {
    "en": {"and", "but", "or", "so", "because", "which"},
    "de": {"und", "aber", "oder", "denn", "weil", "sondern"},
    "fr": {"et", "mais", "ou", "donc", "car", "parce"},
    "es": {"y", "pero", "o", "porque", "sino", "e"},
    "pt": {"e", "mas", "ou", "porque", "pois"},
    "it": {"e", "ma", "o", "perché", "però", "quindi"},
    "zh": {"和", "但是", "而且", "或者", "因为", "所以", "以及"},
    "ja": {"そして", "しかし", "でも", "また", "および", "ので"},
}
LATIN = ("en", "de", "fr", "es", "pt", "it")
# Pronouns and question words may end a whole title ("Thank you", "Reporting to IT", "Wer wir
# sind"); articles, prepositions and conjunctions may not.
MAY_END = _set(
    "you it we us they them he she this that these those what who how why when which so not no "
    "can do does will wir ihr sie es was wer wie nous vous ils elles il elle quoi comment "
    "nosotros ustedes ellos ella qué cómo nós vocês eles elas noi voi loro come"
)
# Titles every deck may share: the frame (agenda, closing, an overview) and the two kinds of
# slide a document's summary has when it records them (decisions, action items).
GENERIC_LAYOUTS = {Layout.title, Layout.agenda, Layout.section, Layout.closing}
GENERIC_TITLE = re.compile(
    r"agenda|questions?|fragen|thank|danke|merci|gracias|obrigad|grazie|overview|übersicht|"
    r"überblick|sommaire|vue d'ensemble|resumen|resumo|sommario|panorama|visão geral|"
    r"panoramica|概述|概要|议程|问题|谢谢|目次|質問|ありがとう|"
    r"^(?:decisions|entscheidungen|décisions|decisiones|decisões|decisioni|决定|決定事項|"
    r"action items|aufgaben|actions à mener|tareas pendientes|tarefas|azioni da svolgere|"
    r"待办事项|アクションアイテム)(?: \(|\uff08|$)",
    re.IGNORECASE,
)
_TITLES = (PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")  # noqa: RUF001 - the typographic apostrophe


@dataclass(frozen=True)
class Case:
    id: str
    topic: str
    language: str  # what the deck should be written in (ISO 639-1)
    prompt: str
    slide_count: int
    language_field: str | None = None  # what the request's `language` says, if anything


@dataclass
class Built:
    case: Case
    plan: SlidePlan
    pptx: bytes
    drawn: list[tuple[str, str | None, int]]  # (text, font file, face index) Pillow drew

    @property
    def deck(self) -> PresentationType:
        return Presentation(io.BytesIO(self.pptx))


@dataclass
class Score:
    name: str
    passed: int = 0
    total: int = 0
    failures: list[str] = field(default_factory=list)

    def add(self, ok: bool, example: str) -> None:
        self.total += 1
        if ok:
            self.passed += 1
        else:
            self.failures.append(example)

    @property
    def ratio(self) -> float:
        return self.passed / self.total if self.total else 1.0

    def line(self) -> str:
        return f"{self.name}: {self.passed}/{self.total} ({self.ratio:.0%})".replace("%", " %")


def cases() -> list[Case]:
    prompts = json.loads((QUALITY / "prompts.json").read_text(encoding="utf-8"))
    documents = json.loads((QUALITY / "documents.json").read_text(encoding="utf-8"))
    found = [
        Case(
            p["id"],
            p["topic"],
            p["language"],
            p["prompt"],
            p["slide_count"],
            p.get("language_field"),
        )
        for p in prompts
    ]
    for d in documents:
        text = (QUALITY / "documents" / d["file"]).read_text(encoding="utf-8")
        found.append(Case(d["id"], d["topic"], d["language"], text, d["slide_count"]))
    return found


def build(case: Case, theme: str) -> Built:
    request = OutlineRequest(
        prompt=case.prompt, slide_count=case.slide_count, language=case.language_field
    )
    plan = offline_plan(request)
    colours = palette(get_theme(theme))
    drawn: list[tuple[str, str | None, int]] = []
    original = ImageDraw.ImageDraw.text

    def recording(self: Any, xy: Any, text: Any, *args: Any, **kwargs: Any) -> Any:
        font = kwargs.get("font", args[1] if len(args) > 1 else None)
        drawn.append((str(text), getattr(font, "path", None), getattr(font, "index", 0)))
        return original(self, xy, text, *args, **kwargs)

    images: dict[int, bytes] = {}
    with mock.patch.object(ImageDraw.ImageDraw, "text", recording):
        for slide in plan.slides:
            if slide.layout == Layout.bullets_image:
                # What jobs.py draws when no image provider answers: the slide's title.
                images[slide.index] = placeholder_image(
                    slide.title, palette=colours, width=IMAGE_SIZE[0], height=IMAGE_SIZE[1]
                )
    return Built(case, plan, build_deck(plan, theme=theme, images=images), drawn)


@cache
def build_set() -> tuple[Built, ...]:
    themes = list(THEMES)
    return tuple(build(case, themes[n % len(themes)]) for n, case in enumerate(cases()))


# -- language ------------------------------------------------------------------------------------


def _scripts(text: str) -> tuple[int, int, int, int]:
    """(Latin, Han, kana, other) letters."""
    latin = han = kana = other = 0
    for ch in text:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        if name.startswith("LATIN"):
            latin += 1
        elif name.startswith("CJK"):
            han += 1
        elif name.startswith(("HIRAGANA", "KATAKANA")):
            kana += 1
        else:
            other += 1
    return latin, han, kana, other


def language_verdict(text: str, language: str) -> bool | None:
    """Whether `text` is in `language`; None when it is too short (or too name-like) to judge."""
    latin, han, kana, other = _scripts(text)
    letters = latin + han + kana + other
    if language in ("zh", "ja"):
        if letters < 2:
            return None
        native = han + kana
        if language == "zh" and kana:
            return False
        if native / letters >= 0.5:
            return True
        # Latin letters only: a product or person name ("iPhone", "Li Wei") is not judged.
        words = _WORD.findall(text)
        return None if len(words) <= 2 else False
    if han + kana > letters / 3 and han + kana >= 2:
        return False
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < 4 or all(w[:1].isupper() for w in _WORD.findall(text)):
        return None
    hits = {code: sum(w in STOP[code] for w in words) for code in LATIN}
    best = max(hits.values())
    if best == 0:
        return None
    return hits[language] == best


def _paragraphs(built: Built) -> Iterator[tuple[str, str]]:
    """(where, text) of every paragraph on the slides and in the notes."""
    for number, slide in enumerate(built.deck.slides, start=1):
        for shape in slide.shapes:
            if shape._element.find(qn("p:txBody")) is None:
                continue
            for paragraph in shape.text_frame.paragraphs:
                yield f"{built.case.id} slide {number} {shape.name}", paragraph.text
        if slide.has_notes_slide:
            for paragraph in slide.notes_slide.notes_text_frame.paragraphs:
                yield f"{built.case.id} slide {number} notes", paragraph.text


# -- the checks ----------------------------------------------------------------------------------


def check_language(decks: tuple[Built, ...]) -> Score:
    score = Score("language of text runs")
    for built in decks:
        for where, text in _paragraphs(built):
            verdict = language_verdict(text, built.case.language)
            if verdict is not None:
                score.add(verdict, f"{where} [{built.case.language}]: {text[:80]!r}")
    return score


def check_title_placeholders(decks: tuple[Built, ...]) -> Score:
    score = Score("titles in title placeholders")
    for built in decks:
        for number, slide in enumerate(built.deck.slides, start=1):
            where = f"{built.case.id} slide {number}"
            title = slide.shapes.title
            if title is None or title.placeholder_format.type not in _TITLES:
                score.add(False, f"{where}: no title placeholder")
                continue
            text = title.text_frame.text.strip()
            others = [
                shape.name
                for shape in slide.shapes
                if shape.shape_id != title.shape_id
                and shape._element.find(qn("p:txBody")) is not None
                and shape.text_frame.text.strip() == text
            ]
            ok = bool(text) and not others
            score.add(ok, f"{where}: title {text[:60]!r} empty or also in {others}")
    return score


def check_overflow(decks: tuple[Built, ...]) -> Score:
    score = Score("text boxes that fit (text_fit metrics)")
    for built in decks:
        for number, slide in enumerate(built.deck.slides, start=1):
            for shape in slide.shapes:
                if shape._element.find(qn("p:txBody")) is None:
                    continue
                where = f"{built.case.id} slide {number} {shape.name}"
                frame = shape.text_frame
                available = shape.height - frame.margin_top - frame.margin_bottom
                try:
                    needed = _needed_height(slide, shape)
                except AssertionError as exc:
                    score.add(False, f"{where}: not measurable ({exc})")
                    continue
                slack = 4 * len(frame.paragraphs)  # EMU rounding, as test_pptx_builder allows
                score.add(
                    needed <= available + slack, f"{where}: needs {needed} EMU of {available}"
                )
    return score


def fragment_reason(title: str, language: str) -> str | None:
    words = _WORD.findall(title)
    if language in LATIN:
        if not words:
            return None
        first = title.strip()[:1]
        if first.isalpha() and first.islower():
            return "starts in lowercase"
        if words[0].lower() in CONJUNCTIONS[language]:
            return f"starts with {words[0]!r}"
        last = words[-1].lower()
        if last in STOP[language] and last not in MAY_END and len(words) > 1:
            return f"ends in {words[-1]!r}"
        return None
    stripped = title.strip()
    for conjunction in CONJUNCTIONS[language]:
        if stripped.startswith(conjunction):
            return f"starts with {conjunction!r}"
    tail = stripped.rstrip("。.!！?？")  # noqa: RUF001 - full-width marks
    if tail.endswith(("的", "和", "与", "及", "に", "を", "が", "は", "の", "と", "で", "へ")):
        return f"ends in {tail[-1]!r}"
    return None


def check_fragments(decks: tuple[Built, ...]) -> Score:
    score = Score("titles that are not fragments")
    for built in decks:
        for slide in built.plan.slides:
            reason = fragment_reason(slide.title, built.case.language)
            score.add(reason is None, f"{built.case.id} #{slide.index}: {slide.title!r} ({reason})")
    return score


def _key(title: str) -> str:
    return " ".join(_WORD.findall(title.lower())) or title.strip()


def check_repeats(decks: tuple[Built, ...]) -> Score:
    score = Score("slide titles not repeated across topics")
    topics: dict[str, set[str]] = defaultdict(set)
    titled: list[tuple[Built, str]] = []
    for built in decks:
        for slide in built.plan.slides:
            if slide.layout in GENERIC_LAYOUTS or GENERIC_TITLE.search(slide.title):
                continue
            topics[_key(slide.title)].add(built.case.topic)
            titled.append((built, slide.title))
    for built, title in titled:
        shared = sorted(topics[_key(title)] - {built.case.topic})
        score.add(not shared, f"{built.case.id}: {title!r} also in {shared[:3]}")
    return score


@cache
def _cmap(path: str, index: int) -> frozenset[int]:
    font = (
        TTFont(path, fontNumber=index) if path.lower().endswith((".ttc", ".otc")) else TTFont(path)
    )
    return frozenset(font.getBestCmap())


def check_glyphs(decks: tuple[Built, ...]) -> Score:
    score = Score("picture characters in the drawing font")
    for built in decks:
        for text, path, index in built.drawn:
            if path is None:
                score.add(False, f"{built.case.id}: {text[:40]!r} drawn without a font file")
                continue
            cmap = _cmap(path, index)
            for ch in text:
                if ch.isspace():
                    continue
                score.add(
                    ord(ch) in cmap,
                    f"{built.case.id}: {ch!r} (U+{ord(ch):04X}) not in {Path(path).name}",
                )
    return score


def check_ellipses(decks: tuple[Built, ...]) -> Score:
    score = Score("titles and bullets without a '…' cut")
    for built in decks:
        for where, text in _paragraphs(built):
            if where.endswith("notes") or not text.strip():
                continue
            score.add("…" not in text, f"{where}: {text[:80]!r}")
    return score


CHECKS: dict[str, Callable[[tuple[Built, ...]], Score]] = {
    "language": check_language,
    "title_placeholders": check_title_placeholders,
    "overflow": check_overflow,
    "fragments": check_fragments,
    "repeats": check_repeats,
    "glyphs": check_glyphs,
    "ellipses": check_ellipses,
}


@cache
def evaluate() -> dict[str, Score]:
    decks = build_set()
    return {name: check(decks) for name, check in CHECKS.items()}


# -- make preview --------------------------------------------------------------------------------


def preview(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    by_id = {case.id: case for case in cases()}
    themes = list(THEMES)
    written = []
    for n, case_id in enumerate(PREVIEW):
        built = build(by_id[case_id], themes[n % len(themes)])
        path = out / f"{case_id}.pptx"
        path.write_bytes(built.pptx)
        written.append(path)
        print(f"wrote {path}")
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    pdftoppm = shutil.which("pdftoppm")
    if soffice is None or pdftoppm is None:
        missing = " and ".join(
            n for n, p in (("soffice", soffice), ("pdftoppm", pdftoppm)) if not p
        )
        print(f"{missing} not on the PATH: wrote the .pptx files only, no PNG renders")
        return 0
    for path in written:
        subprocess.run(
            [soffice, "--headless", "--convert-to", "pdf", "--outdir", str(out), str(path)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        pdf = path.with_suffix(".pdf")
        subprocess.run(
            [pdftoppm, "-png", "-r", "60", str(pdf), str(out / path.stem)], check=True, timeout=300
        )
        print(f"rendered {pdf} -> {out / path.stem}-*.png")
    return 0


if __name__ == "__main__":
    sys.exit(preview(Path(sys.argv[1] if len(sys.argv) > 1 else "build/preview")))
