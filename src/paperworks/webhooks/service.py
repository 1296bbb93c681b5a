"""Webhooks' operations: manage endpoints, record deliveries as events are published, record
attempts and what follows from them (a retry, success, disabling). Plain async functions taking
the caller's session; they never commit.

Retries follow Svix's schedule (the Standard Webhooks authors'): an attempt at once, then after
5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h: 8 attempts over 27.6 hours. Each retry is a job of
its own (`webhooks.deliver`) queued with its `run_after`, so it survives restarts and runs on
either runner; the jobs' own retry backoff (seconds to minutes) is for crashes, not for this.

An endpoint whose attempts have all failed for `webhooks_disable_after_days` (5 days, Svix's
rule; any success resets the clock) is disabled (`active=false`, `disabledReason`) and the
workspace's owners are mailed. Counting time rather than failed deliveries means a workspace
with one event a week is not cut off after one bad afternoon, and a busy one not kept failing
for weeks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.events import service as events
from paperworks.events.models import Event
from paperworks.events.schemas import EventOut
from paperworks.identity.caller import SYSTEM, Caller
from paperworks.identity.models import Membership, User
from paperworks.identity.roles import Role
from paperworks.identity.tenancy import get_scoped, scoped
from paperworks.jobs.models import Job
from paperworks.kit.db import utcnow
from paperworks.kit.pagination import fetch_page
from paperworks.settings import Environment, Settings
from paperworks.webhooks import exceptions as errors
from paperworks.webhooks import sending, signing
from paperworks.webhooks.event_types import PRIVATE_PREFIXES, subscribes
from paperworks.webhooks.models import (
    ERROR_LENGTH,
    DeliveryStatus,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from paperworks.webhooks.schemas import WebhookIn

if TYPE_CHECKING:
    from paperworks.jobs.queue import JobQueue
    from paperworks.services import Services

MANAGE = "webhooks:manage"
DELIVER_KIND = "webhooks.deliver"
KIND_PREFIX = "webhooks."
SUBSCRIBER_NAME = "webhooks"
# After the first attempt (at once): the wait before each retry.
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
PREVIOUS_SECRET_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class WebhookRules:
    """What the settings say about endpoints and sending."""

    allow_http: bool
    allow_private: bool
    timeout_seconds: float
    disable_after: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookRules:
        allow_http = settings.webhooks_allow_http
        if allow_http is None:
            allow_http = settings.environment is Environment.development
        return cls(
            allow_http=allow_http,
            allow_private=settings.webhooks_allow_private,
            timeout_seconds=settings.webhooks_timeout_seconds,
            disable_after=timedelta(days=settings.webhooks_disable_after_days),
        )


# --- endpoints --------------------------------------------------------------------------------


def check_url(url: str, rules: WebhookRules) -> None:
    """What the schema cannot know: plain http outside development, an IP literal that is not
    public. (A host name is checked when a delivery is sent, after DNS.)"""
    parts = urlsplit(url)
    if parts.scheme != "https" and not rules.allow_http:
        raise errors.InvalidWebhookUrl(
            f"Only https:// endpoints are accepted here; {parts.scheme}:// is not."
        )
    reason = sending.literal_refusal(parts.hostname or "")
    if reason is not None and not rules.allow_private:
        raise errors.InvalidWebhookUrl(f"Deliveries cannot go to {parts.hostname}: {reason}.")


async def create_webhook(
    session: AsyncSession, caller: Caller, data: WebhookIn, rules: WebhookRules
) -> Webhook:
    caller.require(MANAGE)
    check_url(data.url, rules)
    webhook = Webhook(
        workspace_id=caller.workspace,
        url=data.url,
        events=list(data.events),
        description=data.description,
        active=data.active,
        secret=signing.new_secret(),
        created_by_user_id=caller.user_id,
    )
    session.add(webhook)
    await session.flush()
    return webhook


async def list_webhooks(
    session: AsyncSession, caller: Caller, *, limit: int, cursor: str | None
) -> tuple[list[Webhook], str | None]:
    caller.require(MANAGE)
    return await fetch_page(
        session, scoped(select(Webhook), caller), Webhook.id, limit=limit, cursor=cursor
    )


async def get_webhook(session: AsyncSession, caller: Caller, webhook_id: str) -> Webhook:
    """The caller's workspace's webhook; another workspace's is as missing as none."""
    caller.require(MANAGE)
    webhook = await get_scoped(session, caller, Webhook, webhook_id)
    if webhook is None:
        raise errors.WebhookNotFound(f"No webhook {webhook_id}.")
    return webhook


