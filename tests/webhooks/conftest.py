"""Webhook tests: an app that may deliver to loopback over http, a receiving endpoint, and
helpers that publish events and run delivery jobs one at a time (no real backoff is waited)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from paperworks.events import service as events
from paperworks.events.service import Resource
from paperworks.jobs import service as jobs
from paperworks.jobs.models import Job, JobStatus
from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database, utcnow
from paperworks.kit.ids import new_id
from paperworks.settings import Settings
from paperworks.webhooks.models import Webhook, WebhookDelivery
from tests.accounts import Account
from tests.conftest import make_settings
from tests.job_runs import run_next
from tests.webhooks.receiver import Receiver


@pytest.fixture
def webhook_settings() -> dict[str, Any]:
    """What a test module may change (a short timeout, private addresses refused)."""
    return {"webhooks_allow_private": True, "webhooks_allow_http": True}


@pytest.fixture
def settings(tmp_path: Path, database_url: str, webhook_settings: dict[str, Any]) -> Settings:
    return make_settings(tmp_path / "data", database_url=database_url, **webhook_settings)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    endpoint = Receiver()
    await endpoint.start()
    try:
        yield endpoint
    finally:
        await endpoint.stop()


async def create_webhook(
    client: httpx.AsyncClient, account: Account, url: str, events: list[str], **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/webhooks", json={"url": url, "events": events, **extra}, headers=account.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def publish(
    db: Database, workspace_id: str, type: str = "booklet.generated", **payload: Any
) -> str:
    """Publish an event as a product does, in a transaction of its own; its id."""
    async with db.session_scope() as session:
        resource = Resource("booklet", new_id(), workspace_id)
        event = await events.publish(session, type, resource, payload or {"pages": 3})
        return event.id


async def queued_deliveries(db: Database) -> int:
    async with db.sessionmaker() as session:
        found = await session.scalars(
            select(Job.id).where(Job.kind == "webhooks.deliver", Job.status == JobStatus.queued)
        )
        return len(found.all())


async def run_due(db: Database, runner: LocalRunner) -> int:
    """Run every job that is due now, one at a time; how many ran."""
    ran = 0
    while True:
        async with db.sessionmaker() as session:
            if not await jobs.has_due_jobs(session):
                return ran
        await run_next(db, runner)
        ran += 1
        assert ran < 50, "jobs keep coming: deliveries are feeding themselves"


async def make_retries_due(db: Database) -> int:
    """The backoff has passed: every queued job may run now. How many were waiting."""
    async with db.session_scope() as session:
        moved = await session.execute(
            update(Job).where(Job.status == JobStatus.queued).values(run_after=utcnow())
        )
        return int(moved.rowcount)  # type: ignore[attr-defined]


async def delivery_rows(db: Database, webhook_id: str) -> list[WebhookDelivery]:
    async with db.sessionmaker() as session:
        found = await session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id)
            .order_by(WebhookDelivery.id)
        )
        return list(found)


async def webhook_row(db: Database, webhook_id: str) -> Webhook:
    async with db.sessionmaker() as session:
        return await session.get_one(Webhook, webhook_id)
