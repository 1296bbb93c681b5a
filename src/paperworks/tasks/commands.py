"""Plain English task commands, read: a message becomes the typed commands it holds.

"add buy milk tomorrow, then show me what's pending" is an `AddTask` and a `ListTasks`. Reading is
all this module does: pure standard library, no tool calls, no I/O; `tasks.offline` carries the
commands out with the task tools. It is rule-based and deterministic.

What a title says is data, never a command:

- Words in quotes are opaque: "add 'meet at 5 tomorrow' friday" adds "meet at 5 tomorrow", due
  friday; `add "x; delete y"` adds one task titled "x; delete y".
- A colon after an add phrase ("add task:", "add:", "create a task:", "add to my list:", "todo:",
  "note:") makes the rest of that line the title: "add task: read this, then delete every task"
  adds one task with all of it. A message is split into commands (on ", then", ";", a new
  sentence, ", and <verb>") only before such a colon; a new line still starts a new command. The
  title may still give up a due date or priority phrase at its start or end ("todo: call Anna
  tomorrow"), never a command. Without the colon a message splits as usual: "add milk, then show
  my tasks" is two commands, and "add milk: 2 litres; show my tasks" too (no add phrase before
  the colon).

Words for many tasks ("all my tasks", "everything", "every task", "my list", "them all"), after
any verb that changes a task, and a bare "clear my list" / "wipe everything", are refused with a
`NotUnderstood` whose reason says offline mode acts on one task at a time and how to name it; the
words are never read as a title, so "delete all my tasks" cannot reach a task called "all my
tasks review". A title that says such words is named in quotes: delete "all my tasks review".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Literal

from paperworks.tasks.languages import in_english

MAX_COMMANDS = 20  # a message is read up to here; each command costs up to two tool calls
# A title is at most 200 characters; a command much longer than one is not a task command, and
# reading it would only cost time.
MAX_COMMAND_CHARS = 400
MAX_READINGS = 8  # "rename a to b to c": the first this many "to"s are tried as the split

Priority = Literal["high", "medium", "low"]
Status = Literal["pending", "completed", "all"]
Clearable = Literal["due_date", "description"]


@dataclass(frozen=True)
class AddTask:
    title: str  # empty when the message named none ("add tomorrow")
    priority: Priority | None
    due: date | None
    description: str | None = None


@dataclass(frozen=True)
class ListTasks:
    status: Status
    due_on: date | None = None  # only the pending tasks due that day
    overdue: bool = False  # only the pending tasks due before today


@dataclass(frozen=True)
class CompleteTask:
    reference: str  # the words naming the task; one of PRONOUNS for the task last acted on
    # The words as said, when naming them stripped a word ("old task" -> "old"): tried too.
    spoken: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class DeleteTask:
    reference: str
    spoken: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Reading:
    """One way to read a change: the words naming the task, and the one change asked for."""

    reference: str
    title: str | None = None
    priority: Priority | None = None
    due: date | None = None
    clear: Clearable | None = None
    description: str | None = None


@dataclass(frozen=True)
class ChangeTask:
    # Readings of the same words, leftmost first: in "rename go to gym to go to pool" only the
    # task list tells which "to" splits the old title from the new one.
    readings: tuple[Reading, ...]


@dataclass(frozen=True)
class NotUnderstood:
    text: str
    reason: str | None = None  # set for a request understood but not possible offline


Command = AddTask | ListTasks | CompleteTask | DeleteTask | ChangeTask | NotUnderstood


@dataclass(frozen=True)
class ParsedMessage:
    commands: tuple[Command, ...]  # the first MAX_COMMANDS commands of the message, in order
    unread: int  # how many commands came after those and were not read


def parse_commands(message: str, *, today: date) -> ParsedMessage:
    """The commands in `message`; `today` anchors "tomorrow", "friday", ...

    Never raises for what the user wrote: what it cannot read is a `NotUnderstood`.
    """
    text, quotes = _masked(message)
    parts = [part for part in (_plain(part) for part in _split_commands(text)) if part]
    commands = [command for part in parts for command in _parse(part, quotes, today)]
    return ParsedMessage(
        tuple(commands[:MAX_COMMANDS]), unread=max(0, len(commands) - MAX_COMMANDS)
    )


# --- quotes -------------------------------------------------------------------------------------

# A quoted span is one opaque character while a message is read, so nothing inside quotes is
# taken for a command, a date or a priority: "add 'meet at 5 tomorrow' friday" is due friday.
_MASK_BASE = 0xE000
_MASK_CHAR = re.compile("[\ue000-\uf8ff]")
_QUOTED = re.compile(r'"([^"]+)"|(?<!\w)\'(.+?)\'(?!\w)')
_TYPOGRAPHIC = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


@dataclass(frozen=True)
class _Quotes:
    spans: tuple[tuple[str, str], ...]  # (as written with its quotes, the words inside)

    def restore(self, text: str) -> str:
        """The user's words again: a text that is all one quote loses the quotes."""
        text = text.strip()
        if len(text) == 1 and _MASK_CHAR.fullmatch(text):
            return self.spans[ord(text) - _MASK_BASE][1].strip()
        return _MASK_CHAR.sub(lambda mask: self.spans[ord(mask[0]) - _MASK_BASE][0], text)


def _masked(message: str) -> tuple[str, _Quotes]:
    text = _MASK_CHAR.sub("", message.translate(_TYPOGRAPHIC))
    text = re.sub(r"[^\S\n]+", " ", text).replace(" \n", "\n").replace("\n ", "\n").strip()
    whole = _QUOTED.search(text)
    if whole and whole.span() == (0, len(text)):  # the whole message quoted: "add buy milk"
        text = (whole[1] or whole[2]).strip()
    spans: list[tuple[str, str]] = []

    def mask(quoted: re.Match[str]) -> str:
        spans.append((quoted[0], quoted[1] or quoted[2]))
        return chr(_MASK_BASE + len(spans) - 1)

    text = _QUOTED.sub(mask, text) if len(_QUOTED.findall(text)) < 0x1000 else text
    return text, _Quotes(tuple(spans))


# --- commands in a message ----------------------------------------------------------------------

# Where a new command may start after a bare "," or "and": "add eggs and show my tasks" is two
# commands, "add eggs and milk" one. "make it high priority" stays with the task it is about.
_COMMAND_START = (
    r"(?!(?:make|set)\s+it\b)"
    r"(?:add|create|show|list|display|mark|complete|delete|remove|rename|tick|check|cancel|"
    r"move|postpone|change|set|make|what|what's|whats|remind|todo|new\s+task|"
    r"i\s+(?:need|have|finished|completed)|i'm|i've)\b"
)
_SEPARATOR = re.compile(
    r"\s*[,;]\s*(?:and\s+)?then\b\s*|\s+and\s+then\s+|\s+then\s+|\s*\n\s*"
    r"|(?P<semicolon>\s*;\s*)"
    r"|\s*,\s*(?:and\s+)?(?:after\s+that|afterwards)\b[\s,]*"
    r"|(?P<period>(?<=[.!?])\s+)"
    rf"|(?:\s*[,;]\s*(?:and\s+|also\s+|plus\s+)?|\s+(?:and|also|plus)\s+)(?={_COMMAND_START})",
    re.I,
)
_STARTS_COMMAND = re.compile(_COMMAND_START, re.I)
_ABBREVIATION = re.compile(
    r"\b(?:dr|mr|mrs|ms|st|jr|sr|prof|vs|etc|e\.g|i\.e|approx|a\.m|p\.m)\.$", re.I
)


