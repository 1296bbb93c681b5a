"""The offline outline planner: a slide plan made from the prompt's own words, with no model.

Pure and deterministic: the same request always gives the same plan. It is what a deck gets when
no language model is configured, and what pads a model's plan that came back short.

It reads the prompt into phrases (list items, sentences, clauses, "a, b and c" lists), each with
the heading it stood under, and deals them out over the content slides. It makes no more slides
than the prompt has material for (up to the count asked): with no model, nothing else it could
say would be true of the topic. The title slide's notes say once that the deck was planned
offline. Connective text (agenda, closing, speaker notes) is in the deck's language (see
`phrasebook`); the material stays as the prompt wrote it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from paperworks.decks.document_summary import document_plan, is_document
from paperworks.decks.phrasebook import ENGLISH, Phrases, phrases_for
from paperworks.decks.plan import (
    MAX_BULLET_CHARS,
    MAX_BULLETS,
    MAX_NOTES_CHARS,
    MAX_SLIDES,
    MAX_TITLE_CHARS,
    Layout,
    OutlineRequest,
    Slide,
    SlidePlan,
)
from paperworks.decks.sides import two_sides

X = TypeVar("X")

MAX_CONTENT_BULLETS = 5
TITLE_WORDS = 6  # a longer phrase is cut to this many words to title a slide
WHOLE_TITLE_WORDS = 5  # a phrase up to this long titles a slide as it is: a term, not a statement
MAX_HEADLINE_WORDS = 8  # a clause up to this long titles a slide whole, not cut mid-phrase
TOPIC_WORDS = 12  # the deck's title: the prompt's first phrase, up to this long
TERM_CJK_CHARS = 12  # a term in Chinese or Japanese, which does not space its words
JOINED_TITLE_CHARS = 70  # "Causes, effects and solutions": bare terms that title their slide
CJK_TITLE_CHARS = 20  # a longer clause titles a slide by its first part
# Body slides (between the agenda and the closing) from which a deck gets section dividers.
SECTIONS_FROM = 9
THREE_SECTIONS_FROM = 16

_LIST_MARKER = re.compile(
    r"^\s*(?:[-*\u2022\u00b7\u2023\u25aa\u2013\u2014]|\d{1,2}[.)]|[a-z]\))\s+"
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[\u3002\uff01\uff1f])|[;\uff1b]\s*")
_CLAUSE_BREAK = re.compile(r",\s+|\uff0c|\u3001|\s+[\u2013\u2014]\s+|\s+-\s+")
_LONG_CLAUSE_BREAK = re.compile(r"\s+(?:and|but|while|whereas|because|so that)\s+", re.I)
_TITLE_BREAK = re.compile(r"[,;:(\uff0c\uff1a]|\s[\u2013\u2014-]\s")
_LIST_SEPARATOR = re.compile(r",\s*|;\s*|\uff0c|\u3001")
# Not Portuguese "o" (an article), nor a CJK particle (和 joins nouns inside one item as often).
_LAST_ITEM_BREAK = re.compile(r"\s+(?:and|or|&|und|oder|et|ou|y|e|ed)\s+", re.I)
_TITLE_CONJUNCTION = re.compile(
    r"\s+(?:and|but|while|und|aber|sowie|et|mais|y|pero|e|mas|ma)\s+", re.I
)
_LEADING_CJK_CONJUNCTION = re.compile(r"^(?:以及|并且|而且|还有|和|与|及|そして|また|さらに)")
_LEADING_CONJUNCTION = re.compile(
    r"^(?:and|or|also|then|plus|und|oder|sowie|et|ou|puis|y|e|ed|oppure|pero|mas|mais|ma)\s+", re.I
)
_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_TRAILING_PUNCTUATION = ".!?;:,\u3002\uff01\uff1f\uff1b\uff1a\uff0c"
# "Create a 10-slide presentation about ..." -> "...": the request, not the topic.
_REQUEST_PREFIX = re.compile(
    r"^(?:please\s+)?(?:(?:can|could|would)\s+you\s+)?"
    r"(?P<verb>(?:create|make|build|generate|write|prepare|design|draft|produce|put together|"
    r"give me|give|hold|run|i need|we need|i want|we want|help me (?:with|make|write|create))\s+)?"
    r"(?:(?:a|an|the|some|my|our|me)\s+)*"
    r"(?:(?:\d+[- ]?(?:slides?|minutes?|min)|short|brief|quick|simple|detailed|"
    r"engaging|professional)[ ,-]+)*"
    r"(?P<noun>(?:slide\s+|pitch\s+)?(?:presentation|deck|slideshow|slides|talk|pitch|"
    r"overview|introduction|intro|lecture|workshop|webinar|briefing|keynote|training|"
    r"lesson)\s+)?"
    r"(?:(?:(?:to|for)(?:\s+\S+){1,4}?\s+)?"  # "to high school students", only before "about"
    r"(?:about|on|covering|regarding|introducing|explaining|describing|of)\s+)?",
    re.I,
)
# The same request in the other deck languages: "Erstelle eine Präsentation für Grundschüler über
# X", "Présentation sur X", "Presentazione per il consiglio comunale sulle X" -> "X".
_REQUEST_ELSEWHERE = re.compile(
    r"^(?:bitte\s+)?(?P<verb>(?:erstelle|erstellen sie|mache?|schreibe|bereite|gestalte|crée|"
    r"créer|créez|fais|faites|prépare|préparez|crea|crear|haz|hacer|prepara|preparar|crie|"
    r"criar|faça|fazer|prepare|creare|fai|fare|preparare)\s+(?:mir\s+|uns\s+)?)?"
    r"(?:(?:eine?n?|une?|una?|uma?|uno)\s+)?(?:(?:kurze[n]?|courte|breve)\s+)?"
    r"(?P<noun>(?:präsentation|vortrag|foliensatz|schulung|présentation|exposé|diaporama|"
    r"formation|presentación|charla|exposición|apresentação|palestra|presentazione|"
    r"lezione|relazione)\s+)"
    r"(?:(?:für|pour|para|per)(?:\s+\S+){1,3}?\s+)?"
    r"(?:über|zum|zur|zu|sur|à propos de|sobre|acerca de|sul|sulla|sulle|sui|sugli|su)\s+",
    re.I,
)
# "Explain how pricing works" -> "how pricing works": the prompt's words, without the request.
_INSTRUCTION_PREFIX = re.compile(
    r"^(?:(?:please|also|then|and|finally|first|next)\s+)*"
    r"(?:(?:we|i|you)\s+(?:will|should|must|want to|need to|would like to|can)\s+)?"
    r"(?:(?:discuss|explain|cover|describe|show|present|talk about|mention|include|"
    r"introduce|highlight|review|summari[sz]e|explore|look at|list|go over)\s+)",
    re.I,
)
_CJK_INSTRUCTION = re.compile(r"^(?:请)?(?:介绍一下|介绍|讲解|讲一讲|说明|解释|谈谈)(?=\S{2})")
# A heading that only announces a list ("Cover these points:") names nothing.
_EMPTY_HEADING = re.compile(
    r"^(?:these|the following|following|some|a few|points?|topics?|themen|punkte|inhalte?|"
    r"thèmes|sujets|points|temas|puntos|tópicos|temi|punti|contenuti|"
    r"(?:主要)?内容|要点|主题|テーマ|内容)(?:\b|$)",
    re.I,
)

# fmt: off
_TRAILING_STOPWORDS = frozenset({
    "a", "an", "the", "and", "or", "of", "to", "for", "in", "on", "with", "by", "at", "from",
    "as", "is", "are", "was", "were", "be", "that", "which", "who", "our", "your", "their",
    "its", "this", "these", "those", "into", "than", "then", "without", "within", "about",
    "over", "under", "between", "through", "across", "after", "before", "during", "while",
    "because", "rather", "but", "not", "so", "such", "like", "via", "per", "if", "when", "how",
    # Articles, prepositions and conjunctions of the other Latin-script deck languages, but for
    # words that also end English titles ("die", "do", "no", "MIT").
    "der", "das", "dem", "des", "ein", "eine", "einen", "einem", "einer", "eines", "und",
    "oder", "aber", "von", "zu", "zum", "zur", "im", "auf", "für", "bei", "aus", "nach", "über",
    "unter", "vom", "durch", "dass", "als", "wie",
    "le", "la", "les", "une", "du", "de", "et", "ou", "mais", "avec", "pour", "par", "dans",
    "au", "aux", "à", "en", "d", "l", "qu", "que", "qui", "ce", "cette", "ces", "leur", "leurs",
    "el", "los", "las", "un", "una", "unos", "unas", "y", "e", "pero", "para", "por", "del",
    "al", "su", "sus", "sobre", "entre", "os", "um", "uma", "em", "na", "nos", "nas", "da",
    "dos", "ao", "aos", "pelo", "pela", "seu", "sua", "il", "gli", "uno", "nel",
    "nella", "nei", "nelle", "della", "dei", "delle", "di", "dal", "dalla", "alla", "ai", "che",
    "sul", "sulla", "sulle", "ed", "con", "sin", "sans", "ohne", "sem", "senza",
})
# Lower-cased at the start of a phrase quoted mid-sentence: never a name.
_FUNCTION_WORDS = frozenset({
    "a", "an", "the", "what", "why", "how", "when", "where", "who", "which", "our", "we", "it",
    "its", "this", "that", "these", "those", "there", "each", "every", "some", "more", "most",
    "many", "few", "key", "common", "main", "new", "first", "in", "for", "questions",
    "der", "die", "das", "ein", "eine", "le", "la", "les", "un", "une", "el", "los", "las",
    "una", "o", "os", "as", "um", "uma", "il", "lo", "gli", "uno",
})
# fmt: on

_TOPIC = "\0topic"  # the heading of a list under "Topics:": the prompt's topic itself
_CONTENT_LAYOUTS = frozenset({Layout.bullets, Layout.bullets_image, Layout.two_columns})


@dataclass(frozen=True)
class _Phrase:
    text: str  # as the prompt wrote it, trimmed
    heading: str | None  # the "Heading:" the prompt put it under, if any
    listed: bool = False  # an item of a list, not a sentence: its neighbours are its peers


@dataclass
class _Run:
    heading: str | None
    phrases: list[_Phrase]
    slots: int = 1

    @property
    def least(self) -> int:
        """Phrases a slide of this run needs."""
        statements = not any(p.listed or _is_term(p.text) for p in self.phrases)
        return 1 if self.heading is None and statements else 2


@dataclass(frozen=True)
class _Content:
    title: str
    bullets: list[str]
    extra: list[str] = field(default_factory=list)  # beyond the bullet limit: in the notes
    # The same words as they read mid-sentence in the notes: "causes", as the prompt wrote it,
    # not the bullet's "Causes". Unknown for a slide that comes back to be rewritten.
    spoken_title: str | None = None
    spoken: list[str] | None = None

    def said_title(self) -> str:
        return self.spoken_title or _decap(_unstop(self.title))

    def with_point(self, bullet: str, spoken: str, *, at_start: bool = False) -> _Content:
        """This slide with one more bullet (`spoken`: as it reads mid-sentence)."""
        bullets, said = [*self.bullets], [*self.said()]
        bullets.insert(0 if at_start else len(bullets), bullet)
        said.insert(0 if at_start else len(said), spoken)
        return replace(self, bullets=bullets, spoken=said)

    def said(self) -> list[str]:
        if self.spoken is not None:
            return [_unstop(text) for text in self.spoken]
        return [_decap(_unstop(bullet)) for bullet in self.bullets]


@dataclass(frozen=True)
class _Topic:
    full: str  # as the prompt wrote it: the deck's title

    @property
    def title(self) -> str:
        """The deck's title."""
        return _clip(_cap(self.full), MAX_TITLE_CHARS)


