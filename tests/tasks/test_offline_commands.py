"""The tasks product's offline commands: plain task commands carried out through the task tools,
one reply line per command, and the user's tasks never touched by a guess."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from paperworks.mcp.offline import CalledTool, OfflineAnswer, ToolFailed
from paperworks.tasks.commands import MAX_COMMANDS
from paperworks.tasks.offline import TaskCommands

TODAY = date(2026, 12, 1)  # a Tuesday
# ids t1..t5, in this order; "Pay rent" is done
TASKS = ("Buy milk", "Call Anna", "Dentist appointment", "Pay rent", "go to gym")
LIST_ALL = ("list_tasks", {"status": "all"})
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

Call = tuple[str, dict[str, Any]]


class FakeTools:
    """The five task tools over a list, answering as the real ones do: camelCase tasks, ids, and
    `ToolFailed` with the tool's message for what the real tool would refuse."""

    def __init__(self, *titles: str, failing: dict[str, str] | None = None) -> None:
        self.tasks: list[dict[str, Any]] = []
        self.failing = failing or {}
        for title in titles:
            self.add(title)

    def add(
        self,
        title: str,
        priority: str = "medium",
        due_date: str | None = None,
        description: str | None = None,
        *,
        completed: bool = False,
    ) -> dict[str, Any]:
        title = title.strip()
        if not 1 <= len(title) <= 200:
            raise ToolFailed("title: must be 1 to 200 characters")
        task = {
            "id": f"t{len(self.tasks) + 1}",
            "title": title,
            "description": description,
            "completed": completed,
            "priority": priority,
            "dueDate": due_date,
            "createdAt": "2026-11-30T09:00:00Z",
            "updatedAt": "2026-11-30T09:00:00Z",
            "completedAt": "2026-11-30T10:00:00Z" if completed else None,
        }
        self.tasks.append(task)
        return dict(task)

    def titles(self) -> list[str]:
        return [task["title"] for task in self.tasks]

    async def __call__(self, name: str, arguments: dict[str, Any]) -> Any:
        if name in self.failing:
            raise ToolFailed(self.failing[name])
        if name == "add_task":
            return self.add(**arguments)
        if name == "list_tasks":
            status = arguments.get("status", "all")
            shown = [
                dict(task)
                for task in self.tasks
                if status == "all" or task["completed"] == (status == "completed")
            ]
            return {"tasks": shown, "more": False}
        task = next((task for task in self.tasks if task["id"] == arguments["task_id"]), None)
        if task is None:
            raise ToolFailed("Task not found")
        if name == "complete_task":
            task["completed"] = True
            return dict(task)
        if name == "delete_task":
            self.tasks.remove(task)
            return {"deleted": task["id"], "title": task["title"]}
        if name == "update_task":
            for field in arguments.get("clear", []):
                task["dueDate" if field == "due_date" else "description"] = None
            for field, key in (
                ("title", "title"),
                ("priority", "priority"),
                ("due_date", "dueDate"),
            ):
                if field in arguments:
                    task[key] = arguments[field]
            return dict(task)
        raise ToolFailed(f"Unknown tool: {name}")


def standard_tools(**options: Any) -> FakeTools:
    tools = FakeTools(*TASKS, **options)
    tools.tasks[3]["completed"] = True
    return tools


async def run(message: str, tools: FakeTools | None = None) -> OfflineAnswer:
    reply = await TaskCommands().answer(message, tools or standard_tools(), today=TODAY)
    assert reply is not None, f"no task command understood in {message!r}"
    return reply


def calls(reply: OfflineAnswer) -> list[Call]:
    return [(call.name, call.arguments) for call in reply.tool_calls]


def lines(reply: OfflineAnswer) -> list[str]:
    return reply.reply.split("\n")


def add(**arguments: Any) -> list[Call]:
    return [("add_task", arguments)]


def listing(status: str) -> list[Call]:
    return [("list_tasks", {"status": status})]


