"""Tasks' table: a user's to-do items, private to them within one workspace."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from paperworks.kit.db import Base, IdMixin, TimestampMixin


class TaskPriority(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class Task(IdMixin, TimestampMixin, Base):
    __tablename__ = "tasks"
    __table_args__ = (
        # Every read is one owner's tasks in one workspace, in id (= creation) order.
        Index("ix_tasks_owner", "workspace_id", "user_id", "id"),
    )

    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    # A private task goes with its owner: nobody else may ever see it.
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(2000))
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    priority: Mapped[str] = mapped_column(String(10), default=TaskPriority.medium)
    due_date: Mapped[date | None] = mapped_column(Date)
    completed_at: Mapped[datetime | None]
