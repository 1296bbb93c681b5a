"""Live events over socket.io, mounted at `/ws` (clients connect to path `/ws/socket.io`).

A client authenticates on connect (`auth={"token": <access JWT>}` or `{"apiKey": ...}`, with an
optional `workspaceId` next to a token) and joins `user:{id}` and `workspace:{id}`. It hears the
workspace's events under their types (`file.uploaded`), and after `subscribe {"jobId": ...}` a
job's `job:progress`, `job:completed`, `job:failed` and what the product adds (`slide:*`).

With `REDIS_URL` the server uses socket.io's `AsyncRedisManager`, so an emit from any process,
API or worker, reaches clients connected to every API process.

A connection is authorised again whenever access may have ended: when its access token (or its
API key) expires, and when a request takes access away (a member removed, an API key revoked, a
workspace deleted: `identity.access`), which reaches the live server of every process through the
hub and the Redis manager. A connection no longer authorised hears `access:ended`
`{message, data: {code}}` (as a refused connection's `connect_error`) and is disconnected.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import socketio
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.events.hub import ACCESS_ROOM, LiveMessage, Transport
from paperworks.identity import service as identity
from paperworks.identity.access import AccessChange
from paperworks.identity.caller import Caller, Credentials
from paperworks.identity.models import ApiKey
from paperworks.identity.service import IdentityConfig
from paperworks.kit import security
from paperworks.kit.db import Database
from paperworks.kit.errors import AppError
from paperworks.kit.logging import get_logger

log = get_logger(__name__)

MOUNT_PATH = "/ws"
LIVE_CHANNEL = "paperworks-live"  # the Redis channel every process emits on
ACCESS_ENDED = "access:ended"  # what a connection hears before it is dropped
EXPIRY_MARGIN_SECONDS = 0.5  # a token's `exp` is whole seconds: check just after it


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


class LiveRedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    """socket.io's Redis manager, which also carries `access:changed` between processes: an emit
    to `ACCESS_ROOM` (which no client is in) is handed to `on_access_changed` in every process,
    this one included, instead of to clients."""

    on_access_changed: Callable[[Any], Awaitable[None]] | None = None

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        if message.get("room") not in (ACCESS_ROOM, [ACCESS_ROOM]):
            await super()._handle_emit(message)
        elif self.on_access_changed is not None:
            data = message.get("data")
            await self.on_access_changed(data[0] if isinstance(data, list) and data else data)


def redis_manager(redis_url: str, *, write_only: bool = False) -> LiveRedisManager:
    return LiveRedisManager(redis_url, channel=LIVE_CHANNEL, write_only=write_only)


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
        self.manager = redis_manager(redis_url) if redis_url else None
        if self.manager is not None:
            self.manager.on_access_changed = self.access_changed
        self._expiry: dict[str, asyncio.Task[None]] = {}  # sid -> its credentials' end
        self.sio = socketio.AsyncServer(
            async_mode="asgi",
            client_manager=self.manager,
            # None: same-origin only, like the HTTP API without CORS_ORIGINS.
            cors_allowed_origins=cors_origins or None,
            logger=False,
            engineio_logger=False,
        )
        self.sio.on("connect", self.connect)
        self.sio.on("disconnect", self.disconnected)
        self.sio.on("subscribe", self.subscribe)
        self.sio.on("unsubscribe", self.unsubscribe)
        # Mounted at /ws; Starlette's Mount hands on the full path, so the socket.io path is too.
        self.asgi_app = socketio.ASGIApp(self.sio, socketio_path=f"{MOUNT_PATH}/socket.io")

    async def close(self) -> None:
        """Stop socket.io's background work (engine.io pings, the Redis listener)."""
        for task in self._expiry.values():
            task.cancel()
        self._expiry.clear()
        await self.sio.shutdown()
        listener = getattr(self.sio.manager, "thread", None)
        if isinstance(listener, asyncio.Task):
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def send(self, message: LiveMessage) -> None:
        """The hub transport: deliver to every client in the message's rooms. An access change
        goes to the live server of every process instead (through Redis, when there is one).
        Awaited in order: what the hub announces after it is sent once it has been handled."""
        if message.rooms == (ACCESS_ROOM,) and self.manager is None:
            await self.access_changed(message.data)
            return
        await self.sio.emit(message.name, message.data, room=list(message.rooms))

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any) -> None:
        credentials = self._credentials(auth)
        caller, expires_at = await self._authenticate(credentials)
        user_id, workspace_id = caller.user_id, caller.workspace
        await self.sio.save_session(
            sid, {"user_id": user_id, "workspace_id": workspace_id, "credentials": credentials}
        )
        await self.sio.enter_room(sid, f"user:{user_id}")
        await self.sio.enter_room(sid, f"workspace:{workspace_id}")
        if expires_at is not None:
            delay = (expires_at - datetime.now(UTC)).total_seconds() + EXPIRY_MARGIN_SECONDS
            self._expiry[sid] = asyncio.create_task(self._recheck_after(sid, delay))
        log.info("live_connected", user_id=user_id, workspace_id=workspace_id)

    async def disconnected(self, sid: str, reason: Any = None) -> None:
        task = self._expiry.pop(sid, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def access_changed(self, data: Any) -> None:
        """Someone's access was taken away (`identity.access`): authorise again this process's
        connections of that user (or, for a deleted workspace, everyone's in it)."""
        change = AccessChange.from_data(data)
        if change is None:
            return
        room = f"user:{change.user_id}" if change.user_id else f"workspace:{change.workspace_id}"
        sids = [sid for sid, _ in self.sio.manager.get_participants("/", room)]
        for sid in sids:
            try:
                await self._recheck(sid)
            except Exception:  # one connection's failure must not spare the others
                log.exception("live_recheck_failed", user_id=change.user_id)

    async def _recheck_after(self, sid: str, delay: float) -> None:
        await asyncio.sleep(max(delay, 0))
        self._expiry.pop(sid, None)
        await self._recheck(sid)

    async def _recheck(self, sid: str) -> None:
        """Authorise the connection again with the credentials it connected with; drop it with
        the reason if they no longer let it into its workspace."""
        try:
            live = await self.sio.get_session(sid)
        except KeyError:  # gone meanwhile
            return
        credentials = live.get("credentials")
        if not isinstance(credentials, Credentials):
            return
        try:
            async with self.db.session_scope() as session:
                caller = await identity.caller_for(session, self.identity_config, credentials)
        except AppError as exc:
            await self._drop(sid, live, exc.detail, exc.code)
            return
        if caller.workspace_id != live["workspace_id"]:  # cannot happen today; never widen
            await self._drop(sid, live, "Your access to this workspace changed.", "auth.changed")

    async def _drop(self, sid: str, live: Mapping[str, Any], detail: str, code: str) -> None:
        message = f"This connection is closed: its access to the workspace ended. {detail}"
        await self.sio.emit(ACCESS_ENDED, {"message": message, "data": {"code": code}}, to=sid)
        await self.sio.disconnect(sid)
        log.info(
            "live_access_ended",
            user_id=live["user_id"],
            workspace_id=live["workspace_id"],
            code=code,
        )

    def _credentials(self, auth: Any) -> Credentials:
        if not isinstance(auth, dict):
            auth = {}
        token, api_key, workspace_id = (
            auth.get("token"),
            auth.get("apiKey"),
            auth.get("workspaceId"),
        )
        return Credentials(
            bearer=token if isinstance(token, str) and token else None,
            api_key=api_key if isinstance(api_key, str) and api_key else None,
            workspace_id=workspace_id if isinstance(workspace_id, str) and workspace_id else None,
        )

    async def _authenticate(self, credentials: Credentials) -> tuple[Caller, datetime | None]:
        """Who connects, and when their credentials end (the access token's `exp`, the API
        key's `expiresAt`). A refusal raises `ConnectionRefusedError` with a reason and a code."""
        # A refusal takes two arguments, as every socket.io client reads them: the sentence is
        # the error's message (JS `err.message`), the object its data (JS `err.data.code`). One
        # argument would arrive as `{"message": str(arg)}`: a dict printed as Python, no data.
        try:
            if credentials.api_key or credentials.bearer:
                async with self.db.session_scope() as session:
                    caller = await identity.caller_for(session, self.identity_config, credentials)
                    return caller, await self._expires_at(session, credentials, caller)
        except AppError as exc:
            raise socketio.exceptions.ConnectionRefusedError(
                exc.detail, {"code": exc.code}
            ) from None
        raise socketio.exceptions.ConnectionRefusedError(
            "Sign in to connect: pass auth.token (an access token) or auth.apiKey (an API key).",
            {"code": "auth.required"},
        )

    async def _expires_at(
        self, session: AsyncSession, credentials: Credentials, caller: Caller
    ) -> datetime | None:
        if caller.api_key_id is not None:
            api_key = await session.get(ApiKey, caller.api_key_id)
            return api_key.expires_at if api_key is not None else None
        if credentials.bearer is not None:
            claims = security.decode_token(
                self.identity_config.secret_key, credentials.bearer, token_type=identity.ACCESS
            )
            return datetime.fromtimestamp(claims["exp"], UTC)
        return None

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
