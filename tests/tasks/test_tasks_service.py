"""The tasks service as other code (the assistant's tools) calls it: only the fields given change,
completing is idempotent, and an owner sees only their own tasks."""

from __future__ import annotations

from datetime import date

import pytest

from paperworks.events import service as events
from paperworks.identity.caller import Caller
from paperworks.kit.db import Database
from paperworks.tasks import service
from paperworks.tasks.exceptions import TaskNotFound
from paperworks.tasks.schemas import TaskCreate, TaskUpdate
from tests.accounts import Account


@pytest.fixture
def owner(anna: Account) -> Caller:
    return anna.caller


async def event_types(db: Database, owner: Caller, task_id: str) -> list[str]:
    async with db.session_scope() as session:
        found, _ = await events.timeline(
            session,
            owner,
            resource_type="task",
            resource_id=task_id,
            limit=100,
            cursor=None,
        )
    return [event.type for event in found]


async def new_task(db: Database, owner: Caller, title: str = "Buy milk") -> str:
    async with db.session_scope() as session:
        task = await service.create_task(
            session,
            owner,
            TaskCreate(title=title, description="Oat", due_date=date(2026, 6, 1)),
        )
        return task.id


async def test_completing_twice_completes_once(db: Database, owner: Caller) -> None:
    task_id = await new_task(db, owner)

    async with db.session_scope() as session:
        first = await service.complete_task(session, owner, task_id)
        completed_at = first.completed_at
    async with db.session_scope() as session:
        second = await service.complete_task(session, owner, task_id)

    assert second.completed is True
    assert completed_at is not None
    assert second.completed_at == completed_at
    assert await event_types(db, owner, task_id) == ["task.created", "task.completed"]


async def test_an_update_changes_only_the_fields_it_was_given(db: Database, owner: Caller) -> None:
    task_id = await new_task(db, owner)

    async with db.session_scope() as session:
        changes = TaskUpdate.model_validate({"dueDate": None, "priority": "low"})
        task = await service.update_task(session, owner, task_id, changes)
        assert (task.title, task.description, task.due_date, task.priority) == (
            "Buy milk",
            "Oat",
            None,
            "low",
        )
    async with db.session_scope() as session:
        before = (await service.get_task(session, owner, task_id)).updated_at
        same = await service.update_task(session, owner, task_id, TaskUpdate())
        assert same.updated_at == before

    assert await event_types(db, owner, task_id) == ["task.created", "task.updated"]


async def test_the_list_is_the_owners_by_status_and_in_pages(
    db: Database, owner: Caller, bob: Account
) -> None:
    ids = [await new_task(db, owner, f"task {n}") for n in range(3)]
    someone_else = Caller(workspace_id=owner.workspace_id, user_id=bob.id)
    await new_task(db, someone_else, "Bob's, in Anna's workspace (as if he were a member)")

    async with db.session_scope() as session:
        await service.complete_task(session, owner, ids[1])
        first, cursor = await service.list_tasks(session, owner, limit=2)
        rest, end = await service.list_tasks(session, owner, limit=2, cursor=cursor)
        pending, _ = await service.list_tasks(session, owner, status="pending")
        done, _ = await service.list_tasks(session, owner, status="completed")

    assert [task.id for task in first + rest] == ids
    assert end is None
    assert [task.id for task in pending] == [ids[0], ids[2]]
    assert [task.id for task in done] == [ids[1]]


async def test_another_owners_task_is_not_found(db: Database, owner: Caller, bob: Account) -> None:
    task_id = await new_task(db, owner)
    bob_here = Caller(workspace_id=owner.workspace_id, user_id=bob.id)
    anna_elsewhere = Caller(workspace_id=bob.personal_workspace_id, user_id=owner.user_id)

    for stranger in (bob_here, anna_elsewhere):
        async with db.session_scope() as session:
            with pytest.raises(TaskNotFound):
                await service.get_task(session, stranger, task_id)
            with pytest.raises(TaskNotFound):
                await service.update_task(session, stranger, task_id, TaskUpdate(title="Mine"))
            with pytest.raises(TaskNotFound):
                await service.complete_task(session, stranger, task_id)
            with pytest.raises(TaskNotFound):
                await service.delete_task(session, stranger, task_id)

    async with db.session_scope() as session:
        task = await service.get_task(session, owner, task_id)
        assert (task.title, task.completed) == ("Buy milk", False)
