"""The assistant with no model: it asks each product's offline commands in order, marks the first
answer as offline mode, and else answers with a help composed from every product's examples."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from paperworks.assistant.offline import REPLY_PREFIX, answer_offline
from paperworks.llm import OFFLINE_MODEL
from paperworks.mcp.offline import CalledTool, OfflineAnswer, OfflineCommands, ToolCall
from paperworks.tasks.offline import TaskCommands

TODAY = date(2026, 12, 1)


@dataclass
class Interpreter:
    """Understands one word: answers with one line and calls one tool with the message."""

    word: str
    examples: Sequence[str] = ()
    asked: list[tuple[str, date]] = field(default_factory=list)

    async def answer(
        self, message: str, call_tool: ToolCall, *, today: date, memory: Any = None
    ) -> OfflineAnswer | None:
        self.asked.append((message, today))
        if self.word not in message:
            return None
        result = await call_tool(f"{self.word}_tool", {"message": message})
        call = CalledTool(f"{self.word}_tool", {"message": message}, result)
        return OfflineAnswer(f"{self.word} done", [call])


async def tools(name: str, arguments: dict[str, Any]) -> Any:
    return {"ran": name}


async def answer(message: str, *interpreters: OfflineCommands) -> OfflineAnswer:
    named = [
        (str(getattr(interpreter, "word", "tasks")), interpreter) for interpreter in interpreters
    ]
    return await answer_offline(message, named, tools, today=TODAY)


async def test_the_answer_is_marked_as_offline_mode() -> None:
    reply = await answer("deck please", Interpreter("deck"))

    assert reply.reply == "(offline mode) deck done"
    assert REPLY_PREFIX == "(offline mode) "


async def test_the_tool_calls_of_the_answer_are_kept() -> None:
    reply = await answer("deck please", Interpreter("deck"))

    assert reply.tool_calls == [
        CalledTool("deck_tool", {"message": "deck please"}, {"ran": "deck_tool"})
    ]


async def test_the_first_interpreter_that_answers_wins_and_the_rest_are_not_asked() -> None:
    first, second = Interpreter("deck"), Interpreter("deck")

    reply = await answer("deck please", first, second)

    assert reply.reply == "(offline mode) deck done"
    assert first.asked == [("deck please", TODAY)]
    assert second.asked == []


async def test_a_message_one_interpreter_leaves_goes_to_the_next_in_order() -> None:
    tasks, decks, booklets = Interpreter("task"), Interpreter("deck"), Interpreter("booklet")

    reply = await answer("make a deck", tasks, decks, booklets)

    assert reply.reply == "(offline mode) deck done"
    assert [call.name for call in reply.tool_calls] == ["deck_tool"]
    assert tasks.asked == [("make a deck", TODAY)]
    assert decks.asked == [("make a deck", TODAY)]
    assert booklets.asked == []


async def test_when_nobody_understands_the_help_lists_every_interpreters_examples() -> None:
    tasks = Interpreter("task", examples=["add buy milk", "what's pending?"])
    decks = Interpreter("deck", examples=["make a deck about tides"])

    reply = await answer("sing me a song", tasks, decks)

    assert reply.tool_calls == []
    assert reply.reply == (
        "(offline mode) Offline mode (no language model is configured) understands plain "
        "commands in English, German, French, Spanish and Chinese, "
        'for example: "add buy milk", "what\'s pending?", "make a deck about tides".'
    )
    assert tasks.asked == decks.asked == [("sing me a song", TODAY)]


async def test_the_help_with_the_tasks_commands_alone() -> None:
    reply = await answer("what is the meaning of life", TaskCommands())

    assert reply.tool_calls == []
    assert reply.reply == (
        "(offline mode) Offline mode (no language model is configured) understands plain "
        "commands in English, German, French, Spanish and Chinese, "
        'for example: "add buy milk tomorrow, high priority", "what\'s pending?", '
        '"what have I completed?", "mark buy milk done", "rename buy milk to buy oat milk", '
        '"make buy milk low priority", "move buy milk to friday", "delete buy milk", '
        '"add buy milk, then show me what\'s pending".'
    )


async def test_with_no_interpreters_every_message_gets_the_help() -> None:
    reply = await answer("add buy milk")

    assert reply == OfflineAnswer(
        "(offline mode) Offline mode (no language model is configured) understands no commands.",
        [],
        {},
    )


async def test_an_error_from_a_tool_passes_through() -> None:
    async def broken(name: str, arguments: dict[str, Any]) -> Any:
        raise RuntimeError("connection lost")

    with pytest.raises(RuntimeError):
        await answer_offline("deck", [("decks", Interpreter("deck"))], broken, today=TODAY)


def test_the_model_name_says_offline() -> None:
    assert OFFLINE_MODEL == "offline"
