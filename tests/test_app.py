"""Start-up and shutdown of the assembled app."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sentry_sdk
from asgi_lifespan import LifespanManager

from paperworks import migrations
from paperworks.app import create_app
from paperworks.kit.db import Database, create_engine
from paperworks.settings import Settings
from tests.accounts import Account
from tests.conftest import make_settings
from tests.files import samples
from tests.problems import assert_problem


async def test_starts_on_a_migrated_database_and_closes_it(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    engine = create_engine(url)
    await migrations.upgrade(engine)
    await engine.dispose()
    app = create_app(make_settings(tmp_path, database_url=url, redis_url="redis://127.0.0.1:1/0"))
    async with LifespanManager(app):
        runner = app.state.services.jobs.runner
        assert len(runner._tasks) == runner.slots + 1  # the slots and the heartbeat
    # Shut down: the runner's tasks are gone and no connection is left checked out.
    assert runner._tasks == []
    assert app.state.services.db.engine.pool.checkedout() == 0
    assert app.state.services.redis.connection_pool.connection_kwargs["port"] == 1


async def test_refuses_to_start_on_an_old_schema(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    app = create_app(make_settings(tmp_path, database_url=url))
    with pytest.raises(migrations.SchemaOutOfDate):
        async with LifespanManager(app):
            pass  # pragma: no cover - start-up must fail


@pytest.fixture
def sentry_restored() -> Iterator[None]:
    """Sentry's client as it was before the test: `init(dsn=None)` would leave an active client
    with default options behind, and its integrations read request bodies in later tests."""
    before = sentry_sdk.get_client()
    yield
    sentry_sdk.get_global_scope().set_client(before)


@pytest.mark.usefixtures("sentry_restored")
def test_sentry_is_initialised_only_with_a_dsn(tmp_path: Path) -> None:
    create_app(make_settings(tmp_path))
    assert not sentry_sdk.get_client().is_active()
    create_app(make_settings(tmp_path, sentry_dsn="http://public@127.0.0.1:9/1"))
    client = sentry_sdk.get_client()
    assert client.is_active()
    assert client.options["environment"] == "test"
    assert client.options["release"] == "paperworks@0.1.0"


@pytest.mark.usefixtures("sentry_restored")
async def test_with_sentry_on_an_upload_keeps_its_form_limits(
    settings: Settings, db: Database, anna: Account
) -> None:
    """Sentry's Starlette integration reads request bodies for its events; it must not parse an
    upload before the route (whole in memory, and without the route's one-file limit)."""
    app = create_app(
        settings.model_copy(update={"sentry_dsn": "http://public@127.0.0.1:9/1"}), db=db
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        response = await client.post(
            "/api/v1/files",
            files=[("file", ("a.pdf", samples.pdf())), ("file", ("b.pdf", samples.pdf()))],
            headers=anna.headers,
        )
    assert_problem(response, 400, "request.bad_request")