# --- the plan -----------------------------------------------------------------------------------


def offline_plan(request: OutlineRequest) -> SlidePlan:
    """A plan of at most `request.slide_count` slides (1..30) from the prompt alone: as many as
    the prompt has material for, framed by a title slide, an agenda and a closing slide."""
    count = request.slide_count
    if not 1 <= count <= MAX_SLIDES:
        raise ValueError(f"slide_count must be between 1 and {MAX_SLIDES}")
    words = phrases_for(request.language, request.prompt)
    # A pasted document is summarised, not cut by position (issue 17).
    if is_document(request.prompt) and (summarised := document_plan(request, words)) is not None:
        _say_planned_offline(summarised.slides[0], len(summarised.slides), count, words)
        return summarised
    topic, phrases = _read_prompt(request.prompt)
    audience = " ".join((request.audience or "").split()) or None
    deck_title = topic.title

    room = count - 1 - (count >= 4) - (count >= 2)  # beside the title, agenda and closing
    sections = 3 if room >= THREE_SECTIONS_FROM else 2 if room >= SECTIONS_FROM else 0
    contents = _contents(phrases, room - sections, topic, words)
    if len(contents) < room - sections:
        sections = 0  # the prompt does not fill the deck: no dividers in a short one
        contents = _contents(phrases, room, topic, words)
    has_agenda = count >= 4 and len(contents) >= 2
    if count >= 4 and not has_agenda:
        contents = _contents(phrases, room + 1, topic, words)  # an agenda of one item is not

    slides = [_title_slide(deck_title, topic, request.tone, audience, words)]
    section_titles: list[str] = []
    position = 0
    for number, part in enumerate(_split_evenly(contents, sections) if sections else [contents]):
        if sections:
            name = words.sections[sections - 2][number]
            section_titles.append(name)
            line = " · ".join(content.title for content in part[:3])
            said = [content.said_title() for content in part[:3]]
            slides.append(
                _slide(Layout.section, name, [line] if line else [], topic.full, words, said=said)
            )
        for content in part:
            slides.append(_content_slide(content, position, topic, words))
            position += 1
    if has_agenda:
        if section_titles:
            agenda, said = section_titles, [_ours(name, words) for name in section_titles]
        else:
            agenda = [content.title for content in contents]
            said = [content.said_title() for content in contents]
        slides.insert(1, _slide(Layout.agenda, words.agenda, agenda, topic.full, words, said=said))
    if count >= 2:
        recap = [content.said_title() for content in contents[:3]]
        slides.append(_closing_slide(recap, topic.full, words))
    _say_planned_offline(slides[0], len(slides), count, words)
    return SlidePlan(title=deck_title, slides=slides)


