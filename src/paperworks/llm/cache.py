"""A cache for model answers: in memory on one machine, in Redis when there is one.

A cache is an optimisation, never a dependency: a Redis that is down or slow reads as a miss and a
failed write is dropped, so a request never fails because of its cache.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Protocol

import redis.asyncio as aioredis
from pydantic import BaseModel
from redis.exceptions import RedisError

from paperworks.kit.logging import get_logger

if TYPE_CHECKING:
    from paperworks.settings import Settings

log = get_logger(__name__)

REDIS_KEY_PREFIX = "paperworks:llm:"
DEFAULT_MAX_ENTRIES = 1024
# Short enough that a request never waits long on a sick Redis; a miss only costs a model call.
REDIS_SOCKET_TIMEOUT_SECONDS = 0.5
# After a Redis failure, skip it for a while rather than pay a connect timeout on every request.
REDIS_BACKOFF_SECONDS = 5.0

Clock = Callable[[], float]


class ResponseCache(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl_seconds: int) -> None: ...


def _jsonable(value: object) -> object:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cache_key cannot encode {type(value).__name__}")


def cache_key(*parts: object) -> str:
    """A stable key for everything that shapes an answer (prompt, options, model).

    Canonical JSON (sorted keys, no spaces) so equal inputs give equal keys in any process.
    """
    canonical = json.dumps(
        parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_jsonable
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class MemoryCache:
    """Entries that expire after their TTL; the least recently used go first when full."""

    def __init__(
        self, max_entries: int = DEFAULT_MAX_ENTRIES, *, clock: Clock = time.monotonic
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> str | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if self._clock() >= expires_at:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    async def set(self, key: str, value: str, ttl_seconds: int) -> None:
        if ttl_seconds <= 0:
            self._entries.pop(key, None)
            return
        now = self._clock()
        self._entries[key] = (now + ttl_seconds, value)
        self._entries.move_to_end(key)
        if len(self._entries) > self.max_entries:
            self._evict(now)

    def _evict(self, now: float) -> None:
        # Expired entries are the cheapest to lose; then the least recently used.
        for key in [k for k, (expires_at, _) in self._entries.items() if expires_at <= now]:
            del self._entries[key]
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


class RedisCache:
    """Entries in Redis under `paperworks:llm:`, shared by every process that uses that Redis."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        prefix: str = REDIS_KEY_PREFIX,
        backoff_seconds: float = REDIS_BACKOFF_SECONDS,
        clock: Clock = time.monotonic,
    ) -> None:
        self._client = client
        self.prefix = prefix
        self._backoff_seconds = backoff_seconds
        self._clock = clock
        self._skip_until = 0.0

    @classmethod
    def from_url(cls, url: str, *, prefix: str = REDIS_KEY_PREFIX) -> RedisCache:
        client = aioredis.Redis.from_url(
            url,
            socket_timeout=REDIS_SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_SOCKET_TIMEOUT_SECONDS,
        )
        return cls(client, prefix=prefix)

    async def get(self, key: str) -> str | None:
        if self._resting():
            return None
        try:
            value = await self._client.get(self.prefix + key)
        except (RedisError, OSError) as exc:
            self._failed("get", exc)
            return None
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    async def set(self, key: str, value: str, ttl_seconds: int) -> None:
        if ttl_seconds <= 0 or self._resting():
            return
        try:
            await self._client.set(self.prefix + key, value, ex=ttl_seconds)
        except (RedisError, OSError) as exc:
            self._failed("set", exc)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _resting(self) -> bool:
        return self._clock() < self._skip_until

    def _failed(self, operation: str, exc: Exception) -> None:
        self._skip_until = self._clock() + self._backoff_seconds
        log.warning(
            "llm_cache_unavailable",
            operation=operation,
            error=type(exc).__name__,
            detail=str(exc)[:200],
            skip_seconds=self._backoff_seconds,
        )


# Callers ask for a cache per job or request; they must get the same cache each time, or a
# memory cache would start empty on every call and Redis would open a pool per call. So: one
# memory cache per Settings object (one per process in production, one per test in tests), and
# one Redis cache per URL and event loop, since Redis connections belong to the loop that opened
# them. Settings are not hashable (they hold lists), hence ids checked against weak references.
_memory_caches: dict[int, tuple[weakref.ref[Settings], MemoryCache]] = {}
_redis_caches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, RedisCache]] = (
    weakref.WeakKeyDictionary()
)


def cache_from_settings(settings: Settings) -> ResponseCache | None:
    """None when caching is off (`llm_cache_seconds == 0`); Redis when configured, else memory.

    The same settings (and, for Redis, the same event loop) get the same cache back.
    """
    if settings.llm_cache_seconds == 0:
        return None
    if settings.redis_url:
        return _redis_cache(settings.redis_url)
    return _memory_cache(settings)


def _redis_cache(url: str) -> RedisCache:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return RedisCache.from_url(url)
    per_url = _redis_caches.setdefault(loop, {})
    if url not in per_url:
        per_url[url] = RedisCache.from_url(url)
    return per_url[url]


def _memory_cache(settings: Settings) -> MemoryCache:
    entry = _memory_caches.get(id(settings))
    if entry is not None and entry[0]() is settings:
        return entry[1]
    for key in [key for key, (ref, _) in _memory_caches.items() if ref() is None]:
        del _memory_caches[key]
    cache = MemoryCache()
    _memory_caches[id(settings)] = (weakref.ref(settings), cache)
    return cache
