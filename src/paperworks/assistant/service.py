"""Conversations: start, read, list, extend by a turn and delete one user's conversations in one
workspace. Plain async functions taking the caller's session; they never commit.

Another user's conversation, or one in another workspace, is as missing as one that never existed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.assistant.exceptions import ConversationBusy, ConversationNotFound
from paperworks.assistant.models import Conversation, Message
from paperworks.identity.caller import Caller
from paperworks.identity.tenancy import get_scoped, scoped
from paperworks.kit.db import utcnow
from paperworks.kit.pagination import DEFAULT_LIMIT, fetch_page

TITLE_LENGTH = 80


def title_for(first_message: str) -> str:
    """A conversation is named after how it began, cut at a word."""
    text = " ".join(first_message.split())
    if len(text) <= TITLE_LENGTH:
        return text
    return text[:TITLE_LENGTH].rsplit(" ", 1)[0] + "…"


async def start_conversation(
    session: AsyncSession, caller: Caller, *, first_message: str
) -> Conversation:
    conversation = Conversation(
        workspace_id=caller.workspace, user_id=caller.user_id, title=title_for(first_message)
    )
    session.add(conversation)
    await session.flush()
    return conversation


async def get_conversation(
    session: AsyncSession, caller: Caller, conversation_id: str
) -> Conversation:
    conversation = await get_scoped(session, caller, Conversation, conversation_id)
    if conversation is None:
        raise ConversationNotFound(f"No conversation {conversation_id}.")
    return conversation


async def list_conversations(
    session: AsyncSession,
    caller: Caller,
    *,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> tuple[list[Conversation], str | None]:
    query = scoped(select(Conversation), caller)
    return await fetch_page(session, query, Conversation.id, limit=limit, cursor=cursor)


async def messages_of(session: AsyncSession, conversation: Conversation) -> list[Message]:
    rows = await session.scalars(
        select(Message).where(Message.conversation_id == conversation.id).order_by(Message.position)
    )
    return list(rows)


async def record_turn(
    session: AsyncSession,
    caller: Caller,
    *,
    conversation_id: str | None,
    message: str,
    reply: str,
    tool_calls: list[dict[str, Any]],
    model: str,
    memory: dict[str, Any] | None = None,
) -> str:
    """Append the user's message and the reply to the conversation (a new one without an id),
    and answer its id. Two processes appending to one conversation at the same moment take the
    same positions, so one of them is refused rather than interleaved."""
    if conversation_id is None:
        conversation = await start_conversation(session, caller, first_message=message)
    else:
        conversation = await get_conversation(session, caller, conversation_id)
    last = await session.scalar(
        select(func.max(Message.position)).where(Message.conversation_id == conversation.id)
    )
    position = -1 if last is None else last
    session.add_all(
        [
            Message(
                conversation_id=conversation.id,
                position=position + 1,
                role="user",
                content=message,
                tool_calls=[],
            ),
            Message(
                conversation_id=conversation.id,
                position=position + 2,
                role="assistant",
                content=reply,
                tool_calls=tool_calls,
                model=model,
                memory=memory,
            ),
        ]
    )
    conversation.updated_at = utcnow()
    try:
        await session.flush()
    except IntegrityError as exc:
        raise ConversationBusy(
            "Another turn of this conversation was answered at the same time; send yours again."
        ) from exc
    return conversation.id


async def delete_conversation(session: AsyncSession, conversation: Conversation) -> None:
    await session.delete(conversation)
    await session.flush()