def _say_planned_offline(title_slide: Slide, made: int, asked: int, words: Phrases) -> None:
    """The deck says once, in the title slide's notes, that no model wrote it (issue 17)."""
    said = [title_slide.notes, words.offline]
    if made < asked:
        said.append(words.fewer.format(made=made, asked=asked))
    title_slide.notes = _clip(words.sentences(*said), MAX_NOTES_CHARS)


def offline_slide(plan: SlidePlan, index: int, instruction: str | None = None) -> Slide:
    """A rewrite of slide `index` that follows a simple instruction ("shorter", "add an example",
    "more detail", "with an image", "no image", "two columns"); without one, the bullets are
    reordered and the notes rephrased. The layout stays unless the new content does not suit it.
    """
    slide = plan.slides[index]
    wants = _Wishes.read(instruction)
    topic = _topic_of(plan.title)
    words = phrases_for(None, _plan_text(plan))
    variant = index + 1 + len(slide.notes) % 3  # other words than the notes the slide had

    if slide.layout is Layout.agenda:
        bullets = agenda_bullets(plan) or list(slide.bullets)
        # Rewritten from the plan as it is now: titles may have been edited since.
        return _slide(
            Layout.agenda, slide.title, bullets, plan.title, words, index=index, variant=variant
        )
    if slide.layout is Layout.closing:
        recap = [_decap(s.title) for s in plan.slides if s.layout in _CONTENT_LAYOUTS][:3]
        closing = _closing_slide(recap, plan.title, words)
        return closing.model_copy(update={"index": index, "title": slide.title})
    if slide.layout in (Layout.title, Layout.section, Layout.quote):
        bullets = list(slide.bullets)
        if wants.shorter and bullets:
            bullets = [_shorten(bullets[0])]
        return _slide(
            slide.layout, slide.title, bullets, plan.title, words, index=index, variant=variant
        )

    bullets = [bullet for bullet in slide.bullets if bullet.strip()]
    if wants.shorter:
        keep = max(2, min(3, len(bullets) - 1))
        bullets = [_cap(_shorten(bullet)) for bullet in bullets[:keep]]
    elif wants.longer:
        said = {bullet.casefold() for bullet in bullets}
        more = [filler for filler in words.fillers if filler.casefold() not in said]
        bullets = [*bullets, *more][: max(len(bullets), min(len(bullets) + 2, 6))]
    elif len(bullets) >= 2 and not wants.example and two_sides(slide.title, bullets) is None:
        bullets = [*bullets[1:], bullets[0]]  # (the two sides of a comparison keep their order)
    if wants.example:
        example = words.example.format(_decap(slide.title))
        bullets = [*bullets[: MAX_BULLETS - 1], example]
    for filler in words.fillers:
        if len(bullets) >= 2:
            break
        bullets.append(filler)

    layout = slide.layout
    if wants.no_image:
        layout = Layout.bullets
    elif wants.image:
        layout = Layout.bullets_image
    elif wants.columns:
        layout = Layout.two_columns
    if layout is Layout.two_columns and len(bullets) < 4 and not wants.columns:
        layout = Layout.bullets  # two columns of one bullet each read as a mistake
    if layout is Layout.two_columns and two_sides(slide.title, bullets) is None:
        layout = Layout.bullets  # columns are for content with two sides (see `sides`)
    content = _Content(title=slide.title, bullets=bullets[:MAX_BULLETS])
    image_prompt = None
    if layout is Layout.bullets_image:
        image_prompt = slide.image_prompt or _image_prompt(content, topic)
    return Slide(
        index=index,
        layout=layout,
        title=slide.title,
        bullets=content.bullets,
        notes=_content_notes(content, layout, variant, words),
        image_prompt=image_prompt,
    )


