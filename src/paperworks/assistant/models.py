"""The assistant's tables: a user's conversations and their messages, the whole of its state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from paperworks.identity.tenancy import UserPrivate
from paperworks.kit.db import Base, IdMixin, TimestampMixin


class Conversation(IdMixin, TimestampMixin, UserPrivate, Base):
    __tablename__ = "conversations"
    __table_args__ = (
        # Every read is one owner's conversations in one workspace, in id (= creation) order.
        Index("ix_conversations_owner", "workspace_id", "user_id", "id"),
    )

    title: Mapped[str] = mapped_column(String(200))


class Message(IdMixin, TimestampMixin, Base):
    """One turn's side: the user's message, or the assistant's reply with the tools it called."""

    __tablename__ = "conversation_messages"
    __table_args__ = (
        # Ids made in the same millisecond do not sort by time, so messages keep a position; two
        # processes answering the same conversation at once collide here instead of interleaving.
        UniqueConstraint("conversation_id", "position"),
    )

    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))  # "user" or "assistant"
    content: Mapped[str] = mapped_column(Text)
    # [{name, arguments, result}] in call order; empty for the user's messages.
    tool_calls: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    model: Mapped[str | None] = mapped_column(String(200))  # who answered: "offline", a model id
    # Offline replies only: what the rule-based engine keeps for the next turn, by product (the
    # task last acted on, the tasks of the last list by number). Never shown to the user.
    memory: Mapped[dict[str, Any] | None] = mapped_column(JSON)
