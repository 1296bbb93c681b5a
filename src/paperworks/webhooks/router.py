"""Webhooks' HTTP surface under /api/v1: a workspace's endpoints, their secrets and delivery
logs. Owners and admins only (`webhooks:manage`); another workspace's webhook is a 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from paperworks.identity.dependencies import CurrentCaller
from paperworks.identity.exceptions import MissingPermission
from paperworks.kit.errors import problem_responses
from paperworks.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from paperworks.services import ServicesDep, SessionDep
from paperworks.webhooks import exceptions as errors
from paperworks.webhooks import schemas, service
from paperworks.webhooks.event_types import EVENT_TYPES
from paperworks.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery

router = APIRouter(prefix="/api/v1", tags=["webhooks"])

WebhookId = Annotated[str, Path(max_length=64)]
DeliveryId = Annotated[str, Path(max_length=64)]

MANAGE = problem_responses(MissingPermission)
ONE = problem_responses(MissingPermission, errors.WebhookNotFound)
WRITE = problem_responses(MissingPermission, errors.InvalidWebhookUrl)
REPLACE = problem_responses(MissingPermission, errors.WebhookNotFound, errors.InvalidWebhookUrl)
REDELIVER = problem_responses(
    MissingPermission, errors.WebhookNotFound, errors.DeliveryNotFound, errors.WebhookInactive
)

SIGNING = (
    "Each delivery is a POST of `{type, timestamp, data}` (`data`: the event as "
    "`GET /api/v1/events` shows it) with the Standard Webhooks headers `webhook-id`, "
    "`webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256>`)."
)


def _out(webhook: Webhook) -> schemas.WebhookOut:
    return schemas.WebhookOut.model_validate(webhook)


def _with_secret(webhook: Webhook) -> schemas.WebhookWithSecret:
    return schemas.WebhookWithSecret.model_validate(webhook)


def _delivery_out(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> schemas.DeliveryOut:
    return schemas.DeliveryOut(
        id=delivery.id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        status=delivery.status,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        status_code=delivery.last_status_code,
        error=delivery.last_error,
        created_at=delivery.created_at,
        attempt_log=[schemas.AttemptOut.model_validate(attempt) for attempt in attempts],
    )


@router.get(
    "/webhook-event-types",
    summary="The event types a webhook can subscribe to",
    description="Besides these: `*` for every type, or a family such as `job.*`. Events of "
    "private resources (a user's own tasks) are never delivered.",
)
async def list_event_types(caller: CurrentCaller) -> list[schemas.EventTypeOut]:
    return [schemas.EventTypeOut(type=name, description=text) for name, text in EVENT_TYPES.items()]


@router.post(
    "/webhooks",
    status_code=status.HTTP_201_CREATED,
    summary="Register an endpoint for the workspace's events (owners and admins)",
    description="The answer holds the signing `secret`, shown this once. " + SIGNING + " "
    "Only https:// URLs outside development; hosts that resolve to private, loopback, "
    "link-local or metadata addresses are refused when a delivery is sent.",
    responses=WRITE,
)
async def create_webhook(
    body: schemas.WebhookIn, caller: CurrentCaller, session: SessionDep, services: ServicesDep
) -> schemas.WebhookWithSecret:
    rules = service.WebhookRules.from_settings(services.settings)
    webhook = await service.create_webhook(session, caller, body, rules)
    return _with_secret(webhook)


@router.get(
    "/webhooks",
    summary="The workspace's webhooks (owners and admins)",
    responses=MANAGE,
)
async def list_webhooks(
    caller: CurrentCaller, session: SessionDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[schemas.WebhookOut]:
    webhooks, next_cursor = await service.list_webhooks(session, caller, limit=limit, cursor=cursor)
    return Page(items=[_out(webhook) for webhook in webhooks], next_cursor=next_cursor)


@router.get("/webhooks/{webhook_id}", summary="One webhook (owners and admins)", responses=ONE)
async def get_webhook(
    webhook_id: WebhookId, caller: CurrentCaller, session: SessionDep
) -> schemas.WebhookOut:
    return _out(await service.get_webhook(session, caller, webhook_id))


@router.put(
    "/webhooks/{webhook_id}",
    summary="Replace a webhook's URL, events, description and state (owners and admins)",
    description="`active: true` on an endpoint the service disabled turns it on again and "
    "clears `disabledReason`. The secret is unchanged: rotate it separately.",
    responses=REPLACE,
)
async def replace_webhook(
    webhook_id: WebhookId,
    body: schemas.WebhookIn,
    caller: CurrentCaller,
    session: SessionDep,
    services: ServicesDep,
) -> schemas.WebhookOut:
    rules = service.WebhookRules.from_settings(services.settings)
    webhook = await service.replace_webhook(session, caller, webhook_id, body, rules)
    return _out(webhook)


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a webhook and its delivery log (owners and admins)",
    responses=ONE,
)
async def delete_webhook(
    webhook_id: WebhookId, caller: CurrentCaller, session: SessionDep
) -> Response:
    await service.delete_webhook(session, caller, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/webhooks/{webhook_id}/rotate-secret",
    summary="Replace the signing secret; the old one signs too for 24 hours (owners and admins)",
    description="The answer holds the new `secret`, shown this once. Until "
    "`previousSecretExpiresAt`, `webhook-signature` carries two signatures, one by each "
    "secret, so receivers can switch without losing a delivery.",
    responses=ONE,
)
async def rotate_secret(
    webhook_id: WebhookId, caller: CurrentCaller, session: SessionDep
) -> schemas.WebhookWithSecret:
    return _with_secret(await service.rotate_secret(session, caller, webhook_id))


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    summary="A webhook's delivery log, oldest first (owners and admins)",
    description="Each delivery with its attempts: status code, duration, the answer's first "
    "1024 characters, or the error (a timeout, a refused address, a redirect).",
    responses=ONE,
)
async def list_deliveries(
    webhook_id: WebhookId,
    caller: CurrentCaller,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[schemas.DeliveryOut]:
    found, next_cursor = await service.list_deliveries(
        session, caller, webhook_id, limit=limit, cursor=cursor
    )
    items = [_delivery_out(delivery, attempts) for delivery, attempts in found]
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a delivery again, now (owners and admins)",
    description="The same message (`webhook-id` and body) with a fresh timestamp and "
    "signature, as one new attempt, whatever became of the earlier ones. It is not retried.",
    responses=REDELIVER,
)
async def redeliver(
    webhook_id: WebhookId,
    delivery_id: DeliveryId,
    caller: CurrentCaller,
    session: SessionDep,
    services: ServicesDep,
) -> schemas.DeliveryOut:
    delivery = await service.redeliver(session, caller, services.jobs, webhook_id, delivery_id)
    attempts = await service.attempts_of(session, [delivery.id])
    return _delivery_out(delivery, attempts[delivery.id])
