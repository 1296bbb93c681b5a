"""`paperworks worker` processes on real brokers (Redis and RabbitMQ): jobs run, retries come back
after their backoff, and a `kill -9` - of a pool process, or of the whole worker - loses no job
and leaves none `running`."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pptx import Presentation
from prometheus_client import CollectorRegistry

from paperworks.app import create_app
from paperworks.decks import service as decks
from paperworks.decks.models import Deck
from paperworks.decks.plan import Layout, Slide, SlidePlan
from paperworks.files.models import StoredFile
from paperworks.identity.caller import SYSTEM, Caller
from paperworks.jobs.celery_runner import CeleryDispatcher, create_celery
from paperworks.jobs.metrics import JobMetrics
from paperworks.jobs.models import Job
from paperworks.jobs.queue import JobQueue
from paperworks.jobs.schemas import JobOut
from paperworks.kit.db import Database
from paperworks.services import ServicesDep, SessionDep
from paperworks.settings import Settings
from tests.conftest import make_settings
from tests.jobs.conftest import Tenant

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 2
WAIT_SECONDS = 30


@pytest.fixture
def settings(tmp_path: Path, sqlite_file: Tenant, broker_url: str, celery_queue: str) -> Settings:
    return make_settings(
        tmp_path,
        database_url=sqlite_file.url,
        jobs_backend="celery",
        celery_broker_url=broker_url,
        celery_queue=celery_queue,
        job_lease_seconds=LEASE_SECONDS,
    )


@contextmanager
def paperworks_worker(
    settings: Settings, log: Path, *, pool: str = "prefork", concurrency: int = 2
) -> Iterator[subprocess.Popen[bytes]]:
    """`paperworks worker` in a process group of its own (so it can be killed whole)."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PAPERWORKS_") and key != "PROMETHEUS_MULTIPROC_DIR"
    }
    environment |= {
        "PAPERWORKS_DATA_DIR": str(settings.data_dir),
        "PAPERWORKS_DATABASE_URL": settings.database_url,
        "PAPERWORKS_JOBS_BACKEND": "celery",
        "PAPERWORKS_CELERY_BROKER_URL": str(settings.celery_broker_url),
        "PAPERWORKS_CELERY_QUEUE": settings.celery_queue,
        "PAPERWORKS_JOB_LEASE_SECONDS": str(settings.job_lease_seconds),
        "PAPERWORKS_JOB_MODULES": "tests.e2e.job_handlers",
        "PAPERWORKS_LOG_LEVEL": "INFO",
        "PYTHONPATH": str(REPO),
    }
    argv = ["worker", f"--pool={pool}", f"--concurrency={concurrency}"]
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "paperworks", *argv],
            env=environment,
            cwd=settings.data_dir.parent,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()  # a warm shutdown: what runs finishes
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:  # pragma: no cover - only if shutdown hangs
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def pool_processes(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


@asynccontextmanager
async def job_queue(settings: Settings) -> AsyncIterator[JobQueue]:
    """What `serve` holds in celery mode: a queue that sends each job to the broker."""
    dispatcher = CeleryDispatcher(create_celery(settings), settings.celery_queue)
    queue = JobQueue(None, JobMetrics(CollectorRegistry()), dispatcher=dispatcher)
    try:
        yield queue
    finally:
        await queue.stop()


@asynccontextmanager
async def api(settings: Settings, tenant: Tenant) -> AsyncIterator[httpx.AsyncClient]:
    """The app as `serve` builds it in celery mode, with a route that starts a job."""
    app = create_app(settings, db=Database.from_url(tenant.url))

    @app.post("/test/jobs", status_code=202)
    async def start_job(
        session: SessionDep, services: ServicesDep, kind: str, payload: dict[str, Any]
    ) -> JobOut:
        job = await services.jobs.enqueue(
            session, SYSTEM.within(tenant.workspace_id), kind=kind, payload=payload
        )
        return JobOut.of(job)

    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client
    finally:
        await app.state.services.jobs.stop()
        await app.state.services.db.dispose()


async def post(client: httpx.AsyncClient, kind: str, **payload: Any) -> str:
    response = await client.post("/test/jobs", params={"kind": kind}, json=payload)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def start(queue: JobQueue, tenant: Tenant, kind: str, **payload: Any) -> str:
    async with tenant.db.session_scope() as session:
        job = await queue.enqueue(
            session, SYSTEM.within(tenant.workspace_id), kind=kind, payload=payload
        )
    return job.id


async def states(tenant: Tenant, job_ids: list[str]) -> dict[str, tuple[str, int]]:
    async with tenant.db.sessionmaker() as session:
        jobs = [await session.get_one(Job, job_id) for job_id in job_ids]
        return {job.id: (job.status, job.attempts) for job in jobs}


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:]