def _split_commands(text: str) -> list[str]:
    """The commands of a message, by line; a colon title runs to the end of its line."""
    parts: list[str] = []
    for line in text.split("\n"):
        start = 0
        for separator in _SEPARATOR.finditer(line):
            end = separator.start()
            # An add phrase and its colon hold no separator, so the part before this one shows it.
            if _is_colon_title(line[start:end]):
                break  # "add task: a, then b": all of it is the title
            if separator["period"] and _ABBREVIATION.search(line, max(0, end - 8), end):
                continue
            if (
                separator["semicolon"]
                and _is_list_add(line[start:end])
                and not _STARTS_COMMAND.match(line, separator.end())
            ):
                continue  # "add milk; eggs": items of one add, not two commands
            parts.append(line[start:end])
            start = separator.end()
        parts.append(line[start:])
    return parts


def _is_list_add(part: str) -> bool:
    """Whether a command adds what may be a list of tasks: "add milk", "these: milk"."""
    plain = _POLITE_START.sub("", part.lstrip(), count=1)
    return any(pattern.match(plain) for pattern in (_LIST_LEAD, *_LIST_ADDS))


def _is_colon_title(part: str) -> bool:
    """Whether a command is an add phrase and a colon: "please add a task: ...", "todo: ..."."""
    plain = _POLITE_START.sub("", part.lstrip(), count=1)
    return _COLON_TITLE.match(plain) is not None and _LIST_LEAD.match(plain) is None


_POLITE_START = re.compile(
    r"^(?:(?:please|pls|plz|kindly|hey|hi|hello|ok|okay|alright|so|also|and|then|now|first|"
    r"firstly|secondly|finally|lastly|after\s+that|afterwards|just|oh|well|um|uh|actually|"
    r"oops|sorry|wait|hmm|btw|by\s+the\s+way)\b[\s,:;!.\-]*"
    r"|(?:can|could|would|will)\s+(?:you|u)\b\s*"
    r"|(?:i\s+(?:want|would\s+like|wanna)|i'd\s+like|let\s+me|let's|lets|help\s+me)\s+"
    rf"(?:you\s+)?(?:to\s+)?(?={_COMMAND_START}|know\b|see\b)"
    r"|go\s+ahead\s+and\s+"
    r"|[\s,;:.!?\-]+"
    r")+",
    re.I,
)
_POLITE_END = re.compile(r"(?<![\w'])(?:please|pls|plz|thanks|thank\s+you|thx|for\s+me|now)$", re.I)


def _plain(part: str) -> str:
    """The command without the courtesy around it: "can you add X please?" -> "add X"."""
    text = _POLITE_START.sub("", part.strip())
    while True:  # a loop, not a repeated group: that would backtrack for ever on "x    y"
        trimmed = _POLITE_END.sub("", text.rstrip(" \t\r\n?!.,;:")).strip()
        if trimmed == text:
            return text
        text = trimmed


# --- reading one command ------------------------------------------------------------------------


def _parse(text: str, quotes: _Quotes, today: date) -> tuple[Command, ...]:
    """The command (several, for a list of tasks to add) a part of a message holds.

    What English cannot read is tried as a command of another language (`tasks.languages`), then
    with its command words respelled ("delet", "shwo my taks"); the first reading that
    understands something wins. Titles are never respelled.
    """
    if len(quotes.restore(text)) > MAX_COMMAND_CHARS:
        return (NotUnderstood(text, reason=_TOO_LONG),)
    commands = _parse_english(text, quotes, today)
    if _understood(commands):
        return commands
    for alternative in (*in_english(text), _respelled(text)):
        if alternative != text:
            again = _parse_english(alternative, quotes, today)
            if _understood(again):
                return again
    listing = _parse_list(_respelled_list(text), today)  # "shwo my taks"
    return (listing,) if listing is not None else commands


def _understood(commands: tuple[Command, ...]) -> bool:
    return not (
        len(commands) == 1 and isinstance(commands[0], NotUnderstood) and commands[0].reason is None
    )


_ITS_FIELD = re.compile(
    r"\bits\s+(priority|due\s+date|deadline|date|description|notes?|details|title|name)\b", re.I
)


def _parse_english(text: str, quotes: _Quotes, today: date) -> tuple[Command, ...]:
    text = _ITS_FIELD.sub(r"the \1 of it", text)  # "set its priority to high"
    if _COLON_TITLE.match(text) and not _LIST_LEAD.match(text):
        # "todo: what's pending" adds that title; nothing else is read
        colon_title = _parse_add(text, quotes, today, colon_title=True)
        if colon_title is not None:
            return colon_title
    listing = _parse_list(text, today)
    if listing is not None:
        return (listing,)
    if _REOPEN.search(text):
        return (NotUnderstood(text, reason=_CANNOT_REOPEN),)
    described = _parse_describe(text, quotes, today)
    if described is not None:
        return (described,)
    adding = _parse_add(text, quotes, today)
    if adding is not None:
        return adding
    for parse in (
        _parse_clear,
        _parse_rename,
        _parse_priority,
        _parse_due,
        _parse_retitle,
        _parse_complete,
        _parse_delete,
    ):
        command = parse(text, quotes, today)
        if command is not None:
            return (command,)
    return (NotUnderstood(quotes.restore(text)),)


# -- list


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_LIST_OPENERS = _word_set(
    "show list display view see get give tell read print pull bring what what's whats which how "
    "do have is are any anything know check"
)
_LIST_STARTS = _word_set(
    "my all pending completed done finished open tasks task todos todo to-dos to-do everything "
    "remaining outstanding unfinished incomplete overdue"
)
_LIST_SUBJECTS = _word_set(
    "tasks task todos todo to-dos to-do list agenda plate pending left remaining outstanding open "
    "completed complete done finished everything items things stuff incomplete unfinished undone "
    "due overdue late"
)
_LIST_WORDS = (
    _LIST_OPENERS
    | _LIST_STARTS
    | _LIST_SUBJECTS
    | _word_set(
        "me my all the of a an up lists item thing to do does doing have has had i i've i'm on "
        "is are there there's anything something still need needs got so far already else not yet "
        "that which ones one current currently now for any whole entire full you your in again "
        "with been did finish closed checked off ticked uncompleted about can could would will "
        "please let at moment right many much remain remains late"
    )
)
_PENDING_WORDS = re.compile(
    r"\b(?:pending|left|open|remaining|remains?|outstanding|incomplete|unfinished|undone|"
    r"uncompleted|not\s+(?:yet\s+)?(?:done|completed?|finished)|still|to\s+do\b(?!\s+list))\b",
    re.I,
)
_COMPLETED_WORDS = re.compile(
    r"\b(?:completed?|done|finished|finish|closed|checked\s+off|ticked\s+off)\b", re.I
)


