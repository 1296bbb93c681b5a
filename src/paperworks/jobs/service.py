"""Jobs' operations: enqueue, read, cancel, and what runners do to rows (claim, renew, finish).

Every state change is one conditional UPDATE, so two runners (or a runner and a cancelling user)
can never both win: the loser's WHERE no longer matches.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.jobs.exceptions import JobAlreadyFinished, JobNotFound
from paperworks.jobs.handlers import DEFAULT_MAX_ATTEMPTS, registration
from paperworks.jobs.models import FINISHED, Job, JobStatus
from paperworks.kit.db import on_commit
from paperworks.kit.pagination import fetch_page

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 300.0


def _now() -> datetime:
    return datetime.now(UTC)


# --- what requests do -------------------------------------------------------------------------


async def enqueue(
    session: AsyncSession,
    *,
    workspace_id: str,
    user_id: str | None,
    kind: str,
    payload: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    max_attempts: int | None = None,
    wake: Callable[[], None] | None = None,
) -> Job:
    """A queued job, dispatched (`wake`) only once the request commits. With an idempotency key
    already used in this workspace, the job it created instead."""
    if idempotency_key is not None:
        existing = await session.scalar(
            select(Job).where(
                Job.workspace_id == workspace_id, Job.idempotency_key == idempotency_key
            )
        )
        if existing is not None:
            return existing
    registered = registration(kind)
    job = Job(
        workspace_id=workspace_id,
        user_id=user_id,
        kind=kind,
        status=JobStatus.queued,
        payload=payload or {},
        idempotency_key=idempotency_key,
        max_attempts=max_attempts
        or (registered.max_attempts if registered else DEFAULT_MAX_ATTEMPTS),
        run_after=_now(),
    )
    session.add(job)
    await session.flush()
    if wake is not None:
        on_commit(session, wake)
    return job


async def get_job(session: AsyncSession, *, workspace_id: str, job_id: str) -> Job:
    job = await session.get(Job, job_id)
    if job is None or job.workspace_id != workspace_id:
        raise JobNotFound(f"No job {job_id}.")
    return job


async def list_jobs(
    session: AsyncSession,
    *,
    workspace_id: str,
    kind: str | None,
    status: JobStatus | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Job], str | None]:
    query = select(Job).where(Job.workspace_id == workspace_id)
    if kind is not None:
        query = query.where(Job.kind == kind)
    if status is not None:
        query = query.where(Job.status == status)
    return await fetch_page(session, query, Job.id, limit=limit, cursor=cursor)


async def cancel_job(session: AsyncSession, *, workspace_id: str, job_id: str) -> Job:
    """Queued: cancelled at once. Running: flagged; the handler stops at its next report."""
    job = await get_job(session, workspace_id=workspace_id, job_id=job_id)
    now = _now()
    cancelled = await session.execute(
        update(Job)
        .where(Job.id == job.id, Job.status == JobStatus.queued)
        .values(status=JobStatus.cancelled, finished_at=now, updated_at=now)
    )
    if cancelled.rowcount == 0:  # type: ignore[attr-defined]
        flagged = await session.execute(
            update(Job)
            .where(Job.id == job.id, Job.status == JobStatus.running)
            .values(cancel_requested=True, updated_at=now)
        )
        if flagged.rowcount == 0:  # type: ignore[attr-defined]
            await session.refresh(job)
            raise JobAlreadyFinished(f"The job already {job.status}.")
    await session.refresh(job)
    return job


# --- what runners do --------------------------------------------------------------------------


async def claim_next(session: AsyncSession, *, lease: timedelta) -> Job | None:
    """Take the oldest job that may run now, atomically: one UPDATE whose subquery skips rows
    another runner has locked (PostgreSQL); SQLite has a single writer anyway."""
    now = _now()
    candidate = (
        select(Job.id)
        .where(Job.status == JobStatus.queued, Job.run_after <= now)
        .order_by(Job.run_after, Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed = await session.execute(
        update(Job)
        .where(Job.id == candidate, Job.status == JobStatus.queued)
        .values(
            status=JobStatus.running,
            attempts=Job.attempts + 1,
            lease_until=now + lease,
            started_at=now,
            updated_at=now,
        )
        .returning(Job.id)
    )
    job_id = claimed.scalar_one_or_none()
    return await session.get(Job, job_id, populate_existing=True) if job_id else None


async def claim(session: AsyncSession, job_id: str, *, lease: timedelta) -> Job | None:
    """Claim one named job (a Celery task carries only the id): None if it is not queued."""
    now = _now()
    claimed = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.queued)
        .values(
            status=JobStatus.running,
            attempts=Job.attempts + 1,
            lease_until=now + lease,
            started_at=now,
            updated_at=now,
        )
    )
    if claimed.rowcount == 0:  # type: ignore[attr-defined]
        return None
    return await session.get(Job, job_id, populate_existing=True)


async def renew_leases(session: AsyncSession, job_ids: list[str], *, lease: timedelta) -> None:
    if job_ids:
        await session.execute(
            update(Job)
            .where(Job.id.in_(job_ids), Job.status == JobStatus.running)
            .values(lease_until=_now() + lease)
        )


async def record_progress(
    session: AsyncSession, job_id: str, *, progress: int, message: str | None
) -> bool:
    """Store progress; True if the job has been cancelled meanwhile."""
    await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.running)
        .values(progress=progress, message=message, updated_at=_now())
    )
    return bool(await session.scalar(select(Job.cancel_requested).where(Job.id == job_id)))


async def _finish(session: AsyncSession, job_id: str, **values: Any) -> bool:
    now = _now()
    done = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.running)
        .values(lease_until=None, finished_at=now, updated_at=now, **values)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


async def succeed(session: AsyncSession, job_id: str, result: dict[str, Any] | None) -> bool:
    return await _finish(
        session, job_id, status=JobStatus.succeeded, progress=100, result=result or {}
    )


async def fail(session: AsyncSession, job_id: str, *, code: str, message: str) -> bool:
    return await _finish(
        session, job_id, status=JobStatus.failed, error_code=code, error_message=message[:2000]
    )


async def cancelled(session: AsyncSession, job_id: str) -> bool:
    return await _finish(session, job_id, status=JobStatus.cancelled)


def backoff(attempt: int) -> timedelta:
    """Exponential with full jitter: retries of many jobs that failed together spread out."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 - not crypto


