"""Assistant: our overhead per chat turn beyond the model, and an MCP tool call against the service.

1. A chat turn with one tool call. The app (SQLite, in-process over ASGI) talks to a local fake
   OpenAI-compatible server with no delay, which answers the first step with an `add_task` tool
   call and the second with a reply. The anchor is the model's own share: the same two
   completions posted bare to the same server. Our overhead is the turn minus the anchor: auth,
   loading and recording the conversation, the agent runtime, the MCP session (initialize, list,
   call) and the tool's own transaction. The anchor posts the very bodies our turn sent (its
   instructions, history and tool schemas: what any client of that model must send), recorded by
   the fake server on a first turn. Target: under 30 ms at p95.
2. The offline engine's turn (no model at all), for scale.
3. One MCP tool call (`add_task` through the SDK's client and our `/mcp`), against the anchor of
   calling the tasks service directly in a transaction of its own.

Run: .venv/bin/python bench/assistant.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from paperworks import migrations
from paperworks.app import create_app
from paperworks.identity.caller import Caller
from paperworks.identity.roles import Role
from paperworks.settings import Settings
from paperworks.tasks import service as tasks
from paperworks.tasks.schemas import TaskCreate
from support import percentile, report, serving, timed

TOOL_STEP: dict[str, Any] = {
    "role": "assistant",
    "content": None,
    "tool_calls": [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "add_task", "arguments": '{"title": "Buy milk"}'},
        }
    ],
}
REPLY_STEP: dict[str, Any] = {"role": "assistant", "content": "I added Buy milk."}


def completion(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "bench-model",
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if message.get("tool_calls") else "stop",
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
    }


def fake_model_app(received: list[dict[str, Any]]) -> Starlette:
    """A tool call first; once the conversation ends with the tool's answer, the reply. Keeps
    the request bodies it received in `received`."""

    async def completions(request: Request) -> JSONResponse:
        body = await request.json()
        received.append(body)
        answered = body["messages"][-1]["role"] == "tool"
        return JSONResponse(completion(REPLY_STEP if answered else TOOL_STEP))

    return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    await migrations.upgrade(app.state.services.db.engine)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            yield client


async def signed_up(client: httpx.AsyncClient) -> dict[str, str]:
    answer = await client.post(
        "/api/v1/auth/register",
        json={"email": "bench@example.com", "password": "correct horse battery"},
    )
    return {"Authorization": f"Bearer {answer.json()['accessToken']}"}


def settings_for(data: Path, model_url: str | None) -> Settings:
    extra: dict[str, Any] = {}
    if model_url is not None:
        extra = {"llm_base_url": model_url, "llm_api_key": "sk-bench", "llm_model": "bench-model"}
    return Settings(
        data_dir=data,
        password_hash_rounds=4,
        log_level="warning",
        rate_limit_authenticated="1000000/minute",
        rate_limit_anonymous="1000000/minute",
        **extra,
    )


async def chat_turns(
    rounds: int, model_url: str, received: list[dict[str, Any]], data: Path
) -> list[tuple[str, list[float]]]:
    bare = httpx.AsyncClient(base_url=model_url)
    steps: list[dict[str, Any]] = []

    async def anchor(_: int) -> None:
        for body in steps:
            (await bare.post("/chat/completions", json=body)).raise_for_status()

    rows = []
    for name, url, folder in (
        ("chat turn, model + 1 tool call", model_url, "model"),
        ("chat turn, offline engine", None, "offline"),
    ):
        async with running(create_app(settings_for(data / folder, url))) as client:
            headers = await signed_up(client)
            if url is not None:  # the bodies one turn sends, for the anchor
                received.clear()
                answer = await client.post(
                    "/api/v1/assistant/chat", json={"message": "add buy milk"}, headers=headers
                )
                assert answer.status_code == 200, answer.text
                steps = list(received)
                rows.append(("anchor: the model's two steps, bare", await timed(rounds, anchor)))

            async def turn(
                _: int, client: httpx.AsyncClient = client, headers: dict[str, str] = headers
            ) -> None:
                answer = await client.post(
                    "/api/v1/assistant/chat", json={"message": "add buy milk"}, headers=headers
                )
                assert answer.status_code == 200, answer.text

            rows.append((name, await timed(rounds, turn)))
    await bare.aclose()
    return rows


async def tool_calls(rounds: int, data: Path) -> list[tuple[str, list[float]]]:
    app = create_app(settings_for(data / "tools", None))
    async with running(app) as client:
        headers = await signed_up(client)
        me = (await client.get("/api/v1/auth/me", headers=headers)).json()
        owner = Caller(workspace_id=me["workspaces"][0]["id"], user_id=me["id"], role=Role.owner)
        db = app.state.services.db

        async def direct(_: int) -> None:
            async with db.session_scope() as session:
                await tasks.create_task(session, owner, TaskCreate(title="Buy milk"))

        rows = [("anchor: tasks service, own transaction", await timed(rounds, direct))]
        transport = httpx2.ASGITransport(app=app)
        async with (
            httpx2.AsyncClient(transport=transport, headers=headers) as http,
            Client(streamable_http_client("http://bench/mcp", http_client=http)) as mcp,
        ):

            async def through_mcp(_: int) -> None:
                result = await mcp.call_tool("add_task", {"title": "Buy milk"})
                assert not result.is_error, result.content

            rows.append(("add_task over MCP (SDK client)", await timed(rounds, through_mcp)))
    return rows


async def run(rounds: int) -> None:
    received: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, serving(fake_model_app(received)) as model_url:
        turns = await chat_turns(rounds, model_url, received, Path(tmp))
        report("one chat turn", turns, anchor=0)
        overhead = {
            q: percentile(turns[1][1], q) - percentile(turns[0][1], q) for q in (50, 95, 99)
        }
        verdict = "PASS" if overhead[95] < 30 else "ABOVE"
        print(
            f"our overhead per turn with one tool call: p50 {overhead[50]:.1f} ms, "
            f"p95 {overhead[95]:.1f} ms, p99 {overhead[99]:.1f} ms ({verdict}: goal p95 < 30 ms)"
        )
        report("one tool call", await tool_calls(rounds, Path(tmp)), anchor=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100, help="turns or calls per scenario")
    args = parser.parse_args()
    print(
        f"paperworks assistant: {args.rounds} rounds per scenario; "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{len(os.sched_getaffinity(0))} CPUs"
    )
    asyncio.run(run(args.rounds))


if __name__ == "__main__":
    main()
