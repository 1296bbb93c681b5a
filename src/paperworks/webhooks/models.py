"""Webhooks' tables: endpoints, the deliveries of events to them, and each attempt at one."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from paperworks.identity.tenancy import WorkspaceOwned
from paperworks.kit.db import Base, IdMixin, TimestampMixin, utcnow

URL_LENGTH = 2000
RESPONSE_EXCERPT_LENGTH = 1024  # characters of a response body kept in an attempt's row
ERROR_LENGTH = 500


class Webhook(IdMixin, TimestampMixin, WorkspaceOwned, Base):
    """An endpoint of a workspace and the event types it subscribes to."""

    __tablename__ = "webhooks"
    __table_args__ = (
        # What every published event asks: the workspace's active endpoints.
        Index("ix_webhooks_workspace_active", "workspace_id", "active"),
    )

    url: Mapped[str] = mapped_column(String(URL_LENGTH))
    description: Mapped[str | None] = mapped_column(String(500))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Kept as given (`whsec_...`): signing needs the secret itself, as the receiver does.
    secret: Mapped[str] = mapped_column(String(100))
    # After a rotation the old secret signs too, until it expires (receivers switch over).
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime | None]
    # Since when every attempt has failed (None after any success); past the limit: disabled.
    failing_since: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    created_by_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class DeliveryStatus(StrEnum):
    pending = "pending"  # an attempt is due or scheduled
    succeeded = "succeeded"  # an attempt got a 2xx
    failed = "failed"  # every scheduled attempt failed (a redelivery may still succeed)


class WebhookDelivery(IdMixin, TimestampMixin, WorkspaceOwned, Base):
    """One event for one endpoint. Its id is the message's `webhook-id`, the same in every
    attempt, so receivers can drop a repeat."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The delivery log: an endpoint's deliveries in id (= time) order.
        Index("ix_webhook_deliveries_log", "webhook_id", "id"),
    )

    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    event_type: Mapped[str] = mapped_column(String(100))
    # The message as sent, the same bytes' source in every attempt: {type, timestamp, data}.
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.pending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(ERROR_LENGTH))


class WebhookAttempt(IdMixin, Base):
    """One try at sending a delivery: what came back, or what went wrong."""

    __tablename__ = "webhook_attempts"

    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)  # 1, 2, ... across retries and redeliveries
    manual: Mapped[bool] = mapped_column(Boolean, default=False)  # a redelivery someone asked
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(String(RESPONSE_EXCERPT_LENGTH))
    error: Mapped[str | None] = mapped_column(String(ERROR_LENGTH))
    succeeded: Mapped[bool] = mapped_column(Boolean)
