"""The tasks product's offline commands: plain English task commands, carried out with the task
tools when no language model is configured.

`TaskCommands` reads a message with `tasks.commands` ("add buy milk, then show me what's
pending"), carries each command out by calling the same MCP tools a model would (`add_task`,
`list_tasks`, `complete_task`, `update_task`, `delete_task`) through `call_tool`, and answers
one line per command. What cannot be found, or is named ambiguously, is never guessed at:
nothing changes and the line says why.

A task is found by its title, in ranks from best to worst (case, spacing and punctuation never
matter):

- `EXACT`: the same words ("buy milk" is "Buy milk!");
- `SAME_WORDS`: the same words but for little ones like "the", "to", and plurals ("go to the
  gym" is "go to gym");
- `CONTAINED`: the words are in the title ("dentist" in "Dentist appointment");
- `ALIKE`: none of those, but close enough to be a typo ("by milk" for "Buy milk").

The best rank wins ("delete buy milk" takes "Buy milk" over "Buy milk and eggs"). Of several at
that rank, the one still pending is meant if only one is; otherwise nothing changes and the
reply names them.

Completing or changing a task acts on a single match at any rank, and the reply names the task.
Deleting needs a confident match: a single exact or same-words title. A delete whose reference
only matches partly or by a typo deletes nothing: the reply lists the candidates, numbered, and
says how to name one by its full title ("delete by milk" answers: did you mean "Buy milk"?). So a
task is never deleted on a guess, and a reply that deletes one names it in quotes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from difflib import SequenceMatcher
from typing import Any

from paperworks.mcp.offline import Memory, OfflineAnswer, RecordedCalls, ToolCall, ToolFailed
from paperworks.tasks.commands import (
    MAX_COMMANDS,
    PRONOUNS,
    AddTask,
    ChangeTask,
    Command,
    CompleteTask,
    DeleteTask,
    ListTasks,
    NotUnderstood,
    Reading,
    parse_commands,
    position,
)

LISTED_TITLES = 25  # a list line names this many tasks, then counts the rest
# How alike a reference and a title must be, at least, to match without either containing the
# other: "dentist appt" finds "dentist appointment" (0.77); "call bob" misses "call anna" (0.59).
FUZZY_THRESHOLD = 0.7

EXAMPLES = (
    "add buy milk tomorrow, high priority",
    "what's pending?",
    "what have I completed?",
    "mark buy milk done",
    "rename buy milk to buy oat milk",
    "make buy milk low priority",
    "move buy milk to friday",
    "delete buy milk",
    "add buy milk, then show me what's pending",
)


class TaskCommands:
    """`OfflineCommands` for tasks: the phrases of `tasks.commands`, carried out with the tools."""

    @property
    def examples(self) -> Sequence[str]:
        return EXAMPLES

    async def answer(
        self, message: str, call_tool: ToolCall, *, today: date, memory: Memory | None = None
    ) -> OfflineAnswer | None:
        """Carry out the task commands in `message`; None if it holds none at all.

        `memory` is what the last turn left: the task it acted on ("it") and the tasks its list
        showed, by number ("complete 2"); the answer's memory is what this turn leaves.

        Never raises for what the user wrote: a command it cannot read, a task it cannot find or a
        tool that fails becomes a line of the reply. Only an exception from `call_tool` other than
        `ToolFailed` passes through.
        """
        parsed = parse_commands(message, today=today)
        if all(
            isinstance(command, NotUnderstood) and not command.reason for command in parsed.commands
        ):
            return None
        session = _Session(call_tool, memory or {})
        lines = [await _carry_out(command, session, today) for command in parsed.commands]
        if parsed.unread:
            lines.append(f"Only the first {MAX_COMMANDS} commands were carried out.")
        return OfflineAnswer("\n".join(lines), session.calls, session.memory())


# --- finding the task the user means ------------------------------------------------------------

_STOPWORDS = frozenset({"the", "a", "an", "to", "of", "for", "my", "on", "in", "and", "with"})
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
EXACT, SAME_WORDS, CONTAINED, ALIKE = 4, 3, 2, 1  # how well a reference names a task
CONFIDENT = SAME_WORDS  # a delete needs a match at least this good
CANDIDATES = 5  # a reply asking which task names this many candidates, then counts the rest


def _key(text: str) -> str:
    """The words of a text, lowercased, without punctuation: "Buy milk!" -> "buy milk"."""
    return " ".join(re.findall(r"[^\W_]+", text.casefold().replace("'", "").replace("\u2019", "")))


def _words(key: str) -> tuple[str, ...]:
    """The words that carry meaning, in order, plurals folded: "go to the gyms" -> (go, gym)."""
    return tuple(
        word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
        for word in key.split()
        if word not in _STOPWORDS
    )


def _likeness(reference: str, title: str) -> float:
    ratio = SequenceMatcher(None, reference, title).ratio()
    words, title_words = set(reference.split()) - _STOPWORDS, set(title.split()) - _STOPWORDS
    union = words | title_words
    return max(ratio, len(words & title_words) / len(union) if union else 0.0)


def _locate(reference: str, tasks: Sequence[dict[str, Any]]) -> tuple[int, list[dict[str, Any]]]:
    """The tasks a reference names best, and how well: `EXACT` ... `ALIKE`, or 0 for none.

    Alike tasks come best first. When several match and exactly one of them is still pending,
    that one is meant.
    """
    key = _key(reference)
    words = _words(key)
    if not words:  # "the", "a": names nothing
        return 0, []
    titled = [(task, _key(str(task.get("title", "")))) for task in tasks]
    by_id = [task for task in tasks if str(task.get("id", "")).casefold() == reference.casefold()]
    if by_id:  # a task's id names it anywhere
        return EXACT, by_id
    rank, found = EXACT, [task for task, title in titled if title == key]
    if not found:
        rank, found = SAME_WORDS, [task for task, title in titled if _words(title) == words]
    if not found:
        rank = CONTAINED
        found = [task for task, title in titled if title and _contained(key, title)]
    if not found:
        scored = [(round(_likeness(key, title), 6), task) for task, title in titled if title]
        scored.sort(key=lambda pair: -pair[0])  # stable: equally alike tasks keep list order
        rank, found = ALIKE, [task for score, task in scored if score >= FUZZY_THRESHOLD]
    pending = [task for task in found if not task.get("completed")]
    if len(found) > 1 and len(pending) == 1:
        found = pending
    return (rank if found else 0), found


def _contained(key: str, title: str) -> bool:
    if f" {key} " in f" {title} ":  # "dentist" -> "Dentist appointment"
        return True
    if _CJK.search(key) and key in title:  # Chinese writes no spaces: "牛奶" -> "买牛奶"
        return True
    # "call anna tomorrow" -> "Call Anna"; but a title lost in a long reference names nothing.
    return f" {title} " in f" {key} " and len(title.split()) * 2 >= len(key.split())


# --- carrying commands out ----------------------------------------------------------------------


class _Session(RecordedCalls):
    """The tool calls of one message, recorded in order; the task last acted on ("it") and the
    tasks of the last list shown, by number, carried over from the turn before."""

    def __init__(self, call_tool: ToolCall, memory: Memory) -> None:
        super().__init__(call_tool)
        self.last_task: dict[str, Any] | None = None
        last = memory.get("task")
        self.last_task_id: str | None = last if isinstance(last, str) else None
        listed = memory.get("listed")
        self.listed: list[str] = (
            [item for item in listed if isinstance(item, str)] if isinstance(listed, list) else []
        )

    def acted_on(self, task: Any) -> None:
        self.last_task = task if isinstance(task, dict) else None
        self.last_task_id = str(task["id"]) if isinstance(task, dict) and "id" in task else None

    def memory(self) -> dict[str, Any]:
        return {"task": self.last_task_id, "listed": self.listed}

    async def call(self, name: str, arguments: dict[str, Any]) -> Any:
        return await self(name, arguments)


async def _carry_out(command: Command, session: _Session, today: date) -> str:
    if isinstance(command, AddTask):
        return await _add(command, session)
    if isinstance(command, ListTasks):
        return await _list(command, session, today)
    if isinstance(command, NotUnderstood):
        return command.reason or (
            f"Offline mode didn't understand {_quoted(command.text)}; "
            'try e.g. "add buy milk" or "what\'s pending?".'
        )
    if isinstance(command, ChangeTask):
        references = [reading.reference for reading in command.readings]
    else:
        references = [command.reference]
        if command.spoken:  # "old task" as said, beside "old"
            references.append(command.spoken)
    target = await _target(session, references, deleting=isinstance(command, DeleteTask))
    if isinstance(target, str):
        return target
    reading, task = target
    if isinstance(command, CompleteTask):
        return await _complete(task, session)
    if isinstance(command, DeleteTask):
        return await _delete(task, session)
    return await _update(task, _fields(command.readings[reading]), session)


async def _add(command: AddTask, session: _Session) -> str:
    if not command.title:
        return 'What should the task say? For example: "add buy milk tomorrow".'
    arguments: dict[str, Any] = {"title": command.title}
    if command.description:
        arguments["description"] = command.description
    if command.priority:
        arguments["priority"] = command.priority
    if command.due:
        arguments["due_date"] = command.due.isoformat()
    try:
        task = await session.call("add_task", arguments)
    except ToolFailed as failure:
        return f"Could not add {_quoted(command.title)}: {_sentence(failure.message)}"
    session.acted_on(task)
    shown = task if isinstance(task, dict) else {}
    notes = []
    priority = shown.get("priority", command.priority)
    if priority and priority != "medium":
        notes.append(f"{priority} priority")
    due = shown.get("dueDate", arguments.get("due_date"))
    if due:
        notes.append(f"due {_day(due)}")
    if command.description:
        notes.append("with a note")
    title = shown.get("title", command.title)
    return f"Added {_quoted(title)}" + (f" ({', '.join(notes)})." if notes else ".")


async def _list(command: ListTasks, session: _Session, today: date) -> str:
    try:
        result = await session.call("list_tasks", {"status": command.status})
    except ToolFailed as failure:
        return f"Could not list your tasks: {_sentence(failure.message)}"
    tasks = _tasks_of(result)
    if command.due_on is not None:
        day = command.due_on.isoformat()
        tasks = [task for task in tasks if task.get("dueDate") == day]
        heading, empty = f"Due {_day(day)}", f"Nothing pending is due {_day(day)}."
    elif command.overdue:
        tasks = [task for task in tasks if str(task.get("dueDate") or "9") < today.isoformat()]
        heading, empty = "Overdue", "Nothing is overdue."
    else:
        heading, empty = {
            "pending": ("Pending", "Nothing is pending."),
            "completed": ("Completed", "Nothing is completed yet."),
            "all": ("Your tasks", "You have no tasks."),
        }[command.status]
    if not tasks:
        return empty
    # Numbered, and remembered by number: "complete 2" in the next message means the second.
    session.listed = [str(task.get("id")) for task in tasks[:LISTED_TITLES]]
    shown = "; ".join(
        f"{number}. {_listed(task, command.status)}"
        for number, task in enumerate(tasks[:LISTED_TITLES], start=1)
    )
    if len(tasks) > LISTED_TITLES:
        shown += f"; and {len(tasks) - LISTED_TITLES} more"
    more = (
        " There are more than these; ask for pending or completed ones."
        if (isinstance(result, dict) and result.get("more"))
        else ""
    )
    return f"{heading} ({len(tasks)}): {shown}.{more}"


def _listed(task: dict[str, Any], status: str) -> str:
    notes = []
    if status == "all" and task.get("completed"):
        notes.append("done")
    priority = task.get("priority")
    if priority and priority != "medium":
        notes.append(str(priority))
    if task.get("dueDate"):
        notes.append(f"due {task['dueDate']}")
    title = _quoted(str(task.get("title", "")))
    return f"{title} ({', '.join(notes)})" if notes else title


async def _target(
    session: _Session, references: Sequence[str], *, deleting: bool = False
) -> tuple[int, dict[str, Any]] | str:
    """The task the user means and which reading named it; or the line saying why there is none.

    `deleting` asks for a confident match: a single exact or same-words title.
    """
    first = references[0]
    remembered = first in PRONOUNS or position(first) is not None
    if remembered:
        if first in PRONOUNS and session.last_task is not None:  # acted on in this message
            return 0, session.last_task
        wanted = _remembered_id(session, first)
        if wanted is None or wanted.startswith(" "):
            return (wanted or "").strip()
    try:
        result = await session.call("list_tasks", {"status": "all"})
    except ToolFailed as failure:
        return f"Could not look up your tasks: {_sentence(failure.message)}"
    tasks = _tasks_of(result)
    if remembered:
        task = next((task for task in tasks if str(task.get("id")) == wanted), None)
        if task is None:
            return f"The task {_quoted(first)} named is gone. Nothing changed."
        return 0, task
    best_rank, best_reading, best = 0, 0, []
    for reading, reference in enumerate(references):
        rank, found = _locate(reference, tasks)
        if rank > best_rank:
            best_rank, best_reading, best = rank, reading, found
    if not best:
        among = (
            " among your first 100 tasks" if isinstance(result, dict) and result.get("more") else ""
        )
        return f"No task matches {_quoted(first)}{among}, so nothing changed."
    if deleting and (len(best) > 1 or best_rank < CONFIDENT):
        return _which_to_delete(first, best)
    if len(best) > 1:
        names = [_listed(task, "all") for task in best]
        return f"Which task do you mean: {_either(names)}? Nothing changed."
    return best_reading, best[0]


def _remembered_id(session: _Session, reference: str) -> str:
    """The id of the task "it" or a place in the last list ("2", "the last one") names, as the
    user saw it; or, after a space, the line saying why there is none."""
    place = position(reference)
    if place is None:  # "it", "that one"
        if session.last_task_id is None:
            return f" Which task do you mean by {_quoted(reference)}? Nothing changed."
        return session.last_task_id
    listed = session.listed
    if not listed:
        return (
            f" There is no numbered list to pick {_quoted(reference)} from; "
            'ask "show my tasks" first. Nothing changed.'
        )
    index = place - 1 if place > 0 else place
    if not -len(listed) <= index < len(listed):
        count = f"{len(listed)} task{'s' if len(listed) != 1 else ''}"
        return f" The last list had {count}, so there is no number {place}. Nothing changed."
    return listed[index]


def _which_to_delete(reference: str, candidates: Sequence[dict[str, Any]]) -> str:
    """The line for a delete without a confident match: the candidates, and how to name one."""
    titles = [str(task.get("title", "")) for task in candidates]
    how = f"To delete it, say: delete {_quoted(titles[0])}."
    if len(candidates) == 1:
        return (
            f"No task is called {_quoted(reference)}; did you mean {_quoted(titles[0])}? "
            f"Nothing was deleted. {how}"
        )
    numbered = "; ".join(
        f"{number}. {_listed(task, 'all')}"
        for number, task in enumerate(candidates[:CANDIDATES], start=1)
    )
    if len(candidates) > CANDIDATES:
        numbered += f"; and {len(candidates) - CANDIDATES} more"
    how = (
        f"Say delete and the full title, e.g. delete {_quoted(titles[0])}."
        if len(set(titles)) == len(titles)
        else "They share a title, so offline mode can't tell them apart."
    )
    return (
        f"Several tasks match {_quoted(reference)}: {numbered}. Which one should be deleted? "
        f"Nothing was deleted. {how}"
    )


async def _complete(task: dict[str, Any], session: _Session) -> str:
    title = _quoted(str(task.get("title", "")))
    if task.get("completed"):
        return f"{title} is already done."
    try:
        done = await session.call("complete_task", {"task_id": task.get("id")})
    except ToolFailed as failure:
        return f"Could not mark {title} done: {_sentence(failure.message)}"
    session.acted_on(done)
    return f"Marked {title} as done."


async def _delete(task: dict[str, Any], session: _Session) -> str:
    title = _quoted(str(task.get("title", "")))
    try:
        result = await session.call("delete_task", {"task_id": task.get("id")})
    except ToolFailed as failure:
        return f"Could not delete {title}: {_sentence(failure.message)}"
    session.acted_on(None)
    if isinstance(result, dict) and result.get("title"):
        title = _quoted(str(result["title"]))
    return f"Deleted {title}."


def _fields(reading: Reading) -> dict[str, Any]:
    """The update_task arguments for the one change a reading asks for."""
    if reading.title is not None:
        return {"title": reading.title}
    if reading.priority is not None:
        return {"priority": reading.priority}
    if reading.due is not None:
        return {"due_date": reading.due.isoformat()}
    if reading.description is not None:
        return {"description": reading.description}
    return {"clear": [reading.clear]}


async def _update(task: dict[str, Any], fields: dict[str, Any], session: _Session) -> str:
    before = _quoted(str(task.get("title", "")))
    try:
        changed = await session.call("update_task", {"task_id": task.get("id"), **fields})
    except ToolFailed as failure:
        return f"Could not change {before}: {_sentence(failure.message)}"
    session.acted_on(changed)
    after = changed if isinstance(changed, dict) else {}
    title = _quoted(str(after.get("title", fields.get("title", task.get("title", "")))))
    if "title" in fields:
        return f"Renamed {before} to {title}."
    if "priority" in fields:
        return f"{title} is now {after.get('priority', fields['priority'])} priority."
    if "due_date" in fields:
        return f"{title} is now due {_day(str(after.get('dueDate') or fields['due_date']))}."
    if "description" in fields:
        return f"Set the description of {title}."
    if fields.get("clear") == ["due_date"]:
        return f"{title} no longer has a due date."
    return f"Cleared the description of {title}."


def _tasks_of(result: Any) -> list[dict[str, Any]]:
    tasks = result.get("tasks") if isinstance(result, dict) else None
    return [task for task in tasks if isinstance(task, dict)] if isinstance(tasks, list) else []


def _quoted(text: str) -> str:
    return f'"{text}"'


def _either(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _sentence(text: str) -> str:
    text = " ".join(str(text).split()).rstrip(".") or "unknown error"
    return text + "."


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _day(day: str) -> str:
    try:
        name = _WEEKDAYS[date.fromisoformat(day).weekday()]
    except ValueError:
        return day
    return f"{name} {day}"
