"""What job-creating routes depend on: the `Idempotency-Key` header."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header

from paperworks.jobs.exceptions import InvalidIdempotencyKey

_SANE_KEY = re.compile(r"[\x21-\x7e]{1,200}")  # printable ASCII, no spaces


async def idempotency_key(
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
