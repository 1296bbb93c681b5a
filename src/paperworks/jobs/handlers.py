"""Job handlers register by kind; a handler gets a `JobContext` and returns the job's result.

@job_handler("decks.build", max_attempts=3)
async def build_deck(ctx: JobContext) -> dict[str, Any]:
    await ctx.report(10, "planning")
    data = await ctx.run_blocking(render_pptx, ctx.payload["plan"])  # never on the loop
    ctx.emit("slide:progress", {"slide": 3, "total": 5})  # live only, to the job's followers
    ...
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    from paperworks.kit.db import Database
    from paperworks.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_MAX_ATTEMPTS = 3


class RetryableError(Exception):
    """Raise from a handler for a failure worth another attempt (a timeout, a 503 upstream)."""

    code = "job.retryable"


class JobCancelled(Exception):
    """Raised inside a handler at its next progress report once someone cancelled the job."""


class JobContext:
    """What a running handler sees of its job."""

    def __init__(
        self,
        *,
        job_id: str,
        kind: str,
        payload: dict[str, Any],
        workspace_id: str,
        user_id: str | None,
        attempt: int,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        report: Callable[[int, str | None], Awaitable[bool]],
        emit: Callable[[str, dict[str, Any]], None],
        db: Database,
        settings: Settings | None = None,
    ) -> None:
        self.job_id = job_id
        self.kind = kind
        self.payload = payload
        self.workspace_id = workspace_id
        self.user_id = user_id
        self.attempt = attempt
        self.max_attempts = max_attempts
        self._report = report
        self._emit = emit
        self.db = db  # for the handler's own transactions: `async with ctx.db.session_scope()`
        self._settings = settings

    @property
    def last_attempt(self) -> bool:
        """Whether a `RetryableError` now fails the job instead of queueing another attempt."""
        return self.attempt >= self.max_attempts

    @property
    def settings(self) -> Settings:
        """The configuration of the process running the job (API keys, storage)."""
        if self._settings is None:
            raise RuntimeError("this runner was started without settings")
        return self._settings

    async def report(self, progress: int, message: str | None = None) -> None:
        """Record progress (0-100); raises `JobCancelled` if the job was cancelled meanwhile."""
        if await self._report(max(0, min(100, progress)), message):
            raise JobCancelled(self.job_id)

    def emit(self, name: str, data: dict[str, Any]) -> None:
        """Tell live clients following this job something of the product's own (`slide:progress`):
        sent at once to the job's room with `jobId` added, never stored, never throttled. What
        must outlive the moment belongs in the result or in a stored event."""
        self._emit(name, {"jobId": self.job_id, **data})

    async def run_blocking(self, function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run CPU-bound or blocking work in a worker thread, off the event loop."""
        return await asyncio.to_thread(function, *args, **kwargs)


Handler = Callable[[JobContext], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True)
class Registration:
    kind: str
    handler: Handler
    max_attempts: int


_registry: dict[str, Registration] = {}


def job_handler(
    kind: str, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if kind in _registry and _registry[kind].handler is not handler:
            raise ValueError(f"a handler for {kind!r} is already registered")
        _registry[kind] = Registration(kind, handler, max_attempts)
        return handler

    return register


def registration(kind: str) -> Registration | None:
    return _registry.get(kind)
