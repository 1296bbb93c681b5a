"""Reading task commands: a message becomes typed commands, with no tool called and nothing done."""

from __future__ import annotations

from datetime import date

import pytest

from paperworks.tasks.commands import (
    MAX_COMMAND_CHARS,
    MAX_COMMANDS,
    AddTask,
    ChangeTask,
    Command,
    CompleteTask,
    DeleteTask,
    ListTasks,
    NotUnderstood,
    Reading,
    parse_commands,
)

TODAY = date(2026, 12, 1)  # a Tuesday


def commands(message: str) -> tuple[Command, ...]:
    parsed = parse_commands(message, today=TODAY)
    assert parsed.unread == 0
    return parsed.commands


def test_words_in_quotes_are_opaque() -> None:
    assert commands("add 'meet at 5 tomorrow, then call Anna' friday, high priority") == (
        AddTask("meet at 5 tomorrow, then call Anna", "high", date(2026, 12, 4)),
    )
    assert commands('delete "what\'s pending"') == (DeleteTask("what's pending"),)


def test_a_message_splits_into_its_commands_in_order() -> None:
    assert commands("add laundry; mark call anna done and then what's left?") == (
        AddTask("laundry", None, None),
        CompleteTask("call anna"),
        ListTasks("pending"),
    )
    assert commands("add eggs and milk, then show my tasks") == (
        AddTask("eggs and milk", None, None),
        ListTasks("all"),
    )


@pytest.mark.parametrize(
    ("phrase", "due"),
    [
        ("tomorrow", date(2026, 12, 2)),
        ("on tuesday", date(2026, 12, 8)),  # today is a Tuesday: the next one
        ("in two weeks", date(2026, 12, 15)),
        ("on the 5th of january", date(2027, 1, 5)),
        ("by 2026-12-24", date(2026, 12, 24)),
    ],
)
def test_a_date_phrase_becomes_the_due_day_relative_to_today(phrase: str, due: date) -> None:
    assert commands(f"add water the plants {phrase}") == (AddTask("water the plants", None, due),)


def test_a_date_that_does_not_exist_stays_in_the_title() -> None:
    assert commands("add pay rent on 2026-02-30") == (
        AddTask("pay rent on 2026-02-30", None, None),
    )


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("add fix the sink, urgent", AddTask("fix the sink", "high", None)),
        ("add read a book, low priority", AddTask("read a book", "low", None)),
        ("make buy milk low priority", ChangeTask((Reading("buy milk", priority="low"),))),
        ("mark the dentist task as urgent", ChangeTask((Reading("dentist", priority="high"),))),
        ("lower the priority of call anna", ChangeTask((Reading("call anna", priority="low"),))),
    ],
)
def test_priority_words_become_a_level(message: str, expected: Command) -> None:
    assert commands(message) == (expected,)


def test_a_rename_keeps_every_reading_of_an_ambiguous_to() -> None:
    assert commands("rename go to gym to go to pool") == (
        ChangeTask(
            (
                Reading("go", title="gym to go to pool"),
                Reading("go to gym", title="go to pool"),
                Reading("go to gym to go", title="pool"),
            )
        ),
    )


def test_changes_name_their_task_and_the_one_change() -> None:
    assert commands("move buy milk to friday. Remove the due date from call anna") == (
        ChangeTask((Reading("buy milk", due=date(2026, 12, 4)),)),
        ChangeTask((Reading("call anna", clear="due_date"),)),
    )


def test_what_offline_mode_cannot_do_is_not_understood_with_a_reason() -> None:
    reopen, unknown, long = commands(
        f"mark pay rent as not done; sing me a song; add {'x' * MAX_COMMAND_CHARS}"
    )

    assert isinstance(reopen, NotUnderstood)
    assert reopen.reason is not None
    assert "can't reopen" in reopen.reason
    assert isinstance(long, NotUnderstood)
    assert long.reason is not None
    assert f"({MAX_COMMAND_CHARS} characters)" in long.reason
    assert unknown == NotUnderstood("sing me a song")


def test_a_message_is_read_up_to_the_cap_and_counts_the_rest() -> None:
    parsed = parse_commands("; ".join(["what's pending"] * (MAX_COMMANDS + 3)), today=TODAY)

    assert parsed.commands == (ListTasks("pending"),) * MAX_COMMANDS
    assert parsed.unread == 3


@pytest.mark.parametrize("message", ["", "   ", "please", "...", "thanks!"])
def test_a_message_of_only_courtesy_holds_no_command(message: str) -> None:
    assert commands(message) == ()


def test_a_colon_after_an_add_makes_the_rest_of_the_line_its_title() -> None:
    assert commands("add task: a, then delete b; mark c done\nshow my tasks") == (
        AddTask("a, then delete b; mark c done", None, None),
        ListTasks("all"),
    )
    assert commands("add a, then delete b") == (AddTask("a", None, None), DeleteTask("b"))
    # no add phrase before the colon: it is part of the title, and the message splits as usual
    assert commands("add milk: 2 litres; delete b") == (
        AddTask("milk: 2 litres", None, None),
        DeleteTask("b"),
    )
    assert commands('add "x; delete y"') == (AddTask("x; delete y", None, None),)


@pytest.mark.parametrize(
    "message",
    [
        "delete all my tasks",
        "clear my list",
        "wipe everything",
        "complete every task",
        "make everything high priority",
        "move all tasks to friday",
        "rename everything to x",
    ],
)
def test_words_for_many_tasks_are_refused_whatever_the_verb(message: str) -> None:
    (refused,) = commands(message)

    assert isinstance(refused, NotUnderstood)
    assert refused.reason is not None
    assert "one task at a time, so nothing was changed" in refused.reason


def test_a_quoted_title_that_says_all_is_a_reference() -> None:
    assert commands('delete "all my tasks review"') == (DeleteTask("all my tasks review"),)
