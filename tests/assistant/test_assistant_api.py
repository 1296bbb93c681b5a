"""The assistant with no LLM key: the offline engine carries out plain commands through the same
MCP tools, and conversations are kept, listed, read and deleted per user."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from paperworks.mcp.server import McpEndpoint
from tests.accounts import Account
from tests.problems import assert_problem

pytestmark = pytest.mark.usefixtures("mcp_sessions")

CHAT = "/api/v1/assistant/chat"
CONVERSATIONS = "/api/v1/assistant/conversations"


async def chat(
    client: httpx.AsyncClient, account: Account, message: str, **extra: Any
) -> dict[str, Any]:
    response = await client.post(CHAT, json={"message": message, **extra}, headers=account.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_add_then_show_whats_pending_offline(
    client: httpx.AsyncClient, anna: Account
) -> None:
    body = await chat(client, anna, "add buy milk, then show me what's pending")
    assert body["model"] == "offline"
    assert "offline" in body["reply"].lower()
    assert "buy milk" in body["reply"].lower()
    assert [call["name"] for call in body["toolCalls"]] == ["add_task", "list_tasks"]
    listed = (await client.get("/api/v1/tasks?status=pending", headers=anna.headers)).json()
    assert [task["title"].lower() for task in listed["items"]] == ["buy milk"]


async def test_the_assistants_tools_are_called_in_process_not_over_http(
    client: httpx.AsyncClient, anna: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A turn's tool calls go straight to the tools as the caller: no request through `/mcp`
    (its middleware, a second authentication, the caller's rate budget)."""
    over_http: list[str] = []
    endpoint = McpEndpoint.__call__

    async def counted(self: McpEndpoint, scope: Any, receive: Any, send: Any) -> None:
        over_http.append(scope["path"])
        await endpoint(self, scope, receive, send)

    monkeypatch.setattr(McpEndpoint, "__call__", counted)
    body = await chat(client, anna, "add water the plants")
    assert [call["name"] for call in body["toolCalls"]] == ["add_task"]
    assert over_http == []
    listed = (await client.get("/api/v1/tasks", headers=anna.headers)).json()
    assert [task["title"].lower() for task in listed["items"]] == ["water the plants"]


async def test_a_conversation_continues_and_is_kept_in_order(
    client: httpx.AsyncClient, anna: Account
) -> None:
    first = await chat(client, anna, "add call Anna tomorrow, high priority")
    conversation_id = first["conversationId"]
    second = await chat(client, anna, "mark call anna done", conversationId=conversation_id)
    assert second["conversationId"] == conversation_id
    assert [call["name"] for call in second["toolCalls"]][-1] == "complete_task"

    kept = (await client.get(f"{CONVERSATIONS}/{conversation_id}", headers=anna.headers)).json()
    assert kept["title"] == "add call Anna tomorrow, high priority"
    assert [m["role"] for m in kept["messages"]] == ["user", "assistant", "user", "assistant"]
    assert kept["messages"][2]["content"] == "mark call anna done"
    assert kept["messages"][1]["toolCalls"][0]["name"] == "add_task"

    listed = (await client.get(CONVERSATIONS, headers=anna.headers)).json()
    assert [c["id"] for c in listed["items"]] == [conversation_id]
    assert listed["nextCursor"] is None


async def test_another_users_conversation_is_not_found(
    client: httpx.AsyncClient, anna: Account, bob: Account
) -> None:
    conversation_id = (await chat(client, anna, "what's pending?"))["conversationId"]
    for response in (
        await client.get(f"{CONVERSATIONS}/{conversation_id}", headers=bob.headers),
        await client.delete(f"{CONVERSATIONS}/{conversation_id}", headers=bob.headers),
        await client.post(
            CHAT,
            json={"message": "add steal it", "conversationId": conversation_id},
            headers=bob.headers,
        ),
    ):
        assert_problem(response, 404, "assistant.conversation_not_found")
    assert (await client.get(CONVERSATIONS, headers=bob.headers)).json()["items"] == []
    # Bob's own commands never touch Anna's tasks.
    await chat(client, anna, "add anna's secret")
    bob_says = await chat(client, bob, "delete anna's secret")
    assert all(call["name"] != "delete_task" for call in bob_says["toolCalls"])
    titles = [
        t["title"]
        for t in (await client.get("/api/v1/tasks", headers=anna.headers)).json()["items"]
    ]
    assert titles == ["anna's secret"]


async def test_deleting_a_conversation(client: httpx.AsyncClient, anna: Account) -> None:
    conversation_id = (await chat(client, anna, "what's pending?"))["conversationId"]
    deleted = await client.delete(f"{CONVERSATIONS}/{conversation_id}", headers=anna.headers)
    assert deleted.status_code == 204
    gone = await client.get(f"{CONVERSATIONS}/{conversation_id}", headers=anna.headers)
    assert_problem(gone, 404, "assistant.conversation_not_found")


@pytest.mark.parametrize(
    "body",
    [{}, {"message": ""}, {"message": "   "}, {"message": "x" * 4001}, {"message": 3}],
)
async def test_bad_chat_requests_are_422(
    client: httpx.AsyncClient, anna: Account, body: dict[str, Any]
) -> None:
    response = await client.post(CHAT, json=body, headers=anna.headers)
    assert_problem(response, 422, "request.validation_failed")


async def test_chat_needs_credentials(client: httpx.AsyncClient) -> None:
    response = await client.post(CHAT, json={"message": "hello"})
    assert_problem(response, 401, "auth.unauthenticated")


async def test_an_api_key_chats_in_its_workspace(client: httpx.AsyncClient, anna: Account) -> None:
    key = (
        await client.post("/api/v1/api-keys", json={"name": "bot"}, headers=anna.headers)
    ).json()["key"]
    response = await client.post(
        CHAT, json={"message": "add water the plants"}, headers={"X-API-Key": key}
    )
    assert response.status_code == 200, response.text
    listed = (await client.get("/api/v1/tasks", headers=anna.headers)).json()
    assert [task["title"] for task in listed["items"]] == ["water the plants"]


async def test_the_offline_reply_streams_too(client: httpx.AsyncClient, anna: Account) -> None:
    response = await client.post(
        CHAT,
        json={"message": "add buy bread"},
        headers={**anna.headers, "Accept": "text/event-stream"},
    )
    blocks = response.text.strip().split("\n\n")
    events = [(b.split("\n")[0][7:], json.loads(b.split("\n")[1][6:])) for b in blocks]
    assert [name for name, _ in events] == ["delta", "reply"]
    assert events[1][1]["reply"] == events[0][1]["text"]
    assert events[1][1]["toolCalls"][0]["name"] == "add_task"


async def test_a_missing_conversation_is_a_404_before_any_tool_runs(
    client: httpx.AsyncClient, anna: Account
) -> None:
    response = await client.post(
        CHAT,
        json={"message": "add buy milk", "conversationId": "01NOSUCHCONVERSATION000000"},
        headers={**anna.headers, "Accept": "text/event-stream"},
    )
    assert_problem(response, 404, "assistant.conversation_not_found")
    assert (await client.get("/api/v1/tasks", headers=anna.headers)).json()["items"] == []


async def test_a_long_first_message_names_the_conversation_cut_at_a_word(
    client: httpx.AsyncClient, anna: Account
) -> None:
    message = "add " + " ".join(["something"] * 30)
    body = await chat(client, anna, message)
    kept = await client.get(f"{CONVERSATIONS}/{body['conversationId']}", headers=anna.headers)
    title = kept.json()["title"]
    assert title.endswith("…")
    assert len(title) <= 81
    assert message.startswith(title.removesuffix("…"))
