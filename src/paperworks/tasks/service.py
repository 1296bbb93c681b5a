"""Tasks' operations: create, list, read, change, complete and delete one user's tasks in one
workspace. Plain async functions taking the caller's session; they never commit.

Another user's task, or one in another workspace, is as missing as one that never existed.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.events import service as events
from paperworks.events.service import Resource
from paperworks.identity.caller import Caller
from paperworks.identity.tenancy import get_scoped, scoped
from paperworks.kit.db import utcnow
from paperworks.kit.pagination import DEFAULT_LIMIT, fetch_page
from paperworks.tasks import exceptions as errors
from paperworks.tasks.models import Task
from paperworks.tasks.schemas import TaskCreate, TaskUpdate

TaskStatus = Literal["pending", "completed", "all"]

# Events name changed fields as clients know them: `dueDate`, not `due_date`.
_WIRE_NAMES = {name: field.alias or name for name, field in TaskUpdate.model_fields.items()}


def _resource(task: Task) -> Resource:
    return Resource("task", task.id, task.workspace_id, private_to_user_id=task.user_id)


async def _publish(
    session: AsyncSession,
    type: str,
    task: Task,
    caller: Caller,
    payload: dict[str, Any] | None = None,
) -> None:
    payload = {"title": task.title, **(payload or {})}
    await events.publish(session, type, _resource(task), payload, actor=caller)


def _set_completed(task: Task, completed: bool) -> bool:
    """Mark the task done or not; True if that changed it."""
    if task.completed == completed:
        return False
    task.completed = completed
    task.completed_at = utcnow() if completed else None
    return True


async def create_task(session: AsyncSession, caller: Caller, data: TaskCreate) -> Task:
    task = Task(
        workspace_id=caller.workspace,
        user_id=caller.user_id,
        title=data.title,
        description=data.description,
        priority=data.priority,
        due_date=data.due_date,
        completed=False,
    )
    session.add(task)
    await session.flush()
    await _publish(session, "task.created", task, caller)
    return task


async def list_tasks(
    session: AsyncSession,
    caller: Caller,
    *,
    status: TaskStatus = "all",
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> tuple[list[Task], str | None]:
    """One page of the caller's tasks, oldest first, and the next page's cursor (None at end)."""
    query = scoped(select(Task), caller)
    if status != "all":
        query = query.where(Task.completed.is_(status == "completed"))
    return await fetch_page(session, query, Task.id, limit=limit, cursor=cursor)


async def get_task(session: AsyncSession, caller: Caller, task_id: str) -> Task:
    task = await get_scoped(session, caller, Task, task_id)
    if task is None:
        raise errors.TaskNotFound(f"No task {task_id}.")
    return task


async def update_task(
    session: AsyncSession, caller: Caller, task_id: str, changes: TaskUpdate
) -> Task:
    """Change the fields `changes` was given (None clears `description` and `due_date`).

    `task.updated` names the fields that really changed; completing the task is `task.completed`
    instead, so a timeline reads the same whichever way it was done."""
    task = await get_task(session, caller, task_id)
    changed: list[str] = []
    completed_now = False
    for name in sorted(changes.model_fields_set):
        value = getattr(changes, name)
        if name == "completed":
            if _set_completed(task, value):
                if value:
                    completed_now = True
                else:
                    changed.append(_WIRE_NAMES[name])
        elif getattr(task, name) != value:
            setattr(task, name, value)
            changed.append(_WIRE_NAMES[name])
    await session.flush()
    if changed:
        await _publish(session, "task.updated", task, caller, {"fields": changed})
    if completed_now:
        await _publish(session, "task.completed", task, caller)
    return task


async def complete_task(session: AsyncSession, caller: Caller, task_id: str) -> Task:
    """Mark the task done; done already, it is left as it was (and nothing is published)."""
    task = await get_task(session, caller, task_id)
    if _set_completed(task, True):
        await session.flush()
        await _publish(session, "task.completed", task, caller)
    return task


async def delete_task(session: AsyncSession, caller: Caller, task_id: str) -> None:
    task = await get_task(session, caller, task_id)
    await session.delete(task)
    await session.flush()
    await _publish(session, "task.deleted", task, caller)
