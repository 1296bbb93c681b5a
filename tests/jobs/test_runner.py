"""The local runner against the real database: claim, run, retry, fail, cancel, recover."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import update

from paperworks.identity import service as identity
from paperworks.identity.caller import SYSTEM, Caller
from paperworks.jobs import service
from paperworks.jobs.handlers import JobContext, JobHandlers, RetryableError, job_handler
from paperworks.jobs.models import Job, JobStatus
from paperworks.jobs.queue import JobQueue
from paperworks.jobs.runner import JobMetrics, LocalRunner
from paperworks.kit.db import Database
from tests.jobs.conftest import enqueue, load

LEASE = timedelta(seconds=30)
attempts_seen: dict[str, int] = {}


@job_handler("test.echo")
async def echo(ctx: JobContext) -> dict[str, Any]:
    await ctx.report(50, "halfway")
    doubled = await ctx.run_blocking(lambda n: n * 2, ctx.payload["n"])
    return {"doubled": doubled, "attempt": ctx.attempt}


@job_handler("test.flaky", max_attempts=3)
async def flaky(ctx: JobContext) -> dict[str, Any]:
    attempts_seen[ctx.job_id] = ctx.attempt
    if ctx.attempt < ctx.payload["succeed_on"]:
        raise RetryableError("upstream said 503")
    return {"attempt": ctx.attempt}


@job_handler("test.boom")
async def boom(ctx: JobContext) -> None:
    raise RuntimeError("a bug in the handler")


@job_handler("test.until_cancelled")
async def until_cancelled(ctx: JobContext) -> None:
    for step in range(1000):
        await ctx.report(step % 100, f"step {step}")
        await asyncio.sleep(0.05)


HANDLERS = JobHandlers([echo, flaky, boom, until_cancelled])


@pytest.fixture
async def workspace_id(db: Database) -> str:
    async with db.session_scope() as session:
        user = await identity.create_user(session, email="jobs@example.com", password_hash=None)
        return (await identity.personal_workspace(session, user)).id


@pytest.fixture
def runner(db: Database) -> LocalRunner:
    metrics = JobMetrics(CollectorRegistry())
    return LocalRunner(db, slots=1, lease_seconds=30, metrics=metrics, handlers=HANDLERS)


async def claim(db: Database) -> Job | None:
    async with db.session_scope() as session:
        return await service.claim_next(session, lease=LEASE)


async def run_next(db: Database, runner: LocalRunner) -> JobStatus:
    job = await claim(db)
    assert job is not None, "nothing to claim"
    return await runner.run(job)


async def test_a_job_runs_to_success_with_its_result(
    db: Database, runner: LocalRunner, workspace_id: str
) -> None:
    job_id = await enqueue(db, workspace_id, "test.echo", n=21)
    assert await run_next(db, runner) == JobStatus.succeeded
    job = await load(db, job_id)
    assert (job.status, job.progress, job.result) == (
        "succeeded",
        100,
        {"doubled": 42, "attempt": 1},
    )
    assert job.attempts == 1
    assert job.lease_until is None
    assert job.started_at is not None
    assert job.finished_at is not None


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


async def test_retryable_errors_back_off_then_fail_when_attempts_run_out(
    db: Database, runner: LocalRunner, workspace_id: str
) -> None:
    job_id = await enqueue(db, workspace_id, "test.flaky", succeed_on=99)
    for attempt in (1, 2):
        assert await run_next(db, runner) == JobStatus.queued
        job = await load(db, job_id)
        assert job.attempts == attempt
        assert job.error_code == "job.retryable"
        assert job.run_after > datetime.now(UTC)  # backed off
        async with db.session_scope() as session:  # let the retry be due now
            await session.execute(
                update(Job).where(Job.id == job_id).values(run_after=datetime.now(UTC))
            )
    assert await run_next(db, runner) == JobStatus.failed
    job = await load(db, job_id)
    assert (job.status, job.attempts, job.error_code) == ("failed", 3, "job.retryable")
    assert "after 3 attempts" in (job.error_message or "")


async def test_a_retry_can_succeed(db: Database, runner: LocalRunner, workspace_id: str) -> None:
    job_id = await enqueue(db, workspace_id, "test.flaky", succeed_on=2)
    assert await run_next(db, runner) == JobStatus.queued
    async with db.session_scope() as session:
        await session.execute(
            update(Job).where(Job.id == job_id).values(run_after=datetime.now(UTC))
        )
    assert await run_next(db, runner) == JobStatus.succeeded
    assert (await load(db, job_id)).result == {"attempt": 2}


def test_backoff_grows_exponentially_with_jitter() -> None:
    for attempt in range(1, 12):
        ceiling = min(300.0, 2.0 * 2 ** (attempt - 1))
        delay = service.backoff(attempt).total_seconds()
        assert ceiling / 2 <= delay <= ceiling


async def test_a_handler_bug_fails_the_job_with_its_message(
    db: Database, runner: LocalRunner, workspace_id: str
) -> None:
    job_id = await enqueue(db, workspace_id, "test.boom")
    assert await run_next(db, runner) == JobStatus.failed
    job = await load(db, job_id)
    assert (job.error_code, job.error_message) == ("job.failed", "a bug in the handler")


async def test_an_unknown_kind_fails_with_a_reason(
    db: Database, runner: LocalRunner, workspace_id: str
) -> None:
    job_id = await enqueue(db, workspace_id, "test.nobody_handles_this")
    assert await run_next(db, runner) == JobStatus.failed
    assert (await load(db, job_id)).error_code == "job.unknown_kind"


async def test_a_running_job_stops_at_its_next_report_once_cancelled(
    db: Database, runner: LocalRunner, workspace_id: str
) -> None:
    job_id = await enqueue(db, workspace_id, "test.until_cancelled")
    job = await claim(db)
    assert job is not None
    running = asyncio.create_task(runner.run(job))
    await asyncio.sleep(0.2)
    async with db.session_scope() as session:
        flagged = await service.cancel_job(session, SYSTEM.within(workspace_id), job_id)
    assert (flagged.status, flagged.cancel_requested) == ("running", True)
    assert await asyncio.wait_for(running, timeout=5) == JobStatus.cancelled
    assert (await load(db, job_id)).status == "cancelled"


async def test_expired_leases_are_recovered_never_left_running(
    db: Database, runner: LocalRunner, workspace_id: str
) -> None:
    retried = await enqueue(db, workspace_id, "test.echo", n=1)
    exhausted = await enqueue(db, workspace_id, "test.echo", n=2)
    for _ in range(2):
        assert await claim(db) is not None  # two "crashed" runners
    past = datetime.now(UTC) - timedelta(seconds=1)
    async with db.session_scope() as session:
        await session.execute(update(Job).values(lease_until=past))
        await session.execute(update(Job).where(Job.id == exhausted).values(max_attempts=1))
    await runner.sweep()
    assert (await load(db, retried)).status == "queued"
    lost = await load(db, exhausted)
    assert (lost.status, lost.error_code) == ("failed", "job.lost")
    assert await run_next(db, runner) == JobStatus.succeeded
    assert (await load(db, retried)).attempts == 2


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
            idempotency_key="order-42",
        )
    async with db.session_scope() as session:
        again = await service.enqueue(
            session,
            SYSTEM.within(workspace_id),
            kind="test.echo",
            idempotency_key="order-42",
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
