"""The local runner: job slots inside `paperworks serve`, woken at once by an enqueue.

Each slot loops: claim the next job (atomically, with a lease), run it (`JobExecutor`), and go
again. A heartbeat renews the leases of running jobs; whatever process dies with a job, its
lease runs out and the next sweep queues the job again (or fails it, with a reason, once its
attempts are used up). Nothing stays `running` forever.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import TYPE_CHECKING

from paperworks.jobs import service
from paperworks.jobs.execution import JobExecutor
from paperworks.jobs.handlers import JobHandlers
from paperworks.jobs.metrics import JobMetrics
from paperworks.jobs.models import Job, JobStatus
from paperworks.kit.db import Database
from paperworks.kit.logging import get_logger

if TYPE_CHECKING:
    from paperworks.services import Services

__all__ = ["IDLE_POLL_SECONDS", "JobMetrics", "LocalRunner"]

log = get_logger(__name__)

IDLE_POLL_SECONDS = 1.0  # jobs enqueued by another process are seen within this


class LocalRunner:
    def __init__(
        self,
        db: Database,
        *,
        slots: int,
        lease_seconds: float,
        metrics: JobMetrics,
        handlers: JobHandlers,
        services: Services | None = None,
    ) -> None:
        self.db = db
        self.slots = slots
        self.lease = timedelta(seconds=lease_seconds)
        self.metrics = metrics
        self.executor = JobExecutor(db, metrics, handlers, services)
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

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
                await self.executor.renew_leases(self.lease)
                await self.sweep()
            except Exception:
                log.exception("job_heartbeat_failed")

    async def sweep(self) -> None:
        async with self.db.sessionmaker() as session:
            if not await service.has_expired_leases(session):
                return
        async with self.db.session_scope() as session:
            requeued, failed = await service.recover_expired(session)
        if requeued or failed:
            log.warning("jobs_recovered", requeued=len(requeued), failed=len(failed))
            self.wake()

    async def _claim(self) -> Job | None:
        async with self.db.sessionmaker() as session:
            if not await service.has_due_jobs(session):
                return None
        async with self.db.session_scope() as session:
            return await service.claim_next(session, lease=self.lease)

    # -- one job --

    async def run(self, job: Job) -> JobStatus:
        """Run a claimed job's handler and record how it ended."""
        return await self.executor.run(job)
