"""The offline outline planner: a slide plan made from the prompt's own words, with no model.

Pure and deterministic: the same request always gives the same plan. It is what a deck gets when
no language model is configured, and what pads a model's plan that came back short.

It reads the prompt into phrases (list items, sentences, clauses, "a, b and c" lists), each with
the heading it stood under, deals them out over the content slides, and fills the slides the
prompt has no material for with generic but topic-specific structure ("Why <topic> matters",
"Key facts about <topic>", ...). Connective text (agenda, fillers, speaker notes) is English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TypeVar

from paperworks.decks.document_summary import document_plan, is_document
from paperworks.decks.plan import MAX_BULLETS, MAX_SLIDES, Layout, OutlineRequest, Slide, SlidePlan
from paperworks.decks.sides import two_sides

X = TypeVar("X")

MAX_CONTENT_BULLETS = 5
TITLE_WORDS = 6  # a longer phrase is cut to this many words to title a slide
WHOLE_TITLE_WORDS = 5  # a phrase up to this long titles a slide as it is
TOPIC_WORDS = 8
SHORT_TOPIC_WORDS = 4  # a topic that fits in a template title ("Why <topic> matters")
SHORT_PHRASE_WORDS = 3  # a bare term ("pricing"), not a statement
MAX_TITLE_CHARS = 80
MAX_BULLET_CHARS = 220
MAX_NOTES_CHARS = 4000
# A quote slide needs a phrase worth quoting: a whole statement, not a list item.
QUOTE_MIN_WORDS = 6
QUOTE_MAX_WORDS = 40
# Body slides (between the agenda and the closing) from which a deck gets section dividers.
SECTIONS_FROM = 9
THREE_SECTIONS_FROM = 16
QUOTE_FROM = 6  # body slides, after the sections, from which one may be a quote

_LIST_MARKER = re.compile(
    r"^\s*(?:[-*\u2022\u00b7\u2023\u25aa\u2013\u2014]|\d{1,2}[.)]|[a-z]\))\s+"
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[\u3002\uff01\uff1f])|[;\uff1b]\s*")
_CLAUSE_BREAK = re.compile(r",\s+|\uff0c|\u3001|\s+[\u2013\u2014]\s+|\s+-\s+")
_LONG_CLAUSE_BREAK = re.compile(r"\s+(?:and|but|while|whereas|because|so that)\s+", re.I)
_TITLE_BREAK = re.compile(r"[,;:(\uff0c\uff1a]|\s[\u2013\u2014-]\s")
_LIST_SEPARATOR = re.compile(r",\s*|;\s*|\uff0c|\u3001|\s+(?:and|or|&)\s+", re.I)
_LEADING_CONJUNCTION = re.compile(r"^(?:and|or|also|then|plus)\s+", re.I)
_TRAILING_PUNCTUATION = ".!?;:,\u3002\uff01\uff1f\uff1b\uff1a\uff0c"
# "Create a 10-slide presentation about ..." -> "...": the request, not the topic.
_REQUEST_PREFIX = re.compile(
    r"^(?:please\s+)?(?:(?:can|could|would)\s+you\s+)?"
    r"(?P<verb>(?:create|make|build|generate|write|prepare|design|draft|produce|put together|"
    r"give me|i need|we need|i want|we want|help me (?:with|make|write|create))\s+)?"
    r"(?:(?:a|an|the|some|my|our|me)\s+)*"
    r"(?:(?:\d+[- ]?(?:slides?|minutes?|min)|short|brief|quick|simple|detailed|"
    r"engaging|professional)[ ,-]+)*"
    r"(?P<noun>(?:slide\s+|pitch\s+)?(?:presentation|deck|slideshow|slides|talk|pitch|"
    r"overview|introduction|intro|lecture|workshop|webinar|briefing|keynote|training|"
    r"lesson)\s+)?"
    r"(?:(?:about|on|covering|regarding|introducing|explaining|describing|of)\s+)?",
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
# A heading that only announces a list ("Cover these points:") names nothing.
_EMPTY_HEADING = re.compile(
    r"^(?:these|the following|following|some|a few|points?|topics?)\b", re.I
)
# "Climate change in the Arctic" -> "Climate change": short enough for a template title.
_TOPIC_QUALIFIER = re.compile(r"\s(?:for|to|in|at|with|about|during|among|within)\s", re.I)

# fmt: off
_TRAILING_STOPWORDS = frozenset({
    "a", "an", "the", "and", "or", "of", "to", "for", "in", "on", "with", "by", "at", "from",
    "as", "is", "are", "was", "were", "be", "that", "which", "who", "our", "your", "their",
    "its", "this", "these", "those", "into", "than", "then", "without", "within", "about",
    "over", "under", "between", "through", "across", "after", "before", "during", "while",
    "because", "rather", "but", "not", "so", "such", "like", "via", "per", "if", "when", "how",
})
# Lower-cased at the start of a phrase quoted mid-sentence: never a name.
_FUNCTION_WORDS = frozenset({
    "a", "an", "the", "what", "why", "how", "when", "where", "who", "which", "our", "we", "it",
    "its", "this", "that", "these", "those", "there", "each", "every", "some", "more", "most",
    "many", "few", "key", "common", "main", "new", "first", "in", "for", "questions",
})
# fmt: on

# (title with the topic, title without it, bullets): {t} is the topic, {a} the audience.
_TOPIC_TEMPLATES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "Why {t} matters",
        "Why this matters",
        (
            "What {t} is, in one sentence",
            "Who it affects, and how",
            "What changes when it is done well",
            "The cost of ignoring it",
        ),
    ),
    (
        "Key facts about {t}",
        "Key facts",
        (
            "Where {t} comes from",
            "The numbers that describe it today",
            "Common misconceptions",
            "What the evidence says",
        ),
    ),
    (
        "How {t} works",
        "How it works",
        (
            "The main parts of {t}",
            "How the parts fit together",
            "A simple example from start to finish",
            "Where it usually goes wrong",
        ),
    ),
    (
        "{t} in practice",
        "In practice",
        (
            "A real-world example",
            "What worked and what did not",
            "Lessons others have learned",
            "What we can reuse",
        ),
    ),
    (
        "Benefits and opportunities",
        "Benefits and opportunities",
        (
            "What {t} offers {a}",
            "Quick wins",
            "Long-term gains",
            "Opportunities that are easy to miss",
        ),
    ),
    (
        "Challenges and risks",
        "Challenges and risks",
        (
            "Common obstacles with {t}",
            "Costs and trade-offs",
            "Risks to watch",
            "How to reduce them",
        ),
    ),
    (
        "Getting started with {t}",
        "Getting started",
        ("First steps", "Skills, tools and resources", "Who to involve", "A realistic first goal"),
    ),
    (
        "Measuring success",
        "Measuring success",
        (
            "What to measure",
            "Targets and milestones",
            "How to report progress",
            "When to change course",
        ),
    ),
    (
        "What's next for {t}",
        "What's next",
        ("Trends to watch", "Open questions", "Where to learn more", "Our next steps"),
    ),
    (
        "A short history of {t}",
        "A short history",
        ("Where it started", "Key milestones", "What changed recently", "Where it stands today"),
    ),
    (
        "Key terms and concepts",
        "Key terms and concepts",
        (
            "The vocabulary of {t}",
            "Concepts that are easy to confuse",
            "A one-line definition of each",
            "Where to look them up",
        ),
    ),
    (
        "Who is involved",
        "Who is involved",
        (
            "The main players in {t}",
            "What each of them wants",
            "How they work together",
            "Where their interests differ",
        ),
    ),
    (
        "Common myths about {t}",
        "Common myths",
        (
            "The myth most people believe",
            "What is actually true",
            "Why the myth persists",
            "How to explain the difference",
        ),
    ),
    (
        "Best practices",
        "Best practices",
        (
            "What experienced people do differently",
            "Habits worth copying",
            "Mistakes to avoid",
            "A simple checklist",
        ),
    ),
    (
        "A worked example",
        "A worked example",
        ("The situation", "The approach taken", "The result", "What to do differently next time"),
    ),
    (
        "Comparing the options",
        "Comparing the options",
        (
            "The main approaches to {t}",
            "Strengths of each",
            "Weaknesses of each",
            "When to choose which",
        ),
    ),
    (
        "Tools and resources",
        "Tools and resources",
        (
            "Tools that help with {t}",
            "Guides and references",
            "Communities and experts",
            "What they cost",
        ),
    ),
    (
        "Costs and effort",
        "Costs and effort",
        ("Time it takes", "Money it takes", "People it takes", "Where to save"),
    ),
    (
        "Timeline and milestones",
        "Timeline and milestones",
        ("Where things stand now", "The next milestone", "Dependencies", "What could cause delays"),
    ),
    (
        "Roles and responsibilities",
        "Roles and responsibilities",
        (
            "Who decides",
            "Who does the work",
            "Who needs to be informed",
            "How everyone stays in sync",
        ),
    ),
    (
        "Frequently asked questions",
        "Frequently asked questions",
        (
            "Is {t} right for us?",
            "How long does it take?",
            "What does it cost?",
            "Where do we start?",
        ),
    ),
    (
        "Lessons learned",
        "Lessons learned",
        ("What surprised us", "What to repeat", "What to change", "Advice for others"),
    ),
    (
        "Key takeaways",
        "Key takeaways",
        (
            "The one idea to remember about {t}",
            "What it means for {a}",
            "What to do next",
            "Where to find help",
        ),
    ),
    (
        "Further reading",
        "Further reading",
        ("Introductions to {t}", "In-depth sources", "People to follow", "Places to practise"),
    ),
)
_SECTION_NAMES = {
    2: ("Background and context", "Details and next steps"),
    3: ("Background and context", "The core ideas", "Putting it into practice"),
}
_NOTE_OPENERS = (
    "This slide is about {t}.",
    "Let's look at {t}.",
    "Now to {t}.",
    "Next up: {t}.",
)
_CONTENT_LAYOUTS = frozenset({Layout.bullets, Layout.bullets_image, Layout.two_columns})


@dataclass(frozen=True)
class _Phrase:
    text: str  # as the prompt wrote it, trimmed
    heading: str | None  # the "Heading:" the prompt put it under, if any


@dataclass
class _Run:
    heading: str | None
    phrases: list[_Phrase]
    slots: int = 1


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

    def said(self) -> list[str]:
        if self.spoken is not None:
            return [_unstop(text) for text in self.spoken]
        return [_decap(_unstop(bullet)) for bullet in self.bullets]


@dataclass(frozen=True)
class _Topic:
    full: str  # as the prompt wrote it: the deck's title
    short: str | None  # fits a template title; None when the topic is a whole statement

    @property
    def mention(self) -> str:
        return self.short or "the topic"


# --- the plan -----------------------------------------------------------------------------------


def offline_plan(request: OutlineRequest) -> SlidePlan:
    """A plan of exactly `request.slide_count` slides (1..30) from the prompt alone."""
    count = request.slide_count
    if not 1 <= count <= MAX_SLIDES:
        raise ValueError(f"slide_count must be between 1 and {MAX_SLIDES}")
    # A pasted document is summarised, not cut by position (issue 17).
    if is_document(request.prompt) and (summarised := document_plan(request)) is not None:
        return summarised
    topic, phrases = _read_prompt(request.prompt)
    audience = " ".join((request.audience or "").split()) or None
    deck_title = _clip(_cap(topic.full), MAX_TITLE_CHARS)

    has_agenda, has_closing = count >= 4, count >= 2
    body = count - 1 - has_agenda - has_closing
    sections = 3 if body >= THREE_SECTIONS_FROM else 2 if body >= SECTIONS_FROM else 0
    quote = _quotable(phrases) if body - sections >= QUOTE_FROM else None
    contents = _contents(phrases, body - sections - (quote is not None), topic, audience)

    slides = [_title_slide(deck_title, topic, request.tone, audience)]
    section_titles: list[str] = []
    position = 0
    for number, part in enumerate(_split_evenly(contents, sections) if sections else [contents]):
        if sections:
            name = _SECTION_NAMES[sections][number]
            section_titles.append(name)
            line = " · ".join(content.title for content in part[:3])
            said = [content.said_title() for content in part[:3]]
            slides.append(
                _slide(Layout.section, name, [line] if line else [], topic.full, said=said)
            )
        for content in part:
            slides.append(_content_slide(content, position, topic))
            position += 1
    if quote is not None:
        slides.append(_slide(Layout.quote, "Key message", [_cap(quote)], topic.full))
    if has_agenda:
        if section_titles:
            agenda, said = section_titles, [_lower_first(name) for name in section_titles]
        else:
            agenda = [content.title for content in contents]
            said = [content.said_title() for content in contents]
        slides.insert(1, _slide(Layout.agenda, "Agenda", agenda, topic.full, said=said))
    if has_closing:
        recap = [content.said_title() for content in contents[:3]]
        recap = recap or [_headline(phrase.text) for phrase in phrases[:3]]
        slides.append(_closing_slide(recap, topic.full))
    assert len(slides) == count, (len(slides), count)
    return SlidePlan(title=deck_title, slides=slides)


def offline_slide(plan: SlidePlan, index: int, instruction: str | None = None) -> Slide:
    """A rewrite of slide `index` that follows a simple instruction ("shorter", "add an example",
    "more detail", "with an image", "no image", "two columns"); without one, the bullets are
    reordered and the notes rephrased. The layout stays unless the new content does not suit it.
    """
    slide = plan.slides[index]
    wants = _Wishes.read(instruction)
    topic = _topic_of(plan.title)
    variant = index + 1 + len(slide.notes) % 3  # other words than the notes the slide had

    if slide.layout is Layout.agenda:
        bullets = agenda_bullets(plan) or list(slide.bullets)
        # Rewritten from the plan as it is now: titles may have been edited since.
        return _slide(Layout.agenda, slide.title, bullets, plan.title, index=index, variant=variant)
    if slide.layout is Layout.closing:
        recap = [_decap(s.title) for s in plan.slides if s.layout in _CONTENT_LAYOUTS][:3]
        closing = _closing_slide(recap, plan.title)
        return closing.model_copy(update={"index": index, "title": slide.title})
    if slide.layout in (Layout.title, Layout.section, Layout.quote):
        bullets = list(slide.bullets)
        if wants.shorter and bullets:
            bullets = [_shorten(bullets[0])]
        return _slide(slide.layout, slide.title, bullets, plan.title, index=index, variant=variant)

    bullets = [bullet for bullet in slide.bullets if bullet.strip()]
    if wants.shorter:
        keep = max(2, min(3, len(bullets) - 1))
        bullets = [_cap(_shorten(bullet)) for bullet in bullets[:keep]]
    elif wants.longer:
        said = {bullet.casefold() for bullet in bullets}
        fillers = [_cap(filler) for filler in _fillers(slide.title, topic)]
        more = [filler for filler in fillers if filler.casefold() not in said]
        bullets = [*bullets, *more][: max(len(bullets), min(len(bullets) + 2, 6))]
    elif len(bullets) >= 2 and not wants.example and two_sides(slide.title, bullets) is None:
        bullets = [*bullets[1:], bullets[0]]  # (the two sides of a comparison keep their order)
    if wants.example:
        example = f"For example: how {_decap(slide.title)} plays out in practice"
        bullets = [*bullets[: MAX_BULLETS - 1], example]
    for filler in _fillers(slide.title, topic):
        if len(bullets) >= 2:
            break
        bullets.append(_cap(filler))

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
        notes=_content_notes(content, layout, variant),
        image_prompt=image_prompt,
    )


def speaker_notes(slide: Slide, deck_title: str) -> str:
    """Notes a presenter could say for `slide`, written from its title and bullets."""
    if slide.layout in _CONTENT_LAYOUTS:
        content = _Content(title=slide.title, bullets=list(slide.bullets))
        return _content_notes(content, slide.layout, slide.index)
    return _slide(slide.layout, slide.title, list(slide.bullets), deck_title).notes


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
            found.extend(_Phrase(text, heading) for text in _clauses(line[marker.end() :]))
            continue
        if line.endswith((":", "\uff1a")) and len(line.split()) <= 10:
            heading = _strip_instruction(_clean(line))
            heading = None if not heading or _EMPTY_HEADING.match(heading) else heading
            continue
        heading = None
        for sentence in _SENTENCE_END.split(line):
            head, items = _listed(sentence)
            if items:
                found.extend(_Phrase(item, head) for item in items)
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
        if len(text) < 2 or text.casefold() in seen:
            continue
        seen.add(text.casefold())
        phrases.append(_Phrase(text, phrase.heading))
    return topic, phrases


def _topic_of(text: str) -> _Topic:
    full = _limit_words(_clean(text), TOPIC_WORDS)
    if not any(character.isalnum() for character in full):
        return _Topic(full="Overview", short=None)
    short: str | None = full
    if len(full.split()) > SHORT_TOPIC_WORDS:
        head = _TOPIC_QUALIFIER.split(full, maxsplit=1)[0]
        short = head if 2 <= len(head.split()) <= SHORT_TOPIC_WORDS else None
    return _Topic(full=full, short=short)


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
        if not head or _EMPTY_HEADING.match(head) or len(head.split()) > TITLE_WORDS:
            head = None
        limit = 12
    else:
        tail = _strip_instruction(sentence)
        limit = 4
    items = [
        _LEADING_CONJUNCTION.sub("", part).strip()
        for part in _LIST_SEPARATOR.split(tail.strip().rstrip(_TRAILING_PUNCTUATION))
    ]
    items = [item for item in items if item]
    # Without a colon, only a list of short items ("a, b and c") is a list, not a long sentence.
    minimum = 2 if has_colon else 3
    if len(items) < minimum or any(len(item.split()) > limit for item in items):
        return None, []
    return head, items


def _clauses(sentence: str) -> list[str]:
    """A sentence as one phrase, or as its clauses when it is too long for one bullet."""
    sentence = sentence.strip()
    if not sentence:
        return []
    if len(sentence.split()) <= 14:
        return [sentence]
    pieces: list[str] = []
    for clause in _CLAUSE_BREAK.split(sentence):
        clause = _LEADING_CONJUNCTION.sub("", clause.strip())
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


def _contents(
    phrases: list[_Phrase], count: int, topic: _Topic, audience: str | None
) -> list[_Content]:
    """Exactly `count` content slides: the prompt's material first, then topic templates."""
    if count <= 0:
        return []
    from_prompt = [_group_content(title, group, topic) for title, group in _groups(phrases, count)]
    taken = {content.title.casefold() for content in from_prompt}
    templates = [t for t in _templates(topic, audience) if t.title.casefold() not in taken]
    missing = count - len(from_prompt)
    fillers = [templates[i % len(templates)] for i in range(missing)]
    if missing >= 2 and from_prompt:
        # "Why it matters" opens; the prompt's own material follows; the rest closes.
        return [fillers[0], *from_prompt, *fillers[1:]]
    return [*from_prompt, *fillers]


