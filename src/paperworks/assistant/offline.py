"""The assistant without a language model: each product's offline commands, asked in turn.

Every reply is marked as offline mode, so nobody takes a rule-based answer for a model's. When no
product understood anything in the message, the reply is a help listing what each of them would,
and in which languages. Each product keeps its own memory of the conversation ("it", "the second
one"), under its family's name, stored with the reply and handed back on the next turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from paperworks.mcp.offline import Memory, OfflineAnswer, OfflineCommands, ToolCall

REPLY_PREFIX = "(offline mode) "
LANGUAGES = "English, German, French, Spanish and Chinese"


async def answer_offline(
    message: str,
    interpreters: Sequence[tuple[str, OfflineCommands]],
    call_tool: ToolCall,
    *,
    today: date,
    memory: Memory | None = None,
) -> OfflineAnswer:
    """The first answer an interpreter gives, in order, marked as offline; else the help.

    `interpreters` are (family name, interpreter); `memory` is what the last turn left, by family.
    An exception from an interpreter (only ever one `call_tool` raised) passes through.
    """
    memory = memory or {}
    for name, interpreter in interpreters:
        answer = await interpreter.answer(
            message, call_tool, today=today, memory=memory.get(name) or {}
        )
        if answer is not None:
            remembered: dict[str, Any] = dict(memory)
            if answer.memory is not None:
                remembered[name] = dict(answer.memory)
            return OfflineAnswer(REPLY_PREFIX + answer.reply, answer.tool_calls, remembered)
    return OfflineAnswer(REPLY_PREFIX + _help(interpreters), [], memory)


def _help(interpreters: Sequence[tuple[str, OfflineCommands]]) -> str:
    examples = [
        f'"{example}"' for _, interpreter in interpreters for example in interpreter.examples
    ]
    if not examples:
        return "Offline mode (no language model is configured) understands no commands."
    return (
        f"Offline mode (no language model is configured) understands plain commands in "
        f"{LANGUAGES}, for example: {', '.join(examples)}."
    )