async def wait_for(
    tenant: Tenant, job_ids: list[str], condition: Any, what: str, log: Path
) -> dict[str, tuple[str, int]]:
    for _ in range(int(WAIT_SECONDS / 0.1)):
        if condition(found := await states(tenant, job_ids)):
            return found
        await asyncio.sleep(0.1)
    pytest.fail(f"timed out waiting until {what}: {found}\n{tail(log)}")


def all_in(*wanted: tuple[str, int] | str) -> Any:
    return lambda found: all(
        (state if isinstance(w, tuple) else state[0]) == w
        for w, state in zip(wanted, found.values(), strict=True)
    )


async def test_jobs_started_over_the_api_run_retry_and_survive_a_lost_pool_process(
    settings: Settings, sqlite_file: Tenant, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    async with api(settings, sqlite_file) as client:
        with paperworks_worker(settings, log) as worker:
            quick = await post(client, "e2e.quick")
            flaky = await post(client, "e2e.flaky")
            await wait_for(
                sqlite_file,
                [quick, flaky],
                lambda found: found[quick] == ("succeeded", 1) and found[flaky][1] >= 1,
                "the quick job ran and the flaky one failed once",
                log,
            )
            slow = await post(client, "e2e.slow", steps=15)
            await wait_for(sqlite_file, [slow], all_in("running"), "the slow job runs", log)

            # The pool processes die, the one running it among them: the worker gives its
            # message back (task_reject_on_worker_lost); the copy finds the job still running
            # and does nothing; once the lease runs out the sweep queues the job again and
            # sends it.
            for pid in pool_processes(worker.pid):
                os.kill(pid, signal.SIGKILL)

            found = await wait_for(
                sqlite_file,
                [slow, flaky],
                lambda found: found[slow] == ("succeeded", 2) and found[flaky][0] == "succeeded",
                "every job succeeded (the slow one on a second attempt)",
                log,
            )
            assert worker.poll() is None  # the worker itself lived on
    # The retry waited out its backoff (and, if the kill caught it running, was run again).
    assert found[flaky][1] in (2, 3)


async def test_jobs_of_a_worker_killed_whole_run_again_once_it_restarts(
    settings: Settings, sqlite_file: Tenant, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    async with job_queue(settings) as queue:
        with paperworks_worker(settings, log) as first:
            jobs = [await start(queue, sqlite_file, "e2e.slow", steps=15) for _ in range(2)]
            await wait_for(sqlite_file, jobs, all_in("running", "running"), "both run", log)
            os.killpg(first.pid, signal.SIGKILL)  # no shutdown, no acknowledgement, no cleanup
            first.wait(timeout=10)
        assert {status for status, _ in (await states(sqlite_file, jobs)).values()} == {"running"}

        with paperworks_worker(settings, log):
            await wait_for(
                sqlite_file,
                jobs,
                all_in(("succeeded", 2), ("succeeded", 2)),
                "both succeeded on a second attempt",
                log,
            )


async def test_a_worker_builds_a_deck_with_the_services_it_made_for_itself(
    settings: Settings, sqlite_file: Tenant, tmp_path: Path
) -> None:
    """A product's handler in `paperworks worker`: `ctx.services` (storage, files, images, the
    planner's model) come from the worker process's own `Services`, built after the fork."""
    log = tmp_path / "worker.log"
    caller = Caller(workspace_id=sqlite_file.workspace_id, user_id=sqlite_file.user_id)
    plan = SlidePlan(
        title="City birds",
        slides=[
            Slide(index=0, layout=Layout.title, title="City birds"),
            Slide(
                index=1, layout=Layout.bullets_image, title="Crows", bullets=["They solve puzzles"]
            ),
        ],
    )
    async with job_queue(settings) as queue:
        async with sqlite_file.db.session_scope() as session:
            deck = await decks.create_deck(
                session, caller, content=plan, theme=None, include_images=True
            )
            job = await decks.start_build(session, queue, caller, deck)
        with paperworks_worker(settings, log):
            await wait_for(sqlite_file, [job.id], all_in("succeeded"), "the deck is built", log)
    async with sqlite_file.db.sessionmaker() as session:
        built = await session.get_one(Deck, deck.id)
        record = await session.get_one(StoredFile, built.file_id)
    presentation = Presentation(str(settings.data_dir / "files" / record.storage_key))
    assert len(presentation.slides) == 2
