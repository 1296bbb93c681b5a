"""The live API as a browser app meets it: the npm `socket.io-client` (tests/js/socketio_live.js,
run by Node) against a real `paperworks serve`, signing in and calling the API with Node's fetch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import Server, start
from tests.node import RunNode

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SCRIPT = "socketio_live.js"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # One job slot: the script keeps it busy with one deck while it subscribes to the next.
    yield from start(tmp_path_factory.mktemp("socketio-js"), env={"PAPERWORKS_JOB_SLOTS": "1"})


def test_a_refused_connection_reads_as_a_sentence_and_a_code(node: RunNode, server: Server) -> None:
    refusals = node(SCRIPT, "refused", server.url)

    codes = {name: refusal["data"] for name, refusal in refusals.items()}
    assert codes == {
        "none": {"code": "auth.required"},
        "badToken": {"code": "auth.invalid_token"},
        "badApiKey": {"code": "auth.invalid_api_key"},
    }
    for refusal in refusals.values():
        assert refusal["connected"] is False
        assert refusal["isError"] is True  # an Error with its message, as socket.io makes it
        assert refusal["message"].endswith("."), refusal
        assert "{" not in refusal["message"], refusal
    assert refusals["badToken"]["message"] == "The access token is invalid or expired."


def test_a_signed_in_client_hears_its_task_and_its_workspaces_upload(
    node: RunNode, server: Server
) -> None:
    seen = node(SCRIPT, "events", server.url, "events@example.com")

    task = seen["taskCreated"]  # private to its owner: the user's room
    assert (task["type"], task["resourceType"], task["resourceId"]) == (
        "task.created",
        "task",
        seen["taskId"],
    )
    assert task["payload"] == {"title": "Count the sparrows"}
    upload = seen["fileUploaded"]  # the workspace's room
    assert (upload["type"], upload["resourceId"]) == ("file.uploaded", seen["fileId"])
    assert upload["payload"] == {"filename": "birds.csv", "contentType": "text/csv", "size": 28}
    assert upload["workspaceId"] == task["workspaceId"]


def test_a_subscribed_client_follows_a_deck_build_from_start_to_finish(
    node: RunNode, server: Server, tmp_path: Path
) -> None:
    seen = node(SCRIPT, "job", server.url, "decks@example.com", timeout=120)
    job_id = seen["jobId"]

    ack = seen["ack"]
    assert ack == {
        "ok": True,
        "room": f"job:{job_id}",
        "job": {"id": job_id, "status": "queued", "progress": 0, "message": None},
    }

    names = [name for name, _ in seen["heard"]]
    assert names[0] == "job:started", names
    assert names[-1] == "job:completed", names
    assert "job:progress" in names
    slides = [data for name, data in seen["heard"] if name == "slide:progress"]
    assert [(s["slide"], s["total"]) for s in slides] == [(1, 3), (2, 3), (3, 3)]
    assert all(s["deckId"] == seen["deckId"] for s in slides)
    assert seen["completed"]["result"]["slides"] == 3

    (built,) = [data for name, data in seen["heard"] if name == "slide:completed"]
    download = httpx.get(built["url"], timeout=10)  # a signed link: no credentials
    assert download.status_code == 200
    assert download.content[:2] == b"PK"  # a .pptx is a zip


def test_a_client_that_follows_a_finished_build_hears_its_end_and_gets_the_deck(
    node: RunNode, server: Server
) -> None:
    seen = node(SCRIPT, "late", server.url, "late@example.com", timeout=120)
    job_id = seen["jobId"]
    assert seen["ack"]["ok"] is True
    assert seen["ack"]["job"] == {
        "id": job_id,
        "status": "succeeded",
        "progress": 100,
        "message": "Built 3 slides.",
    }
    assert seen["completed"]["result"]["slides"] == 3
    assert seen["slideCompleted"]["deckId"] == seen["deckId"]
    assert seen["download"] == {"status": 200, "zip": True}  # a fresh signed link that works
