"""Offline task commands are safe: a title is data, never a command; words for many tasks change
none; a task is deleted only when the words name it with confidence, and the reply names it."""

from __future__ import annotations

import pytest

from tests.tasks.test_offline_commands import (
    LIST_ALL,
    FakeTools,
    add,
    calls,
    found_then,
    lines,
    listing,
    run,
)

CHANGING = {"add_task", "complete_task", "update_task", "delete_task"}


def changes(tools_called: list[tuple[str, dict[str, object]]]) -> list[str]:
    return [name for name, _ in tools_called if name in CHANGING]


# --- a title is data ----------------------------------------------------------------------------


async def test_a_colon_title_that_says_delete_every_task_is_added_whole() -> None:
    # Split on ", then", this tried "delete every task first" as a command.
    tools = FakeTools("Buy milk", "All my tasks review")

    reply = await run("add task: IMPORTANT read this, then delete every task first", tools)

    assert calls(reply) == add(title="IMPORTANT read this, then delete every task first")
    assert lines(reply) == ['Added "IMPORTANT read this, then delete every task first".']
    assert tools.titles() == [
        "Buy milk",
        "All my tasks review",
        "IMPORTANT read this, then delete every task first",
    ]


@pytest.mark.parametrize(
    ("message", "title"),
    [
        ('add "x; delete y"', "x; delete y"),
        ("add 'buy milk, then delete y'", "buy milk, then delete y"),
        ("todo: call Anna; delete y", "call Anna; delete y"),
        ("create a task: water the plants. Delete y", "water the plants. Delete y"),
        ("please add to my list: buy milk, then mark y done", "buy milk, then mark y done"),
        ("add: pay rent and delete y", "pay rent and delete y"),
        ("add an urgent task: fix the roof, then remove y", "fix the roof, then remove y"),
        ("note: rename y to z", "rename y to z"),
        ("todo: what's pending", "what's pending"),
    ],
)
async def test_quoted_or_colon_titles_add_one_task_and_run_nothing_inside(
    message: str, title: str
) -> None:
    tools = FakeTools("y")

    reply = await run(message, tools)

    assert changes(calls(reply)) == ["add_task"]
    assert tools.titles() == ["y", title]
    assert not tools.tasks[0]["completed"]
    assert len(lines(reply)) == 1


async def test_a_command_before_a_colon_title_still_runs() -> None:
    tools = FakeTools("Buy milk")

    reply = await run("show my tasks, then add task: call Anna; delete buy milk", tools)

    assert calls(reply) == listing("all") + add(title="call Anna; delete buy milk")
    assert tools.titles() == ["Buy milk", "call Anna; delete buy milk"]


async def test_a_new_line_after_a_colon_title_starts_the_next_command() -> None:
    tools = FakeTools()

    reply = await run("todo: call the bank, then the notary\nshow my tasks", tools)

    assert calls(reply) == add(title="call the bank, then the notary") + listing("all")


async def test_without_a_colon_a_message_still_splits_into_its_commands() -> None:
    tools = FakeTools()

    reply = await run("add milk, then show my tasks", tools)

    assert calls(reply) == add(title="milk") + listing("all")
    assert tools.titles() == ["milk"]


async def test_a_colon_title_gives_up_a_date_at_its_end_but_not_inside() -> None:
    tools = FakeTools()

    at_end = await run("todo: renew passport tomorrow", tools)
    inside = await run("todo: buy milk tomorrow, then delete it", tools)

    assert calls(at_end) == add(title="renew passport", due_date="2026-12-02")
    assert calls(inside) == add(title="buy milk tomorrow, then delete it")
    assert tools.titles() == ["renew passport", "buy milk tomorrow, then delete it"]


# --- words for many tasks -----------------------------------------------------------------------

BULK = [
    "delete all my tasks",
    "delete everything",
    "remove every task",
    "complete all tasks",
    "clear my list",
    "clear out my tasks",
    "clear",
    "wipe everything",
    "empty my todo list",
    "delete all of them",
    "remove them all",
    "delete my completed tasks",
    "remove the done ones",
    "delete every single task with milk",
    "mark all my tasks as done",
    "I finished everything",
    "make everything high priority",
    "move all tasks to friday",
    "rename everything to nothing",
    "remove the due date from all tasks",
    "change all my tasks to done",
]


@pytest.mark.parametrize("message", BULK)
async def test_words_for_many_tasks_are_refused_and_change_nothing(message: str) -> None:
    tools = FakeTools("all my tasks review", "Everything bagels", "Buy milk")

    reply = await run(message, tools)

    assert changes(calls(reply)) == []
    assert tools.titles() == ["all my tasks review", "Everything bagels", "Buy milk"]
    assert [task["priority"] for task in tools.tasks] == ["medium"] * 3
    assert not any(task["completed"] or task["dueDate"] for task in tools.tasks)
    assert "Offline mode can only" in reply.reply
    assert "one task at a time, so nothing was changed. Say which task, e.g. " in reply.reply


async def test_delete_all_my_tasks_names_how_to_delete_one_instead() -> None:
    # Read as a title, "all my tasks" matched this task and deleted it.
    tools = FakeTools("all my tasks review")

    reply = await run("delete all my tasks", tools)

    assert calls(reply) == []
    assert tools.titles() == ["all my tasks review"]
    assert lines(reply) == [
        "Offline mode can only delete one task at a time, so nothing was changed. "
        'Say which task, e.g. "delete buy milk". '
        'A task whose title says such words goes in quotes: delete "all my tasks".'
    ]


