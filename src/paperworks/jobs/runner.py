"""The local runner: job slots inside `paperworks serve`, woken at once by an enqueue.

Each slot loops: claim the next job (atomically, with a lease), run its handler, record the
outcome. A heartbeat renews the leases of running jobs; whatever process dies with a job, its
lease runs out and the next sweep queues the job again (or fails it, with a reason, once its
attempts are used up). Nothing stays `running` forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram

from paperworks.jobs import service
from paperworks.jobs.handlers import JobCancelled, JobContext, RetryableError, registration
from paperworks.jobs.models import Job, JobStatus
from paperworks.kit.db import Database
from paperworks.kit.logging import get_logger

log = get_logger(__name__)

IDLE_POLL_SECONDS = 1.0  # jobs enqueued by another process are seen within this
PROGRESS_WRITE_INTERVAL = 1.0  # progress ticks are throttled; state changes never are


class JobMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.enqueued = Counter(
            "paperworks_jobs_enqueued_total", "Jobs enqueued.", ["kind"], registry=registry
        )
        self.finished = Counter(
            "paperworks_jobs_finished_total",
            "Jobs that reached an end state (or were queued again for a retry).",
            ["kind", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "paperworks_job_duration_seconds",
            "Time a handler ran, per attempt.",
            ["kind"],
            buckets=(0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 1800),
            registry=registry,
        )


class LocalRunner:
    def __init__(
        self,
        db: Database,
        *,
        slots: int,
        lease_seconds: float,
        metrics: JobMetrics,
    ) -> None:
        self.db = db
        self.slots = slots
        self.lease = timedelta(seconds=lease_seconds)
        self.metrics = metrics
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._running: dict[str, asyncio.Task[Any]] = {}

    # -- lifecycle --

    async def start(self) -> None:
        await self.sweep()
        self._tasks = [
            asyncio.create_task(self._slot(n), name=f"job-slot-{n}") for n in range(self.slots)
        ]
        self._tasks.append(asyncio.create_task(self._heartbeat(), name="job-heartbeat"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def wake(self) -> None:
        """Called after a commit that enqueued work: a free slot starts it now."""
        self._wake.set()

    # -- loops --

    async def _slot(self, number: int) -> None:
        while True:
            try:
                job = await self._claim()
            except Exception:
                log.exception("job_claim_failed", slot=number)
                job = None
            if job is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), IDLE_POLL_SECONDS)
                self._wake.clear()
                continue
            await self.run(job)

    async def _heartbeat(self) -> None:
        interval = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            try:
                async with self.db.session_scope() as session:
                    await service.renew_leases(session, list(self._running), lease=self.lease)
                await self.sweep()
            except Exception:
                log.exception("job_heartbeat_failed")

    async def sweep(self) -> None:
        async with self.db.session_scope() as session:
            requeued, failed = await service.recover_expired(session)
        if requeued or failed:
            log.warning("jobs_recovered", requeued=requeued, failed=failed)
            self.wake()

    async def _claim(self) -> Job | None:
        async with self.db.session_scope() as session:
            return await service.claim_next(session, lease=self.lease)

    # -- one job --

    async def run(self, job: Job) -> JobStatus:
        """Run a claimed job's handler and record how it ended."""
        structlog.contextvars.bind_contextvars(job_id=job.id, workspace_id=job.workspace_id)
        started = time.perf_counter()
        self._running[job.id] = asyncio.current_task()  # type: ignore[assignment]
        try:
            outcome = await self._run_handler(job)
        finally:
            self._running.pop(job.id, None)
            self.metrics.duration.labels(job.kind).observe(time.perf_counter() - started)
            structlog.contextvars.unbind_contextvars("job_id", "workspace_id")
        self.metrics.finished.labels(job.kind, outcome).inc()
        log.info("job_finished", kind=job.kind, status=outcome, attempt=job.attempts)
        return outcome

    async def _run_handler(self, job: Job) -> JobStatus:
        registered = registration(job.kind)
        if registered is None:
            return await self._fail(job, "job.unknown_kind", f"No handler for {job.kind!r}.")
        context = JobContext(
            job_id=job.id,
            kind=job.kind,
            payload=dict(job.payload),
            workspace_id=job.workspace_id,
            user_id=job.user_id,
            attempt=job.attempts,
            report=self._progress_reporter(job.id),
        )
        try:
            result = await registered.handler(context)
        except JobCancelled:
            async with self.db.session_scope() as session:
                await service.cancelled(session, job.id)
            return JobStatus.cancelled
        except RetryableError as exc:
            async with self.db.session_scope() as session:
                return await service.retry_or_fail(
                    session, job, code=exc.code, message=str(exc) or type(exc).__name__
                )
        except Exception as exc:  # a handler's bug fails its job, never the runner
            log.exception("job_handler_failed", kind=job.kind)
            return await self._fail(job, "job.failed", str(exc) or type(exc).__name__)
        async with self.db.session_scope() as session:
            await service.succeed(session, job.id, result)
        return JobStatus.succeeded

    async def _fail(self, job: Job, code: str, message: str) -> JobStatus:
        async with self.db.session_scope() as session:
            await service.fail(session, job.id, code=code, message=message)
        return JobStatus.failed

    def _progress_reporter(self, job_id: str) -> Callable[[int, str | None], Awaitable[bool]]:
        last_write = 0.0

        async def report(progress: int, message: str | None) -> bool:
            # Stored (and cancellation checked) at most once a second: a handler may report
            # every row it processes without flooding the database.
            nonlocal last_write
            now = time.monotonic()
            if progress < 100 and last_write and now - last_write < PROGRESS_WRITE_INTERVAL:
                return False
            last_write = now
            async with self.db.session_scope() as session:
                return await service.record_progress(
                    session, job_id, progress=progress, message=message
                )

        return report
