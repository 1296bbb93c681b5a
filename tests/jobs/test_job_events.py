"""A job's timeline as its owner reads it (`GET /jobs/{id}/events`) and what its live followers
hear, with jobs run by the real runner: queued, started, progress steps, and how it ended."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from sqlalchemy import update

from paperworks.events import follow
from paperworks.events.hub import EventHub
from paperworks.identity import service as identity
from paperworks.identity.caller import SYSTEM
from paperworks.identity.dependencies import CurrentCaller
from paperworks.identity.models import User
from paperworks.jobs import execution, service
from paperworks.jobs.handlers import JobContext, JobHandlers, RetryableError, job_handler
from paperworks.jobs.models import Job, JobStatus
from paperworks.jobs.runner import JobMetrics, LocalRunner
from paperworks.jobs.schemas import JobOut
from paperworks.kit.db import Database
from paperworks.services import ServicesDep, SessionDep
from paperworks.settings import Settings
from tests.accounts import Account
from tests.live_events import drained
from tests.problems import assert_problem

API = "/api/v1"
LEASE = timedelta(seconds=30)


class Gate:
    """Holds a handler until the test lets it go on."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self.go = asyncio.Event()


gates: dict[str, Gate] = {}


@job_handler("events.steps")
async def steps(ctx: JobContext) -> dict[str, Any]:
    await ctx.report(25, "reading")
    await ctx.report(75, "writing")
    return {"pages": 3}


@job_handler("events.slides")
async def slides(ctx: JobContext) -> dict[str, Any]:
    for slide in (1, 2):
        ctx.emit("slide:progress", {"slide": slide, "total": 2})
    return {"slides": 2}


@job_handler("events.count")
async def count(ctx: JobContext) -> dict[str, Any]:
    for point in range(1, 101):
        await ctx.report(point)
    return {"counted": 100}


@job_handler("events.broken", max_attempts=1)
async def broken(ctx: JobContext) -> None:
    raise ValueError("the printer is on fire")


@job_handler("events.flaky", max_attempts=2)
async def flaky(ctx: JobContext) -> None:
    raise RetryableError("upstream said 503")


@job_handler("events.gated")
async def gated(ctx: JobContext) -> dict[str, Any]:
    gate = gates.setdefault(ctx.job_id, Gate())
    await ctx.report(10, "waiting")
    gate.reached.set()
    await gate.go.wait()
    await ctx.report(20, "going on")
    return {}


HANDLERS = JobHandlers([steps, slides, count, broken, flaky, gated])


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The app runs this module's job kinds, as a deployment's own (JOB_MODULES)."""
    return settings.model_copy(update={"job_modules": [__name__]})


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    @app.post("/test/event-jobs", status_code=202)
    async def start(
        body: dict[str, Any], caller: CurrentCaller, session: SessionDep, services: ServicesDep
    ) -> JobOut:
        job = await services.jobs.enqueue(
            session,
            caller,
            kind=body["kind"],
            payload=body.get("payload", {}),
        )
        return JobOut.of(job)

    return app


@pytest.fixture(autouse=True)
def every_report_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runners store progress at most once a second; here every report, so counts are exact."""
    monkeypatch.setattr(execution, "PROGRESS_WRITE_INTERVAL", 0.0)


@pytest.fixture
def runner(db: Database) -> LocalRunner:
    metrics = JobMetrics(CollectorRegistry())
    return LocalRunner(db, slots=1, lease_seconds=30, metrics=metrics, handlers=HANDLERS)


async def start(client: httpx.AsyncClient, who: Account, kind: str) -> str:
    response = await client.post("/test/event-jobs", json={"kind": kind}, headers=who.headers)
    assert response.status_code == 202, response.text
    job_id: str = response.json()["id"]
    return job_id


async def claim(db: Database) -> Job:
    async with db.session_scope() as session:
        job = await service.claim_next(session, lease=LEASE)
    assert job is not None, "nothing to claim"
    return job


async def run_next(db: Database, runner: LocalRunner) -> JobStatus:
    return await runner.run(await claim(db))