def speaker_notes(slide: Slide, deck_title: str) -> str:
    """Notes a presenter could say for `slide`, written from its title and bullets, in the
    language they are written in."""
    words = phrases_for(None, " ".join([deck_title, slide.title, *slide.bullets]))
    if slide.layout in _CONTENT_LAYOUTS:
        content = _Content(title=slide.title, bullets=list(slide.bullets))
        return _content_notes(content, slide.layout, slide.index, words)
    return _slide(slide.layout, slide.title, list(slide.bullets), deck_title, words).notes


def _plan_text(plan: SlidePlan) -> str:
    """What a plan says, to tell its language by."""
    return " ".join([plan.title, *(" ".join([s.title, *s.bullets]) for s in plan.slides)])


def agenda_bullets(plan: SlidePlan) -> list[str]:
    """What an agenda slide lists: the section dividers if there are any, else the content."""
    sections = [s.title for s in plan.slides if s.layout is Layout.section]
    titles = sections or [s.title for s in plan.slides if s.layout in _CONTENT_LAYOUTS]
    return titles[:MAX_BULLETS]


# --- reading the prompt -------------------------------------------------------------------------


def _read_prompt(prompt: str) -> tuple[_Topic, list[_Phrase]]:
    """The topic, and the prompt's phrases in order, each with the heading it stood under."""
    lines = [" ".join(line.split()) for line in prompt.splitlines()]
    lines = [line for line in lines if line]
    found: list[_Phrase] = []
    heading: str | None = None
    for line in lines:
        if marker := _LIST_MARKER.match(line):
            found.extend(_Phrase(t, heading, True) for t in _clauses(line[marker.end() :]))
            continue
        if line.endswith((":", "\uff1a")) and len(line.split()) <= 10:
            heading = _strip_instruction(_clean(line))
            heading = _TOPIC if heading and _EMPTY_HEADING.match(heading) else heading or None
            continue
        heading = None
        for sentence in _SENTENCE_END.split(line):
            head, items = _listed(sentence)
            if items:
                found.extend(_Phrase(item, head, True) for item in items)
            else:
                found.extend(_Phrase(text, None) for text in _clauses(sentence))

    first = _SENTENCE_END.split(lines[0])[0] if lines else ""
    starts_with_list = bool(_LIST_MARKER.match(first))
    subject = _clean(_strip_instruction(_strip_request(_LIST_MARKER.sub("", first, count=1))))
    topic = _topic_of(_TITLE_BREAK.split(subject, maxsplit=1)[0].strip() or subject)

    phrases: list[_Phrase] = []
    # A first line that only names the topic ("Create a deck about X") is not a bullet too;
    # a first list item is content, even when it also has to title the deck.
    seen = set() if starts_with_list else {topic.full.casefold()}
    for index, phrase in enumerate(found):
        text = _clip(_clean(_strip_instruction(phrase.text)), MAX_BULLET_CHARS)
        if index == 0 and not starts_with_list:
            text = _clean(_strip_request(text)) or text
            # "<topic>: the first point" when the sentence was too long to read as a list.
            for lead in (f"{topic.full}:".casefold(), f"{topic.full}\uff1a".casefold()):
                text = text[len(lead) :].strip() if text.casefold().startswith(lead) else text
        if len(text) < 2 or text.casefold() in seen:
            continue
        seen.add(text.casefold())
        phrases.append(_Phrase(text, _heading_of(phrase.heading, topic), phrase.listed))
    return topic, phrases