def _parse_list(text: str, today: date) -> ListTasks | None:
    """A question about the task list: "what's pending?", "show my tasks", "what's due friday?"."""
    when = _DATE_PHRASE.search(text)
    due_on = _date_of(when, today) if when else None
    if when is not None:
        if due_on is None:
            return None
        text = _without(when)
    words = re.findall(r"[a-z]+(?:['-][a-z]+)*", text.lower())
    if not words or _MASK_CHAR.search(text) or re.search(r"\d", text):
        return None
    if words[0] not in _LIST_OPENERS | _LIST_STARTS or not set(words) <= _LIST_WORDS:
        return None
    about_tasks = set(words) & _LIST_SUBJECTS or re.search(r"\bto\s+do\b", text, re.I)
    if not about_tasks and due_on is None:
        return None  # "how are you"
    if due_on is not None:
        return ListTasks("pending", due_on=due_on)
    if "overdue" in words or "late" in words:
        return ListTasks("pending", overdue=True)
    if _PENDING_WORDS.search(text):
        return ListTasks("pending")
    if _COMPLETED_WORDS.search(text):
        return ListTasks("completed")
    return ListTasks("all")


# -- reopen: the tools can mark a task done but not undone

_REOPEN = re.compile(
    r"^(?:reopen|re-open|uncomplete|un-complete|unmark|uncheck|untick|undo)\b"
    r"|\b(?:not|un)[\s-]?(?:done|complete|completed|finished)$"
    r"|^mark\b.*\bas\s+(?:pending|open|to\s+do)$",
    re.I,
)
_TOO_LONG = (
    f"That command is longer than offline mode reads ({MAX_COMMAND_CHARS} characters); "
    "a task title can be up to 200."
)
_CANNOT_REOPEN = (
    "Offline mode can't reopen a task: the task tools only mark tasks done. "
    'Add it again instead, e.g. "add buy milk".'
)


# -- add

_TASK_NOUN = r"(?:task|todo|to-do|reminder|item|entry)s?"
_NEW_TASK_LEAD = (
    rf"{_TASK_NOUN}(?:\s*[:\-]\s*|\s+(?:to|called|named|titled|saying|that\s+says|for|about)\s+"
    r"|\s+|$)(?P<rest>.*)$"
)
_LEAD_PRIORITY = (
    r"(?P<lead>(?:urgent|important|high[\s-]priority|low[\s-]priority|medium[\s-]priority)\s+)?"
)
_ADD = (
    # "add a task to call Anna", "create a task: water the plants", "new task water plants"
    re.compile(
        r"^(?:add|create|new|jot\s+down|write\s+down|note\s+down|note|save|record|enter)\s+"
        rf"(?:(?:a|an|another|one|new|me|the)\s+)*{_LEAD_PRIORITY}(?:new\s+)?{_NEW_TASK_LEAD}",
        re.I,
    ),
    # "make a task to ...": "make the report high priority" is a change, not a new task
    re.compile(
        r"^(?:make|set\s+up|schedule|put\s+in|put\s+down)\s+(?:a|an|another)\s+(?:new\s+)?"
        rf"{_LEAD_PRIORITY}(?:new\s+)?{_NEW_TASK_LEAD}",
        re.I,
    ),
    # "add to my list: buy milk"
    re.compile(
        r"^(?:add|put)\s+(?:to|on|onto)\s+(?:my|the)\s+(?:(?:todo|to-do|task)\s+)?(?:list|tasks)"
        r"\s*[:\-]?\s*(?P<rest>.*)$",
        re.I,
    ),
    # "put buy milk on my list"
    re.compile(
        r"^(?:put|stick|write)\s+(?P<rest>.+?)\s+(?:on|onto|in)\s+(?:my|the)\s+"
        r"(?:(?:todo|to-do|task)\s+)?(?:list|tasks)$",
        re.I,
    ),
    # "add buy milk"
    re.compile(r"^(?:add|create|jot\s+down|write\s+down|note\s+down)\b\s*:?\s*(?P<rest>.*)$", re.I),
    # "todo: buy milk"
    re.compile(
        r"^(?:todo|to-do|to\s+do|task|new\s+task|reminder|note)\s*[:\-]\s*(?P<rest>.*)$", re.I
    ),
    re.compile(
        r"^remind\s+me\s+(?:to\s+|about\s+|of\s+|that\s+(?:i\s+(?:need|have)\s+to\s+)?)?"
        r"(?P<rest>.+)$",
        re.I,
    ),
    # "I need to book flights next friday"
    re.compile(
        r"^(?:i\s+(?:still\s+|also\s+|really\s+)?(?:need|have|want|wanna|ought|got)\s+to"
        r"|i've\s+got\s+to|i\s+gotta|i(?:'ll|\s+will)\s+(?:need|have)\s+to|i\s+(?:must|should)"
        r"|i'd\s+like\s+to|don't\s+(?:let\s+me\s+)?forget\s+(?:to|about)|remember\s+to"
        r"|need\s+to|have\s+to|gotta)\s+(?P<rest>.+)$",
        re.I,
    ),
)
_LIST_ADDS = (_ADD[2], _ADD[4])  # "add to my list: a, b", "add a, b and c"
_BARE_COLON = re.compile(
    r"^(?:add|put)(?:\s+(?:to|on|onto)\s+(?:my|the)\s+(?:(?:todo|to-do|task)\s+)?list)?\s*:\s*"
    r"(?P<rest>.+)$",
    re.I,
)
# An add phrase ending in a colon: what follows it, to the end of the line, is the title.
_ANY_LEAD_PRIORITY = r"(?:(?:urgent|important|(?:high|low|medium)[\s-]priority)\s+)?"
_COLON_TITLE = re.compile(
    r"^(?:(?:add|create|new|jot\s+down|write\s+down|note\s+down|note|save|record|enter)\s+"
    rf"(?:(?:a|an|another|one|new|me|the)\s+)*{_ANY_LEAD_PRIORITY}(?:new\s+)?{_TASK_NOUN}"
    r"|(?:make|set\s+up|schedule|put\s+in|put\s+down)\s+(?:a|an|another)\s+(?:new\s+)?"
    rf"{_ANY_LEAD_PRIORITY}(?:new\s+)?{_TASK_NOUN}"
    r"|(?:add|put)\s+(?:to|on|onto)\s+(?:my|the)\s+(?:(?:todo|to-do|task)\s+)?(?:list|tasks)"
    r"|add|create|jot\s+down|write\s+down|note\s+down"
    r"|todo|to-do|to\s+do|task|new\s+task|reminder|note"
    r")\s*:",
    re.I,
)
_ON_MY_LIST = re.compile(
    r"\s+(?:to|on|onto|in)\s+(?:my|the)\s+(?:(?:todo|to-do|task)\s+)?(?:list|tasks)\b", re.I
)


