"""Tasks through the API: create, read, change, complete, list by status and page, delete; the
422s; each user's tasks private to them in each workspace; the timeline; API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from paperworks.kit.db import Database
from tests.accounts import Account, add_member, create_workspace
from tests.problems import assert_problem

API = "/api/v1"


async def create(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post(f"{API}/tasks", json=body, headers=headers)
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task


async def patch(
    client: httpx.AsyncClient, headers: dict[str, str], task_id: str, **body: Any
) -> dict[str, Any]:
    response = await client.patch(f"{API}/tasks/{task_id}", json=body, headers=headers)
    assert response.status_code == 200, response.text
    task: dict[str, Any] = response.json()
    return task


async def read(client: httpx.AsyncClient, headers: dict[str, str], task_id: str) -> dict[str, Any]:
    response = await client.get(f"{API}/tasks/{task_id}", headers=headers)
    assert response.status_code == 200, response.text
    task: dict[str, Any] = response.json()
    return task


async def listed(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str | int
) -> dict[str, Any]:
    response = await client.get(f"{API}/tasks", params=params, headers=headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def titles(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> list[str]:
    return [task["title"] for task in (await listed(client, headers, **params))["items"]]


async def timeline(
    client: httpx.AsyncClient, headers: dict[str, str], task_id: str
) -> list[dict[str, Any]]:
    response = await client.get(
        f"{API}/events", params={"resourceType": "task", "resourceId": task_id}, headers=headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- creating and reading ---------------------------------------------------------------------


async def test_a_new_task_is_pending_medium_and_reads_back_the_same(
    client: httpx.AsyncClient, anna: Account
) -> None:
    task = await create(client, anna.headers, title="  Buy milk  ")

    assert len(task["id"]) == 26
    assert task["title"] == "Buy milk"
    assert task["description"] is None
    assert task["completed"] is False
    assert task["priority"] == "medium"
    assert task["dueDate"] is None
    assert task["completedAt"] is None
    assert task["createdAt"].endswith("Z")
    assert task["updatedAt"].endswith("Z")
    assert await read(client, anna.headers, task["id"]) == task


async def test_a_task_keeps_its_description_priority_and_due_date(
    client: httpx.AsyncClient, anna: Account
) -> None:
    task = await create(
        client,
        anna.headers,
        title="x" * 200,
        description="Two loaves, one rye." + "." * 1980,
        priority="high",
        dueDate="2026-12-24",
    )

    again = await read(client, anna.headers, task["id"])
    assert again["title"] == "x" * 200
    assert len(again["description"]) == 2000
    assert again["priority"] == "high"
    assert again["dueDate"] == "2026-12-24"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": None}, "title"),
        ({"title": "ok", "description": "x" * 2001}, "description"),
        ({"title": "ok", "priority": "urgent"}, "priority"),
        ({"title": "ok", "dueDate": "2026-02-30"}, "dueDate"),
        ({"title": "ok", "dueDate": "tomorrow"}, "dueDate"),
        ({"title": "ok", "dueDate": "2026-12-24T00:00:00"}, "dueDate"),
        ({"title": "ok", "dueDate": 1798070400}, "dueDate"),
    ],
)
async def test_a_bad_task_is_a_422_and_makes_no_task(
    client: httpx.AsyncClient, anna: Account, body: dict[str, Any], field: str
) -> None:
    response = await client.post(f"{API}/tasks", json=body, headers=anna.headers)

    problem = assert_problem(response, 422, "request.validation_failed")
    assert [error["field"] for error in problem["errors"]] == [field]
    assert (await listed(client, anna.headers))["items"] == []


async def test_tasks_need_credentials(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/tasks")
    assert_problem(response, 401, "auth.unauthenticated")


async def test_a_task_that_does_not_exist_is_a_404(
    client: httpx.AsyncClient, anna: Account
) -> None:
    response = await client.get(f"{API}/tasks/01JDZZZZZZZZZZZZZZZZZZZZZZ", headers=anna.headers)
    assert_problem(response, 404, "task.not_found")
    too_long = await client.get(f"{API}/tasks/{'x' * 65}", headers=anna.headers)
    assert_problem(too_long, 422, "request.validation_failed")


# --- changing ---------------------------------------------------------------------------------


async def test_a_patch_changes_only_the_fields_it_sends(
    client: httpx.AsyncClient, anna: Account
) -> None:
    task = await create(
        client,
        anna.headers,
        title="Call the bank",
        description="About the loan",
        dueDate="2026-01-05",
    )

    changed = await patch(client, anna.headers, task["id"], priority="high")
    assert changed["priority"] == "high"
    assert {k: v for k, v in changed.items() if k not in {"priority", "updatedAt"}} == {
        k: v for k, v in task.items() if k not in {"priority", "updatedAt"}
    }
    assert instant(changed["updatedAt"]) > instant(task["updatedAt"])

    renamed = await patch(client, anna.headers, task["id"], title="  Call the bank again ")
    assert renamed["title"] == "Call the bank again"
    assert renamed["dueDate"] == "2026-01-05"

    cleared = await patch(client, anna.headers, task["id"], dueDate=None, description=None)
    assert cleared["dueDate"] is None
    assert cleared["description"] is None
    assert cleared["title"] == "Call the bank again"
    assert await read(client, anna.headers, task["id"]) == cleared


async def test_completing_sets_completed_at_once_and_reopening_clears_it(
    client: httpx.AsyncClient, anna: Account
) -> None:
    task = await create(client, anna.headers, title="Water the plants")

    done = await patch(client, anna.headers, task["id"], completed=True)
    assert done["completed"] is True
    assert done["completedAt"].endswith("Z")
    assert instant(done["completedAt"]) >= instant(task["createdAt"])

    again = await patch(client, anna.headers, task["id"], completed=True)
    assert again["completedAt"] == done["completedAt"]

    reopened = await patch(client, anna.headers, task["id"], completed=False)
    assert reopened["completed"] is False
    assert reopened["completedAt"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"title": None},
        {"title": "  "},
        {"title": "x" * 201},
        {"priority": None},
        {"priority": "urgent"},
        {"completed": None},
        {"completed": "perhaps"},
        {"completed": 1},  # was taken for true
        {"dueDate": "2026-13-01"},
        {"description": "x" * 2001},
    ],
)
async def test_a_bad_patch_is_a_422_and_changes_nothing(
    client: httpx.AsyncClient, anna: Account, body: dict[str, Any]
) -> None:
    task = await create(client, anna.headers, title="Unchanged", dueDate="2026-03-01")

    response = await client.patch(f"{API}/tasks/{task['id']}", json=body, headers=anna.headers)

    assert_problem(response, 422, "request.validation_failed")
    assert await read(client, anna.headers, task["id"]) == task


async def test_a_deleted_task_is_gone(client: httpx.AsyncClient, anna: Account) -> None:
    task = await create(client, anna.headers, title="Temporary")

    response = await client.delete(f"{API}/tasks/{task['id']}", headers=anna.headers)

    assert response.status_code == 204
    assert response.content == b""
    assert_problem(
        await client.get(f"{API}/tasks/{task['id']}", headers=anna.headers), 404, "task.not_found"
    )
    assert_problem(
        await client.delete(f"{API}/tasks/{task['id']}", headers=anna.headers),
        404,
        "task.not_found",
    )
    assert (await listed(client, anna.headers))["items"] == []


# --- listing ----------------------------------------------------------------------------------


async def test_the_list_is_filtered_by_status(client: httpx.AsyncClient, anna: Account) -> None:
    for title in ("one", "two", "three"):
        await create(client, anna.headers, title=title)
    two = (await listed(client, anna.headers))["items"][1]
    await patch(client, anna.headers, two["id"], completed=True)

    assert await titles(client, anna.headers) == ["one", "two", "three"]
    assert await titles(client, anna.headers, status="all") == ["one", "two", "three"]
    assert await titles(client, anna.headers, status="pending") == ["one", "three"]
    assert await titles(client, anna.headers, status="completed") == ["two"]
    bad = await client.get(f"{API}/tasks", params={"status": "done"}, headers=anna.headers)
    assert_problem(bad, 422, "request.validation_failed")


async def test_the_list_pages_by_cursor_in_creation_order(
    client: httpx.AsyncClient, anna: Account
) -> None:
    made = [(await create(client, anna.headers, title=f"task {n}"))["id"] for n in range(5)]

    seen: list[str] = []
    pages = 0
    params: dict[str, str | int] = {"limit": 2}
    while True:
        page = await listed(client, anna.headers, **params)
        pages += 1
        assert len(page["items"]) <= 2
        seen += [task["id"] for task in page["items"]]
        if page["nextCursor"] is None:
            break
        params["cursor"] = page["nextCursor"]

    assert seen == made
    assert pages == 3
    pending = await listed(client, anna.headers, status="pending", limit=5)
    assert pending["nextCursor"] is None
    for limit in (0, 101):
        response = await client.get(f"{API}/tasks", params={"limit": limit}, headers=anna.headers)
        assert_problem(response, 422, "request.validation_failed")


# --- privacy ----------------------------------------------------------------------------------


async def test_another_members_task_is_not_found_in_a_shared_workspace(
    client: httpx.AsyncClient, db: Database, anna: Account, bob: Account
) -> None:
    team = await create_workspace(client, anna, "Team")
    await add_member(db, team, bob.email, role="owner")  # even an owner
    task = await create(client, anna.in_workspace(team), title="Anna's own")

    as_bob = bob.in_workspace(team)
    for method, body in [("GET", None), ("PATCH", {"title": "Bob's now"}), ("DELETE", None)]:
        response = await client.request(
            method, f"{API}/tasks/{task['id']}", json=body, headers=as_bob
        )
        assert_problem(response, 404, "task.not_found")
    assert (await listed(client, as_bob))["items"] == []
    assert await timeline(client, as_bob, task["id"]) == []
    assert await read(client, anna.in_workspace(team), task["id"]) == task


async def test_a_task_is_not_found_from_another_workspace(
    client: httpx.AsyncClient, anna: Account, bob: Account
) -> None:
    team = await create_workspace(client, anna, "Team")
    task = await create(client, anna.headers, title="In my personal workspace")

    response = await client.get(f"{API}/tasks/{task['id']}", headers=anna.in_workspace(team))
    assert_problem(response, 404, "task.not_found")
    assert (await listed(client, anna.in_workspace(team)))["items"] == []
    assert_problem(
        await client.get(f"{API}/tasks/{task['id']}", headers=bob.headers), 404, "task.not_found"
    )


# --- timeline and API keys --------------------------------------------------------------------


async def test_the_timeline_tells_what_happened_to_a_task(
    client: httpx.AsyncClient, anna: Account
) -> None:
    task = await create(client, anna.headers, title="Write report")
    task_id = task["id"]
    await patch(client, anna.headers, task_id, title="Write the report", dueDate="2026-05-01")
    await patch(client, anna.headers, task_id, priority="medium")  # unchanged: no event
    await patch(client, anna.headers, task_id, completed=True)
    await patch(client, anna.headers, task_id, completed=True)  # already done: no event
    await patch(client, anna.headers, task_id, completed=False)
    await client.delete(f"{API}/tasks/{task_id}", headers=anna.headers)

    events = await timeline(client, anna.headers, task_id)
    assert [(e["type"], e["payload"]) for e in events] == [
        ("task.created", {"title": "Write report"}),
        ("task.updated", {"title": "Write the report", "fields": ["dueDate", "title"]}),
        ("task.completed", {"title": "Write the report"}),
        ("task.updated", {"title": "Write the report", "fields": ["completed"]}),
        ("task.deleted", {"title": "Write the report"}),
    ]
    assert {e["actor"]["userId"] for e in events} == {anna.id}
    assert {e["actor"]["type"] for e in events} == {"user"}


async def test_an_api_key_manages_the_tasks_of_its_workspace(
    client: httpx.AsyncClient, anna: Account
) -> None:
    team = await create_workspace(client, anna, "Team")
    created = await client.post(
        f"{API}/api-keys", json={"name": "assistant"}, headers=anna.in_workspace(team)
    )
    assert created.status_code == 201, created.text
    key = created.json()
    with_key = {"X-API-Key": key["key"]}

    task = await create(client, with_key, title="Made by a key")
    done = await patch(client, with_key, task["id"], completed=True)

    assert done["completed"] is True
    assert await titles(client, with_key) == ["Made by a key"]
    assert await titles(client, anna.in_workspace(team)) == ["Made by a key"]
    assert await titles(client, anna.headers) == []  # the key's workspace, not the personal one
    events = await timeline(client, anna.in_workspace(team), task["id"])
    assert [e["type"] for e in events] == ["task.created", "task.completed"]
    assert {(e["actor"]["type"], e["actor"]["userId"], e["actor"]["apiKeyId"]) for e in events} == {
        ("apiKey", anna.id, key["id"])
    }


# --- documentation ----------------------------------------------------------------------------


def test_every_task_route_is_documented_with_its_problems(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    routes = {
        (method, path): operation
        for path, operations in paths.items()
        if path.startswith(f"{API}/tasks")
        for method, operation in operations.items()
    }

    assert set(routes) == {
        ("get", f"{API}/tasks"),
        ("post", f"{API}/tasks"),
        ("get", f"{API}/tasks/{{task_id}}"),
        ("patch", f"{API}/tasks/{{task_id}}"),
        ("delete", f"{API}/tasks/{{task_id}}"),
    }
    for (_, path), operation in routes.items():
        assert operation["summary"]
        assert operation["description"]
        if "{task_id}" in path:
            assert "task.not_found" in operation["responses"]["404"]["description"]


def test_an_update_documents_null_only_where_null_clears(app: FastAPI) -> None:
    fields = app.openapi()["components"]["schemas"]["TaskUpdate"]["properties"]
    nullable = {name for name, spec in fields.items() if {"type": "null"} in spec.get("anyOf", [])}
    # title, priority and completed may be left out, but a null is refused (see above).
    assert nullable == {"description", "dueDate"}
