"""A chat turn, start to end: the history read, the answer (tools called as the caller), the turn
recorded; and the same turn as a stream of Server-Sent Events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.assistant import service
from paperworks.assistant.agent import Assistant, Delta, PastMessage
from paperworks.assistant.schemas import ChatReply, ChatRequest
from paperworks.identity.caller import Caller
from paperworks.kit.db import Database
from paperworks.kit.errors import INTERNAL_ERROR_BODY, AppError, problem_body
from paperworks.kit.logging import get_logger
from paperworks.kit.sse import sse_event

log = get_logger(__name__)

TakeTurn = Callable[[Delta | None], Awaitable[ChatReply]]


async def history_of(
    session: AsyncSession, caller: Caller, conversation_id: str | None
) -> list[PastMessage]:
    """What was said so far in the caller's conversation (nothing for a new one)."""
    if conversation_id is None:
        return []
    conversation = await service.get_conversation(session, caller, conversation_id)
    return [
        PastMessage(message.role, message.content, message.tool_calls, message.memory)
        for message in await service.messages_of(session, conversation)
    ]


async def take_turn(
    db: Database,
    assistant: Assistant,
    caller: Caller,
    body: ChatRequest,
    history: list[PastMessage],
    on_delta: Delta | None = None,
) -> ChatReply:
    """Answer `body.message` after `history`, the tools acting as the caller, and record the
    turn."""
    turn = await assistant.answer(
        history,
        body.message,
        caller=caller,
        today=datetime.now(UTC).date(),
        on_delta=on_delta,
    )
    # Recorded in a unit of work of its own, after the tools committed theirs: the turn's reads
    # held no lock while the tools wrote, and a streamed reply outlives the request's.
    async with db.session_scope() as record:
        conversation_id = await service.record_turn(
            record,
            caller,
            conversation_id=body.conversation_id,
            message=body.message,
            reply=turn.reply,
            tool_calls=turn.tool_calls,
            model=turn.model,
            memory=turn.memory,
        )
    return ChatReply.model_validate(
        {
            "conversation_id": conversation_id,
            "reply": turn.reply,
            "tool_calls": turn.tool_calls,
            "model": turn.model,
        }
    )


async def streamed(turn: TakeTurn, *, instance: str) -> AsyncIterator[bytes]:
    """The turn as SSE: `delta {text}` as the reply is written, then `reply` with the same body
    as the JSON answer, or `error` with a problem."""
    deltas: asyncio.Queue[str] = asyncio.Queue()

    async def on_delta(text: str) -> None:
        await deltas.put(text)

    running = asyncio.ensure_future(turn(on_delta))
    try:
        while not running.done() or not deltas.empty():
            waiting = asyncio.ensure_future(deltas.get())
            await asyncio.wait({running, waiting}, return_when=asyncio.FIRST_COMPLETED)
            if waiting.done():
                yield sse_event("delta", {"text": waiting.result()})
            else:
                waiting.cancel()
        reply = running.result()
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
        running.cancel()  # the client went away: stop the model too
    yield sse_event("reply", reply.model_dump(mode="json", by_alias=True))
