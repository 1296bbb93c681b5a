"""Tasks as MCP tools: the assistant and any MCP client manage the caller's tasks through these.

Each tool is one call of the tasks service, as the authenticated caller, and answers with the
tasks as the REST API shows them (camelCase), so a model reads the same shapes everywhere.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from paperworks.mcp.family import ToolFamily
from paperworks.mcp.server import tool_session
from paperworks.tasks import service
from paperworks.tasks.models import Task, TaskPriority
from paperworks.tasks.offline import TaskCommands
from paperworks.tasks.schemas import TITLE_MAX, TaskCreate, TaskOut, TaskUpdate

LIST_LIMIT = 100

TaskId = Annotated[str, Field(description="The task's id, from add_task or list_tasks")]
Title = Annotated[str, Field(description=f"What to do, 1 to {TITLE_MAX} characters")]
Priority = Annotated[TaskPriority, Field(description="low, medium or high")]
DueDate = Annotated[date, Field(description="The day it is due, YYYY-MM-DD")]


def _shown(task: Task) -> dict[str, Any]:
    return TaskOut.model_validate(task).model_dump(mode="json", by_alias=True)


def register(server: MCPServer) -> None:
    @server.tool()
    async def add_task(
        title: Title,
        ctx: Context,
        description: Annotated[str | None, Field(description="Details, optional")] = None,
        priority: Priority = TaskPriority.medium,
        due_date: DueDate | None = None,
    ) -> dict[str, Any]:
        """Add a task for the user. Answers with the new task, including its id."""
        async with tool_session(ctx) as (session, caller, _):
            data = TaskCreate(
                title=title, description=description, priority=priority, due_date=due_date
            )
            return _shown(await service.create_task(session, caller, data))

    @server.tool()
    async def list_tasks(
        ctx: Context,
        status: Annotated[
            Literal["pending", "completed", "all"],
            Field(description="pending (not done), completed, or all"),
        ] = "all",
    ) -> dict[str, Any]:
        """List the user's tasks, oldest first: up to 100, with `more` true if there are others."""
        async with tool_session(ctx) as (session, caller, _):
            tasks, next_cursor = await service.list_tasks(
                session, caller, status=status, limit=LIST_LIMIT
            )
            return {"tasks": [_shown(task) for task in tasks], "more": next_cursor is not None}

    @server.tool()
    async def complete_task(task_id: TaskId, ctx: Context) -> dict[str, Any]:
        """Mark a task done. Completing a task that is already done changes nothing."""
        async with tool_session(ctx) as (session, caller, _):
            task = await service.complete_task(session, caller, task_id)
            return _shown(task)

    @server.tool()
    async def update_task(
        task_id: TaskId,
        ctx: Context,
        title: Title | None = None,
        description: Annotated[str | None, Field(description="New details")] = None,
        priority: Priority | None = None,
        due_date: DueDate | None = None,
        clear: Annotated[
            list[Literal["description", "due_date"]],
            Field(description="Fields to empty, e.g. to remove the due date"),
        ] = [],  # noqa: B006 - read, never mutated; the schema shows the default
    ) -> dict[str, Any]:
        """Change a task's title, description, priority or due date; fields left out stay."""
        given = {
            "title": title,
            "description": description,
            "priority": priority,
            "due_date": due_date,
        }
        fields = {name: value for name, value in given.items() if value is not None}
        async with tool_session(ctx) as (session, caller, _):
            changes = TaskUpdate(**fields, **dict.fromkeys(clear))
            task = await service.update_task(session, caller, task_id, changes)
            return _shown(task)

    @server.tool()
    async def delete_task(task_id: TaskId, ctx: Context) -> dict[str, Any]:
        """Delete a task for good. Answers with the id and title of the task deleted."""
        async with tool_session(ctx) as (session, caller, _):
            task = await service.get_task(session, caller, task_id)
            title = task.title
            await service.delete_task(session, caller, task_id)
            return {"deleted": task_id, "title": title}


TASK_TOOLS = ToolFamily(
    name="tasks",
    register=register,
    instructions="""The user's tasks: add, list, complete, update and delete them with the task
tools. Find a task's id with list_tasks before changing it.""",
    offline=TaskCommands(),
)
