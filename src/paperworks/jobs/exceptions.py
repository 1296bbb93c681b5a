"""Jobs' errors."""

from paperworks.kit.errors import AppError, Conflict, NotFound


class JobNotFound(NotFound):
    code = "job.not_found"
    title = "Job not found"


class JobAlreadyFinished(Conflict):
    code = "job.already_finished"
    title = "The job has already finished"


class InvalidIdempotencyKey(AppError):
    status_code = 422
    code = "request.invalid_idempotency_key"
    title = "Malformed Idempotency-Key"


class IdempotentRequestInProgress(Conflict):
    code = "request.idempotency_key_in_use"
    title = "A request with this Idempotency-Key is in progress"
