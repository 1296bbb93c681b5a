"""Jobs' operations: enqueue, read, cancel, and what runners do to rows (claim, renew, finish).

Every state change is one conditional UPDATE, so two runners (or a runner and a cancelling user)
can never both win: the loser's WHERE no longer matches. Each change that happened is published as
an event (`job.started`, `job.succeeded`...) in the same transaction, and heard live in the job's
room (`job:progress`, `job:completed`, `job:failed`) once it commits.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.events import service as events
from paperworks.events.hub import LiveMessage
from paperworks.events.service import Resource
from paperworks.identity.caller import SYSTEM, Caller
from paperworks.identity.tenancy import get_scoped, scoped
from paperworks.jobs.exceptions import IdempotentRequestInProgress, JobAlreadyFinished, JobNotFound
from paperworks.jobs.handlers import DEFAULT_MAX_ATTEMPTS
from paperworks.jobs.idempotency import Idempotency
from paperworks.jobs.models import FINISHED, Job, JobStatus
from paperworks.kit.db import on_commit
from paperworks.kit.pagination import fetch_page

# A finished job's message says how it finished: a progress step is no answer to "how did it go".
DONE = "Done."
CANCELLED = "Cancelled."
MESSAGE_LENGTH = 500
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 300.0


def _now() -> datetime:
    return datetime.now(UTC)


def job_room(job_id: str) -> str:
    return f"job:{job_id}"


def _live(name: str, job_id: str, kind: str, **data: Any) -> LiveMessage:
    return LiveMessage(name, {"jobId": job_id, "kind": kind, **data}, (job_room(job_id),))


async def _publish(
    session: AsyncSession,
    type: str,
    job_id: str,
    workspace_id: str,
    payload: dict[str, Any],
    *,
    actor: Caller = SYSTEM,
    live: LiveMessage | None = None,
) -> None:
    resource = Resource("job", job_id, workspace_id)
    await events.publish(session, type, resource, payload, actor=actor, live=live)


# --- what requests do -------------------------------------------------------------------------


async def enqueue(
    session: AsyncSession,
    caller: Caller,
    *,
    kind: str,
    payload: dict[str, Any] | None = None,
    idempotency_key: Idempotency | None = None,
    max_attempts: int | None = None,
    wake: Callable[[str], None] | None = None,
) -> Job:
    """A queued job in the caller's workspace, started by them (`job.queued` names them and
    their API key), dispatched (`wake(job id)`) only once the request commits. A repeat of a
    request (same caller, route, resource and `Idempotency-Key`) gets the job it created instead;
    while that first request is still open, the repeat is a 409 (the unique key says so)."""
    stored_key = None
    if idempotency_key is not None:
        existing = await job_for_key(session, caller, idempotency_key)
        if existing is not None:
            return existing
        stored_key = idempotency_key.stored_for(caller)
    workspace_id = caller.workspace
    job = Job(
        workspace_id=workspace_id,
        user_id=caller.user_id,
        kind=kind,
        status=JobStatus.queued,
        payload=payload or {},
        idempotency_key=stored_key,
        max_attempts=max_attempts or DEFAULT_MAX_ATTEMPTS,
        run_after=_now(),
    )
    session.add(job)
    try:
        await session.flush()
    except IntegrityError as exc:
        if stored_key is None or "idempotency_key" not in str(exc.orig):
            raise
        raise IdempotentRequestInProgress(
            "A request with this Idempotency-Key is still being handled; repeat it to get its job."
        ) from exc
    await _publish(session, "job.queued", job.id, workspace_id, {"kind": kind}, actor=caller)
    if wake is not None:
        job_id = job.id
        on_commit(session, lambda: wake(job_id))
    return job


async def job_for_key(
    session: AsyncSession, caller: Caller, idempotency_key: Idempotency
) -> Job | None:
    """The job an earlier request created with this `Idempotency-Key`: by the same caller, to the
    same route and resource, in the workspace."""
    stored = idempotency_key.stored_for(caller)
    return await session.scalar(scoped(select(Job).where(Job.idempotency_key == stored), caller))


async def get_job(session: AsyncSession, caller: Caller, job_id: str) -> Job:
    job = await get_scoped(session, caller, Job, job_id)
    if job is None:
        raise JobNotFound(f"No job {job_id}.")
    return job


async def list_jobs(
    session: AsyncSession,
    caller: Caller,
    *,
    kind: str | None,
    status: JobStatus | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Job], str | None]:
    query = scoped(select(Job), caller)
    if kind is not None:
        query = query.where(Job.kind == kind)
    if status is not None:
        query = query.where(Job.status == status)
    return await fetch_page(session, query, Job.id, limit=limit, cursor=cursor)


async def cancel_job(session: AsyncSession, caller: Caller, job_id: str) -> Job:
    """Queued: cancelled at once. Running: flagged; the handler stops at its next report."""
    job = await get_job(session, caller, job_id)
    workspace_id, actor = job.workspace_id, caller
    now = _now()
    cancelled = await session.execute(
        update(Job)
        .where(Job.id == job.id, Job.status == JobStatus.queued)
        .values(status=JobStatus.cancelled, finished_at=now, updated_at=now, message=CANCELLED)
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
        await _publish(session, "job.cancel_requested", job.id, workspace_id, {}, actor=actor)
    else:
        await _announce_cancelled(session, job.id, workspace_id, job.kind, actor=actor)
    await session.refresh(job)
    return job


async def _announce_cancelled(
    session: AsyncSession, job_id: str, workspace_id: str, kind: str, *, actor: Caller = SYSTEM
) -> None:
    live = _live("job:cancelled", job_id, kind)
    await _publish(session, "job.cancelled", job_id, workspace_id, {}, actor=actor, live=live)


# --- what runners do --------------------------------------------------------------------------


def _due(now: datetime) -> ColumnElement[bool]:
    return (Job.status == JobStatus.queued) & (Job.run_after <= now)


def _expired(now: datetime) -> ColumnElement[bool]:
    return (Job.status == JobStatus.running) & (Job.lease_until < now)


async def has_due_jobs(session: AsyncSession) -> bool:
    """Whether `claim_next` would find work. Runners ask first, in a read-only transaction of
    its own: on SQLite an idle runner's claim UPDATE would take the write lock every poll, and a
    request that had read and then writes meanwhile would have to start over."""
    return bool(await session.scalar(select(exists().where(_due(_now())))))


async def has_expired_leases(session: AsyncSession) -> bool:
    """Whether `recover_expired` would find work (asked first for the same reason)."""
    return bool(await session.scalar(select(exists().where(_expired(_now())))))


async def claim_next(session: AsyncSession, *, lease: timedelta) -> Job | None:
    """Take the oldest job that may run now, atomically: one UPDATE whose subquery skips rows
    another runner has locked (PostgreSQL); SQLite has a single writer anyway."""
    now = _now()
    candidate = (
        select(Job.id)
        .where(_due(now))
        .order_by(Job.run_after, Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return await _claim(session, candidate, now=now, lease=lease)


async def claim(session: AsyncSession, job_id: str, *, lease: timedelta) -> Job | None:
    """Claim one named job (a Celery task carries only the id): None if it is not queued."""
    return await _claim(session, job_id, now=_now(), lease=lease)


async def _claim(
    session: AsyncSession, job_id: Any, *, now: datetime, lease: timedelta
) -> Job | None:
    """Start the job `job_id` (an id, or a subquery choosing one) if it is still queued: the one
    conditional UPDATE both runners win or lose a job by."""
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
        .returning(Job.id)
    )
    started_id = claimed.scalar_one_or_none()
    if started_id is None:
        return None
    job = await session.get_one(Job, started_id, populate_existing=True)
    live = _live("job:started", job.id, job.kind, attempt=job.attempts)
    await _publish(
        session, "job.started", job.id, job.workspace_id, {"attempt": job.attempts}, live=live
    )
    return job


async def renew_leases(session: AsyncSession, job_ids: list[str], *, lease: timedelta) -> None:
    if job_ids:
        await session.execute(
            update(Job)
            .where(Job.id.in_(job_ids), Job.status == JobStatus.running)
            .values(lease_until=_now() + lease)
        )


PROGRESS_EVENT_STEP = 10  # a stored `job.progress` event per 10 points, or per new message


async def record_progress(
    session: AsyncSession, job_id: str, *, progress: int, message: str | None
) -> bool:
    """Store progress and announce it live; True if the job has been cancelled meanwhile.

    The timeline keeps only steps (every 10 points, or a new message): a job reporting each row
    it processes must not write thousands of events."""
    # Written before anything is read: on SQLite a transaction that has read cannot wait for
    # another writer's lock. The first UPDATE takes the lock and hands back the old values.
    running = (Job.id == job_id) & (Job.status == JobStatus.running)
    before = (
        await session.execute(
            update(Job)
            .where(running)
            .values(updated_at=_now())
            .returning(Job.progress, Job.message, Job.workspace_id, Job.kind, Job.cancel_requested)
        )
    ).first()
    if before is None:  # no longer running: nothing to record, nothing to stop
        return False
    await session.execute(update(Job).where(running).values(progress=progress, message=message))
    live = _live("job:progress", job_id, before.kind, progress=progress, message=message)
    if message != before.message or (
        progress // PROGRESS_EVENT_STEP != before.progress // PROGRESS_EVENT_STEP
    ):
        payload = {"progress": progress, "message": message}
        await _publish(session, "job.progress", job_id, before.workspace_id, payload, live=live)
    else:
        events.announce(session, live)
    return bool(before.cancel_requested)


async def _finish(session: AsyncSession, job_id: str, **values: Any) -> tuple[str, str] | None:
    """End a running job; its (workspace_id, kind), or None if it was not running."""
    now = _now()
    done = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.running)
        .values(lease_until=None, finished_at=now, updated_at=now, **values)
        .returning(Job.workspace_id, Job.kind)
    )
    row = done.first()
    return (row.workspace_id, row.kind) if row else None


def _said(message: str) -> str:
    """A job's `message` column holds 500 characters; the error columns keep the whole text."""
    return message if len(message) <= MESSAGE_LENGTH else message[: MESSAGE_LENGTH - 1] + "…"