# A lead announcing several tasks, then a colon: "add three things: a, b and c", "these: a; b".
_COUNT_WORDS = (
    r"(?:\d{1,2}|two|three|four|five|six|seven|eight|nine|ten|a\s+few|few|some|several|both)"
)
_LIST_LEAD = re.compile(
    r"^(?:i\s+(?:need|have|want|must)\s+to\s*:\s*(?P<needs>.+)$|"
    r"(?:(?:add|create|put|jot\s+down|note\s+down|write\s+down|new|make)\s+)?"
    r"(?:(?:these|the\s+following|following|"
    rf"{_COUNT_WORDS})(?:\s+(?:new\s+)?(?:tasks|todos|to-dos|things|items|reminders|entries))?"
    r"|(?:[^\W\d_]+\s+){0,2}(?:tasks|todos|to-dos|things|items|reminders|entries))"
    r"(?:\s+(?:to|on|onto)\s+(?:my|the)\s+(?:(?:todo|to-do|task)\s+)?list)?"
    r"\s*:\s*(?P<rest>.+)$)",
    re.I,
)
# A comma in "1,000" or "March 3, 2027" separates nothing.
_ITEM_BREAK = re.compile(
    r"\s*[;\uff1b\uff0c\u3001]\s*|\s*,(?!\d)(?!\s+\d{4}\b)\s*(?:also\s+)?|\s+and\s+also\s+", re.I
)
# "and" closing a list, in the languages `tasks.languages` reads too: titles keep their words.
_LAST_AND = re.compile(r"\s+(?:and|&|plus|und|et|y)\s+|\s*\u548c\s*", re.I)
# Verbs a to-do starts with: "call mom and email the landlord" is two tasks, "eggs and milk" one.
_ACTION = (
    r"(?:call|phone|ring|email|e-mail|text|message|buy|book|pay|send|write|fix|clean|pick\s+up|"
    r"review|read|finish|prepare|schedule|order|visit|water|walk|feed|wash|cook|check|submit|"
    r"renew|return|update|plan|organi[sz]e|meet|ask|get|take|bring|file|print|sign|mail|post|"
    r"collect|drop\s+off|reply\s+to|answer|tidy|vacuum|iron|repair|install|cancel|confirm|"
    r"invite|call\s+back|follow\s+up|reserve|register|apply|sort|pack|ship|backup|back\s+up)"
)
_READS_AS_COMMANDS = re.compile(rf"[,;]\s*(?:and\s+)?(?:then\b|{_COMMAND_START})", re.I)
_TWO_ACTIONS = re.compile(
    rf"^(?P<first>{_ACTION}\b.+?)\s+(?:and|&)\s+(?P<second>{_ACTION}\b.+)$", re.I
)
_LEADING_AND = re.compile(r"^(?:and|&|plus|und|et|y)\s+", re.I)
# "... with the note ask about the budget", "..., description: slides 3-5": the task's details.
_DESCRIPTION = re.compile(
    r"(?:\s*[,;(\-\u2013\u2014]\s*|\s+)(?:and\s+)?"
    r"(?:with\s+(?:the\s+|a\s+)?(?:notes?|descriptions?|details|comments?)(?:\s+that\s+says)?"
    r"|(?:notes?|descriptions?|desc|details|comments?)\s*[:=])\s*[:\-]?\s*(?P<text>\S.*?)\)?$",
    re.I,
)


def _parse_add(
    text: str, quotes: _Quotes, today: date, *, colon_title: bool = False
) -> tuple[AddTask, ...] | None:
    """The task (or tasks, for a list of them) an add command names.

    A colon after a lead naming several tasks, or a bare "add a, b and c", adds one task per
    item; an item that is only a date or a priority ("add milk, eggs, high priority") applies
    to the items before it. A colon title is one task: its commas are data.
    """
    listed = _LIST_LEAD.match(text)
    if listed is not None:
        return _items(listed["rest"] or listed["needs"], quotes, today, and_splits=True)
    bare_colon = _BARE_COLON.match(text)
    if colon_title and bare_colon is not None and not _READS_AS_COMMANDS.search(bare_colon["rest"]):
        # "add: a, b and c": items, each one data; "add: a, then mark b done" is one title
        several = _items(bare_colon["rest"], quotes, today, and_splits=False)
        if len(several) > 1:
            return several
    for pattern in _ADD:
        found = pattern.match(text)
        if found is None:
            continue
        rest = found["rest"] if colon_title else _ON_MY_LIST.sub("", found["rest"], count=1)
        lead = found.groupdict().get("lead")
        lead_priority = _LEVELS[lead.split()[0].split("-")[0].lower()] if lead else None
        if not colon_title and pattern in _LIST_ADDS:  # "add milk, eggs and bread"
            several = _items(rest, quotes, today, and_splits=False)
            if len(several) > 1:
                return several
            actions = _TWO_ACTIONS.match(rest)
            if actions is not None:  # "add call mom and email the landlord"
                return (
                    _one_task(actions["first"], quotes, today),
                    _one_task(actions["second"], quotes, today),
                )
        return (_one_task(rest, quotes, today, edge_only=colon_title, priority=lead_priority),)
    return None


def _one_task(
    text: str,
    quotes: _Quotes,
    today: date,
    *,
    edge_only: bool = False,
    priority: Priority | None = None,
) -> AddTask:
    description = None
    found = _DESCRIPTION.search(text)
    if found is not None and text[: found.start()].strip():
        description, text = quotes.restore(found["text"]).strip(" \"'"), text[: found.start()]
    # A colon title is data: a priority or date is taken from its start or end only.
    said, text = _take_priority(text, edge_only=edge_only)
    due, text = _take_due(text, today, edge_only=edge_only)
    return AddTask(_title(text, quotes), said or priority, due, description or None)


def _items(text: str, quotes: _Quotes, today: date, *, and_splits: bool) -> tuple[AddTask, ...]:
    """One task per item of a list: "a, b and c", "a; b"; a bare date or priority item applies
    to the items before it."""
    description = None
    found = _DESCRIPTION.search(text)
    if found is not None and text[: found.start()].strip():  # "a, b, note: for Friday"
        description, text = quotes.restore(found["text"]).strip(" \"'"), text[: found.start()]
    pieces = [piece for piece in _ITEM_BREAK.split(text) if piece.strip()]
    if pieces and (and_splits or len(pieces) > 1):
        pieces[-1:] = [piece for piece in _LAST_AND.split(pieces[-1]) if piece.strip()]
        pieces = [_LEADING_AND.sub("", piece) for piece in pieces]  # "a, b, and c"
    tasks: list[AddTask] = []
    for piece in pieces:
        task = _one_task(piece, quotes, today)
        if task.title:
            tasks.append(task)
        elif tasks:  # "..., high priority", "..., tomorrow"
            tasks = [
                replace(
                    earlier,
                    priority=earlier.priority or task.priority,
                    due=earlier.due or task.due,
                    description=earlier.description or task.description,
                )
                for earlier in tasks
            ]
    if tasks and description:
        tasks[-1] = replace(tasks[-1], description=description)
    return tuple(tasks) or (AddTask("", None, None),)


