"""Tasks in the web console: the signed-in user's task list, to complete or delete a task, and
the same list as a panel other screens show beside them (the assistant's), refreshed live."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from paperworks.console.dependencies import CheckedForm, SignedInConsole, local_path
from paperworks.console.pages import ConsolePages, Templates
from paperworks.services import SessionDep
from paperworks.tasks import service
from paperworks.tasks.exceptions import TaskNotFound

router = APIRouter(include_in_schema=False)
templates = Templates(Path(__file__).parent / "templates")
SHOWN = 200  # tasks a page lists; a to-do list longer than this is read through the API
PANEL = "/tasks/panel"


async def _tasks(session: SessionDep, console: SignedInConsole) -> list[object]:
    found, _ = await service.list_tasks(session, console.caller, limit=SHOWN)
    return list(found)


@router.get("/tasks")
async def task_list(request: Request, console: SignedInConsole, session: SessionDep) -> Response:
    tasks = await _tasks(session, console)
    return templates.render(request, "tasks.html", console, tasks=tasks)


@router.get(PANEL)
async def task_panel(request: Request, console: SignedInConsole, session: SessionDep) -> Response:
    """Just the list, for a panel beside another screen (fetched again as tasks change)."""
    tasks = await _tasks(session, console)
    return templates.render(request, "task_panel.html", console, tasks=tasks)


@router.post("/tasks/{task_id}")
async def change_task(
    task_id: str, console: SignedInConsole, session: SessionDep, form: CheckedForm
) -> Response:
    try:
        if form.get("action") == "delete":
            await service.delete_task(session, console.caller, task_id)
        else:
            await service.complete_task(session, console.caller, task_id)
    except TaskNotFound:
        pass  # gone meanwhile (another tab, the assistant): the list shows what is there
    return RedirectResponse(local_path(str(form.get("next") or "/tasks")), status_code=303)


TASKS_CONSOLE = ConsolePages(
    label="Tasks",
    path="/tasks",
    router=router,
    summary="Your to-do list, which the assistant keeps too.",
)
