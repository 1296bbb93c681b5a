"""Operations endpoints: health, readiness, metrics, the OpenAPI document, CORS."""

import subprocess
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from paperworks.app import create_app
from paperworks.build_info import build_info
from paperworks.kit.db import Database
from tests.conftest import make_settings
from tests.problems import assert_problem


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture(autouse=True)
def _fresh_build_info() -> None:
    build_info.cache_clear()


async def test_health_names_the_build(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    head = subprocess.run(  # noqa: ASYNC221 - once, before any request
        ["git", "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent,
    ).stdout.strip()
    assert body == {
        "status": "ok",
        "version": "0.1.0",
        "gitSha": head,
        "buildTime": body["buildTime"],
        "environment": "test",
    }


async def test_health_prefers_the_sha_given_by_the_environment(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERWORKS_GIT_SHA", "abc1234")
    monkeypatch.setenv("PAPERWORKS_BUILD_TIME", "2026-01-02T03:04:05Z")
    build_info.cache_clear()
    body = (await client.get("/health")).json()
    assert body["gitSha"] == "abc1234"
    assert body["buildTime"] == "2026-01-02T03:04:05Z"


async def test_ready_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "redis": "disabled"}}


@pytest.mark.redis
async def test_ready_checks_redis_when_configured(
    tmp_path: Path, database_url: str, db: Database, redis_url: str
) -> None:
    app = create_app(make_settings(tmp_path, database_url=database_url, redis_url=redis_url), db=db)
    async with client_for(app) as client:
        response = await client.get("/ready")
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_not_ready_when_redis_is_down(
    tmp_path: Path, database_url: str, db: Database
) -> None:
    settings = make_settings(tmp_path, database_url=database_url, redis_url="redis://127.0.0.1:1/0")
    async with client_for(create_app(settings, db=db)) as client:
        response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "redis": "down"},
    }


async def test_not_ready_when_the_database_is_down(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    async with client_for(create_app(settings)) as client:
        response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "down"


async def test_metrics_count_requests_by_route(client: httpx.AsyncClient) -> None:
    await client.get("/health")
    await client.get("/health")
    await client.get("/unknown-route")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'http_request_duration_seconds_count{handler="/health",method="GET"} 2.0' in text
    assert 'http_requests_total{handler="none",method="GET",status="4xx"} 1.0' in text
    assert 'http_requests_total{handler="/health",method="GET",status="2xx"} 2.0' in text
    assert "http_request_duration_highr_seconds_count 3.0" in text


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", "Basic c2NyYXBlcg==", "Bearer", "scrape-me-7Qx"]
)
async def test_with_a_metrics_token_metrics_need_it(
    tmp_path: Path, database_url: str, db: Database, authorization: str | None
) -> None:
    settings = make_settings(tmp_path, database_url=database_url, metrics_token="scrape-me-7Qx")
    headers = {"Authorization": authorization} if authorization else {}
    async with client_for(create_app(settings, db=db)) as client:
        refused = await client.get("/metrics", headers=headers)
        allowed = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me-7Qx"})

    body = assert_problem(refused, 401, "metrics.unauthenticated")
    assert "http_requests_total" not in refused.text
    assert "Bearer" in body["detail"]
    assert refused.headers["www-authenticate"] == "Bearer"
    assert allowed.status_code == 200
    assert "http_requests_total" in allowed.text


async def test_every_route_is_documented_with_tags_and_responses(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert schema["info"]["title"] == "Paperworks"
    for path in ("/health", "/ready", "/metrics"):
        operation = schema["paths"][path]["get"]
        assert operation["tags"] == ["operations"], path
        assert operation["summary"], path
        assert "200" in operation["responses"], path
    assert "503" in schema["paths"]["/ready"]["get"]["responses"]


async def test_docs_follow_expose_docs(tmp_path: Path, database_url: str, db: Database) -> None:
    hidden = create_app(make_settings(tmp_path, database_url=database_url), db=db)
    shown = create_app(make_settings(tmp_path, database_url=database_url, expose_docs=True), db=db)
    async with client_for(hidden) as client:
        assert (await client.get("/docs")).status_code == 404
    async with client_for(shown) as client:
        assert (await client.get("/docs")).status_code == 200


async def test_cors_allows_only_configured_origins(
    tmp_path: Path, database_url: str, db: Database
) -> None:
    settings = make_settings(
        tmp_path, database_url=database_url, cors_origins="https://app.example"
    )
    async with client_for(create_app(settings, db=db)) as client:
        allowed = await client.get("/health", headers={"Origin": "https://app.example"})
        other = await client.get("/health", headers={"Origin": "https://evil.example"})
        preflight = await client.options(
            "/health",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "x-request-id" in allowed.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in other.headers
    assert preflight.status_code == 400
