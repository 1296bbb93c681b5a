"""What every request leaves behind: request id, access log line, metrics, never a bare 500.

One pure ASGI middleware, outermost, so it sees every response, including the ones the inner
middleware answer themselves (413, 429). Pure ASGI rather than Starlette's `BaseHTTPMiddleware`,
which costs a task and a stream per request; one layer rather than three, because each layer's
`send` wrapper is paid on every request.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time

import structlog
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperworks.kit.errors import INTERNAL_ERROR_BODY, PROBLEM_MEDIA_TYPE
from paperworks.kit.logging import get_logger
from paperworks.kit.metrics import UNMATCHED, HttpMetrics

REQUEST_ID_HEADER = b"x-request-id"
# Accept a caller's id only if it is short and plain, so it cannot forge or flood log lines.
_SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
ACCESS_LOGGER = "paperworks.access"
# Generated ids: random per process, counted within it. Unique across workers and restarts, and
# free of the system call a uuid4 makes on every request.
_PROCESS_PREFIX = secrets.token_hex(10)
_request_counter = itertools.count(1)

access_log = get_logger(ACCESS_LOGGER)
error_log = get_logger("paperworks.errors")


def request_id_from(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and _SANE_REQUEST_ID.fullmatch(value):
            return str(value.decode("ascii"))
    return f"{_PROCESS_PREFIX}{next(_request_counter):012x}"


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self.access_logger = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()
        request_id = request_id_from(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        # Each request runs in its own task, whose context is a copy: binding here cannot leak into
        # another request, and resetting at the end restores whatever the caller had.
        context_tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 500
        response_started = False
        header = (REQUEST_ID_HEADER, request_id.encode("ascii"))

        async def send_observed(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        except Exception:
            error_log.exception("unhandled_error", method=scope["method"], path=scope["path"])
            if not response_started:
                response = JSONResponse(
                    {**INTERNAL_ERROR_BODY, "instance": scope["path"]},
                    status_code=500,
                    media_type=PROBLEM_MEDIA_TYPE,
                )
                await response(scope, receive, send_observed)
        finally:
            seconds = time.perf_counter() - started
            # The router leaves the matched route in the scope: its template keeps the label set
            # small (/jobs/{id}, not one series per id).
            handler = getattr(scope.get("route"), "path", None) or UNMATCHED
            self.metrics.observe(scope["method"], handler, status, seconds)
            if self.access_logger.isEnabledFor(logging.INFO):
                access_log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    duration_ms=round(seconds * 1000, 2),
                )
            structlog.contextvars.reset_contextvars(**context_tokens)