def found_then(name: str, task_id: str, **arguments: Any) -> list[Call]:
    return [LIST_ALL, (name, {"task_id": task_id, **arguments})]


PHRASINGS: list[tuple[str, list[Call]]] = [
    # add, with priority and due date taken out of the title
    ("add buy milk", add(title="buy milk")),
    (
        "add a task to call Anna tomorrow, high priority",
        add(title="call Anna", priority="high", due_date="2026-12-02"),
    ),
    ("remind me to pay rent on 2026-12-24", add(title="pay rent", due_date="2026-12-24")),
    ("create a task: water the plants", add(title="water the plants")),
    ("new task water plants", add(title="water plants")),
    ("I need to book flights next friday", add(title="book flights", due_date="2026-12-04")),
    ("todo: renew passport", add(title="renew passport")),
    ("Please add 'call Bob' the day after tomorrow", add(title="call Bob", due_date="2026-12-03")),
    ("can you add fix the sink, urgent?", add(title="fix the sink", priority="high")),
    ("add read a book, low priority", add(title="read a book", priority="low")),
    ("add stretch, medium priority", add(title="stretch", priority="medium")),
    ("add plan the trip in 3 days", add(title="plan the trip", due_date="2026-12-04")),
    ("add clean the garage next week", add(title="clean the garage", due_date="2026-12-08")),
    (
        "add file taxes by 2026-12-24, it's important",
        add(title="file taxes", priority="high", due_date="2026-12-24"),
    ),
    ("add \u201cbuy bread\u201d today!", add(title="buy bread", due_date="2026-12-01")),
    ("add an urgent task to renew the lease", add(title="renew the lease", priority="high")),
    ("add prepare monday meeting notes", add(title="prepare monday meeting notes")),
    ("add finish tomorrow's slides", add(title="finish tomorrow's slides")),
    ("add buy milk and eggs to my list", add(title="buy milk and eggs")),
    # list
    ("what's pending?", listing("pending")),
    ("What is pending", listing("pending")),
    ("show me what's pending", listing("pending")),
    ("show my tasks", listing("all")),
    ("list tasks", listing("all")),
    ("list all tasks", listing("all")),
    ("what do I have to do", listing("pending")),
    ("what's left?", listing("pending")),
    ("what have I completed?", listing("completed")),
    ("show completed tasks", listing("completed")),
    ("what's done", listing("completed")),
    ("what\u2019s due on friday?", listing("pending")),
    # complete: found first, then completed
    ("mark 'call Anna' done", found_then("complete_task", "t2")),
    ("mark call anna as done", found_then("complete_task", "t2")),
    ("mark buy milk as completed", found_then("complete_task", "t1")),
    ("complete the dentist task", found_then("complete_task", "t3")),
    ("I finished the dentist appointment", found_then("complete_task", "t3")),
    ("I'm done with buy milk", found_then("complete_task", "t1")),
    ("done with buy milk", found_then("complete_task", "t1")),
    ("check off buy milk", found_then("complete_task", "t1")),
    ("buy milk is done", found_then("complete_task", "t1")),
    ("tick off Call Anna!", found_then("complete_task", "t2")),
    (
        "Could you mark \u201cBuy milk\u201d as complete, please?",
        found_then("complete_task", "t1"),
    ),
    # delete: only on the whole title (a part or a typo asks first, see test_offline_safety)
    ("delete the dentist appointment task", found_then("delete_task", "t3")),
    ("remove buy milk", found_then("delete_task", "t1")),
    ("cancel the go to gym task", found_then("delete_task", "t5")),
    ("drop call anna", found_then("delete_task", "t2")),
    ("get rid of buy milk", found_then("delete_task", "t1")),
    ("delete go to the gym", found_then("delete_task", "t5")),  # the same words
    # rename
    ("rename buy milk to buy oat milk", found_then("update_task", "t1", title="buy oat milk")),
    (
        "change call anna to call Anna and Bob",
        found_then("update_task", "t2", title="call Anna and Bob"),
    ),
    (
        "rename the task go to gym to go to the pool",
        found_then("update_task", "t5", title="go to the pool"),
    ),
    ("rename 'Buy milk' to 'Buy oat milk'", found_then("update_task", "t1", title="Buy oat milk")),
    # priority and due date
    ("make buy milk high priority", found_then("update_task", "t1", priority="high")),
    ("set call anna to low priority", found_then("update_task", "t2", priority="low")),
    ("mark the dentist appointment as urgent", found_then("update_task", "t3", priority="high")),
    ("move buy milk to tomorrow", found_then("update_task", "t1", due_date="2026-12-02")),
    ("call anna is due friday", found_then("update_task", "t2", due_date="2026-12-04")),
    (
        "push the dentist appointment to next week",
        found_then("update_task", "t3", due_date="2026-12-08"),
    ),
    ("remove the due date from buy milk", found_then("update_task", "t1", clear=["due_date"])),
]


