"""Tasks' HTTP surface under /api/v1: the caller's own tasks in the active workspace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from paperworks.identity.dependencies import CurrentCaller
from paperworks.kit.errors import problem_responses
from paperworks.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from paperworks.services import SessionDep
from paperworks.tasks import exceptions as errors
from paperworks.tasks import schemas, service

router = APIRouter(prefix="/api/v1", tags=["tasks"])

TaskId = Annotated[str, Path(max_length=64)]


@router.get(
    "/tasks",
    summary="Your tasks in the active workspace, oldest first",
    description="Only your own tasks: other members of the workspace never see them. "
    "`status` narrows the list to `pending` (not completed) or `completed` tasks.",
)
async def list_tasks(
    caller: CurrentCaller,
    session: SessionDep,
    task_status: Annotated[
        service.TaskStatus, Query(alias="status", description="`pending`, `completed` or `all`")
    ] = "all",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[schemas.TaskOut]:
    tasks, next_cursor = await service.list_tasks(
        session, caller, status=task_status, limit=limit, cursor=cursor
    )
    items = [schemas.TaskOut.model_validate(task) for task in tasks]
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/tasks",
    status_code=status.HTTP_201_CREATED,
    summary="Add a task",
    description="A new task is pending, `medium` priority unless given, and private to you.",
)
async def create_task(
    body: schemas.TaskCreate, caller: CurrentCaller, session: SessionDep
) -> schemas.TaskOut:
    task = await service.create_task(session, caller, body)
    return schemas.TaskOut.model_validate(task)


@router.get(
    "/tasks/{task_id}",
    summary="One of your tasks",
    description="Another user's task, or one in another workspace, is a 404.",
    responses=problem_responses(errors.TaskNotFound),
)
async def get_task(task_id: TaskId, caller: CurrentCaller, session: SessionDep) -> schemas.TaskOut:
    task = await service.get_task(session, caller, task_id)
    return schemas.TaskOut.model_validate(task)


@router.patch(
    "/tasks/{task_id}",
    summary="Change a task: any of its fields, its completion included",
    description="Only the fields sent change. `completed: true` sets `completedAt`, `false` "
    "clears it; `dueDate: null` and `description: null` clear those.",
    responses=problem_responses(errors.TaskNotFound),
)
async def update_task(
    task_id: TaskId, body: schemas.TaskUpdate, caller: CurrentCaller, session: SessionDep
) -> schemas.TaskOut:
    task = await service.update_task(session, caller, task_id, body)
    return schemas.TaskOut.model_validate(task)


@router.delete(
    "/tasks/{task_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a task",
    description="The task is gone for good; its timeline keeps `task.deleted`.",
    responses=problem_responses(errors.TaskNotFound),
)
async def delete_task(task_id: TaskId, caller: CurrentCaller, session: SessionDep) -> Response:
    await service.delete_task(session, caller, task_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
