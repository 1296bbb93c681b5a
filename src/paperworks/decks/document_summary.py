# ruff: noqa: RUF001  # CJK punctuation and dashes are what these texts hold, on purpose
"""Extractive summaries of pasted documents, and the offline plan made from them.

A user pastes a meeting note or a report, not only a topic. Cutting it by position lost the
decisions and action items and cut sentences with an ellipsis; here the document is split into
sections (headings or blank lines), its sentences are ranked (word-frequency centrality,
position, figures), decisions and action items are pulled out, and whole sentences or clauses
become bullets. What does not fit on a slide goes to its notes. Pure and deterministic.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from paperworks.decks.phrasebook import Phrases
from paperworks.decks.plan import (
    MAX_BULLET_CHARS,
    MAX_NOTES_CHARS,
    MAX_TITLE_CHARS,
    Layout,
    OutlineRequest,
    Slide,
    SlidePlan,
)

BULLETS_PER_SLIDE = 5
TITLE_WORDS = 7

# A prompt is a document when it says this much; a topic or a short request says less.
DOCUMENT_MIN_CHARS = 400
DOCUMENT_MIN_SENTENCES = 4

_NEXT_SENTENCE = r"(?=[\"'(\[]?[A-Z0-9ÄÖÜÀ-ÝÁÉÍÓÚ¿¡@])"
# A German date's day ("am 8. November") ends no sentence; a year ("in 2026. The") does.
_SENTENCE_END = re.compile(
    rf"(?<=[.!?])(?<!\d\.)\s+{_NEXT_SENTENCE}|(?<=\d\.)\s+(?!(?:Januar|Jänner|Februar|März|April|"
    rf"Mai|Juni|Juli|August|September|Oktober|November|Dezember)\b){_NEXT_SENTENCE}|(?<=[。！？])"
)
_CLAUSE_BREAK = re.compile(r"(?<=[,;:])\s+|\s+[–—-]\s+|(?<=[、，；])")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_NUMBER = re.compile(r"\d")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
# "1. Release 4.2 status": a number's dots ("4.2") are not a sentence's end.
_NUMBERED_HEADING = re.compile(
    r"^\s*(?:\d+(?:\.\d+)*[.)]?|[IVX]+\.)\s+([A-ZÄÖÜ](?:[^.!?]|(?<=\d)\.(?=\d)){1,70})$"
)
# Sections whose every line is an action item or a decision, whatever their wording.
_ACTIONS_HEADING = re.compile(
    r"^(?:action\s+items?|actions?|to-?dos?|tasks|next\s+steps|follow-?ups?|aufgaben|"
    r"to-?do-?liste|nächste\s+schritte|actions\s+à\s+mener|prochaines\s+étapes|tâches|"
    r"tareas(?:\s+pendientes)?|próximos\s+pasos|tarefas|próximos\s+passos|azioni(?:\s+da\s+"
    r"svolgere)?|prossimi\s+passi|compiti|待办事项|行动项|后续步骤|アクションアイテム|宿題)$",
    re.IGNORECASE,
)
_DECISIONS_HEADING = re.compile(
    r"^(?:decisions?|beschlüsse|entscheidungen|décisions|decisiones|decisões|decisioni|决定|"
    r"决议|決定事項)$",
    re.IGNORECASE,
)
_BULLET_MARK = re.compile(r"^\s*(?:[-*•·]|\d+[.)])\s+")
_DECISION = re.compile(
    r"\b(?:we\s+decided|decided\s+(?:to|that)|(?:decision|beschluss|entscheidung|décision|"
    r"decisión|decisão|decisione)(?=\s*:)|agreed|we\s+will\s+go\s+with|approved|beschlossen|"
    r"entschieden|décidé|decidimos|se\s+decidió|decidiu|deciso|approvato)\b|决定：|決定：",
    re.IGNORECASE,
)
_ACTION_LABEL = re.compile(
    r"^\s*(?:action(?:\s+item)?|todo|ai|next\s+step)\s*[:\-–]\s*(.+)$", re.IGNORECASE
)
_LABEL = re.compile(
    r"^\s*(?:decision|beschluss|entscheidung|décision|decisión|decisão|decisione|todo|"
    r"action(?:\s+item)?)\s*[:\-–]\s*|^\s*(?:决定|決定)[：:]\s*",
    re.IGNORECASE,
)
_TODO_OWNER = re.compile(r"@(\w+)")
_OWNER_WILL = re.compile(
    r"\b([A-Z][a-zà-ÿ]+(?:\s+[A-Z][a-zà-ÿ]+)?)\s+(?:will|is\s+to|to|should|must|needs\s+to)\s+"
    r"(?!be\b)([a-z]\w+)"
)
_OWNER_DASH = re.compile(r"^([A-Z][\wà-ÿ]+(?:\s+[A-Z][\wà-ÿ]+)?)\s*[–—:-]\s+(.+)$")
_DATE = re.compile(
    r"\b(?:by|before|until|on|due)\s+((?:next\s+)?(?:monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday|tomorrow|end\s+of\s+(?:the\s+)?(?:week|month|quarter|sprint)|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?|"
    r"\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*|"
    r"\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}(?:[./]\d{2,4})?|q[1-4]))"
    r"|\(((?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2})\)",
    re.IGNORECASE,
)
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "has",
        "have",
        "had",
        "do",
        "does",
        "did",
        "will",
        "would",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "we",
        "our",
        "you",
        "your",
        "they",
        "their",
        "he",
        "she",
        "his",
        "her",
        "i",
        "me",
        "my",
        "said",
        "says",
        "about",
        "into",
        "over",
        "than",
        "then",
        "so",
        "not",
        "no",
        "also",
        "just",
        "very",
        "there",
        "here",
        "which",
        "who",
        "whom",
        "what",
        "when",
        "where",
        "how",
        "why",
        "while",
        "after",
        "before",
        "because",
        "und",
        "oder",
        "der",
        "die",
        "das",
        "ein",
        "eine",
        "mit",
        "von",
        "zu",
        "den",
        "dem",
        "des",
        "ist",
        "sind",
        "le",
        "la",
        "les",
        "et",
        "ou",
        "de",
        "des",
        "du",
        "un",
        "une",
        "el",
        "los",
        "las",
        "y",
        "o",
        "del",
        "en",
        "que",
    ]
)


@dataclass
class Sentence:
    text: str
    position: int  # in the document, 0-based
    score: float = 0.0


@dataclass
class Section:
    title: str
    sentences: list[Sentence] = field(default_factory=list)


@dataclass(frozen=True)
class ActionItem:
    text: str  # the whole item, as a bullet
    owner: str | None
    due: str | None


@dataclass
class DocumentSummary:
    title: str
    sections: list[Section]
    decisions: list[str]
    action_items: list[ActionItem]


def is_document(prompt: str) -> bool:
    """True for pasted text with several sentences or paragraphs, not a topic or a request."""
    text = prompt.strip()
    if len(text) < DOCUMENT_MIN_CHARS:
        return False
    return len(_sentences_of(text)) >= DOCUMENT_MIN_SENTENCES or text.count("\n\n") >= 2


def summarise(text: str) -> DocumentSummary:
    """Sections, ranked sentences, decisions and action items of a document."""
    blocks = _blocks(text)
    title = _title_line(text)
    if title and blocks and blocks[0][1] and _clean_heading(blocks[0][1][0]) == title:
        blocks[0] = (blocks[0][0], blocks[0][1][1:])  # the title, not a sentence of the text
    decisions: list[str] = []
    actions: list[ActionItem] = []
    sections: list[Section] = []
    position = 0
    for heading, lines in blocks:
        section = Section(title=heading or "")
        all_actions = bool(heading and _ACTIONS_HEADING.match(heading))
        all_decisions = bool(heading and _DECISIONS_HEADING.match(heading))
        for sentence_text in _sentences_of(" ".join(lines)):
            action = _action_of(sentence_text) or (_owned(sentence_text) if all_actions else None)
            if action is not None:
                actions.append(action)
            elif all_decisions or _DECISION.search(sentence_text):
                decisions.append(_as_sentence(_strip_label(sentence_text)))
            else:
                section.sentences.append(Sentence(_as_sentence(sentence_text), position))
            position += 1
        if section.sentences:
            sections.append(section)
        elif heading and sections and not lines:
            continue
    _rank([s for section in sections for s in section.sentences], position)
    for section in sections:
        if not section.title:
            best = max(section.sentences, key=lambda s: s.score)
            section.title = phrase_title(best.text)
    sections = _merge_small(sections)
    title = title or (sections[0].title if sections else "")
    return DocumentSummary(title, sections, _unique(decisions), _unique_actions(actions))


def _owned(sentence: str) -> ActionItem:
    """A line of an "Action items" section: "Tom Becker: fix the export by 15 November"."""
    owner: str | None = None
    body = sentence
    if (match := _OWNER_DASH.match(sentence)) and len(match.group(1).split()) <= 3:
        owner, body = match.group(1), match.group(2)
    due = _DATE.search(sentence)
    return ActionItem(
        text=_as_sentence(body), owner=owner, due=(due.group(1) or due.group(2)) if due else None
    )


def phrase_title(sentence: str) -> str:
    """A short phrase from a sentence: its first clause, at most a few words, no stop word last."""
    clause = _CLAUSE_BREAK.split(sentence.strip())[0]
    if _is_cjk(clause):
        return clause.rstrip("。！？.!?、，")[:20]
    words = clause.rstrip(".!?").split()[:TITLE_WORDS]
    while len(words) > 1 and _bare(words[-1]) in STOP_WORDS:
        words.pop()
    phrase = " ".join(words).strip(" ,;:-–—")
    return _cap(phrase)[:MAX_TITLE_CHARS].rstrip() or "Overview"


def shorten_at_clause(text: str, limit: int = MAX_BULLET_CHARS) -> tuple[str, str]:
    """(`text` cut to `limit` at a clause or word boundary, what was left over) — never an "…"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text, ""
    parts = _CLAUSE_BREAK.split(text)
    head = ""
    for part in parts:
        candidate = f"{head} {part}".strip() if head else part
        if len(candidate) > limit:
            break
        head = candidate
    if not head:
        words, head = text.split(), ""
        for word in words:
            if len(head) + len(word) + 1 > limit:
                break
            head = f"{head} {word}".strip()
        head = head or text[:limit]
    rest = text[len(head) :].strip(" ,;:-–—")
    return head.rstrip(" ,;:-–—"), rest


