"""Access that ends while a socket is connected, across real processes: a member removed through
one `paperworks serve` is dropped from the socket they hold on another (they share the database
and Redis), and hears none of the workspace's later events."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from paperworks.identity.models import Membership
from paperworks.identity.roles import Role
from paperworks.kit.db import Database
from tests.e2e.servers import start
from tests.e2e.test_live_across_servers import common_env

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.slow]

PASSWORD = "correct horse battery"


def register(url: str, email: str) -> dict[str, Any]:
    response = httpx.post(
        f"{url}/api/v1/auth/register", json={"email": email, "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(account: dict[str, Any], workspace_id: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {account['accessToken']}"}
    return headers | ({"X-Workspace-ID": workspace_id} if workspace_id else {})


def add_member(database_url: str, workspace_id: str, user_id: str) -> None:
    """Made a member in the shared database, whatever the way in (an invitation accepted)."""

    async def add() -> None:
        db = Database.from_url(database_url)
        try:
            async with db.session_scope() as session:
                session.add(
                    Membership(workspace_id=workspace_id, user_id=user_id, role=Role.member)
                )
        finally:
            await db.dispose()

    asyncio.run(add())


class Socket:
    """A socket.io client that records the workspace events it hears."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False, request_timeout=30)
        self.heard: list[tuple[str, Any]] = []
        self.changed = asyncio.Event()
        self.gone = asyncio.Event()

        @self.client.on("*")
        async def record(event: str, data: Any) -> None:
            self.heard.append((event, data))
            self.changed.set()

        @self.client.on("disconnect")
        async def disconnected(*_: Any) -> None:
            self.gone.set()

    async def connect(self, url: str, auth: dict[str, str]) -> None:
        await self.client.connect(url, auth=auth, socketio_path="/ws/socket.io", wait_timeout=30)

    async def until(self, event: str, **fields: Any) -> Any:
        async with asyncio.timeout(20):
            while True:
                for name, data in self.heard:
                    if name == event and all(data.get(k) == v for k, v in fields.items()):
                        return data
                self.changed.clear()
                await self.changed.wait()


async def upload(url: str, headers: dict[str, str], name: str) -> str:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{url}/api/v1/files", files={"file": (name, b"names", "text/plain")}, headers=headers
        )
    assert response.status_code == 201, response.text
    file_id: str = response.json()["id"]
    return file_id


def test_a_member_removed_through_one_server_is_dropped_from_a_socket_on_another(
    tmp_path: Path, redis_url: str
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    env = common_env(database_url, redis_url) | {"PAPERWORKS_JOB_SLOTS": "0"}
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one_server, two_server = start(tmp_path / "one", env=env), start(tmp_path / "two", env=env)
    one, two = next(one_server), next(two_server)
    try:
        anna = register(one.url, "anna@example.com")
        bob = register(one.url, "bob@example.com")
        team = httpx.post(
            f"{one.url}/api/v1/workspaces", json={"name": "Team"}, headers=bearer(anna)
        ).json()["id"]
        add_member(database_url, team, bob["user"]["id"])
        asyncio.run(remove_while_connected(one.url, two.url, anna, bob, team))
    finally:
        for server in (one_server, two_server):
            next(server, None)


async def remove_while_connected(
    one: str, two: str, anna: dict[str, Any], bob: dict[str, Any], team: str
) -> None:
    bobs, annas = Socket(), Socket()
    await bobs.connect(two, {"token": bob["accessToken"], "workspaceId": team})
    await annas.connect(two, {"token": anna["accessToken"], "workspaceId": team})
    try:
        before = await upload(one, bearer(anna, team), "minutes.txt")
        await bobs.until("file.uploaded", resourceId=before)

        async with httpx.AsyncClient() as http:
            removed = await http.delete(
                f"{one}/api/v1/workspaces/{team}/members/{bob['user']['id']}",
                headers=bearer(anna),
            )
        assert removed.status_code == 204, removed.text
        ended = await bobs.until("access:ended")
        assert ended["data"] == {"code": "workspace.not_found"}, ended
        async with asyncio.timeout(20):
            await bobs.gone.wait()

        after = await upload(one, bearer(anna, team), "layoff-list.txt")
        await annas.until("file.uploaded", resourceId=after)  # still told to those in the team
        assert after not in str(bobs.heard), bobs.heard
        assert annas.client.connected
    finally:
        for socket in (bobs, annas):
            if socket.client.connected:
                await socket.client.disconnect()
