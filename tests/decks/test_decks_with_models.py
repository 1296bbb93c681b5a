"""Decks with keys: the model writes the plan and Runware paints the pictures (both faked with
respx at the HTTP layer the real clients use), pictures are kept and reused, and a model that
refuses the key fails the build with a reason, heard live."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI
from PIL import Image
from prometheus_client import CollectorRegistry

from paperworks.events.hub import EventHub
from paperworks.jobs import service as jobs
from paperworks.jobs.metrics import JobMetrics
from paperworks.jobs.models import JobStatus
from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database
from paperworks.settings import Settings
from tests.accounts import Account
from tests.conftest import make_settings
from tests.problems import assert_problem

API = "/api/v1"
LLM = "https://llm.test/v1"
RUNWARE = "https://runware.test/v1"
PICTURE_URL = "https://images.runware.test/picture.png"

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
        llm_base_url=LLM,
        llm_api_key="sk-model-secret",
        llm_model="test/planner",
        runware_api_key="rw-secret",
        runware_url=RUNWARE,
    )


@pytest.fixture
def runner(db: Database, app: FastAPI) -> LocalRunner:
    """The app's services, run by a runner the test drives one job at a time."""
    metrics = JobMetrics(CollectorRegistry())
    services = app.state.services
    return LocalRunner(
        db,
        slots=1,
        lease_seconds=30,
        metrics=metrics,
        handlers=services.handlers,
        services=services,
    )


def completion(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "test/planner",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
    }


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 120, 160)).save(out, "PNG")
    return out.getvalue()


def runware_answer(request: httpx.Request) -> httpx.Response:
    tasks = json.loads(request.content)
    (inference,) = [task for task in tasks if task["taskType"] == "imageInference"]
    data = [
        {"taskType": "imageInference", "taskUUID": inference["taskUUID"], "imageURL": PICTURE_URL}
    ]
    return httpx.Response(200, json={"data": data})


async def run_next(db: Database, runner: LocalRunner) -> JobStatus:
    async with db.session_scope() as session:
        job = await jobs.claim_next(session, lease=timedelta(seconds=30))
    assert job is not None
    return await runner.run(job)


@respx.mock(assert_all_called=False)
async def test_the_model_plans_runware_paints_and_a_rebuild_reuses_the_picture(
    respx_mock: respx.MockRouter,
    client: httpx.AsyncClient,
    db: Database,
    runner: LocalRunner,
    anna: Account,
) -> None:
    model = respx_mock.post(f"{LLM}/chat/completions").respond(json=completion(json.dumps(PLAN)))
    painter = respx_mock.post(RUNWARE).mock(side_effect=runware_answer)
    picture = respx_mock.get(PICTURE_URL).respond(
        content=png(1200, 800), headers={"content-type": "image/png"}
    )

    outline = await client.post(
        f"{API}/chat/generate", json={"prompt": "Tide pools", "slideCount": 3}, headers=anna.headers
    )
    assert outline.status_code == 200, outline.text
    assert outline.json()["model"] == "test/planner"
    assert outline.json()["cached"] is False
    again = await client.post(
        f"{API}/chat/generate", json={"prompt": "Tide pools", "slideCount": 3}, headers=anna.headers
    )
    assert again.json()["cached"] is True
    assert model.call_count == 1
    assert "sk-model-secret" not in outline.text

    accepted = await client.post(
        f"{API}/slides/build", json={"prompt": "Tide pools", "slideCount": 3}, headers=anna.headers
    )
    assert await run_next(db, runner) == JobStatus.succeeded
    deck_id = accepted.json()["deckId"]
    deck = (await client.get(f"{API}/decks/{deck_id}", headers=anna.headers)).json()
    assert deck["status"] == "ready"
    assert deck["model"] == "test/planner"
    assert painter.call_count == 1
    assert picture.call_count == 1
    images = await client.get(f"{API}/files", params={"purpose": "image"}, headers=anna.headers)
    (kept,) = images.json()["items"]
    assert kept["contentType"] == "image/png"

    # Another build of the same plan asks Runware for nothing: the picture was kept.
    rebuilt = await client.post(f"{API}/decks/{deck_id}/build", headers=anna.headers)
    assert rebuilt.status_code == 202
    assert await run_next(db, runner) == JobStatus.succeeded
    assert painter.call_count == 1


@respx.mock(assert_all_called=False)
async def test_a_model_that_refuses_the_key_fails_the_build_with_a_reason(
    respx_mock: respx.MockRouter,
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    runner: LocalRunner,
    anna: Account,
) -> None:
    respx_mock.post(f"{LLM}/chat/completions").respond(
        401, json={"error": {"message": "bad key sk-model-secret"}}
    )
    outline = await client.post(
        f"{API}/chat/generate", json={"prompt": "Tide pools"}, headers=anna.headers
    )
    assert_problem(outline, 502, "llm.rejected")
    assert "sk-model-secret" not in outline.text

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
    assert "sk-model-secret" not in error["message"]
    deck = (await client.get(f"{API}/decks/{accepted['deckId']}", headers=anna.headers)).json()
    assert deck["status"] == "failed"
    assert deck["error"] == error["message"]
