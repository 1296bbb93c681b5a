"""Decks through the API, offline (no LLM or image keys): plan, build as a job, follow it live,
download the .pptx by its signed link, edit the plan, regenerate a slide, and the 4xx cases."""

from __future__ import annotations

import asyncio
import io
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from sqlalchemy import event

from paperworks.events.hub import EventHub, LiveMessage
from paperworks.jobs.models import JobStatus
from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database
from tests.accounts import Account
from tests.committing import Committing
from tests.job_runs import run_next
from tests.problems import assert_problem

API = "/api/v1"
PROMPT = (
    "Quarterly review of our bakery chain: sales grew in the north, sourdough is the best "
    "seller, two new shops open in spring, staff training, and the delivery van problems."
)


def heard(queue: asyncio.Queue[LiveMessage]) -> list[tuple[str, dict[str, Any]]]:
    messages = []
    while not queue.empty():
        message = queue.get_nowait()
        messages.append((message.name, message.data))
    return messages


async def build(client: httpx.AsyncClient, who: Account, **body: Any) -> dict[str, Any]:
    response = await client.post(f"{API}/slides/build", json=body, headers=who.headers)
    assert response.status_code == 202, response.text
    accepted: dict[str, Any] = response.json()
    return accepted


async def deck(client: httpx.AsyncClient, who: Account, deck_id: str) -> dict[str, Any]:
    response = await client.get(f"{API}/decks/{deck_id}", headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def download(client: httpx.AsyncClient, url: str) -> Any:
    """Follow a signed link without credentials and open what it gives as a presentation."""
    parts = urlsplit(url)
    response = await client.get(f"{parts.path}?{parts.query}" if parts.query else parts.path)
    assert response.status_code == 200, response.text
    return Presentation(io.BytesIO(response.content))


def slide_texts(presentation: Any) -> list[str]:
    return [
        " ".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame)
        for slide in presentation.slides
    ]


# --- outlines ---------------------------------------------------------------------------------


async def test_an_outline_offline_has_at_most_the_asked_number_of_slides(
    client: httpx.AsyncClient, anna: Account
) -> None:
    response = await client.post(
        f"{API}/chat/generate", json={"prompt": PROMPT, "slideCount": 7}, headers=anna.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == "offline"
    assert body["cached"] is False
    # As many as the prompt has material for (see offline_planner), never more than asked.
    assert 4 <= len(body["slidePlan"]) <= 7
    assert [slide["index"] for slide in body["slidePlan"]] == list(range(len(body["slidePlan"])))
    assert body["slidePlan"][0]["layout"] == "title"
    assert body["slidePlan"][-1]["layout"] == "closing"
    assert all(slide["notes"] for slide in body["slidePlan"])
    assert "sourdough" in str(body["slidePlan"]).lower()


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": ""},
        {"prompt": "  \n  "},
        {"prompt": "x", "slideCount": 0},
        {"prompt": "x", "slideCount": 31},
        # Not integers, though Pydantic's lax mode took them for 1 and 5.
        {"prompt": "x", "slideCount": True},
        {"prompt": "x", "slideCount": "5"},
        {},
    ],
)
async def test_a_bad_outline_request_is_a_422(
    client: httpx.AsyncClient, anna: Account, body: dict[str, Any]
) -> None:
    response = await client.post(f"{API}/chat/generate", json=body, headers=anna.headers)
    assert_problem(response, 422, "request.validation_failed")


async def test_a_pasted_document_of_20000_characters_is_planned_and_one_longer_is_a_422(
    client: httpx.AsyncClient, anna: Account
) -> None:
    paragraph = (
        "The release moved to March 3 because the payment provider needs 2 more weeks. "
        "We decided to keep the beta open for 40 customers. "
        "Jonas will send the migration guide by Friday.\n\n"
    )
    document = (paragraph * 200)[:20_000]
    response = await client.post(
        f"{API}/chat/generate", json={"prompt": document, "slideCount": 8}, headers=anna.headers
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["slidePlan"]) == 8
    response = await client.post(
        f"{API}/chat/generate", json={"prompt": document + "x"}, headers=anna.headers
    )
    assert_problem(response, 422, "request.validation_failed")


