"""Text a client sends, on every product's routes: control characters (but tab, newline and
carriage return) are a 422, on SQLite and PostgreSQL alike, never a 500 or a failed job later.

U+001C-U+001F are the trap: Python's `str.strip()` removes them, Pydantic's `strip_whitespace`
keeps them, so a prompt of them passed as not blank and broke the planner. NUL was stored by
SQLite and refused by PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.accounts import Account
from tests.problems import assert_problem

API = "/api/v1"
SLIDE = {"index": 0, "layout": "title", "title": "Hello", "bullets": ["a subtitle"]}

# (path, body with {bad} where the bad text goes, the field the 422 names)
ROUTES = [
    ("/chat/generate", {"prompt": "{bad}"}, "prompt"),
    ("/slides/build", {"prompt": "{bad}"}, "prompt"),
    ("/slides/build", {"slidePlan": [SLIDE], "title": "{bad}"}, "title"),
    ("/slides/build", {"slidePlan": [{**SLIDE, "bullets": ["{bad}"]}]}, "slidePlan.0.bullets.0"),
    ("/assistant/chat", {"message": "{bad}"}, "message"),
    ("/tasks", {"title": "{bad}"}, "title"),
    ("/tasks", {"title": "Buy milk", "description": "{bad}"}, "description"),
    ("/books", {"name": "{bad}"}, "name"),
    ("/customers", {"name": "{bad}"}, "name"),
    ("/workspaces", {"name": "{bad}"}, "name"),
    ("/api-keys", {"name": "{bad}"}, "name"),
    ("/configurations", {"name": "{bad}"}, "name"),
    ("/configurations", {"name": "Statements", "description": "{bad}"}, "description"),
    (
        "/configurations",
        {"name": "Statements", "settings": {"columns": [{"name": "{bad}"}]}},
        "settings.columns.0.name",
    ),
    (
        "/configurations",
        {"name": "Statements", "settings": {"columns": [{"name": "Amount", "aliases": ["{bad}"]}]}},
        "settings.columns.0.aliases.0",
    ),
]
# Blank to Python, not to Pydantic; a NUL inside words; an escape inside words.
BAD = ["\u001f", "\u001c\u001d\u001e", "milk\u0000", "bu\u001by"]


def _filled(body: dict[str, Any], bad: str) -> dict[str, Any]:
    def fill(value: Any) -> Any:
        if value == "{bad}":
            return bad
        if isinstance(value, dict):
            return {key: fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [fill(item) for item in value]
        return value

    filled: dict[str, Any] = fill(body)
    return filled


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize(("path", "body", "field"), ROUTES)
async def test_control_characters_are_a_422_wherever_text_is_taken(
    client: httpx.AsyncClient,
    anna: Account,
    path: str,
    body: dict[str, Any],
    field: str,
    bad: str,
) -> None:
    response = await client.post(f"{API}{path}", json=_filled(body, bad), headers=anna.headers)

    problem = assert_problem(response, 422, "request.validation_failed")
    assert [error["field"] for error in problem["errors"]] == [field]


async def test_a_refused_build_leaves_no_deck_and_no_job(
    client: httpx.AsyncClient, anna: Account
) -> None:
    response = await client.post(
        f"{API}/slides/build", json={"prompt": "\u001f"}, headers=anna.headers
    )

    assert_problem(response, 422, "request.validation_failed")
    decks = await client.get(f"{API}/decks", headers=anna.headers)
    jobs = await client.get(f"{API}/jobs", headers=anna.headers)
    assert decks.json()["items"] == []
    assert jobs.json()["items"] == []


async def test_tabs_and_line_breaks_are_text_and_python_whitespace_is_stripped(
    client: httpx.AsyncClient, anna: Account
) -> None:
    response = await client.post(
        f"{API}/tasks",
        json={"title": "\u3000Buy milk\u00a0", "description": "two:\r\n\t- oat\n\t- whole"},
        headers=anna.headers,
    )

    assert response.status_code == 201, response.text
    task = response.json()
    assert task["title"] == "Buy milk"
    assert task["description"] == "two:\r\n\t- oat\n\t- whole"
