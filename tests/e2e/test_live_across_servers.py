"""Processes sharing a database and Redis: a client connected to one API process hears, live, a
job that another process ran - a second `paperworks serve`, or a Celery `paperworks worker`."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio
from celery import Celery

from paperworks.identity.caller import SYSTEM
from paperworks.jobs import service
from paperworks.jobs.celery_runner import CeleryDispatcher
from paperworks.kit.db import Database
from tests.e2e.servers import Server, start

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.slow]

Enqueue = Callable[[str], str]  # workspace id -> the id of a job that starts in a moment


def test_a_job_run_by_one_server_is_heard_live_through_another(
    tmp_path: Path, redis_url: str
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    shared = common_env(database_url, redis_url)
    (tmp_path / "front").mkdir()
    (tmp_path / "back").mkdir()
    front = start(tmp_path / "front", env={**shared, "PAPERWORKS_JOB_SLOTS": "0"})
    back = start(tmp_path / "back", env={**shared, "PAPERWORKS_JOB_SLOTS": "2"})
    api, runner = next(front), next(back)
    try:
        job_id = follow_and_check(api, lambda workspace_id: enqueue(database_url, workspace_id)[0])
        headers = login(api)
        # The first server's SSE follows the same job (it re-reads the shared database).
        stream = httpx.get(f"{api.url}/api/v1/jobs/{job_id}/stream", headers=headers, timeout=10)
        assert "event: job:completed" in stream.text
    finally:
        for server in (front, back):
            next(server, None)
    assert runner.process.returncode is not None


def test_a_job_run_by_a_celery_worker_is_heard_live_through_the_api(
    tmp_path: Path, redis_url: str
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    queue = f"paperworks-test-{uuid.uuid4().hex[:12]}"
    shared = common_env(database_url, redis_url) | {
        "PAPERWORKS_JOBS_BACKEND": "celery",
        "PAPERWORKS_CELERY_BROKER_URL": redis_url,
        "PAPERWORKS_CELERY_QUEUE": queue,
    }
    (tmp_path / "api").mkdir()
    dispatcher = CeleryDispatcher(Celery(broker=redis_url, set_as_current=False), queue)
    front = start(tmp_path / "api", env=shared)
    api = next(front)
    worker = start_worker(tmp_path, shared)
    try:

        def enqueue_and_send(workspace_id: str) -> str:
            job_id, due = enqueue(database_url, workspace_id)
            dispatcher.send(job_id, eta=due)
            return job_id

        follow_and_check(api, enqueue_and_send)
    finally:
        worker.terminate()
        worker.wait(timeout=15)
        next(front, None)
        dispatcher.delete_queue()
        dispatcher.close()


def common_env(database_url: str, redis_url: str) -> dict[str, str]:
    return {
        "PAPERWORKS_DATABASE_URL": database_url,
        "PAPERWORKS_SECRET_KEY": secrets.token_hex(32),
        "PAPERWORKS_REDIS_URL": redis_url,
        "PAPERWORKS_JOB_MODULES": "tests.e2e.job_handlers",
        "PYTHONPATH": str(REPO),
    }


def start_worker(tmp_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PAPERWORKS_")}
    environment |= env | {"PAPERWORKS_DATA_DIR": str(tmp_path / "worker")}
    with (tmp_path / "worker.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "paperworks", "worker", "--pool=solo"],
            env=environment,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def login(api: Server) -> dict[str, str]:
    credentials = {"email": "live@example.com", "password": "correct horse battery"}
    response = httpx.post(f"{api.url}/api/v1/auth/login", json=credentials)
    if response.status_code == 401:
        response = httpx.post(f"{api.url}/api/v1/auth/register", json=credentials)
    return {"Authorization": f"Bearer {response.json()['accessToken']}"}


def follow_and_check(api: Server, start_job: Enqueue) -> str:
    """Subscribe to a job another process runs; check what was heard and the stored timeline."""
    headers = login(api)
    me = httpx.get(f"{api.url}/api/v1/auth/me", headers=headers).json()
    workspace_id = me["workspaces"][0]["id"]
    token = headers["Authorization"].removeprefix("Bearer ")
    heard = asyncio.run(follow_a_job(api.url, token, lambda: start_job(workspace_id)))

    names = [name for name, _ in heard]
    assert "job:started" in names
    assert "job:progress" in names
    assert names[-1] == "job:completed", names
    job_id: str = heard[-1][1]["jobId"]
    assert heard[-1][1]["result"] == {"steps": 10, "attempt": 1}
    steps = [data for name, data in heard if name == "e2e:step"]  # a product's own live events
    assert steps == [{"jobId": job_id, "step": n, "total": 10} for n in range(1, 11)]

    timeline = httpx.get(f"{api.url}/api/v1/jobs/{job_id}/events", headers=headers).json()
    types = [event["type"] for event in timeline["items"]]
    assert types[:2] == ["job.queued", "job.started"]
    assert types[-1] == "job.succeeded"
    return job_id


async def follow_a_job(url: str, token: str, start_job: Callable[[], str]) -> list[Any]:
    heard: list[tuple[str, Any]] = []
    done = asyncio.Event()
    client = socketio.AsyncClient(request_timeout=30)

    @client.on("*")
    async def record(event: str, data: Any) -> None:
        if event.startswith(("job:", "e2e:")):
            heard.append((event, data))
        if event == "job:completed":
            done.set()

    await client.connect(url, auth={"token": token}, socketio_path="/ws/socket.io", wait_timeout=30)
    try:
        job_id = await asyncio.to_thread(start_job)
        ack = await client.call("subscribe", {"jobId": job_id}, timeout=5)
        assert ack["ok"], ack
        async with asyncio.timeout(30):
            await done.wait()
    finally:
        await client.disconnect()
    return heard


def enqueue(database_url: str, workspace_id: str) -> tuple[str, datetime]:
    """A job that may start only in a moment, once the client has subscribed: (id, due)."""

    async def add() -> tuple[str, datetime]:
        db = Database.from_url(database_url)
        try:
            async with db.session_scope() as session:
                job = await service.enqueue(
                    session,
                    SYSTEM.within(workspace_id),
                    kind="e2e.slow",
                    payload={"steps": 10},
                )
                # Time to subscribe first, with margin for a machine whose every core is busy.
                job.run_after += timedelta(seconds=3)
                return job.id, job.run_after
        finally:
            await db.dispose()

    return asyncio.run(add())