async def test_outlines_need_credentials(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/chat/generate", json={"prompt": PROMPT})
    assert response.status_code == 401


# --- building ---------------------------------------------------------------------------------


async def test_a_deck_built_from_a_prompt_is_heard_live_and_downloads_as_a_pptx(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, hub: EventHub, anna: Account
) -> None:
    accepted = await build(client, anna, prompt=PROMPT, slideCount=5, theme="midnight")
    assert (await deck(client, anna, accepted["deckId"]))["status"] == "building"

    with hub.subscribe(f"job:{accepted['jobId']}") as live:
        assert await run_next(db, runner) == JobStatus.succeeded
        messages = heard(live)

    progress = [data for name, data in messages if name == "slide:progress"]
    assert [p["slide"] for p in progress] == [1, 2, 3, 4, 5]
    assert {p["total"] for p in progress} == {5}
    assert [p["progress"] for p in progress] == sorted(p["progress"] for p in progress)
    assert all(p["deckId"] == accepted["deckId"] for p in progress)
    (completed,) = [data for name, data in messages if name == "slide:completed"]

    built = await deck(client, anna, accepted["deckId"])
    assert built["status"] == "ready"
    assert built["model"] == "offline"
    assert built["theme"] == "midnight"
    assert len(built["slidePlan"]) == 5
    assert completed["fileId"] == built["fileId"]
    presentation = await download(client, completed["url"])
    assert len(presentation.slides) >= 5
    assert "sourdough" in " ".join(slide_texts(presentation)).lower()
    assert all(
        slide.has_notes_slide and slide.notes_slide.notes_text_frame.text
        for slide in presentation.slides
    )
    assert len((await download(client, built["downloadUrl"])).slides) == len(presentation.slides)
    # Offline, a picture is a placeholder showing the slide's title: the title describes it.
    pictures = [
        (slide.shapes.title.text_frame.text, shape._element.nvPicPr.cNvPr.get("descr"))
        for slide in presentation.slides
        for shape in slide.shapes
        if shape.shape_type == MSO_SHAPE_TYPE.PICTURE
    ]
    assert pictures
    assert all(alt == title for title, alt in pictures)

    events = await client.get(
        f"{API}/events",
        params={"resourceType": "deck", "resourceId": accepted["deckId"]},
        headers=anna.headers,
    )
    assert [e["type"] for e in events.json()["items"]] == [
        "deck.created",
        "deck.build_started",
        "deck.built",
    ]


async def test_a_deck_from_a_plan_keeps_it_and_a_plan_edit_rebuilds_a_new_file(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, anna: Account
) -> None:
    outline = (
        await client.post(
            f"{API}/chat/generate", json={"prompt": PROMPT, "slideCount": 4}, headers=anna.headers
        )
    ).json()
    accepted = await build(client, anna, slidePlan=outline["slidePlan"], title="Bakery Q3")
    await run_next(db, runner)
    first = await deck(client, anna, accepted["deckId"])
    assert first["title"] == "Bakery Q3"
    assert first["slidePlan"] == outline["slidePlan"]

    plan = first["slidePlan"]
    plan[1] = {**plan[1], "title": "What changed since spring", "bullets": ["New ovens"]}
    edited = await client.put(
        f"{API}/decks/{accepted['deckId']}/plan",
        json={"slidePlan": plan, "theme": "paper"},
        headers=anna.headers,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["status"] == "draft"
    assert edited.json()["theme"] == "paper"

    rebuilt = await client.post(f"{API}/decks/{accepted['deckId']}/build", headers=anna.headers)
    assert rebuilt.status_code == 202, rebuilt.text
    await run_next(db, runner)
    second = await deck(client, anna, accepted["deckId"])
    assert second["status"] == "ready"
    assert second["fileId"] != first["fileId"]
    presentation = await download(client, second["downloadUrl"])
    assert "What changed since spring" in " ".join(slide_texts(presentation))
    # The first build's file is gone: a deck keeps one file.
    old = await client.get(f"{API}/files/{first['fileId']}", headers=anna.headers)
    assert_problem(old, 404, "file.not_found")


async def test_the_deck_list_costs_the_same_queries_for_one_deck_or_many(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, anna: Account
) -> None:
    """Each built deck links a file and a signed download URL: found in one query, not one per
    deck (the list was N+1)."""
    slides = [{"index": 0, "layout": "title", "title": "One"}]

    async def built_decks_listed(count: int) -> int:
        for _ in range(count):
            await build(client, anna, slidePlan=slides, includeImages=False)
            assert await run_next(db, runner) == JobStatus.succeeded
        statements: list[str] = []

        def seen(*args: Any) -> None:
            statements.append(args[2])

        event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
        try:
            listed = await client.get(f"{API}/decks", headers=anna.headers)
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
        assert all(item["downloadUrl"] for item in listed.json()["items"])
        return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])

    with_one = await built_decks_listed(1)
    with_four = await built_decks_listed(3)
    assert with_four == with_one