def _heading_of(heading: str | None, topic: _Topic) -> str | None:
    """A list's heading as a slide title: the topic's own list ("<topic>: a, b, c") is headed by
    the topic; another heading too long for a title is cut to one."""
    if heading == _TOPIC:
        return topic.full
    if heading is None or len(heading.split()) <= TITLE_WORDS:
        return heading
    if topic.full.casefold() in _strip_request(heading).casefold():
        return topic.full
    return _headline(heading)


def _topic_of(text: str) -> _Topic:
    full = _limit_words(_clean(text), TOPIC_WORDS)
    if not any(character.isalnum() for character in full):
        return _Topic(full="Overview")
    return _Topic(full=full)


def _listed(sentence: str) -> tuple[str | None, list[str]]:
    """A sentence that lists things, as (heading, items); else (None, []).

    "Key risks: cost, speed and scope" -> ("Key risks", [cost, speed, scope]);
    "Cover causes, effects, and solutions" -> (None, [causes, effects, solutions]).
    """
    head: str | None = None
    tail = sentence
    has_colon = ":" in sentence and "://" not in sentence
    if has_colon:
        head, tail = sentence.split(":", 1)
        head = _strip_instruction(_clean(head))
        if not head or _EMPTY_HEADING.match(head):
            head = None
        limit = 12
    else:
        tail = _strip_instruction(sentence)
        # "Explain a, b and c" announces a list; a bare sentence lists only short items.
        limit = 8 if tail != sentence else 4
    items = [item for item in _list_items(tail.strip().rstrip(_TRAILING_PUNCTUATION)) if item]
    # Without a colon, only a list of short items ("a, b and c") is a list, not a long sentence.
    minimum = 2 if has_colon else 3
    if len(items) < minimum or any(len(item.split()) > limit for item in items):
        return None, []
    return head, items


def _list_items(text: str) -> list[str]:
    """ "a, b and c" -> [a, b, c]; "a, b, and c and d" -> [a, b, c and d]: after a serial comma the
    last item is whole, its own "and" included."""
    parts = _LIST_SEPARATOR.split(text)
    last = parts[-1].strip()
    if len(parts) == 1 or _LEADING_CONJUNCTION.match(last) is None:
        parts[-1:] = _LAST_ITEM_BREAK.split(last, maxsplit=1)
    return [_unjoined(part) for part in parts]


def _clauses(sentence: str) -> list[str]:
    """A sentence as one phrase, or as its clauses when it is too long for one bullet."""
    sentence = sentence.strip()
    if not sentence:
        return []
    if len(sentence.split()) <= 14:
        return [sentence]
    pieces: list[str] = []
    for clause in _CLAUSE_BREAK.split(sentence):
        clause = _unjoined(clause)
        if len(clause.split()) > 18:
            pieces.extend(p.strip() for p in _LONG_CLAUSE_BREAK.split(clause) if p.strip())
        elif clause:
            pieces.append(clause)
    # A fragment of a word or two reads better joined to the clause before it.
    merged: list[str] = []
    for piece in pieces:
        if merged and len(piece.split()) < 3:
            merged[-1] = f"{merged[-1]}, {piece}"
        else:
            merged.append(piece)
    return merged


# --- dealing the phrases out over slides --------------------------------------------------------