def _groups(phrases: list[_Phrase], count: int) -> list[tuple[str | None, list[_Phrase]]]:
    """At most `count` (title, phrases) groups of consecutive phrases, following the prompt's
    headings: a heading's items stay together unless there are slides to spare."""
    runs: list[_Run] = []
    for phrase in phrases:
        if runs and runs[-1].heading == phrase.heading:
            runs[-1].phrases.append(phrase)
        else:
            runs.append(_Run(heading=phrase.heading, phrases=[phrase]))
    if len(runs) > count:
        chunks = _split_evenly(phrases, count)
        return [(_shared_heading(chunk), chunk) for chunk in chunks]
    # Spare slides go, one at a time, to the run with the most phrases per slide, as long as
    # each slide keeps enough: two phrases under a heading, one otherwise.
    while sum(run.slots for run in runs) < count:
        open_runs = [
            run for run in runs if len(run.phrases) / (run.slots + 1) >= (2 if run.heading else 1)
        ]
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
                groups.append((f"{run.heading} (continued)", chunk))
    return groups


def _shared_heading(phrases: list[_Phrase]) -> str | None:
    headings = {phrase.heading for phrase in phrases}
    return phrases[0].heading if len(headings) == 1 else None


def _group_content(heading: str | None, group: list[_Phrase], topic: _Topic) -> _Content:
    texts = [phrase.text for phrase in group]
    if heading is None and 2 <= len(texts) <= 3 and all(_is_short(text) for text in texts):
        # A few bare terms ("causes", "effects"): together they name the slide.
        link = f"how they connect to {topic.short}" if topic.short else "how they fit together"
        spoken = [*texts, link]
        return _Content(
            title=_clip(_cap(_join(texts)), MAX_TITLE_CHARS),
            bullets=[_cap(text) for text in spoken],
            spoken_title=_join(texts),
            spoken=spoken,
        )
    subject = heading or texts[0]
    spoken_title = heading or _headline(texts[0])
    title = _clip(_cap(spoken_title), MAX_TITLE_CHARS)
    if texts[0].casefold() == spoken_title.casefold():
        texts = texts[1:]  # the title already says it
    spoken = texts[:MAX_CONTENT_BULLETS]
    if len(spoken) < 2:
        spoken += _fillers(subject, topic)[: 3 - len(spoken)]
    return _Content(
        title=title,
        bullets=[_cap(text) for text in spoken],
        extra=texts[MAX_CONTENT_BULLETS:],
        spoken_title=spoken_title,
        spoken=spoken,
    )