def document_plan(request: OutlineRequest, words: Phrases) -> SlidePlan | None:
    """A plan of at most `request.slide_count` slides from a document, framed in `words`'
    language; None if it has too little for one content slide."""
    count = request.slide_count
    summary = summarise(request.prompt)
    title = summary.title or words.summary
    has_agenda, has_closing = count >= 4, count >= 2
    slots = count - 1 - has_agenda - has_closing
    units = [
        # The first section is often headed by the document's own title: not twice in a row.
        (words.unrepeated(unit[0], title), *unit[1:])
        for unit in _units(summary, slots, words)
    ]
    if not units and slots > 0:
        return None
    slides = [_slide(Layout.title, title, [], words.summarises.format(title))]
    if has_agenda and len(units) >= 2:
        names = _unique([unit_title for unit_title, _, _ in units])[:12]
        plan = words.plan.format(words.in_sequence(names))
        slides.append(_slide(Layout.agenda, words.agenda, names, plan))
    for number, (unit_title, bullets, notes) in enumerate(units):
        layout = Layout.bullets_image if number % 3 == 0 else Layout.bullets
        slide = _slide(layout, unit_title, bullets, notes)
        if layout is Layout.bullets_image:
            slide.image_prompt = f"A clean illustration of {unit_title.lower()}"
        slides.append(slide)
    if has_closing:
        recap = [unit_title for unit_title, _, _ in units[:3]]
        bullets = [words.questions]
        if recap:
            bullets.append(words.recap.format(words.comma.join(recap)))
        looked_at = words.looked_at.format(words.join(recap)) if recap else ""
        notes = words.sentences(words.wrap_up, looked_at, words.take_questions)
        slides.append(_slide(Layout.closing, words.thanks, bullets, notes))
    for index, slide in enumerate(slides):
        slide.index = index
    return SlidePlan(title=title, slides=slides)


