"""The event hub: rooms for in-process subscribers, and live transports fed in order."""

from __future__ import annotations

import asyncio
import logging

import pytest

from paperworks.events.hub import SESSION_KEY, SUBSCRIBER_BUFFER, EventHub, LiveMessage
from paperworks.kit.db import Database
from paperworks.kit.logging import configure_logging


def message(name: str, *rooms: str) -> LiveMessage:
    return LiveMessage(name, {"name": name}, rooms or ("workspace:w1",))


def heard(queue: asyncio.Queue[LiveMessage]) -> list[str]:
    """The names of what is waiting in a subscriber's queue, emptying it."""
    names = []
    while not queue.empty():
        names.append(queue.get_nowait().name)
    return names


class Transport:
    """A live transport that records what it sent; it may be slow, or fail on some messages."""

    def __init__(self, *, slow: set[str] | None = None, fail_on: set[str] | None = None) -> None:
        self.slow = slow or set()
        self.fail_on = fail_on or set()
        self.sent: list[str] = []

    async def __call__(self, message: LiveMessage) -> None:
        await asyncio.sleep(0.01 if message.name in self.slow else 0)
        if message.name in self.fail_on:
            raise ConnectionError("Redis went away")
        self.sent.append(message.name)


async def test_subscribers_hear_their_rooms_only() -> None:
    hub = EventHub()
    with (
        hub.subscribe("workspace:a") as workspace_a,
        hub.subscribe("workspace:a") as also_a,
        hub.subscribe("workspace:b") as workspace_b,
        hub.subscribe("job:1") as job,
    ):
        hub.deliver(message("file.uploaded", "workspace:a"))
        hub.deliver(message("job:progress", "job:1", "workspace:b"))
        hub.deliver(message("file.deleted", "workspace:elsewhere"))

        assert heard(workspace_a) == ["file.uploaded"]
        assert heard(also_a) == ["file.uploaded"]
        assert heard(workspace_b) == ["job:progress"]
        assert heard(job) == ["job:progress"]


async def test_transports_send_every_message_in_order_once_started() -> None:
    names = [f"tick {n}" for n in range(20)]
    # Every other message is slow to send: sent concurrently, the quick ones would overtake.
    first = Transport(slow=set(names[::2]))
    second = Transport()
    hub = EventHub(transports=[first, second])
    await hub.start()
    try:
        for name in names:
            hub.deliver(message(name))
        for _ in range(200):
            if len(second.sent) == len(names):
                break
            await asyncio.sleep(0.01)
    finally:
        await hub.stop()
    assert first.sent == names
    assert second.sent == names


async def test_a_failing_transport_is_logged_and_the_next_message_still_goes_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure_logging("WARNING")
    flaky = Transport(fail_on={"first"})
    steady = Transport()
    hub = EventHub(transports=[flaky, steady])
    await hub.start()
    hub.deliver(message("first"))
    hub.deliver(message("second"))
    await hub.stop()

    assert flaky.sent == ["second"]
    assert steady.sent == ["first", "second"]  # the other transports still got it
    (failure,) = [r for r in caplog.records if "live_transport_failed" in str(r.msg)]
    assert failure.levelno == logging.ERROR
    assert failure.exc_info is not None
    assert failure.exc_info[0] is ConnectionError
    assert "'message': 'first'" in str(failure.msg)


async def test_stop_sends_what_is_already_queued() -> None:
    slow = Transport(slow={f"m{n}" for n in range(5)})
    hub = EventHub(transports=[slow])
    await hub.start()
    for n in range(5):
        hub.deliver(message(f"m{n}"))
    await hub.stop()
    assert slow.sent == [f"m{n}" for n in range(5)]

    hub.deliver(message("after stop"))  # no pump any more: neither sent nor raising
    await asyncio.sleep(0.02)
    assert slow.sent == [f"m{n}" for n in range(5)]


async def test_a_full_subscriber_queue_drops_messages_instead_of_blocking() -> None:
    transport = Transport()
    hub = EventHub(transports=[transport])
    await hub.start()
    names = [f"tick {n}" for n in range(SUBSCRIBER_BUFFER + 10)]
    with hub.subscribe("job:1") as stalled, hub.subscribe("job:1") as reading:
        received = []
        for name in names:
            hub.deliver(message(name, "job:1"))  # returns at once, the stalled queue full or not
            received.append(reading.get_nowait().name)
        await hub.stop()

        assert received == names  # a reader keeping up misses nothing
        assert transport.sent == names  # nor do the transports
        assert heard(stalled) == names[:SUBSCRIBER_BUFFER]  # the stalled one lost the overflow
        hub.deliver(message("once read", "job:1"))
        assert heard(stalled) == ["once read"]  # and hears again once it has room


async def test_unsubscribing_stops_delivery_and_removes_an_empty_room() -> None:
    hub = EventHub()
    with hub.subscribe("job:1") as staying:
        with hub.subscribe("job:1") as leaving:
            pass
        hub.deliver(message("after one left", "job:1"))
        assert heard(staying) == ["after one left"]
        assert heard(leaving) == []
        assert "job:1" in hub._subscribers
    with pytest.raises(RuntimeError), hub.subscribe("job:2"):
        raise RuntimeError("the SSE client went away")
    assert dict(hub._subscribers) == {}
    hub.deliver(message("nobody listens", "job:1", "job:2"))
    assert dict(hub._subscribers) == {}  # delivering creates no rooms


async def test_a_session_finds_the_hub_its_database_shares(db: Database) -> None:
    async with db.sessionmaker() as session:
        assert EventHub.of(session) is None

    hub = EventHub()
    db.share(SESSION_KEY, hub)
    db.share("something_else", object())  # sharing more keeps what was shared
    async with db.sessionmaker() as session, db.sessionmaker() as another:
        assert EventHub.of(session) is hub
        assert EventHub.of(another) is hub

    db.share(SESSION_KEY, "not a hub")
    async with db.sessionmaker() as session:
        assert EventHub.of(session) is None
