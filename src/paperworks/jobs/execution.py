"""`JobExecutor`: run one claimed job's handler and record how it ended.

Shared by both runners: the local slots in `paperworks serve` and the Celery task in
`paperworks worker`. They differ only in how a job reaches them; what happens to a claimed job
(progress, cancellation, retry with backoff, failure, success, metrics, lease renewal) is here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy.exc import SQLAlchemyError

from paperworks.events.hub import EventHub, LiveMessage
from paperworks.jobs import service
from paperworks.jobs.handlers import (
    JobCancelled,
    JobContext,
    JobFailed,
    JobHandlers,
    RetryableError,
)
from paperworks.jobs.metrics import JobMetrics
from paperworks.jobs.models import Job, JobStatus
from paperworks.kit.db import Database
from paperworks.kit.logging import get_logger

if TYPE_CHECKING:
    from paperworks.services import Services

log = get_logger(__name__)

PROGRESS_WRITE_INTERVAL = 1.0  # progress ticks are throttled; state changes never are


class JobExecutor:
    def __init__(
        self,
        db: Database,
        metrics: JobMetrics,
        handlers: JobHandlers,
        services: Services | None = None,
    ) -> None:
        self.db = db
        self.metrics = metrics
        self.handlers = handlers
        self.services = services  # handed to handlers as `ctx.services`
        self.running: dict[str, asyncio.Task[Any]] = {}  # job id -> the task running it

    async def run(self, job: Job) -> JobStatus:
        """Run a claimed job's handler and record how it ended."""
        structlog.contextvars.bind_contextvars(job_id=job.id, workspace_id=job.workspace_id)
        started = time.perf_counter()
        self.running[job.id] = asyncio.current_task()  # type: ignore[assignment]
        try:
            outcome = await self._run_handler(job)
        finally:
            self.running.pop(job.id, None)
            self.metrics.duration.labels(job.kind).observe(time.perf_counter() - started)
            structlog.contextvars.unbind_contextvars("job_id", "workspace_id")
        self.metrics.finished.labels(job.kind, outcome).inc()
        log.info("job_finished", kind=job.kind, status=outcome, attempt=job.attempts)
        return outcome

    async def renew_leases(self, lease: timedelta) -> None:
        """Push back the lease of every job running here: they are alive."""
        async with self.db.session_scope() as session:
            await service.renew_leases(session, list(self.running), lease=lease)

    async def _run_handler(self, job: Job) -> JobStatus:
        registered = self.handlers.get(job.kind)
        if registered is None:
            return await self._fail(job, "job.unknown_kind", f"No handler for {job.kind!r}.")
        context = JobContext(
            job_id=job.id,
            kind=job.kind,
            payload=dict(job.payload),
            workspace_id=job.workspace_id,
            user_id=job.user_id,
            attempt=job.attempts,
            max_attempts=job.max_attempts,
            report=self._progress_reporter(job.id),
            emit=self._live_emitter(job.id),
            db=self.db,
            services=self.services,
        )
        try:
            result = await registered.run(context)
        except JobCancelled:
            async with self.db.session_scope() as session:
                await service.cancelled(session, job.id)
            return JobStatus.cancelled
        except RetryableError as exc:
            async with self.db.session_scope() as session:
                return await service.retry_or_fail(
                    session, job, code=exc.code, message=str(exc) or type(exc).__name__
                )
        except JobFailed as exc:
            log.info("job_failed", kind=job.kind, code=exc.code)
            return await self._fail(job, exc.code, str(exc))
        except Exception as exc:  # a handler's bug fails its job, never the runner
            log.exception("job_handler_failed", kind=job.kind)
            return await self._fail(job, "job.failed", str(exc) or type(exc).__name__)
        async with self.db.session_scope() as session:
            await service.succeed(session, job.id, result, summary=context.summary or service.DONE)
        return JobStatus.succeeded

    async def _fail(self, job: Job, code: str, message: str) -> JobStatus:
        async with self.db.session_scope() as session:
            await service.fail(session, job.id, code=code, message=message)
        return JobStatus.failed

    def _live_emitter(self, job_id: str) -> Callable[[str, dict[str, Any]], None]:
        hub = EventHub.shared_by(self.db)
        rooms = (service.job_room(job_id),)

        def emit(name: str, data: dict[str, Any]) -> None:
            if hub is not None:  # a process without a hub has nobody live to tell
                hub.deliver(LiveMessage(name, data, rooms))

        return emit

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
            try:
                async with self.db.session_scope() as session:
                    return await service.record_progress(
                        session, job_id, progress=progress, message=message
                    )
            except SQLAlchemyError as exc:
                # A tick is not worth the job: skip it, the next one is stored. (On SQLite a
                # transaction that reads before it writes fails if another process wrote first.)
                log.warning("job_progress_not_stored", job_id=job_id, error=str(exc))
                return False

        return report
