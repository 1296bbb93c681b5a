"""Handlers the e2e tests load into a real server through PAPERWORKS_JOB_MODULES."""

import asyncio
from typing import Any

from paperworks.jobs.handlers import JobContext, job_handler


@job_handler("e2e.slow", max_attempts=3)
async def slow(ctx: JobContext) -> dict[str, Any]:
    """A couple of seconds of work with progress, long enough to be killed in the middle."""
    steps = int(ctx.payload.get("steps", 20))
    for step in range(steps):
        await ctx.report(int(100 * step / steps), f"step {step + 1} of {steps}")
        await asyncio.sleep(0.1)
    return {"steps": steps, "attempt": ctx.attempt}