# --- reading ------------------------------------------------------------------------------------


def _blocks(text: str) -> list[tuple[str | None, list[str]]]:
    """(heading, lines) per section: a heading starts one, a blank line ends a paragraph."""
    blocks: list[tuple[str | None, list[str]]] = []
    heading: str | None = None
    lines: list[str] = []

    def close() -> None:
        if lines or heading:
            blocks.append((heading, list(lines)))
        lines.clear()

    raw_lines = text.splitlines()
    for number, raw in enumerate(raw_lines):
        line = raw.strip()
        if not line:
            if lines:
                close()
                heading = None
            continue
        after_blank = number == 0 or not raw_lines[number - 1].strip()
        found = _heading_of(line, raw_lines[number + 1 :], after_blank=after_blank)
        if found is not None:
            close()
            heading = found
            continue
        line = _BULLET_MARK.sub("", line)
        # A list item is a sentence of its own.
        listed = _BULLET_MARK.match(raw) or _ACTION_LABEL.match(line) or "@" in line
        if listed and not line.endswith((".", "!", "?", "。")):
            line += "."
        lines.append(line)
    close()
    return blocks


def _heading_of(line: str, following: list[str], *, after_blank: bool = False) -> str | None:
    if match := _MD_HEADING.match(line):
        return _clean_heading(match.group(1))
    if (match := _NUMBERED_HEADING.match(line)) and len(match.group(1).split()) <= 8:
        return _clean_heading(match.group(1))
    words = line.split()
    if line.endswith(":") and 1 <= len(words) <= 6 and not _ACTION_LABEL.match(line):
        return _clean_heading(line[:-1])
    # A short line without end punctuation, followed by text: title case ("Customer Feedback"),
    # or a paragraph of its own before it ("Progress this quarter").
    if (
        1 <= len(words) <= (8 if after_blank else 6)
        and not line.endswith((".", "!", "?", ",", ";", "。"))
        and line[0].isupper()
        and (
            after_blank
            or sum(w[0].isupper() for w in words if _bare(w) not in STOP_WORDS) >= len(words) / 2
        )
        and following
        and following[0].strip()
        and not _BULLET_MARK.match(line)
    ):
        return _clean_heading(line)
    return None


