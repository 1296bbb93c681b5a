"""Jobs through a real broker: started over the API, run by a Celery worker in this process,
retried, and never run twice when a message arrives twice.

On Redis: an in-thread worker runs Celery's blocking fallback loop, which on RabbitMQ takes
seconds per message; `paperworks worker` processes run both brokers in test_celery_worker.py."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from celery.contrib.testing.worker import start_worker
from fastapi import FastAPI
from sqlalchemy import func, select

from paperworks.app import create_app
from paperworks.events.models import Event
from paperworks.identity.caller import Caller
from paperworks.jobs.celery_runner import CeleryRunner
from paperworks.jobs.models import Job
from paperworks.jobs.schemas import JobOut
from paperworks.kit.db import Database
from paperworks.services import ServicesDep, SessionDep
from tests.conftest import make_settings
from tests.e2e.job_handlers import HANDLERS
from tests.jobs.conftest import Tenant

pytestmark = pytest.mark.slow


@pytest.fixture(params=[pytest.param("redis", marks=pytest.mark.redis)])
def broker_url(redis_url: str) -> str:
    return redis_url


@pytest.fixture
def celery_settings(tmp_path: Path, shared: Tenant, broker_url: str, celery_queue: str) -> object:
    return make_settings(
        tmp_path,
        database_url=shared.url,
        jobs_backend="celery",
        celery_broker_url=broker_url,
        celery_queue=celery_queue,
    )


@pytest.fixture
def worker(celery_settings: object) -> Iterator[CeleryRunner]:
    """A Celery worker consuming the test's queue from a thread of this process."""
    runner = CeleryRunner(celery_settings, HANDLERS)  # type: ignore[arg-type]
    try:
        with start_worker(runner.celery, pool="solo", perform_ping_check=False, loglevel="WARNING"):
            yield runner
    finally:
        runner.stop_runtime()


@pytest.fixture
def api(celery_settings: object, shared: Tenant) -> FastAPI:
    app = create_app(celery_settings, db=Database.from_url(shared.url))  # type: ignore[arg-type]

    @app.post("/test/jobs", status_code=202)
    async def start(session: SessionDep, services: ServicesDep, kind: str) -> JobOut:
        job = await services.jobs.enqueue(
            session, Caller(workspace_id=shared.workspace_id, user_id=shared.user_id), kind=kind
        )
        return JobOut.of(job)

    return app


async def wait_until_finished(db: Database, *job_ids: str) -> list[Job]:
    for _ in range(300):
        async with db.sessionmaker() as session:
            jobs = [await session.get_one(Job, job_id) for job_id in job_ids]
        if all(job.finished_at is not None for job in jobs):
            return jobs
        await asyncio.sleep(0.05)
    pytest.fail(f"jobs still unfinished: {[(job.id, job.status) for job in jobs]}")


async def started_events(db: Database, job_id: str) -> int:
    async with db.sessionmaker() as session:
        query = select(func.count()).where(Event.resource_id == job_id, Event.type == "job.started")
        return int(await session.scalar(query) or 0)


async def test_jobs_started_over_the_api_run_on_a_celery_worker(
    api: FastAPI, worker: CeleryRunner, shared: Tenant
) -> None:
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:

        async def start(kind: str) -> str:
            response = await client.post("/test/jobs", params={"kind": kind})
            assert response.status_code == 202, response.text
            assert response.json()["status"] == "queued"
            return str(response.json()["id"])

        quick, flaky = await start("e2e.quick"), await start("e2e.flaky")
        done, retried = await wait_until_finished(shared.db, quick, flaky)
        assert (done.status, done.attempts) == ("succeeded", 1)
        assert (retried.status, retried.attempts, retried.result) == (
            "succeeded",
            2,
            {"attempt": 2},
        )

        # The same message twice more (a redelivery, a re-send): the job does not run again.
        for _ in range(2):
            worker.dispatcher.send(quick)
        (later,) = await wait_until_finished(shared.db, await start("e2e.quick"))
        assert later.status == "succeeded"  # the worker got past both copies
        (again,) = await wait_until_finished(shared.db, quick)
        assert (again.attempts, again.result) == (1, done.result)
        assert await started_events(shared.db, quick) == 1
    await api.state.services.jobs.stop()
