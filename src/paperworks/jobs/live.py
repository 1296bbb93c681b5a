"""Jobs as socket.io clients follow them: `subscribe {"jobId"}` answers with the job's state, and a
job that already ended has its end told again to the late follower, the platform's
(`job:completed`, `job:failed`, `job:cancelled`) and its product's (`slide:completed`...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.events.hub import LiveMessage
from paperworks.events.socket_server import Followable, Followed
from paperworks.jobs import service
from paperworks.jobs.handlers import JobHandlers
from paperworks.jobs.models import Job

if TYPE_CHECKING:
    from paperworks.services import Services


class FollowedJobs:
    def __init__(self, handlers: JobHandlers, services: Services) -> None:
        self.handlers = handlers
        self.services = services

    def followable(self) -> Followable:
        return Followable("job", self.look_up)

    async def look_up(
        self, session: AsyncSession, workspace_id: str, job_id: str
    ) -> Followed | None:
        job = await session.scalar(
            select(Job).where(Job.id == job_id, Job.workspace_id == workspace_id)
        )
        if job is None:
            return None
        state = {
            "id": job.id,
            "status": job.status,
            "progress": job.progress,
            "message": job.message,
        }
        if not service.is_finished(job):
            return Followed(state)
        ended = [service.end_message(job)]
        handler = self.handlers.get(job.kind)
        if handler is not None and handler.end_events is not None:
            room = (service.job_room(job.id),)
            for name, data in await handler.end_events(job, self.services):
                ended.append(LiveMessage(name, {"jobId": job.id, **data}, room))
        return Followed(state, ended)
