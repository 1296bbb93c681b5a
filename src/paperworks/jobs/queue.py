"""`JobQueue`: how products start long work. Enqueue in the request; it starts after commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.jobs import service
from paperworks.jobs.models import Job
from paperworks.jobs.runner import JobMetrics, LocalRunner
from paperworks.kit.db import on_commit


class JobQueue:
    def __init__(self, runner: LocalRunner | None, metrics: JobMetrics) -> None:
        self.runner = runner
        self.metrics = metrics

    async def enqueue(
        self,
        session: AsyncSession,
        *,
        workspace_id: str,
        user_id: str | None,
        kind: str,
        payload: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Job:
        job = await service.enqueue(
            session,
            workspace_id=workspace_id,
            user_id=user_id,
            kind=kind,
            payload=payload,
            idempotency_key=idempotency_key,
            wake=self.runner.wake if self.runner else None,
        )
        on_commit(session, self.metrics.enqueued.labels(kind).inc)
        return job