async def test_regenerating_one_slide_changes_that_slide_only(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, anna: Account
) -> None:
    accepted = await build(client, anna, prompt=PROMPT, slideCount=5)
    await run_next(db, runner)
    before = (await deck(client, anna, accepted["deckId"]))["slidePlan"]

    response = await client.post(
        f"{API}/decks/{accepted['deckId']}/slides/2/regenerate",
        json={"instruction": "shorter"},
        headers=anna.headers,
    )
    assert response.status_code == 202, response.text
    assert await run_next(db, runner) == JobStatus.succeeded
    after = (await deck(client, anna, accepted["deckId"]))["slidePlan"]
    assert after[:2] == before[:2]
    assert after[3:] == before[3:]
    assert after[2] != before[2]
    assert after[2]["index"] == 2


async def test_a_busy_deck_refuses_edits_and_another_build(
    client: httpx.AsyncClient, anna: Account
) -> None:
    accepted = await build(client, anna, prompt=PROMPT)
    deck_id = accepted["deckId"]
    plan = [{"index": 0, "layout": "title", "title": "Hello"}]
    edit = await client.put(
        f"{API}/decks/{deck_id}/plan", json={"slidePlan": plan}, headers=anna.headers
    )
    assert_problem(edit, 409, "deck.building")
    again = await client.post(f"{API}/decks/{deck_id}/build", headers=anna.headers)
    assert_problem(again, 409, "deck.building")
    deleted = await client.delete(f"{API}/decks/{deck_id}", headers=anna.headers)
    assert_problem(deleted, 409, "deck.building")


async def test_a_cancelled_build_leaves_a_failed_deck_that_can_be_built_again(
    client: httpx.AsyncClient, anna: Account
) -> None:
    accepted = await build(client, anna, prompt=PROMPT)
    cancelled = await client.post(f"{API}/jobs/{accepted['jobId']}/cancel", headers=anna.headers)
    assert cancelled.status_code == 202
    assert (await deck(client, anna, accepted["deckId"]))["status"] == "failed"
    again = await client.post(f"{API}/decks/{accepted['deckId']}/build", headers=anna.headers)
    assert again.status_code == 202, again.text


