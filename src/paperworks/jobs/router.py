"""Jobs' HTTP surface: list, read, cancel, read a job's timeline, follow one live over SSE."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request, status
from fastapi.responses import StreamingResponse

from paperworks.events import service as events
from paperworks.events.dependencies import CurrentActor, Hub
from paperworks.events.hub import LiveMessage
from paperworks.events.schemas import EventOut
from paperworks.identity.dependencies import ActiveWorkspace
from paperworks.jobs import service
from paperworks.jobs.exceptions import JobAlreadyFinished, JobNotFound
from paperworks.jobs.models import JobStatus
from paperworks.jobs.schemas import JobOut
from paperworks.kit.db import Database
from paperworks.kit.dependencies import SessionDep
from paperworks.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from paperworks.kit.sse import SSE_HEADERS, sse_event

router = APIRouter(prefix="/api/v1", tags=["jobs"])

# Changes made in this process arrive through the hub at once; the job is also re-read this often,
# so a stream follows jobs run by other processes (Celery workers) too.
STREAM_POLL_SECONDS = 1.0
STREAM_KEEPALIVE_SECONDS = 15.0


@router.get("/jobs", summary="Jobs of the active workspace, oldest first")
async def list_jobs(
    ws: ActiveWorkspace,
    session: SessionDep,
    kind: str | None = None,
    status: JobStatus | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[JobOut]:
    jobs, next_cursor = await service.list_jobs(
        session, workspace_id=ws.workspace.id, kind=kind, status=status, limit=limit, cursor=cursor
    )
    return Page(items=[JobOut.of(job) for job in jobs], next_cursor=next_cursor)


@router.get(
    "/jobs/{job_id}",
    summary="One job",
    responses={404: {"description": f"{JobNotFound.title} (`{JobNotFound.code}`)"}},
)
async def get_job(job_id: str, ws: ActiveWorkspace, session: SessionDep) -> JobOut:
    return JobOut.of(await service.get_job(session, workspace_id=ws.workspace.id, job_id=job_id))


@router.post(
    "/jobs/{job_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Cancel a job: at once if queued, at its next progress report if running",
    responses={
        404: {"description": f"{JobNotFound.title} (`{JobNotFound.code}`)"},
        409: {"description": f"{JobAlreadyFinished.title} (`{JobAlreadyFinished.code}`)"},
    },
)
async def cancel_job(
    job_id: str, ws: ActiveWorkspace, session: SessionDep, actor: CurrentActor
) -> JobOut:
    job = await service.cancel_job(
        session, workspace_id=ws.workspace.id, job_id=job_id, actor=actor
    )
    return JobOut.of(job)


@router.get(
    "/jobs/{job_id}/events",
    summary="A job's timeline: queued, started, progress steps, retries, outcome",
    responses={404: {"description": f"{JobNotFound.title} (`{JobNotFound.code}`)"}},
)
async def job_events(
    job_id: str,
    ws: ActiveWorkspace,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[EventOut]:
    await service.get_job(session, workspace_id=ws.workspace.id, job_id=job_id)
    found, next_cursor = await events.timeline(
        session,
        workspace_id=ws.workspace.id,
        viewer_id=ws.user.id,
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
    job_id: str, ws: ActiveWorkspace, session: SessionDep, hub: Hub, request: Request
) -> StreamingResponse:
    # Checked now, in the request's session: another workspace's job is a plain 404.
    await service.get_job(session, workspace_id=ws.workspace.id, job_id=job_id)
    db: Database = request.app.state.db
    workspace_id = ws.workspace.id

    async def stream() -> AsyncIterator[bytes]:
        # Subscribed before the first read, so no change can fall between the two.
        with hub.subscribe(service.job_room(job_id)) as changes:
            last: tuple[str, int, str | None] | None = None
            quiet_since = asyncio.get_running_loop().time()
            while True:
                async with db.sessionmaker() as poll:
                    job = await service.get_job(poll, workspace_id=workspace_id, job_id=job_id)
                body = JobOut.of(job).model_dump(mode="json", by_alias=True)
                state = (job.status, job.progress, job.message)
                if state != last:
                    last, quiet_since = state, asyncio.get_running_loop().time()
                    if service.is_finished(job):
                        yield sse_event(f"job:{_END_EVENTS[JobStatus(job.status)]}", body)
                        return
                    yield sse_event("job:progress", body)
                elif asyncio.get_running_loop().time() - quiet_since > STREAM_KEEPALIVE_SECONDS:
                    quiet_since = asyncio.get_running_loop().time()
                    yield b": keep-alive\n\n"
                if await request.is_disconnected():
                    return
                await _next_change(changes)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers=SSE_HEADERS,
    )


async def _next_change(changes: asyncio.Queue[LiveMessage]) -> None:
    """Wait for the hub to announce a change to the job, or for the next poll."""
    try:
        await asyncio.wait_for(changes.get(), STREAM_POLL_SECONDS)
    except TimeoutError:
        return
    while not changes.empty():  # a burst of ticks is one re-read
        changes.get_nowait()


_END_EVENTS = {
    JobStatus.succeeded: "completed",
    JobStatus.failed: "failed",
    JobStatus.cancelled: "cancelled",
}
