"""Listening to the app's live events in a test (a pytest plugin): the `hub` the app publishes
on, and `drained(queue)` for what a subscription heard so far.

    with hub.subscribe(f"job:{job_id}") as live:
        await run_next(db, runner)
        heard = drained(live)
"""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI

from paperworks.events.hub import EventHub, LiveMessage


@pytest.fixture
def hub(app: FastAPI) -> EventHub:
    hub: EventHub = app.state.services.hub
    return hub


def drained(queue: asyncio.Queue[LiveMessage]) -> list[LiveMessage]:
    messages = []
    while not queue.empty():
        messages.append(queue.get_nowait())
    return messages
