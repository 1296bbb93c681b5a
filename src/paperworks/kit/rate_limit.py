"""Moving-window rate limits as pure ASGI middleware.

Anonymous callers are counted by client address, authenticated ones by principal once a
`PrincipalResolver` is installed (identity provides it). In memory by default; in Redis when
configured (one script call a request), so several processes share one budget. If the store is
down we let requests through and log it: a rate limiter must not take the whole service with it.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from limits import RateLimitItem
from redis.asyncio import Redis
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperworks.kit.client_ip import IpNetwork, client_ip
from paperworks.kit.errors import HTTP_STATUS_CODES, problem_response
from paperworks.kit.logging import get_logger

PrincipalResolver = Callable[[Scope], Awaitable[str | None]]
EXEMPT_PATHS = frozenset({"/health", "/ready", "/metrics"})
# Files a page loads with it (the console's stylesheet and script): a page view is one request.
EXEMPT_PREFIXES = ("/console/static/",)
REDIS_TIMEOUT_SECONDS = 0.5

log = get_logger(__name__)


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


class MovingWindow(Protocol):
    async def hit(self, item: RateLimitItem, kind: str, who: str) -> Decision: ...


class MemoryMovingWindow:
    """Per-key logs of hit times, pruned as they are touched; idle keys swept once a minute.

    Ours rather than `limits`' memory storage: that one re-scans every key from a timer thread
    a hundred times a second, which cost two thirds of our throughput with 65k clients.
    """

    SWEEP_INTERVAL = 60.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._logs: dict[tuple[str, str, int, int], deque[float]] = {}
        self._next_sweep = clock() + self.SWEEP_INTERVAL

    async def hit(self, item: RateLimitItem, kind: str, who: str) -> Decision:
        now = self._clock()
        window = item.get_expiry()
        key = (kind, who, item.amount, window)
        log = self._logs.get(key)
        if log is None:
            log = self._logs[key] = deque()
        while log and log[0] <= now - window:
            log.popleft()
        allowed = len(log) < item.amount
        if allowed:
            log.append(now)
        reset_after = math.ceil(log[0] + window - now) if log else window
        if now >= self._next_sweep:
            self._sweep(now)
        return Decision(allowed, item.amount, item.amount - len(log), reset_after)

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + self.SWEEP_INTERVAL
        idle = [key for key, log in self._logs.items() if not log or log[-1] <= now - key[3]]
        for key in idle:
            del self._logs[key]


# One round trip per request: drop the hits that left the window (the oldest are at the tail),
# count, add this one if there is room, and say when the oldest leaves. Redis's own clock, so
# every process reads one time. Amortised O(1); `limits`' moving window took two scripts, the
# second reading up to the whole window's list on every request just to fill the headers.
_HIT_SCRIPT = """
if redis.replicate_commands then redis.replicate_commands() end
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local key = KEYS[1]
while true do
  local last = redis.call('LINDEX', key, -1)
  if not last or tonumber(last) > now - window then break end
  redis.call('RPOP', key)
end
local count = redis.call('LLEN', key)
local allowed = 0
if count < limit then
  redis.call('LPUSH', key, string.format('%.6f', now))
  count = count + 1
  allowed = 1
end
redis.call('EXPIRE', key, window)
local oldest = redis.call('LINDEX', key, -1)
local reset = window
if oldest then reset = tonumber(oldest) + window - now end
return {allowed, count, tostring(reset)}
"""


class RedisMovingWindow:
    """The moving window in Redis: one budget for every process, one script call a request."""

    KEY_PREFIX = "paperworks:ratelimit"

    def __init__(self, redis_url: str) -> None:
        # A Redis that hangs must not hang every request: give up and let it through.
        self.redis = Redis.from_url(
            redis_url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        self.script = self.redis.register_script(_HIT_SCRIPT)

    async def hit(self, item: RateLimitItem, kind: str, who: str) -> Decision:
        window = item.get_expiry()
        key = f"{self.KEY_PREFIX}:{kind}:{who}:{item.amount}/{window}"
        allowed, count, reset = await self.script(keys=[key], args=[item.amount, window])
        reset_after = max(0, math.ceil(float(reset)))
        return Decision(bool(allowed), item.amount, item.amount - int(count), reset_after)


class RateLimiter:
    def __init__(
        self,
        redis_url: str | None,
        *,
        anonymous: RateLimitItem,
        authenticated: RateLimitItem,
        trusted_proxies: Sequence[IpNetwork] = (),
    ) -> None:
        self.window: MovingWindow = (
            RedisMovingWindow(redis_url) if redis_url else MemoryMovingWindow()
        )
        self.anonymous = anonymous
        self.authenticated = authenticated
        self.trusted_proxies = tuple(trusted_proxies)
        # Tried in order; the first that names the caller counts them (an API credential, the
        # console's cookie), else the client's address.
        self.principal_resolvers: list[PrincipalResolver] = []

    async def _principal(self, scope: Scope) -> str | None:
        for resolve in self.principal_resolvers:
            principal = await resolve(scope)
            if principal:
                return principal
        return None

    async def check(self, scope: Scope) -> Decision:
        principal = await self._principal(scope)
        if principal:
            return await self.window.hit(self.authenticated, "principal", principal)
        who = client_ip(scope, self.trusted_proxies)
        return await self.window.hit(self.anonymous, "ip", who)


_TOO_MANY_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Too many requests</title>'
    "</head><body><h1>Too many requests</h1><p>{detail}</p></body></html>"
)


def _wants_a_page(scope: Scope) -> bool:
    """A browser navigating to a page (the console), not an API client."""
    if scope["path"].startswith("/api/"):
        return False
    accept = next((v for k, v in scope["headers"] if k == b"accept"), b"")
    return b"text/html" in accept


class RateLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        limiter: RateLimiter,
        exempt_paths: Collection[str] = EXEMPT_PATHS,
        exempt_prefixes: tuple[str, ...] = EXEMPT_PREFIXES,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.exempt_paths = exempt_paths
        self.exempt_prefixes = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] in self.exempt_paths
            or scope["path"].startswith(self.exempt_prefixes)
        ):
            await self.app(scope, receive, send)
            return

        try:
            decision = await self.limiter.check(scope)
        except Exception as exc:  # storage down: serve unlimited rather than fail every request
            log.warning("rate_limit_unavailable", error=str(exc), error_type=type(exc).__name__)
            await self.app(scope, receive, send)
            return

        if not decision.allowed:
            detail = (
                f"Rate limit of {decision.limit} requests exceeded; retry in "
                f"{decision.reset_after} s."
            )
            retry = {"Retry-After": str(max(1, decision.reset_after))}
            response: Response
            if _wants_a_page(scope):
                response = HTMLResponse(_TOO_MANY_PAGE.format(detail=detail), 429, retry)
            else:
                response = problem_response(
                    status=429,
                    code=HTTP_STATUS_CODES[429],
                    title="Too many requests",
                    detail=detail,
                    instance=scope["path"],
                    headers=retry,
                )
            response.raw_headers.extend(decision.headers())
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *decision.headers()]
            await send(message)

        await self.app(scope, receive, send_with_headers)
