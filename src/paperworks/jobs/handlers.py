"""Job handlers by kind: a handler gets a `JobContext` and returns the job's result. A product
lists its handlers in its declaration (`Product.job_handlers`); processes that run jobs collect
them into `JobHandlers`.

@job_handler("decks.build", max_attempts=3)
async def build_deck(ctx: JobContext) -> dict[str, Any]:
    await ctx.report(10, "planning")
    data = await ctx.run_blocking(render_pptx, ctx.payload["plan"])  # never on the loop
    ctx.emit("slide:progress", {"slide": 3, "total": 5})  # live only, to the job's followers
    ...
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from paperworks.identity.caller import SYSTEM, Caller

if TYPE_CHECKING:  # the process's services are built above the platform packages, from settings
    from paperworks.jobs.models import Job
    from paperworks.kit.db import Database
    from paperworks.services import Services

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_MAX_ATTEMPTS = 3


class RetryableError(Exception):
    """Raise from a handler for a failure worth another attempt (a timeout, a 503 upstream)."""

    code = "job.retryable"


class JobFailed(Exception):
    """Raise from a handler when the job's input cannot be worked (a page that cannot be made, a
    file gone): the job fails at once with `code` and this message. Nothing is broken, so no
    retry and no traceback in the log."""

    def __init__(self, message: str, code: str = "job.failed") -> None:
        super().__init__(message)
        self.code = code


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
        services: Services | None = None,
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
        self._services = services
        # Jobs act as the system, within their workspace: what they do is nobody's doing.
        self.caller: Caller = SYSTEM.within(workspace_id)
        # What the job's message says once it succeeded ("Built 7 slides."); default "Done.".
        self.summary: str | None = None

    @property
    def last_attempt(self) -> bool:
        """Whether a `RetryableError` now fails the job instead of queueing another attempt."""
        return self.attempt >= self.max_attempts

    @property
    def services(self) -> Services:
        """The services of the process running the job: storage, the LLM client, settings..."""
        if self._services is None:
            raise RuntimeError("this runner was started without the process's services")
        return self._services

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


EndEvents = Callable[["Job", "Services"], Awaitable[list[tuple[str, dict[str, Any]]]]]
"""A finished job's own live events again (`slide:completed` with a fresh link), for a client
that follows it only after it ended: (event name, data without `jobId`)."""


@dataclass(frozen=True)
class JobHandler:
    """What runs jobs of one kind. It runs once its product lists it (`Product.job_handlers`)."""

    kind: str
    run: Handler
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    end_events: EndEvents | None = None


def job_handler(
    kind: str, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS, end_events: EndEvents | None = None
) -> Callable[[Handler], JobHandler]:
    """Declare the decorated coroutine as the handler of `kind`; nothing is registered here."""

    def declare(run: Handler) -> JobHandler:
        return JobHandler(kind, run, max_attempts, end_events)

    return declare


class JobHandlers:
    """The handlers a process runs jobs with, by kind: its products', and any a deployment adds
    through `PAPERWORKS_JOB_MODULES`."""

    def __init__(self, handlers: Iterable[JobHandler] = ()) -> None:
        self._by_kind: dict[str, JobHandler] = {}
        for handler in handlers:
            known = self._by_kind.get(handler.kind)
            if known is not None and known is not handler:
                raise ValueError(f"two handlers for jobs of kind {handler.kind!r}")
            self._by_kind[handler.kind] = handler

    @staticmethod
    def in_modules(names: Iterable[str]) -> list[JobHandler]:
        """The handlers the named modules define (a deployment's own job kinds)."""
        return [
            value
            for name in names
            for value in vars(importlib.import_module(name)).values()
            if isinstance(value, JobHandler)
        ]

    def get(self, kind: str) -> JobHandler | None:
        return self._by_kind.get(kind)

    def max_attempts(self, kind: str) -> int:
        handler = self._by_kind.get(kind)
        return handler.max_attempts if handler is not None else DEFAULT_MAX_ATTEMPTS

    def __iter__(self) -> Iterator[JobHandler]:
        return iter(self._by_kind.values())
