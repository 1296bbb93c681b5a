"""What both runners promise once a job reaches them, run against each (`local`: a slot of
`paperworks serve` claiming the next due job; `celery`: a worker's runtime given a message with
the job's id, its broker a recording stand-in): success is recorded with its result, a
retryable error backs off and fails once attempts run out, a handler's bug fails the job with a
reason, cancellation stops it, expired leases are recovered and never left running, the
heartbeat keeps a running job's lease, and a job that reaches a runner twice runs once.

What only one runner does (the local slots' loop and wake-up; what Celery sends, when, and to
which broker) is tested in that runner's own file."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import update
from structlog.testing import capture_logs

from paperworks.identity.caller import SYSTEM
from paperworks.jobs import service
from paperworks.jobs.celery_runner import WorkerRuntime
from paperworks.jobs.metrics import JobMetrics
from paperworks.jobs.models import Job, JobStatus
from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database
from tests.jobs import handlers
from tests.jobs.conftest import RecordingDispatcher, Tenant, enqueue, load
from tests.jobs.handlers import HANDLERS

LEASE_SECONDS = 30.0


class Runner(Protocol):
    async def deliver(self, job_id: str) -> JobStatus | None:
        """The job reaches the runner: claimed and run (how it ended), or not its to run (None)."""
        ...

    async def sweep(self) -> None: ...

    async def start(self) -> None:
        """Its heartbeat: renew the leases of the jobs it runs, recover expired ones."""
        ...

    async def stop(self) -> None: ...


class LocalSlot:
    """The local runner as one of its slots works: claim the next due job, run it. (No slot
    loops of its own: the test is the slot.)"""

    def __init__(self, db: Database, lease_seconds: float) -> None:
        metrics = JobMetrics(CollectorRegistry())
        self.runner = LocalRunner(
            db, slots=0, lease_seconds=lease_seconds, metrics=metrics, handlers=HANDLERS
        )

    async def deliver(self, job_id: str) -> JobStatus | None:
        job = await self.runner._claim()
        if job is None:
            return None
        assert job.id == job_id, f"the slot claimed {job.id}, not {job_id}"
        return await self.runner.run(job)

    async def sweep(self) -> None:
        await self.runner.sweep()

    async def start(self) -> None:
        await self.runner.start()

    async def stop(self) -> None:
        await self.runner.stop()


class CeleryWorker:
    """A worker process's runtime as the Celery task drives it, a message at a time."""

    def __init__(self, db: Database, lease_seconds: float) -> None:
        self.dispatcher = RecordingDispatcher()
        self.runtime = WorkerRuntime(
            db,
            self.dispatcher,  # type: ignore[arg-type]
            lease_seconds=lease_seconds,
            metrics=JobMetrics(CollectorRegistry()),
            handlers=HANDLERS,
        )

    async def deliver(self, job_id: str) -> JobStatus | None:
        return await self.runtime.run_job(job_id)

    async def sweep(self) -> None:
        await self.runtime.sweep()

    async def start(self) -> None:
        await self.runtime.start()

    async def stop(self) -> None:
        await self.runtime.stop()


MakeRunner = Callable[..., Runner]


@pytest.fixture(params=["local", "celery"])
def make_runner(request: pytest.FixtureRequest) -> MakeRunner:
    kind = LocalSlot if request.param == "local" else CeleryWorker

    def make(db: Database, lease_seconds: float = LEASE_SECONDS) -> Runner:
        return kind(db, lease_seconds)

    return make


@pytest.fixture
def runner(make_runner: MakeRunner, db: Database) -> Runner:
    return make_runner(db)


async def make_due(db: Database, job_id: str) -> None:
    """Let a retry's backoff be over now."""
    async with db.session_scope() as session:
        await session.execute(
            update(Job).where(Job.id == job_id).values(run_after=datetime.now(UTC))
        )


async def reporting(job_id: str) -> None:
    """Until the job (`test.until_cancelled`) runs and has stored its first report."""
    await asyncio.wait_for(handlers.reporting[job_id].wait(), timeout=5)


async def cancel(db: Database, workspace_id: str, job_id: str) -> Job:
    async with db.session_scope() as session:
        return await service.cancel_job(session, SYSTEM.within(workspace_id), job_id)


