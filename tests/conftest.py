"""Shared fixtures: settings, a migrated database per backend, an app and a client over ASGI.

Every test that touches the database runs on SQLite and, when `PAPERWORKS_TEST_DATABASE_URL` is
set, on PostgreSQL too. Each test runs inside a transaction that is rolled back at its end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import kombu
import pytest
import redis
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from paperworks import migrations
from paperworks.app import create_app
from paperworks.kit.db import Database, create_engine
from paperworks.settings import Settings
from tests import app_builds

app_builds.install()  # before any app is built, the fuzzing module's schema included

pytest_plugins = [
    "tests.accounts",
    "tests.committing",
    "tests.evaluation_report",
    "tests.fake_model",
    "tests.job_runs",
    "tests.live_events",
    "tests.mailbox",
    "tests.mcp_sessions",
    "tests.node",
]

TEST_DATABASE_URL = os.environ.get("PAPERWORKS_TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("PAPERWORKS_TEST_REDIS_URL")
TEST_AMQP_URL = os.environ.get("PAPERWORKS_TEST_AMQP_URL")
TEST_SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"


# Unprefixed names the settings (and OpenTelemetry) also read: a CI image or a developer's shell
# often sets them for other programs.
CONVENTIONAL_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "SENTRY_DSN",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_SERVICE_NAME",
)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer's PAPERWORKS_* (or DATABASE_URL-like) variables or ./paperworks.toml leak
    into a test."""
    for name in list(os.environ):
        if name.startswith("PAPERWORKS_") and not name.startswith("PAPERWORKS_TEST_"):
            monkeypatch.delenv(name)
    for name in CONVENTIONAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
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


@asynccontextmanager
async def scratch_postgres_database() -> AsyncIterator[str]:
    """A brand-new database beside PAPERWORKS_TEST_DATABASE_URL's, dropped afterwards, so test
    runs side by side (two developers, a helper, CI) never reset each other's schema."""
    if not TEST_DATABASE_URL:
        pytest.skip("PostgreSQL tests need PAPERWORKS_TEST_DATABASE_URL (CI sets it)")
    base = make_url(TEST_DATABASE_URL)
    name = f"{base.database}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        # Asked for PostgreSQL and it is not there: a failure, not a skip, so CI cannot go green
        # without having run the suite on it.
        await admin.dispose()
        pytest.fail(f"PAPERWORKS_TEST_DATABASE_URL is set but unusable: {exc}", pytrace=False)
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A migrated database for the whole session, one per backend."""
    async with AsyncExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        else:
            url = await stack.enter_async_context(scratch_postgres_database())
        engine = create_engine(url)
        await migrations.upgrade(engine)
        await engine.dispose()
        yield url


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


@pytest.fixture
def amqp_url() -> str:
    """A RabbitMQ broker (the Celery job backend's other broker besides Redis)."""
    if not TEST_AMQP_URL:
        pytest.skip("RabbitMQ tests need PAPERWORKS_TEST_AMQP_URL (CI sets it)")
    try:
        with kombu.Connection(TEST_AMQP_URL, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:
        pytest.fail(f"PAPERWORKS_TEST_AMQP_URL is set but unreachable: {exc}", pytrace=False)
    return TEST_AMQP_URL
