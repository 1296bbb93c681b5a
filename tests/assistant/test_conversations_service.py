"""Conversations as the chat route records them: turns append in order, and a turn that another
process appended at the same moment is refused, not interleaved."""

from __future__ import annotations

import pytest

from paperworks.assistant import service
from paperworks.assistant.exceptions import ConversationBusy
from paperworks.assistant.models import Message
from paperworks.identity.caller import Caller
from paperworks.kit.db import Database
from tests.accounts import Account


@pytest.fixture
def owner(anna: Account) -> Caller:
    return anna.caller


async def record(db: Database, owner: Caller, conversation_id: str | None, n: int) -> str:
    async with db.session_scope() as session:
        return await service.record_turn(
            session,
            owner,
            conversation_id=conversation_id,
            message=f"message {n}",
            reply=f"reply {n}",
            tool_calls=[],
            model="offline",
        )


async def test_turns_append_in_order(db: Database, owner: Caller) -> None:
    conversation_id = await record(db, owner, None, 0)
    for n in (1, 2):
        assert await record(db, owner, conversation_id, n) == conversation_id
    async with db.session_scope() as session:
        conversation = await service.get_conversation(
            session, owner, conversation_id=conversation_id
        )
        messages = await service.messages_of(session, conversation)
    assert [(m.position, m.content) for m in messages] == [
        (0, "message 0"),
        (1, "reply 0"),
        (2, "message 1"),
        (3, "reply 1"),
        (4, "message 2"),
        (5, "reply 2"),
    ]


async def test_a_turn_appended_meanwhile_makes_the_other_a_409(db: Database, owner: Caller) -> None:
    conversation_id = await record(db, owner, None, 0)
    async with db.sessionmaker() as session:
        # Another process's turn, not yet visible when this one reads where to append.
        session.add(
            Message(
                conversation_id=conversation_id,
                position=2,
                role="user",
                content="from elsewhere",
                tool_calls=[],
            )
        )
        with session.no_autoflush, pytest.raises(ConversationBusy):
            await service.record_turn(
                session,
                owner,
                conversation_id=conversation_id,
                message="message 1",
                reply="reply 1",
                tool_calls=[],
                model="offline",
            )