@pytest.mark.parametrize(("message", "expected"), PHRASINGS, ids=[m for m, _ in PHRASINGS])
async def test_each_phrasing_becomes_its_tool_calls(message: str, expected: list[Call]) -> None:
    reply = await run(message)

    assert calls(reply) == expected
    assert len(lines(reply)) == 1
    assert all("error" not in str(call.result) for call in reply.tool_calls)


async def test_a_message_with_two_commands_adds_then_lists_with_the_new_task() -> None:
    tools = standard_tools()

    reply = await run("add buy milk, then show me what's pending", tools)

    assert calls(reply) == add(title="buy milk") + listing("pending")
    added, pending = lines(reply)
    assert added == 'Added "buy milk".'
    assert pending.startswith("Pending (5): ")
    assert '"buy milk"' in pending
    assert '"Pay rent"' not in pending
    assert reply.tool_calls[1].result["tasks"][-1]["title"] == "buy milk"


@pytest.mark.parametrize(
    "message",
    [
        "add laundry; mark call anna done and then what's left?",
        "add laundry. Mark call anna done. What's left",
        "add laundry, mark call anna done, then what's left",
        "add laundry and mark call anna done, afterwards what's left",
    ],
)
async def test_commands_split_on_then_semicolons_sentences_and_a_new_verb(message: str) -> None:
    reply = await run(message)

    assert [name for name, _ in calls(reply)] == [
        "add_task",
        "list_tasks",
        "complete_task",
        "list_tasks",
    ]
    assert calls(reply)[0] == ("add_task", {"title": "laundry"})
    assert len(lines(reply)) == 3


@pytest.mark.parametrize(
    ("message", "title"),
    [
        ("add eggs and milk", "eggs and milk"),
        ("add call Anna, high priority", "call Anna"),
        ("add see Dr. Smith on friday", "see Dr. Smith"),
        ("add 'wash, then dry the car'", "wash, then dry the car"),
    ],
)
async def test_what_only_looks_like_a_second_command_stays_in_the_title(
    message: str, title: str
) -> None:
    reply = await run(message)

    assert [call.arguments["title"] for call in reply.tool_calls] == [title]
    assert len(lines(reply)) == 1


async def test_it_means_the_task_just_added() -> None:
    tools = standard_tools()

    reply = await run("add call Bob, then mark it done", tools)

    assert calls(reply) == [*add(title="call Bob"), ("complete_task", {"task_id": "t6"})]
    assert lines(reply) == ['Added "call Bob".', 'Marked "call Bob" as done.']


async def test_make_it_high_priority_belongs_to_the_task_being_added() -> None:
    reply = await run("add call Anna tomorrow, and make it high priority")

    assert calls(reply) == add(title="call Anna", priority="high", due_date="2026-12-02")
    assert lines(reply) == ['Added "call Anna" (high priority, due Wednesday 2026-12-02).']


