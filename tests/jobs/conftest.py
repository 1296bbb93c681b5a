"""What the runners' tests share: a workspace to run jobs in, a stand-in for the broker, a real
broker each (Redis, RabbitMQ) with a queue of their own on it, and a database that another
thread or process can use at the same time."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from celery import Celery

from paperworks import migrations
from paperworks.identity import service as identity
from paperworks.identity.caller import SYSTEM
from paperworks.identity.models import User
from paperworks.jobs import service
from paperworks.jobs.celery_runner import CeleryDispatcher
from paperworks.jobs.models import Job
from paperworks.kit.db import Database, create_engine


class RecordingDispatcher:
    """Stands in for the broker: records what would be sent, says how much waits there."""

    def __init__(self, waiting: int | None = 0) -> None:
        self.sent: list[tuple[str, datetime | None]] = []
        self.ready = waiting

    def send(self, job_id: str, *, eta: datetime | None = None) -> None:
        self.sent.append((job_id, eta))

    def send_soon(self, job_id: str) -> None:
        self.send(job_id)

    def waiting(self) -> int | None:
        return self.ready

    async def drain(self) -> None:
        return None

    def close(self) -> None:
        return None


@pytest.fixture
def long_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries wait a minute: the real first backoff (1-2 s) can end before a test's next step
    on a machine busy with the rest of the suite, and a test meant to see "too early" would not."""
    monkeypatch.setattr(service, "backoff", lambda attempt: timedelta(minutes=1))


@pytest.fixture
async def workspace_id(db: Database) -> str:
    """A workspace in the test's database, for jobs to run in."""
    async with db.session_scope() as session:
        user = await identity.create_user(session, email="jobs@example.com", password_hash=None)
        return (await identity.personal_workspace(session, user)).id


@pytest.fixture(
    params=[
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("rabbitmq", marks=pytest.mark.rabbitmq),
    ]
)
def broker_url(request: pytest.FixtureRequest) -> str:
    """Each test that takes it runs on Redis and on RabbitMQ."""
    url: str = request.getfixturevalue("redis_url" if request.param == "redis" else "amqp_url")
    return url


@pytest.fixture
def celery_queue(broker_url: str) -> Iterator[str]:
    """A queue no other test run shares (the brokers are the machine's), deleted afterwards."""
    name = f"paperworks-test-{uuid.uuid4().hex[:12]}"
    yield name
    broker = Celery(broker=broker_url, set_as_current=False)
    try:
        CeleryDispatcher(broker, name).delete_queue()  # with a killed worker's leftovers
    finally:
        broker.close()


@dataclass
class Tenant:
    """A committed account and workspace in a database other processes see."""

    db: Database
    url: str
    user_id: str
    workspace_id: str


async def _tenant(url: str) -> Tenant:
    db = Database.from_url(url)
    async with db.session_scope() as session:
        user = await identity.create_user(
            session, email=f"jobs-{uuid.uuid4().hex[:8]}@example.com", password_hash=None
        )
        workspace = await identity.personal_workspace(session, user)
    return Tenant(db, url, user.id, workspace.id)


async def _remove(tenant: Tenant) -> None:
    async with tenant.db.session_scope() as session:
        user = await session.get(User, tenant.user_id)
        if user is not None:
            await session.delete(user)  # its workspace, and so its jobs, go with it
    await tenant.db.dispose()


@pytest.fixture
async def shared(database_url: str) -> AsyncIterator[Tenant]:
    """The session's database used for real (commits stay until the end of the test), for work
    done by another thread or process; removes what the test made."""
    tenant = await _tenant(database_url)
    yield tenant
    await _remove(tenant)


@pytest.fixture
async def sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Tenant]:
    """A database of the test's own, for worker processes that sweep everything they see."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('jobs') / 'jobs.db'}"
    engine = create_engine(url)
    await migrations.upgrade(engine)
    await engine.dispose()
    tenant = await _tenant(url)
    yield tenant
    await tenant.db.dispose()


async def enqueue(db: Database, workspace_id: str, kind: str, **payload: Any) -> str:
    async with db.session_scope() as session:
        job = await service.enqueue(
            session, SYSTEM.within(workspace_id), kind=kind, payload=payload
        )
        return job.id


async def load(db: Database, job_id: str) -> Job:
    async with db.sessionmaker() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job