async def succeed(
    session: AsyncSession,
    job_id: str,
    result: dict[str, Any] | None,
    *,
    summary: str = DONE,
) -> bool:
    """`summary`: what the finished job's message says (the handler's, or "Done.")."""
    result = result or {}
    finished = await _finish(
        session,
        job_id,
        status=JobStatus.succeeded,
        progress=100,
        result=result,
        message=_said(summary),
    )
    if finished:
        workspace_id, kind = finished
        live = _live("job:completed", job_id, kind, result=result)
        await _publish(session, "job.succeeded", job_id, workspace_id, {}, live=live)
    return finished is not None


async def fail(session: AsyncSession, job_id: str, *, code: str, message: str) -> bool:
    message = message[:2000]
    finished = await _finish(
        session,
        job_id,
        status=JobStatus.failed,
        error_code=code,
        error_message=message,
        message=_said(f"Failed: {message}"),
    )
    if finished:
        await _announce_failed(session, job_id, *finished, code=code, message=message)
    return finished is not None


async def _announce_failed(
    session: AsyncSession, job_id: str, workspace_id: str, kind: str, *, code: str, message: str
) -> None:
    error = {"code": code, "message": message}
    live = _live("job:failed", job_id, kind, error=error)
    await _publish(session, "job.failed", job_id, workspace_id, {"error": error}, live=live)