def _templates(topic: _Topic, audience: str | None) -> list[_Content]:
    values = {"t": topic.mention, "a": audience or "the people involved"}
    contents: list[_Content] = []
    for with_topic, without, bullets in _TOPIC_TEMPLATES:
        # Our own words: lower case reads right mid-sentence, unless the topic comes first.
        title = _lower_first(with_topic).format(t=topic.short) if topic.short else without
        spoken = [_lower_first(bullet).format(**values) for bullet in bullets]
        contents.append(
            _Content(
                title=_clip(_cap(title), MAX_TITLE_CHARS),
                bullets=[_cap(text) for text in spoken],
                spoken_title=_lower_first(title) if not topic.short else title,
                spoken=spoken,
            )
        )
    return contents


def _fillers(subject: str, topic: _Topic) -> list[str]:
    """Bullets for a slide the prompt gave only a title's worth of words for."""
    fillers = ["why it matters", "a concrete example", "key points to remember"]
    if topic.short and _is_short(subject) and subject.casefold() != topic.full.casefold():
        fillers.insert(0, f"{subject} in the context of {topic.short}")
    return fillers


def _quotable(phrases: list[_Phrase]) -> str | None:
    candidates = [
        p.text for p in phrases if QUOTE_MIN_WORDS <= len(p.text.split()) <= QUOTE_MAX_WORDS
    ]
    # The longest statement says the most; the earliest wins a tie.
    return max(candidates, key=lambda text: len(text.split()), default=None)


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


