"""The assistant keeps nothing in a process: a conversation begun on one `paperworks serve` goes
on, with its history, on a second one sharing the database."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import start

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_conversation_continues_on_a_second_server(tmp_path: Path) -> None:
    # What scale-out shares: the database and the secret that signs access tokens.
    shared = {
        "PAPERWORKS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}",
        "PAPERWORKS_SECRET_KEY": "a-long-shared-secret-for-both-servers-0123456789",
    }
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = start(tmp_path / "a", env=shared)
    one = next(first)
    try:
        second = start(tmp_path / "b", env=shared)
        two = next(second)
        try:
            tokens = httpx.post(
                f"{one.url}/api/v1/auth/register",
                json={"email": "chat@example.com", "password": "correct horse battery"},
            ).json()
            headers = {"Authorization": f"Bearer {tokens['accessToken']}"}
            began = httpx.post(
                f"{one.url}/api/v1/assistant/chat",
                json={"message": "add buy milk"},
                headers=headers,
                timeout=30,
            )
            assert began.status_code == 200, began.text
            went_on = httpx.post(
                f"{two.url}/api/v1/assistant/chat",
                json={
                    "message": "what's pending?",
                    "conversationId": began.json()["conversationId"],
                },
                headers=headers,
                timeout=30,
            ).json()
            kept = httpx.get(
                f"{one.url}/api/v1/assistant/conversations/{began.json()['conversationId']}",
                headers=headers,
            ).json()
        finally:
            next(second, None)
    finally:
        next(first, None)

    assert went_on["conversationId"] == began.json()["conversationId"]
    assert "buy milk" in went_on["reply"].lower()
    assert [m["content"] for m in kept["messages"] if m["role"] == "user"] == [
        "add buy milk",
        "what's pending?",
    ]
