"""`JobQueue`: how products start long work. Enqueue in the request; it starts after commit.

Locally, the commit wakes a free slot of `serve`'s runner; with the Celery backend it sends the job
id to the broker, for a `paperworks worker` to run.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.identity.caller import Caller
from paperworks.jobs import service
from paperworks.jobs.handlers import JobHandlers
from paperworks.jobs.idempotency import Idempotency
from paperworks.jobs.metrics import JobMetrics, QueueDepthSampler
from paperworks.jobs.models import Job
from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database
from paperworks.settings import JobsBackend, Settings

if TYPE_CHECKING:
    from paperworks.jobs.celery_runner import CeleryDispatcher  # imported only where used
    from paperworks.services import Services


class JobQueue:
    def __init__(
        self,
        runner: LocalRunner | None,
        metrics: JobMetrics,
        *,
        handlers: JobHandlers | None = None,
        dispatcher: CeleryDispatcher | None = None,
        queue_depth: QueueDepthSampler | None = None,
    ) -> None:
        self.handlers = handlers or JobHandlers()
        self.runner = runner
        self.metrics = metrics
        self.dispatcher = dispatcher
        self.queue_depth = queue_depth

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        db: Database,
        registry: CollectorRegistry,
        handlers: JobHandlers,
        services: Services | None = None,
    ) -> JobQueue:
        """The process's queue: local slots (unless `job_slots` is 0) running `handlers`, which
        get `services`; or a Celery dispatcher."""
        metrics = JobMetrics(registry)
        sampler = QueueDepthSampler(db, metrics)
        if settings.jobs_backend is JobsBackend.celery:
            from paperworks.jobs.celery_runner import CeleryDispatcher, create_celery

            dispatcher = CeleryDispatcher(create_celery(settings), settings.celery_queue)
            return cls(None, metrics, handlers=handlers, dispatcher=dispatcher, queue_depth=sampler)
        runner = (
            LocalRunner(
                db,
                slots=settings.job_slots,
                lease_seconds=settings.job_lease_seconds,
                metrics=metrics,
                handlers=handlers,
                services=services,
            )
            if settings.job_slots
            else None
        )
        return cls(runner, metrics, handlers=handlers, queue_depth=sampler)

    async def start(self) -> None:
        """With the app: the local runner's slots, the queue-depth gauge's sampling."""
        if self.runner is not None:
            await self.runner.start()
        if self.queue_depth is not None:
            await self.queue_depth.start()

    async def stop(self) -> None:
        if self.queue_depth is not None:
            await self.queue_depth.stop()
        if self.runner is not None:
            await self.runner.stop()
        if self.dispatcher is not None:
            await self.dispatcher.drain()
            self.dispatcher.close()

    async def enqueue(
        self,
        session: AsyncSession,
        caller: Caller,
        *,
        kind: str,
        payload: dict[str, Any] | None = None,
        idempotency_key: Idempotency | None = None,
    ) -> Job:
        """Queue a job for the caller in the request's transaction; it is dispatched once that
        commits."""
        return await service.enqueue(
            session,
            caller,
            kind=kind,
            payload=payload,
            idempotency_key=idempotency_key,
            max_attempts=self.handlers.max_attempts(kind),
            wake=functools.partial(self._dispatch, kind),
        )

    def _dispatch(self, kind: str, job_id: str) -> None:
        """After the commit of a new job (not of an idempotent repeat): count it, start it."""
        self.metrics.enqueued.labels(kind).inc()
        if self.dispatcher is not None:
            self.dispatcher.send_soon(job_id)
        elif self.runner is not None:
            self.runner.wake()
