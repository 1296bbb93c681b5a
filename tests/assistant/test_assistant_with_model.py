"""The assistant with a model: the OpenAI Agents SDK drives a fake OpenAI-compatible model (respx,
at the HTTP layer the real client uses) whose tool calls reach the tasks over our own `/mcp`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from paperworks.settings import Settings
from tests.accounts import Account
from tests.committing import Committing
from tests.conftest import make_settings
from tests.fake_model import (
    API_KEY,
    MODEL,
    FakeModel,
    completion,
    model_settings,
    tool_call,
)
from tests.problems import assert_problem

pytestmark = pytest.mark.usefixtures("mcp_sessions")

CHAT = "/api/v1/assistant/chat"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(
        tmp_path / "data",
        database_url=database_url,
        **model_settings(),
        llm_max_retries=1,
        assistant_max_steps=4,
        assistant_history_turns=2,
    )


async def chat(
    client: httpx.AsyncClient, account: Account, message: str, **extra: Any
) -> httpx.Response:
    return await client.post(CHAT, json={"message": message, **extra}, headers=account.headers)


async def titles(client: httpx.AsyncClient, account: Account, status: str = "all") -> list[str]:
    listed = await client.get(f"/api/v1/tasks?status={status}", headers=account.headers)
    return [task["title"] for task in listed.json()["items"]]


async def test_a_tool_call_adds_the_task_and_the_turn_is_kept(
    client: httpx.AsyncClient, anna: Account, fake_model: FakeModel
) -> None:
    fake_model.tool_calls(tool_call("add_task", {"title": "Buy milk"}))
    fake_model.says("I added Buy milk.")
    response = await chat(client, anna, "add buy milk")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["reply"], body["model"]) == ("I added Buy milk.", MODEL)
    (called,) = body["toolCalls"]
    assert (called["name"], called["arguments"]) == ("add_task", {"title": "Buy milk"})
    assert called["result"]["title"] == "Buy milk"
    assert await titles(client, anna) == ["Buy milk"]

    # The model saw every product's tools, and the tool's answer on its second step.
    offered = {tool["function"]["name"] for tool in fake_model.requests[0]["tools"]}
    assert offered == {
        *("add_task", "list_tasks", "complete_task", "update_task", "delete_task"),
        *("create_outline", "build_deck", "get_deck", "list_decks"),
        *("list_books", "list_customers", "resolve_booklet", "generate_booklet", "get_booklet"),
        *("list_documents", "extract_tables", "list_tables", "get_table"),
    }
    (answer,) = fake_model.tool_results(1)
    assert "Buy milk" in answer

    kept = await client.get(
        f"/api/v1/assistant/conversations/{body['conversationId']}", headers=anna.headers
    )
    messages = kept.json()["messages"]
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "add buy milk"),
        ("assistant", "I added Buy milk."),
    ]
    assert messages[1]["toolCalls"][0]["name"] == "add_task"
    assert messages[1]["model"] == MODEL


async def test_several_tools_in_one_step(
    client: httpx.AsyncClient, anna: Account, fake_model: FakeModel
) -> None:
    fake_model.tool_calls(
        tool_call("add_task", {"title": "Buy milk"}, "call_1"),
        tool_call("add_task", {"title": "Call Anna", "priority": "high"}, "call_2"),
    )
    fake_model.tool_calls(tool_call("list_tasks", {"status": "pending"}, "call_3"))
    fake_model.says("Added both; two tasks are pending.")
    body = (await chat(client, anna, "add buy milk and call Anna, then what's pending?")).json()
    assert [call["name"] for call in body["toolCalls"]] == ["add_task", "add_task", "list_tasks"]
    pending = body["toolCalls"][2]["result"]["tasks"]
    assert [task["title"] for task in pending] == ["Buy milk", "Call Anna"]
    assert await titles(client, anna) == ["Buy milk", "Call Anna"]


async def test_the_model_reads_a_tool_error_and_recovers(
    client: httpx.AsyncClient, anna: Account, fake_model: FakeModel
) -> None:
    fake_model.tool_calls(tool_call("complete_task", {"task_id": "01NOSUCHTASK00000000000000"}))
    fake_model.tool_calls(tool_call("add_task", {"title": "Call the dentist"}, "call_2"))
    fake_model.says("That task did not exist, so I added it.")
    response = await chat(client, anna, "mark the dentist call done")
    assert response.status_code == 200, response.text
    (error,) = fake_model.tool_results(1)
    assert "task.not_found" in error
    assert await titles(client, anna) == ["Call the dentist"]


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param(
            lambda model: model.tool_calls(tool_call("add_task", "{not json"), times=5),
            id="tool-args",
        ),
        pytest.param(
            lambda model: model.responds(200, text="<html>oops</html>", times=5), id="not-json"
        ),
        pytest.param(
            lambda model: model.tool_calls(tool_call("launch_rocket", {}), times=5),
            id="unknown-tool",
        ),
    ],
)
async def test_garbage_from_the_model_is_a_502_and_nothing_is_recorded(
    client: httpx.AsyncClient,
    anna: Account,
    fake_model: FakeModel,
    garbage: Callable[[FakeModel], FakeModel],
) -> None:
    # A model that keeps answering garbage: the runtime may show it its error and ask again,
    # until the turn's step budget (4) runs out.
    garbage(fake_model)
    response = await chat(client, anna, "add buy milk")
    assert response.status_code in (502, 503), response.text
    assert response.headers["content-type"] == "application/problem+json"
    listed = await client.get("/api/v1/assistant/conversations", headers=anna.headers)
    assert listed.json()["items"] == []


async def test_a_rate_limit_is_retried(
    client: httpx.AsyncClient, anna: Account, fake_model: FakeModel
) -> None:
    fake_model.fails(429, "slow down", headers={"retry-after-ms": "1"})
    fake_model.says("Nothing to do.")
    response = await chat(client, anna, "hello")
    assert response.status_code == 200, response.text
    assert len(fake_model.requests) == 2


async def test_a_refused_key_is_a_502_that_never_shows_the_key(
    client: httpx.AsyncClient, anna: Account, fake_model: FakeModel
) -> None:
    fake_model.fails(401, f"bad key {API_KEY}")
    response = await chat(client, anna, "hello")
    body = assert_problem(response, 502, "llm.rejected")
    assert API_KEY not in response.text
    assert "401" in body["detail"]


async def test_a_model_that_never_stops_calling_tools_is_stopped(
    client: httpx.AsyncClient, anna: Account, fake_model: FakeModel
) -> None:
    for n in range(4):
        fake_model.tool_calls(tool_call("list_tasks", {}, f"call_{n}"))
    response = await chat(client, anna, "loop forever")
    assert_problem(response, 502, "assistant.too_many_steps")


async def test_older_turns_reach_the_model_only_as_a_summary(
    client: httpx.AsyncClient, anna: Account, fake_model: FakeModel
) -> None:
    conversation_id = None
    for n in range(4):
        fake_model.says(f"reply {n}")
        extra = {"conversationId": conversation_id} if conversation_id else {}
        body = (await chat(client, anna, f"message {n}", **extra)).json()
        conversation_id = body["conversationId"]
    last = fake_model.requests[-1]["messages"]
    said = [(m["role"], m["content"]) for m in last if m["role"] in ("user", "assistant")]
    # Two turns whole (history_turns=2), then the new message; the oldest only summarised.
    assert said == [
        ("user", "message 1"),
        ("assistant", "reply 1"),
        ("user", "message 2"),
        ("assistant", "reply 2"),
        ("user", "message 3"),
    ]
    (system,) = [m["content"] for m in last if m["role"] == "system"]
    assert "message 0" in system
    assert "message 1" not in system


async def test_the_reply_streams_as_server_sent_events(
    client: httpx.AsyncClient, anna: Account, fake_model: FakeModel
) -> None:
    fake_model.stream("Nothing ", "pending.")
    response = await client.post(
        CHAT,
        json={"message": "what's pending?"},
        headers={**anna.headers, "Accept": "text/event-stream"},
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [
        (block.split("\n")[0].removeprefix("event: "), json.loads(block.split("\n")[1][6:]))
        for block in response.text.strip().split("\n\n")
    ]
    deltas = "".join(data["text"] for name, data in events if name == "delta")
    assert deltas == "Nothing pending."
    name, reply = events[-1]
    assert (name, reply["reply"], reply["model"]) == ("reply", "Nothing pending.", MODEL)


async def test_a_failure_while_streaming_is_an_error_event(
    client: httpx.AsyncClient, anna: Account, fake_model: FakeModel
) -> None:
    fake_model.fails(401, "no")
    response = await client.post(
        CHAT, json={"message": "hello"}, headers={**anna.headers, "Accept": "text/event-stream"}
    )
    assert response.status_code == 200  # the stream had begun; the problem is its last event
    (block,) = response.text.strip().split("\n\n")
    name, data = block.split("\n")
    assert name == "event: error"
    problem = json.loads(data.removeprefix("data: "))
    assert (problem["status"], problem["code"]) == (502, "llm.rejected")
    listed = await client.get("/api/v1/assistant/conversations", headers=anna.headers)
    assert listed.json()["items"] == []


async def test_concurrent_turns_each_call_tools_as_their_own_caller(
    committing: Committing, fake_model: FakeModel
) -> None:
    """The function tools are built once a process; each call still goes through the session
    of the turn it belongs to, so two people chatting at once never act for each other."""

    def answer(request: httpx.Request) -> httpx.Response:
        messages = json.loads(request.content)["messages"]
        if messages[-1]["role"] == "tool":
            return httpx.Response(200, json=completion("Done.", model=fake_model.served_model))
        title = messages[-1]["content"].removeprefix("add ")
        call = tool_call("add_task", {"title": title})
        return httpx.Response(
            200, json=completion(tool_calls=[call], model=fake_model.served_model)
        )

    fake_model.then(answer, times=None)
    client = committing.client
    people = {"anna": await committing.sign_up(), "bob": await committing.sign_up()}
    turns = [
        client.post(CHAT, json={"message": f"add {name} note {n}"}, headers=headers)
        for n in range(3)
        for name, headers in people.items()
    ]
    for response in await asyncio.gather(*turns):
        assert response.status_code == 200, response.text
    for name, headers in people.items():
        listed = await client.get("/api/v1/tasks?status=all", headers=headers)
        titles = sorted(task["title"] for task in listed.json()["items"])
        assert titles == [f"{name} note {n}" for n in range(3)]
