"""Managing webhooks over the API: who may, what is accepted, and the secret shown only once."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from paperworks.kit.db import Database
from tests.accounts import Account, add_member, create_workspace
from tests.webhooks.conftest import create_webhook

URL = "https://hooks.example.com/paperworks"


async def test_create_read_replace_delete(client: httpx.AsyncClient, anna: Account) -> None:
    created = await create_webhook(
        client, anna, URL, ["booklet.generated", "job.*"], description="CRM sync"
    )
    assert created["secret"].startswith("whsec_")
    assert created["active"] is True
    assert created["disabledReason"] is None
    assert created["events"] == ["booklet.generated", "job.*"]

    path = f"/api/v1/webhooks/{created['id']}"
    shown = (await client.get(path, headers=anna.headers)).json()
    assert "secret" not in shown
    assert shown["description"] == "CRM sync"
    assert shown["url"] == URL
    listed = (await client.get("/api/v1/webhooks", headers=anna.headers)).json()
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    assert all("secret" not in item for item in listed["items"])

    body = {"url": URL + "/v2", "events": ["*"], "active": False}
    replaced = await client.put(path, json=body, headers=anna.headers)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["events"] == ["*"]
    assert replaced.json()["active"] is False
    assert replaced.json()["description"] is None  # a PUT replaces the whole webhook
    assert "secret" not in replaced.json()

    assert (await client.delete(path, headers=anna.headers)).status_code == 204
    gone = await client.get(path, headers=anna.headers)
    assert gone.status_code == 404
    assert gone.json()["code"] == "webhook.not_found"


async def test_event_types_are_listed(client: httpx.AsyncClient, anna: Account) -> None:
    listed = await client.get("/api/v1/webhook-event-types", headers=anna.headers)
    types = {item["type"] for item in listed.json()}
    assert {"job.succeeded", "booklet.generated", "deck.built", "document.extracted"} <= types
    assert not any(name.startswith("task.") for name in types)


@pytest.mark.parametrize(
    ("events", "said"),
    [
        (["booklet.made"], "unknown event type 'booklet.made'"),
        (["jobs.*"], "unknown event type 'jobs.*'"),
        (["task.created"], "private tasks"),
        (["task.*"], "private tasks"),
        ([], "at least 1"),
    ],
)
async def test_unknown_event_types_are_refused(
    client: httpx.AsyncClient, anna: Account, events: list[str], said: str
) -> None:
    response = await client.post(
        "/api/v1/webhooks", json={"url": URL, "events": events}, headers=anna.headers
    )
    assert response.status_code == 422
    assert response.json()["code"] == "request.validation_failed"
    assert said in str(response.json()["errors"])


async def test_repeated_event_types_are_kept_once(client: httpx.AsyncClient, anna: Account) -> None:
    created = await create_webhook(client, anna, URL, ["deck.built", "deck.built", "*"])
    assert created["events"] == ["deck.built", "*"]


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("ftp://hooks.example.com/x", "https://"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
        ("https:///x", "host"),
        ("https://hooks.example.com:99999/x", "URL"),
        ("hooks.example.com/x", "https://"),
    ],
)
async def test_malformed_urls_are_refused(
    client: httpx.AsyncClient, anna: Account, url: str, said: str
) -> None:
    response = await client.post(
        "/api/v1/webhooks", json={"url": url, "events": ["*"]}, headers=anna.headers
    )
    assert response.status_code == 422, response.text
    assert said in str(response.json()["errors"])


async def test_a_member_may_not_manage_webhooks(
    client: httpx.AsyncClient, db: Database, anna: Account, bob: Account
) -> None:
    team = await create_workspace(client, anna, "Team")
    await add_member(db, team, bob.email, role="member")
    created = await client.post(
        "/api/v1/webhooks", json={"url": URL, "events": ["*"]}, headers=anna.in_workspace(team)
    )
    webhook_id = created.json()["id"]
    as_bob = bob.in_workspace(team)
    path = f"/api/v1/webhooks/{webhook_id}"
    attempts: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/api/v1/webhooks", None),
        ("POST", "/api/v1/webhooks", {"url": URL, "events": ["*"]}),
        ("GET", path, None),
        ("PUT", path, {"url": URL, "events": ["*"]}),
        ("DELETE", path, None),
        ("POST", path + "/rotate-secret", None),
        ("GET", path + "/deliveries", None),
    ]
    for method, target, body in attempts:
        response = await client.request(method, target, json=body, headers=as_bob)
        assert response.status_code == 403, (method, target, response.text)
        assert response.json()["code"] == "auth.missing_permission"


async def test_an_admin_may(
    client: httpx.AsyncClient, db: Database, anna: Account, bob: Account
) -> None:
    team = await create_workspace(client, anna, "Team")
    await add_member(db, team, bob.email, role="admin")
    response = await client.post(
        "/api/v1/webhooks", json={"url": URL, "events": ["*"]}, headers=bob.in_workspace(team)
    )
    assert response.status_code == 201, response.text


async def test_another_workspaces_webhook_is_not_found(
    client: httpx.AsyncClient, anna: Account, bob: Account
) -> None:
    webhook = await create_webhook(client, anna, URL, ["*"])
    path = f"/api/v1/webhooks/{webhook['id']}"
    for method, target, body in [
        ("GET", path, None),
        ("PUT", path, {"url": URL, "events": ["*"]}),
        ("DELETE", path, None),
        ("POST", path + "/rotate-secret", None),
        ("GET", path + "/deliveries", None),
        ("POST", path + "/deliveries/01J00000000000000000000000/redeliver", None),
    ]:
        response = await client.request(method, target, json=body, headers=bob.headers)
        assert response.status_code == 404, (method, target, response.text)
        assert response.json()["code"] == "webhook.not_found"
    listed = await client.get("/api/v1/webhooks", headers=bob.headers)
    assert listed.json()["items"] == []
    still = await client.get(path, headers=anna.headers)
    assert still.status_code == 200
