"""One assistant turn: the model, driven by the OpenAI Agents SDK, or the offline engine without
an LLM key; either way the tools are reached over MCP, as the caller, on our own `/mcp`.

Nothing is kept between turns: the history comes in, a reply and the tools it called go out.
The MCP session is opened and closed inside the turn, in memory on this process's own MCP server
(the SDK dispatches a call straight to the tool), acting as the turn's caller: no HTTP round trip
through the middleware and no second authentication per call, and still the tools' own checks and
isolation like any client's. Outside clients use `/mcp` over HTTP.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import openai
from agents import (
    Agent,
    AgentsException,
    MaxTurnsExceeded,
    OpenAIChatCompletionsModel,
    RawResponsesStreamEvent,
    RunConfig,
    Runner,
    RunResult,
    RunResultStreaming,
    Tool,
    ToolCallItem,
    ToolCallOutputItem,
)
from agents.mcp.server import _MCPServerWithClientSession
from agents.mcp.util import MCPUtil
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult

from paperworks.assistant.exceptions import TooManySteps
from paperworks.assistant.offline import answer_offline
from paperworks.identity.caller import Caller
from paperworks.kit.errors import AppError
from paperworks.kit.logging import get_logger
from paperworks.llm import OFFLINE_MODEL
from paperworks.llm.client import LLMClient
from paperworks.llm.exceptions import LLMInvalidOutput
from paperworks.mcp.family import ToolFamily
from paperworks.mcp.offline import ToolFailed
from paperworks.mcp.server import acting_as

if TYPE_CHECKING:
    from paperworks.services import Services

log = get_logger(__name__)

MCP_TIMEOUT_SECONDS = 30.0
SUMMARY_CHARS = 1500
TOOL_RESULT_CHARS = 400

INSTRUCTIONS = """You are the Paperworks assistant. You act for the user with the tools you
have. Act on clear requests straight away (several tools in one turn are fine), then answer in one
or two short sentences saying what you did. If a tool reports an error, read it, fix the arguments
and try again, or tell the user what went wrong. Dates are YYYY-MM-DD; today is {today}. Never
invent data or results."""


def instructions_for(families: Sequence[ToolFamily], today: date) -> str:
    """The assistant's own instructions, then what each tool family says about its tools."""
    parts = [INSTRUCTIONS.format(today=today.isoformat())]
    parts += [family.instructions for family in families]
    return "\n\n".join(parts)


Delta = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class PastMessage:
    role: str  # "user" or "assistant"
    content: str
    tool_calls: Sequence[dict[str, Any]] = ()
    memory: dict[str, Any] | None = None  # what the offline engine kept after this reply


@dataclass
class Turn:
    reply: str
    model: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    memory: dict[str, Any] | None = None  # offline only: what the next turn starts from


def _last_memory(history: Sequence[PastMessage]) -> dict[str, Any]:
    """What the offline engine kept after the conversation's latest reply that kept anything."""
    for message in reversed(history):
        if message.memory is not None:
            return message.memory
    return {}


def bounded_history(
    history: Sequence[PastMessage], turns: int
) -> tuple[str | None, list[PastMessage]]:
    """The last `turns` turns whole, and older ones only as a short summary of what the user
    asked and which tools ran, so a long conversation does not grow the prompt without end."""
    keep = turns * 2  # a turn is the user's message and the reply
    older, recent = history[:-keep] if len(history) > keep else [], history[-keep:]
    if not older:
        return None, list(recent)
    asked = [message.content for message in older if message.role == "user"]
    tools = [call["name"] for message in older for call in message.tool_calls]
    summary = "The user earlier asked: " + " | ".join(asked)
    if tools:
        summary += ". Tools used then: " + ", ".join(tools)
    if len(summary) > SUMMARY_CHARS:
        summary = "…" + summary[-SUMMARY_CHARS:]  # the most recent of the old is what matters
    return summary, list(recent)


def _history_items(recent: Sequence[PastMessage]) -> list[Any]:
    items: list[Any] = []
    for message in recent:
        content = message.content
        if message.tool_calls:
            # The ids the earlier tools answered with, so "now complete it" can work.
            used = "; ".join(
                f"{call['name']}({json.dumps(call['arguments'])}) -> "
                f"{json.dumps(call['result'])[:TOOL_RESULT_CHARS]}"
                for call in message.tool_calls
            )
            content += f"\n[tools: {used}]"
        items.append({"role": message.role, "content": content})
    return items


