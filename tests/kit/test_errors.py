"""Every failure a client can cause is a problem+json 4xx with a stable code, never a 500."""

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import text

from paperworks import migrations
from paperworks.app import create_app
from paperworks.kit.db import Database
from paperworks.kit.errors import Conflict, NotFound
from paperworks.services import SessionDep
from tests.conftest import make_settings
from tests.problems import assert_problem


class Widget(BaseModel):
    name: str = Field(min_length=1)
    size: int = Field(gt=0)


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    @app.post("/test/widgets", status_code=201)
    async def create_widget(widget: Widget) -> Widget:
        return widget

    @app.get("/test/widgets/{widget_id}")
    async def get_widget(widget_id: int) -> Widget:
        raise NotFound(f"No widget {widget_id}")

    @app.put("/test/conflict")
    async def conflict() -> None:
        raise Conflict("Already there", headers={"X-Hint": "pick another name"})

    @app.get("/test/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    return app


async def test_unknown_route_is_a_problem(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/no/such/route"), 404, "http.not_found")
    assert body["instance"] == "/no/such/route"
    assert body["detail"] == "No route matches GET /no/such/route"


async def test_wrong_method_is_a_problem_that_says_what_is_allowed(
    client: httpx.AsyncClient,
) -> None:
    response = await client.delete("/health")
    assert_problem(response, 405, "http.method_not_allowed")
    assert response.headers["allow"] == "GET"


async def test_malformed_json_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/test/widgets", content=b'{"name": "a",', headers={"content-type": "application/json"}
    )
    assert_problem(response, 400, "request.malformed_json")


async def test_validation_errors_list_each_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/test/widgets", json={"name": "", "size": -1})
    body = assert_problem(response, 422, "request.validation_failed")
    errors = body["errors"]
    assert isinstance(errors, list)
    assert {e["field"] for e in errors} == {"name", "size"}
    assert all(e["location"] == "body" and e["message"] for e in errors)
    assert body["detail"] == "Invalid input: name, size"


async def test_path_parameter_of_wrong_type_is_a_422(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/test/widgets/abc"), 422, "request.validation_failed")
    assert body["errors"] == [
        {
            "field": "widget_id",
            "location": "path",
            "message": "Input should be a valid integer, unable to parse string as an integer",
            "type": "int_parsing",
        }
    ]


async def test_domain_errors_carry_their_code_detail_and_headers(
    client: httpx.AsyncClient,
) -> None:
    body = assert_problem(await client.get("/test/widgets/7"), 404, "resource.not_found")
    assert body["detail"] == "No widget 7"
    response = await client.put("/test/conflict")
    assert_problem(response, 409, "resource.conflict")
    assert response.headers["x-hint"] == "pick another name"


async def test_declared_oversize_body_is_refused_before_it_is_read(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    limit = app.state.services.settings.max_body_bytes
    response = await client.post(
        "/test/widgets", content=b"x" * (limit + 1), headers={"content-type": "application/json"}
    )
    body = assert_problem(response, 413, "request.body_too_large")
    assert str(limit) in str(body["detail"])
    assert "x-request-id" in response.headers


async def test_streamed_oversize_body_is_cut_off(client: httpx.AsyncClient, app: FastAPI) -> None:
    limit = app.state.services.settings.max_body_bytes

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(limit // 4096 + 2):
            yield b" " * 4096

    response = await client.post(
        "/test/widgets", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(response, 413, "request.body_too_large")


async def test_a_bug_is_a_500_problem_without_internals(client: httpx.AsyncClient) -> None:
    response = await client.get("/test/boom", headers={"x-request-id": "trace-me-1"})
    body = assert_problem(response, 500, "internal.error")
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert body["instance"] == "/test/boom"
    assert response.headers["x-request-id"] == "trace-me-1"


@pytest.fixture
async def sqlite_app(tmp_path: Path) -> AsyncIterator[tuple[FastAPI, Path]]:
    """An app on a SQLite file of its own, with a route that reads, then writes."""
    path = tmp_path / "race.db"
    settings = make_settings(tmp_path / "data", database_url=f"sqlite+aiosqlite:///{path}")
    db = Database.from_url(settings.database_url)
    await migrations.upgrade(db.engine)
    app = create_app(settings, db=db)

    @app.post("/test/race")
    async def race(session: SessionDep) -> None:
        await session.execute(text("SELECT count(*) FROM users"))
        await asyncio.sleep(0.05)  # another writer commits meanwhile
        await session.execute(text("CREATE TABLE IF NOT EXISTS written (n INTEGER)"))

    yield app, path
    await db.dispose()


def hold_the_write_lock(path: Path, seconds: float) -> threading.Thread:
    """Another process's writer: takes SQLite's write lock, keeps it a while, commits."""
    taken = threading.Event()

    def hold() -> None:
        with sqlite3.connect(path, isolation_level=None) as other:
            other.execute("BEGIN IMMEDIATE")
            other.execute("CREATE TABLE IF NOT EXISTS other_writer (n INTEGER)")
            taken.set()
            time.sleep(seconds)
            other.execute("COMMIT")

    thread = threading.Thread(target=hold)
    thread.start()
    taken.wait()
    return thread


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as check:
        return {row[0] for row in check.execute("SELECT name FROM sqlite_master")}


async def test_a_sqlite_write_waits_for_another_writer_instead_of_failing(
    sqlite_app: tuple[FastAPI, Path],
) -> None:
    """Read, another writer commits, then write: the write queues for the lock and succeeds
    (a deferred transaction would fail at once with "database is locked")."""
    app, path = sqlite_app
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        request = asyncio.create_task(client.post("/test/race"))
        await asyncio.sleep(0.01)  # the route has read
        writer = hold_the_write_lock(path, 0.3)
        response = await request
        writer.join()
    assert response.status_code == 200, response.text
    assert {"written", "other_writer"} <= tables(path)


@pytest.mark.slow
async def test_a_sqlite_write_that_cannot_get_the_lock_in_time_is_a_503(
    sqlite_app: tuple[FastAPI, Path],
) -> None:
    """Past busy_timeout (5 s) the client hears "retry" (503 + Retry-After), not a 500, and
    nothing half-done is kept."""
    app, path = sqlite_app
    # Held 3 s past busy_timeout: a loaded machine may start the request a second or two late.
    writer = hold_the_write_lock(path, 8.0)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post("/test/race")
    writer.join()
    assert_problem(response, 503, "database.busy")
    assert response.headers["retry-after"] == "1"
    assert "written" not in tables(path)