async def timeline(client: httpx.AsyncClient, who: Account, job_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/jobs/{job_id}/events", headers=who.headers)
    assert response.status_code == 200, response.text
    assert response.json()["nextCursor"] is None
    items: list[dict[str, Any]] = response.json()["items"]
    return items


BY_SYSTEM = {"type": "system", "userId": None, "apiKeyId": None}


def by_user(account: Account) -> dict[str, Any]:
    return {"type": "user", "userId": account.id, "apiKeyId": None}


# --- timelines --------------------------------------------------------------------------------


async def test_a_successful_jobs_timeline_reads_queued_started_progress_succeeded(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, hub: EventHub, anna: Account
) -> None:
    job_id = await start(client, anna, "events.steps")
    with hub.subscribe(f"job:{job_id}") as live:
        assert await run_next(db, runner) == JobStatus.succeeded
        heard = drained(live)

    items = await timeline(client, anna, job_id)
    assert [(item["type"], item["payload"]) for item in items] == [
        ("job.queued", {"kind": "events.steps"}),
        ("job.started", {"attempt": 1}),
        ("job.progress", {"progress": 25, "message": "reading"}),
        ("job.progress", {"progress": 75, "message": "writing"}),
        ("job.succeeded", {}),
    ]
    assert [item["actor"] for item in items] == [by_user(anna)] + [BY_SYSTEM] * 4
    assert {(i["resourceType"], i["resourceId"], i["workspaceId"]) for i in items} == {
        ("job", job_id, anna.personal_workspace_id)
    }
    # The workspace's event log holds the same timeline.
    log = await client.get(
        f"{API}/events", params={"resourceType": "job", "resourceId": job_id}, headers=anna.headers
    )
    assert log.json()["items"] == items

    assert [(m.name, m.data) for m in heard] == [
        ("job:started", {"jobId": job_id, "kind": "events.steps", "attempt": 1}),
        (
            "job:progress",
            {"jobId": job_id, "kind": "events.steps", "progress": 25, "message": "reading"},
        ),
        (
            "job:progress",
            {"jobId": job_id, "kind": "events.steps", "progress": 75, "message": "writing"},
        ),
        ("job:completed", {"jobId": job_id, "kind": "events.steps", "result": {"pages": 3}}),
    ]


async def test_a_handlers_own_live_events_reach_the_jobs_room_unstored(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, hub: EventHub, anna: Account
) -> None:
    job_id = await start(client, anna, "events.slides")
    with hub.subscribe(f"job:{job_id}") as live:
        assert await run_next(db, runner) == JobStatus.succeeded
        heard = [(m.name, m.data) for m in drained(live) if m.name.startswith("slide:")]

    assert heard == [
        ("slide:progress", {"jobId": job_id, "slide": 1, "total": 2}),
        ("slide:progress", {"jobId": job_id, "slide": 2, "total": 2}),
    ]
    types = [item["type"] for item in await timeline(client, anna, job_id)]
    assert types == ["job.queued", "job.started", "job.succeeded"]


async def test_a_job_reporting_every_point_keeps_ten_steps_but_is_heard_at_every_point(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, hub: EventHub, anna: Account
) -> None:
    job_id = await start(client, anna, "events.count")
    with (
        hub.subscribe(f"job:{job_id}") as live,
        hub.subscribe(f"workspace:{anna.personal_workspace_id}") as workspace,
    ):
        assert await run_next(db, runner) == JobStatus.succeeded
        heard = drained(live)
        in_workspace = drained(workspace)

    stored = [
        item for item in await timeline(client, anna, job_id) if item["type"] == "job.progress"
    ]
    assert len(stored) <= 11
    assert [item["payload"]["progress"] for item in stored] == list(range(10, 101, 10))
    ticks = [m.data["progress"] for m in heard if m.name == "job:progress"]
    assert ticks == list(range(1, 101))  # every stored write is heard live
    assert (heard[0].name, heard[-1].name) == ("job:started", "job:completed")
    # The workspace hears the stored events only, not every tick.
    assert [m.name for m in in_workspace].count("job.progress") == len(stored)


async def test_a_failed_job_ends_its_timeline_with_the_error(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, hub: EventHub, anna: Account
) -> None:
    job_id = await start(client, anna, "events.broken")
    with hub.subscribe(f"job:{job_id}") as live:
        assert await run_next(db, runner) == JobStatus.failed
        heard = drained(live)

    error = {"code": "job.failed", "message": "the printer is on fire"}
    items = await timeline(client, anna, job_id)
    assert [item["type"] for item in items] == ["job.queued", "job.started", "job.failed"]
    assert items[-1]["payload"] == {"error": error}
    assert (heard[-1].name, heard[-1].data) == (
        "job:failed",
        {"jobId": job_id, "kind": "events.broken", "error": error},
    )
    read = await client.get(f"{API}/jobs/{job_id}", headers=anna.headers)
    assert read.json()["error"] == error


async def test_a_retryable_failure_schedules_a_retry_in_the_timeline(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, anna: Account
) -> None:
    job_id = await start(client, anna, "events.flaky")  # two attempts
    assert await run_next(db, runner) == JobStatus.queued

    read = (await client.get(f"{API}/jobs/{job_id}", headers=anna.headers)).json()
    items = await timeline(client, anna, job_id)
    assert [item["type"] for item in items] == ["job.queued", "job.started", "job.retry_scheduled"]
    assert items[-1]["payload"] == {
        "attempt": 1,
        "runAfter": read["runAfter"],
        "error": {"code": "job.retryable", "message": "upstream said 503"},
    }
    assert items[-1]["actor"] == BY_SYSTEM

    async with db.session_scope() as session:  # let the retry be due now
        await session.execute(
            update(Job).where(Job.id == job_id).values(run_after=datetime.now(UTC))
        )
    assert await run_next(db, runner) == JobStatus.failed
    later = (await timeline(client, anna, job_id))[len(items) :]
    assert [(item["type"], item["payload"]) for item in later] == [
        ("job.started", {"attempt": 2}),
        (
            "job.failed",
            {
                "error": {
                    "code": "job.retryable",
                    "message": "upstream said 503 (after 2 attempts)",
                }
            },
        ),
    ]


async def test_a_job_started_with_an_api_key_says_so_on_its_timeline(
    client: httpx.AsyncClient, anna: Account
) -> None:
    created = await client.post(f"{API}/api-keys", json={"name": "ci"}, headers=anna.headers)
    key = created.json()
    response = await client.post(
        "/test/event-jobs", json={"kind": "events.steps"}, headers={"X-API-Key": key["key"]}
    )
    assert response.status_code == 202, response.text
    (queued,) = await timeline(client, anna, response.json()["id"])
    assert queued["type"] == "job.queued"
    assert queued["actor"] == {"type": "apiKey", "userId": anna.id, "apiKeyId": key["id"]}


@pytest.mark.parametrize("credential", ["access token", "API key"])
async def test_cancelling_a_queued_job_records_who_cancelled_it(
    client: httpx.AsyncClient, hub: EventHub, anna: Account, credential: str
) -> None:
    job_id = await start(client, anna, "events.steps")
    if credential == "API key":
        created = await client.post(f"{API}/api-keys", json={"name": "ci"}, headers=anna.headers)
        assert created.status_code == 201, created.text
        key = created.json()
        headers = {"X-API-Key": key["key"]}
        actor = {"type": "apiKey", "userId": anna.id, "apiKeyId": key["id"]}
    else:
        headers = anna.headers
        actor = by_user(anna)

    with hub.subscribe(f"job:{job_id}") as live:
        response = await client.post(f"{API}/jobs/{job_id}/cancel", headers=headers)
        assert response.status_code == 202, response.text
        heard = drained(live)

    items = await timeline(client, anna, job_id)
    assert [item["type"] for item in items] == ["job.queued", "job.cancelled"]
    assert items[-1]["actor"] == actor
    assert [(m.name, m.data) for m in heard] == [
        ("job:cancelled", {"jobId": job_id, "kind": "events.steps"})
    ]


async def test_cancelling_a_running_job_records_the_request_then_the_runners_stop(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, hub: EventHub, anna: Account
) -> None:
    job_id = await start(client, anna, "events.gated")
    gate = gates.setdefault(job_id, Gate())
    try:
        running = asyncio.create_task(runner.run(await claim(db)))
        await asyncio.wait_for(gate.reached.wait(), 5)
        with hub.subscribe(f"job:{job_id}") as live:
            response = await client.post(f"{API}/jobs/{job_id}/cancel", headers=anna.headers)
            assert response.status_code == 202, response.text
            assert (response.json()["status"], response.json()["cancelRequested"]) == (
                "running",
                True,
            )
            gate.go.set()
            assert await asyncio.wait_for(running, 5) == JobStatus.cancelled
            heard = drained(live)
    finally:
        gates.pop(job_id, None)

    items = await timeline(client, anna, job_id)
    milestones = [(i["type"], i["actor"]) for i in items if i["type"] != "job.progress"]
    assert milestones == [
        ("job.queued", by_user(anna)),
        ("job.started", BY_SYSTEM),
        ("job.cancel_requested", by_user(anna)),
        ("job.cancelled", BY_SYSTEM),
    ]
    assert (heard[-1].name, heard[-1].data) == (
        "job:cancelled",
        {"jobId": job_id, "kind": "events.gated"},
    )


async def test_jobs_whose_runner_vanished_are_requeued_failed_or_cancelled_in_their_timelines(
    client: httpx.AsyncClient, db: Database, runner: LocalRunner, hub: EventHub, anna: Account
) -> None:
    retried = await start(client, anna, "events.steps")
    lost = await start(client, anna, "events.steps")
    abandoned = await start(client, anna, "events.steps")
    for _ in range(3):
        await claim(db)  # three runners that then "crashed"
    async with db.session_scope() as session:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await session.execute(update(Job).values(lease_until=past))
        await session.execute(update(Job).where(Job.id == lost).values(max_attempts=1))
        await session.execute(update(Job).where(Job.id == abandoned).values(cancel_requested=True))

    with (
        hub.subscribe(f"workspace:{anna.personal_workspace_id}") as workspace,
        hub.subscribe(f"job:{lost}") as lost_live,
        hub.subscribe(f"job:{abandoned}") as abandoned_live,
    ):
        await runner.sweep()
        in_workspace = sorted(m.data["resourceId"] + " " + m.name for m in drained(workspace))
        lost_heard = drained(lost_live)
        abandoned_heard = drained(abandoned_live)

    assert in_workspace == sorted(
        [f"{retried} job.requeued", f"{lost} job.failed", f"{abandoned} job.cancelled"]
    )
    last = {job: (await timeline(client, anna, job))[-1] for job in (retried, lost, abandoned)}
    assert (last[retried]["type"], last[retried]["payload"]) == (
        "job.requeued",
        {"reason": "lease_expired"},
    )
    assert last[lost]["type"] == "job.failed"
    assert last[lost]["payload"]["error"]["code"] == "job.lost"
    assert last[lost]["payload"]["error"]["message"]
    assert (last[abandoned]["type"], last[abandoned]["payload"]) == ("job.cancelled", {})
    assert {event["actor"]["type"] for event in last.values()} == {"system"}

    assert [(m.name, m.data["error"]["code"]) for m in lost_heard] == [("job:failed", "job.lost")]
    assert [m.name for m in abandoned_heard] == ["job:cancelled"]

    assert await run_next(db, runner) == JobStatus.succeeded  # the requeued one, second attempt
    types = [item["type"] for item in await timeline(client, anna, retried)]
    assert types[-5:] == [
        "job.requeued",
        "job.started",
        "job.progress",
        "job.progress",
        "job.succeeded",
    ]


async def test_another_workspaces_job_has_no_timeline(
    client: httpx.AsyncClient, anna: Account, bob: Account
) -> None:
    job_id = await start(client, anna, "events.steps")
    response = await client.get(f"{API}/jobs/{job_id}/events", headers=bob.headers)
    assert_problem(response, 404, "job.not_found")
    unknown = await client.get(
        f"{API}/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV/events", headers=anna.headers
    )
    assert_problem(unknown, 404, "job.not_found")


async def test_progress_is_recorded_while_another_runner_is_writing(
    database_url: str,
) -> None:
    """Slots and workers write all the time; a progress report waits its turn, it never fails."""
    real = Database.from_url(database_url)  # two connections at once: the database for real
    async with real.session_scope() as session:
        user = await identity.create_user(
            session, email=f"progress-{uuid.uuid4().hex[:8]}@example.com", password_hash=None
        )
        workspace_id = (await identity.personal_workspace(session, user)).id
        jobs = [
            await service.enqueue(session, SYSTEM.within(workspace_id), kind="events.steps")
            for _ in range(2)
        ]
    running, other = (job.id for job in jobs)
    try:
        async with real.session_scope() as session:
            await service.claim(session, running, lease=LEASE)
        async with real.sessionmaker() as another_runner:
            await another_runner.execute(update(Job).where(Job.id == other).values(message="busy"))

            async def commit_soon() -> None:
                await asyncio.sleep(0.2)
                await another_runner.commit()

            committing = asyncio.create_task(commit_soon())
            try:
                async with real.session_scope() as session:
                    await service.record_progress(session, running, progress=50, message="half")
            finally:
                await committing
        async with real.sessionmaker() as session:
            assert (await session.get_one(Job, running)).progress == 50
    finally:
        async with real.session_scope() as session:
            await session.delete(await session.get_one(User, user.id))
        await real.dispose()


# --- the SSE stream ---------------------------------------------------------------------------


class LiveResponse:
    """A streamed response read chunk by chunk as the app sends it (httpx's ASGI transport would
    hand over the body only once the stream has ended)."""

    def __init__(self, app: FastAPI, path: str, headers: Mapping[str, str]) -> None:
        self.chunks: asyncio.Queue[bytes] = asyncio.Queue()
        self.status: int | None = None
        self._asked = False
        self._gone = asyncio.Event()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver")]
            + [(name.lower().encode(), value.encode()) for name, value in headers.items()],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        self.task = asyncio.create_task(app(scope, self._receive, self._send))

    async def _receive(self) -> dict[str, Any]:
        if not self._asked:
            self._asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body" and message.get("body"):
            self.chunks.put_nowait(message["body"])

    async def next_event(self, within: float = 2.0) -> tuple[str, dict[str, Any]]:
        chunk = (await asyncio.wait_for(self.chunks.get(), within)).decode()
        lines = dict(line.split(": ", 1) for line in chunk.strip().splitlines())
        return lines["event"], json.loads(lines["data"])

    async def close(self) -> None:
        self._gone.set()
        try:
            await asyncio.wait_for(self.task, 2)
        except TimeoutError:
            self.task.cancel()


async def test_the_stream_hears_each_change_at_once_and_ends_with_job_completed(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: Database,
    anna: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Polled only every half minute: whatever arrives within two seconds, the hub woke it for.
    monkeypatch.setattr(follow, "POLL_SECONDS", 30.0)
    job_id = await start(client, anna, "events.steps")
    stream = LiveResponse(app, f"{API}/jobs/{job_id}/stream", anna.headers)
    try:
        event, body = await stream.next_event()
        assert stream.status == 200
        assert (event, body["status"]) == ("job:progress", "queued")

        async with db.session_scope() as session:
            assert await service.claim(session, job_id, lease=LEASE) is not None
        event, body = await stream.next_event()
        assert (event, body["status"], body["attempts"]) == ("job:progress", "running", 1)

        async with db.session_scope() as session:
            await service.record_progress(session, job_id, progress=40, message="rendering")
        event, body = await stream.next_event()
        assert (event, body["progress"], body["message"]) == ("job:progress", 40, "rendering")

        async with db.session_scope() as session:
            await service.succeed(session, job_id, {"pages": 3})
        event, body = await stream.next_event()
        assert (event, body["status"], body["result"]) == (
            "job:completed",
            "succeeded",
            {"pages": 3},
        )
        await asyncio.wait_for(stream.task, 2)  # and the response ends there
        assert stream.chunks.empty()
    finally:
        await stream.close()
