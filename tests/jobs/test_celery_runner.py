"""The Celery runner's own decisions, in-process: what it sends and when (a retry for when its
backoff ends, what a sweep or the heartbeat sends again, what the queue sends after a commit), and
the settings and metrics that come with it. (How a message's job runs, retries, fails, is
cancelled and recovered, and runs once however often it arrives, is in
test_runner_contract.py, run on this runner too.)"""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from prometheus_client import CollectorRegistry
from pydantic import ValidationError
from sqlalchemy import update

from paperworks import migrations
from paperworks.app import create_app
from paperworks.identity.caller import SYSTEM
from paperworks.jobs import service
from paperworks.jobs.celery_runner import (
    TASK_NAME,
    CeleryDispatcher,
    CeleryRunner,
    WorkerRuntime,
    create_celery,
)
from paperworks.jobs.idempotency import Idempotency
from paperworks.jobs.metrics import JobMetrics, QueueDepthSampler
from paperworks.jobs.models import Job, JobStatus
from paperworks.jobs.queue import JobQueue
from paperworks.kit.db import Database, create_engine
from paperworks.settings import JobsBackend, Settings
from tests.conftest import make_settings
from tests.e2e.job_handlers import HANDLERS
from tests.jobs.conftest import RecordingDispatcher, Tenant, enqueue, load


@pytest.fixture
def dispatcher() -> RecordingDispatcher:
    return RecordingDispatcher()


@pytest.fixture
def runtime(db: Database, dispatcher: RecordingDispatcher) -> WorkerRuntime:
    return WorkerRuntime(
        db,
        dispatcher,  # type: ignore[arg-type]
        lease_seconds=30,
        metrics=JobMetrics(CollectorRegistry()),
        handlers=HANDLERS,
    )


async def test_a_retry_is_sent_for_when_its_backoff_ends_and_never_runs_early(
    db: Database,
    runtime: WorkerRuntime,
    dispatcher: RecordingDispatcher,
    workspace_id: str,
    long_backoff: None,
) -> None:
    job_id = await enqueue(db, workspace_id, "e2e.flaky", succeed_on=2)
    assert await runtime.run_job(job_id) == JobStatus.queued
    job = await load(db, job_id)
    assert job.run_after > datetime.now(UTC)
    assert dispatcher.sent == [(job_id, job.run_after)]

    # The first message delivered again (its worker died before acknowledging it): too early.
    assert await runtime.run_job(job_id) is None
    assert (await load(db, job_id)).attempts == 1
    assert dispatcher.sent[-1] == (job_id, job.run_after)  # sent again for its time


async def test_a_message_for_no_job_is_dropped(
    runtime: WorkerRuntime, dispatcher: RecordingDispatcher
) -> None:
    assert await runtime.run_job("01JNOSUCHJOB0000000000000") is None
    assert dispatcher.sent == []


async def test_the_sweep_queues_lost_jobs_again_and_sends_them(
    db: Database, runtime: WorkerRuntime, dispatcher: RecordingDispatcher, workspace_id: str
) -> None:
    lost = await enqueue(db, workspace_id, "e2e.quick")
    unsent = await enqueue(db, workspace_id, "e2e.quick")  # its message never reached the broker
    async with db.session_scope() as session:
        await service.claim(session, lost, lease=timedelta(seconds=30))
        past = datetime.now(UTC) - timedelta(seconds=1)
        await session.execute(update(Job).where(Job.id == lost).values(lease_until=past))

    dispatcher.ready = 3  # the broker is busy: only what the sweep itself queued is sent
    await runtime.sweep()
    assert (await load(db, lost)).status == "queued"
    assert dispatcher.sent == [(lost, None)]

    dispatcher.sent.clear()
    await runtime.sweep()  # nothing lost any more, and the broker still has work
    assert dispatcher.sent == []

    dispatcher.ready = 0  # nothing waits in the broker: every due job is sent
    await runtime.sweep()
    assert sorted(job_id for job_id, _ in dispatcher.sent) == sorted([lost, unsent])

    dispatcher.sent.clear()
    dispatcher.ready = None  # the broker cannot be read: send only what is surely lost
    await runtime.sweep()
    assert dispatcher.sent == []


async def test_the_heartbeat_sends_due_jobs_the_broker_lacks(
    db: Database, dispatcher: RecordingDispatcher, workspace_id: str
) -> None:
    runtime = WorkerRuntime(
        db,
        dispatcher,  # type: ignore[arg-type]
        lease_seconds=0.3,
        metrics=JobMetrics(CollectorRegistry()),
        handlers=HANDLERS,
    )
    job_id = await enqueue(db, workspace_id, "e2e.quick")  # its message never reached the broker
    await runtime.start()
    try:
        for _ in range(50):
            if dispatcher.sent:
                break
            await asyncio.sleep(0.02)
        assert dispatcher.sent == [(job_id, None)]  # sent again: the broker had nothing
    finally:
        await runtime.stop()