def _contents(phrases: list[_Phrase], count: int, topic: _Topic, words: Phrases) -> list[_Content]:
    """At most `count` content slides, made of the prompt's material only."""
    if count <= 0:
        return []
    contents: list[_Content] = []
    for title, group in _groups(phrases, count, words):
        content = _group_content(title, group, topic, words)
        if not content.bullets and contents and len(contents[-1].bullets) < MAX_CONTENT_BULLETS:
            # A bare term with nothing to say under it is a point of the slide before.
            contents[-1] = contents[-1].with_point(content.title, content.said_title())
        else:
            contents.append(content)
    if len(contents) >= 2 and not contents[0].bullets:
        first, second = contents[0], contents[1]
        contents[:2] = [second.with_point(first.title, first.said_title(), at_start=True)]
    return _titled_once(contents, words)


def _titled_once(contents: list[_Content], words: Phrases) -> list[_Content]:
    """No two slides of a deck with one title: a title on two slides is "continued" on the
    second; on more, each is numbered ("Overview (2/3)")."""
    counts = Counter(content.title.casefold() for content in contents)
    seen: Counter[str] = Counter()
    titled: list[_Content] = []
    for content in contents:
        key = content.title.casefold()
        seen[key] += 1
        if counts[key] == 2 and seen[key] == 2:
            content = _retitled(content, words.continued.format)
        elif counts[key] > 2:
            content = _retitled(content, f"{{}} ({seen[key]}/{counts[key]})".format)
        titled.append(content)
    return titled


def _retitled(content: _Content, form: Callable[[str], str]) -> _Content:
    return replace(content, title=form(content.title), spoken_title=form(content.said_title()))


def _groups(
    phrases: list[_Phrase], count: int, words: Phrases
) -> list[tuple[str | None, list[_Phrase]]]:
    """At most `count` (title, phrases) groups of consecutive phrases, following the prompt's
    headings: a heading's items stay together unless there are slides to spare."""
    runs: list[_Run] = []
    for phrase in phrases:
        # Without a heading, bare terms ("causes, effects") and statements go to separate slides.
        last = runs[-1] if runs else None
        same = last is not None and last.heading == phrase.heading
        if same and last is not None and phrase.heading is None:
            before = last.phrases[-1]
            same = before.listed == phrase.listed and (
                phrase.listed or _is_term(before.text) == _is_term(phrase.text)
            )
        if same and last is not None:
            last.phrases.append(phrase)
        else:
            runs.append(_Run(heading=phrase.heading, phrases=[phrase]))
    if len(runs) > count:
        chunks = _split_evenly(phrases, count)
        return [(_shared_heading(chunk), chunk) for chunk in chunks]
    # Spare slides go, one at a time, to the run with the most phrases per slide, as long as
    # each slide keeps enough: two phrases, or one long enough to give a title and a bullet.
    while sum(run.slots for run in runs) < count:
        open_runs = [run for run in runs if len(run.phrases) / (run.slots + 1) >= run.least]
        if not open_runs:
            break
        busiest = max(open_runs, key=lambda run: len(run.phrases) / run.slots)
        busiest.slots += 1
    groups: list[tuple[str | None, list[_Phrase]]] = []
    for run in runs:
        for number, chunk in enumerate(_split_evenly(run.phrases, run.slots)):
            if run.heading is None or number == 0:
                groups.append((run.heading, chunk))
            else:
                groups.append((words.continued.format(run.heading), chunk))
    return groups


def _shared_heading(phrases: list[_Phrase]) -> str | None:
    headings = {phrase.heading for phrase in phrases}
    return phrases[0].heading if len(headings) == 1 else None


def _group_content(
    heading: str | None, group: list[_Phrase], topic: _Topic, words: Phrases
) -> _Content:
    texts = [phrase.text for phrase in group]
    if heading is not None and words.unrepeated(heading, topic.full) != heading:
        heading = None  # the topic's own list: titled like a list without a heading
    peers = heading is None and len(texts) >= 2
    peers = peers and all(phrase.listed or _is_term(phrase.text) for phrase in group)
    short = len(texts) <= 3 and all(_is_term(text) for text in texts)
    if peers and short and len(words.join(texts)) <= JOINED_TITLE_CHARS:
        # A few bare terms ("causes", "effects"): together they name the slide.
        return _Content(
            title=_clip(_cap(words.join(texts)), MAX_TITLE_CHARS),
            bullets=[_cap(text) for text in texts],
            spoken_title=words.join(texts),
            spoken=texts,
        )
    spoken_title = heading or _headline(texts[0])
    if peers and heading is None:
        spoken_title = words.unrepeated(topic.full, topic.full)  # a list no title sums up
    spoken_title = words.unrepeated(spoken_title, topic.full)  # not the deck's title again
    if _clip(_cap(spoken_title), MAX_TITLE_CHARS).casefold() == topic.title.casefold():
        spoken_title = words.unrepeated(topic.full, topic.full)  # the same once clipped
    title = _clip(_cap(spoken_title), MAX_TITLE_CHARS)
    if texts[0].casefold() == spoken_title.casefold() and not peers:
        texts = texts[1:]  # the title already says it (a list's first item stays one of its items)
    spoken = texts[:MAX_CONTENT_BULLETS]
    return _Content(
        title=title,
        bullets=[_cap(text) for text in spoken],
        extra=texts[MAX_CONTENT_BULLETS:],
        spoken_title=spoken_title,
        spoken=spoken,
    )


