"""The assistant's HTTP surface under /api/v1/assistant: chat turns and the conversations they
make, each private to its user in the active workspace."""

from __future__ import annotations

import functools

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import StreamingResponse

from paperworks.assistant import exceptions as errors
from paperworks.assistant import flows, service
from paperworks.assistant.dependencies import AssistantDep, OwnConversation
from paperworks.assistant.schemas import (
    ChatReply,
    ChatRequest,
    ConversationOut,
    ConversationWithMessages,
    MessageOut,
)
from paperworks.identity.dependencies import CurrentCaller
from paperworks.kit.errors import problem_responses
from paperworks.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from paperworks.kit.sse import SSE_HEADERS
from paperworks.llm import exceptions as llm_errors
from paperworks.services import ServicesDep, SessionDep

router = APIRouter(prefix="/api/v1/assistant", tags=["assistant"])

CHAT_DESCRIPTION = """One turn of a conversation with the assistant, which manages your tasks
through the MCP tools at `/mcp`, acting as you. Omit `conversationId` to start a conversation.

Without an LLM key the offline engine answers plain commands ("add buy milk, then show me what's
pending") and says so; `model` is then `"offline"`.

With `Accept: text/event-stream` the answer streams as Server-Sent Events: `delta {text}` as the
reply is written, then `reply` with the same body as the JSON answer, or `error` with a problem."""


@router.post(
    "/chat",
    summary="Chat with the assistant",
    description=CHAT_DESCRIPTION,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "The reply"},
        **problem_responses(
            errors.ConversationNotFound,
            errors.ConversationBusy,
            errors.TooManySteps,
            llm_errors.LLMUnavailable,
        ),
    },
)
async def chat(
    body: ChatRequest,
    request: Request,
    caller: CurrentCaller,
    session: SessionDep,
    services: ServicesDep,
    assistant: AssistantDep,
) -> ChatReply:
    history = await flows.history_of(session, caller, body.conversation_id)
    turn = functools.partial(flows.take_turn, services.db, assistant, caller, body, history)
    if "text/event-stream" in request.headers.get("accept", ""):
        return StreamingResponse(  # type: ignore[return-value]
            flows.streamed(turn, instance=request.url.path),
            media_type="text/event-stream",
            headers=SSE_HEADERS,
        )
    return await turn(None)


@router.get(
    "/conversations",
    summary="Your conversations with the assistant, oldest first",
)
async def list_conversations(
    caller: CurrentCaller,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[ConversationOut]:
    found, next_cursor = await service.list_conversations(
        session, caller, limit=limit, cursor=cursor
    )
    items = [ConversationOut.model_validate(conversation) for conversation in found]
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/conversations/{conversation_id}",
    summary="One conversation, with its messages and the tools each reply called",
    responses=problem_responses(errors.ConversationNotFound),
)
async def get_conversation(
    conversation: OwnConversation, session: SessionDep
) -> ConversationWithMessages:
    messages = await service.messages_of(session, conversation)
    return ConversationWithMessages(
        **ConversationOut.model_validate(conversation).model_dump(),
        messages=[MessageOut.model_validate(message) for message in messages],
    )


@router.delete(
    "/conversations/{conversation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a conversation and its messages",
    responses=problem_responses(errors.ConversationNotFound),
)
async def delete_conversation(conversation: OwnConversation, session: SessionDep) -> Response:
    await service.delete_conversation(session, conversation)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
