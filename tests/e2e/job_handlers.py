"""Handlers the e2e tests load into a real server through PAPERWORKS_JOB_MODULES."""

import asyncio
import os
from typing import Any

from paperworks.jobs.handlers import JobContext, JobHandlers, RetryableError, job_handler


@job_handler("e2e.slow", max_attempts=3)
async def slow(ctx: JobContext) -> dict[str, Any]:
    """A couple of seconds of work with progress, long enough to be killed in the middle."""
    steps = int(ctx.payload.get("steps", 20))
    for step in range(steps):
        await ctx.report(int(100 * step / steps), f"step {step + 1} of {steps}")
        ctx.emit("e2e:step", {"step": step + 1, "total": steps})  # as decks emit `slide:*`
        await asyncio.sleep(0.1)
    return {"steps": steps, "attempt": ctx.attempt}


@job_handler("e2e.quick", max_attempts=3)
async def quick(ctx: JobContext) -> dict[str, Any]:
    """Done at once: what throughput and duplicate-delivery tests run."""
    return {"attempt": ctx.attempt, "pid": os.getpid()}


@job_handler("e2e.flaky", max_attempts=3)
async def flaky(ctx: JobContext) -> dict[str, Any]:
    """Fails with a retryable error until attempt `succeed_on` (default 2)."""
    if ctx.attempt < int(ctx.payload.get("succeed_on", 2)):
        raise RetryableError("upstream said 503")
    return {"attempt": ctx.attempt}


HANDLERS = JobHandlers([slow, quick, flaky])  # for runners a test builds itself
