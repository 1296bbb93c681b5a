"""Events' operations: publish (stored in the caller's transaction, announced after its commit),
announce (live only, for ticks not worth a row), and read timelines.

    await events.publish(session, "file.uploaded", Resource("file", f.id, caller.workspace),
                         {"size": n}, actor=caller)

Packages above `events` that must act on every stored event in its own transaction (webhooks
record their deliveries) subscribe to a database (`subscribe`) instead of being imported here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.events.hub import EventHub, LiveMessage
from paperworks.events.models import Event
from paperworks.events.schemas import EventOut
from paperworks.identity.caller import SYSTEM, Caller
from paperworks.kit.db import Database, on_commit
from paperworks.kit.pagination import fetch_page


@dataclass(frozen=True)
class Resource:
    """What an event is about. `private_to_user_id`: only that user sees its events."""

    type: str
    id: str
    workspace_id: str
    private_to_user_id: str | None = None

    @property
    def room(self) -> str:
        """Where its events are heard live: the owner's room if private, else the workspace's."""
        if self.private_to_user_id:
            return f"user:{self.private_to_user_id}"
        return f"workspace:{self.workspace_id}"


async def publish(
    session: AsyncSession,
    type: str,
    resource: Resource,
    payload: dict[str, Any] | None = None,
    *,
    actor: Caller = SYSTEM,
    live: LiveMessage | None = None,
) -> Event:
    """Store an event in the caller's transaction; once it commits, announce it to the resource's
    room under its type (and `live` too, e.g. `job:completed` to the job's room). `actor`: who
    caused it (its user and API key are recorded; the system names nobody)."""
    event = Event(
        workspace_id=resource.workspace_id,
        type=type,
        resource_type=resource.type,
        resource_id=resource.id,
        private_to_user_id=resource.private_to_user_id,
        actor_user_id=actor.user_id,
        actor_api_key_id=actor.api_key_id,
        payload=payload or {},
    )
    session.add(event)
    await session.flush()
    for subscriber in _subscribers(session):
        await subscriber(session, event)
    data = EventOut.of(event).model_dump(mode="json")
    announce(session, LiveMessage(type, data, (resource.room,)))
    if live is not None:
        announce(session, live)
    return event


EventSubscriber = Callable[[AsyncSession, Event], Awaitable[None]]
"""Called by `publish` with each event once it is stored, in the publisher's transaction: what it
writes commits or rolls back with the event, and what it announces waits for that commit."""

SUBSCRIBERS_KEY = "paperworks_event_subscribers"


def subscribe(db: Database, name: str, subscriber: EventSubscriber) -> None:
    """Have `subscriber` called for every event published in a session of `db`.

    The seam between `events` and the packages that build on it: `events` never imports them
    (webhooks import events, not the other way round), and what is subscribed belongs to one
    database, as the event hub does (`Database.share`), not to the process: two apps in one
    process (tests, a worker) each subscribe their own, with their own job queue. `name` keys it,
    so building the same process's services twice replaces rather than doubles a subscriber.
    A subscriber must be cheap for a workspace that has nothing to do (one indexed query at
    most): every task write and job step publishes."""
    subscribers = dict(_subscriber_map(db.shared(SUBSCRIBERS_KEY)))
    subscribers[name] = subscriber
    db.share(SUBSCRIBERS_KEY, subscribers)


def _subscriber_map(value: object) -> dict[str, EventSubscriber]:
    return value if isinstance(value, dict) else {}


def _subscribers(session: AsyncSession) -> list[EventSubscriber]:
    return list(_subscriber_map(session.info.get(SUBSCRIBERS_KEY)).values())


def announce(session: AsyncSession, message: LiveMessage) -> None:
    """Send a live message once the session commits (nothing if it rolls back); not stored."""
    hub = EventHub.of(session)
    if hub is not None:
        on_commit(session, lambda: hub.deliver(message))


async def timeline(
    session: AsyncSession,
    caller: Caller,
    *,
    resource_type: str | None = None,
    resource_id: str | None = None,
    type: str | None = None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Event], str | None]:
    """The caller's workspace's events in time order, narrowed to a resource or a type; another
    user's private events are left out."""
    query = select(Event).where(
        Event.workspace_id == caller.workspace,
        or_(Event.private_to_user_id.is_(None), Event.private_to_user_id == caller.user_id),
    )
    if resource_type is not None:
        query = query.where(Event.resource_type == resource_type)
    if resource_id is not None:
        query = query.where(Event.resource_id == resource_id)
    if type is not None:
        query = query.where(Event.type == type)
    return await fetch_page(session, query, Event.id, limit=limit, cursor=cursor)
