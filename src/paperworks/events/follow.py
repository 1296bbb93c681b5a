"""Following a resource over Server-Sent Events until it ends: the one loop every stream uses.

Changes announced in this process arrive through the hub at once; the resource is also re-read
every `POLL_SECONDS`, so a stream follows work done by other processes (Celery workers) too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from paperworks.events.hub import EventHub, LiveMessage
from paperworks.kit.sse import sse_event

POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0


@dataclass(frozen=True)
class Snapshot:
    """A resource as a stream shows it: sent again only when `state` changes."""

    state: Hashable  # what a follower cares about (status, progress, message), not timestamps
    event: str  # the SSE event name: `job:progress`, `job:completed`
    data: dict[str, Any] = field(compare=False)
    final: bool = False  # the last event: the stream ends after it


async def follow(
    hub: EventHub,
    room: str,
    read: Callable[[], Awaitable[Snapshot]],
    disconnected: Callable[[], Awaitable[bool]],
) -> AsyncIterator[bytes]:
    """SSE frames of `read()` each time it changes, until a final one or the client leaves;
    a comment line now and then keeps proxies from closing a quiet stream."""
    loop = asyncio.get_running_loop()
    # Subscribed before the first read, so no change can fall between the two.
    with hub.subscribe(room) as changes:
        last: Hashable = object()
        quiet_since = loop.time()
        while True:
            snapshot = await read()
            if snapshot.state != last:
                last, quiet_since = snapshot.state, loop.time()
                yield sse_event(snapshot.event, snapshot.data)
                if snapshot.final:
                    return
            elif loop.time() - quiet_since > KEEPALIVE_SECONDS:
                quiet_since = loop.time()
                yield b": keep-alive\n\n"
            if await disconnected():
                return
            await _next_change(changes)


async def _next_change(changes: asyncio.Queue[LiveMessage]) -> None:
    """Wait for the hub to announce a change, or for the next poll."""
    try:
        await asyncio.wait_for(changes.get(), POLL_SECONDS)
    except TimeoutError:
        return
    while not changes.empty():  # a burst of ticks is one re-read
        changes.get_nowait()
