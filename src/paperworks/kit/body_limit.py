"""Refuse request bodies over the configured size, declared or streamed, before buffering."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperworks.kit.errors import HTTP_STATUS_CODES, problem_response


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                # Outside the app's error handlers here, so answer directly.
                response = problem_response(
                    status=413,
                    code=HTTP_STATUS_CODES[413],
                    title="Content Too Large",
                    detail=self._too_large().detail,
                    instance=scope["path"],
                )
                await response(scope, receive, send)
                return

        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException passes through FastAPI's body parsing unchanged.
                    raise self._too_large()
            return message

        await self.app(scope, counting_receive, send)

    def _too_large(self) -> HTTPException:
        return HTTPException(413, f"The request body is larger than {self.max_bytes} bytes.")