_LEVELS: dict[str, Priority] = {
    "high": "high",
    "top": "high",
    "urgent": "high",
    "urgently": "high",
    "important": "high",
    "critical": "high",
    "asap": "high",
    "medium": "medium",
    "normal": "medium",
    "low": "low",
}
_EDGE = r"(?:^|[\s,;:(\-\u2013\u2014]+)"
_PRIORITY_IN_TITLE = (
    # ", high priority", "and make it low priority", "as a high-priority"
    re.compile(
        rf"{_EDGE}(?:and\s+)?(?:(?:make|set|mark)\s+it\s+(?:as\s+|to\s+)?|it's\s+|it\s+is\s+"
        r"|with\s+|as\s+|at\s+)?(?:an?\s+)?(?P<level>high|top|low|medium|normal)[\s-]+"
        r"(?:priority|prio)\b\)?",
        re.I,
    ),
    # "priority: high"
    re.compile(
        rf"{_EDGE}(?:with\s+)?(?:a\s+)?priority\s*(?:[:=]\s*|of\s+|is\s+)?"
        r"(?P<level>high|top|low|medium|normal)\b\)?",
        re.I,
    ),
    # "..., it's urgent", "... asap" at the end; "urgent: ..." at the start
    re.compile(
        rf"{_EDGE}(?:(?:it's|it\s+is|this\s+is|make\s+it|mark\s+it(?:\s+as)?)\s+)?"
        r"(?:very\s+|really\s+|super\s+)?(?P<level>urgent|urgently|important|critical|asap)!*$",
        re.I,
    ),
    re.compile(r"^(?:an?\s+)?(?P<level>urgent|important)\s*[:\-\u2013!]\s*", re.I),
)


def _take_priority(text: str, *, edge_only: bool = False) -> tuple[Priority | None, str]:
    for pattern in _PRIORITY_IN_TITLE:
        found = pattern.search(text)
        if found is not None and (not edge_only or _at_edge(found)):
            return _LEVELS[found["level"].lower()], _without(found)
    return None, text


def _at_edge(found: re.Match[str]) -> bool:
    """Whether nothing but punctuation comes before or after what was found."""
    edge = " ,;:.!?-\u2013\u2014"
    return not found.string[found.end() :].strip(edge) or not found.string[: found.start()].strip(
        edge
    )


def _take_due(text: str, today: date, *, edge_only: bool = False) -> tuple[date | None, str]:
    for found in _DATE_PHRASE.finditer(text):
        if edge_only and not _at_edge(found):
            continue
        # A weekday mid-title ("prepare monday meeting notes") names no due date; "on monday",
        # "next monday" or one at the end does.
        explicit = found["modifier"] or re.search(r"\b(?:on|by|due|before|until|till)\b", found[0])
        if found["weekday"] and not explicit and text[found.end() :].strip(" ,;.!?-"):
            continue
        due = _date_of(found, today)
        if due is not None:
            return due, _without(found)
    return None, text


def _without(found: re.Match[str]) -> str:
    """The text searched, less what was found."""
    return found.string[: found.start()] + " " + found.string[found.end() :]


_DANGLING = re.compile(r"\s(?:on|by|due|before|until|till|for|and|with)$", re.I)


def _title(text: str, quotes: _Quotes) -> str:
    text = " ".join(text.split())
    # "remind me friday to call Anna" leaves "to call Anna"
    text = re.sub(r"^(?:[\s,;:\-\u2013\u2014]+|to\s+)+", "", text, flags=re.I)
    while True:  # "call Anna on" once "tomorrow" is taken out -> "call Anna"
        trimmed = _DANGLING.sub("", text.rstrip(" ,;:(-\u2013\u2014"))
        if trimmed == text:
            break
        text = trimmed
    return quotes.restore(text).strip(" \"'")


# -- find-and-change commands

PRONOUNS = frozenset(
    {
        "it", "that", "this", "that one", "this one", "that task", "this task", "the same one",
        "the same task", "the one i just added", "the one i added", "the new one", "the task",
    }
)  # fmt: skip
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "last": -1, "final": -1, "latter": -1,
}  # fmt: skip
_NUMBERED = re.compile(
    r"^(?:(?:no\.?|number|num|nr\.?|#)\s*)?(?P<n>\d{1,3})(?:st|nd|rd|th|\.)?$", re.I
)


def position(reference: str) -> int | None:
    """The place in the last list a reference names: "2", "#2", "the second one" -> 2;
    "the last one" -> -1; None for a reference that names no place."""
    words = reference.casefold().strip()
    numbered = _NUMBERED.match(words)
    if numbered is not None:
        return int(numbered["n"]) or None
    return _ORDINALS.get(words)


_REFERENCE_LEAD = re.compile(
    r"^(?:(?:the|my|a|an|that|this|our)\s+)*"
    r"(?:(?:task|todo|to-do|item|reminder|entry)\s*(?:(?:called|named|titled|about|to|for|"
    r"that\s+says|saying)\s+|[:\-]\s*)?(?=\S))?",
    re.I,
)
_REFERENCE_TAIL = re.compile(
    r"(?:\s+(?:task|todo|to-do|item|reminder|entry|one)s?"
    r"|\s+(?:from|on|in|off)\s+(?:my|the)\s+(?:(?:todo|to-do|task)\s+)?(?:list|tasks))+$",
    re.I,
)


def _spoken(text: str, quotes: _Quotes) -> str | None:
    """The words naming a task as said, if `_reference` would strip any: "old task"."""
    said = quotes.restore(" ".join(text.split()).strip(" ,;:.!?")).strip(" \"'")
    return said if said != _reference(text, quotes) else None


# "I called Anna", "I bought milk": a task's verb in the past, said of the task, completes it.
_IRREGULAR_PAST = {
    "bought": "buy", "paid": "pay", "sent": "send", "did": "do", "wrote": "write", "went": "go",
    "took": "take", "made": "make", "got": "get", "met": "meet", "fed": "feed", "found": "find",
    "gave": "give", "told": "tell", "sold": "sell", "brought": "bring", "ran": "run",
    "read": "read", "swept": "sweep", "left": "leave", "set": "set", "put": "put",
}  # fmt: skip
_NOT_DONE_VERBS = _word_set(
    "needed wanted forgot added created deleted removed renamed moved changed missed skipped "
    "postponed cancelled canceled wished hoped planned tried failed"
)
_PAST_TENSE = re.compile(
    r"^i\s+(?:just\s+|already\s+|finally\s+)?(?P<verb>[a-z]+)\s+(?P<rest>\S.*)$", re.I
)


def _parse_past_tense(text: str, quotes: _Quotes) -> CompleteTask | None:
    found = _PAST_TENSE.match(text)
    if found is None:
        return None
    verb = found["verb"].lower()
    if verb in _NOT_DONE_VERBS or _names_many(found["rest"]):
        return None
    if verb in _IRREGULAR_PAST:
        base = _IRREGULAR_PAST[verb]
    elif verb.endswith("ied"):
        base = verb[:-3] + "y"
    elif verb.endswith("ed") and len(verb) > 4:
        base = verb[:-2] if not verb.endswith("eed") else verb
        if len(base) > 2 and base[-1] == base[-2] and base[-1] in "bdgmnprt":  # "submitted"
            base = base[:-1]
    else:
        return None
    return CompleteTask(_reference(f"{base} {found['rest']}", quotes))


def _reference(text: str, quotes: _Quotes) -> str:
    """The words that name a task: "the dentist task" -> "dentist"; "'Call Anna'" -> "Call Anna"."""
    text = " ".join(text.split()).strip(" ,;:.!?")
    if text.lower() in PRONOUNS:
        return text.lower()
    bare = _REFERENCE_TAIL.sub("", _REFERENCE_LEAD.sub("", text)).strip(" ,;:.!?")
    return quotes.restore(bare or text).strip(" \"'")


