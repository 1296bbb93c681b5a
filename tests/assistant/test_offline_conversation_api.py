"""The assistant with no LLM key remembers the conversation as a person would: "it" is the task
it just acted on, list replies number the tasks and the numbers work in the next message, and
a new conversation starts with no memory."""

from __future__ import annotations

import httpx
import pytest

from tests.accounts import Account

pytestmark = pytest.mark.usefixtures("mcp_sessions")

CHAT = "/api/v1/assistant/chat"
TASKS = "/api/v1/tasks"


class Conversation:
    def __init__(self, client: httpx.AsyncClient, account: Account) -> None:
        self.client, self.account = client, account
        self.id: str | None = None

    async def say(self, message: str) -> str:
        body: dict[str, str] = {"message": message}
        if self.id is not None:
            body["conversationId"] = self.id
        response = await self.client.post(CHAT, json=body, headers=self.account.headers)
        assert response.status_code == 200, response.text
        self.id = response.json()["conversationId"]
        return str(response.json()["reply"])


async def tasks(client: httpx.AsyncClient, account: Account) -> dict[str, dict[str, object]]:
    listed = (await client.get(TASKS, headers=account.headers)).json()
    return {task["title"]: task for task in listed["items"]}


async def test_it_means_the_task_of_the_previous_message(
    client: httpx.AsyncClient, anna: Account
) -> None:
    chat = Conversation(client, anna)
    await chat.say("add book flights to Lisbon")

    reply = await chat.say("make it high priority")
    assert reply == '(offline mode) "book flights to Lisbon" is now high priority.'
    reply = await chat.say("add a note to it: window seat")
    assert (await tasks(client, anna))["book flights to Lisbon"]["description"] == "window seat"

    reply = await chat.say("delete it")

    assert reply == '(offline mode) Deleted "book flights to Lisbon".'
    assert await tasks(client, anna) == {}


async def test_the_numbers_of_a_list_work_in_the_next_message(
    client: httpx.AsyncClient, anna: Account
) -> None:
    chat = Conversation(client, anna)
    await chat.say("add these: buy milk; call Anna; water the plants")

    listed = await chat.say("what's pending?")
    assert listed == (
        '(offline mode) Pending (3): 1. "buy milk"; 2. "call Anna"; 3. "water the plants".'
    )
    assert await chat.say("complete 2") == '(offline mode) Marked "call Anna" as done.'
    assert await chat.say("delete the last one") == '(offline mode) Deleted "water the plants".'

    after = await tasks(client, anna)
    assert sorted(after) == ["buy milk", "call Anna"]
    assert after["call Anna"]["completed"] is True


async def test_a_new_conversation_remembers_nothing_and_changes_nothing(
    client: httpx.AsyncClient, anna: Account
) -> None:
    first = Conversation(client, anna)
    await first.say("add buy milk")
    await first.say("show my tasks")

    second = Conversation(client, anna)
    assert await second.say("delete it") == (
        '(offline mode) Which task do you mean by "it"? Nothing changed.'
    )
    reply = await second.say("complete 1")

    assert "no numbered list" in reply
    assert (await tasks(client, anna))["buy milk"]["completed"] is False


async def test_a_number_past_the_end_of_the_list_changes_nothing(
    client: httpx.AsyncClient, anna: Account
) -> None:
    chat = Conversation(client, anna)
    await chat.say("add buy milk")
    await chat.say("list my tasks")

    reply = await chat.say("delete 5")

    assert reply == (
        "(offline mode) The last list had 1 task, so there is no number 5. Nothing changed."
    )
    assert list(await tasks(client, anna)) == ["buy milk"]


async def test_a_task_id_names_the_task(client: httpx.AsyncClient, anna: Account) -> None:
    response = await client.post(TASKS, json={"title": "Pay rent"}, headers=anna.headers)
    task_id = response.json()["id"]

    reply = await Conversation(client, anna).say(f"mark {task_id} done")

    assert reply == '(offline mode) Marked "Pay rent" as done.'


async def test_a_language_offline_mode_does_not_read_gets_the_languages_it_does(
    client: httpx.AsyncClient, anna: Account
) -> None:
    reply = await Conversation(client, anna).say("Näytä tehtäväni, kiitos")

    assert "English, German, French, Spanish and Chinese" in reply
    assert await tasks(client, anna) == {}
