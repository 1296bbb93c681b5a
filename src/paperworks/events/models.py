"""The `events` table: what happened to which resource, by whom, in time order (ids are ULIDs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from paperworks.kit.db import Base, IdMixin, utcnow


class Event(IdMixin, Base):
    __tablename__ = "events"
    __table_args__ = (
        # A resource's timeline, and the workspace's log, both in id (= time) order.
        Index("ix_events_timeline", "workspace_id", "resource_type", "resource_id", "id"),
    )

    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(100))
    resource_type: Mapped[str] = mapped_column(String(50))
    resource_id: Mapped[str] = mapped_column(String(64))
    # Set for private resources (a user's tasks): only that user sees the event.
    private_to_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE")
    )
    actor_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_api_key_id: Mapped[str | None] = mapped_column(String(26))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