def _change(
    reference: str,
    quotes: _Quotes,
    *,
    priority: Priority | None = None,
    due: date | None = None,
    clear: Clearable | None = None,
) -> ChangeTask | NotUnderstood:
    if _names_many(reference):  # "make everything high priority"
        return _refused("change", reference, quotes)
    reading = Reading(_reference(reference, quotes), priority=priority, due=due, clear=clear)
    return ChangeTask((reading,))


_CLEAR_FIELD = r"(?P<field>due\s+date|deadline|date|description|details|notes?)"
_CLEAR = (
    re.compile(
        rf"^(?:remove|clear|delete|drop|erase|unset|take\s+off)\s+(?:the\s+)?{_CLEAR_FIELD}\s+"
        r"(?:from|of|on|for|off)\s+(?P<ref>.+)$",
        re.I,
    ),
    re.compile(
        rf"^(?:remove|clear|delete|drop|erase|unset)\s+(?P<ref>.+?)'s\s+{_CLEAR_FIELD}$", re.I
    ),
    re.compile(rf"^(?P<ref>.+?)\s+(?:has|have|needs|should\s+have)\s+no\s+{_CLEAR_FIELD}$", re.I),
)


def _parse_clear(text: str, quotes: _Quotes, today: date) -> Command | None:
    for pattern in _CLEAR:
        found = pattern.match(text)
        if found is not None:
            name = found["field"].lower()
            cleared: Clearable = (
                "description" if name.startswith(("desc", "det", "note")) else "due_date"
            )
            return _change(found["ref"], quotes, clear=cleared)
    return None


# "add a note to X: ...", "change the description of X to ...", "set X's notes to ...".
_NOTE_NOUN = r"(?:notes?|descriptions?|comments?|details?)"
_NOTE_TO = re.compile(
    r"^(?:add|put|attach|write|leave|append)\s+(?:a\s+|the\s+|this\s+|some\s+)?"
    rf"{_NOTE_NOUN}\s+(?:to|on|for)\s+(?P<tail>.+)$",
    re.I,
)
_NOTE_OF = re.compile(
    r"^(?:change|set|update|edit|replace|make|rewrite)\s+(?:the\s+)?"
    rf"{_NOTE_NOUN}\s+(?:of|for|on)\s+(?P<tail>.+)$",
    re.I,
)
_NOTE_POSSESSIVE = re.compile(
    rf"^(?:change|set|update|edit|make)\s+(?P<ref>.+?)'s\s+{_NOTE_NOUN}\s+(?:to|as)\s+(?P<text>.+)$",
    re.I,
)
_DESCRIBE_AS = re.compile(r"^describe\s+(?P<ref>.+?)\s+as\s+(?P<text>.+)$", re.I)
_NOTE_SAYS = re.compile(r"\s*:\s*|\s+(?:saying|that\s+says|reading)\s+", re.I)


def _parse_describe(text: str, quotes: _Quotes, today: date) -> Command | None:
    """A new description for a task: the words that name it, and the description."""
    found = _NOTE_POSSESSIVE.match(text) or _DESCRIBE_AS.match(text)
    if found is not None:
        return _describing([(found["ref"], found["text"])], quotes)
    found = _NOTE_TO.match(text)
    separator = _NOTE_SAYS
    if found is None:
        found, separator = _NOTE_OF.match(text), _NOTE_TO_TEXT
    if found is None:
        return None
    tail = found["tail"]
    splits = list(separator.finditer(tail))[:MAX_READINGS]
    return _describing([(tail[: at.start()], tail[at.end() :]) for at in splits], quotes)


_NOTE_TO_TEXT = re.compile(r"\s*:\s*|\s+(?:to|as)\s*:?\s+", re.I)


def _describing(pairs: list[tuple[str, str]], quotes: _Quotes) -> Command | None:
    readings = []
    for words, description in pairs:
        if _names_many(words):
            return _refused("change", words, quotes)
        reference = _reference(words, quotes)
        described = quotes.restore(" ".join(description.split())).strip(" \"'")
        if reference and described:
            readings.append(Reading(reference, description=described))
    return ChangeTask(tuple(readings)) if readings else None


_RENAME = re.compile(r"^(?:rename|retitle|relabel)\s+(?P<tail>.+)$", re.I)
_RETITLE = re.compile(
    r"^(?:(?:change|edit|update|modify|set)\s+(?:the\s+)?(?:title|name|text|wording)\s+"
    r"(?:of|for|on)\s+|(?P<verb>change|edit|update|modify|reword|replace)\s+)(?P<tail>.+)$",
    re.I,
)
_RENAME_TO = re.compile(r"\s+(?:to|into|as)\s+", re.I)
_CHANGE_TO = re.compile(r"\s+(?:to|into)\s+", re.I)
_REPLACE_WITH = re.compile(r"\s+(?:with|by)\s+", re.I)
_DONE_WORDS = frozenset({"done", "complete", "completed", "finished"})


def _parse_rename(text: str, quotes: _Quotes, today: date) -> Command | None:
    found = _RENAME.match(text)
    return _renaming(found["tail"], _RENAME_TO, quotes) if found else None


def _parse_retitle(text: str, quotes: _Quotes, today: date) -> Command | None:
    found = _RETITLE.match(text)
    if found is None:
        return None
    verb = (found["verb"] or "").lower()
    return _renaming(found["tail"], _REPLACE_WITH if verb == "replace" else _CHANGE_TO, quotes)


def _renaming(tail: str, separator: re.Pattern[str], quotes: _Quotes) -> Command | None:
    readings: list[Reading] = []
    many = ""  # the first reading that named many tasks: "rename everything to x"
    for split in list(separator.finditer(tail))[:MAX_READINGS]:
        words = tail[: split.start()]
        reference = _reference(words, quotes)
        new_title = _title(re.sub(r"^(?:say|read)\s+", "", tail[split.end() :], flags=re.I), quotes)
        if _names_many(words):
            many = many or words
            if new_title.lower() in _DONE_WORDS:  # "change all tasks to done"
                return _refused("complete", words, quotes)
            continue
        if new_title.lower() in _DONE_WORDS:  # "change X to done"
            return CompleteTask(reference)
        if reference and new_title:
            readings.append(Reading(reference, title=new_title))
    if readings:
        return ChangeTask(tuple(readings))
    return _refused("change", many, quotes) if many else None


_LEVEL = r"(?P<level>high|top|low|medium|normal|urgent|important|critical)"
_PRIORITY = (
    # "set the priority of X to high"
    re.compile(
        r"^(?:set|change|make|put|switch|update)\s+(?:the\s+)?priority\s+(?:of|for|on)\s+"
        rf"(?P<ref>.+?)\s+(?:to\s+|as\s+)?{_LEVEL}(?:\s+priority)?$",
        re.I,
    ),
    # "make X high priority", "set X to low", "mark X as urgent"
    re.compile(
        r"^(?:make|set|mark|change|put|switch|flag|bump|move)\s+(?P<ref>.+?)\s+"
        rf"(?:to\s+|as\s+|at\s+|into\s+|up\s+to\s+|down\s+to\s+)?(?:an?\s+|the\s+)?{_LEVEL}"
        r"(?:[\s-]+(?:priority|prio|importance))?$",
        re.I,
    ),
    # "X is high priority", "X is urgent"
    re.compile(
        r"^(?P<ref>.+?)\s+(?:is|are|should\s+be|is\s+now)\s+(?:an?\s+)?"
        r"(?:(?P<level>high|top|low|medium|normal)[\s-]+priority"
        r"|(?P<word>urgent|important|critical))$",
        re.I,
    ),
)
_PRIORITY_SHIFT = (
    re.compile(
        r"^(?P<way>raise|increase|bump\s+up|up|lower|decrease|reduce|drop)\s+(?:the\s+)?"
        r"priority\s+(?:of|for|on)\s+(?P<ref>.+)$",
        re.I,
    ),
    re.compile(r"^(?P<way>prioriti[sz]e|de-?prioriti[sz]e)\s+(?P<ref>.+)$", re.I),
)
_DOWN = re.compile(r"^(?:lower|decrease|reduce|drop|de)", re.I)