async def test_the_same_idempotency_key_gives_the_same_deck_and_job(
    client: httpx.AsyncClient, anna: Account
) -> None:
    headers = {**anna.headers, "Idempotency-Key": "deck-build-1"}
    first = await client.post(f"{API}/slides/build", json={"prompt": PROMPT}, headers=headers)
    second = await client.post(f"{API}/slides/build", json={"prompt": PROMPT}, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    decks = await client.get(f"{API}/decks", headers=anna.headers)
    assert [d["id"] for d in decks.json()["items"]] == [first.json()["deckId"]]


async def idle_deck(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, who: Account
) -> str:
    """A deck built once from a plan, ready to be built again."""
    plan = [{"index": 0, "layout": "title", "title": "Hello"}]
    accepted = await build(client, who, slidePlan=plan)
    assert await run_next(db, runner) == JobStatus.succeeded
    deck_id: str = accepted["deckId"]
    return deck_id


async def test_a_key_used_on_one_deck_is_a_new_request_on_another(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, anna: Account
) -> None:
    first, second = [await idle_deck(client, db, runner, anna) for _ in range(2)]
    headers = {**anna.headers, "Idempotency-Key": "rebuild-1"}
    jobs = []
    for deck_id in (first, second):
        response = await client.post(f"{API}/decks/{deck_id}/build", headers=headers)
        assert response.status_code == 202, response.text
        assert response.json()["deckId"] == deck_id
        jobs.append(response.json()["jobId"])
    assert jobs[0] != jobs[1]
    assert await run_next(db, runner) == JobStatus.succeeded
    assert await run_next(db, runner) == JobStatus.succeeded
    for deck_id, job_id in zip((first, second), jobs, strict=True):
        shown = await deck(client, anna, deck_id)
        assert (shown["status"], shown["jobId"]) == ("ready", job_id)


async def test_a_repeat_gets_its_job_back_but_a_fresh_key_on_a_busy_deck_is_a_409(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, anna: Account
) -> None:
    deck_id = await idle_deck(client, db, runner, anna)
    path = f"{API}/decks/{deck_id}/build"
    first = await client.post(path, headers={**anna.headers, "Idempotency-Key": "k1"})
    repeat = await client.post(path, headers={**anna.headers, "Idempotency-Key": "k1"})
    assert first.status_code == repeat.status_code == 202
    assert repeat.json() == first.json()
    fresh = await client.post(path, headers={**anna.headers, "Idempotency-Key": "k2"})
    assert_problem(fresh, 409, "deck.building")
    regenerate = await client.post(
        f"{API}/decks/{deck_id}/slides/0/regenerate",
        json={},
        headers={**anna.headers, "Idempotency-Key": "k1"},  # another route: another request
    )
    assert_problem(regenerate, 409, "deck.building")
    assert await run_next(db, runner) == JobStatus.succeeded
    assert (await deck(client, anna, deck_id))["jobId"] == first.json()["jobId"]


async def test_concurrent_rebuilds_of_one_deck_start_one_build(
    committing: Committing,
) -> None:
    client, headers = committing.client, await committing.sign_up()
    plan = [{"index": 0, "layout": "title", "title": "Hello"}]
    accepted = await client.post(f"{API}/slides/build", json={"slidePlan": plan}, headers=headers)
    assert accepted.status_code == 202, accepted.text
    cancel = await client.post(f"{API}/jobs/{accepted.json()['jobId']}/cancel", headers=headers)
    assert cancel.status_code == 202, cancel.text  # the deck is idle again (its build failed)
    path = f"{API}/decks/{accepted.json()['deckId']}/build"
    keys: list[dict[str, str]] = [{}, {"Idempotency-Key": "a"}, {"Idempotency-Key": "b"}]
    for _ in range(2):  # without and with keys: one build starts, the others are told it runs
        responses = await asyncio.gather(
            *(client.post(path, headers={**headers, **key}) for key in keys)
        )
        assert sorted(r.status_code for r in responses) == [202, 409, 409], [
            r.text for r in responses
        ]
        for response in responses:
            if response.status_code == 409:
                assert_problem(response, 409, "deck.building")
        (started,) = [r.json()["jobId"] for r in responses if r.status_code == 202]
        listed = await client.get(f"{API}/jobs", params={"status": "queued"}, headers=headers)
        assert [job["id"] for job in listed.json()["items"]] == [started]
        cancel = await client.post(f"{API}/jobs/{started}/cancel", headers=headers)
        assert cancel.status_code == 202, cancel.text
        keys = [{"Idempotency-Key": f"{k}-again"} for k in "xyz"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"prompt": PROMPT, "theme": "comic-sans"}, "deck.unknown_theme"),
        ({}, "request.validation_failed"),
        ({"prompt": "   "}, "request.validation_failed"),
        (
            {"prompt": PROMPT, "slidePlan": [{"index": 0, "title": "x"}]},
            "request.validation_failed",
        ),
        ({"slidePlan": []}, "request.validation_failed"),
        ({"slidePlan": [{"index": 0, "title": ""}]}, "request.validation_failed"),
        (
            {"slidePlan": [{"index": 0, "title": "x", "layout": "hologram"}]},
            "request.validation_failed",
        ),
        # `false` is no slide 0: it was taken for one.
        ({"slidePlan": [{"index": False, "title": "x"}]}, "request.validation_failed"),
        ({"prompt": PROMPT, "includeImages": "no"}, "request.validation_failed"),
    ],
)
async def test_a_bad_build_request_is_a_422_and_makes_no_deck(
    client: httpx.AsyncClient, anna: Account, body: dict[str, Any], code: str
) -> None:
    response = await client.post(f"{API}/slides/build", json=body, headers=anna.headers)
    assert_problem(response, 422, code)
    assert (await client.get(f"{API}/decks", headers=anna.headers)).json()["items"] == []


