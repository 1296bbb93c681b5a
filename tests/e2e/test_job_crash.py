"""A `kill -9` of the server mid-job: after a restart every job ends, none stays `running`."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from paperworks.identity.caller import SYSTEM
from paperworks.jobs import service
from paperworks.jobs.models import Job
from paperworks.kit.db import Database
from tests.e2e.servers import start

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
JOBS = 3


def job_states(url: str) -> dict[str, tuple[str, int]]:
    async def read() -> dict[str, tuple[str, int]]:
        db = Database.from_url(url)
        try:
            async with db.sessionmaker() as session:
                jobs = await session.scalars(select(Job))
                return {job.id: (job.status, job.attempts) for job in jobs}
        finally:
            await db.dispose()

    return asyncio.run(read())


def enqueue(url: str, workspace_id: str) -> None:
    async def add() -> None:
        db = Database.from_url(url)
        try:
            async with db.session_scope() as session:
                for _ in range(JOBS):
                    await service.enqueue(session, SYSTEM.within(workspace_id), kind="e2e.slow")
        finally:
            await db.dispose()

    asyncio.run(add())


def wait_for(condition: str, check: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting until {condition}"
        time.sleep(0.1)


def test_jobs_killed_mid_run_are_retried_to_success(tmp_path: Path) -> None:
    env = {
        "PAPERWORKS_JOB_MODULES": "tests.e2e.job_handlers",
        "PAPERWORKS_JOB_LEASE_SECONDS": "2",
        "PYTHONPATH": str(REPO),
    }
    url = f"sqlite+aiosqlite:///{tmp_path / 'var' / 'paperworks.db'}"

    first = start(tmp_path, env=env)
    server = next(first)
    signed_up = httpx.post(
        f"{server.url}/api/v1/auth/register",
        json={"email": "crash@example.com", "password": "correct horse"},
    ).json()
    me = httpx.get(
        f"{server.url}/api/v1/auth/me",
        headers={"Authorization": f"Bearer {signed_up['accessToken']}"},
    ).json()
    enqueue(url, me["workspaces"][0]["id"])
    wait_for("all jobs run", lambda: {s for s, _ in job_states(url).values()} == {"running"})

    server.process.kill()  # SIGKILL: no shutdown, no cleanup, leases left behind
    server.process.wait(timeout=10)
    first.close()
    assert {s for s, _ in job_states(url).values()} == {"running"}

    second = start(tmp_path, env=env)
    next(second)
    try:
        wait_for(
            "every job succeeded on a second attempt",
            lambda: set(job_states(url).values()) == {("succeeded", 2)},
        )
    finally:
        second.close()
