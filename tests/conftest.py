"""Shared fixtures: settings, a migrated database per backend, an app and a client over ASGI.

Every test that touches the database runs on SQLite and, when `PAPERWORKS_TEST_DATABASE_URL` is
set, on PostgreSQL too. Each test runs inside a transaction that is rolled back at its end.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from paperworks import migrations
from paperworks.app import create_app
from paperworks.kit.db import Database, create_engine
from paperworks.settings import Settings

TEST_DATABASE_URL = os.environ.get("PAPERWORKS_TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("PAPERWORKS_TEST_REDIS_URL")
TEST_SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer's PAPERWORKS_* variables or ./paperworks.toml leak into a test."""
    for name in list(os.environ):
        if name.startswith("PAPERWORKS_") and not name.startswith("PAPERWORKS_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.chdir(tmp_path)


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "data_dir": data_dir,
        "secret_key": TEST_SECRET,
        "log_level": "WARNING",
        "password_hash_rounds": 4,  # bcrypt at cost 12 would dominate the suite
    }
    values.update(overrides)
    return Settings(**values)


async def reset_postgres(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))


async def _postgres_engine() -> AsyncEngine:
    if not TEST_DATABASE_URL:
        pytest.skip("PostgreSQL tests need PAPERWORKS_TEST_DATABASE_URL (CI sets it)")
    engine = create_engine(TEST_DATABASE_URL)
    try:
        await reset_postgres(engine)
    except Exception as exc:
        # Asked for PostgreSQL and it is not there: a failure, not a skip, so CI cannot go green
        # without having run the suite on it.
        pytest.fail(f"PAPERWORKS_TEST_DATABASE_URL is set but unreachable: {exc}", pytrace=False)
    return engine


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A migrated database for the whole session, one per backend."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        engine = create_engine(url)
    else:
        engine = await _postgres_engine()
        url = str(TEST_DATABASE_URL)
    await migrations.upgrade(engine)
    yield url
    await engine.dispose()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[Database]:
    """A database whose every commit in this test is undone at its end."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield Database(engine, bind=connection)
        await transaction.rollback()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "data", database_url=database_url)


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, db=db)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def redis_url() -> str:
    if not TEST_REDIS_URL:
        pytest.skip("Redis tests need PAPERWORKS_TEST_REDIS_URL (CI sets it)")
    try:
        with redis.Redis.from_url(TEST_REDIS_URL, socket_timeout=2) as connection:
            connection.ping()
    except redis.RedisError as exc:
        pytest.fail(f"PAPERWORKS_TEST_REDIS_URL is set but unreachable: {exc}", pytrace=False)
    return TEST_REDIS_URL