async def replace_webhook(
    session: AsyncSession, caller: Caller, webhook_id: str, data: WebhookIn, rules: WebhookRules
) -> Webhook:
    """Replace what a PUT carries. Turning an endpoint on again forgets why it was off and its
    failing streak: it gets the full grace period again."""
    webhook = await get_webhook(session, caller, webhook_id)
    check_url(data.url, rules)
    if data.active and not webhook.active:
        webhook.disabled_reason = None
        webhook.failing_since = None
    webhook.url = data.url
    webhook.events = list(data.events)
    webhook.description = data.description
    webhook.active = data.active
    await session.flush()
    return webhook


async def delete_webhook(session: AsyncSession, caller: Caller, webhook_id: str) -> None:
    """Gone with its deliveries; any retry still queued finds nothing to send."""
    webhook = await get_webhook(session, caller, webhook_id)
    await session.delete(webhook)
    await session.flush()


async def rotate_secret(session: AsyncSession, caller: Caller, webhook_id: str) -> Webhook:
    """A new secret; the one it replaces keeps signing (beside it) for 24 hours."""
    webhook = await get_webhook(session, caller, webhook_id)
    webhook.previous_secret = webhook.secret
    webhook.previous_secret_expires_at = utcnow() + PREVIOUS_SECRET_TTL
    webhook.secret = signing.new_secret()
    await session.flush()
    return webhook


def signing_secrets(webhook: Webhook, now: datetime) -> list[str]:
    """The current secret, and the previous one while it is still valid."""
    found = [webhook.secret]
    expires = webhook.previous_secret_expires_at
    if webhook.previous_secret and expires is not None and now < expires:
        found.append(webhook.previous_secret)
    return found


# --- the delivery log -------------------------------------------------------------------------


async def list_deliveries(
    session: AsyncSession, caller: Caller, webhook_id: str, *, limit: int, cursor: str | None
) -> tuple[list[tuple[WebhookDelivery, list[WebhookAttempt]]], str | None]:
    """A page of the endpoint's deliveries, oldest first, each with its attempts (latest first)."""
    webhook = await get_webhook(session, caller, webhook_id)
    query = scoped(select(WebhookDelivery), caller).where(WebhookDelivery.webhook_id == webhook.id)
    deliveries, next_cursor = await fetch_page(
        session, query, WebhookDelivery.id, limit=limit, cursor=cursor
    )
    by_delivery = await attempts_of(session, [delivery.id for delivery in deliveries])
    return [(delivery, by_delivery[delivery.id]) for delivery in deliveries], next_cursor


async def latest_deliveries(
    session: AsyncSession, caller: Caller, webhook_id: str, *, limit: int
) -> list[tuple[WebhookDelivery, list[WebhookAttempt]]]:
    """The endpoint's latest deliveries, newest first, each with its attempts (latest first):
    what someone checking on an endpoint looks at."""
    webhook = await get_webhook(session, caller, webhook_id)
    query = scoped(select(WebhookDelivery), caller).where(WebhookDelivery.webhook_id == webhook.id)
    deliveries = list(await session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit)))
    by_delivery = await attempts_of(session, [delivery.id for delivery in deliveries])
    return [(delivery, by_delivery[delivery.id]) for delivery in deliveries]


async def attempts_of(
    session: AsyncSession, delivery_ids: list[str]
) -> dict[str, list[WebhookAttempt]]:
    """The attempts at each of these deliveries, the latest first (one query)."""
    by_delivery: dict[str, list[WebhookAttempt]] = {delivery_id: [] for delivery_id in delivery_ids}
    if by_delivery:
        attempts = await session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(delivery_ids))
            .order_by(WebhookAttempt.attempt.desc())
        )
        for attempt in attempts:
            by_delivery[attempt.delivery_id].append(attempt)
    return by_delivery