async def test_a_job_is_sent_only_once_its_request_commits(
    db: Database, dispatcher: RecordingDispatcher, workspace_id: str
) -> None:
    queue = JobQueue(None, JobMetrics(CollectorRegistry()), dispatcher=dispatcher)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="abort"):  # noqa: PT012 - the unit of work is the test
        async with db.session_scope() as session:
            await queue.enqueue(session, SYSTEM.within(workspace_id), kind="e2e.quick")
            raise RuntimeError("abort")
    assert dispatcher.sent == []
    async with db.session_scope() as session:
        job = await queue.enqueue(
            session,
            SYSTEM.within(workspace_id),
            kind="e2e.quick",
            idempotency_key=Idempotency("once", "POST /orders"),
        )
        assert dispatcher.sent == []
    assert dispatcher.sent == [(job.id, None)]
    async with db.session_scope() as session:  # the same key again: the same job, not re-sent
        again = await queue.enqueue(
            session,
            SYSTEM.within(workspace_id),
            kind="e2e.quick",
            idempotency_key=Idempotency("once", "POST /orders"),
        )
    assert again.id == job.id
    assert dispatcher.sent == [(job.id, None)]


def test_the_celery_backend_needs_a_broker(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="PAPERWORKS_CELERY_BROKER_URL is required"):
        make_settings(tmp_path, jobs_backend="celery")
    settings = make_settings(
        tmp_path, jobs_backend="celery", celery_broker_url="amqp://guest:guest@rabbit:5672//"
    )
    assert settings.jobs_backend is JobsBackend.celery
    assert settings.celery_queue == "paperworks.jobs"


def test_the_queue_has_local_slots_none_or_a_broker(tmp_path: Path) -> None:
    def queue_for(**overrides: Any) -> JobQueue:
        settings = make_settings(tmp_path, **overrides)
        return JobQueue.from_settings(
            settings, Database.from_url(settings.database_url), CollectorRegistry(), HANDLERS
        )

    local = queue_for()
    assert local.runner is not None
    assert local.runner.slots == 4
    assert local.dispatcher is None
    assert queue_for(job_slots=0).runner is None
    celery = queue_for(
        jobs_backend="celery", celery_broker_url="redis://127.0.0.1:6379/1", celery_queue="q1"
    )
    assert celery.runner is None  # serve runs no jobs: the workers do
    assert celery.dispatcher is not None
    assert celery.dispatcher.queue == "q1"


def celery_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "jobs_backend": "celery",
        "celery_broker_url": "memory://",
        "celery_queue": f"paperworks-unit-{uuid.uuid4().hex[:8]}",  # memory:// is per process
    }
    return make_settings(tmp_path, **(values | overrides))


def test_the_task_is_acknowledged_late_and_given_back_if_its_worker_dies(tmp_path: Path) -> None:
    runner = CeleryRunner(celery_settings(tmp_path, celery_queue="paperworks-unit"), HANDLERS)
    task = runner.celery.tasks[TASK_NAME]
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True
    assert task.ignore_result is True
    assert runner.celery.conf.worker_prefetch_multiplier == 1
    assert runner.celery.conf.task_default_queue == "paperworks-unit"
    argv = runner.worker_argv(concurrency=3, pool="threads")
    assert argv[:2] == ["--quiet", "worker"]  # `celery --quiet worker ...`: no banner
    assert {"--queues=paperworks-unit", "--pool=threads", "--concurrency=3"} <= set(argv)
    assert f"--hostname=paperworks-{os.getpid()}@%h" in argv  # two workers on a host never clash
    assert not any(
        arg.startswith("--concurrency")
        for arg in runner.worker_argv(concurrency=None, pool="prefork")
    )


def test_the_dispatcher_publishes_the_job_id_alone(tmp_path: Path) -> None:
    settings = celery_settings(tmp_path)
    dispatcher = CeleryDispatcher(create_celery(settings), settings.celery_queue)
    assert dispatcher.waiting() == 0  # no such queue yet
    dispatcher.send_soon("job-1")  # no running loop: sent at once
    eta = datetime.now(UTC) + timedelta(minutes=1)
    dispatcher.send("job-2", eta=eta)
    assert dispatcher.waiting() == 2
    with dispatcher.celery.connection_for_read() as connection:
        queue = connection.SimpleQueue(settings.celery_queue)
        bodies = [queue.get(timeout=1) for _ in range(2)]
        for message in bodies:
            message.ack()
        queue.close()
    assert [m.headers["task"] for m in bodies] == [TASK_NAME, TASK_NAME]
    assert [m.headers["argsrepr"] for m in bodies] == ["['job-1']", "['job-2']"]
    assert bodies[1].headers["eta"] == eta.isoformat()
    dispatcher.close()


async def test_a_failed_publish_is_logged_and_left_to_the_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dispatcher = CeleryDispatcher(create_celery(celery_settings(tmp_path)), "paperworks-unit")

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(dispatcher.celery, "send_task", broker_down)
    dispatcher.send_soon("job-1")  # on the loop: published from a thread, never raises
    await dispatcher.drain()

    monkeypatch.setattr(dispatcher.celery, "connection_for_write", broker_down)
    assert dispatcher.waiting() is None


