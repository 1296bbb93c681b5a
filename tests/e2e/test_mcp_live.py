"""An external MCP client (the SDK's own) manages a user's tasks on a real `paperworks serve` with
an API key, as a desktop assistant would, and the REST API shows the same tasks."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.servers import start

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_an_mcp_client_with_an_api_key_manages_the_users_tasks(tmp_path: Path) -> None:
    server = start(tmp_path)
    api = next(server)
    try:
        tokens = httpx.post(
            f"{api.url}/api/v1/auth/register",
            json={"email": "mcp@example.com", "password": "correct horse battery"},
        ).json()
        headers = {"Authorization": f"Bearer {tokens['accessToken']}"}
        key = httpx.post(
            f"{api.url}/api/v1/api-keys", json={"name": "desktop"}, headers=headers
        ).json()["key"]

        tools, pending = asyncio.run(manage_tasks(f"{api.url}/mcp", {"X-API-Key": key}))
        listed = httpx.get(f"{api.url}/api/v1/tasks?status=all", headers=headers).json()
        anonymous = httpx.post(f"{api.url}/mcp", json={"jsonrpc": "2.0", "id": 1})
    finally:
        next(server, None)

    assert {"add_task", "list_tasks", "complete_task", "update_task", "delete_task"} <= tools
    assert [task["title"] for task in pending] == ["Call the dentist"]
    by_title = {task["title"]: task for task in listed["items"]}
    assert set(by_title) == {"Buy milk", "Call the dentist"}
    assert by_title["Buy milk"]["completed"] is True
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"


async def manage_tasks(url: str, headers: dict[str, str]) -> tuple[set[str], list[Any]]:
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        tools = {tool.name for tool in (await client.list_tools()).tools}
        milk = await result(client, "add_task", {"title": "Buy milk"})
        await result(client, "add_task", {"title": "Call the dentist", "priority": "high"})
        await result(client, "complete_task", {"task_id": milk["id"]})
        pending = await result(client, "list_tasks", {"status": "pending"})
    return tools, pending["tasks"]


async def result(client: Client, tool: str, arguments: dict[str, Any]) -> Any:
    answer = await client.call_tool(tool, arguments)
    assert not answer.is_error, answer.content
    return json.loads(answer.content[0].text)
