"""A real HTTP endpoint on loopback, in the test's own event loop, that keeps what it is sent and
answers as a test tells it: the other end of a webhook delivery."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections import deque
from dataclasses import dataclass, field

from standardwebhooks.webhooks import Webhook

from tests.mailbox import free_port


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    def verified_by_package(self, secret: str) -> object:
        """The payload, as the `standardwebhooks` package verifies it (raises if it does not)."""
        return Webhook(secret).verify(self.body, self.headers)

    def verified_by_hand(self, secret: str) -> bool:
        """The same check written out from the specification, independently of the package."""
        key = base64.b64decode(secret.removeprefix("whsec_"))
        signed = f"{self.headers['webhook-id']}.{self.headers['webhook-timestamp']}.".encode()
        digest = hmac.new(key, signed + self.body, hashlib.sha256).digest()
        expected = "v1," + base64.b64encode(digest).decode()
        offered = self.headers["webhook-signature"].split(" ")
        return any(hmac.compare_digest(expected, signature) for signature in offered)


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    stall: bool = False  # hold the answer until the receiver is released (a slow endpoint)


class Receiver:
    """`answer(...)` queues what the next requests get (else a 200 "ok"); `requests` is what
    arrived; `stop()` and `start()` take it down and up on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.requests: list[Received] = []
        self._answers: deque[Answer] = deque()
        self._server: asyncio.Server | None = None
        self._released = asyncio.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def answer(
        self, status: int = 200, body: bytes = b"ok", *, times: int = 1, **extra: str
    ) -> None:
        for _ in range(times):
            self._answers.append(Answer(status, body, dict(extra)))

    def stall(self) -> None:
        self._answers.append(Answer(stall=True))

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self._released = asyncio.Event()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *lines = head.decode("latin-1").split("\r\n")
            method, path, _ = request_line.split(" ", 2)
            headers = {}
            for line in lines:
                if line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(Received(method, path, headers, body))
            answer = self._answers.popleft() if self._answers else Answer()
            if answer.stall:
                await self._released.wait()
                return
            extra = "".join(f"{name}: {value}\r\n" for name, value in answer.headers.items())
            writer.write(
                f"HTTP/1.1 {answer.status} X\r\nContent-Length: {len(answer.body)}\r\n"
                f"Connection: close\r\n{extra}\r\n".encode("latin-1")
                + answer.body
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
