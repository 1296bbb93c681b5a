"""The local runner's own part against the real database: which job a slot claims, the slots'
loop woken by a commit, dispatch only after commit, backoff and idempotency keys. (How a claimed
job runs, retries, fails, is cancelled and recovered is in test_runner_contract.py, run on this
runner too.)"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import update

from paperworks.identity import service as identity
from paperworks.identity.caller import SYSTEM, Caller
from paperworks.jobs import service
from paperworks.jobs.idempotency import Idempotency
from paperworks.jobs.models import Job
from paperworks.jobs.queue import JobQueue
from paperworks.jobs.runner import JobMetrics, LocalRunner
from paperworks.kit.db import Database
from tests.jobs.conftest import enqueue, load
from tests.jobs.handlers import HANDLERS

LEASE = timedelta(seconds=30)


async def claim(db: Database) -> Job | None:
    async with db.session_scope() as session:
        return await service.claim_next(session, lease=LEASE)


async def test_claims_are_exclusive_and_respect_run_after(db: Database, workspace_id: str) -> None:
    first = await enqueue(db, workspace_id, "test.echo", n=1)
    later = await enqueue(db, workspace_id, "test.echo", n=2)
    async with db.session_scope() as session:
        await session.execute(
            update(Job).where(Job.id == later).values(run_after=datetime.now(UTC) + LEASE)
        )
    claimed = await claim(db)
    assert claimed is not None
    assert (claimed.id, claimed.status, claimed.attempts) == (first, "running", 1)
    assert await claim(db) is None  # the first is taken, the second not due


def test_backoff_grows_exponentially_with_jitter() -> None:
    for attempt in range(1, 12):
        ceiling = min(300.0, 2.0 * 2 ** (attempt - 1))
        delay = service.backoff(attempt).total_seconds()
        assert ceiling / 2 <= delay <= ceiling


async def test_jobs_are_dispatched_only_after_commit(db: Database, workspace_id: str) -> None:
    woken: list[str] = []
    metrics = JobMetrics(CollectorRegistry())
    queue = JobQueue(None, metrics)
    with pytest.raises(RuntimeError, match="abort"):  # noqa: PT012 - the unit of work is the test
        async with db.session_scope() as session:
            await service.enqueue(
                session,
                SYSTEM.within(workspace_id),
                kind="test.echo",
                wake=lambda _job_id: woken.append("rolled back"),
            )
            raise RuntimeError("abort")
    async with db.session_scope() as session:
        await service.enqueue(
            session,
            SYSTEM.within(workspace_id),
            kind="test.echo",
            wake=lambda _job_id: woken.append("committed"),
        )
        await queue.enqueue(session, SYSTEM.within(workspace_id), kind="test.echo")
        assert woken == []
        assert metrics.enqueued.labels("test.echo")._value.get() == 0
    assert woken == ["committed"]
    assert metrics.enqueued.labels("test.echo")._value.get() == 1


async def test_an_idempotency_key_returns_the_same_job(db: Database, workspace_id: str) -> None:
    async with db.session_scope() as session:
        first = await service.enqueue(
            session,
            SYSTEM.within(workspace_id),
            kind="test.echo",
            idempotency_key=Idempotency("order-42", "POST /orders"),
        )
    async with db.session_scope() as session:
        again = await service.enqueue(
            session,
            SYSTEM.within(workspace_id),
            kind="test.echo",
            idempotency_key=Idempotency("order-42", "POST /orders"),
        )
    assert again.id == first.id


async def test_the_runner_loop_starts_work_as_soon_as_it_is_committed(database_url: str) -> None:
    # Slots and the heartbeat use sessions concurrently, which the per-test connection cannot
    # host: this test uses the database for real, and removes what it made.
    real = Database.from_url(database_url)
    async with real.session_scope() as session:
        user = await identity.create_user(session, email="loop@example.com", password_hash=None)
        workspace = await identity.personal_workspace(session, user)
    metrics = JobMetrics(CollectorRegistry())
    runner = LocalRunner(real, slots=2, lease_seconds=30, metrics=metrics, handlers=HANDLERS)
    queue = JobQueue(runner, runner.metrics)
    await runner.start()
    try:
        async with real.session_scope() as session:
            job = await queue.enqueue(
                session,
                Caller(workspace_id=workspace.id, user_id=user.id),
                kind="test.echo",
                payload={"n": 5},
            )
        for _ in range(100):
            if (await load(real, job.id)).status == "succeeded":
                break
            await asyncio.sleep(0.05)
        assert (await load(real, job.id)).result == {"doubled": 10, "attempt": 1}
    finally:
        await runner.stop()
        async with real.session_scope() as session:
            await session.delete(await session.get_one(type(user), user.id))
        await real.dispose()