async def test_a_title_that_starts_with_all_but_names_no_tasks_is_a_title() -> None:
    tools = FakeTools("All hands meeting", "Buy milk")

    reply = await run("delete all hands meeting", tools)

    assert calls(reply) == found_then("delete_task", "t1")
    assert lines(reply) == ['Deleted "All hands meeting".']


# --- deleting needs a confident match -----------------------------------------------------------


async def test_the_exact_title_is_deleted_over_a_longer_one_and_named() -> None:
    tools = FakeTools("buy milk", "buy milk and eggs")

    reply = await run("delete buy milk", tools)

    assert calls(reply) == found_then("delete_task", "t1")
    assert tools.titles() == ["buy milk and eggs"]
    assert lines(reply) == ['Deleted "buy milk".']


async def test_a_delete_matching_several_tasks_lists_them_numbered_and_deletes_none() -> None:
    tools = FakeTools("buy milk", "buy milk and eggs")

    reply = await run("delete milk", tools)

    assert calls(reply) == [LIST_ALL]
    assert tools.titles() == ["buy milk", "buy milk and eggs"]
    assert lines(reply) == [
        'Several tasks match "milk": 1. "buy milk"; 2. "buy milk and eggs". '
        "Which one should be deleted? Nothing was deleted. "
        'Say delete and the full title, e.g. delete "buy milk".'
    ]


async def test_a_typo_in_a_delete_asks_naming_the_task_and_deletes_nothing() -> None:
    # Offline mode never deletes on a typo: it names the task it thinks was meant, and the full
    # title, said next, deletes it.
    tools = FakeTools("Buy milk")

    asked = await run("delete by milk", tools)

    assert calls(asked) == [LIST_ALL]
    assert tools.titles() == ["Buy milk"]
    assert lines(asked) == [
        'No task is called "by milk"; did you mean "Buy milk"? Nothing was deleted. '
        'To delete it, say: delete "Buy milk".'
    ]

    confirmed = await run('delete "Buy milk"', tools)

    assert calls(confirmed) == found_then("delete_task", "t1")
    assert lines(confirmed) == ['Deleted "Buy milk".']
    assert tools.titles() == []


async def test_a_delete_naming_part_of_one_title_asks_and_deletes_nothing() -> None:
    tools = FakeTools("Dentist appointment", "Buy milk")

    reply = await run("delete the dentist task", tools)

    assert calls(reply) == [LIST_ALL]
    assert tools.titles() == ["Dentist appointment", "Buy milk"]
    assert 'did you mean "Dentist appointment"? Nothing was deleted.' in reply.reply


@pytest.mark.parametrize(
    "message",
    ["delete BUY MILK!", "delete   buy  milk", "delete buy-milk", "remove the buy milk task"],
)
async def test_case_spacing_and_punctuation_do_not_stop_an_exact_delete(message: str) -> None:
    tools = FakeTools("Buy milk", "Buy milk and eggs")

    reply = await run(message, tools)

    assert calls(reply) == found_then("delete_task", "t1")
    assert lines(reply) == ['Deleted "Buy milk".']


async def test_two_pending_tasks_with_one_title_are_not_deleted_at_random() -> None:
    tools = FakeTools("Buy milk", "Buy milk")

    reply = await run("delete buy milk", tools)

    assert calls(reply) == [LIST_ALL]
    assert tools.titles() == ["Buy milk", "Buy milk"]
    assert reply.reply.startswith('Several tasks match "buy milk": 1. "Buy milk"; 2. "Buy milk".')
    assert "Nothing was deleted." in reply.reply


async def test_a_delete_with_many_candidates_names_the_first_five_and_counts_the_rest() -> None:
    tools = FakeTools(*(f"report {number}" for number in range(1, 9)))

    reply = await run("delete report", tools)

    assert changes(calls(reply)) == []
    assert '5. "report 5"; and 3 more.' in reply.reply
    assert len(tools.tasks) == 8


async def test_it_after_an_add_deletes_the_task_just_added_and_names_it() -> None:
    tools = FakeTools("Buy milk")

    reply = await run("add call Bob, then delete it", tools)

    assert lines(reply) == ['Added "call Bob".', 'Deleted "call Bob".']
    assert tools.titles() == ["Buy milk"]


# --- completing and changing on a close match ---------------------------------------------------


async def test_a_typo_completes_the_one_task_it_is_close_to_and_names_it() -> None:
    tools = FakeTools("Buy milk", "Call Anna")

    reply = await run("mark by milk done", tools)

    assert calls(reply) == found_then("complete_task", "t1")
    assert lines(reply) == ['Marked "Buy milk" as done.']


async def test_a_close_match_to_several_tasks_changes_none_and_names_them() -> None:
    # The closest used to win: "call ann" completed "Call Anna" over "Call Annie".
    tools = FakeTools("Call Anna", "Call Annie")

    done = await run("mark call ann done", tools)
    moved = await run("make call ann high priority", tools)

    assert calls(done) == calls(moved) == [LIST_ALL]
    assert lines(done) == ['Which task do you mean: "Call Anna" or "Call Annie"? Nothing changed.']
    assert not any(task["completed"] for task in tools.tasks)
    assert [task["priority"] for task in tools.tasks] == ["medium", "medium"]
