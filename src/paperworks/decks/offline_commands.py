"""The decks product's offline commands: plain English deck requests, carried out with the deck
tools when no language model is configured.

    "make a 6-slide presentation about urban birds"  -> build_deck(prompt=..., slide_count=6)
    "outline a talk on tidal energy"                  -> create_outline(prompt=...)
    "build my latest draft"                           -> build_deck(deck_id=<newest draft>)
    "is my deck ready?", "show my decks"              -> list_decks (and get_deck for links)

Only a message that names a deck (deck, presentation, slides, slideshow, talk...) is read as one:
everything else is left to the next family, so "make buy milk high priority" stays a task.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from paperworks.mcp.offline import Memory, OfflineAnswer, RecordedCalls, ToolCall, ToolFailed

EXAMPLES = (
    "make a 6-slide presentation about urban birds",
    "outline a talk on tidal energy",
    "build my latest draft",
    "is my deck ready?",
)
MAX_SLIDES_ASKED = 30
SHOWN_DECKS = 10

_NOUN = (
    r"(?:(?:powerpoint|pptx|slide)\s+)?"
    r"(?:slide\s*deck|deck|presentation|slideshow|slide\s*show|slides|powerpoint|pptx|talk)"
)
_COUNT = r"(?:(?P<count>\d{1,2})|(?P<word>one|two|three|four|five|six|seven|eight|nine|ten|twelve))"
_SIZED = rf"(?:{_COUNT}[\s-]*(?:slides?|page)?[\s-]*)?"
# Not "for": "prepare the slides for Monday" says when, not what about.
_TOPIC = r"(?:about|on|covering|explaining|introducing|presenting|titled|called|of)\s+(?P<topic>.+)"
_LEAD = r"^(?:please\s+|can\s+you\s+|could\s+you\s+|i\s+need\s+(?:you\s+to\s+)?|let'?s\s+)?"
_BUILD = re.compile(
    rf"{_LEAD}(?:make|create|build|generate|prepare|produce|write|draft|do)\s+(?:me\s+)?"
    rf"(?:a|an|the|some|my)?\s*(?:new\s+)?{_SIZED}{_NOUN}\s+{_TOPIC}$",
    re.IGNORECASE,
)
_OUTLINE = re.compile(
    rf"{_LEAD}(?:outline|plan|sketch)\s+(?:me\s+)?(?:a|an|the|my)?\s*(?:new\s+)?{_SIZED}{_NOUN}"
    rf"\s+{_TOPIC}$",
    re.IGNORECASE,
)
_BUILD_DRAFT = re.compile(
    rf"{_LEAD}(?:build|make|finish|render)\s+(?:my|the)\s+(?:latest|last|newest)\s+"
    rf"(?:draft|outline|{_NOUN})\s*$",
    re.IGNORECASE,
)
_STATUS = re.compile(
    rf"{_LEAD}(?:(?:is|are)\s+(?:my|the)\s+(?:latest\s+|last\s+)?{_NOUN}s?\s+(?:ready|done|built)"
    rf"|(?:show|list|what\s+are)\s+(?:me\s+)?(?:all\s+)?(?:my|the)\s+{_NOUN}s?"
    rf"|(?:where\s+is|status\s+of)\s+(?:my|the)\s+(?:latest\s+|last\s+)?{_NOUN})\s*$",
    re.IGNORECASE,
)
_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12,
}  # fmt: skip


@dataclass(frozen=True)
class _Build:
    topic: str
    slides: int | None


@dataclass(frozen=True)
class _Outline:
    topic: str
    slides: int | None


@dataclass(frozen=True)
class _BuildDraft:
    pass


@dataclass(frozen=True)
class _Status:
    pass


_Command = _Build | _Outline | _BuildDraft | _Status


_POLITE_END = re.compile(r"[\s,]+(?:please|pls|thanks|thank\s+you|for\s+me|now)$", re.IGNORECASE)


def parse(message: str) -> _Command | None:
    """The deck request `message` makes, if it makes one."""
    text = " ".join(message.split()).strip().rstrip("?!. ")
    text = _POLITE_END.sub("", text).rstrip("?!., ")
    if (found := _BUILD.match(text)) is not None:
        return _Build(_topic(found["topic"]), _slides(found))
    if (found := _OUTLINE.match(text)) is not None:
        return _Outline(_topic(found["topic"]), _slides(found))
    if _BUILD_DRAFT.match(text):
        return _BuildDraft()
    if _STATUS.match(text):
        return _Status()
    return None


def _topic(text: str) -> str:
    return text.strip().strip("\"'\u201c\u201d\u2018\u2019").strip()


def _slides(found: re.Match[str]) -> int | None:
    count = found["count"] or _WORDS.get((found["word"] or "").lower())
    return int(count) if count else None


class DeckCommands:
    """`OfflineCommands` for decks: the phrases above, carried out with the deck tools."""

    @property
    def examples(self) -> Sequence[str]:
        return EXAMPLES

    async def answer(
        self, message: str, call_tool: ToolCall, *, today: date, memory: Memory | None = None
    ) -> OfflineAnswer | None:
        command = parse(message)
        if command is None:
            return None
        recorded = RecordedCalls(call_tool)
        try:
            reply = await _carry_out(command, recorded)
        except ToolFailed as failed:
            reply = f"That did not work: {failed.message}"
        return OfflineAnswer(reply, recorded.calls)


async def _carry_out(command: _Command, use: ToolCall) -> str:
    asked = command.slides if isinstance(command, _Build | _Outline) else None
    if asked is not None and not 1 <= asked <= MAX_SLIDES_ASKED:
        return f"A deck has 1 to {MAX_SLIDES_ASKED} slides; I did not start one."
    if isinstance(command, _Build):
        arguments: dict[str, Any] = {"prompt": command.topic}
        if command.slides is not None:
            arguments["slide_count"] = command.slides
        deck = await use("build_deck", arguments)
        return (
            f"Building “{deck['title']}” (deck {deck['id']}). It takes a moment: "
            "ask “is my deck ready?” for the download link."
        )
    if isinstance(command, _Outline):
        arguments = {"prompt": command.topic}
        if command.slides is not None:
            arguments["slide_count"] = command.slides
        deck = await use("create_outline", arguments)
        titles = "; ".join(f"{n}. {title}" for n, title in enumerate(deck["slides"], start=1))
        return (
            f"Planned “{deck['title']}” in {len(deck['slides'])} slides: {titles}. "
            "Say “build my latest draft” to build it."
        )
    decks = (await use("list_decks", {}))["decks"]
    if isinstance(command, _BuildDraft):
        drafts = [deck for deck in decks if deck["status"] == "draft"]
        if not drafts:
            return "You have no draft to build; outline one first, e.g. “outline a talk on X”."
        deck = await use("build_deck", {"deck_id": drafts[-1]["id"]})
        return f"Building “{deck['title']}”: ask “is my deck ready?” for the download link."
    if not decks:
        return "You have no decks yet; try “make a presentation about …”."
    latest = await use("get_deck", {"deck_id": decks[-1]["id"]})
    lines = [_described(latest)]
    others = decks[-SHOWN_DECKS:-1]
    if others:
        lines.append(
            "Earlier: " + "; ".join(f"“{deck['title']}” ({deck['status']})" for deck in others)
        )
    return "\n".join(lines)


def _described(deck: dict[str, Any]) -> str:
    title, status = deck["title"], deck["status"]
    if status == "ready" and deck.get("downloadUrl"):
        return f"“{title}” is ready: {deck['downloadUrl']}"
    if status == "failed":
        return f"“{title}” failed: {deck.get('error') or 'no reason was given'}"
    if status == "building":
        return f"“{title}” is still being built; ask again in a moment."
    return f"“{title}” is a draft; say “build my latest draft” to build it."
