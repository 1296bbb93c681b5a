"""Reading what people actually type: several tasks at once, descriptions, places in a list,
typos in command words, and commands in German, French, Spanish and Chinese."""

from __future__ import annotations

from datetime import date

import pytest

from paperworks.tasks.commands import (
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

TODAY = date(2026, 12, 1)  # a Tuesday
TOMORROW, FRIDAY = date(2026, 12, 2), date(2026, 12, 4)


def commands(message: str) -> tuple[Command, ...]:
    return parse_commands(message, today=TODAY).commands


def added(message: str) -> list[str]:
    found = commands(message)
    assert all(isinstance(command, AddTask) for command in found), found
    return [command.title for command in found if isinstance(command, AddTask)]


@pytest.mark.parametrize(
    ("message", "titles"),
    [
        ("add three things: wash the car, water plants and fix the bike",
         ["wash the car", "water plants", "fix the bike"]),
        ("these: call Bob; email Sue", ["call Bob", "email Sue"]),
        ("add these tasks: a report, the slides", ["a report", "the slides"]),
        ("add bread, eggs, and cheese", ["bread", "eggs", "cheese"]),
        ("add buy milk; call the bank", ["buy milk", "call the bank"]),
        # one task: no list, or a title that is data
        ("add eggs and milk", ["eggs and milk"]),
        ("add a task to call Anna, Bob and Carl", ["call Anna, Bob and Carl"]),
        ("add task: a, b and c", ["a, b and c"]),
        ("add to my list: stamps, envelopes", ["stamps", "envelopes"]),
        ("add: apples, pears, plums, and cherries", ["apples", "pears", "plums", "cherries"]),
        ("add shopping items: rice, beans and salt", ["rice", "beans", "salt"]),
        ("add call mom and email the landlord", ["call mom", "email the landlord"]),
        ("add to my list: buy milk, then mark y done", ["buy milk, then mark y done"]),
        ("add pay 1,000 EUR rent", ["pay 1,000 EUR rent"]),
        ("add dinner with Sam on March 3, 2027", ["dinner with Sam"]),
    ],
)  # fmt: skip
def test_a_list_adds_one_task_per_item(message: str, titles: list[str]) -> None:
    assert added(message) == titles


def test_a_date_or_priority_after_a_list_applies_to_every_item() -> None:
    assert commands("add milk, eggs, high priority") == (
        AddTask("milk", "high", None),
        AddTask("eggs", "high", None),
    )
    assert commands("add these: report friday; slides tomorrow") == (
        AddTask("report", None, FRIDAY),
        AddTask("slides", None, TOMORROW),
    )


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("add call the bank with the note ask about the rate",
         AddTask("call the bank", None, None, "ask about the rate")),
        ("add renew passport tomorrow, description: bring two photos",
         AddTask("renew passport", None, TOMORROW, "bring two photos")),
        ("add write report (note: use the Q3 numbers)",
         AddTask("write report", None, None, "use the Q3 numbers")),
    ],
)  # fmt: skip
def test_a_description_is_not_part_of_the_title(message: str, expected: AddTask) -> None:
    assert commands(message) == (expected,)


@pytest.mark.parametrize(
    ("message", "reference", "description"),
    [
        ("add a note to call anna: ask about the budget", "call anna", "ask about the budget"),
        ("change the description of buy milk to oat, 2 litres", "buy milk", "oat, 2 litres"),
        ("set the notes for the dentist task to bring the x-rays", "dentist", "bring the x-rays"),
        ("set report's description to final version", "report", "final version"),
    ],
)
def test_a_description_is_set_on_the_task_named(
    message: str, reference: str, description: str
) -> None:
    (command,) = commands(message)
    assert isinstance(command, ChangeTask)
    assert Reading(reference, description=description) in command.readings


@pytest.mark.parametrize(
    ("reference", "place"),
    [("2", 2), ("#3", 3), ("number 4", 4), ("second", 2), ("last", -1), ("buy milk", None)],
)
def test_a_reference_may_name_a_place_in_the_last_list(reference: str, place: int | None) -> None:
    assert position(reference) == place


def test_the_second_one_and_the_last_one_are_places() -> None:
    assert commands("complete the second one") == (CompleteTask("second"),)
    assert commands("delete the last one") == (DeleteTask("last"),)
    assert commands("mark 2 done") == (CompleteTask("2"),)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("ad buy bread", AddTask("buy bread", None, None)),
        ("delet buy milk", DeleteTask("buy milk")),
        ("dleete buy milk", DeleteTask("buy milk")),
        ("mark buy milk doen", CompleteTask("buy milk")),
        ("comlete buy milk", CompleteTask("buy milk")),
        ("shwo my taks", ListTasks("all")),
        ("whats pendng", ListTasks("pending")),
        ("make call Anna hihg priority", ChangeTask((Reading("call Anna", priority="high"),))),
        (
            "renmae buy milk to buy oat milk",
            ChangeTask((Reading("buy milk", title="buy oat milk"),)),
        ),
    ],
)
def test_a_typo_in_a_command_word_is_forgiven(message: str, expected: Command) -> None:
    assert commands(message) == (expected,)


