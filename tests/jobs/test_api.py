"""Jobs over HTTP: list, read, cancel, follow live; isolation between workspaces."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from paperworks.identity.dependencies import CurrentCaller
from paperworks.jobs import service
from paperworks.jobs.dependencies import IdempotencyKey
from paperworks.jobs.schemas import JobOut
from paperworks.kit.db import Database
from paperworks.services import ServicesDep, SessionDep
from tests.committing import Committing
from tests.identity.conftest import Account

API = "/api/v1"


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    @app.post("/test/jobs", status_code=202)
    async def start(
        caller: CurrentCaller, session: SessionDep, services: ServicesDep, key: IdempotencyKey
    ) -> JobOut:
        job = await services.jobs.enqueue(
            session,
            caller,
            kind="test.echo",
            payload={"n": 1},
            idempotency_key=key,
        )
        return JobOut.of(job)

    @app.post("/test/things/{thing}/jobs", status_code=202)
    async def start_for(
        thing: str,
        caller: CurrentCaller,
        session: SessionDep,
        services: ServicesDep,
        key: IdempotencyKey,
    ) -> JobOut:
        job = await services.jobs.enqueue(
            session, caller, kind="test.echo", payload={"thing": thing}, idempotency_key=key
        )
        return JobOut.of(job)

    return app


async def start_job(client: httpx.AsyncClient, who: Account, **headers: str) -> dict[str, Any]:
    response = await client.post("/test/jobs", headers={**who.headers, **headers})
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_started_job_can_be_listed_read_and_cancelled(
    client: httpx.AsyncClient, anna: Account
) -> None:
    job = await start_job(client, anna)
    assert (job["status"], job["kind"], job["progress"]) == ("queued", "test.echo", 0)
    listed = (await client.get(f"{API}/jobs", headers=anna.headers)).json()
    assert [item["id"] for item in listed["items"]] == [job["id"]]
    filtered = await client.get(f"{API}/jobs", params={"status": "succeeded"}, headers=anna.headers)
    assert filtered.json()["items"] == []
    read = await client.get(f"{API}/jobs/{job['id']}", headers=anna.headers)
    assert read.json()["id"] == job["id"]

    cancelled = await client.post(f"{API}/jobs/{job['id']}/cancel", headers=anna.headers)
    assert cancelled.status_code == 202
    assert cancelled.json()["status"] == "cancelled"
    again = await client.post(f"{API}/jobs/{job['id']}/cancel", headers=anna.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "job.already_finished"


async def test_another_workspaces_job_does_not_exist(
    client: httpx.AsyncClient, anna: Account, bob: Account
) -> None:
    job = await start_job(client, anna)
    for method, path in [
        ("GET", f"{API}/jobs/{job['id']}"),
        ("POST", f"{API}/jobs/{job['id']}/cancel"),
        ("GET", f"{API}/jobs/{job['id']}/stream"),
    ]:
        response = await client.request(method, path, headers=bob.headers)
        assert response.status_code == 404, path
        assert response.json()["code"] == "job.not_found"
    assert (await client.get(f"{API}/jobs", headers=bob.headers)).json()["items"] == []


async def test_the_same_idempotency_key_gives_the_same_job(
    client: httpx.AsyncClient, anna: Account, bob: Account
) -> None:
    first = await start_job(client, anna, **{"Idempotency-Key": "order-7"})
    second = await start_job(client, anna, **{"Idempotency-Key": "order-7"})
    other = await start_job(client, anna, **{"Idempotency-Key": "order-8"})
    elsewhere = await start_job(client, bob, **{"Idempotency-Key": "order-7"})
    assert first["id"] == second["id"]
    assert len({first["id"], other["id"], elsewhere["id"]}) == 3


async def test_a_key_is_a_repeat_only_on_the_same_route_and_resource(
    client: httpx.AsyncClient, anna: Account
) -> None:
    headers = {**anna.headers, "Idempotency-Key": "order-7"}
    started = []
    for path in ["/test/jobs", "/test/things/a/jobs", "/test/things/b/jobs", "/test/things/a/jobs"]:
        response = await client.post(path, headers=headers)
        assert response.status_code == 202, response.text
        started.append(response.json()["id"])
    assert len(set(started[:3])) == 3
    assert started[3] == started[1]


@pytest.mark.parametrize("key", [b"", b"has space", b"x" * 201, "naïve".encode()])
async def test_a_malformed_idempotency_key_is_a_422(
    client: httpx.AsyncClient, anna: Account, key: bytes
) -> None:
    headers = [(name.encode(), value.encode()) for name, value in anna.headers.items()]
    response = await client.post("/test/jobs", headers=[*headers, (b"idempotency-key", key)])
    assert response.status_code == 422
    assert response.json()["code"] == "request.invalid_idempotency_key"


def test_the_idempotency_key_format_and_its_problem_are_documented(app: FastAPI) -> None:
    operation = app.openapi()["paths"]["/test/jobs"]["post"]
    (header,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    assert header["schema"]["maxLength"] == 200
    assert header["schema"]["pattern"] == "^[\\x21-\\x7e]{1,200}$"
    assert "`request.invalid_idempotency_key`" in operation["responses"]["422"]["description"]


def events_of(stream: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in stream.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        events.append((lines["event"], json.loads(lines["data"])))
    return events


async def test_the_stream_ends_with_the_jobs_outcome(
    client: httpx.AsyncClient, anna: Account, db: Database
) -> None:
    job = await start_job(client, anna)
    async with db.session_scope() as session:
        claimed = await service.claim(session, job["id"], lease=service.timedelta(seconds=30))
        assert claimed is not None
        await service.succeed(session, job["id"], {"ok": True})
    response = await client.get(f"{API}/jobs/{job['id']}/stream", headers=anna.headers)
    assert response.headers["content-type"].startswith("text/event-stream")
    ((event, data),) = events_of(response.text)
    assert event == "job:completed"
    assert (data["status"], data["result"]) == ("succeeded", {"ok": True})


async def test_a_failed_job_reports_its_error(
    client: httpx.AsyncClient, anna: Account, db: Database
) -> None:
    job = await start_job(client, anna)
    async with db.session_scope() as session:
        await service.claim(session, job["id"], lease=service.timedelta(seconds=30))
        await service.fail(session, job["id"], code="job.failed", message="no luck")
    body = (await client.get(f"{API}/jobs/{job['id']}", headers=anna.headers)).json()
    assert body["error"] == {"code": "job.failed", "message": "no luck"}
    stream = await client.get(f"{API}/jobs/{job['id']}/stream", headers=anna.headers)
    assert events_of(stream.text)[0][0] == "job:failed"


async def test_a_stream_ends_when_its_api_key_is_revoked(committing: Committing) -> None:
    """Authorised again at every read, as live sockets are: a revoked key (like a removed
    member or an expired token) no longer hears the job. A real database: the stream and the
    revocation run at once."""
    client, owner = committing.client, await committing.sign_up()
    created = await client.post(f"{API}/api-keys", json={"name": "ci"}, headers=owner)
    assert created.status_code == 201, created.text
    key = created.json()
    plan = [{"index": 0, "layout": "title", "title": "Hello"}]
    accepted = await client.post(
        f"{API}/slides/build", json={"slidePlan": plan}, headers={"X-API-Key": key["key"]}
    )
    assert accepted.status_code == 202, accepted.text  # queued: no runner in this app
    stream = asyncio.create_task(
        client.get(
            f"{API}/jobs/{accepted.json()['jobId']}/stream", headers={"X-API-Key": key["key"]}
        )
    )
    await asyncio.sleep(0.2)
    revoked = await client.delete(f"{API}/api-keys/{key['id']}", headers=owner)
    assert revoked.status_code == 204, revoked.text
    response = await asyncio.wait_for(stream, 10)
    (first, _), (last, ended) = events_of(response.text)
    assert first == "job:progress"
    assert last == "job:access_ended"
    assert ended["code"].startswith("auth.")
