"""`JobQueue`: how products start long work. Enqueue in the request; it starts after commit.

Locally, the commit wakes a free slot of `serve`'s runner; with the Celery backend it sends the job
id to the broker, for a `paperworks worker` to run.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.events.service import Actor
from paperworks.jobs import service
from paperworks.jobs.metrics import JobMetrics, QueueDepthSampler
from paperworks.jobs.models import Job
from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database
from paperworks.settings import JobsBackend, Settings

if TYPE_CHECKING:  # Celery is imported only where the Celery backend is used
    from paperworks.jobs.celery_runner import CeleryDispatcher


class JobQueue:
    def __init__(
        self,
        runner: LocalRunner | None,
        metrics: JobMetrics,
        *,
        dispatcher: CeleryDispatcher | None = None,
        queue_depth: QueueDepthSampler | None = None,
    ) -> None:
        self.runner = runner
        self.metrics = metrics
        self.dispatcher = dispatcher
        self.queue_depth = queue_depth

    @classmethod
    def from_settings(
        cls, settings: Settings, db: Database, registry: CollectorRegistry
    ) -> JobQueue:
        """The app's queue: local slots (unless `job_slots` is 0), or a Celery dispatcher."""
        metrics = JobMetrics(registry)
        sampler = QueueDepthSampler(db, metrics)
        if settings.jobs_backend is JobsBackend.celery:
            from paperworks.jobs.celery_runner import CeleryDispatcher, create_celery

            dispatcher = CeleryDispatcher(create_celery(settings), settings.celery_queue)
            return cls(None, metrics, dispatcher=dispatcher, queue_depth=sampler)
        runner = (
            LocalRunner(
                db,
                slots=settings.job_slots,
                lease_seconds=settings.job_lease_seconds,
                metrics=metrics,
                settings=settings,
            )
            if settings.job_slots
            else None
        )
        return cls(runner, metrics, queue_depth=sampler)

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
        *,
        workspace_id: str,
        user_id: str | None,
        kind: str,
        payload: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        actor: Actor | None = None,
    ) -> Job:
        """Queue a job in the request's transaction; it is dispatched once that commits.
        `actor`: the route's `CurrentActor`, so an API key's job says so on its timeline."""
        return await service.enqueue(
            session,
            workspace_id=workspace_id,
            user_id=user_id,
            kind=kind,
            payload=payload,
            idempotency_key=idempotency_key,
            actor=actor,
            wake=functools.partial(self._dispatch, kind),
        )

    def _dispatch(self, kind: str, job_id: str) -> None:
        """After the commit of a new job (not of an idempotent repeat): count it, start it."""
        self.metrics.enqueued.labels(kind).inc()
        if self.dispatcher is not None:
            self.dispatcher.send_soon(job_id)
        elif self.runner is not None:
            self.runner.wake()
