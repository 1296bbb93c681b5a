"""A slow endpoint: the attempt ends at the time limit, is logged as a timeout and retried."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database
from tests.accounts import Account
from tests.webhooks.conftest import (
    create_webhook,
    delivery_rows,
    make_retries_due,
    publish,
    queued_deliveries,
    run_due,
)
from tests.webhooks.receiver import Receiver


@pytest.fixture
def webhook_settings() -> dict[str, Any]:
    return {
        "webhooks_allow_private": True,
        "webhooks_allow_http": True,
        "webhooks_timeout_seconds": 0.3,
    }


async def test_a_slow_endpoint_times_out_and_is_retried(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, receiver: Receiver, anna: Account
) -> None:
    webhook = await create_webhook(client, anna, receiver.url, ["*"])
    receiver.stall()  # never answers the first attempt
    await publish(db, anna.personal_workspace_id)
    await run_due(db, runner)

    (delivery,) = await delivery_rows(db, webhook["id"])
    assert delivery.status == "pending"
    assert delivery.last_status_code is None
    assert "timed out" in (delivery.last_error or "")
    assert await queued_deliveries(db) == 1

    await make_retries_due(db)
    await run_due(db, runner)
    assert len(receiver.requests) == 2
    (delivery,) = await delivery_rows(db, webhook["id"])
    assert delivery.status == "succeeded"