async def _already_validated(name: str, result: Any) -> None:
    return None


class InProcessTools(_MCPServerWithClientSession):
    """The Agents SDK's view of this process's own MCP server, connected in memory: the SDK's
    client dispatches each call straight to the tool (no JSON-RPC framing, no HTTP)."""

    def __init__(self, server: MCPServer) -> None:
        super().__init__(cache_tools_list=True, client_session_timeout_seconds=MCP_TIMEOUT_SECONDS)
        self.server = server
        # One tool call at a time, as over HTTP: the turn's calls share the caller's data, and
        # several tools asked for in one step run in the order the model gave them.
        self._serialize_session_requests = True

    @property
    def name(self) -> str:
        return "paperworks"

    async def connect(self) -> None:
        await super().connect()  # type: ignore[no-untyped-call]
        if self.session is not None:
            # The server is this process's own, and checked each result against the tool's output
            # model as it built it; the client checking again cost a tool listing and a schema
            # compile on every turn's fresh session.
            self.session.validate_tool_result = _already_validated  # type: ignore[method-assign]

    def create_streams(self) -> Any:
        # The SDK's v2 client takes a server instance where it takes a transport, and then
        # connects to it in process.
        return self.server


_TURN_SESSION: ContextVar[InProcessTools] = ContextVar("paperworks_turn_session")
_FUNCTION_TOOLS: weakref.WeakKeyDictionary[MCPServer, list[Tool]] = weakref.WeakKeyDictionary()


class _TurnSession(InProcessTools):
    """Stands for the MCP session of whichever turn runs in this context; never connected."""

    async def call_tool(
        self, tool_name: str, arguments: dict[str, Any] | None, meta: dict[str, Any] | None = None
    ) -> CallToolResult:
        return await _TURN_SESSION.get().call_tool(tool_name, arguments, meta)


async def function_tools(session: InProcessTools) -> list[Tool]:
    """The server's tools as the Agents SDK's function tools, listed and converted once a process
    (a server's tools are fixed once it is built): given the MCP server itself, the SDK lists them
    on every turn's fresh session and converts each again on every step (a millisecond a step).
    Each calls through the session of the turn it runs in."""
    tools = _FUNCTION_TOOLS.get(session.server)
    if tools is None:
        via = _TurnSession(session.server)
        listed = await session.list_tools()
        tools = [
            MCPUtil.to_function_tool(tool, via, convert_schemas_to_strict=False) for tool in listed
        ]
        _FUNCTION_TOOLS[session.server] = tools
    return tools


