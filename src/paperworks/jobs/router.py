"""Jobs' HTTP surface: list, read, cancel, read a job's timeline, follow one live over SSE."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.events import service as events
from paperworks.events.schemas import EventOut
from paperworks.identity import service as identity
from paperworks.identity.caller import Caller
from paperworks.identity.dependencies import (
    CurrentCaller,
    IdentityConfigDep,
    RequestCredentials,
)
from paperworks.jobs import service
from paperworks.jobs.exceptions import JobAlreadyFinished, JobNotFound
from paperworks.jobs.models import JobStatus
from paperworks.jobs.schemas import JobOut
from paperworks.jobs.stream import job_stream
from paperworks.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from paperworks.services import ServicesDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["jobs"])


@router.get("/jobs", summary="Jobs of the active workspace, oldest first")
async def list_jobs(
    caller: CurrentCaller,
    session: SessionDep,
    kind: str | None = None,
    status: JobStatus | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[JobOut]:
    jobs, next_cursor = await service.list_jobs(
        session, caller, kind=kind, status=status, limit=limit, cursor=cursor
    )
    return Page(items=[JobOut.of(job) for job in jobs], next_cursor=next_cursor)


@router.get(
    "/jobs/{job_id}",
    summary="One job",
    responses={404: {"description": f"{JobNotFound.title} (`{JobNotFound.code}`)"}},
)
async def get_job(job_id: str, caller: CurrentCaller, session: SessionDep) -> JobOut:
    return JobOut.of(await service.get_job(session, caller, job_id))


@router.post(
    "/jobs/{job_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Cancel a job: at once if queued, at its next progress report if running",
    responses={
        404: {"description": f"{JobNotFound.title} (`{JobNotFound.code}`)"},
        409: {"description": f"{JobAlreadyFinished.title} (`{JobAlreadyFinished.code}`)"},
    },
)
async def cancel_job(job_id: str, caller: CurrentCaller, session: SessionDep) -> JobOut:
    return JobOut.of(await service.cancel_job(session, caller, job_id))


@router.get(
    "/jobs/{job_id}/events",
    summary="A job's timeline: queued, started, progress steps, retries, outcome",
    responses={404: {"description": f"{JobNotFound.title} (`{JobNotFound.code}`)"}},
)
async def job_events(
    job_id: str,
    caller: CurrentCaller,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[EventOut]:
    await service.get_job(session, caller, job_id)
    found, next_cursor = await events.timeline(
        session,
        caller,
        resource_type="job",
        resource_id=job_id,
        limit=limit,
        cursor=cursor,
    )
    return Page(items=[EventOut.of(event) for event in found], next_cursor=next_cursor)


@router.get(
    "/jobs/{job_id}/stream",
    summary="Follow a job live: Server-Sent Events until it ends",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Event stream"}},
)
async def stream_job(
    job_id: str,
    caller: CurrentCaller,
    session: SessionDep,
    services: ServicesDep,
    config: IdentityConfigDep,
    credentials: RequestCredentials,
    request: Request,
) -> StreamingResponse:
    """Ends with `job:completed`, `job:failed` or `job:cancelled`; or with `job:access_ended`
    (a problem: `code`, `detail`) once the credentials no longer reach the job: the member
    removed from the workspace, the token expired, the API key revoked."""

    async def caller_now(poll: AsyncSession) -> Caller:
        return await identity.caller_for(poll, config, credentials)

    return await job_stream(session, services, caller, job_id, caller_now, request.is_disconnected)
