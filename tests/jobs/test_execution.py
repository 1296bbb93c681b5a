"""What both runners share when they run a job (`JobExecutor`), beyond test_runner.py."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.exc import OperationalError

from paperworks.jobs import service
from paperworks.jobs.execution import JobExecutor
from paperworks.jobs.handlers import JobHandlers
from paperworks.jobs.metrics import JobMetrics
from paperworks.kit.db import Database


async def test_a_progress_tick_that_cannot_be_stored_is_skipped_not_fatal(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def database_locked(*args: Any, **kwargs: Any) -> bool:
        raise OperationalError("UPDATE jobs ...", {}, Exception("database is locked"))

    monkeypatch.setattr(service, "record_progress", database_locked)
    executor = JobExecutor(db, JobMetrics(CollectorRegistry()), JobHandlers())
    report = executor._progress_reporter("some-job")
    assert await report(10, "working") is False  # not cancelled, and no exception for the job
