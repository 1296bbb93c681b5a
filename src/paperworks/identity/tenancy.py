"""Tenancy in one place: which rows a caller may see.

A product's table mixes in `WorkspaceOwned` (rows every member of the workspace shares: decks,
files, jobs) or `UserPrivate` (rows only their user sees, within one workspace: tasks,
conversations); its service reads them through `scoped`, which adds the right `WHERE`, so a
forgotten filter cannot leak another workspace's rows. Another workspace's row is then simply not
found: a 404, as everywhere.

    task = await session.scalar(scoped(select(Task).where(Task.id == task_id), caller))
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ForeignKey, Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from paperworks.identity.caller import Caller

# Any select: of rows, or of rows joined with columns (`select(Deck, Job.status)`).
S = TypeVar("S", bound=Select[*tuple[Any, ...]])
M = TypeVar("M")


class WorkspaceOwned:
    """A row of one workspace, seen by all its members. Indexed: every read starts there."""

    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )


class UserPrivate:
    """A row only its user sees, within one workspace; it goes with the user's account. Tables
    index `(workspace_id, user_id, id)` themselves: every read is one owner's rows in id order."""

    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


def scoped(query: S, caller: Caller, model: type[Any] | None = None) -> S:
    """`query` narrowed to the rows of `model` (default: its first entity) that `caller` may see:
    its workspace's, and of private rows only its own (the system, within a workspace, sees all
    of them)."""
    model = model or query.column_descriptions[0]["entity"]
    if not issubclass(model, WorkspaceOwned | UserPrivate):
        raise TypeError(f"{model.__name__} is neither WorkspaceOwned nor UserPrivate")
    narrowed = query.where(model.workspace_id == caller.workspace)
    if issubclass(model, UserPrivate) and not caller.is_system:
        narrowed = narrowed.where(model.user_id == caller.user_id)
    return narrowed


async def get_scoped(
    session: AsyncSession, caller: Caller, model: type[M], row_id: str
) -> M | None:
    """The row with this id if `caller` may see it; else None, as if it did not exist."""
    query = select(model).where(model.id == row_id)  # type: ignore[attr-defined]
    return await session.scalar(scoped(query, caller))
