"""Server-side request forgery: with private addresses not allowed (the default), a delivery goes
only to public addresses, checked after DNS at send time, and to the address that was checked."""

from __future__ import annotations

import ipaddress
from typing import Any

import httpx
import pytest

from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database
from paperworks.webhooks import sending
from tests.accounts import Account
from tests.webhooks.conftest import create_webhook, delivery_rows, publish, run_due
from tests.webhooks.receiver import Receiver


@pytest.fixture
def webhook_settings() -> dict[str, Any]:
    return {"webhooks_allow_http": True}  # private addresses refused, as in production


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.5", "private"),
        ("172.16.3.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("169.254.10.10", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.251", "multicast"),
        ("0.0.0.0", "unspecified"),  # noqa: S104  (an address refused, never bound)
        ("::ffff:127.0.0.1", "loopback"),
        ("100.64.0.1", "not a public address"),
        ("240.0.0.1", "reserved"),
    ],
)
def test_addresses_that_are_not_public_are_refused(address: str, reason: str) -> None:
    refused = sending.refusal(ipaddress.ip_address(address))
    assert refused is not None
    assert reason in refused


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700:4700::1111", "8.8.8.8"])
def test_public_addresses_are_not(address: str) -> None:
    assert sending.refusal(ipaddress.ip_address(address)) is None


async def test_a_host_resolving_to_loopback_is_refused_at_send_time(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, receiver: Receiver, anna: Account
) -> None:
    # "localhost" is a name: nothing can be said of it until it is resolved, when sending.
    url = f"http://localhost:{receiver.port}/hooks"
    webhook = await create_webhook(client, anna, url, ["*"])
    await publish(db, anna.personal_workspace_id)
    await run_due(db, runner)
    assert receiver.requests == []
    (delivery,) = await delivery_rows(db, webhook["id"])
    assert delivery.status == "pending"
    assert delivery.last_status_code is None
    assert "localhost resolves to" in (delivery.last_error or "")
    assert "loopback" in (delivery.last_error or "")


@pytest.mark.parametrize(
    "resolved", [["10.0.0.5"], ["169.254.169.254"], ["::1"], ["93.184.215.14", "127.0.0.1"]]
)
async def test_any_resolved_address_that_is_not_public_refuses_the_attempt(
    receiver: Receiver, resolved: list[str]
) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return resolved

    outcome = await sending.send(
        "https://hooks.example.com/x", b"{}", {}, time_limit=5, resolver=resolver
    )
    assert outcome.status_code is None
    assert not outcome.succeeded
    assert outcome.error is not None
    assert "refused" in outcome.error


async def test_an_ip_literal_is_checked_too() -> None:
    outcome = await sending.send("http://127.0.0.1:9/x", b"{}", {}, time_limit=5)
    assert outcome.error is not None
    assert "127.0.0.1" in outcome.error
    assert "loopback" in outcome.error


async def test_a_name_that_does_not_resolve_is_a_failed_attempt() -> None:
    outcome = await sending.send("https://nothing.invalid/x", b"{}", {}, time_limit=5)
    assert outcome.error is not None
    assert "could not be resolved" in outcome.error


async def test_the_connection_goes_to_the_checked_address_under_the_original_name(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name is resolved once; the request goes to that address, with the name as `Host`,
    so a second, different DNS answer (rebinding) is never asked for."""
    asked: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    # Loopback stands in for a public address here: it is where the test's endpoint listens.
    monkeypatch.setattr(sending, "refusal", lambda address: None)
    url = f"http://hooks.example.com:{receiver.port}/hooks"
    outcome = await sending.send(url, b"{}", {"webhook-id": "m1"}, time_limit=5, resolver=resolver)
    assert outcome.status_code == 200, outcome
    assert asked == ["hooks.example.com"]
    (request,) = receiver.requests
    assert request.headers["host"] == f"hooks.example.com:{receiver.port}"
    assert request.headers["webhook-id"] == "m1"


async def test_an_address_that_is_down_gives_way_to_the_next(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.2", "127.0.0.1"]  # nothing listens on the first

    monkeypatch.setattr(sending, "refusal", lambda address: None)
    url = f"http://hooks.example.com:{receiver.port}/hooks"
    outcome = await sending.send(url, b"{}", {}, time_limit=5, resolver=resolver)
    assert outcome.status_code == 200, outcome