async def retry_or_fail(session: AsyncSession, job: Job, *, code: str, message: str) -> JobStatus:
    """After a retryable failure: queue again later, or fail once attempts are used up."""
    if job.attempts >= job.max_attempts:
        await fail(session, job.id, code=code, message=f"{message} (after {job.attempts} attempts)")
        return JobStatus.failed
    now = _now()
    await session.execute(
        update(Job)
        .where(Job.id == job.id, Job.status == JobStatus.running)
        .values(
            status=JobStatus.queued,
            lease_until=None,
            run_after=now + backoff(job.attempts),
            error_code=code,
            error_message=message[:2000],
            updated_at=now,
        )
    )
    return JobStatus.queued


async def recover_expired(session: AsyncSession) -> tuple[int, int]:
    """Jobs whose runner vanished (its lease ran out): queued again if attempts remain, else
    failed with a reason. Never left `running`. Returns (requeued, failed)."""
    now = _now()
    expired = (Job.status == JobStatus.running) & (Job.lease_until < now)
    requeued = await session.execute(
        update(Job)
        .where(expired, Job.attempts < Job.max_attempts, Job.cancel_requested.is_(False))
        .values(status=JobStatus.queued, lease_until=None, run_after=now, updated_at=now)
    )
    await session.execute(
        update(Job)
        .where(expired, Job.cancel_requested.is_(True))
        .values(status=JobStatus.cancelled, lease_until=None, finished_at=now, updated_at=now)
    )
    failed = await session.execute(
        update(Job)
        .where(expired)
        .values(
            status=JobStatus.failed,
            lease_until=None,
            finished_at=now,
            updated_at=now,
            error_code="job.lost",
            error_message="The worker running this job stopped and no attempts were left.",
        )
    )
    return requeued.rowcount, failed.rowcount  # type: ignore[attr-defined]


def is_finished(job: Job) -> bool:
    return job.status in FINISHED