def _title_slide(title: str, topic: _Topic, tone: str | None, audience: str | None) -> Slide:
    tone = " ".join((tone or "").split()) or None
    subtitle: str | None = None
    if tone:
        subtitle = f"{_article(tone)} {tone} overview" + (f" for {audience}" if audience else "")
    elif audience:
        subtitle = f"For {audience}"
    return _slide(Layout.title, title, [subtitle] if subtitle else [], topic.full)


def _closing_slide(recap: list[str], topic: str) -> Slide:
    """`recap`: titles as they read mid-sentence."""
    bullets = ["Questions and discussion"]
    if recap:
        bullets.append("Recap: " + ", ".join(recap))
    return _slide(Layout.closing, "Thank you", bullets, topic, said=recap)


def _content_slide(content: _Content, position: int, topic: _Topic) -> Slide:
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
        notes=_content_notes(content, layout, position),
        image_prompt=_image_prompt(content, topic) if layout is Layout.bullets_image else None,
    )


def _slide(
    layout: Layout,
    title: str,
    bullets: list[str],
    topic: str,
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
        said = _said_from_bullets(layout, bullets)
    if layout is Layout.title:
        notes = f"Welcome, and thank you for being here. This presentation is about {topic}."
        if said:
            notes += f" It is meant {said[0]}." if said[0].startswith("for ") else ""
            notes += f" It is {said[0]}." if said[0].startswith(("a ", "an ")) else ""
        notes += " Let's get started." if variant % 2 == 0 else " Let's begin."
    elif layout is Layout.agenda:
        notes = f"Here is the plan: {_sequence(said)}." if said else "Here is the plan."
        notes += " Questions are welcome along the way, and there is time for them at the end."
    elif layout is Layout.section:
        ours = any(title in names for names in _SECTION_NAMES.values())
        notes = f"This part is about {_lower_first(title) if ours else _decap(title)}."
        notes += f" It covers {_join(said)}." if said else ""
    elif layout is Layout.quote:
        quoted = _unstop(bullets[0]) if bullets else title
        notes = f"If you remember one thing from this presentation, let it be this: {quoted}."
    else:
        notes = "To wrap up: thank you for your attention."
        notes += f" We looked at {_join(said)}." if said else ""
        notes += " I'm happy to take your questions now."
    return Slide(index=index, layout=layout, title=title, bullets=bullets, notes=_clip(notes, 5000))


def _said_from_bullets(layout: Layout, bullets: list[str]) -> list[str]:
    if layout is Layout.section:
        return [_decap(item) for item in bullets[0].split(" · ")] if bullets else []
    if layout is Layout.closing:
        recap = next((b for b in bullets if b.startswith("Recap: ")), "")
        return [item for item in recap.removeprefix("Recap: ").split(", ") if item]
    return [_decap(_unstop(bullet)) for bullet in bullets]


def _content_notes(content: _Content, layout: Layout, variant: int) -> str:
    opener = _NOTE_OPENERS[variant % len(_NOTE_OPENERS)]
    said = content.said()
    parts = [opener.format(t=content.said_title())]
    if len(said) == 1:
        parts.append(f"The point to make: {said[0]}.")
    elif said:
        parts.append(f"First, {said[0]}.")
        parts.extend(f"Next, {point}." for point in said[1:-1])
        parts.append(f"Finally, {said[-1]}.")
    if layout is Layout.two_columns and len(said) >= 2:
        parts.append("Read the two columns side by side.")
    if layout is Layout.bullets_image:
        parts.append("The picture gives the audience something to anchor these points to.")
    if content.extra:
        parts.append(f"If time allows, also mention: {'; '.join(map(_unstop, content.extra))}.")
    return _clip(" ".join(parts), MAX_NOTES_CHARS)


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
    match = _REQUEST_PREFIX.match(text)
    if match and (match.group("verb") or match.group("noun")):
        return text[match.end() :]
    return text


def _strip_instruction(text: str) -> str:
    return _INSTRUCTION_PREFIX.sub("", text, count=1)


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


def _is_short(text: str) -> bool:
    return len(text.split()) <= SHORT_PHRASE_WORDS


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
    if len(text.split()) > WHOLE_TITLE_WORDS:
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


def _sequence(items: list[str]) -> str:
    """ "first a, then b, and finally c": an order to follow, not a list to parse."""
    if len(items) <= 1:
        return "".join(items)
    middle = "".join(f", then {item}" for item in items[1:-1])
    last = "and then" if len(items) == 2 else "and finally"
    return f"first {items[0]}{middle}, {last} {items[-1]}"


def _article(word: str) -> str:
    return "An" if word[:1].casefold() in "aeiou" else "A"


def _join(items: list[str]) -> str:
    items = [item for item in items if item]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