# --- how a job ends -------------------------------------------------------------------------------


async def test_a_job_runs_to_success_with_its_result(
    db: Database, runner: Runner, workspace_id: str
) -> None:
    job_id = await enqueue(db, workspace_id, "test.echo", n=21)
    assert await runner.deliver(job_id) == JobStatus.succeeded
    job = await load(db, job_id)
    assert (job.status, job.progress, job.result) == (
        "succeeded",
        100,
        {"doubled": 42, "attempt": 1},
    )
    assert (job.attempts, job.message) == (1, service.DONE)
    assert job.lease_until is None
    assert job.started_at is not None
    assert job.finished_at is not None


async def test_retryable_errors_back_off_then_fail_when_attempts_run_out(
    db: Database, runner: Runner, workspace_id: str, long_backoff: None
) -> None:
    job_id = await enqueue(db, workspace_id, "test.flaky", succeed_on=99)
    for attempt in (1, 2):
        assert await runner.deliver(job_id) == JobStatus.queued
        job = await load(db, job_id)
        assert (job.status, job.attempts, job.error_code) == ("queued", attempt, "job.retryable")
        assert job.run_after > datetime.now(UTC)  # backed off
        assert job.lease_until is None
        assert await runner.deliver(job_id) is None  # never run before its backoff ends
        assert (await load(db, job_id)).attempts == attempt
        await make_due(db, job_id)
    assert await runner.deliver(job_id) == JobStatus.failed
    job = await load(db, job_id)
    assert (job.status, job.attempts, job.error_code) == ("failed", 3, "job.retryable")
    assert "after 3 attempts" in (job.error_message or "")
    assert job.finished_at is not None


async def test_a_retry_can_succeed(db: Database, runner: Runner, workspace_id: str) -> None:
    job_id = await enqueue(db, workspace_id, "test.flaky", succeed_on=2)
    assert await runner.deliver(job_id) == JobStatus.queued
    await make_due(db, job_id)
    assert await runner.deliver(job_id) == JobStatus.succeeded
    job = await load(db, job_id)
    assert (job.status, job.attempts, job.result) == ("succeeded", 2, {"attempt": 2})


async def test_a_job_its_input_refuses_fails_at_once_with_its_code(
    db: Database, runner: Runner, workspace_id: str
) -> None:
    job_id = await enqueue(db, workspace_id, "test.refused")
    with capture_logs() as logs:
        assert await runner.deliver(job_id) == JobStatus.failed  # attempts left, but no retry
    job = await load(db, job_id)
    assert (job.attempts, job.error_code, job.error_message) == (
        1,
        "test.no_sheet",
        "page 2 has no sheet 'Q3'",
    )
    assert [log["event"] for log in logs if log["log_level"] == "error"] == []  # not a bug


async def test_a_handler_bug_fails_the_job_with_its_message(
    db: Database, runner: Runner, workspace_id: str
) -> None:
    job_id = await enqueue(db, workspace_id, "test.boom")
    assert await runner.deliver(job_id) == JobStatus.failed
    job = await load(db, job_id)
    assert (job.status, job.error_code, job.error_message) == (
        "failed",
        "job.failed",
        "a bug in the handler",
    )
    assert job.lease_until is None
    assert await runner.deliver(job_id) is None  # a failure is final: not run again


async def test_an_unknown_kind_fails_with_a_reason(
    db: Database, runner: Runner, workspace_id: str
) -> None:
    job_id = await enqueue(db, workspace_id, "test.nobody_handles_this")
    assert await runner.deliver(job_id) == JobStatus.failed
    job = await load(db, job_id)
    assert (job.status, job.error_code) == ("failed", "job.unknown_kind")
    assert "test.nobody_handles_this" in (job.error_message or "")


# --- cancellation ---------------------------------------------------------------------------------


async def test_a_running_job_stops_at_its_next_report_once_cancelled(
    db: Database, runner: Runner, workspace_id: str
) -> None:
    job_id = await enqueue(db, workspace_id, "test.until_cancelled")
    running = asyncio.create_task(runner.deliver(job_id))
    await reporting(job_id)
    flagged = await cancel(db, workspace_id, job_id)
    assert (flagged.status, flagged.cancel_requested) == ("running", True)
    assert await asyncio.wait_for(running, timeout=5) == JobStatus.cancelled
    job = await load(db, job_id)
    assert (job.status, job.lease_until) == ("cancelled", None)
    assert job.finished_at is not None


