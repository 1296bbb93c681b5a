"""The assistant without a language model: each product's offline commands, asked in turn.

Every reply is marked as offline mode, so nobody takes a rule-based answer for a model's. When no
product understood anything in the message, the reply is a help listing what each of them would.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from paperworks.mcp.offline import OfflineAnswer, OfflineCommands, ToolCall

REPLY_PREFIX = "(offline mode) "


async def answer_offline(
    message: str,
    interpreters: Sequence[OfflineCommands],
    call_tool: ToolCall,
    *,
    today: date,
) -> OfflineAnswer:
    """The first answer an interpreter gives, in order, marked as offline; else the help.

    An exception from an interpreter (only ever one `call_tool` raised) passes through.
    """
    for interpreter in interpreters:
        answer = await interpreter.answer(message, call_tool, today=today)
        if answer is not None:
            return OfflineAnswer(REPLY_PREFIX + answer.reply, answer.tool_calls)
    return OfflineAnswer(REPLY_PREFIX + _help(interpreters), [])


def _help(interpreters: Sequence[OfflineCommands]) -> str:
    examples = [f'"{example}"' for interpreter in interpreters for example in interpreter.examples]
    if not examples:
        return "Offline mode (no language model is configured) understands no commands."
    return (
        "Offline mode (no language model is configured) understands plain commands, "
        f"for example: {', '.join(examples)}."
    )
