"""The tasks' MCP tools through the SDK's own client, over HTTP to the app's `/mcp` endpoint."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.accounts import Account
from tests.mcp_sessions import McpClient, call, call_failing
from tests.problems import assert_problem


async def test_the_tools_are_listed_with_descriptions_and_typed_arguments(
    mcp_client: McpClient, anna: Account
) -> None:
    async with mcp_client(anna.headers) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    task_tools = {"add_task", "list_tasks", "complete_task", "update_task", "delete_task"}
    assert task_tools <= set(tools)  # beside every other product's
    assert all(tool.description for tool in tools.values())
    add = tools["add_task"].input_schema
    assert add["required"] == ["title"]
    assert set(add["properties"]) == {"title", "description", "priority", "due_date"}
    assert add["$defs"]["TaskPriority"]["enum"] == ["low", "medium", "high"]
    assert "ctx" not in add["properties"]
    assert tools["complete_task"].input_schema["required"] == ["task_id"]


async def test_each_tool_acts_on_the_callers_tasks(
    mcp_client: McpClient, anna: Account, client: httpx.AsyncClient
) -> None:
    async with mcp_client(anna.headers) as mcp:
        milk = await call(mcp, "add_task", title="Buy milk")
        call_anna = await call(
            mcp, "add_task", title="Call Anna", priority="high", due_date="2026-12-24"
        )
        assert (milk["priority"], milk["completed"]) == ("medium", False)
        assert (call_anna["priority"], call_anna["dueDate"]) == ("high", "2026-12-24")

        done = await call(mcp, "complete_task", task_id=milk["id"])
        assert done["completed"] is True
        assert done["completedAt"] is not None
        pending = await call(mcp, "list_tasks", status="pending")
        assert [task["title"] for task in pending["tasks"]] == ["Call Anna"]
        assert pending["more"] is False

        renamed = await call(mcp, "update_task", task_id=call_anna["id"], title="Call Anna back")
        assert (renamed["title"], renamed["priority"]) == ("Call Anna back", "high")
        assert renamed["dueDate"] == "2026-12-24"
        undated = await call(mcp, "update_task", task_id=call_anna["id"], clear=["due_date"])
        assert (undated["title"], undated["dueDate"]) == ("Call Anna back", None)
        deleted = await call(mcp, "delete_task", task_id=milk["id"])
        assert deleted == {"deleted": milk["id"], "title": "Buy milk"}

    # The same tasks through the REST API, as the same user.
    listed = (await client.get("/api/v1/tasks", headers=anna.headers)).json()
    assert [task["title"] for task in listed["items"]] == ["Call Anna back"]


async def test_bad_arguments_are_tool_errors_the_model_can_read(
    mcp_client: McpClient, anna: Account
) -> None:
    async with mcp_client(anna.headers) as mcp:
        assert "title" in await call_failing(mcp, "add_task", priority="high")
        assert "title" in await call_failing(mcp, "add_task", title="   ")
        assert "title" in await call_failing(mcp, "add_task", title="x" * 201)
        assert "priority" in await call_failing(mcp, "add_task", title="Milk", priority="urgent")
        assert "due_date" in await call_failing(mcp, "add_task", title="Milk", due_date="soon")
        missing = await call_failing(mcp, "complete_task", task_id="01NOTATASK0000000000000000")
        assert "task.not_found" in missing
        # Nothing half-made: every failed call left no task behind.
        assert (await call(mcp, "list_tasks"))["tasks"] == []


async def test_another_users_task_is_not_found(
    mcp_client: McpClient, anna: Account, bob: Account
) -> None:
    async with mcp_client(anna.headers) as mcp:
        task = await call(mcp, "add_task", title="Anna's secret")
    async with mcp_client(bob.headers) as mcp:
        for tool in ("complete_task", "delete_task"):
            assert "task.not_found" in await call_failing(mcp, tool, task_id=task["id"])
        assert "task.not_found" in await call_failing(
            mcp, "update_task", task_id=task["id"], title="Mine now"
        )
        assert (await call(mcp, "list_tasks"))["tasks"] == []
    async with mcp_client(anna.headers) as mcp:
        (still,) = (await call(mcp, "list_tasks"))["tasks"]
    assert (still["title"], still["completed"]) == ("Anna's secret", False)


async def test_an_api_key_acts_in_its_workspace(
    mcp_client: McpClient, anna: Account, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        "/api/v1/api-keys", json={"name": "desktop assistant"}, headers=anna.headers
    )
    assert response.status_code == 201, response.text
    key = response.json()["key"]
    async with mcp_client({"X-API-Key": key}) as mcp:
        task = await call(mcp, "add_task", title="From the desktop")
    fetched = await client.get(f"/api/v1/tasks/{task['id']}", headers=anna.headers)
    assert fetched.status_code == 200


async def test_no_or_bad_credentials_are_a_401_problem(
    client: httpx.AsyncClient, mcp_sessions: None
) -> None:
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    for headers, code in (
        ({}, "auth.unauthenticated"),
        ({"X-API-Key": "pwk_not-a-key"}, "auth.invalid_api_key"),
        ({"Authorization": "Bearer nonsense"}, "auth.invalid_token"),
    ):
        response = await client.post(
            "/mcp",
            json=initialize,
            headers={"Accept": "application/json, text/event-stream", **headers},
        )
        assert_problem(response, 401, code)


async def test_mcp_answers_at_its_own_path_without_a_redirect(
    client: httpx.AsyncClient, anna: Account, mcp_sessions: None
) -> None:
    response = await client.post(
        "/mcp",
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "curl", "version": "1"},
            },
        },
        headers={"Accept": "application/json, text/event-stream", **anna.headers},
    )
    assert response.status_code == 200, response.text
    assert response.json()["result"]["serverInfo"]["name"] == "paperworks"


async def test_a_revoked_key_is_refused_once_its_caller_is_forgotten(
    app: FastAPI, mcp_client: McpClient, anna: Account, client: httpx.AsyncClient
) -> None:
    app.state.services.callers.seconds = 0.0  # as if the few seconds' memory had passed
    created = await client.post("/api/v1/api-keys", json={"name": "laptop"}, headers=anna.headers)
    key = created.json()
    async with mcp_client({"X-API-Key": key["key"]}) as mcp:
        await call(mcp, "list_tasks")
    revoked = await client.delete(f"/api/v1/api-keys/{key['id']}", headers=anna.headers)
    assert revoked.status_code == 204
    response = await client.post(
        "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
        headers={"Accept": "application/json, text/event-stream", "X-API-Key": key["key"]},
    )
    assert_problem(response, 401, "auth.invalid_api_key")
