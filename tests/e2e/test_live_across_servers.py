"""Two `paperworks serve` processes sharing a database and Redis: a client connected to one hears,
live, a job that the other ran."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from paperworks.jobs import service
from paperworks.kit.db import Database
from tests.e2e.servers import start

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.slow]


def test_a_job_run_by_one_server_is_heard_live_through_another(
    tmp_path: Path, redis_url: str
) -> None:
    database = tmp_path / "shared.db"
    shared = {
        "PAPERWORKS_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "PAPERWORKS_SECRET_KEY": secrets.token_hex(32),
        "PAPERWORKS_REDIS_URL": redis_url,
        "PAPERWORKS_JOB_MODULES": "tests.e2e.job_handlers",
        "PYTHONPATH": str(REPO),
    }
    (tmp_path / "front").mkdir()
    (tmp_path / "back").mkdir()
    front = start(tmp_path / "front", env={**shared, "PAPERWORKS_JOB_SLOTS": "0"})
    back = start(tmp_path / "back", env={**shared, "PAPERWORKS_JOB_SLOTS": "2"})
    api, runner = next(front), next(back)
    try:
        tokens = httpx.post(
            f"{api.url}/api/v1/auth/register",
            json={"email": "live@example.com", "password": "correct horse battery"},
        ).json()
        headers = {"Authorization": f"Bearer {tokens['accessToken']}"}
        workspace_id = httpx.get(f"{api.url}/api/v1/auth/me", headers=headers).json()["workspaces"][
            0
        ]["id"]
        heard = asyncio.run(
            follow_a_job(
                api.url, tokens["accessToken"], f"sqlite+aiosqlite:///{database}", workspace_id
            )
        )
        names = [name for name, _ in heard]
        assert "job:started" in names
        assert "job:progress" in names
        assert names[-1] == "job:completed", names
        job_id = heard[-1][1]["jobId"]
        assert heard[-1][1]["result"] == {"steps": 10, "attempt": 1}

        # The first server's SSE follows the same job (it re-reads the shared database).
        stream = httpx.get(f"{api.url}/api/v1/jobs/{job_id}/stream", headers=headers, timeout=10)
        assert "event: job:completed" in stream.text
        timeline = httpx.get(f"{api.url}/api/v1/jobs/{job_id}/events", headers=headers).json()
        types = [event["type"] for event in timeline["items"]]
        assert types[:2] == ["job.queued", "job.started"]
        assert types[-1] == "job.succeeded"
    finally:
        for server in (front, back):
            next(server, None)
    assert runner.process.returncode is not None


async def follow_a_job(url: str, token: str, database_url: str, workspace_id: str) -> list[Any]:
    heard: list[tuple[str, Any]] = []
    done = asyncio.Event()
    client = socketio.AsyncClient()

    @client.on("*")
    async def record(event: str, data: Any) -> None:
        if event.startswith("job:"):
            heard.append((event, data))
        if event == "job:completed":
            done.set()

    await client.connect(url, auth={"token": token}, socketio_path="/ws/socket.io", wait_timeout=5)
    try:
        job_id = await asyncio.to_thread(enqueue_one, database_url, workspace_id)
        ack = await client.call("subscribe", {"jobId": job_id}, timeout=5)
        assert ack["ok"], ack
        async with asyncio.timeout(20):
            await done.wait()
    finally:
        await client.disconnect()
    return heard


def enqueue_one(database_url: str, workspace_id: str) -> str:
    """A job the other server may start only in a moment, once the client has subscribed."""

    async def add() -> str:
        db = Database.from_url(database_url)
        try:
            async with db.session_scope() as session:
                job = await service.enqueue(
                    session,
                    workspace_id=workspace_id,
                    user_id=None,
                    kind="e2e.slow",
                    payload={"steps": 10},
                )
                job.run_after += timedelta(seconds=1)
                return job.id
        finally:
            await db.dispose()

    return asyncio.run(add())