async def test_a_job_cancelled_while_queued_never_runs(
    db: Database, runner: Runner, workspace_id: str
) -> None:
    job_id = await enqueue(db, workspace_id, "test.echo", n=1)
    assert (await cancel(db, workspace_id, job_id)).status == "cancelled"
    assert await runner.deliver(job_id) is None
    job = await load(db, job_id)
    assert (job.status, job.attempts, job.started_at) == ("cancelled", 0, None)


# --- a job reaches a runner twice, or its runner vanishes -----------------------------------------


async def test_a_job_that_reaches_the_runner_twice_runs_once(
    db: Database, runner: Runner, workspace_id: str
) -> None:
    job_id = await enqueue(db, workspace_id, "test.echo", n=1)
    assert await runner.deliver(job_id) == JobStatus.succeeded
    assert await runner.deliver(job_id) is None  # the copy finds it finished
    job = await load(db, job_id)
    assert (job.status, job.attempts, job.result) == ("succeeded", 1, {"doubled": 2, "attempt": 1})


async def test_a_job_running_elsewhere_is_not_run_again(
    db: Database, runner: Runner, workspace_id: str
) -> None:
    job_id = await enqueue(db, workspace_id, "test.echo", n=1)
    async with db.session_scope() as session:  # another runner has it
        assert await service.claim(session, job_id, lease=timedelta(seconds=30)) is not None
    assert await runner.deliver(job_id) is None
    job = await load(db, job_id)
    assert (job.status, job.attempts, job.result) == ("running", 1, None)


async def test_expired_leases_are_recovered_never_left_running(
    db: Database, runner: Runner, workspace_id: str
) -> None:
    retried = await enqueue(db, workspace_id, "test.echo", n=1)
    exhausted = await enqueue(db, workspace_id, "test.echo", n=2)
    abandoned = await enqueue(db, workspace_id, "test.echo", n=3)
    async with db.session_scope() as session:  # three runners take them, and crash
        for job_id in (retried, exhausted, abandoned):
            assert await service.claim(session, job_id, lease=timedelta(seconds=30)) is not None
    await cancel(db, workspace_id, abandoned)  # asked while its runner was gone
    past = datetime.now(UTC) - timedelta(seconds=1)
    async with db.session_scope() as session:
        await session.execute(
            update(Job).where(Job.workspace_id == workspace_id).values(lease_until=past)
        )
        await session.execute(update(Job).where(Job.id == exhausted).values(max_attempts=1))

    await runner.sweep()

    assert (await load(db, retried)).status == "queued"
    lost = await load(db, exhausted)
    assert (lost.status, lost.error_code) == ("failed", "job.lost")
    assert (await load(db, abandoned)).status == "cancelled"
    for job_id in (retried, exhausted, abandoned):
        assert (await load(db, job_id)).lease_until is None
    assert await runner.deliver(retried) == JobStatus.succeeded
    assert (await load(db, retried)).attempts == 2


async def test_the_heartbeat_keeps_a_running_jobs_lease(
    make_runner: MakeRunner, shared: Tenant
) -> None:
    # The heartbeat and the job use sessions at the same time, which the per-test connection
    # cannot host: this test uses the database for real.
    runner = make_runner(shared.db, lease_seconds=0.3)
    job_id = await enqueue(shared.db, shared.workspace_id, "test.until_cancelled")
    await runner.start()
    try:
        running = asyncio.create_task(runner.deliver(job_id))
        await reporting(job_id)
        first_lease = (await load(shared.db, job_id)).lease_until
        assert first_lease is not None
        await asyncio.sleep(0.8)  # well past the first lease: renewed, so never taken back
        job = await load(shared.db, job_id)
        assert (job.status, job.attempts) == ("running", 1)
        assert job.lease_until is not None
        assert job.lease_until > first_lease
        await cancel(shared.db, shared.workspace_id, job_id)
        assert await asyncio.wait_for(running, timeout=5) == JobStatus.cancelled
    finally:
        await runner.stop()
