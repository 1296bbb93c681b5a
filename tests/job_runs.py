"""A runner of the app's own job handlers and services, which a test drives one job at a time
(a pytest plugin): `runner`, and `run_next(db, runner)` to run the next due job."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from paperworks.jobs import service as jobs
from paperworks.jobs.metrics import JobMetrics
from paperworks.jobs.models import JobStatus
from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database


@pytest.fixture
def runner(db: Database, app: FastAPI) -> LocalRunner:
    services = app.state.services
    return LocalRunner(
        db,
        slots=1,
        lease_seconds=30,
        metrics=JobMetrics(CollectorRegistry()),
        handlers=services.handlers,
        services=services,
    )


async def run_next(db: Database, runner: LocalRunner) -> JobStatus:
    """Claim the next due job and run it, as a slot would."""
    async with db.session_scope() as session:
        job = await jobs.claim_next(session, lease=timedelta(seconds=30))
    assert job is not None, "nothing to run"
    return await runner.run(job)