async def redeliver(
    session: AsyncSession, caller: Caller, queue: JobQueue, webhook_id: str, delivery_id: str
) -> WebhookDelivery:
    """Send a delivery once more, now, whatever became of it: the same message (`webhook-id`,
    body), a new attempt with a fresh timestamp and signature. Not retried if it fails."""
    webhook = await get_webhook(session, caller, webhook_id)
    if not webhook.active:
        raise errors.WebhookInactive(
            "This webhook is inactive; activate it (PUT with active: true) before redelivering."
        )
    delivery = await session.scalar(
        scoped(select(WebhookDelivery), caller).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.webhook_id == webhook.id
        )
    )
    if delivery is None:
        raise errors.DeliveryNotFound(f"No delivery {delivery_id} of webhook {webhook_id}.")
    delivery.status = DeliveryStatus.pending
    await session.flush()
    payload = {"deliveryId": delivery.id, "manual": True}
    await queue.enqueue(
        session, SYSTEM.within(webhook.workspace_id), kind=DELIVER_KIND, payload=payload
    )
    return delivery


# --- recording deliveries as events are published ---------------------------------------------


def message_body(event: Event) -> dict[str, Any]:
    """The message as Standard Webhooks recommends: `{type, timestamp, data}`, `data` being the
    event as the events API shows it."""
    data = EventOut.of(event).model_dump(mode="json")
    return {"type": event.type, "timestamp": data["createdAt"], "data": data}


def body_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


async def record_deliveries(session: AsyncSession, event: Event, queue: JobQueue) -> int:
    """A delivery (and its first attempt's job) for each active webhook of the event's workspace
    that subscribes to its type; how many. One indexed query for a workspace without webhooks,
    none for an event of a private resource (a task) or of a delivery job itself."""
    if event.private_to_user_id is not None or event.type.startswith(PRIVATE_PREFIXES):
        return 0
    if event.resource_type == "job" and str(event.payload.get("kind", "")).startswith(KIND_PREFIX):
        return 0  # `job.queued` of a delivery: known without a query
    rows = await session.execute(
        select(Webhook.id, Webhook.events).where(
            Webhook.workspace_id == event.workspace_id, Webhook.active.is_(True)
        )
    )
    matching = [webhook_id for webhook_id, entries in rows if subscribes(entries, event.type)]
    if not matching:
        return 0
    if event.resource_type == "job" and await _is_delivery_job(session, event.resource_id):
        return 0  # a delivery's own job telling of itself: delivering that would never end
    body = message_body(event)
    caller = SYSTEM.within(event.workspace_id)
    for webhook_id in matching:
        delivery = WebhookDelivery(
            workspace_id=event.workspace_id,
            webhook_id=webhook_id,
            event_id=event.id,
            event_type=event.type,
            body=body,
            status=DeliveryStatus.pending,
            attempts=0,
            next_attempt_at=utcnow(),
        )
        session.add(delivery)
        await session.flush()
        payload = {"deliveryId": delivery.id, "retry": 1}
        await queue.enqueue(session, caller, kind=DELIVER_KIND, payload=payload)
    return len(matching)


async def _is_delivery_job(session: AsyncSession, job_id: str) -> bool:
    kind = await session.scalar(select(Job.kind).where(Job.id == job_id))
    return kind is not None and kind.startswith(KIND_PREFIX)


@dataclass(frozen=True)
class DeliveryRecorder:
    """The events subscriber: records deliveries in the publisher's transaction, their jobs
    dispatched through the process's queue once it commits."""

    queue: JobQueue

    async def __call__(self, session: AsyncSession, event: Event) -> None:
        await record_deliveries(session, event, self.queue)


def subscribe(services: Services) -> None:
    """Deliver the events published in this process's database to webhooks."""
    events.subscribe(services.db, SUBSCRIBER_NAME, DeliveryRecorder(services.jobs))


# --- attempts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedAttempt:
    """What sending one attempt needs, read in one short transaction."""

    delivery_id: str
    workspace_id: str
    url: str
    body: bytes
    headers: dict[str, str]
    attempt: int


async def prepare_attempt(
    session: AsyncSession, delivery_id: str, *, manual: bool
) -> PreparedAttempt | None:
    """The next attempt at a delivery, signed now; None if there is nothing to send (the
    delivery or its webhook is gone, it succeeded meanwhile, or the webhook is inactive, which
    fails a scheduled attempt)."""
    delivery = await session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return None
    if not manual and delivery.status != DeliveryStatus.pending:
        return None  # a redelivery got through before this retry's turn
    webhook = await session.get(Webhook, delivery.webhook_id)
    if webhook is None:
        return None
    if not webhook.active:
        delivery.status = DeliveryStatus.failed
        delivery.next_attempt_at = None
        delivery.last_error = "Not sent: the webhook is inactive."
        await session.flush()
        return None
    now = utcnow()
    body = body_bytes(delivery.body)
    headers = signing.signed_headers(delivery.id, now, body, signing_secrets(webhook, now))
    return PreparedAttempt(
        delivery_id=delivery.id,
        workspace_id=delivery.workspace_id,
        url=webhook.url,
        body=body,
        headers=headers,
        attempt=delivery.attempts + 1,
    )


