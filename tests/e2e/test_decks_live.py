"""The deck a user asks for, end to end: a real `paperworks serve` with no keys, the real
python-socketio client following the build live, and the .pptx downloaded by its signed link and
opened with python-pptx."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import socketio
from pptx import Presentation

from tests.e2e.servers import start

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PROMPT = (
    "A field guide to urban birds: pigeons and their homing, crows solving puzzles, sparrows in "
    "decline, feeding birds responsibly, and how to start counting birds from a balcony."
)


def test_a_deck_is_built_live_and_opens_in_python_pptx(tmp_path: Path) -> None:
    # One slot: a first, long deck keeps the runner busy while the client subscribes to the
    # second, so it hears that one from its first slide.
    server = start(tmp_path, env={"PAPERWORKS_JOB_SLOTS": "1"})
    api = next(server)
    try:
        tokens = httpx.post(
            f"{api.url}/api/v1/auth/register",
            json={"email": "decks@example.com", "password": "correct horse battery"},
        ).json()
        headers = {"Authorization": f"Bearer {tokens['accessToken']}"}
        heard, deck_id = asyncio.run(follow_a_build(api.url, tokens["accessToken"], headers))
    finally:
        next(server, None)

    progress = [data for name, data in heard if name == "slide:progress"]
    assert [p["slide"] for p in progress] == [1, 2, 3, 4, 5]
    assert all(p["deckId"] == deck_id and p["total"] == 5 for p in progress)
    (completed,) = [data for name, data in heard if name == "slide:completed"]
    assert [name for name, _ in heard][-1] == "job:completed"

    presentation = Presentation(io.BytesIO(completed["content"]))
    assert len(presentation.slides) == 5
    text = " ".join(
        shape.text_frame.text
        for slide in presentation.slides
        for shape in slide.shapes
        if shape.has_text_frame
    )
    assert "crows" in text.lower()


async def follow_a_build(
    url: str, token: str, headers: dict[str, str]
) -> tuple[list[tuple[str, Any]], str]:
    heard: list[tuple[str, Any]] = []
    done = asyncio.Event()
    client = socketio.AsyncClient(request_timeout=30)

    @client.on("*")
    async def record(event: str, data: Any) -> None:
        if event.startswith(("slide:", "job:")) and data.get("jobId") == followed.get("jobId"):
            heard.append((event, data))
        if event in ("job:completed", "job:failed") and data.get("jobId") == followed.get("jobId"):
            done.set()

    followed: dict[str, str] = {}
    await client.connect(url, auth={"token": token}, socketio_path="/ws/socket.io", wait_timeout=30)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        try:
            busy = await http.post(
                "/api/v1/slides/build", json={"prompt": PROMPT, "slideCount": 30}
            )
            assert busy.status_code == 202, busy.text
            response = await http.post(
                "/api/v1/slides/build", json={"prompt": PROMPT, "slideCount": 5}
            )
            assert response.status_code == 202, response.text
            followed.update(response.json())
            ack = await client.call("subscribe", {"jobId": followed["jobId"]}, timeout=5)
            assert ack["ok"], ack
            async with asyncio.timeout(60):
                await done.wait()
        finally:
            await client.disconnect()
        for name, data in heard:
            if name == "slide:completed":  # the signed link works without credentials
                # PUBLIC_URL is the default; this server listens on a port of its own.
                link = urlsplit(data["url"])
                download = await httpx.AsyncClient().get(f"{url}{link.path}?{link.query}")
                assert download.status_code == 200, download.text
                data["content"] = download.content
    return heard, followed["deckId"]
