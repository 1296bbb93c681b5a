"""The process's event hub: after a commit, messages go to in-process subscribers (SSE streams)
and, in order, to live transports (the socket.io server, or a worker's Redis emitter).

A message is addressed to rooms: `workspace:{id}`, `user:{id}`, `job:{id}`; and one to the live
servers themselves, not to clients: `access:changed` in `paperworks:access` (someone's access was
taken away: every process's live server authorises that user's, or workspace's, sockets again).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.identity.access import AccessChange
from paperworks.kit.db import Database
from paperworks.kit.logging import get_logger

log = get_logger(__name__)

SESSION_KEY = "paperworks_event_hub"
SUBSCRIBER_BUFFER = 256  # a stalled SSE client loses ticks, never blocks the publisher
ACCESS_CHANGED = "access:changed"
ACCESS_ROOM = "paperworks:access"  # no client is ever in it: the live servers read it themselves


@dataclass(frozen=True)
class LiveMessage:
    name: str  # the socket.io event name: `job:progress`, `file.uploaded`, `slide:completed`
    data: dict[str, Any]
    rooms: tuple[str, ...]


Transport = Callable[[LiveMessage], Awaitable[None]]


@dataclass
class EventHub:
    transports: list[Transport] = field(default_factory=list)
    _subscribers: dict[str, set[asyncio.Queue[LiveMessage]]] = field(
        default_factory=lambda: defaultdict(set)
    )
    _outbox: asyncio.Queue[LiveMessage | None] | None = None
    _pump: asyncio.Task[None] | None = None

    @classmethod
    def of(cls, session: AsyncSession) -> EventHub | None:
        """The hub the session's database shares (`Database.share`); None outside a service."""
        hub = session.info.get(SESSION_KEY)
        return hub if isinstance(hub, EventHub) else None

    @classmethod
    def shared_by(cls, db: Database) -> EventHub | None:
        """The hub `db` shares with its sessions; None if it shares none."""
        hub = db.shared(SESSION_KEY)
        return hub if isinstance(hub, EventHub) else None

    async def start(self) -> None:
        self._outbox = asyncio.Queue()
        self._pump = asyncio.create_task(self._send_in_order(), name="event-hub")

    async def stop(self) -> None:
        """Send what is already queued, then stop."""
        if self._outbox is not None and self._pump is not None:
            self._outbox.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        self._outbox = self._pump = None

    def deliver(self, message: LiveMessage) -> None:
        """Hand a message to subscribers now and to transports in order. Never blocks."""
        for room in message.rooms:
            for queue in self._subscribers.get(room, ()):
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(message)
        if self._outbox is not None and self.transports:
            self._outbox.put_nowait(message)

    def announce_access_change(self, change: AccessChange) -> None:
        """After a commit that took access away: in order with the events, to the live servers
        (`identity.access.LISTENER`)."""
        self.deliver(LiveMessage(ACCESS_CHANGED, change.as_data(), (ACCESS_ROOM,)))

    @contextlib.contextmanager
    def subscribe(self, room: str) -> Iterator[asyncio.Queue[LiveMessage]]:
        queue: asyncio.Queue[LiveMessage] = asyncio.Queue(SUBSCRIBER_BUFFER)
        self._subscribers[room].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[room].discard(queue)
            if not self._subscribers[room]:
                del self._subscribers[room]

    async def _send_in_order(self) -> None:
        assert self._outbox is not None
        while (message := await self._outbox.get()) is not None:
            for transport in self.transports:
                try:
                    await transport(message)
                except Exception:  # a dead Redis must not stop the hub; the log says why
                    log.exception("live_transport_failed", message=message.name)
