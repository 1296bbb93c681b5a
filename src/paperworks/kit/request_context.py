"""Per-request context as pure ASGI middleware: request id, access log line, last-resort 500.

Pure ASGI rather than Starlette's `BaseHTTPMiddleware`, which costs a task and a stream per request.
"""

from __future__ import annotations

import re
import time

import structlog
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperworks.kit.errors import INTERNAL_ERROR_BODY, PROBLEM_MEDIA_TYPE
from paperworks.kit.ids import new_id
from paperworks.kit.logging import get_logger

REQUEST_ID_HEADER = b"x-request-id"
# Accept a caller's id only if it is short and plain, so it cannot forge or flood log lines.
_SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

access_log = get_logger("paperworks.access")
error_log = get_logger("paperworks.errors")


def request_id_from(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and _SANE_REQUEST_ID.fullmatch(value):
            return str(value.decode("ascii"))
    return new_id()


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = request_id_from(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        response_started = False
        header = (REQUEST_ID_HEADER, request_id.encode("ascii"))

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception:
            error_log.exception("unhandled_error", method=scope["method"], path=scope["path"])
            if not response_started:
                response = JSONResponse(
                    {**INTERNAL_ERROR_BODY, "instance": scope["path"]},
                    status_code=500,
                    media_type=PROBLEM_MEDIA_TYPE,
                )
                await response(scope, receive, send_with_request_id)
        finally:
            access_log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            structlog.contextvars.clear_contextvars()
