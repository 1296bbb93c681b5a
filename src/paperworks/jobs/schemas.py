"""Jobs on the wire."""

from __future__ import annotations

from typing import Any

from paperworks.jobs.models import Job, JobStatus
from paperworks.kit.schemas import ApiModel, UtcDateTime


class JobError(ApiModel):
    code: str
    message: str | None


class JobOut(ApiModel):
    id: str
    workspace_id: str
    kind: str
    status: JobStatus
    progress: int
    message: str | None
    payload: dict[str, Any]
    result: dict[str, Any] | None
    error: JobError | None
    attempts: int
    max_attempts: int
    cancel_requested: bool
    run_after: UtcDateTime
    started_at: UtcDateTime | None
    finished_at: UtcDateTime | None
    created_at: UtcDateTime
    updated_at: UtcDateTime

    @classmethod
    def of(cls, job: Job) -> JobOut:
        error = None
        # A queued job may carry the error of its last attempt; it is only *the* error once failed.
        if job.status == JobStatus.failed and job.error_code:
            error = JobError(code=job.error_code, message=job.error_message)
        return cls.model_validate(
            {**{c: getattr(job, c) for c in cls.model_fields if hasattr(job, c)}, "error": error}
        )
