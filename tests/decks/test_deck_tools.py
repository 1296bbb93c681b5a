"""Decks through MCP: an MCP client (the assistant, or any other) plans a deck, builds it as a job,
and gets its download link, as the caller; and the assistant does the same offline from plain
phrases."""

from __future__ import annotations

import io
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from pptx import Presentation

from paperworks.decks.offline_commands import DeckCommands, parse
from paperworks.jobs.models import JobStatus
from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database
from paperworks.mcp.offline import ToolFailed
from tests.accounts import Account
from tests.job_runs import run_next
from tests.mcp_sessions import McpClient, call, call_failing

TODAY = date(2026, 12, 3)
BRIEF = (
    "Urban birds.\nPigeons:\n- find their way home\n- live on scraps\n"
    "Crows:\n- solve puzzles\n- remember faces\nSparrows:\n- are fewer\n- nest in roofs"
)


async def downloaded_slides(client: httpx.AsyncClient, url: str) -> int:
    parts = urlsplit(url)
    response = await client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 200
    return len(Presentation(io.BytesIO(response.content)).slides)


async def test_the_deck_tools_are_listed_for_any_mcp_client(
    mcp_client: McpClient, anna: Account
) -> None:
    async with mcp_client(anna.headers) as mcp:
        tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}
    assert {"create_outline", "build_deck", "get_deck", "list_decks"} <= set(tools)
    assert tools["create_outline"].input_schema["required"] == ["prompt"]
    assert "slide_count" in tools["build_deck"].input_schema["properties"]


async def test_an_outline_becomes_a_draft_then_a_built_deck_with_a_link(
    mcp_client: McpClient,
    anna: Account,
    client: httpx.AsyncClient,
    db: Database,
    runner: LocalRunner,
) -> None:
    async with mcp_client(anna.headers) as mcp:
        draft = await call(mcp, "create_outline", prompt=BRIEF, slide_count=4)
        assert (draft["status"], draft["model"], len(draft["slides"])) == ("draft", "offline", 4)
        building = await call(mcp, "build_deck", deck_id=draft["id"])
        assert building["status"] == "building"
        assert building["jobId"]
        assert await run_next(db, runner) == JobStatus.succeeded
        ready = await call(mcp, "get_deck", deck_id=draft["id"])
        listed = await call(mcp, "list_decks")
    assert ready["status"] == "ready"
    assert await downloaded_slides(client, ready["downloadUrl"]) == 4
    assert listed["decks"][-1] == {
        "id": draft["id"],
        "title": draft["title"],
        "status": "ready",
        "createdAt": listed["decks"][-1]["createdAt"],
    }
    # The same deck through the REST API, in the caller's workspace.
    rest = await client.get(f"/api/v1/decks/{draft['id']}", headers=anna.headers)
    assert rest.json()["status"] == "ready"


async def test_a_deck_is_built_straight_from_a_prompt(
    mcp_client: McpClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    async with mcp_client(anna.headers) as mcp:
        building = await call(mcp, "build_deck", prompt=BRIEF, slide_count=3, include_images=False)
        assert await run_next(db, runner) == JobStatus.succeeded
        ready = await call(mcp, "get_deck", deck_id=building["id"])
    assert (ready["status"], len(ready["slides"])) == ("ready", 3)


async def test_deck_tool_mistakes_are_errors_a_model_can_read(
    mcp_client: McpClient, anna: Account, bob: Account
) -> None:
    async with mcp_client(anna.headers) as mcp:
        both = await call_failing(mcp, "build_deck", deck_id="x", prompt=BRIEF)
        assert "Give either deck_id" in both
        assert "Give either deck_id" in await call_failing(mcp, "build_deck")
        assert "slide_count" in await call_failing(
            mcp, "create_outline", prompt=BRIEF, slide_count=0
        )
        draft = await call(mcp, "create_outline", prompt=BRIEF, slide_count=2)
    async with mcp_client(bob.headers) as mcp:
        missing = await call_failing(mcp, "get_deck", deck_id=draft["id"])
    assert "deck.not_found" in missing  # another workspace's deck does not exist


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("make a 6-slide presentation about urban birds", ("_Build", "urban birds", 6)),
        (
            "Could you create me a slide deck on the history of tea?",
            ("_Build", "the history of tea", None),
        ),
        ("generate five slides about sourdough", ("_Build", "sourdough", 5)),
        (
            "can you build a powerpoint presentation on climate change",
            ("_Build", "climate change", None),
        ),
        ("outline a talk on tidal energy", ("_Outline", "tidal energy", None)),
        ("Make me a deck on composting at home, please!", ("_Build", "composting at home", None)),
        ("build my latest draft", ("_BuildDraft", None, None)),
        ("is my deck ready?", ("_Status", None, None)),
        ("show me my presentations", ("_Status", None, None)),
    ],
)
def test_deck_phrases_are_read(message: str, expected: tuple[str, str | None, int | None]) -> None:
    command = parse(message)
    assert command is not None
    kind, topic, slides = expected
    assert type(command).__name__ == kind
    assert getattr(command, "topic", None) == topic
    assert getattr(command, "slides", None) == slides


@pytest.mark.parametrize(
    "message",
    [
        "make buy milk high priority",  # a task's priority, not a deck
        "add prepare the slides to my list",
        "prepare the slides for Monday",  # when, not what about
        "delete the deck task",
        "hello",
    ],
)
def test_other_phrases_are_left_to_other_families(message: str) -> None:
    assert parse(message) is None


async def test_a_tool_error_becomes_a_line_not_an_exception() -> None:
    async def failing(name: str, arguments: dict[str, Any]) -> Any:
        raise ToolFailed("The model is unavailable (llm.unavailable)")

    answer = await DeckCommands().answer("make a deck about owls", failing, today=TODAY)
    assert answer is not None
    assert answer.reply == "That did not work: The model is unavailable (llm.unavailable)"
    assert [call.name for call in answer.tool_calls] == ["build_deck"]
    assert (
        await DeckCommands().answer(
            "make a 99-slide deck about owls",
            failing,
            today=__import__("datetime").date(2026, 12, 3),
        )
        is not None
    )


@pytest.mark.usefixtures("mcp_sessions")
async def test_the_assistant_makes_a_deck_offline_and_says_when_it_is_ready(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    async def chat(message: str) -> dict[str, Any]:
        response = await client.post(
            "/api/v1/assistant/chat", json={"message": message}, headers=anna.headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    started = await chat(
        "Make a 3 slide presentation about urban birds, please: pigeons, crows and sparrows"
    )
    assert started["model"] == "offline"
    assert [c["name"] for c in started["toolCalls"]] == ["build_deck"]
    assert "Building" in started["reply"]
    assert await run_next(db, runner) == JobStatus.succeeded
    ready = await chat("is my deck ready?")
    assert [c["name"] for c in ready["toolCalls"]] == ["list_decks", "get_deck"]
    url = ready["toolCalls"][-1]["result"]["downloadUrl"]
    assert url in ready["reply"]
    assert await downloaded_slides(client, url) == 3
