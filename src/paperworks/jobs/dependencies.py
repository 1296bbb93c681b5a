"""What job-creating routes depend on: the `Idempotency-Key` header, scoped to the request's
route and resource (its method and path)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Request

from paperworks.jobs.exceptions import InvalidIdempotencyKey
from paperworks.jobs.idempotency import Idempotency
from paperworks.kit.errors import declare_problems

_SANE_KEY = re.compile(r"[\x21-\x7e]{1,200}")  # printable ASCII, no spaces


async def idempotency_key(
    request: Request,
    value: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Repeat a job-creating request (same route, same resource) with the "
            "same key to get the same job; the key means nothing on another route or resource. "
            "1-200 printable ASCII characters, no spaces",
            # Documented, and checked below: a key that breaks it is its own problem.
            json_schema_extra={
                "pattern": f"^{_SANE_KEY.pattern}$",
                "minLength": 1,
                "maxLength": 200,
            },
        ),
    ] = None,
) -> Idempotency | None:
    if value is None:
        return None
    if not _SANE_KEY.fullmatch(value):
        raise InvalidIdempotencyKey("Idempotency-Key must be 1-200 printable ASCII characters.")
    return Idempotency(value, f"{request.method} {request.url.path}")


IdempotencyKey = Annotated[Idempotency | None, Depends(idempotency_key)]
declare_problems(idempotency_key, InvalidIdempotencyKey)
