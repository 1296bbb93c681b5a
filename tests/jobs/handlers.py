"""Job handlers for the runner tests (both runners run them): one that succeeds with a result,
one that fails retryably until a given attempt, one refused by its input, one with a bug, one that
runs until cancelled."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from paperworks.jobs.handlers import JobContext, JobFailed, JobHandlers, RetryableError, job_handler


@job_handler("test.echo")
async def echo(ctx: JobContext) -> dict[str, Any]:
    await ctx.report(50, "halfway")
    doubled = await ctx.run_blocking(lambda n: n * 2, ctx.payload["n"])
    return {"doubled": doubled, "attempt": ctx.attempt}


@job_handler("test.flaky", max_attempts=3)
async def flaky(ctx: JobContext) -> dict[str, Any]:
    """Fails with a retryable error until attempt `succeed_on`."""
    if ctx.attempt < ctx.payload["succeed_on"]:
        raise RetryableError("upstream said 503")
    return {"attempt": ctx.attempt}


@job_handler("test.refused", max_attempts=3)
async def refused(ctx: JobContext) -> None:
    raise JobFailed("page 2 has no sheet 'Q3'", "test.no_sheet")


@job_handler("test.boom")
async def boom(ctx: JobContext) -> None:
    raise RuntimeError("a bug in the handler")


reporting: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)
"""Set, per job id, once `until_cancelled` has stored its first report: its next one, which
also learns whether it was cancelled, is stored a second later (progress writes are throttled),
so until then the test has the database to itself."""


@job_handler("test.until_cancelled")
async def until_cancelled(ctx: JobContext) -> None:
    for step in range(1000):
        await ctx.report(step % 100, f"step {step}")
        reporting[ctx.job_id].set()
        await asyncio.sleep(0.05)


HANDLERS = JobHandlers([echo, flaky, refused, boom, until_cancelled])
