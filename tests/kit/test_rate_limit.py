"""Moving-window limits: per client address, per principal, shared through Redis when set."""

import uuid
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from limits import parse
from starlette.types import Scope

from paperworks.app import create_app
from paperworks.console import session as console_session
from paperworks.console.session import ConsoleSession
from paperworks.kit.db import Database
from paperworks.kit.rate_limit import MemoryMovingWindow, RateLimiter
from tests.conftest import make_settings


def client_for(app: FastAPI, peer: str = "203.0.113.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
def limited(tmp_path: Path, database_url: str, db: Database) -> FastAPI:
    settings = make_settings(
        tmp_path,
        database_url=database_url,
        rate_limit_anonymous="3/minute",
        rate_limit_authenticated="5/minute",
        trusted_proxies="10.0.0.0/8",
    )
    return create_app(settings, db=db)


async def test_responses_say_how_much_budget_is_left(limited: FastAPI) -> None:
    async with client_for(limited) as client:
        response = await client.get("/nothing-here")
    assert response.headers["ratelimit-limit"] == "3"
    assert response.headers["ratelimit-remaining"] == "2"
    assert 0 < int(response.headers["ratelimit-reset"]) <= 60


async def test_over_the_limit_is_a_429_problem_with_retry_after(limited: FastAPI) -> None:
    async with client_for(limited) as client:
        statuses = [(await client.get("/nothing-here")).status_code for _ in range(3)]
        response = await client.get("/nothing-here")
    assert statuses == [404, 404, 404]
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "rate_limit.exceeded"
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.headers["ratelimit-remaining"] == "0"


async def test_health_ready_and_metrics_are_never_limited(limited: FastAPI) -> None:
    async with client_for(limited) as client:
        for _ in range(5):
            for path in ("/health", "/ready", "/metrics"):
                response = await client.get(path)
                assert response.status_code == 200
                assert "ratelimit-limit" not in response.headers


async def test_each_client_address_has_its_own_budget(limited: FastAPI) -> None:
    async with (
        client_for(limited, "203.0.113.1") as first,
        client_for(limited, "203.0.113.2") as two,
    ):
        for _ in range(3):
            await first.get("/x")
        assert (await first.get("/x")).status_code == 429
        assert (await two.get("/x")).status_code == 404


async def test_an_ipv4_client_mapped_into_ipv6_shares_its_budget(limited: FastAPI) -> None:
    async with (
        client_for(limited, "203.0.113.5") as plain,
        client_for(limited, "::ffff:203.0.113.5") as mapped,
    ):
        for _ in range(3):
            await plain.get("/x")
        assert (await mapped.get("/x")).status_code == 429


async def test_rotating_x_forwarded_for_does_not_dodge_the_limit(limited: FastAPI) -> None:
    async with client_for(limited, "203.0.113.50") as client:
        statuses = [
            (await client.get("/x", headers={"X-Forwarded-For": f"198.51.100.{i}"})).status_code
            for i in range(5)
        ]
    assert statuses == [404, 404, 404, 429, 429]


async def test_behind_a_trusted_proxy_each_forwarded_client_counts_alone(limited: FastAPI) -> None:
    async with client_for(limited, "10.1.2.3") as proxy:
        for i in range(5):
            response = await proxy.get("/x", headers={"X-Forwarded-For": f"198.51.100.{i}"})
            assert response.status_code == 404
            assert response.headers["ratelimit-remaining"] == "2"


async def test_authenticated_principals_get_their_own_larger_budget(limited: FastAPI) -> None:
    async def principal_from_header(scope: Scope) -> str | None:
        for name, value in scope["headers"]:
            if name == b"x-test-principal":
                return value.decode()
        return None

    limited.state.rate_limiter.principal_resolvers = [principal_from_header]
    async with client_for(limited) as client:
        as_user = {"X-Test-Principal": "user:1"}
        responses = [await client.get("/x", headers=as_user) for _ in range(6)]
        anonymous = await client.get("/x")
    assert [r.status_code for r in responses] == [404] * 5 + [429]
    assert responses[0].headers["ratelimit-limit"] == "5"
    assert anonymous.headers["ratelimit-remaining"] == "2"


async def test_a_console_cookie_counts_as_its_user_and_the_consoles_files_are_free(
    limited: FastAPI,
) -> None:
    secret = limited.state.services.identity.secret_key
    signed_in = ConsoleSession.start(
        "01USER00000000000000000000", "01SIGNIN000000000000000000", 2**31
    )
    cookie = console_session.encode(signed_in, secret)
    async with client_for(limited) as client:
        for _ in range(4):
            assert (await client.get("/console/static/console.css")).status_code == 200
        client.cookies.set(console_session.COOKIE, cookie)
        page = await client.get("/sign-in")
        client.cookies.set(console_session.COOKIE, "forged")
        forged = await client.get("/sign-in")
    assert page.headers["ratelimit-limit"] == "5"  # the user's budget
    assert forged.headers["ratelimit-limit"] == "3"  # a forged cookie buys nothing


async def test_a_browser_over_the_limit_gets_a_page_not_json(limited: FastAPI) -> None:
    html = {"Accept": "text/html,application/xhtml+xml"}
    async with client_for(limited) as client:
        for _ in range(3):
            await client.get("/sign-in", headers=html)
        page = await client.get("/sign-in", headers=html)
        api = await client.get("/api/v1/decks", headers=html)
    assert page.status_code == 429
    assert page.headers["content-type"].startswith("text/html")
    assert "Too many requests" in page.text
    assert "retry-after" in page.headers
    assert api.headers["content-type"] == "application/problem+json"


@pytest.mark.redis
async def test_redis_shares_one_budget_between_processes(
    tmp_path: Path, database_url: str, db: Database, redis_url: str
) -> None:
    settings = make_settings(
        tmp_path, database_url=database_url, redis_url=redis_url, rate_limit_anonymous="2/minute"
    )
    first, second = create_app(settings, db=db), create_app(settings, db=db)
    peer = f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    async with client_for(first, peer) as one, client_for(second, peer) as two:
        assert (await one.get("/x")).status_code == 404
        assert (await two.get("/x")).status_code == 404
        assert (await one.get("/x")).status_code == 429
        assert (await two.get("/x")).status_code == 429


async def test_an_unreachable_store_lets_requests_through(
    tmp_path: Path, database_url: str, db: Database
) -> None:
    settings = make_settings(tmp_path, database_url=database_url, redis_url="redis://127.0.0.1:1/0")
    app = create_app(settings, db=db)
    async with client_for(app) as client:
        response = await client.get("/x")
    assert response.status_code == 404
    assert "ratelimit-limit" not in response.headers


def test_limiter_keeps_buckets_apart() -> None:
    limiter: RateLimiter = create_app(make_settings(Path("data"))).state.rate_limiter
    assert limiter.anonymous.amount == 100
    assert limiter.authenticated.amount == 1000


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_memory_window_moves_with_time() -> None:
    clock = FakeClock()
    window = MemoryMovingWindow(clock)
    item = parse("3/minute")
    for second in (0, 10, 20):
        clock.now = 1000.0 + second
        assert (await window.hit(item, "ip", "a")).allowed
    refused = await window.hit(item, "ip", "a")
    assert (refused.allowed, refused.remaining, refused.reset_after) == (False, 0, 40)
    clock.now = 1060.5  # the first hit has left the window, the other two have not
    allowed = await window.hit(item, "ip", "a")
    assert (allowed.allowed, allowed.remaining, allowed.reset_after) == (True, 0, 10)


async def test_the_memory_window_forgets_idle_clients() -> None:
    clock = FakeClock()
    window = MemoryMovingWindow(clock)
    item = parse("5/second")
    await window.hit(item, "ip", "idle")
    clock.now += MemoryMovingWindow.SWEEP_INTERVAL + 1
    await window.hit(item, "ip", "active")
    assert [key[1] for key in window._logs] == ["active"]
