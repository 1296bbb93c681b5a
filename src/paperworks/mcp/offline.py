"""Plain-language commands carried out with MCP tools, without a language model.

With no model configured, the assistant hands a message to each tool family's `OfflineCommands`
in turn. An interpreter calls tools exactly as a model would (through `call_tool`), so the offline
path goes through the same tools, authentication and isolation. Interpreters are deterministic and
rule-based; the assistant marks their replies as offline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

ToolCall = Callable[[str, dict[str, Any]], Awaitable[Any]]
"""Run the named tool with these arguments; its parsed JSON answer, or `ToolFailed`."""

Memory = Mapping[str, Any]
"""What an interpreter keeps of a conversation for its next turn ("it", "the second one"): JSON,
stored with the reply, handed back with the next message of the same conversation."""


class ToolFailed(Exception):
    """A tool answered with an error; the message is the tool's own text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CalledTool:
    name: str
    arguments: dict[str, Any]
    result: Any  # the parsed result, or {"error": message} if the tool failed


@dataclass(frozen=True)
class OfflineAnswer:
    reply: str  # what to tell the user, one line per command (the assistant adds its marker)
    tool_calls: list[CalledTool]
    memory: Memory | None = None  # what to remember for the next turn; None: as it was


class OfflineCommands(Protocol):
    """One tool family's plain phrases ("add buy milk", "make a deck about tides")."""

    @property
    def examples(self) -> Sequence[str]:
        """A few phrases it understands, for the help shown when nothing was understood."""
        ...

    async def answer(
        self, message: str, call_tool: ToolCall, *, today: date, memory: Memory | None = None
    ) -> OfflineAnswer | None:
        """Carry out the commands of this family in `message`, after a turn that left `memory`;
        None if there are none, so the next family may try. Never raises for what the user
        wrote: a command it cannot carry out becomes a line of the reply. Only an exception
        from `call_tool` other than `ToolFailed` passes through."""
        ...


class RecordedCalls:
    """`call_tool`, with each call recorded in order with what it answered (or its error): what
    an interpreter hands back as its answer's `tool_calls`."""

    def __init__(self, call_tool: ToolCall) -> None:
        self._call_tool = call_tool
        self.calls: list[CalledTool] = []

    async def __call__(self, name: str, arguments: dict[str, Any]) -> Any:
        try:
            result = await self._call_tool(name, dict(arguments))
        except ToolFailed as failure:
            self.calls.append(CalledTool(name, arguments, {"error": failure.message}))
            raise
        self.calls.append(CalledTool(name, arguments, result))
        return result
