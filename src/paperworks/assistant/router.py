"""The assistant's HTTP surface under /api/v1/assistant: chat turns and the conversations they
make, each private to its user in the active workspace."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import StreamingResponse

from paperworks.assistant import exceptions as errors
from paperworks.assistant import service
from paperworks.assistant.agent import Delta, PastMessage
from paperworks.assistant.dependencies import (
    AssistantDep,
    Credentials,
    CurrentOwner,
    OwnConversation,
)
from paperworks.assistant.schemas import (
    ChatReply,
    ChatRequest,
    ConversationOut,
    ConversationWithMessages,
    MessageOut,
)
from paperworks.kit.db import Database
from paperworks.kit.dependencies import SessionDep
from paperworks.kit.errors import INTERNAL_ERROR_BODY, AppError, problem_body, problem_responses
from paperworks.kit.logging import get_logger
from paperworks.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from paperworks.kit.sse import SSE_HEADERS, sse_event
from paperworks.llm import exceptions as llm_errors

log = get_logger(__name__)

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
    owner: CurrentOwner,
    session: SessionDep,
    assistant: AssistantDep,
    credentials: Credentials,
) -> ChatReply:
    history: list[PastMessage] = []
    if body.conversation_id is not None:
        conversation = await service.get_conversation(
            session, owner=owner, conversation_id=body.conversation_id
        )
        history = [
            PastMessage(message.role, message.content, message.tool_calls)
            for message in await service.messages_of(session, conversation)
        ]
    db: Database = request.app.state.db

    async def take_turn(on_delta: Delta | None = None) -> ChatReply:
        turn = await assistant.answer(
            history,
            body.message,
            credentials=credentials,
            today=datetime.now(UTC).date(),
            on_delta=on_delta,
        )
        # Recorded in a unit of work of its own, after the tools committed theirs: the turn's
        # reads held no lock while the tools wrote, and a streamed reply outlives the request's.
        async with db.session_scope() as record:
            conversation_id = await service.record_turn(
                record,
                owner=owner,
                conversation_id=body.conversation_id,
                message=body.message,
                reply=turn.reply,
                tool_calls=turn.tool_calls,
                model=turn.model,
            )
        return ChatReply.model_validate(
            {
                "conversation_id": conversation_id,
                "reply": turn.reply,
                "tool_calls": turn.tool_calls,
                "model": turn.model,
            }
        )

    if "text/event-stream" in request.headers.get("accept", ""):
        return StreamingResponse(  # type: ignore[return-value]
            _streamed(take_turn, instance=request.url.path),
            media_type="text/event-stream",
            headers=SSE_HEADERS,
        )
    return await take_turn()


async def _streamed(
    take_turn: Callable[[Delta], Awaitable[ChatReply]], *, instance: str
) -> AsyncIterator[bytes]:
    deltas: asyncio.Queue[str] = asyncio.Queue()

    async def on_delta(text: str) -> None:
        await deltas.put(text)

    turn = asyncio.ensure_future(take_turn(on_delta))
    try:
        while not turn.done() or not deltas.empty():
            waiting = asyncio.ensure_future(deltas.get())
            await asyncio.wait({turn, waiting}, return_when=asyncio.FIRST_COMPLETED)
            if waiting.done():
                yield sse_event("delta", {"text": waiting.result()})
            else:
                waiting.cancel()
        reply = turn.result()
    except AppError as exc:
        yield sse_event(
            "error",
            problem_body(
                status=exc.status_code,
                code=exc.code,
                title=exc.title,
                detail=exc.detail,
                instance=instance,
            ),
        )
        return
    except Exception:
        log.exception("assistant_stream_failed")
        yield sse_event("error", {**INTERNAL_ERROR_BODY, "instance": instance})
        return
    finally:
        turn.cancel()  # the client went away: stop the model too
    yield sse_event("reply", reply.model_dump(mode="json", by_alias=True))


@router.get(
    "/conversations",
    summary="Your conversations with the assistant, oldest first",
)
async def list_conversations(
    owner: CurrentOwner,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[ConversationOut]:
    found, next_cursor = await service.list_conversations(
        session, owner=owner, limit=limit, cursor=cursor
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
