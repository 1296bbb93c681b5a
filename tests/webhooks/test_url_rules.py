"""What the settings say about endpoints: plain http only in development (or when allowed), and
IP literals that are not public refused at once unless private addresses are allowed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from paperworks.webhooks import exceptions as errors
from paperworks.webhooks import service
from tests.accounts import Account
from tests.conftest import make_settings


@pytest.fixture
def webhook_settings() -> dict[str, Any]:
    return {}  # as configured by default, in the test environment


def rules(tmp_path: Path, **values: Any) -> service.WebhookRules:
    return service.WebhookRules.from_settings(make_settings(tmp_path, **values))


def test_http_is_accepted_in_development_only(tmp_path: Path) -> None:
    assert rules(tmp_path, environment="development").allow_http
    assert not rules(tmp_path, environment="production").allow_http
    assert not rules(tmp_path, environment="test").allow_http
    assert rules(tmp_path, environment="production", webhooks_allow_http=True).allow_http
    with pytest.raises(errors.InvalidWebhookUrl, match="Only https://"):
        service.check_url("http://hooks.example.com/x", rules(tmp_path, environment="production"))
    service.check_url("https://hooks.example.com/x", rules(tmp_path, environment="production"))


async def test_http_is_refused_outside_development(
    client: httpx.AsyncClient, anna: Account
) -> None:
    response = await client.post(
        "/api/v1/webhooks",
        json={"url": "http://hooks.example.com/x", "events": ["*"]},
        headers=anna.headers,
    )
    assert response.status_code == 422
    assert response.json()["code"] == "webhook.invalid_url"
    assert "https://" in response.json()["detail"]


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "10.1.2.3", "192.168.0.10", "169.254.169.254", "[::1]", "[fd00:ec2::254]"],
)
async def test_addresses_that_are_not_public_are_refused_when_given(
    client: httpx.AsyncClient, anna: Account, host: str
) -> None:
    response = await client.post(
        "/api/v1/webhooks",
        json={"url": f"https://{host}/hooks", "events": ["*"]},
        headers=anna.headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "webhook.invalid_url"
    assert "Deliveries cannot go to" in response.json()["detail"]


def test_private_addresses_may_be_allowed(tmp_path: Path) -> None:
    allowed = rules(tmp_path, webhooks_allow_private=True)
    service.check_url("https://10.1.2.3/hooks", allowed)
