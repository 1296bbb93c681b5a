"""The assistant on the wire: a chat turn, its answer, and conversations with their messages."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from paperworks.kit.schemas import ApiModel, NotBlank, UtcDateTime

MESSAGE_MAX = 4000


class ChatRequest(ApiModel):
    message: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=MESSAGE_MAX),
        NotBlank,
        Field(examples=["add buy milk, then show me what's pending"]),
    ]
    conversation_id: str | None = Field(
        default=None, max_length=64, description="Continue this conversation; omit to start one"
    )


class ToolCallOut(ApiModel):
    name: str
    arguments: dict[str, Any]
    result: Any = Field(description="What the tool answered, or `{error}` if it failed")


class ChatReply(ApiModel):
    conversation_id: str
    reply: str
    tool_calls: list[ToolCallOut]
    model: str = Field(description='The model that answered, or "offline" without an LLM key')


class MessageOut(ApiModel):
    id: str
    role: Literal["user", "assistant"]
    content: str
    tool_calls: list[ToolCallOut]
    model: str | None
    created_at: UtcDateTime


class ConversationOut(ApiModel):
    id: str
    title: str
    created_at: UtcDateTime
    updated_at: UtcDateTime


class ConversationWithMessages(ConversationOut):
    messages: list[MessageOut]