def _clean_heading(text: str) -> str:
    text = _cap(text.strip(" #*_:"))
    if len(text) > MAX_TITLE_CHARS:
        cut = text[:MAX_TITLE_CHARS]
        text = cut[: cut.rfind(" ")] if " " in cut else cut  # at a word, never mid-word
    return text.rstrip(" ,;:-–—")


def _sentences_of(text: str) -> list[str]:
    text = " ".join(text.split())
    return [part.strip() for part in _SENTENCE_END.split(text) if part and part.strip()]


def _action_of(sentence: str) -> ActionItem | None:
    text = sentence.strip()
    labelled = _ACTION_LABEL.match(text)
    todo = text.lower().startswith("todo") or "@" in text
    owner: str | None = None
    body = text
    if labelled:
        body = labelled.group(1).strip()
        if match := _OWNER_DASH.match(body):
            owner = match.group(1)
    if match := _TODO_OWNER.search(text):
        owner = owner or match.group(1)
    match = _OWNER_WILL.search(text) if owner is None else None
    if match and _bare(match.group(1).split()[0]) not in STOP_WORDS:
        owner = match.group(1)
    due_match = _DATE.search(text)
    due = (due_match.group(1) or due_match.group(2)) if due_match else None
    if not (labelled or todo or (owner and (due or _will(text)))):
        return None
    bullet = _as_sentence(_strip_label(body))
    return ActionItem(text=bullet, owner=owner, due=due)


