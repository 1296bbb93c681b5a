"""Decks' table: a deck's plan, its theme, how its last build went and the file it made."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from paperworks.identity.tenancy import WorkspaceOwned
from paperworks.kit.db import Base, IdMixin, TimestampMixin


class DeckStatus(StrEnum):
    draft = "draft"  # a plan, never built (or edited since the last build)
    building = "building"  # a build job is queued or running
    ready = "ready"  # the file matches the plan
    failed = "failed"  # the last build failed; `error` says why


class Deck(IdMixin, TimestampMixin, WorkspaceOwned, Base):
    __tablename__ = "decks"

    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300))
    theme: Mapped[str] = mapped_column(String(50))
    include_images: Mapped[bool] = mapped_column(Boolean, default=True)
    # None until planned: a deck built from a prompt gets its plan inside its first build job.
    slide_plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # What the plan is for when the job plans it: {prompt, slideCount, language, tone, audience}.
    outline_request: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    model: Mapped[str | None] = mapped_column(String(200))  # who wrote the plan: "offline", ...
    status: Mapped[str] = mapped_column(String(20), default=DeckStatus.draft)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    file_id: Mapped[str | None] = mapped_column(ForeignKey("files.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(Text)
    # Generated pictures kept as files, by their prompt's digest: a rebuild after an edit asks
    # the image provider only for slides whose prompt changed.
    images: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
