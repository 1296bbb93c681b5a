"""A job followed live over Server-Sent Events, for whoever may see it: the API's bearer or key
holders (`GET /api/v1/jobs/{id}/stream`) and the console's signed-in users alike."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.events.follow import Snapshot, follow
from paperworks.identity.caller import Caller
from paperworks.jobs import service
from paperworks.jobs.models import JobStatus
from paperworks.jobs.schemas import JobOut
from paperworks.kit.errors import AppError
from paperworks.kit.sse import SSE_HEADERS
from paperworks.services import Services

# Who the follower is now, asked again at every read in a session of its own (so access taken
# away ends the stream within a poll); raises an `AppError` once they no longer may.
CallerNow = Callable[[AsyncSession], Awaitable[Caller]]

_END_EVENTS = {
    JobStatus.succeeded: "completed",
    JobStatus.failed: "failed",
    JobStatus.cancelled: "cancelled",
}


async def job_stream(
    session: AsyncSession,
    services: Services,
    caller: Caller,
    job_id: str,
    caller_now: CallerNow,
    is_disconnected: Callable[[], Awaitable[bool]],
) -> StreamingResponse:
    """`job:progress` events until the job's end (`job:completed`, `job:failed`,
    `job:cancelled`), or `job:access_ended` (`code`, `detail`) once `caller_now` refuses."""
    # Checked now, in the request's session: another workspace's job is a plain 404.
    await service.get_job(session, caller, job_id)

    async def read() -> Snapshot:
        async with services.db.sessionmaker() as poll:
            try:
                job = await service.get_job(poll, await caller_now(poll), job_id)
            except AppError as exc:
                ended = {"code": exc.code, "detail": exc.detail}
                return Snapshot(("access_ended",), "job:access_ended", ended, final=True)
        body = JobOut.of(job).model_dump(mode="json", by_alias=True)
        state = (job.status, job.progress, job.message)
        if service.is_finished(job):
            return Snapshot(state, f"job:{_END_EVENTS[JobStatus(job.status)]}", body, final=True)
        return Snapshot(state, "job:progress", body)

    return StreamingResponse(
        follow(services.hub, service.job_room(job_id), read, is_disconnected),
        media_type="text/event-stream",
        headers=SSE_HEADERS,
    )