async def test_regenerating_a_slide_that_is_not_there_is_a_404(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, anna: Account
) -> None:
    accepted = await build(client, anna, prompt=PROMPT, slideCount=3)
    await run_next(db, runner)
    response = await client.post(
        f"{API}/decks/{accepted['deckId']}/slides/3/regenerate", json={}, headers=anna.headers
    )
    assert_problem(response, 404, "deck.slide_not_found")


async def test_another_workspaces_deck_is_not_found(
    client: httpx.AsyncClient, anna: Account, bob: Account
) -> None:
    accepted = await build(client, anna, prompt=PROMPT)
    deck_id = accepted["deckId"]
    for method, path in [
        ("GET", f"{API}/decks/{deck_id}"),
        ("POST", f"{API}/decks/{deck_id}/build"),
        ("DELETE", f"{API}/decks/{deck_id}"),
    ]:
        response = await client.request(method, path, headers=bob.headers)
        assert_problem(response, 404, "deck.not_found")
    assert (await client.get(f"{API}/decks", headers=bob.headers)).json()["items"] == []


async def test_a_deck_can_be_deleted_once_built(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, anna: Account
) -> None:
    accepted = await build(client, anna, prompt=PROMPT, slideCount=2)
    await run_next(db, runner)
    response = await client.delete(f"{API}/decks/{accepted['deckId']}", headers=anna.headers)
    assert response.status_code == 204
    gone = await client.get(f"{API}/decks/{accepted['deckId']}", headers=anna.headers)
    assert_problem(gone, 404, "deck.not_found")


# --- themes -----------------------------------------------------------------------------------


async def test_themes_are_listed_with_previews_that_are_pngs(
    client: httpx.AsyncClient, anna: Account
) -> None:
    themes = (await client.get(f"{API}/slides/themes", headers=anna.headers)).json()
    assert len(themes) >= 3
    for theme in themes:
        preview = await client.get(theme["previewUrl"])
        assert preview.status_code == 200
        assert preview.headers["content-type"] == "image/png"
        assert preview.content.startswith(b"\x89PNG")
    missing = await client.get(f"{API}/slides/themes/nope/preview.png")
    assert_problem(missing, 404, "deck.theme_not_found")
