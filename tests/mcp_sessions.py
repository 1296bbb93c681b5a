"""MCP sessions for every test package (a pytest plugin): the app's MCP session manager running,
and the SDK's own client connected to the app's `/mcp` over an in-process transport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

McpClient = Callable[[dict[str, str]], AbstractAsyncContextManager[Client]]


@pytest.fixture
async def mcp_sessions(app: FastAPI) -> AsyncIterator[None]:
    """The SDK's session manager, which the app's lifespan runs and the test client does not.
    In a task of its own: its task group must be left in the task that entered it."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def run() -> None:
        async with app.state.mcp.session_manager.run():
            started.set()
            await stop.wait()

    runner = asyncio.create_task(run())
    await started.wait()
    yield
    stop.set()
    await runner


@pytest.fixture
def mcp_client(app: FastAPI, mcp_sessions: None) -> McpClient:
    @asynccontextmanager
    async def connect(headers: dict[str, str]) -> AsyncIterator[Client]:
        transport = httpx2.ASGITransport(app=app)
        async with (
            httpx2.AsyncClient(transport=transport, headers=headers) as http,
            Client(streamable_http_client("http://testserver/mcp", http_client=http)) as client,
        ):
            yield client

    return connect


async def call(client: Client, tool: str, **arguments: Any) -> Any:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return json.loads(result.content[0].text)


async def call_failing(client: Client, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error
    text: str = result.content[0].text
    return text