@pytest.mark.parametrize(
    ("phrase", "due"),
    [
        ("today", "2026-12-01"),
        ("tonight", "2026-12-01"),
        ("tomorrow", "2026-12-02"),
        ("the day after tomorrow", "2026-12-03"),
        ("on 2026-12-24", "2026-12-24"),
        ("by 2026-12-24", "2026-12-24"),
        ("on monday", "2026-12-07"),
        ("next monday", "2026-12-07"),
        ("friday", "2026-12-04"),
        ("on tuesday", "2026-12-08"),  # today is a Tuesday: the next one
        ("in 3 days", "2026-12-04"),
        ("in two weeks", "2026-12-15"),
        ("next week", "2026-12-08"),
        ("on december 24", "2026-12-24"),
        ("on the 5th of january", "2027-01-05"),  # already past this year: next year's
    ],
)
async def test_due_dates_are_read_relative_to_today(phrase: str, due: str) -> None:
    reply = await run(f"add water the plants {phrase}")

    assert calls(reply) == add(title="water the plants", due_date=due)
    weekday = WEEKDAYS[date.fromisoformat(due).weekday()]
    assert lines(reply) == [f'Added "water the plants" (due {weekday} {due}).']


async def test_words_in_quotes_are_the_title_not_dates_or_commands() -> None:
    reply = await run("add 'meet at 5 tomorrow, then call Anna' friday")

    assert calls(reply) == add(title="meet at 5 tomorrow, then call Anna", due_date="2026-12-04")


async def test_an_impossible_date_stays_in_the_title() -> None:
    reply = await run("add pay rent on 2026-02-30")

    assert calls(reply) == add(title="pay rent on 2026-02-30")


async def test_the_list_names_each_task_with_its_priority_and_due_date() -> None:
    tools = FakeTools()
    tools.add("Call Anna", priority="high", due_date="2026-12-02")
    tools.add("Buy milk")
    tools.add("Read a book", priority="low")
    tools.add("Pay rent", completed=True)

    pending = await run("what's pending?", tools)
    everything = await run("show my tasks", tools)
    done = await run("what have I completed?", tools)

    assert lines(pending) == [
        'Pending (3): 1. "Call Anna" (high, due 2026-12-02); 2. "Buy milk"; 3. "Read a book" (low).'
    ]
    assert lines(everything)[0].startswith("Your tasks (4): ")
    assert lines(everything)[0].endswith('; 4. "Pay rent" (done).')
    assert lines(done) == ['Completed (1): 1. "Pay rent".']


async def test_a_long_list_names_the_first_tasks_and_counts_the_rest() -> None:
    tools = FakeTools(*(f"Task {number}" for number in range(1, 31)))

    reply = await run("what's pending?", tools)

    assert lines(reply)[0].startswith('Pending (30): 1. "Task 1"; 2. "Task 2"; ')
    assert lines(reply)[0].endswith('; 25. "Task 25"; and 5 more.')


async def test_an_empty_list_says_so() -> None:
    assert lines(await run("what's pending?", FakeTools())) == ["Nothing is pending."]
    assert lines(await run("show my tasks", FakeTools())) == ["You have no tasks."]
    assert lines(await run("what's done", FakeTools())) == ["Nothing is completed yet."]


async def test_what_is_due_on_a_day_and_what_is_overdue() -> None:
    tools = FakeTools()
    tools.add("Call Anna", due_date="2026-12-04")
    tools.add("Buy milk", due_date="2026-11-20")
    tools.add("Read a book")

    friday = await run("what's due friday?", tools)
    overdue = await run("what's overdue", tools)

    assert lines(friday) == ['Due Friday 2026-12-04 (1): 1. "Call Anna" (due 2026-12-04).']
    assert lines(overdue) == ['Overdue (1): 1. "Buy milk" (due 2026-11-20).']


async def test_an_ambiguous_reference_asks_which_and_changes_nothing() -> None:
    tools = FakeTools("Write report", "Print report")

    reply = await run("mark the report done", tools)

    assert calls(reply) == [LIST_ALL]
    assert lines(reply) == [
        'Which task do you mean: "Write report" or "Print report"? Nothing changed.'
    ]
    assert not any(task["completed"] for task in tools.tasks)


