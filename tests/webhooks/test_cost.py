"""What webhooks add to every publish: one indexed query where a workspace has none, and nothing
at all for private events (a task write, which the load benchmark does all the time)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event

from paperworks.events import service as events
from paperworks.events.service import Resource
from paperworks.kit.db import Database
from paperworks.kit.ids import new_id
from tests.accounts import Account


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper() + " " + statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def published(db: Database, resource: Resource) -> list[str]:
    async with db.session_scope() as session:
        with statements(db) as seen:
            await events.publish(session, "booklet.generated", resource, {"pages": 1})
    return seen


async def test_a_workspace_without_webhooks_costs_one_query(
    app: FastAPI, db: Database, anna: Account
) -> None:
    seen = await published(db, Resource("booklet", new_id(), anna.personal_workspace_id))
    asked = [statement for statement in seen if "webhooks" in statement]
    assert len(asked) == 1, seen
    assert asked[0].startswith("SELECT")
    assert "webhooks.workspace_id" in asked[0]


async def test_a_private_event_costs_none(app: FastAPI, db: Database, anna: Account) -> None:
    resource = Resource("task", new_id(), anna.personal_workspace_id, private_to_user_id=anna.id)
    seen = await published(db, resource)
    assert [statement for statement in seen if "webhooks" in statement] == []