def test_a_task_done_in_the_past_tense_is_completed() -> None:
    assert commands("I called Anna") == (CompleteTask("call Anna"),)
    assert commands("i just bought milk") == (CompleteTask("buy milk"),)
    assert commands("I submitted the report") == (CompleteTask("submit the report"),)
    assert commands("I needed a break") == (NotUnderstood("I needed a break"),)


def test_a_title_keeps_its_spelling_and_no_word_is_a_guess() -> None:
    assert added("ad buy mlik") == ["buy mlik"]
    # "mak" is as near to "make" as to "mark": nothing is guessed.
    assert commands("mak buy milk high priority") == (NotUnderstood("mak buy milk high priority"),)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        # German
        ("füge Milch kaufen morgen hinzu", AddTask("Milch kaufen", None, TOMORROW)),
        ("neue Aufgabe: Steuererklärung bis Freitag", AddTask("Steuererklärung", None, FRIDAY)),
        ("zeige meine Aufgaben", ListTasks("all")),
        ("was ist noch offen?", ListTasks("pending")),
        ("erledige Milch kaufen", CompleteTask("Milch kaufen")),
        ("Milch kaufen ist erledigt", CompleteTask("Milch kaufen")),
        ("lösche Milch kaufen", DeleteTask("Milch kaufen")),
        ("lösche es", DeleteTask("it")),
        ("erledige die zweite", CompleteTask("second")),
        ("setze Zahnarzt auf hohe Priorität", ChangeTask((Reading("Zahnarzt", priority="high"),))),
        ("verschiebe Zahnarzt auf Freitag", ChangeTask((Reading("Zahnarzt", due=FRIDAY),))),
        # French
        ("ajoute acheter du pain demain", AddTask("acheter du pain", None, TOMORROW)),
        ("montre mes tâches", ListTasks("all")),
        ("quelles tâches sont terminées ?", ListTasks("completed")),
        ("marque acheter du pain comme fait", CompleteTask("acheter du pain")),
        ("supprime acheter du pain", DeleteTask("acheter du pain")),
        ("supprime-la", DeleteTask("it")),
        ("renomme pain en baguette", ChangeTask((Reading("pain", title="baguette"),))),
        # Spanish
        ("añade comprar leche mañana, prioridad alta", AddTask("comprar leche", "high", TOMORROW)),
        ("muestra mis tareas pendientes", ListTasks("pending")),
        ("marca comprar leche como hecha", CompleteTask("comprar leche")),
        ("elimina comprar leche", DeleteTask("comprar leche")),
        ("bórrala", DeleteTask("it")),
        ("completa la segunda", CompleteTask("second")),
        # Chinese
        ("添加买牛奶", AddTask("买牛奶", None, None)),
        ("添加明天买牛奶", AddTask("买牛奶", None, TOMORROW)),
        ("显示我的任务", ListTasks("all")),
        ("把买牛奶标记为完成", CompleteTask("买牛奶")),
        ("删除买牛奶", DeleteTask("买牛奶")),
        ("删除它", DeleteTask("it")),
        ("把报告推迟到下周五", ChangeTask((Reading("报告", due=date(2026, 12, 11)),))),
    ],
)  # fmt: skip
def test_commands_in_german_french_spanish_and_chinese(message: str, expected: Command) -> None:
    assert commands(message) == (expected,)


@pytest.mark.parametrize(
    "message",
    ["lösche alle Aufgaben", "lösche alles", "supprime tout", "supprime toutes mes tâches",
     "elimina todo", "borra todas las tareas", "删除所有任务", "全部删除"],
)  # fmt: skip
def test_words_for_every_task_are_refused_in_every_language(message: str) -> None:
    (command,) = commands(message)
    assert isinstance(command, NotUnderstood)
    assert command.reason is not None
    assert "one task at a time" in command.reason


def test_a_language_offline_mode_does_not_know_is_not_understood() -> None:
    (command,) = commands("lisää maito ostoslistalle")
    assert command == NotUnderstood("lisää maito ostoslistalle")


@pytest.mark.parametrize("message", ["加油", "la la land", "das ist gut", "c'est la vie"])
def test_everyday_words_of_those_languages_are_no_command(message: str) -> None:
    (command,) = commands(message)
    assert isinstance(command, NotUnderstood)
