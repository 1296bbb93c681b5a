"""Jobs' Prometheus series: enqueued and finished by kind and status, handler durations, and the
queue depth (`paperworks_jobs_queued`), sampled from the `jobs` table every few seconds."""

from __future__ import annotations

import asyncio
import contextlib

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import func, select

from paperworks.jobs.models import Job, JobStatus
from paperworks.kit.db import Database
from paperworks.kit.logging import get_logger

log = get_logger(__name__)

QUEUE_DEPTH_INTERVAL_SECONDS = 5.0


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
        # Every API process samples the same table: under several workers the freshest sample
        # is the answer, not their sum.
        self.queued = Gauge(
            "paperworks_jobs_queued",
            "Jobs waiting to run (queued, retries waiting out their backoff included), by kind.",
            ["kind"],
            multiprocess_mode="mostrecent",
            registry=registry,
        )
        self._queued_kinds: set[str] = set()

    async def sample_queue_depth(self, db: Database) -> dict[str, int]:
        """Count queued jobs by kind into `paperworks_jobs_queued`; kinds gone since read 0."""
        async with db.sessionmaker() as session:
            rows = await session.execute(
                select(Job.kind, func.count().label("jobs"))
                .where(Job.status == JobStatus.queued)
                .group_by(Job.kind)
            )
            depth: dict[str, int] = {row.kind: row.jobs for row in rows}
        for kind in self._queued_kinds | depth.keys():
            self.queued.labels(kind).set(depth.get(kind, 0))
        self._queued_kinds |= depth.keys()
        return depth


class QueueDepthSampler:
    """Refreshes the queue-depth gauge in the background while the app serves."""

    def __init__(
        self, db: Database, metrics: JobMetrics, interval: float = QUEUE_DEPTH_INTERVAL_SECONDS
    ) -> None:
        self.db = db
        self.metrics = metrics
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="job-queue-depth")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await self.metrics.sample_queue_depth(self.db)
            except Exception:
                log.exception("job_queue_depth_failed")
            await asyncio.sleep(self.interval)
