"""Tenancy in one place: `scoped` narrows any select to the rows a caller may see, so a product
cannot forget the workspace (or, for private rows, the user) in a query."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from paperworks.decks.models import Deck
from paperworks.identity.caller import SYSTEM, Caller, Credentials
from paperworks.identity.exceptions import MissingPermission
from paperworks.identity.models import User
from paperworks.identity.roles import Role
from paperworks.identity.tenancy import get_scoped, scoped
from paperworks.jobs.models import Job
from paperworks.kit.db import Database
from paperworks.tasks.models import Task
from tests.accounts import Account


def where_clause(query: object) -> str:
    return str(query).split("WHERE", 1)[1]


def test_workspace_rows_are_narrowed_to_the_callers_workspace() -> None:
    caller = Caller(workspace_id="w1", user_id="u1", role=Role.member)
    assert "decks.workspace_id = :workspace_id_1" in where_clause(scoped(select(Deck), caller))
    assert "user_id" not in where_clause(scoped(select(Deck), caller))  # shared in the workspace


def test_private_rows_are_narrowed_to_the_callers_own_too() -> None:
    clause = where_clause(scoped(select(Task), Caller(workspace_id="w1", user_id="u1")))
    assert "tasks.workspace_id" in clause
    assert "tasks.user_id" in clause


def test_the_system_in_a_workspace_sees_its_private_rows_and_nowhere_else_anything() -> None:
    clause = where_clause(scoped(select(Task), SYSTEM.within("w1")))
    assert ("tasks.workspace_id" in clause, "user_id" in clause) == (True, False)
    with pytest.raises(RuntimeError, match="outside any workspace"):
        scoped(select(Task), SYSTEM)


def test_a_join_is_narrowed_by_the_entity_named() -> None:
    query = select(Deck, Job.status).outerjoin(Job, Job.id == Deck.job_id)
    clause = where_clause(scoped(query, Caller(workspace_id="w1", user_id="u1"), Deck))
    assert "decks.workspace_id" in clause
    assert "jobs.workspace_id" not in clause


def test_a_table_without_tenancy_cannot_be_scoped() -> None:
    with pytest.raises(TypeError, match="neither WorkspaceOwned nor UserPrivate"):
        scoped(select(User), Caller(workspace_id="w1", user_id="u1"))


async def test_another_users_private_row_is_not_found(
    db: Database, anna: Account, bob: Account
) -> None:
    async with db.session_scope() as session:
        task = Task(workspace_id=anna.personal_workspace_id, user_id=anna.id, title="Mine")
        session.add(task)
        await session.flush()
        assert await get_scoped(session, anna.caller, Task, task.id) is task
        bob_in_annas = Caller(workspace_id=anna.personal_workspace_id, user_id=bob.id)
        assert await get_scoped(session, bob_in_annas, Task, task.id) is None
        assert await get_scoped(session, bob.caller, Task, task.id) is None
        system = SYSTEM.within(anna.personal_workspace_id)
        assert await get_scoped(session, system, Task, task.id) is task


def test_roles_grant_permissions_the_system_and_admins_everything() -> None:
    member = Caller(workspace_id="w", user_id="u", role=Role.member)
    assert member.allows("workspace:read")
    assert not member.allows("members:manage")
    with pytest.raises(MissingPermission):
        member.require("members:manage")
    assert Caller(workspace_id="w", user_id="u", is_admin=True).allows("members:manage")
    assert SYSTEM.within("w").allows("members:manage")
    with pytest.raises(RuntimeError, match="only the system"):
        member.within("other")


def test_credentials_travel_as_headers_and_back() -> None:
    credentials = Credentials(bearer="tok", api_key="pwk_x", workspace_id="w9")
    raw = [(name.lower().encode(), value.encode()) for name, value in credentials.headers().items()]
    assert Credentials.from_headers([*raw, (b"accept", b"*/*")]) == credentials
    assert Credentials.from_headers([(b"authorization", b"Basic abc")]) == Credentials()