def _will(text: str) -> bool:
    return bool(re.search(r"\b(?:will|is to|needs to)\b", text))


def _strip_label(text: str) -> str:
    return _LABEL.sub("", text)


def _rank(sentences: list[Sentence], total: int) -> None:
    """Centrality by shared content words, a little for being early, a little for figures."""
    bags = [_content_words(s.text) for s in sentences]
    frequency = Counter(word for bag in bags for word in set(bag))
    for sentence, bag in zip(sentences, bags, strict=True):
        centrality = sum(frequency[w] for w in set(bag)) / (len(set(bag)) or 1)
        early = 1.0 - sentence.position / (total or 1)
        figures = 0.5 if _NUMBER.search(sentence.text) else 0.0
        sentence.score = centrality + early + figures


def _content_words(text: str) -> list[str]:
    words = [w.lower() for w in _WORD.findall(text)]
    if _is_cjk(text):
        words += [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]
    return [w for w in words if w not in STOP_WORDS and len(w) > 1]


def _merge_small(sections: list[Section]) -> list[Section]:
    """An untitled paragraph of one sentence joins the one before it."""
    merged: list[Section] = []
    for section in sections:
        if merged and len(section.sentences) == 1 and len(merged[-1].sentences) < 3:
            merged[-1].sentences.extend(section.sentences)
        else:
            merged.append(section)
    return merged


def _title_line(text: str) -> str:
    """The document's own title: a Markdown heading, or a short first line that ends no
    sentence; "" when it starts with its text."""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if match := _MD_HEADING.match(line.strip()):
            return _clean_heading(match.group(1))
        if line.strip():
            first = line.strip()
            alone = number + 1 >= len(lines) or not lines[number + 1].strip()
            # A line of its own is a title even with a period ("TSV Grünwald e.V.").
            if len(first.split()) <= (14 if alone else 10) and (
                alone or not first.endswith((".", "!", "?", "。"))
            ):
                return _clean_heading(first)
            break
    return ""


def _units(
    summary: DocumentSummary, slots: int, words: Phrases
) -> list[tuple[str, list[str], str]]:
    """(title, bullets, notes) for each content slide: at most `slots` of them, fewer when the
    document is too short to give each slide two bullets."""
    if slots <= 0:
        return []
    extracted: list[tuple[str, list[str]]] = []
    if summary.decisions:
        extracted.append((words.decisions, summary.decisions))
    if summary.action_items:
        extracted.append((words.action_items, [_action_bullet(a) for a in summary.action_items]))
    section_slots = slots - len(extracted)
    sections = summary.sections
    if section_slots < 0:
        # One slide for both, so nothing agreed is left out.
        merged = [b for _, bullets in extracted for b in bullets]
        extracted = [
            (words.join([words.decisions, _mid_sentence(words.action_items, words)]), merged)
        ]
        section_slots = slots - 1
    # Too many sections: the best sentences of the lowest-ranked ones move to the notes of the
    # one before them. Too few: long sections continue on the next slide.
    groups: list[tuple[str, list[Sentence]]] = [(s.title, list(s.sentences)) for s in sections]
    while len(groups) > section_slots and len(groups) > 1:
        weakest = min(range(1, len(groups)), key=lambda i: _strength(groups[i][1]))
        _, sentences = groups.pop(weakest)
        groups[weakest - 1][1].extend(sentences)
    if section_slots == 0:
        groups = []
    while len(groups) < section_slots:
        longest = max(range(len(groups)), key=lambda i: len(groups[i][1]), default=None)
        if longest is None or len(groups[longest][1]) < 4:  # two bullets a slide, at least
            break
        title, sentences = groups[longest]
        half = (len(sentences) + 1) // 2
        groups[longest : longest + 1] = [(title, sentences[:half]), (title, sentences[half:])]
    # A section split over several slides is "continued" after its first.
    titles = [title for title, _ in groups]
    titles = [
        words.continued.format(title) if title in titles[:number] else title
        for number, title in enumerate(titles)
    ]
    units = [
        _section_unit(title, sentences, words)
        for title, (_, sentences) in zip(titles, groups, strict=True)
    ]
    units += [_list_unit(title, bullets, words) for title, bullets in extracted]
    return units


