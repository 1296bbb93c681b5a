"""Live progress over socket.io: a real server on a real port, the real python-socketio client."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio
import uvicorn
from fastapi import FastAPI

from paperworks import migrations
from paperworks.app import create_app
from paperworks.identity.dependencies import CurrentCaller
from paperworks.identity.models import Membership
from paperworks.identity.roles import Role
from paperworks.jobs.handlers import JobContext, job_handler
from paperworks.jobs.schemas import JobOut
from paperworks.kit.db import Database
from paperworks.kit.security import encode_token
from paperworks.product import Product
from paperworks.products import PRODUCTS
from paperworks.services import ServicesDep, SessionDep
from tests.conftest import TEST_SECRET, make_settings
from tests.mailbox import free_port

PASSWORD = "correct horse battery"
gates: dict[str, asyncio.Event] = {}


@job_handler("test.live", max_attempts=1)
async def live_job(ctx: JobContext) -> dict[str, Any]:
    """Waits until the test has subscribed, then reports three steps."""
    await gates.setdefault(ctx.job_id, asyncio.Event()).wait()
    for step in (25, 50, 75):
        await ctx.report(step, f"at {step}")
    if ctx.payload.get("fail"):
        raise ValueError("the printer is on fire")
    return {"pages": 3}


@dataclass
class LiveServer:
    url: str
    app: FastAPI

    async def account(self, email: str) -> dict[str, str]:
        async with httpx.AsyncClient(base_url=self.url) as http:
            tokens = (
                await http.post(
                    "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
                )
            ).json()
            headers = {"Authorization": f"Bearer {tokens['accessToken']}"}
            key = await http.post("/api/v1/api-keys", json={"name": "live"}, headers=headers)
        return {
            "token": tokens["accessToken"],
            "apiKey": key.json()["key"],
            "keyId": key.json()["id"],
            "userId": tokens["user"]["id"],
        }

    async def start_job(self, token: str, workspace_id: str | None = None, **payload: Any) -> str:
        headers = {"Authorization": f"Bearer {token}"}
        if workspace_id is not None:
            headers["X-Workspace-ID"] = workspace_id
        async with httpx.AsyncClient(base_url=self.url) as http:
            response = await http.post("/test/live-jobs", json=payload, headers=headers)
        assert response.status_code == 202, response.text
        job_id: str = response.json()["id"]
        return job_id

    async def finished_job(self, token: str, job_id: str) -> dict[str, Any]:
        """The job once it has ended, read over HTTP."""
        async with httpx.AsyncClient(base_url=self.url) as http, asyncio.timeout(10):
            while True:
                response = await http.get(
                    f"/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"}
                )
                job: dict[str, Any] = response.json()
                if job["status"] in ("succeeded", "failed", "cancelled"):
                    return job
                await asyncio.sleep(0.05)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    """The whole app (lifespan, runner, hub, socket.io) under uvicorn on a free port."""
    settings = make_settings(
        tmp_path / "data", database_url=f"sqlite+aiosqlite:///{tmp_path / 'live.db'}", job_slots=2
    )
    db = Database.from_url(settings.database_url)
    await migrations.upgrade(db.engine)
    app = create_app(
        settings, db=db, products=(*PRODUCTS, Product(name="test", job_handlers=(live_job,)))
    )

    @app.post("/test/live-jobs", status_code=202)
    async def start(
        caller: CurrentCaller, session: SessionDep, services: ServicesDep, body: dict[str, Any]
    ) -> JobOut:
        job = await services.jobs.enqueue(
            session,
            caller,
            kind="test.live",
            payload=body,
        )
        return JobOut.of(job)

    port = free_port()
    # log_config=None: leave our logging pipeline as the app configured it.
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", log_config=None)
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve())
    while not uv.started:
        assert not task.done(), "uvicorn stopped at start-up"
        await asyncio.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", app)
    finally:
        for gate in gates.values():
            gate.set()
        uv.should_exit = True
        await task
        gates.clear()


@dataclass
class Listener:
    """A socket.io client that records what it hears."""

    client: socketio.AsyncClient = field(
        default_factory=lambda: socketio.AsyncClient(request_timeout=30)
    )
    heard: list[tuple[str, Any]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        @self.client.on("*")
        async def record(event: str, data: Any) -> None:
            self.heard.append((event, data))
            self.arrived.set()

        @self.client.on("disconnect")
        async def gone(*_: Any) -> None:
            self.disconnected.set()

    async def connect(self, server: LiveServer, auth: dict[str, str]) -> None:
        await self.client.connect(
            server.url, auth=auth, socketio_path="/ws/socket.io", wait_timeout=30
        )

    async def until(self, event: str, within: float = 10, **fields: Any) -> Any:
        """The first `event` heard (whose data has `fields`), waiting for it if need be."""
        async with asyncio.timeout(within):
            while True:
                for name, data in self.heard:
                    if name == event and all(data.get(k) == v for k, v in fields.items()):
                        return data
                self.arrived.clear()
                await self.arrived.wait()

    def names(self) -> list[str]:
        return [name for name, _ in self.heard]

    async def dropped(self) -> Any:
        """Why the server closed this connection (`access:ended`), once it has."""
        reason = await self.until("access:ended", within=30)
        async with asyncio.timeout(30):
            await self.disconnected.wait()
        assert not self.client.connected
        return reason


@pytest.fixture
async def listeners() -> AsyncIterator[Callable[[], Listener]]:
    """As many listeners as a test needs, disconnected at its end."""
    made: list[Listener] = []

    def make() -> Listener:
        made.append(Listener())
        return made[-1]

    yield make
    for listener in made:
        with contextlib.suppress(Exception):
            await listener.client.disconnect()


@pytest.fixture
def listener(listeners: Callable[[], Listener]) -> Listener:
    return listeners()


async def test_a_subscribed_client_hears_a_job_progress_and_complete(
    server: LiveServer, listener: Listener
) -> None:
    anna = await server.account("anna@example.com")
    await listener.connect(server, {"token": anna["token"]})
    job_id = await server.start_job(anna["token"])

    ack = await listener.client.call("subscribe", {"jobId": job_id}, timeout=5)
    assert ack == {
        "ok": True,
        "room": f"job:{job_id}",
        "job": {"id": job_id, "status": "queued", "progress": 0, "message": None},
    }
    gates.setdefault(job_id, asyncio.Event()).set()

    completed = await listener.until("job:completed")
    assert completed == {"jobId": job_id, "kind": "test.live", "result": {"pages": 3}}
    progress = [data for name, data in listener.heard if name == "job:progress"]
    assert progress, listener.heard
    assert progress[0] == {"jobId": job_id, "kind": "test.live", "progress": 25, "message": "at 25"}
    # The workspace room hears the stored events too, under their types.
    queued = await listener.until("job.queued")
    assert (queued["resourceType"], queued["resourceId"]) == ("job", job_id)
    assert listener.names().index("job:started") < listener.names().index("job:completed")


async def test_a_client_that_follows_a_job_after_its_end_hears_the_end_at_once(
    server: LiveServer, listener: Listener
) -> None:
    anna = await server.account("anna@example.com")
    job_id = await server.start_job(anna["token"])
    gates.setdefault(job_id, asyncio.Event()).set()
    assert (await server.finished_job(anna["token"], job_id))["status"] == "succeeded"

    await listener.connect(server, {"token": anna["token"]})
    ack = await listener.client.call("subscribe", {"jobId": job_id}, timeout=5)
    # The state says how it finished, not the last progress step it reported.
    assert ack["job"] == {"id": job_id, "status": "succeeded", "progress": 100, "message": "Done."}
    completed = await listener.until("job:completed")
    assert completed == {"jobId": job_id, "kind": "test.live", "result": {"pages": 3}}


async def test_a_late_follower_of_a_failed_job_hears_why(
    server: LiveServer, listener: Listener
) -> None:
    anna = await server.account("anna@example.com")
    job_id = await server.start_job(anna["token"], fail=True)
    gates.setdefault(job_id, asyncio.Event()).set()
    await server.finished_job(anna["token"], job_id)

    await listener.connect(server, {"token": anna["token"]})
    ack = await listener.client.call("subscribe", {"jobId": job_id}, timeout=5)
    assert ack["job"]["status"] == "failed"
    assert ack["job"]["message"] == "Failed: the printer is on fire"
    failed = await listener.until("job:failed")
    assert failed["error"] == {"code": "job.failed", "message": "the printer is on fire"}


async def test_a_failing_job_is_heard_as_failed_with_its_reason(
    server: LiveServer, listener: Listener
) -> None:
    anna = await server.account("anna@example.com")
    await listener.connect(server, {"apiKey": anna["apiKey"]})
    job_id = await server.start_job(anna["token"], fail=True)
    assert (await listener.client.call("subscribe", {"jobId": job_id}, timeout=5))["ok"]
    gates.setdefault(job_id, asyncio.Event()).set()

    failed = await listener.until("job:failed")
    assert failed["jobId"] == job_id
    assert failed["error"] == {"code": "job.failed", "message": "the printer is on fire"}


async def test_another_workspaces_job_cannot_be_followed(
    server: LiveServer, listener: Listener
) -> None:
    anna = await server.account("anna@example.com")
    bob = await server.account("bob@example.com")
    job_id = await server.start_job(anna["token"])
    await listener.connect(server, {"token": bob["token"]})

    ack = await listener.client.call("subscribe", {"jobId": job_id}, timeout=5)
    assert ack["ok"] is False
    assert ack["code"] == "live.not_found"
    assert (await listener.until("error"))["code"] == "live.not_found"
    for nonsense in ({"jobId": 42}, {"deckId": job_id}, "job", {"jobId": job_id, "x": 1}):
        assert (await listener.client.call("subscribe", nonsense, timeout=5))["ok"] is False

    gates.setdefault(job_id, asyncio.Event()).set()
    await asyncio.sleep(0.5)
    assert not any(name.startswith("job:") for name in listener.names()), listener.heard


async def test_unsubscribing_stops_a_jobs_messages(server: LiveServer, listener: Listener) -> None:
    anna = await server.account("anna@example.com")
    await listener.connect(server, {"token": anna["token"]})
    job_id = await server.start_job(anna["token"])
    await listener.client.call("subscribe", {"jobId": job_id}, timeout=5)
    assert await listener.client.call("unsubscribe", {"jobId": job_id}, timeout=5) == {"ok": True}

    gates.setdefault(job_id, asyncio.Event()).set()
    await listener.until("job.succeeded")  # the workspace room still hears the outcome
    heard = set(listener.names())
    assert not heard & {"job:progress", "job:completed"}, listener.heard


@pytest.mark.parametrize(
    ("auth", "code"),
    [
        (None, "auth.required"),
        ({}, "auth.required"),
        ({"token": "not-a-jwt"}, "auth.invalid_token"),
        ({"apiKey": "pw_nope"}, "auth.invalid_api_key"),
        ({"token": 7}, "auth.required"),
        ("token", "auth.required"),
    ],
    ids=["none", "empty", "bad-token", "bad-key", "not-a-string", "not-a-dict"],
)
async def test_connecting_without_valid_credentials_is_refused_with_a_reason_and_a_code(
    server: LiveServer, auth: Any, code: str
) -> None:
    client = socketio.AsyncClient(request_timeout=30)
    refusals: list[Any] = []
    client.on("connect_error", refusals.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(server.url, auth=auth, socketio_path="/ws/socket.io", wait_timeout=30)
    assert not client.connected
    # What every socket.io client reads: a sentence as the error's message (JS `err.message`)
    # and a JSON object beside it (JS `err.data`) whose `code` a program can branch on.
    (refusal,) = refusals
    assert refusal["data"] == {"code": code}
    assert isinstance(refusal["message"], str)
    assert refusal["message"].endswith("."), refusal
    assert "{" not in refusal["message"], refusal


async def test_a_token_may_name_a_workspace_it_belongs_to_only(
    server: LiveServer, listener: Listener
) -> None:
    anna = await server.account("anna@example.com")
    bob = await server.account("bob@example.com")
    async with httpx.AsyncClient(base_url=server.url) as http:
        me = await http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {bob['token']}"})
    bobs_workspace = me.json()["workspaces"][0]["id"]

    intruder = socketio.AsyncClient(request_timeout=30)
    refusals: list[Any] = []
    intruder.on("connect_error", refusals.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await intruder.connect(
            server.url,
            auth={"token": anna["token"], "workspaceId": bobs_workspace},
            socketio_path="/ws/socket.io",
            wait_timeout=30,
        )
    assert refusals == [
        {"message": f"No workspace {bobs_workspace}.", "data": {"code": "workspace.not_found"}}
    ]
    await listener.connect(server, {"token": bob["token"], "workspaceId": bobs_workspace})
    assert listener.client.connected


# --- access that ends while connected ---------------------------------------------------------


async def team_with(server: LiveServer, owner: dict[str, str], member: dict[str, str]) -> str:
    """A workspace of `owner`'s that `member` belongs to too (made a member directly, whatever
    the way in: invitation or otherwise)."""
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            "/api/v1/workspaces",
            json={"name": "Team"},
            headers={"Authorization": f"Bearer {owner['token']}"},
        )
    assert response.status_code == 201, response.text
    workspace_id: str = response.json()["id"]
    async with server.app.state.services.db.session_scope() as session:
        session.add(
            Membership(workspace_id=workspace_id, user_id=member["userId"], role=Role.member)
        )
    return workspace_id


async def test_a_removed_member_is_dropped_and_hears_nothing_more_of_the_workspace(
    server: LiveServer, listeners: Callable[[], Listener]
) -> None:
    anna = await server.account("anna@example.com")
    bob = await server.account("bob@example.com")
    team = await team_with(server, anna, bob)
    bob_in_team, bob_at_home, anna_in_team = listeners(), listeners(), listeners()
    await bob_in_team.connect(server, {"token": bob["token"], "workspaceId": team})
    await bob_at_home.connect(server, {"token": bob["token"]})
    await anna_in_team.connect(server, {"token": anna["token"], "workspaceId": team})
    before = await server.start_job(anna["token"], team)
    assert (await bob_in_team.until("job.queued"))["resourceId"] == before

    async with httpx.AsyncClient(base_url=server.url) as http:
        removed = await http.delete(
            f"/api/v1/workspaces/{team}/members/{bob['userId']}",
            headers={"Authorization": f"Bearer {anna['token']}"},
        )
    assert removed.status_code == 204, removed.text

    reason = await bob_in_team.dropped()
    assert reason["data"] == {"code": "workspace.not_found"}
    assert reason["message"].startswith("This connection is closed"), reason
    after = await server.start_job(anna["token"], team)  # e.g. a file named like a layoff list
    await anna_in_team.until("job.queued", resourceId=after)  # told to those still members
    assert after not in str(bob_in_team.heard) + str(bob_at_home.heard)
    # Bob's other connection, to a workspace he still belongs to, is left alone; so is Anna's.
    assert bob_at_home.client.connected
    assert anna_in_team.client.connected
    assert "access:ended" not in bob_at_home.names() + anna_in_team.names()


async def test_a_connection_made_with_an_api_key_is_dropped_when_the_key_is_revoked(
    server: LiveServer, listener: Listener
) -> None:
    anna = await server.account("anna@example.com")
    await listener.connect(server, {"apiKey": anna["apiKey"]})
    async with httpx.AsyncClient(base_url=server.url) as http:
        revoked = await http.delete(
            f"/api/v1/api-keys/{anna['keyId']}",
            headers={"Authorization": f"Bearer {anna['token']}"},
        )
    assert revoked.status_code == 204, revoked.text
    assert (await listener.dropped())["data"] == {"code": "auth.invalid_api_key"}


async def test_a_connection_is_dropped_when_its_access_token_expires(
    server: LiveServer, listener: Listener
) -> None:
    anna = await server.account("anna@example.com")
    # Long enough to connect on a loaded machine; the test waits for the drop, however late.
    short_lived = encode_token(
        TEST_SECRET, subject=anna["userId"], token_type="access", ttl=timedelta(seconds=5), jti="t"
    )
    await listener.connect(server, {"token": short_lived})
    assert (await listener.dropped())["data"] == {"code": "auth.invalid_token"}


async def test_everyone_in_a_deleted_workspace_is_dropped(
    server: LiveServer, listeners: Callable[[], Listener]
) -> None:
    anna = await server.account("anna@example.com")
    bob = await server.account("bob@example.com")
    team = await team_with(server, anna, bob)
    bob_in_team, anna_at_home = listeners(), listeners()
    await bob_in_team.connect(server, {"token": bob["token"], "workspaceId": team})
    await anna_at_home.connect(server, {"token": anna["token"]})
    async with httpx.AsyncClient(base_url=server.url) as http:
        deleted = await http.delete(
            f"/api/v1/workspaces/{team}", headers={"Authorization": f"Bearer {anna['token']}"}
        )
    assert deleted.status_code == 204, deleted.text
    assert (await bob_in_team.dropped())["data"] == {"code": "workspace.not_found"}
    assert anna_at_home.client.connected