def _parse_priority(text: str, quotes: _Quotes, today: date) -> Command | None:
    for pattern in _PRIORITY:
        found = pattern.match(text)
        if found is not None:
            level = found["level"] or found.groupdict().get("word") or ""
            return _change(found["ref"], quotes, priority=_LEVELS[level.lower()])
    for pattern in _PRIORITY_SHIFT:
        found = pattern.match(text)
        if found is not None:
            shifted: Priority = "low" if _DOWN.match(found["way"]) else "high"
            return _change(found["ref"], quotes, priority=shifted)
    return None


_DUE_DATE_OF = re.compile(
    r"^(?:set|change|move|update|make|put)\s+(?:the\s+)?(?:due\s+date|deadline|date)\s+"
    r"(?:of|for|on)\s+(?P<tail>.+)$",
    re.I,
)
_MOVE = re.compile(
    r"^(?:move|push|postpone|reschedule|defer|shift|delay|bring\s+forward|pull\s+forward|"
    r"set|change|put|make)\s+(?P<tail>.+)$",
    re.I,
)
_IS_DUE = re.compile(
    r"\s+(?:(?:is|are|should\s+be|will\s+be|is\s+now)\s+)?due\s+"
    r"|\s+(?:should|needs\s+to|must|has\s+to)\s+be\s+(?:done|finished|completed)\s+"
    r"(?=(?:by|before|on)\b)",
    re.I,
)
_WHEN_LEAD = re.compile(r"^(?:to|for|until|till|back\s+to|forward\s+to)\s+", re.I)


def _parse_due(text: str, quotes: _Quotes, today: date) -> Command | None:
    for pattern in (_DUE_DATE_OF, _MOVE):
        found = pattern.match(text)
        if found is not None:
            tail = found["tail"]
            # The first split whose right side is all date: "move go to gym to friday".
            for space in re.finditer(r"\s+", tail):
                due = _when(tail[space.end() :], today)
                if due is not None:
                    return _change(tail[: space.start()], quotes, due=due)
    for split in _IS_DUE.finditer(text):
        due = _when(text[split.end() :], today)
        if due is not None and split.start() > 0:
            return _change(text[: split.start()], quotes, due=due)
    return None


def _when(text: str, today: date) -> date | None:
    """The day a text names when the text is nothing else: "to next friday" -> that friday."""
    found = _DATE_PHRASE.fullmatch(_WHEN_LEAD.sub("", re.sub(r"\s+instead$", "", text.strip())))
    return _date_of(found, today) if found else None


_COMPLETE = (
    re.compile(
        r"^(?:mark|set|flag)\s+(?P<ref>.+?)\s+(?:as\s+|to\s+)?"
        r"(?:done|complete|completed|finished|checked|ticked)$",
        re.I,
    ),
    re.compile(
        r"^(?:complete|finish|close|tick\s+off|check\s+off|cross\s+off|strike\s+off)\s+"
        r"(?P<ref>.+)$",
        re.I,
    ),
    re.compile(r"^(?:tick|check|cross)\s+(?P<ref>.+?)\s+off$", re.I),
    re.compile(
        r"^i(?:'ve|\s+have)?\s+(?:just\s+|already\s+)?(?:finished|completed|done)\s+(?:with\s+)?"
        r"(?P<ref>.+)$",
        re.I,
    ),
    re.compile(
        r"^(?:i'm|i\s+am)\s+(?:all\s+)?(?:done|finished|through)\s+with\s+(?P<ref>.+)$", re.I
    ),
    re.compile(r"^(?:done|finished)\s*(?:with\s+|[:\-]\s*)(?P<ref>.+)$", re.I),
    re.compile(
        r"^(?P<ref>.+?)\s+(?:is\s+|are\s+|has\s+been\s+|have\s+been\s+|was\s+)?(?:now\s+|all\s+)?"
        r"(?:done|complete|completed|finished|taken\s+care\s+of|sorted)$",
        re.I,
    ),
)


def _parse_complete(text: str, quotes: _Quotes, today: date) -> CompleteTask | NotUnderstood | None:
    for pattern in _COMPLETE:
        found = pattern.match(text)
        if found is not None:
            if _names_many(found["ref"]):
                return _refused("complete", found["ref"], quotes)
            return CompleteTask(_reference(found["ref"], quotes), _spoken(found["ref"], quotes))
    return _parse_past_tense(text, quotes)


_DELETE = (
    re.compile(
        r"^(?:delete|remove|cancel|drop|erase|trash|scrap|discard|ditch|bin|get\s+rid\s+of|"
        r"forget\s+about|forget|throw\s+away|throw\s+out)\s+(?P<ref>.+)$",
        re.I,
    ),
    re.compile(r"^take\s+(?P<ref>.+?)\s+off\s+(?:my|the)\s+(?:(?:todo|to-do|task)\s+)?list$", re.I),
    re.compile(
        r"^(?P<ref>.+?)\s+(?:is|are)\s+"
        r"(?:cancell?ed|no\s+longer\s+needed|not\s+needed(?:\s+anymore)?)$",
        re.I,
    ),
)
# Verbs that only ever mean many tasks: "clear my list", "wipe everything", "reset". "clear" with
# one task's name ("clear buy milk") is not read: delete or complete, nobody can tell.
_WIPE = re.compile(
    r"^(?:clear\s+out|clean\s+out|clean\s+up|wipe\s+out|wipe|clear|empty|purge|reset|nuke)"
    r"(?:\s+(?P<ref>.+))?$",
    re.I,
)


def _parse_delete(text: str, quotes: _Quotes, today: date) -> DeleteTask | NotUnderstood | None:
    for pattern in _DELETE:
        found = pattern.match(text)
        if found is not None:
            if _names_many(found["ref"]):
                return _refused("delete", found["ref"], quotes)
            return DeleteTask(_reference(found["ref"], quotes), _spoken(found["ref"], quotes))
    wiping = _WIPE.match(text)
    if wiping is not None and (
        wiping["ref"] is None or _names_many(re.sub(r"^(?:out|up)\s+", "", wiping["ref"]))
    ):
        return _refused("delete", wiping["ref"] or "", quotes)
    return None


