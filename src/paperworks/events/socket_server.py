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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import socketio
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.events.hub import LiveMessage, Transport
from paperworks.identity import service as identity
from paperworks.identity.caller import Caller, Credentials
from paperworks.identity.service import IdentityConfig
from paperworks.kit.db import Database
from paperworks.kit.errors import AppError
from paperworks.kit.logging import get_logger

log = get_logger(__name__)

MOUNT_PATH = "/ws"
LIVE_CHANNEL = "paperworks-live"  # the Redis channel every process emits on


@dataclass(frozen=True)
class Followed:
    """What a client that subscribes hears at once: the resource's state (in the ack), and, if it
    already ended, the live events that told of its end, sent again to that client alone."""

    state: dict[str, Any]
    ended: Sequence[LiveMessage] = ()


LookUp = Callable[[AsyncSession, str, str], Awaitable[Followed | None]]
"""(session, workspace_id, resource_id) -> what a connection in that workspace hears on following
it; None if it may not (another workspace's, or none at all)."""


@dataclass(frozen=True)
class Followable:
    """A kind of resource clients may `subscribe` to: `{"jobId": id}` joins `job:{id}` and the
    ack carries the state under `job`."""

    room_prefix: str
    look_up: LookUp


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
        caller = await self._authenticate(auth)
        user_id, workspace_id = caller.user_id, caller.workspace
        await self.sio.save_session(sid, {"user_id": user_id, "workspace_id": workspace_id})
        await self.sio.enter_room(sid, f"user:{user_id}")
        await self.sio.enter_room(sid, f"workspace:{workspace_id}")
        log.info("live_connected", user_id=user_id, workspace_id=workspace_id)

    async def _authenticate(self, auth: Any) -> Caller:
        if not isinstance(auth, dict):
            auth = {}
        token, api_key, workspace_id = (
            auth.get("token"),
            auth.get("apiKey"),
            auth.get("workspaceId"),
        )
        credentials = Credentials(
            bearer=token if isinstance(token, str) and token else None,
            api_key=api_key if isinstance(api_key, str) and api_key else None,
            workspace_id=workspace_id if isinstance(workspace_id, str) and workspace_id else None,
        )
        # A refusal takes two arguments, as every socket.io client reads them: the sentence is
        # the error's message (JS `err.message`), the object its data (JS `err.data.code`). One
        # argument would arrive as `{"message": str(arg)}`: a dict printed as Python, no data.
        try:
            if credentials.api_key or credentials.bearer:
                async with self.db.session_scope() as session:
                    return await identity.caller_for(session, self.identity_config, credentials)
        except AppError as exc:
            raise socketio.exceptions.ConnectionRefusedError(
                exc.detail, {"code": exc.code}
            ) from None
        raise socketio.exceptions.ConnectionRefusedError(
            "Sign in to connect: pass auth.token (an access token) or auth.apiKey (an API key).",
            {"code": "auth.required"},
        )

    async def subscribe(self, sid: str, data: Any) -> dict[str, Any]:
        """`{"jobId": id}` → join `job:{id}` if the connection's workspace may see that job, and
        ack `{ok, room, job: {id, status, progress, message}}`. A job that already ended has its
        end (`job:completed`, the product's `slide:completed`...) sent to this client at once, so
        subscribing late misses nothing. Refused: an `error` event and `{ok: false, code}`."""
        target = self._target(data)
        if target is not None:
            followable, resource_id = target
            room = f"{followable.room_prefix}:{resource_id}"
            # Joined before the state is read: an end that comes meanwhile is heard live (and
            # maybe once more below), never lost between the read and the join.
            await self.sio.enter_room(sid, room)
            workspace_id = (await self.sio.get_session(sid))["workspace_id"]
            async with self.db.session_scope() as session:
                followed = await followable.look_up(session, workspace_id, resource_id)
            if followed is not None:
                for message in followed.ended:
                    await self.sio.emit(message.name, message.data, to=sid)
                return {"ok": True, "room": room, followable.room_prefix: followed.state}
            await self.sio.leave_room(sid, room)
        problem = {"code": "live.not_found", "message": "Nothing to follow by that id here."}
        await self.sio.emit("error", problem, to=sid)
        return {"ok": False, **problem}

    async def unsubscribe(self, sid: str, data: Any) -> dict[str, Any]:
        target = self._target(data)
        if target is not None:
            followable, resource_id = target
            await self.sio.leave_room(sid, f"{followable.room_prefix}:{resource_id}")
        return {"ok": target is not None}

    def _target(self, data: Any) -> tuple[Followable, str] | None:
        """`{"jobId": id}` → (what jobs are, the id); None for anything else."""
        if not isinstance(data, dict) or len(data) != 1:
            return None
        ((key, resource_id),) = data.items()
        followable = self.followable.get(key)
        if followable is None or not isinstance(resource_id, str) or len(resource_id) > 64:
            return None
        return followable, resource_id