async def test_a_reference_that_matches_nothing_changes_nothing() -> None:
    tools = standard_tools()

    for message in ("delete the meeting task", "rename call bob to call Rob"):
        reply = await run(message, tools)
        assert calls(reply) == [LIST_ALL]
        assert lines(reply)[0].startswith("No task matches ")
        assert lines(reply)[0].endswith(", so nothing changed.")
    assert tools.titles() == list(TASKS)


@pytest.mark.parametrize(
    "message",
    [
        "delete all my tasks",
        "delete everything",
        "remove every task",
        "remove everything",
        "get rid of all of them",
        "delete my whole list",
        "complete all tasks",
        "mark everything done",
    ],
)
async def test_words_for_many_tasks_change_none_even_where_a_title_contains_them(
    message: str,
) -> None:
    # Read as a title, "all my tasks" matched this task and deleted it.
    tools = FakeTools("All my tasks review", "Everything bagels", "Buy milk")

    reply = await run(message, tools)

    assert not [name for name, _ in calls(reply) if name in {"delete_task", "complete_task"}]
    assert [task["title"] for task in tools.tasks][:3] == [
        "All my tasks review",
        "Everything bagels",
        "Buy milk",
    ]
    assert not any(task["completed"] for task in tools.tasks)
    assert "one task at a time, so nothing was changed" in reply.reply


async def test_a_quoted_title_that_says_all_is_a_title() -> None:
    tools = FakeTools("All my tasks review", "Buy milk")

    reply = await run('delete "all my tasks review"', tools)

    assert calls(reply) == found_then("delete_task", "t1")
    assert tools.titles() == ["Buy milk"]


async def test_an_exact_title_beats_a_longer_one_containing_it() -> None:
    tools = FakeTools("Buy milk and eggs", "Buy milk")

    reply = await run("delete buy milk", tools)

    assert calls(reply) == found_then("delete_task", "t2")
    assert tools.titles() == ["Buy milk and eggs"]


async def test_of_two_tasks_with_one_title_the_pending_one_is_meant() -> None:
    tools = FakeTools("Buy milk", "Buy milk")
    tools.tasks[0]["completed"] = True

    reply = await run("delete buy milk", tools)

    assert calls(reply) == found_then("delete_task", "t2")


async def test_completing_a_task_already_done_calls_nothing_more() -> None:
    reply = await run("mark pay rent done")

    assert calls(reply) == [LIST_ALL]
    assert lines(reply) == ['"Pay rent" is already done.']


async def test_it_with_nothing_before_it_asks_which_task() -> None:
    reply = await run("mark it done")

    assert calls(reply) == []
    assert lines(reply) == ['Which task do you mean by "it"? Nothing changed.']


async def test_reopening_is_refused_because_no_tool_does_it() -> None:
    reply = await run("mark pay rent as not done")

    assert calls(reply) == []
    assert "can't reopen" in reply.reply


async def test_a_failing_tool_is_reported_and_the_other_commands_still_run() -> None:
    tools = standard_tools(failing={"add_task": "Rate limit exceeded, try again in a minute."})

    reply = await run("add buy milk, then mark call anna done", tools)

    assert [call.name for call in reply.tool_calls] == ["add_task", "list_tasks", "complete_task"]
    assert reply.tool_calls[0] == CalledTool(
        "add_task", {"title": "buy milk"}, {"error": "Rate limit exceeded, try again in a minute."}
    )
    assert lines(reply) == [
        'Could not add "buy milk": Rate limit exceeded, try again in a minute.',
        'Marked "Call Anna" as done.',
    ]


async def test_a_tool_refusing_the_arguments_is_reported_with_its_message() -> None:
    reply = await run("add " + "x" * 250)

    assert reply.tool_calls[0].result == {"error": "title: must be 1 to 200 characters"}
    assert lines(reply)[0].endswith(": title: must be 1 to 200 characters.")


