"""The LLM response cache: keys, a memory cache with TTL and eviction, Redis (real when
PAPERWORKS_TEST_REDIS_URL is set), and a Redis that is down reading as a miss."""

from __future__ import annotations

import io
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from pydantic import BaseModel
from redis.exceptions import ConnectionError as RedisConnectionError

from paperworks.kit.logging import configure_logging
from paperworks.llm.cache import (
    REDIS_KEY_PREFIX,
    MemoryCache,
    RedisCache,
    cache_from_settings,
    cache_key,
)
from tests.conftest import make_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Tone(StrEnum):
    formal = "formal"


class Options(BaseModel):
    count: int
    tone: Tone


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    yield stream
    configure_logging("WARNING", "json")


def test_cache_keys_are_stable_and_tell_inputs_apart() -> None:
    key = cache_key("outline", "Solar power", 5, None, "gpt")

    assert key == cache_key("outline", "Solar power", 5, None, "gpt")
    assert len(key) == 64
    assert int(key, 16) >= 0  # a sha256 hex digest
    assert key != cache_key("outline", "Solar power", 6, None, "gpt")
    assert key != cache_key("outline", "Solar power", 5, "", "gpt")
    assert key != cache_key("outline", "Solar power", 5, None, "gpt-2")
    assert key != cache_key("outline", 5, "Solar power", None, "gpt")


def test_cache_keys_do_not_depend_on_dict_order_and_accept_models() -> None:
    assert cache_key({"a": 1, "b": 2}) == cache_key({"b": 2, "a": 1})
    assert cache_key(Options(count=3, tone=Tone.formal)) == cache_key(
        {"count": 3, "tone": "formal"}
    )
    assert cache_key(Tone.formal) == cache_key("formal")
    with pytest.raises(TypeError):
        cache_key(object())


async def test_memory_cache_entries_expire_after_their_ttl() -> None:
    clock = Clock()
    cache = MemoryCache(clock=clock)
    await cache.set("k", "v", ttl_seconds=60)

    clock.now += 59.9
    assert await cache.get("k") == "v"
    clock.now += 0.1
    assert await cache.get("k") is None
    assert len(cache) == 0  # an expired entry is dropped when found


async def test_memory_cache_misses_and_ignores_a_ttl_of_zero() -> None:
    cache = MemoryCache()
    assert await cache.get("missing") is None

    await cache.set("k", "v", ttl_seconds=0)

    assert await cache.get("k") is None


async def test_memory_cache_forgets_the_least_recently_used_when_full() -> None:
    cache = MemoryCache(max_entries=2, clock=Clock())
    await cache.set("a", "1", ttl_seconds=60)
    await cache.set("b", "2", ttl_seconds=60)
    assert await cache.get("a") == "1"  # "a" is now the most recently used

    await cache.set("c", "3", ttl_seconds=60)

    assert await cache.get("b") is None
    assert await cache.get("a") == "1"
    assert await cache.get("c") == "3"


async def test_memory_cache_drops_expired_entries_before_live_ones() -> None:
    clock = Clock()
    cache = MemoryCache(max_entries=2, clock=clock)
    await cache.set("old", "1", ttl_seconds=10)
    await cache.set("live", "2", ttl_seconds=600)
    clock.now += 20

    await cache.set("new", "3", ttl_seconds=600)

    assert await cache.get("live") == "2"
    assert await cache.get("new") == "3"


def test_memory_cache_needs_room_for_one_entry() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        MemoryCache(max_entries=0)


async def test_no_cache_when_caching_is_off(tmp_path: Path) -> None:
    assert cache_from_settings(make_settings(tmp_path, llm_cache_seconds=0)) is None


async def test_the_same_settings_get_the_same_memory_cache(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)

    first, second = cache_from_settings(settings), cache_from_settings(settings)
    other = cache_from_settings(make_settings(tmp_path / "other"))

    assert isinstance(first, MemoryCache)
    assert first is second  # a cache made afresh for every job would always be empty
    assert other is not first  # nor do separate apps (or tests) share entries


async def test_redis_when_configured_one_per_event_loop(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, redis_url="redis://127.0.0.1:6399/3")

    first, second = cache_from_settings(settings), cache_from_settings(settings)

    assert isinstance(first, RedisCache)
    assert first is second
    assert first.prefix == REDIS_KEY_PREFIX == "paperworks:llm:"


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    # Unique per test, so runs side by side never read each other's entries.
    return f"{REDIS_KEY_PREFIX}test:{uuid.uuid4().hex}:"


@pytest.fixture
async def redis_cache(redis_client: aioredis.Redis, prefix: str) -> AsyncIterator[RedisCache]:
    yield RedisCache(redis_client, prefix=prefix)
    keys = [key async for key in redis_client.scan_iter(match=f"{prefix}*")]
    if keys:
        await redis_client.delete(*keys)


@pytest.mark.redis
async def test_redis_cache_stores_under_its_prefix_with_a_ttl(
    redis_cache: RedisCache, redis_client: aioredis.Redis, prefix: str
) -> None:
    assert await redis_cache.get("k") is None

    await redis_cache.set("k", "välue", ttl_seconds=120)

    assert await redis_cache.get("k") == "välue"
    assert await redis_client.get(f"{prefix}k") == "välue".encode()
    assert 0 < await redis_client.ttl(f"{prefix}k") <= 120


@pytest.mark.redis
async def test_redis_cache_entries_expire(
    redis_cache: RedisCache, redis_client: aioredis.Redis, prefix: str
) -> None:
    await redis_cache.set("k", "v", ttl_seconds=60)
    await redis_client.pexpire(f"{prefix}k", 1)  # rather than sleeping a minute

    while await redis_client.exists(f"{prefix}k"):
        pass

    assert await redis_cache.get("k") is None


@pytest.mark.redis
async def test_redis_cache_from_url_uses_the_shared_prefix(
    redis_url: str, redis_client: aioredis.Redis
) -> None:
    cache = RedisCache.from_url(redis_url)
    key = f"test-{uuid.uuid4().hex}"
    try:
        await cache.set(key, "v", ttl_seconds=30)
        assert await redis_client.get(f"paperworks:llm:{key}") == b"v"
    finally:
        await redis_client.delete(f"paperworks:llm:{key}")
        await cache.aclose()


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_a_redis_that_is_down_is_a_miss_and_a_dropped_write(
    log_output: io.StringIO,
) -> None:
    cache = RedisCache.from_url(f"redis://127.0.0.1:{unused_port()}/0")
    try:
        await cache.set("k", "v", ttl_seconds=60)  # does not raise
        assert await cache.get("k") is None
    finally:
        await cache.aclose()

    logged = log_output.getvalue()
    assert "llm_cache_unavailable" in logged


class FailingRedis:
    """Stands in for a Redis client whose every call fails, and counts the calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def get(self, key: str) -> Any:
        self.calls += 1
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    async def set(self, key: str, value: str, ex: int) -> Any:
        self.calls += 1
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


async def test_after_a_failure_redis_is_left_alone_for_a_while() -> None:
    clock, failing = Clock(), FailingRedis()
    cache = RedisCache(failing, backoff_seconds=5, clock=clock)  # type: ignore[arg-type]

    assert await cache.get("k") is None
    assert await cache.get("k") is None
    await cache.set("k", "v", ttl_seconds=60)
    assert failing.calls == 1  # no connect timeout paid on every request

    clock.now += 5
    assert await cache.get("k") is None
    assert failing.calls == 2
