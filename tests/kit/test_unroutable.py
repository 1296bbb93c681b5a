"""A path no route can serve is answered 404 before the router tries its routes, and nothing else
changes: the same problem body, slash redirects, routes added later, catch-all routes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from starlette.exceptions import HTTPException
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from paperworks.kit.unroutable import UnroutablePaths, literal_prefixes


def test_every_route_path_gives_its_literal_start() -> None:
    router = APIRouter(prefix="/api/v1")

    @router.get("/tasks/{task_id}")
    async def task(task_id: str) -> None: ...

    @router.get("/auth/me/")
    async def me() -> None: ...

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(router)
    app.add_api_route("/health", me)
    app.mount("/ws", FastAPI())
    assert literal_prefixes(app.router.routes) == (
        "/api/v1/auth/me",
        "/api/v1/tasks",
        "/health",
        "/ws",
    )


def test_a_route_that_starts_with_a_parameter_may_match_anything() -> None:
    assert literal_prefixes([Route("/{anything}", lambda request: None)]) is None
    assert literal_prefixes([Mount("/", routes=[])]) is None  # a mount at the root serves all
    assert literal_prefixes([Route("/", lambda request: None)]) == ("",)  # "/" alone


class Inner:
    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.paths.append(scope["path"])


def scope(path: str, root_path: str = "") -> dict[str, Any]:
    return {"type": "http", "path": path, "root_path": root_path, "method": "GET"}


async def nothing() -> dict[str, Any]:
    return {}


async def test_only_paths_some_route_may_serve_reach_the_router() -> None:
    routes: list[Any] = [Route("/api/v1/tasks/{id}", lambda r: None), Route("/", lambda r: None)]
    inner = Inner()
    guarded = UnroutablePaths(inner, routes)
    for path in ("/api/v1/tasks/1", "/api/v1/tasks", "/api/v1/tasks/1/x", "/", "/app/", "/app/"):
        await guarded(
            scope(path, root_path="/app" if path.startswith("/app") else ""), nothing, nothing
        )  # type: ignore[arg-type]
    assert inner.paths == [
        "/api/v1/tasks/1",
        "/api/v1/tasks",
        "/api/v1/tasks/1/x",
        "/",
        "/app/",
        "/app/",
    ]
    for path in ("/api/v1/task", "/wp-login.php", "/api"):
        with pytest.raises(HTTPException) as refused:
            await guarded(scope(path), nothing, nothing)  # type: ignore[arg-type]
        assert refused.value.status_code == 404
    routes.append(Route("/wp-login.php", lambda r: None))  # added later: read again
    await guarded(scope("/wp-login.php"), nothing, nothing)  # type: ignore[arg-type]
    assert inner.paths[-1] == "/wp-login.php"


async def test_the_service_answers_an_unknown_path_with_its_usual_problem(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    unknown = await client.get("/wp-login.php")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["code"] == "http.not_found"
    assert unknown.json()["detail"] == "No route matches GET /wp-login.php"
    # Under a known prefix the router decides, as before: a 404, a 405, a slash redirect.
    assert (await client.get("/api/v1/tasks/x/y/z")).json()["code"] == "http.not_found"
    assert (await client.delete("/health")).status_code == 405
    assert (await client.get("/health/")).status_code in (200, 307)

    @app.get("/late")
    async def late() -> dict[str, str]:
        return {"late": "yes"}

    assert (await client.get("/late")).json() == {"late": "yes"}