async def test_a_failing_lookup_is_reported_and_nothing_is_changed() -> None:
    tools = standard_tools(failing={"list_tasks": "Database unavailable"})

    reply = await run("delete buy milk", tools)

    assert calls(reply) == [LIST_ALL]
    assert lines(reply) == ["Could not look up your tasks: Database unavailable."]
    assert tools.titles() == list(TASKS)


async def test_a_failing_change_is_reported() -> None:
    tools = standard_tools(failing={"delete_task": "Task not found"})

    reply = await run("delete buy milk", tools)

    assert reply.tool_calls[-1].result == {"error": "Task not found"}
    assert lines(reply) == ['Could not delete "Buy milk": Task not found.']


@pytest.mark.parametrize(
    "message",
    ["what is the meaning of life", "tell me a joke", "", "   ", "please", "how are you?", "42"],
)
async def test_anything_else_is_left_to_others_and_calls_no_tool(message: str) -> None:
    tools = standard_tools()
    called: list[str] = []

    async def recording(name: str, arguments: dict[str, Any]) -> Any:
        called.append(name)
        return await tools(name, arguments)

    assert await TaskCommands().answer(message, recording, today=TODAY) is None
    assert called == []


async def test_one_unknown_command_among_others_gets_its_own_line() -> None:
    reply = await run("add buy milk, then sing me a song")

    assert calls(reply) == add(title="buy milk")
    assert lines(reply)[1].startswith('Offline mode didn\'t understand "sing me a song"')


async def test_an_empty_title_is_asked_for_not_added() -> None:
    reply = await run("add tomorrow")

    assert calls(reply) == []
    assert lines(reply) == ['What should the task say? For example: "add buy milk tomorrow".']


@pytest.mark.parametrize(
    "message",
    [
        "'" * 3000,
        "add " + ", then " * 500,
        "mark " + "x " * 3000 + "done",
        "rename " + "a to " * 500,
        "a" + " " * 5000 + "b",
        "\ue000\ue001 add \u201c",
        '"""',
        "add " + "." * 1000,
    ],
)
async def test_odd_input_never_raises(message: str) -> None:
    reply = await TaskCommands().answer(message, standard_tools(), today=TODAY)

    assert reply is None or len(reply.tool_calls) <= 40


async def test_the_same_message_gives_the_same_reply() -> None:
    message = "add call Anna friday, then what's pending, then rename call anna to call Bob"

    first = await run(message)
    second = await run(message)

    assert first == second


async def test_an_error_other_than_a_tool_failure_is_not_swallowed() -> None:
    async def broken(name: str, arguments: dict[str, Any]) -> Any:
        raise RuntimeError("connection lost")

    with pytest.raises(RuntimeError):
        await TaskCommands().answer("what's pending?", broken, today=TODAY)


async def test_a_message_is_carried_out_up_to_the_cap_and_says_so() -> None:
    tools = FakeTools()

    reply = await run("; ".join(f"add chore {number}" for number in range(1, 26)), tools)

    assert tools.titles() == [f"chore {number}" for number in range(1, MAX_COMMANDS + 1)]
    assert lines(reply)[-1] == f"Only the first {MAX_COMMANDS} commands were carried out."
    assert len(lines(reply)) == MAX_COMMANDS + 1


async def test_a_message_within_the_cap_has_no_cap_line() -> None:
    reply = await run("; ".join(f"add chore {number}" for number in range(1, MAX_COMMANDS + 1)))

    assert len(lines(reply)) == MAX_COMMANDS
    assert not any(line.startswith("Only the first") for line in lines(reply))


async def test_the_reply_is_not_marked_offline_the_assistant_does_that() -> None:
    reply = await run("add buy milk")

    assert reply.reply == 'Added "buy milk".'


@pytest.mark.parametrize("example", TaskCommands().examples)
async def test_each_example_is_carried_out(example: str) -> None:
    reply = await run(example)

    assert reply.tool_calls
    assert not any("didn't understand" in line for line in lines(reply))
