"""Deliveries end to end: an event published in a workspace reaches its subscribed endpoint, a
real HTTP server here, signed as Standard Webhooks says; failures are logged and retried on the
schedule, and an endpoint failing for days is disabled and its owners mailed."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from paperworks.jobs.models import Job, JobStatus
from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database, utcnow
from paperworks.settings import Settings
from paperworks.webhooks import service
from paperworks.webhooks.models import Webhook
from tests.accounts import Account
from tests.webhooks.conftest import (
    create_webhook,
    delivery_rows,
    make_retries_due,
    publish,
    queued_deliveries,
    run_due,
    webhook_row,
)
from tests.webhooks.receiver import Receiver


async def test_a_published_event_is_delivered_once_signed_as_the_standard_says(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, receiver: Receiver, anna: Account
) -> None:
    webhook = await create_webhook(client, anna, receiver.url, ["*"])
    event_id = await publish(db, anna.personal_workspace_id, "booklet.generated", pages=7)

    # Everything due runs, the delivery's own job events included: they are not delivered
    # again (a webhook for `*` would otherwise feed itself forever).
    assert await run_due(db, runner) == 1
    assert await run_due(db, runner) == 0

    (request,) = receiver.requests
    assert request.method == "POST"
    assert request.path == "/hooks"
    assert request.headers["content-type"] == "application/json"
    payload = request.verified_by_package(webhook["secret"])
    assert request.verified_by_hand(webhook["secret"])
    assert payload == json.loads(request.body)
    assert payload["type"] == "booklet.generated"
    assert payload["data"]["id"] == event_id
    assert payload["data"]["workspaceId"] == anna.personal_workspace_id
    assert payload["data"]["payload"] == {"pages": 7}
    assert payload["timestamp"] == payload["data"]["createdAt"]
    (delivery,) = await delivery_rows(db, webhook["id"])
    assert request.headers["webhook-id"] == delivery.id
    assert request.headers["webhook-signature"].startswith("v1,")
    assert " " not in request.headers["webhook-signature"]  # one secret, one signature
    assert delivery.status == "succeeded"
    assert delivery.attempts == 1


async def test_another_secret_does_not_verify(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, receiver: Receiver, anna: Account
) -> None:
    await create_webhook(client, anna, receiver.url, ["booklet.generated"])
    other = await create_webhook(client, anna, receiver.url + "/other", ["deck.built"])
    await publish(db, anna.personal_workspace_id)
    await run_due(db, runner)
    (request,) = receiver.requests
    assert not request.verified_by_hand(other["secret"])
    with pytest.raises(Exception, match="signature"):
        request.verified_by_package(other["secret"])


async def test_an_event_made_through_the_api_is_delivered(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, receiver: Receiver, anna: Account
) -> None:
    webhook = await create_webhook(client, anna, receiver.url, ["customer.*"])
    created = await client.post("/api/v1/customers", json={"name": "Acme"}, headers=anna.headers)
    assert created.status_code == 201, created.text
    await run_due(db, runner)
    (request,) = receiver.requests
    payload = request.verified_by_package(webhook["secret"])
    assert payload["type"] == "customer.created"
    assert payload["data"]["resourceId"] == created.json()["id"]
    assert payload["data"]["actor"]["userId"] == anna.id


async def test_types_it_does_not_subscribe_to_are_not_delivered(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, receiver: Receiver, anna: Account
) -> None:
    webhook = await create_webhook(client, anna, receiver.url, ["deck.built", "job.*"])
    await publish(db, anna.personal_workspace_id, "booklet.generated")
    await publish(db, anna.personal_workspace_id, "deck.created")
    assert await queued_deliveries(db) == 0
    await publish(db, anna.personal_workspace_id, "deck.built")
    await publish(db, anna.personal_workspace_id, "job.succeeded")
    await run_due(db, runner)
    assert [r.verified_by_package(webhook["secret"])["type"] for r in receiver.requests] == [
        "deck.built",
        "job.succeeded",
    ]


async def test_another_workspaces_events_are_not_delivered(
    client: httpx.AsyncClient,
    db: Database,
    runner: LocalRunner,
    receiver: Receiver,
    anna: Account,
    bob: Account,
) -> None:
    await create_webhook(client, anna, receiver.url, ["*"])
    await publish(db, bob.personal_workspace_id, "booklet.generated")
    assert await queued_deliveries(db) == 0
    assert await run_due(db, runner) == 0
    assert receiver.requests == []


async def test_a_private_task_is_never_delivered(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, receiver: Receiver, anna: Account
) -> None:
    await create_webhook(client, anna, receiver.url, ["*"])
    created = await client.post("/api/v1/tasks", json={"title": "Call Acme"}, headers=anna.headers)
    assert created.status_code == 201, created.text
    assert await queued_deliveries(db) == 0


async def test_an_inactive_webhook_gets_nothing(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, receiver: Receiver, anna: Account
) -> None:
    await create_webhook(client, anna, receiver.url, ["*"], active=False)
    await publish(db, anna.personal_workspace_id)
    assert await queued_deliveries(db) == 0


async def test_after_a_rotation_both_secrets_verify_until_the_old_one_expires(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, receiver: Receiver, anna: Account
) -> None:
    webhook = await create_webhook(client, anna, receiver.url, ["*"])
    rotated = await client.post(
        f"/api/v1/webhooks/{webhook['id']}/rotate-secret", headers=anna.headers
    )
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret.startswith("whsec_")
    assert new_secret != webhook["secret"]
    assert rotated.json()["previousSecretExpiresAt"] is not None

    await publish(db, anna.personal_workspace_id)
    await run_due(db, runner)
    (during,) = receiver.requests
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    for secret in (webhook["secret"], new_secret):
        during.verified_by_package(secret)
        assert during.verified_by_hand(secret)

    async with db.session_scope() as session:  # 24 hours later
        await session.execute(
            update(Webhook)
            .where(Webhook.id == webhook["id"])
            .values(previous_secret_expires_at=utcnow() - timedelta(seconds=1))
        )
    await publish(db, anna.personal_workspace_id)
    await run_due(db, runner)
    after = receiver.requests[1]
    after.verified_by_package(new_secret)
    assert not after.verified_by_hand(webhook["secret"])


async def test_a_receiver_down_then_up_gets_the_retry(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, receiver: Receiver, anna: Account
) -> None:
    webhook = await create_webhook(client, anna, receiver.url, ["*"])
    await receiver.stop()
    await publish(db, anna.personal_workspace_id)
    assert await run_due(db, runner) == 1

    (delivery,) = await delivery_rows(db, webhook["id"])
    assert delivery.status == "pending"
    assert delivery.attempts == 1
    assert "connect" in (delivery.last_error or "").lower()
    assert await run_due(db, runner) == 0, "the retry waits for its backoff"
    async with db.sessionmaker() as session:
        retry = await session.scalar(
            select(Job).where(Job.kind == "webhooks.deliver", Job.status == JobStatus.queued)
        )
    assert retry is not None
    assert retry.payload == {"deliveryId": delivery.id, "retry": 2}
    assert delivery.next_attempt_at == retry.run_after

    await receiver.start()
    assert await make_retries_due(db) == 1
    assert await run_due(db, runner) == 1
    (request,) = receiver.requests
    assert request.headers["webhook-id"] == delivery.id  # the same message, attempt 2
    (delivery,) = await delivery_rows(db, webhook["id"])
    assert delivery.status == "succeeded"
    assert delivery.attempts == 2

    log = await client.get(f"/api/v1/webhooks/{webhook['id']}/deliveries", headers=anna.headers)
    (entry,) = log.json()["items"]
    assert [a["attempt"] for a in entry["attemptLog"]] == [2, 1]
    assert [a["succeeded"] for a in entry["attemptLog"]] == [True, False]
    assert entry["attemptLog"][1]["statusCode"] is None
    assert entry["attemptLog"][0]["statusCode"] == 200
    assert entry["nextAttemptAt"] is None


async def test_a_500_is_logged_with_a_truncated_answer_and_retried(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, receiver: Receiver, anna: Account
) -> None:
    webhook = await create_webhook(client, anna, receiver.url, ["*"])
    receiver.answer(500, b"E" * 5000)
    await publish(db, anna.personal_workspace_id)
    await run_due(db, runner)

    log = await client.get(f"/api/v1/webhooks/{webhook['id']}/deliveries", headers=anna.headers)
    (entry,) = log.json()["items"]
    assert entry["status"] == "pending"
    assert entry["statusCode"] == 500
    (attempt,) = entry["attemptLog"]
    assert attempt["statusCode"] == 500
    assert not attempt["succeeded"]
    assert attempt["responseBody"] == "E" * 1024
    assert "500" in attempt["error"]
    assert attempt["durationMs"] >= 0
    assert await queued_deliveries(db) == 1

    await make_retries_due(db)
    await run_due(db, runner)
    assert len(receiver.requests) == 2
    (delivery,) = await delivery_rows(db, webhook["id"])
    assert delivery.status == "succeeded"


async def test_a_redirect_is_not_followed_and_counts_as_a_failure(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, receiver: Receiver, anna: Account
) -> None:
    webhook = await create_webhook(client, anna, receiver.url, ["*"])
    receiver.answer(302, b"", Location=receiver.url + "/elsewhere")
    await publish(db, anna.personal_workspace_id)
    await run_due(db, runner)
    assert [r.path for r in receiver.requests] == ["/hooks"]  # /hooks/elsewhere never asked
    (delivery,) = await delivery_rows(db, webhook["id"])
    assert delivery.status == "pending"
    assert delivery.last_status_code == 302
    assert "redirect" in (delivery.last_error or "")


async def test_every_scheduled_attempt_failing_fails_the_delivery(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, receiver: Receiver, anna: Account
) -> None:
    webhook = await create_webhook(client, anna, receiver.url, ["*"])
    receiver.answer(503, times=service.MAX_ATTEMPTS)
    await publish(db, anna.personal_workspace_id)
    await run_due(db, runner)
    for _ in range(service.MAX_ATTEMPTS - 1):
        assert await make_retries_due(db) == 1
        await run_due(db, runner)
    assert len(receiver.requests) == service.MAX_ATTEMPTS == 8
    assert await queued_deliveries(db) == 0
    (delivery,) = await delivery_rows(db, webhook["id"])
    assert delivery.status == "failed"
    assert delivery.attempts == 8
    assert delivery.next_attempt_at is None
    assert (await webhook_row(db, webhook["id"])).active  # a day of failures is not five


async def test_an_endpoint_failing_for_days_is_disabled_and_its_owners_mailed(
    client: httpx.AsyncClient,
    db: Database,
    runner: LocalRunner,
    receiver: Receiver,
    anna: Account,
    settings: Settings,
) -> None:
    webhook = await create_webhook(client, anna, receiver.url, ["*"])
    receiver.answer(500, times=2)
    await publish(db, anna.personal_workspace_id)
    await run_due(db, runner)
    assert (await webhook_row(db, webhook["id"])).failing_since is not None
    outbox = settings.data_dir / "outbox.jsonl"
    assert not outbox.exists()

    async with db.session_scope() as session:  # it has failed ever since, for 5 days
        await session.execute(
            update(Webhook)
            .where(Webhook.id == webhook["id"])
            .values(failing_since=utcnow() - timedelta(days=5, minutes=1))
        )
    await make_retries_due(db)
    await run_due(db, runner)

    shown = await client.get(f"/api/v1/webhooks/{webhook['id']}", headers=anna.headers)
    assert shown.json()["active"] is False
    assert "failed for 5 days" in shown.json()["disabledReason"]
    (line,) = outbox.read_text(encoding="utf-8").splitlines()
    mail = json.loads(line)
    assert mail["to"] == anna.email
    assert receiver.url in mail["text"]
    assert webhook["id"] in mail["text"]

    # Its scheduled retry sends nothing; new events are not recorded for it.
    await make_retries_due(db)
    await run_due(db, runner)
    assert len(receiver.requests) == 2
    (delivery,) = await delivery_rows(db, webhook["id"])
    assert delivery.status == "failed"
    assert "inactive" in (delivery.last_error or "")
    await publish(db, anna.personal_workspace_id)
    assert await queued_deliveries(db) == 0

    # Turned on again: a fresh start.
    body = {"url": receiver.url, "events": ["*"], "active": True}
    again = await client.put(f"/api/v1/webhooks/{webhook['id']}", json=body, headers=anna.headers)
    assert again.json()["active"] is True
    assert again.json()["disabledReason"] is None
    assert (await webhook_row(db, webhook["id"])).failing_since is None


async def test_a_success_resets_the_failing_clock(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, receiver: Receiver, anna: Account
) -> None:
    webhook = await create_webhook(client, anna, receiver.url, ["*"])
    receiver.answer(500)
    await publish(db, anna.personal_workspace_id)
    await run_due(db, runner)
    assert (await webhook_row(db, webhook["id"])).failing_since is not None
    await make_retries_due(db)
    await run_due(db, runner)
    assert (await webhook_row(db, webhook["id"])).failing_since is None


async def test_the_delivery_log_pages(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, receiver: Receiver, anna: Account
) -> None:
    webhook = await create_webhook(client, anna, receiver.url, ["*"])
    for pages in (1, 2, 3):
        await publish(db, anna.personal_workspace_id, pages=pages)
    await run_due(db, runner)
    path = f"/api/v1/webhooks/{webhook['id']}/deliveries"
    first = (await client.get(path, params={"limit": 2}, headers=anna.headers)).json()
    assert len(first["items"]) == 2
    assert first["nextCursor"]
    second = (
        await client.get(
            path, params={"limit": 2, "cursor": first["nextCursor"]}, headers=anna.headers
        )
    ).json()
    assert len(second["items"]) == 1
    assert second["nextCursor"] is None
    ids = [item["id"] for item in first["items"] + second["items"]]
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    assert all(item["status"] == "succeeded" for item in first["items"] + second["items"])


async def test_a_delivery_can_be_sent_again(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, receiver: Receiver, anna: Account
) -> None:
    webhook = await create_webhook(client, anna, receiver.url, ["*"])
    await publish(db, anna.personal_workspace_id)
    await run_due(db, runner)
    (delivery,) = await delivery_rows(db, webhook["id"])

    path = f"/api/v1/webhooks/{webhook['id']}/deliveries/{delivery.id}/redeliver"
    answer = await client.post(path, headers=anna.headers)
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "pending"
    receiver.answer(500)
    await run_due(db, runner)
    first, again = receiver.requests
    assert again.headers["webhook-id"] == first.headers["webhook-id"] == delivery.id
    assert again.body == first.body
    again.verified_by_package(webhook["secret"])
    (delivery,) = await delivery_rows(db, webhook["id"])
    assert delivery.status == "failed"
    assert delivery.attempts == 2
    assert await queued_deliveries(db) == 0, "a redelivery is not retried"

    log = await client.get(f"/api/v1/webhooks/{webhook['id']}/deliveries", headers=anna.headers)
    attempts = log.json()["items"][0]["attemptLog"]
    assert [(a["attempt"], a["manual"], a["statusCode"]) for a in attempts] == [
        (2, True, 500),
        (1, False, 200),
    ]


async def test_redelivery_needs_an_active_webhook_and_its_own_delivery(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, receiver: Receiver, anna: Account
) -> None:
    webhook = await create_webhook(client, anna, receiver.url, ["*"])
    other = await create_webhook(client, anna, receiver.url, ["deck.built"])
    await publish(db, anna.personal_workspace_id)
    (delivery,) = await delivery_rows(db, webhook["id"])

    wrong = f"/api/v1/webhooks/{other['id']}/deliveries/{delivery.id}/redeliver"
    missing = await client.post(wrong, headers=anna.headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == "webhook.delivery_not_found"

    body = {"url": receiver.url, "events": ["*"], "active": False}
    await client.put(f"/api/v1/webhooks/{webhook['id']}", json=body, headers=anna.headers)
    path = f"/api/v1/webhooks/{webhook['id']}/deliveries/{delivery.id}/redeliver"
    inactive = await client.post(path, headers=anna.headers)
    assert inactive.status_code == 409
    assert inactive.json()["code"] == "webhook.inactive"


async def test_a_deleted_webhooks_queued_attempt_sends_nothing(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, receiver: Receiver, anna: Account
) -> None:
    webhook = await create_webhook(client, anna, receiver.url, ["*"])
    await publish(db, anna.personal_workspace_id)
    deleted = await client.delete(f"/api/v1/webhooks/{webhook['id']}", headers=anna.headers)
    assert deleted.status_code == 204
    assert await run_due(db, runner) == 1
    assert receiver.requests == []
