"""The assistant's dependencies: whose conversations, and the assistant itself."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from paperworks.assistant import service
from paperworks.assistant.agent import Assistant
from paperworks.assistant.models import Conversation
from paperworks.assistant.service import ConversationOwner
from paperworks.identity.dependencies import ActiveWorkspace
from paperworks.kit.dependencies import SessionDep


async def get_owner(ws: ActiveWorkspace) -> ConversationOwner:
    return ConversationOwner(workspace_id=ws.workspace.id, user_id=ws.user.id)


CurrentOwner = Annotated[ConversationOwner, Depends(get_owner)]


def get_assistant(request: Request) -> Assistant:
    assistant: Assistant = request.app.state.assistant
    return assistant


AssistantDep = Annotated[Assistant, Depends(get_assistant)]


async def valid_conversation(
    conversation_id: Annotated[str, Path(max_length=64)], owner: CurrentOwner, session: SessionDep
) -> Conversation:
    return await service.get_conversation(session, owner=owner, conversation_id=conversation_id)


OwnConversation = Annotated[Conversation, Depends(valid_conversation)]


# The caller's own credentials carry the assistant's tool calls, so the tools act exactly as the
# caller may: same user, same workspace, same limits.
FORWARDED_CREDENTIALS = ("authorization", "x-api-key", "x-workspace-id")


def get_credentials(request: Request) -> dict[str, str]:
    return {name: value for name in FORWARDED_CREDENTIALS if (value := request.headers.get(name))}


Credentials = Annotated[dict[str, str], Depends(get_credentials)]