def _split_evenly(items: list[X], parts: int) -> list[list[X]]:
    size, rest = divmod(len(items), parts)
    chunks: list[list[X]] = []
    start = 0
    for number in range(parts):
        end = start + size + (1 if number < rest else 0)
        chunks.append(items[start:end])
        start = end
    return chunks


# --- slides and their notes ---------------------------------------------------------------------


def _title_slide(
    title: str, topic: _Topic, tone: str | None, audience: str | None, words: Phrases
) -> Slide:
    tone = " ".join((tone or "").split()) or None
    subtitle: str | None = None
    if tone and words is ENGLISH:
        subtitle = f"{_article(tone)} {tone} overview" + (f" for {audience}" if audience else "")
    elif audience:
        # Elsewhere the tone is left out: "a {tone} overview" would need the tone's gender.
        subtitle = words.for_audience.format(audience)
    return _slide(Layout.title, title, [subtitle] if subtitle else [], topic.full, words)


def _closing_slide(recap: list[str], topic: str, words: Phrases) -> Slide:
    """`recap`: titles as they read mid-sentence."""
    bullets = [words.questions]
    if recap:
        bullets.append(words.recap.format(words.comma.join(recap)))
    return _slide(Layout.closing, words.thanks, bullets, topic, words, said=recap)


def _content_slide(content: _Content, position: int, topic: _Topic, words: Phrases) -> Slide:
    # Two columns for content with two sides (a comparison, pros and cons, before and after);
    # else a picture on every third slide from the first.
    if len(content.bullets) >= 4 and two_sides(content.title, content.bullets) is not None:
        layout = Layout.two_columns
    elif position % 3 == 0:
        layout = Layout.bullets_image
    else:
        layout = Layout.bullets
    return Slide(
        index=0,
        layout=layout,
        title=content.title,
        bullets=content.bullets,
        notes=_content_notes(content, layout, position, words),
        image_prompt=_image_prompt(content, topic) if layout is Layout.bullets_image else None,
    )


def _slide(
    layout: Layout,
    title: str,
    bullets: list[str],
    topic: str,
    words: Phrases,
    *,
    said: list[str] | None = None,
    index: int = 0,
    variant: int = 0,
) -> Slide:
    """A slide that frames the content (title, agenda, section, quote, closing), with notes.

    `said`: what the notes name (agenda items, a section's slides, the recap) as they read
    mid-sentence; by default, guessed from the bullets.
    """
    title = _clip(title, MAX_TITLE_CHARS) or _clip(_cap(topic), MAX_TITLE_CHARS)
    bullets = bullets[:MAX_BULLETS]
    if said is None:
        said = _said_from_bullets(layout, bullets, words)
    notes: list[str] = []
    if layout is Layout.title:
        notes.append(words.welcome.format(topic))
        if words is ENGLISH and said:
            notes.append(f"It is meant {said[0]}." if said[0].startswith("for ") else "")
            notes.append(f"It is {said[0]}." if said[0].startswith(("a ", "an ")) else "")
        notes.append(words.start)
    elif layout is Layout.agenda:
        notes.append(words.plan.format(words.in_sequence(said)) if said else words.plan_alone)
        notes.append(words.questions_welcome)
    elif layout is Layout.section:
        ours = any(title in names for names in words.sections)
        notes.append(words.section.format(_ours(title, words) if ours else _decap(title)))
        notes.append(words.covers.format(words.join(said)) if said else "")
    elif layout is Layout.quote:
        quoted = _unstop(bullets[0]) if bullets else title
        notes.append(words.quote.format(quoted))
    else:
        notes.append(words.wrap_up)
        notes.append(words.looked_at.format(words.join(said)) if said else "")
        notes.append(words.take_questions)
    return Slide(
        index=index,
        layout=layout,
        title=title,
        bullets=bullets,
        notes=_clip(words.sentences(*notes), 5000),
    )


def _said_from_bullets(layout: Layout, bullets: list[str], words: Phrases) -> list[str]:
    if layout is Layout.section:
        return [_decap(item) for item in bullets[0].split(" · ")] if bullets else []
    if layout is Layout.closing:
        lead = words.recap.split("{}")[0]
        recap = next((b for b in bullets if b.startswith(lead)), "")
        return [item for item in recap.removeprefix(lead).split(words.comma) if item]
    return [_decap(_unstop(bullet)) for bullet in bullets]


def _content_notes(content: _Content, layout: Layout, variant: int, words: Phrases) -> str:
    opener = words.openers[variant % len(words.openers)]
    said = content.said()
    parts = [opener.format(content.said_title())]
    if len(said) == 1:
        parts.append(words.point.format(said[0]))
    elif said:
        parts.append(words.first.format(said[0]))
        parts.extend(words.next.format(point) for point in said[1:-1])
        parts.append(words.last.format(said[-1]))
    if layout is Layout.two_columns and len(said) >= 2:
        parts.append(words.columns)
    if layout is Layout.bullets_image:
        parts.append(words.picture)
    if content.extra:
        parts.append(words.also.format("; ".join(map(_unstop, content.extra))))
    return _clip(words.sentences(*parts), MAX_NOTES_CHARS)