@dataclass(frozen=True)
class Disabled:
    """An endpoint just disabled: who to tell, and what."""

    webhook_id: str
    url: str
    workspace_id: str
    reason: str
    owner_emails: list[str]


async def record_attempt(
    session: AsyncSession,
    queue: JobQueue,
    prepared: PreparedAttempt,
    outcome: sending.Outcome,
    *,
    started_at: datetime,
    retry: int | None,
    rules: WebhookRules,
) -> Disabled | None:
    """Log an attempt and act on it: done on a 2xx; else the next retry is queued (`retry`: which
    scheduled attempt this was; None for a redelivery, which is not retried), and an endpoint
    failing for too long is disabled (returned, for its owners to be mailed after the commit)."""
    delivery = await session.get(WebhookDelivery, prepared.delivery_id)
    webhook = await session.get(Webhook, delivery.webhook_id) if delivery is not None else None
    if delivery is None or webhook is None:
        return None  # deleted while the attempt was under way
    error = outcome.error
    if error is None and not outcome.succeeded:
        error = _status_error(outcome.status_code)
    session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            attempt=prepared.attempt,
            manual=retry is None,
            started_at=started_at,
            duration_ms=outcome.duration_ms,
            status_code=outcome.status_code,
            response_body=outcome.response_body,
            error=error[:ERROR_LENGTH] if error else None,
            succeeded=outcome.succeeded,
        )
    )
    delivery.attempts = max(delivery.attempts, prepared.attempt)
    delivery.last_status_code = outcome.status_code
    delivery.last_error = error[:ERROR_LENGTH] if error else None
    now = utcnow()
    if outcome.succeeded:
        delivery.status = DeliveryStatus.succeeded
        delivery.next_attempt_at = None
        webhook.failing_since = None
        await session.flush()
        return None
    if retry is not None:
        if retry < MAX_ATTEMPTS:
            due = now + RETRY_DELAYS[retry - 1]
            delivery.status = DeliveryStatus.pending
            delivery.next_attempt_at = due
            await _queue_retry(session, queue, delivery, retry + 1, due)
        else:
            delivery.status = DeliveryStatus.failed
            delivery.next_attempt_at = None
    elif delivery.next_attempt_at is None:
        delivery.status = DeliveryStatus.failed  # a redelivery with no retry scheduled behind it
    if webhook.failing_since is None:
        webhook.failing_since = started_at
    disabled = None
    if webhook.active and now - webhook.failing_since >= rules.disable_after:
        disabled = await _disable(session, webhook, rules, last_error=error or "")
    await session.flush()
    return disabled


def _status_error(status_code: int | None) -> str:
    if status_code is not None and 300 <= status_code < 400:
        return f"Answered {status_code}, a redirect: redirects are not followed."
    return f"Answered {status_code}: only a 2xx counts as delivered."


async def _queue_retry(
    session: AsyncSession, queue: JobQueue, delivery: WebhookDelivery, retry: int, due: datetime
) -> None:
    caller = SYSTEM.within(delivery.workspace_id)
    payload = {"deliveryId": delivery.id, "retry": retry}
    job = await queue.enqueue(session, caller, kind=DELIVER_KIND, payload=payload)
    job.run_after = due  # not before its turn: both runners wait for a job's run_after
    await session.flush()


async def _disable(
    session: AsyncSession, webhook: Webhook, rules: WebhookRules, *, last_error: str
) -> Disabled:
    days = rules.disable_after.total_seconds() / 86400
    reason = (
        f"Every delivery attempt failed for {days:g} days (the last: {last_error})"[:500]
        if last_error
        else f"Every delivery attempt failed for {days:g} days."
    )
    webhook.active = False
    webhook.disabled_reason = reason
    owners = await session.scalars(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == webhook.workspace_id, Membership.role == Role.owner)
        .order_by(User.email)
    )
    return Disabled(
        webhook_id=webhook.id,
        url=webhook.url,
        workspace_id=webhook.workspace_id,
        reason=reason,
        owner_emails=list(owners),
    )
