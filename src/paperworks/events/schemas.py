"""Events on the wire."""

from __future__ import annotations

from typing import Any, Literal

from paperworks.events.models import Event
from paperworks.kit.schemas import ApiModel, UtcDateTime


class ActorOut(ApiModel):
    type: Literal["user", "apiKey", "system"]
    user_id: str | None
    api_key_id: str | None


class EventOut(ApiModel):
    id: str
    type: str
    resource_type: str
    resource_id: str
    workspace_id: str
    actor: ActorOut
    payload: dict[str, Any]
    created_at: UtcDateTime

    @classmethod
    def of(cls, event: Event) -> EventOut:
        kind: Literal["user", "apiKey", "system"] = (
            "apiKey" if event.actor_api_key_id else "user" if event.actor_user_id else "system"
        )
        return cls(
            id=event.id,
            type=event.type,
            resource_type=event.resource_type,
            resource_id=event.resource_id,
            workspace_id=event.workspace_id,
            actor=ActorOut(
                type=kind, user_id=event.actor_user_id, api_key_id=event.actor_api_key_id
            ),
            payload=event.payload,
            created_at=event.created_at,
        )