async def test_the_task_runs_a_job_on_the_process_loop(tmp_path: Path, shared: Tenant) -> None:
    runner = CeleryRunner(celery_settings(tmp_path, database_url=shared.url), HANDLERS)
    async with shared.db.session_scope() as session:
        job = await service.enqueue(session, SYSTEM.within(shared.workspace_id), kind="e2e.flaky")
    try:
        # Eagerly, as a worker would: on this process's background loop, its own database.
        assert runner.task.apply(args=[job.id]).get() == "queued"  # retry sent, with an ETA
        assert runner.dispatcher.waiting()  # (the runtime's first sweep may have sent one too)
        async with shared.db.session_scope() as session:
            await session.execute(
                update(Job).where(Job.id == job.id).values(run_after=datetime.now(UTC))
            )
        assert runner.task.apply(args=[job.id]).get() == "succeeded"
        assert runner.task.apply(args=[job.id]).get() is None
        first_loop, _ = runner.runtime()
        assert runner.runtime()[0] is first_loop  # one loop per process, kept
    finally:
        await asyncio.to_thread(runner.stop_runtime)
    assert (await load(shared.db, job.id)).attempts == 2


async def test_queue_depth_is_on_the_metrics_page(
    db: Database, client: httpx.AsyncClient, workspace_id: str, app: Any
) -> None:
    metrics: JobMetrics = app.state.services.jobs.metrics
    job_id = await enqueue(db, workspace_id, "e2e.quick")
    await enqueue(db, workspace_id, "e2e.quick")
    await enqueue(db, workspace_id, "e2e.flaky")
    assert await metrics.sample_queue_depth(db) == {"e2e.quick": 2, "e2e.flaky": 1}
    page = (await client.get("/metrics")).text
    assert 'paperworks_jobs_queued{kind="e2e.quick"} 2.0' in page
    async with db.session_scope() as session:
        await service.cancel_job(session, SYSTEM.within(workspace_id), job_id)
    assert await metrics.sample_queue_depth(db) == {"e2e.quick": 1, "e2e.flaky": 1}
    async with db.session_scope() as session:
        await session.execute(
            update(Job).where(Job.workspace_id == workspace_id).values(status="succeeded")
        )
    assert await metrics.sample_queue_depth(db) == {}
    page = (await client.get("/metrics")).text
    assert 'paperworks_jobs_queued{kind="e2e.quick"} 0.0' in page  # gone, not stale


async def test_the_queue_depth_sampler_keeps_going_after_a_failure(db: Database) -> None:
    metrics = JobMetrics(CollectorRegistry())
    samples: list[str] = []

    async def flaky_sample(_db: Database) -> dict[str, int]:
        samples.append("tried")
        if len(samples) == 1:
            raise RuntimeError("database away")
        return {}

    metrics.sample_queue_depth = flaky_sample  # type: ignore[method-assign]
    sampler = QueueDepthSampler(db, metrics, interval=0.01)
    await sampler.start()
    for _ in range(100):
        if len(samples) >= 2:
            break
        await asyncio.sleep(0.01)
    await sampler.stop()
    await sampler.stop()  # stopping twice is harmless
    assert len(samples) >= 2


class BrokerDown(RecordingDispatcher):
    def send(self, job_id: str, *, eta: datetime | None = None) -> None:
        raise ConnectionRefusedError("broker down")

    def waiting(self) -> int | None:
        raise ConnectionRefusedError("broker down")


async def test_a_broker_that_is_down_fails_no_job_and_stops_no_heartbeat(
    db: Database, workspace_id: str
) -> None:
    runtime = WorkerRuntime(
        db,
        BrokerDown(),  # type: ignore[arg-type]
        lease_seconds=0.3,
        metrics=JobMetrics(CollectorRegistry()),
        handlers=HANDLERS,
    )
    job_id = await enqueue(db, workspace_id, "e2e.flaky", succeed_on=2)
    # The retry is recorded in the row even though it cannot be sent: a sweep sends it later.
    assert await runtime.run_job(job_id) == JobStatus.queued
    assert (await load(db, job_id)).status == "queued"
    await runtime.start()
    await asyncio.sleep(0.25)  # two rounds, each failing to read the broker
    assert runtime._heartbeat is not None
    assert not runtime._heartbeat.done()
    await runtime.stop()


async def test_serve_in_celery_mode_runs_no_job_slots_but_samples_the_queue(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    engine = create_engine(url)
    await migrations.upgrade(engine)
    await engine.dispose()
    app = create_app(celery_settings(tmp_path, database_url=url))
    async with LifespanManager(app):
        queue: JobQueue = app.state.services.jobs
        assert queue.runner is None
        assert queue.dispatcher is not None
        assert queue.queue_depth is not None
        assert queue.queue_depth._task is not None
    assert queue.queue_depth._task is None
    assert app.state.services.db.engine.pool.checkedout() == 0