class Assistant:
    def __init__(
        self,
        tools: MCPServer,
        services: Services,
        llm: LLMClient | None,
        families: Sequence[ToolFamily],
        *,
        history_turns: int,
        max_steps: int,
        tracing: bool = False,
    ) -> None:
        self.tools = tools
        self.services = services
        self.llm = llm
        self.families = families
        self.history_turns = history_turns
        self.max_steps = max_steps
        # Without a model, each family's plain phrases are tried in the order families are listed.
        self.offline = [
            (family.name, family.offline) for family in families if family.offline is not None
        ]
        self.tracing = tracing

    @property
    def model_name(self) -> str:
        return self.llm.model if self.llm is not None else OFFLINE_MODEL

    async def answer(
        self,
        history: Sequence[PastMessage],
        message: str,
        *,
        caller: Caller,
        today: date,
        on_delta: Delta | None = None,
    ) -> Turn:
        """Answer `message` after `history`, the tools acting as `caller`."""
        async with self._mcp(caller) as mcp:
            if self.llm is None:
                turn = await self._offline(mcp, _last_memory(history), message, today)
                if on_delta is not None:
                    await on_delta(turn.reply)
                return turn
            return await self._with_model(self.llm, mcp, history, message, today, on_delta)

    @asynccontextmanager
    async def _mcp(self, caller: Caller) -> AsyncIterator[InProcessTools]:
        with acting_as(caller, self.services):
            async with InProcessTools(self.tools) as server:
                token = _TURN_SESSION.set(server)
                try:
                    yield server
                finally:
                    _TURN_SESSION.reset(token)

    async def _offline(
        self, mcp: InProcessTools, memory: dict[str, Any], message: str, today: date
    ) -> Turn:
        async def call_tool(name: str, arguments: dict[str, Any]) -> Any:
            result = await mcp.call_tool(name, arguments)
            text = "".join(getattr(part, "text", "") for part in result.content)
            if result.is_error:
                raise ToolFailed(text)
            return json.loads(text)

        offline = await answer_offline(message, self.offline, call_tool, today=today, memory=memory)
        calls = [
            {"name": call.name, "arguments": call.arguments, "result": call.result}
            for call in offline.tool_calls
        ]
        kept = dict(offline.memory) if offline.memory is not None else None
        return Turn(reply=offline.reply, model=OFFLINE_MODEL, tool_calls=calls, memory=kept)

    async def _with_model(
        self,
        llm: LLMClient,
        mcp: InProcessTools,
        history: Sequence[PastMessage],
        message: str,
        today: date,
        on_delta: Delta | None,
    ) -> Turn:
        summary, recent = bounded_history(history, self.history_turns)
        instructions = instructions_for(self.families, today)
        if summary:
            instructions += f"\n\nEarlier in this conversation: {summary}"
        agent: Agent[None] = Agent(
            name="Paperworks assistant",
            instructions=instructions,
            model=OpenAIChatCompletionsModel(model=llm.model, openai_client=llm.openai_client),
            tools=await function_tools(mcp),
        )
        items = [*_history_items(recent), {"role": "user", "content": message}]
        run_config = RunConfig(tracing_disabled=not self.tracing)
        try:
            result: RunResult | RunResultStreaming
            if on_delta is None:
                result = await Runner.run(
                    agent, items, max_turns=self.max_steps, run_config=run_config
                )
            else:
                result = streamed = Runner.run_streamed(
                    agent, items, max_turns=self.max_steps, run_config=run_config
                )
                async for event in streamed.stream_events():
                    delta = _text_delta(event)
                    if delta:
                        await on_delta(delta)
        except MaxTurnsExceeded as exc:
            raise TooManySteps(
                f"The model was still calling tools after {self.max_steps} steps; "
                "ask for less at once."
            ) from exc
        except openai.OpenAIError as exc:
            raise llm.problem_for(exc) from exc
        except AgentsException as exc:
            cause = exc.__cause__
            if isinstance(cause, openai.OpenAIError):
                raise llm.problem_for(cause) from exc
            raise _unusable(exc) from exc
        except AppError:
            raise
        except Exception as exc:
            # The runtime trips over answers that are not Chat Completions at all (an HTML
            # page, a bare string) with whatever error the shape causes.
            raise _unusable(exc) from exc
        reply = str(result.final_output or "").strip()
        return Turn(reply=reply, model=llm.model, tool_calls=_tool_calls(result.new_items))


def _unusable(exc: Exception) -> LLMInvalidOutput:
    log.warning("assistant_model_failed", error=f"{type(exc).__name__}: {str(exc)[:300]}")
    return LLMInvalidOutput(f"The model's answer could not be used ({type(exc).__name__}).")


def _text_delta(event: object) -> str | None:
    if not isinstance(event, RawResponsesStreamEvent):
        return None
    if getattr(event.data, "type", None) != "response.output_text.delta":
        return None
    delta = getattr(event.data, "delta", None)
    return delta if isinstance(delta, str) else None


def _tool_calls(items: Sequence[object]) -> list[dict[str, Any]]:
    """The tools the model called, in order, each with what it answered."""
    calls: dict[str, dict[str, Any]] = {}
    for item in items:
        if isinstance(item, ToolCallItem):
            raw = item.raw_item
            call_id = _field(raw, "call_id") or str(len(calls))
            calls[call_id] = {
                "name": item.tool_name or _field(raw, "name"),
                "arguments": _parsed(_field(raw, "arguments") or "{}"),
                "result": None,
            }
        elif isinstance(item, ToolCallOutputItem):
            call_id = item.call_id or ""
            if call_id in calls:
                calls[call_id]["result"] = _parsed(item.output)
    return list(calls.values())


def _field(raw: object, name: str) -> Any:
    return raw.get(name) if isinstance(raw, dict) else getattr(raw, name, None)


def _parsed(value: Any) -> Any:
    """A tool's answer as data: MCP answers in content parts, our tools' text is JSON."""
    if isinstance(value, list) and all(isinstance(part, dict) for part in value):
        value = "".join(str(part.get("text", "")) for part in value)
    if isinstance(value, dict) and value.get("type") == "text":
        value = value.get("text", "")
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