def _strength(sentences: list[Sentence]) -> float:
    return max((s.score for s in sentences), default=0.0)


def _section_unit(
    title: str, sentences: list[Sentence], words: Phrases
) -> tuple[str, list[str], str]:
    best = sorted(sentences, key=lambda s: -s.score)[:BULLETS_PER_SLIDE]
    chosen = sorted(best, key=lambda s: s.position)
    bullets: list[str] = []
    rest: list[str] = []
    for sentence in chosen:
        head, tail = shorten_at_clause(sentence.text)
        bullets.append(head)
        if tail:
            rest.append(_as_sentence(_cap(tail)))
    others = [s.text for s in sorted(sentences, key=lambda s: s.position) if s not in chosen]
    notes = _notes(words.openers[0].format(_decap(title)), rest + others, words)
    return title, bullets, notes


def _list_unit(title: str, items: list[str], words: Phrases) -> tuple[str, list[str], str]:
    bullets: list[str] = []
    rest: list[str] = []
    for item in items:
        head, tail = shorten_at_clause(item)
        (bullets if len(bullets) < 12 else rest).append(head)
        if tail:
            rest.append(_as_sentence(_cap(tail)))
    notes = _notes(words.here_are.format(_mid_sentence(title, words)), rest + items[12:], words)
    return title, bullets[:12], notes


def _action_bullet(action: ActionItem) -> str:
    text = action.text
    if action.owner and action.owner.lower() not in text.lower():
        text = f"{action.owner}: {text}"
    return text


def _notes(opening: str, sentences: list[str], words: Phrases) -> str:
    notes = opening
    for sentence in sentences:
        if len(notes) + 1 + len(sentence) > MAX_NOTES_CHARS:
            break
        notes = words.sentences(notes, sentence)
    return notes


def _slide(layout: Layout, title: str, bullets: list[str], notes: str) -> Slide:
    return Slide(
        index=0,
        layout=layout,
        title=_cap(title)[:MAX_TITLE_CHARS].rstrip() or "Overview",
        bullets=bullets[:12],
        notes=notes,
    )


# --- words --------------------------------------------------------------------------------------


def _as_sentence(text: str) -> str:
    text = " ".join(text.split()).strip()
    if text and text[-1] not in ".!?。！？":
        text += "。" if _is_cjk(text) else "."
    return _cap(text)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _mid_sentence(title: str, words: Phrases) -> str:
    """One of our titles mid-sentence: "action items", but German nouns keep their capital."""
    return title if words.code == "de" else title.lower()


def _decap(text: str) -> str:
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def _bare(word: str) -> str:
    return word.strip(".,;:!?()[]\"'").lower()


def _is_cjk(text: str) -> bool:
    return any("\u3040" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" for ch in text)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _unique_actions(items: list[ActionItem]) -> list[ActionItem]:
    return list({item.text: item for item in items}.values())
