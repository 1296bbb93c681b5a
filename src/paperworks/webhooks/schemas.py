"""Webhooks on the wire."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StringConstraints

from paperworks.kit.schemas import ApiModel, PlainText, UtcDateTime
from paperworks.webhooks.event_types import check_subscription
from paperworks.webhooks.models import URL_LENGTH


def _endpoint_url(value: str) -> str:
    """An absolute http(s) URL with a host and no credentials. Whether plain http and this
    host are allowed is the service's to say (it depends on the settings)."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  # raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise ValueError(f"not a URL: {exc}") from None
    if parts.scheme not in {"https", "http"}:
        raise ValueError("must be an https:// URL")
    if not parts.hostname:
        raise ValueError("must name a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry credentials (user:password@): they would be logged")
    if any(character.isspace() for character in value):
        raise ValueError("must not contain spaces")
    return value


EndpointUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=URL_LENGTH),
    PlainText,
    AfterValidator(_endpoint_url),
]
Subscription = Annotated[
    str, StringConstraints(min_length=1, max_length=100), AfterValidator(check_subscription)
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), PlainText]


def _deduplicated(entries: list[str]) -> list[str]:
    return list(dict.fromkeys(entries))


Subscriptions = Annotated[
    list[Subscription],
    Field(
        min_length=1,
        max_length=50,
        description="Event types (`booklet.generated`), families (`job.*`) or `*` for all",
    ),
    AfterValidator(_deduplicated),
]


class WebhookIn(ApiModel):
    """A webhook as created, or as a PUT replaces it whole."""

    url: EndpointUrl = Field(description="Where deliveries are POSTed (https://)")
    events: Subscriptions
    description: Description | None = None
    active: bool = True


class WebhookOut(ApiModel):
    id: str
    url: str
    events: list[str]
    description: str | None
    active: bool
    disabled_reason: str | None = Field(
        description="Why deliveries stopped, when the service disabled the endpoint itself"
    )
    previous_secret_expires_at: UtcDateTime | None = Field(
        description="Until when the secret replaced by the last rotation still signs"
    )
    created_at: UtcDateTime
    updated_at: UtcDateTime


class WebhookWithSecret(WebhookOut):
    """Only when the webhook is created or its secret rotated: the secret is not shown again."""

    secret: str = Field(description="`whsec_...`: verify deliveries with it (Standard Webhooks)")


class EventTypeOut(ApiModel):
    type: str
    description: str


class AttemptOut(ApiModel):
    attempt: int
    manual: bool = Field(description="A redelivery someone asked for")
    started_at: UtcDateTime
    duration_ms: int
    status_code: int | None
    response_body: str | None = Field(description="The answer's first 1024 characters")
    error: str | None
    succeeded: bool


class DeliveryOut(ApiModel):
    id: str = Field(description="The message's `webhook-id`, the same in every attempt")
    event_id: str
    event_type: str
    status: str = Field(description="`pending`, `succeeded` or `failed`")
    attempts: int
    next_attempt_at: UtcDateTime | None
    status_code: int | None = Field(description="The last attempt's status code")
    error: str | None = Field(description="The last attempt's error")
    created_at: UtcDateTime
    attempt_log: list[AttemptOut] = Field(description="Every attempt, the latest first")
