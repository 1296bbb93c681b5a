"""Live events over socket.io, mounted at `/ws` (clients connect to path `/ws/socket.io`).

A client authenticates on connect (`auth={"token": <access JWT>}` or `{"apiKey": ...}`, with an
optional `workspaceId` next to a token) and joins `user:{id}` and `workspace:{id}`. It hears the
workspace's events under their types (`file.uploaded`), and after `subscribe {"jobId": ...}` a
job's `job:progress`, `job:completed`, `job:failed` and what the product adds (`slide:*`).

With `REDIS_URL` the server uses socket.io's `AsyncRedisManager`, so an emit from any process,
API or worker, reaches clients connected to every API process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import socketio
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.events.hub import LiveMessage, Transport
from paperworks.identity import service as identity
from paperworks.identity.service import IdentityConfig
from paperworks.kit.db import Database
from paperworks.kit.errors import AppError
from paperworks.kit.logging import get_logger

log = get_logger(__name__)

MOUNT_PATH = "/ws"
LIVE_CHANNEL = "paperworks-live"  # the Redis channel every process emits on

RoomCheck = Callable[[AsyncSession, str, str], Awaitable[bool]]
"""(session, workspace_id, resource_id) -> may a connection in that workspace follow it?"""


@dataclass(frozen=True)
class Followable:
    """A kind of resource clients may `subscribe` to: `{"jobId": id}` joins `job:{id}`."""

    room_prefix: str
    visible: RoomCheck


def redis_manager(redis_url: str, *, write_only: bool = False) -> socketio.AsyncRedisManager:
    return socketio.AsyncRedisManager(redis_url, channel=LIVE_CHANNEL, write_only=write_only)


def emitter(manager: socketio.AsyncManager) -> Transport:
    """A hub transport that emits through a socket.io manager (a worker's write-only one)."""

    async def emit(message: LiveMessage) -> None:
        await manager.emit(message.name, message.data, namespace="/", room=list(message.rooms))

    return emit


class SocketServer:
    def __init__(
        self,
        *,
        db: Database,
        identity_config: IdentityConfig,
        redis_url: str | None,
        cors_origins: list[str],
        followable: Mapping[str, Followable],
    ) -> None:
        self.db = db
        self.identity_config = identity_config
        self.followable = followable
        self.sio = socketio.AsyncServer(
            async_mode="asgi",
            client_manager=redis_manager(redis_url) if redis_url else None,
            # None: same-origin only, like the HTTP API without CORS_ORIGINS.
            cors_allowed_origins=cors_origins or None,
            logger=False,
            engineio_logger=False,
        )
        self.sio.on("connect", self.connect)
        self.sio.on("subscribe", self.subscribe)
        self.sio.on("unsubscribe", self.unsubscribe)
        # Mounted at /ws; Starlette's Mount hands on the full path, so the socket.io path is too.
        self.asgi_app = socketio.ASGIApp(self.sio, socketio_path=f"{MOUNT_PATH}/socket.io")

    async def close(self) -> None:
        """Stop socket.io's background work (engine.io pings, the Redis listener)."""
        await self.sio.shutdown()
        listener = getattr(self.sio.manager, "thread", None)
        if isinstance(listener, asyncio.Task):
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def send(self, message: LiveMessage) -> None:
        """The hub transport: deliver to every client in the message's rooms."""
        await self.sio.emit(message.name, message.data, room=list(message.rooms))

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any) -> None:
        user_id, workspace_id = await self._authenticate(auth)
        await self.sio.save_session(sid, {"user_id": user_id, "workspace_id": workspace_id})
        await self.sio.enter_room(sid, f"user:{user_id}")
        await self.sio.enter_room(sid, f"workspace:{workspace_id}")
        log.info("live_connected", user_id=user_id, workspace_id=workspace_id)

    async def _authenticate(self, auth: Any) -> tuple[str, str]:
        if not isinstance(auth, dict):
            auth = {}
        token, api_key, workspace_id = (
            auth.get("token"),
            auth.get("apiKey"),
            auth.get("workspaceId"),
        )
        # A refusal takes two arguments, as every socket.io client reads them: the sentence is
        # the error's message (JS `err.message`), the object its data (JS `err.data.code`). One
        # argument would arrive as `{"message": str(arg)}`: a dict printed as Python, no data.
        try:
            async with self.db.session_scope() as session:
                if isinstance(api_key, str) and api_key:
                    user, key = await identity.authenticate_api_key(
                        session, self.identity_config, api_key
                    )
                    return user.id, key.workspace_id
                if isinstance(token, str) and token:
                    user = await identity.user_from_access_token(
                        session, self.identity_config, token
                    )
                    if not isinstance(workspace_id, str) or not workspace_id:
                        workspace_id = (await identity.personal_workspace(session, user)).id
                    workspace, _role = await identity.workspace_for(session, user, workspace_id)
                    return user.id, workspace.id
        except AppError as exc:
            raise socketio.exceptions.ConnectionRefusedError(
                exc.detail, {"code": exc.code}
            ) from None
        raise socketio.exceptions.ConnectionRefusedError(
            "Sign in to connect: pass auth.token (an access token) or auth.apiKey (an API key).",
            {"code": "auth.required"},
        )

    async def subscribe(self, sid: str, data: Any) -> dict[str, Any]:
        """`{"jobId": id}` → join `job:{id}` if the connection's workspace may see that job.
        Answers with an ack, and with an `error` event when refused."""
        room = await self._room_for(sid, data)
        if room is None:
            problem = {"code": "live.not_found", "message": "Nothing to follow by that id here."}
            await self.sio.emit("error", problem, to=sid)
            return {"ok": False, **problem}
        await self.sio.enter_room(sid, room)
        return {"ok": True, "room": room}

    async def unsubscribe(self, sid: str, data: Any) -> dict[str, Any]:
        room = await self._room_for(sid, data)
        if room is not None:
            await self.sio.leave_room(sid, room)
        return {"ok": room is not None}

    async def _room_for(self, sid: str, data: Any) -> str | None:
        if not isinstance(data, dict) or len(data) != 1:
            return None
        ((key, resource_id),) = data.items()
        followable = self.followable.get(key)
        if followable is None or not isinstance(resource_id, str) or len(resource_id) > 64:
            return None
        workspace_id = (await self.sio.get_session(sid))["workspace_id"]
        async with self.db.session_scope() as session:
            if not await followable.visible(session, workspace_id, resource_id):
                return None
        return f"{followable.room_prefix}:{resource_id}"
