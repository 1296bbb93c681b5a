"""What job-creating routes depend on: the queue and the `Idempotency-Key` header."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Request

from paperworks.jobs.exceptions import InvalidIdempotencyKey
from paperworks.jobs.queue import JobQueue

_SANE_KEY = re.compile(r"[\x21-\x7e]{1,200}")  # printable ASCII, no spaces


def idempotency_key(
    value: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Repeat a job-creating request with the same key to get the same job",
        ),
    ] = None,
) -> str | None:
    if value is not None and not _SANE_KEY.fullmatch(value):
        raise InvalidIdempotencyKey("Idempotency-Key must be 1-200 printable ASCII characters.")
    return value


IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]


def get_job_queue(request: Request) -> JobQueue:
    queue: JobQueue = request.app.state.job_queue
    return queue


Jobs = Annotated[JobQueue, Depends(get_job_queue)]
