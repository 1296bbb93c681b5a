"""Tasks' table: a user's to-do items, private to them within one workspace."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from paperworks.identity.tenancy import UserPrivate
from paperworks.kit.db import Base, IdMixin, TimestampMixin


class TaskPriority(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class Task(IdMixin, TimestampMixin, UserPrivate, Base):
    __tablename__ = "tasks"
    __table_args__ = (
        # Every read is one owner's tasks in one workspace, in id (= creation) order.
        Index("ix_tasks_owner", "workspace_id", "user_id", "id"),
    )

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(2000))
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    priority: Mapped[str] = mapped_column(String(10), default=TaskPriority.medium)
    due_date: Mapped[date | None] = mapped_column(Date)
    completed_at: Mapped[datetime | None]
