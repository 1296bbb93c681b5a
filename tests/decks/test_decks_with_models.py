"""Decks with keys: the model writes the plan and Runware paints the pictures (both faked with
respx at the HTTP layer the real clients use), pictures are kept and reused, and a model that
refuses the key fails the build with a reason, heard live."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from paperworks.events.hub import EventHub
from paperworks.jobs.models import JobStatus
from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database
from paperworks.settings import Settings
from tests.accounts import Account
from tests.conftest import make_settings
from tests.fake_model import (
    API_KEY,
    SERVED_MODEL,
    FakeImages,
    FakeModel,
    image_settings,
    model_settings,
    picture,
)
from tests.job_runs import run_next
from tests.problems import assert_problem

API = "/api/v1"

PLAN = {
    "title": "Tide pools",
    "slides": [
        {"index": 0, "layout": "title", "title": "Tide pools", "bullets": ["Life between tides"]},
        {
            "index": 1,
            "layout": "bullets_image",
            "title": "Who lives there",
            "bullets": ["Anemones", "Hermit crabs", "Sea stars"],
            "notes": "Point at each creature.",
            "imagePrompt": "a rocky tide pool with anemones, morning light",
        },
        {
            "index": 2,
            "layout": "closing",
            "title": "Thank you",
            "bullets": ["Questions?"],
            "notes": "Invite questions.",
        },
    ],
}


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(
        tmp_path / "data",
        database_url=database_url,
        **model_settings(),
        **image_settings(),
    )


async def test_the_model_plans_runware_paints_and_a_rebuild_reuses_the_picture(
    fake_model: FakeModel,
    fake_images: FakeImages,
    client: httpx.AsyncClient,
    db: Database,
    runner: LocalRunner,
    anna: Account,
) -> None:
    fake_model.answers(PLAN)
    fake_images.paints(picture(size=(1200, 800), colour=(20, 120, 160)))

    outline = await client.post(
        f"{API}/chat/generate", json={"prompt": "Tide pools", "slideCount": 3}, headers=anna.headers
    )
    assert outline.status_code == 200, outline.text
    assert outline.json()["model"] == SERVED_MODEL
    assert outline.json()["cached"] is False
    again = await client.post(
        f"{API}/chat/generate", json={"prompt": "Tide pools", "slideCount": 3}, headers=anna.headers
    )
    assert again.json()["cached"] is True
    assert fake_model.call_count == 1
    assert API_KEY not in outline.text

    accepted = await client.post(
        f"{API}/slides/build", json={"prompt": "Tide pools", "slideCount": 3}, headers=anna.headers
    )
    assert await run_next(db, runner) == JobStatus.succeeded
    deck_id = accepted.json()["deckId"]
    deck = (await client.get(f"{API}/decks/{deck_id}", headers=anna.headers)).json()
    assert deck["status"] == "ready"
    assert deck["model"] == SERVED_MODEL
    assert fake_images.runware.call_count == 1
    assert fake_images.download.call_count == 1
    images = await client.get(f"{API}/files", params={"purpose": "image"}, headers=anna.headers)
    (kept,) = images.json()["items"]
    assert kept["contentType"] == "image/png"

    # Another build of the same plan asks Runware for nothing: the picture was kept.
    rebuilt = await client.post(f"{API}/decks/{deck_id}/build", headers=anna.headers)
    assert rebuilt.status_code == 202
    assert await run_next(db, runner) == JobStatus.succeeded
    assert fake_images.runware.call_count == 1


async def test_a_model_that_refuses_the_key_fails_the_build_with_a_reason(
    fake_model: FakeModel,
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    runner: LocalRunner,
    anna: Account,
) -> None:
    fake_model.fails(401, f"bad key {API_KEY}", times=2)  # the outline, then the build
    outline = await client.post(
        f"{API}/chat/generate", json={"prompt": "Tide pools"}, headers=anna.headers
    )
    assert_problem(outline, 502, "llm.rejected")
    assert API_KEY not in outline.text

    accepted = (
        await client.post(
            f"{API}/slides/build", json={"prompt": "Tide pools"}, headers=anna.headers
        )
    ).json()
    hub: EventHub = app.state.services.hub
    with hub.subscribe(f"job:{accepted['jobId']}") as live:
        assert await run_next(db, runner) == JobStatus.failed
        heard = []
        while not live.empty():
            message = live.get_nowait()
            heard.append((message.name, message.data))
    (error,) = [data for name, data in heard if name == "error"]
    assert error["deckId"] == accepted["deckId"]
    assert API_KEY not in error["message"]
    deck = (await client.get(f"{API}/decks/{accepted['deckId']}", headers=anna.headers)).json()
    assert deck["status"] == "failed"
    assert deck["error"] == error["message"]