def _image_prompt(content: _Content, topic: _Topic) -> str:
    return _clip(
        f'An illustration for the slide "{content.title}" in a presentation about {topic.full}. '
        "Clean, modern style; no text, letters or logos.",
        1000,
    )


@dataclass(frozen=True)
class _Wishes:
    """What a free-text rewrite instruction asks for, as far as keywords tell."""

    shorter: bool = False
    longer: bool = False
    example: bool = False
    image: bool = False
    no_image: bool = False
    columns: bool = False

    @classmethod
    def read(cls, instruction: str | None) -> _Wishes:
        text = (instruction or "").casefold()
        if not text.strip():
            return cls()
        no_image = bool(
            re.search(
                r"\b(?:no|without|remove|drop|lose)\s+(?:an?\s+|the\s+)?"
                r"(?:image|picture|photo|visual)s?\b|\btext[- ]only\b",
                text,
            )
        )
        return cls(
            shorter=bool(
                re.search(r"\b(?:short|shorter|shorten|concise|brief|fewer|less|simpl|trim)", text)
            ),
            longer=bool(re.search(r"\b(?:longer|expand|detail|elaborate|more|deeper)", text)),
            example=bool(re.search(r"\bexamples?\b", text)),
            image=not no_image and bool(re.search(r"\b(?:image|picture|photo|visual)", text)),
            no_image=no_image,
            columns=bool(re.search(r"\b(?:columns?|compar|side by side|versus|vs\b)", text)),
        )


# --- text helpers -------------------------------------------------------------------------------


def _clean(text: str) -> str:
    text = " ".join(text.split()).strip(" \t-\u2013\u2014")
    return text.rstrip(_TRAILING_PUNCTUATION).strip()


def _strip_request(text: str) -> str:
    for request in (_REQUEST_PREFIX, _REQUEST_ELSEWHERE):
        match = request.match(text)
        if match and (match.group("verb") or match.group("noun")):
            return text[match.end() :]
    return text


def _strip_instruction(text: str) -> str:
    return _CJK_INSTRUCTION.sub("", _INSTRUCTION_PREFIX.sub("", text, count=1), count=1)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _decap(text: str) -> str:
    # Only words that are never names: "The cost" reads "the cost" mid-sentence, "Berlin" stays.
    first = text.partition(" ")[0]
    capitalised = first[:1].isupper() and (len(first) == 1 or first[1:].islower())
    if capitalised and first.casefold() in _FUNCTION_WORDS:
        return text[:1].lower() + text[1:]
    return text


def _unstop(text: str) -> str:
    return text.rstrip(" " + _TRAILING_PUNCTUATION)


def _unjoined(text: str) -> str:
    """`text` without the "and" that joined it to the phrase before."""
    return _LEADING_CJK_CONJUNCTION.sub("", _LEADING_CONJUNCTION.sub("", text.strip())).strip()


def _is_term(text: str) -> bool:
    """A phrase that titles a slide as it is ("pricing", "how to spot fake emails"), not a
    statement to cut a title from."""
    if _CJK.search(text):
        return len(text) <= TERM_CJK_CHARS
    return len(text.split()) <= WHOLE_TITLE_WORDS


def _limit_words(text: str, limit: int) -> str:
    words = text.split()
    if len(words) <= limit:
        return text.strip()
    # Cut where a new part of the phrase starts ("habits | for written ..."), not mid-part.
    cut = next(
        (i for i in range(limit, 1, -1) if words[i].casefold() in _TRAILING_STOPWORDS), limit
    )
    words = words[:cut]
    while len(words) > 1 and words[-1].casefold() in _TRAILING_STOPWORDS:
        words.pop()
    return " ".join(words)


def _headline(phrase: str) -> str:
    """A slide title from a phrase: its first clause, cut to a few words if it is long."""
    text = _clean(_strip_instruction(phrase))
    text = _TITLE_BREAK.split(text, maxsplit=1)[0].strip() or text
    # "Why they matter for our harvest and how to protect them": the first of two clauses.
    first, *rest = _TITLE_CONJUNCTION.split(text, maxsplit=1)
    if rest and 2 <= len(first.split()) <= MAX_HEADLINE_WORDS:
        text = first
    if _CJK.search(text) and len(text) > CJK_TITLE_CHARS:
        # No spaces to cut at: the first part of an enumeration ("A、B と C") titles it.
        first = re.split(r"[、,]", text, maxsplit=1)[0]
        text = first if len(first) >= 4 else text
    if len(text.split()) > MAX_HEADLINE_WORDS:
        text = _limit_words(text, TITLE_WORDS)
    return _clip(text, MAX_TITLE_CHARS) or phrase


def _shorten(text: str) -> str:
    return _headline(text) if len(text.split()) > TITLE_WORDS else text


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:-") + "…"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _article(word: str) -> str:
    return "An" if word[:1].casefold() in "aeiou" else "A"


def _ours(title: str, words: Phrases) -> str:
    """One of our own titles as it reads mid-sentence: German nouns keep their capital."""
    return title if words.code == "de" else _lower_first(title)