async def cancelled(session: AsyncSession, job_id: str) -> bool:
    finished = await _finish(session, job_id, status=JobStatus.cancelled, message=CANCELLED)
    if finished:
        await _announce_cancelled(session, job_id, *finished)
    return finished is not None


def backoff(attempt: int) -> timedelta:
    """Exponential with full jitter: retries of many jobs that failed together spread out."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
    # Retry jitter, not a secret: nothing gains from predicting it.
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311  # nosec B311


async def retry_or_fail(session: AsyncSession, job: Job, *, code: str, message: str) -> JobStatus:
    """After a retryable failure: queue again later, or fail once attempts are used up."""
    if job.attempts >= job.max_attempts:
        await fail(session, job.id, code=code, message=f"{message} (after {job.attempts} attempts)")
        return JobStatus.failed
    now = _now()
    run_after = now + backoff(job.attempts)
    requeued = await session.execute(
        update(Job)
        .where(Job.id == job.id, Job.status == JobStatus.running)
        .values(
            status=JobStatus.queued,
            lease_until=None,
            run_after=run_after,
            error_code=code,
            error_message=message[:2000],
            message=_said(f"Waiting to try again: {message}"),
            updated_at=now,
        )
    )
    if requeued.rowcount:  # type: ignore[attr-defined]
        payload = {
            "attempt": job.attempts,
            "runAfter": run_after.isoformat().replace("+00:00", "Z"),
            "error": {"code": code, "message": message[:2000]},
        }
        live = _live("job:retrying", job.id, job.kind, **payload)
        await _publish(session, "job.retry_scheduled", job.id, job.workspace_id, payload, live=live)
    return JobStatus.queued


class Recovered(NamedTuple):
    requeued: list[str]  # ids of jobs queued again, due now
    failed: list[str]  # ids of jobs failed as `job.lost`


async def recover_expired(session: AsyncSession) -> Recovered:
    """Jobs whose runner vanished (its lease ran out): queued again if attempts remain, else
    failed with a reason (or cancelled, if that was asked). Never left `running`."""
    now = _now()
    expired = _expired(now)
    returning = (Job.id, Job.workspace_id, Job.kind)
    requeued = (
        await session.execute(
            update(Job)
            .where(expired, Job.attempts < Job.max_attempts, Job.cancel_requested.is_(False))
            .values(
                status=JobStatus.queued,
                lease_until=None,
                run_after=now,
                updated_at=now,
                message="Queued again: the worker running it stopped.",
            )
            .returning(*returning)
        )
    ).all()
    for job_id, workspace_id, kind in requeued:
        payload = {"reason": "lease_expired"}
        live = _live("job:requeued", job_id, kind, **payload)
        await _publish(session, "job.requeued", job_id, workspace_id, payload, live=live)
    cancelled_now = (
        await session.execute(
            update(Job)
            .where(expired, Job.cancel_requested.is_(True))
            .values(
                status=JobStatus.cancelled,
                lease_until=None,
                finished_at=now,
                updated_at=now,
                message=CANCELLED,
            )
            .returning(*returning)
        )
    ).all()
    for job_id, workspace_id, kind in cancelled_now:
        await _announce_cancelled(session, job_id, workspace_id, kind)
    lost = "The worker running this job stopped and no attempts were left."
    failed = (
        await session.execute(
            update(Job)
            .where(expired)
            .values(
                status=JobStatus.failed,
                lease_until=None,
                finished_at=now,
                updated_at=now,
                error_code="job.lost",
                error_message=lost,
                message=f"Failed: {lost}",
            )
            .returning(*returning)
        )
    ).all()
    for job_id, workspace_id, kind in failed:
        await _announce_failed(session, job_id, workspace_id, kind, code="job.lost", message=lost)
    return Recovered([row.id for row in requeued], [row.id for row in failed])


async def due_job_ids(session: AsyncSession, *, limit: int) -> list[str]:
    """Queued jobs that may run now, the longest waiting first."""
    query = select(Job.id).where(_due(_now())).order_by(Job.run_after, Job.id).limit(limit)
    return list(await session.scalars(query))


async def queued_until(session: AsyncSession, job_id: str) -> datetime | None:
    """When a queued job may run (a retry's backoff end); None if it is not queued."""
    query = select(Job.run_after).where(Job.id == job_id, Job.status == JobStatus.queued)
    return await session.scalar(query)


def is_finished(job: Job) -> bool:
    return job.status in FINISHED


def end_message(job: Job) -> LiveMessage:
    """The live message that told of a finished job's end, as it was sent then."""
    if job.status == JobStatus.succeeded:
        return _live("job:completed", job.id, job.kind, result=job.result or {})
    if job.status == JobStatus.failed:
        error = {"code": job.error_code, "message": job.error_message}
        return _live("job:failed", job.id, job.kind, error=error)
    return _live("job:cancelled", job.id, job.kind)
