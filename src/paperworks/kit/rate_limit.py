"""Moving-window rate limits (the `limits` package) as pure ASGI middleware.

Anonymous callers are counted by client address, authenticated ones by principal once a
`PrincipalResolver` is installed (identity provides it). Memory storage by default, Redis when
configured, so several processes share one budget. If the storage is down we let requests through
and log it: a rate limiter must not take the whole service with it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass

from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperworks.kit.client_ip import IpNetwork, client_ip
from paperworks.kit.errors import HTTP_STATUS_CODES, problem_response
from paperworks.kit.logging import get_logger

PrincipalResolver = Callable[[Scope], Awaitable[str | None]]
EXEMPT_PATHS = frozenset({"/health", "/ready", "/metrics"})

log = get_logger(__name__)


def rate_limit_storage(redis_url: str | None) -> Storage:
    if not redis_url:
        return MemoryStorage()
    return RedisStorage(f"async+{redis_url}", implementation="redispy", wrap_exceptions=True)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_after: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(self.remaining).encode()),
            (b"ratelimit-reset", str(self.reset_after).encode()),
        ]


class RateLimiter:
    def __init__(
        self,
        storage: Storage,
        *,
        anonymous: RateLimitItem,
        authenticated: RateLimitItem,
        trusted_proxies: Sequence[IpNetwork] = (),
    ) -> None:
        self.storage = storage
        self.strategy = MovingWindowRateLimiter(storage)
        self.anonymous = anonymous
        self.authenticated = authenticated
        self.trusted_proxies = list(trusted_proxies)
        self.resolve_principal: PrincipalResolver | None = None

    async def _bucket(self, scope: Scope) -> tuple[RateLimitItem, str, str]:
        principal = await self.resolve_principal(scope) if self.resolve_principal else None
        if principal:
            return self.authenticated, "principal", principal
        return self.anonymous, "ip", client_ip(scope, self.trusted_proxies)

    async def check(self, scope: Scope) -> Decision:
        item, kind, who = await self._bucket(scope)
        allowed = await self.strategy.hit(item, kind, who)
        stats = await self.strategy.get_window_stats(item, kind, who)
        reset_after = max(0, math.ceil(stats.reset_time - time.time()))
        return Decision(allowed, item.amount, stats.remaining, reset_after)


class RateLimitMiddleware:
    def __init__(
        self, app: ASGIApp, limiter: RateLimiter, exempt_paths: Collection[str] = EXEMPT_PATHS
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.exempt_paths = exempt_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return

        try:
            decision = await self.limiter.check(scope)
        except Exception as exc:  # storage down: serve unlimited rather than fail every request
            log.warning("rate_limit_unavailable", error=str(exc), error_type=type(exc).__name__)
            await self.app(scope, receive, send)
            return

        if not decision.allowed:
            response = problem_response(
                status=429,
                code=HTTP_STATUS_CODES[429],
                title="Too many requests",
                detail=f"Rate limit of {decision.limit} requests exceeded; retry in "
                f"{decision.reset_after} s.",
                instance=scope["path"],
                headers={"Retry-After": str(max(1, decision.reset_after))},
            )
            response.raw_headers.extend(decision.headers())
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *decision.headers()]
            await send(message)

        await self.app(scope, receive, send_with_headers)
