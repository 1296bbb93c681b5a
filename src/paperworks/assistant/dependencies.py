"""The assistant's dependencies: the assistant itself, and a conversation of the caller's."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from paperworks.assistant import service
from paperworks.assistant.agent import Assistant
from paperworks.assistant.models import Conversation
from paperworks.identity.dependencies import CurrentCaller
from paperworks.services import ServicesDep, SessionDep


async def get_assistant(request: Request, services: ServicesDep) -> Assistant:
    """The assistant for this turn: the process's model, every product's tools, reached over
    MCP in memory on this app's own MCP server."""
    settings = services.settings
    return Assistant(
        request.app.state.mcp,
        services,
        services.llm,
        services.tools,
        history_turns=settings.assistant_history_turns,
        max_steps=settings.assistant_max_steps,
        tracing=settings.assistant_tracing,
    )


AssistantDep = Annotated[Assistant, Depends(get_assistant)]


async def valid_conversation(
    conversation_id: Annotated[str, Path(max_length=64)],
    caller: CurrentCaller,
    session: SessionDep,
) -> Conversation:
    return await service.get_conversation(session, caller, conversation_id)


OwnConversation = Annotated[Conversation, Depends(valid_conversation)]