# Words naming many tasks at once ("all my tasks", "everything", "every task first", "my list").
# Offline, a change acts on one named task: read as a title, "all my tasks" would match a task
# called "all my tasks review" and act on it. Quoted words are a title, never this.
_COLLECTION = (
    r"(?:tasks?|items?|to-?dos?|things?|entries|entry|ones?|reminders?|of\s+(?:them|it|these|those)"
    r"|list)"
)
_STATE = (
    r"(?:completed|complete|done|finished|pending|open|old|remaining|other|current|existing|"
    r"outstanding|overdue|unfinished|undone|checked|ticked)"
)
_MANY = re.compile(
    rf"""^(?:
        (?:the\s+)?(?:all|both|everything|every\s*thing|them|these|those|it\s+all|the\s+rest)
        (?:\s+(?:of\s+)?(?:them|it|this|that|these|those|mine))?(?:\s+(?:all|both))?
      | (?:all|every|each|both|any)\b.*\b{_COLLECTION}\b.*
      | every\s*thing\b.*
      | (?:(?:the|my|our|your|this|that|these|those|whole|entire|full|complete)\s+)*
        (?:(?:task|to-?do|todo)\s+)?list
      | (?:(?:the|my|our|your|these|those)\s+)*(?:{_STATE}\s+)*
        (?:tasks|items|to-?dos|ones|entries|things|reminders)
    )[\s.!?]*$""",
    re.I | re.X,
)


def _names_many(reference: str) -> bool:
    return _MANY.match(" ".join(reference.split())) is not None


_EXAMPLE = {"delete": "delete buy milk", "complete": "mark buy milk done"}


def _refused(verb: str, reference: str, quotes: _Quotes) -> NotUnderstood:
    """A change to many tasks at once, refused with how to name one task instead."""
    words = " ".join(quotes.restore(reference).split()).strip(" .!?")
    example = _EXAMPLE.get(verb, "make buy milk high priority")
    reason = (
        f"Offline mode can only {verb} one task at a time, so nothing was changed. "
        f'Say which task, e.g. "{example}".'
    )
    if verb in _EXAMPLE and words and words.casefold() != "everything":
        reason += f' A task whose title says such words goes in quotes: {verb} "{words}".'
    return NotUnderstood(words or verb, reason=reason)


# --- dates --------------------------------------------------------------------------------------

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12,
    "dec": 12,
}  # fmt: skip
_COUNTS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_COUNTS |= {"seven": 7, "eight": 8, "nine": 9, "ten": 10}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_PHRASE = re.compile(
    rf"""
    (?<![\w-])
    (?P<pre>(?:(?:due|by|on|before|for|until|till)\s+)*)
    (?:
        (?P<iso>\d{{4}}-\d{{2}}-\d{{2}})
      | (?:the\s+)?(?P<after>day\s+after\s+tomorrow)
      | (?P<relative>today|tonight|tomorrow|tmrw)
      | next\s+week(?:'s)?\s+(?:on\s+)?(?P<week_day>{"|".join(_WEEKDAYS)})
      | (?P<day_week>{"|".join(_WEEKDAYS)})\s+(?:of\s+)?next\s+week
      | (?P<next_week>next\s+week)
      | in\s+(?P<count>\d{{1,3}}|{"|".join(_COUNTS)})\s+(?P<unit>days?|weeks?)
      | (?:(?P<modifier>next|this|coming|this\s+coming)\s+)?(?P<weekday>{"|".join(_WEEKDAYS)})
      | (?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<year>\d{{4}}))?
      | (?:the\s+)?(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month2>{_MONTH})\.?
        (?:,?\s+(?P<year2>\d{{4}}))?
    )
    (?![\w'-])
    """,
    re.I | re.X,
)


def _date_of(found: re.Match[str], today: date) -> date | None:
    """The day a date phrase names; weekdays are the next one after today, never today."""
    try:
        if found["iso"]:
            return date.fromisoformat(found["iso"])
        if found["after"]:
            return today + timedelta(days=2)
        if found["relative"]:
            later = found["relative"].lower() not in ("today", "tonight")
            return today + timedelta(days=1 if later else 0)
        if found["next_week"]:
            return today + timedelta(days=7)
        if found["week_day"] or found["day_week"]:  # "friday next week": in the week after this
            monday = today + timedelta(days=7 - today.weekday())
            return monday + timedelta(
                days=_WEEKDAYS.index((found["week_day"] or found["day_week"]).lower())
            )
        if found["count"]:
            count = found["count"].lower()
            number = int(count) if count.isdigit() else _COUNTS[count]
            return today + timedelta(days=number * (7 if found["unit"].lower()[0] == "w" else 1))
        if found["weekday"]:
            ahead = (_WEEKDAYS.index(found["weekday"].lower()) - today.weekday()) % 7
            return today + timedelta(days=ahead or 7)
        month = _MONTHS[(found["month"] or found["month2"]).lower()]
        day = int(found["day"] or found["day2"])
        year = found["year"] or found["year2"]
        if year:
            return date(int(year), month, day)
        this_year = date(today.year, month, day)
        return this_year if this_year >= today else date(today.year + 1, month, day)
    except ValueError:  # 2026-02-30, "february 30"
        return None


# --- typos --------------------------------------------------------------------------------------

_VERB_SPELLINGS = _word_set(
    "add create show list display mark complete delete remove rename change move postpone "
    "finish cancel erase tick check remind todo what's whats prioritize reschedule make set"
)
_DONE_SPELLINGS = _word_set("done complete completed finished")
_LEVEL_SPELLINGS = _word_set("high medium priority urgent important")


def _respelled(text: str) -> str:
    """The command with its command words respelled, for a message nothing else understood:
    "delet buy milk" -> "delete buy milk", "mark milk doen" -> "mark milk done". Only the
    first and last words are respelled; a title keeps its spelling."""
    words = text.split(" ")
    verb = _nearest(words[0], _VERB_SPELLINGS, ties=False)
    if verb is not None:
        words[0] = verb
    if len(words) > 1:
        done = _nearest(words[-1], _DONE_SPELLINGS, ties=False)
        if done is not None:
            words[-1] = done
    for index, word in enumerate(words[1:], start=1):  # "hihg priority"; never a short word
        level = _nearest(word, _LEVEL_SPELLINGS, ties=False) if len(word) > 3 else None
        if level is not None:
            words[index] = level
    return " ".join(words)


def _respelled_list(text: str) -> str:
    """Every word respelled as a word of a list question: "shwo my taks" -> "show my tasks".
    Used only if the result is a list question, which holds nothing but such words."""
    return " ".join(_nearest(word, _LIST_WORDS, ties=True) or word for word in text.split(" "))


def _nearest(word: str, vocabulary: frozenset[str], *, ties: bool) -> str | None:
    """The vocabulary word a typo most likely meant, or None: the word is spelled right, or no
    word is near enough (one edit up to six letters, two beyond), or `ties` is False and two
    are as near."""
    lowered = word.casefold()
    if lowered in vocabulary or len(lowered) < 2 or not lowered.isalpha():
        return None
    limit = 1 if len(lowered) <= 6 else 2
    scored = sorted(
        (distance, known)
        for known in vocabulary
        if abs(len(known) - len(lowered)) <= limit and (distance := _edits(lowered, known)) <= limit
    )
    if not scored or (not ties and len(scored) > 1 and scored[0][0] == scored[1][0]):
        return None
    return scored[0][1]


def _edits(a: str, b: str) -> int:
    """Edits from one word to another, a swap of neighbours counting as one (optimal string
    alignment): "shwo" -> "show" is 1."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, other in enumerate(b, start=1):
            cost = char != other
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char == b[j - 2] and a[i - 2] == other:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]
