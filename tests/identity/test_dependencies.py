"""What products authorise with: require(), CurrentCaller, the rate-limit principal."""

from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from sqlalchemy import event

from paperworks.app import create_app
from paperworks.identity.dependencies import CurrentCaller, CurrentUser, require
from paperworks.kit.db import Database
from tests.accounts import add_member
from tests.conftest import make_settings
from tests.identity.conftest import Account

API = "/api/v1"


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    @app.post("/test/manage")
    async def manage(
        user: CurrentUser,
        caller: CurrentCaller,
        _: Annotated[None, Depends(require("members:manage"))],
    ) -> dict[str, str | None]:
        return {"user": user.id, "workspace": caller.workspace_id, "role": caller.role}

    @app.get("/test/caller")
    async def caller_only(caller: CurrentCaller) -> dict[str, str | None]:
        return {"workspace": caller.workspace_id, "role": caller.role}

    return app


async def test_a_caller_is_known_from_one_query_whatever_the_credential(
    client: httpx.AsyncClient, db: Database, anna: Account
) -> None:
    """Every authenticated request asks who is calling: one statement, not one per fact."""
    team = (await client.post(f"{API}/workspaces", json={"name": "T"}, headers=anna.headers)).json()
    key = (await client.post(f"{API}/api-keys", json={"name": "ci"}, headers=anna.headers)).json()
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(args[2])

    async def selects(headers: dict[str, str]) -> tuple[dict[str, Any], int]:
        await client.get("/test/caller", headers=headers)  # the rate limiter's cache is warm
        statements.clear()
        event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
        try:
            answer = await client.get("/test/caller", headers=headers)
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
        return answer.json(), len(
            [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        )

    personal = {"workspace": anna.personal_workspace_id, "role": "owner"}
    assert await selects(anna.headers) == (personal, 1)
    assert await selects(anna.in_workspace(team["id"])) == (
        {"workspace": team["id"], "role": "owner"},
        1,
    )
    assert await selects({"X-API-Key": key["key"]}) == (personal, 1)


async def test_require_admits_roles_that_grant_the_permission(
    client: httpx.AsyncClient, db: Database, anna: Account, bob: Account
) -> None:
    team = (await client.post(f"{API}/workspaces", json={"name": "T"}, headers=anna.headers)).json()
    await add_member(db, team["id"], bob.email)
    as_owner = await client.post("/test/manage", headers=anna.in_workspace(team["id"]))
    assert as_owner.json() == {"user": anna.id, "workspace": team["id"], "role": "owner"}
    as_member = await client.post("/test/manage", headers=bob.in_workspace(team["id"]))
    assert as_member.status_code == 403
    assert as_member.json()["code"] == "auth.missing_permission"
    # Bob owns his personal workspace, the default one.
    assert (await client.post("/test/manage", headers=bob.headers)).json()["role"] == "owner"


def test_a_misspelt_permission_fails_when_the_route_is_defined() -> None:
    with pytest.raises(ValueError, match="unknown permission"):
        require("member:manage")


async def test_api_keys_get_the_authenticated_budget_and_forged_ones_do_not(
    tmp_path: Path, database_url: str, db: Database, anna: Account, client: httpx.AsyncClient
) -> None:
    created = await client.post(f"{API}/api-keys", json={"name": "ci"}, headers=anna.headers)
    key = created.json()["key"]
    settings = make_settings(
        tmp_path,
        database_url=database_url,
        rate_limit_anonymous="3/minute",
        rate_limit_authenticated="7/minute",
    )
    limited = create_app(settings, db=db)
    transport = httpx.ASGITransport(app=limited)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        for _ in range(2):  # the second call is answered from the limiter's key cache
            real = await other.get(f"{API}/auth/me", headers={"X-API-Key": key})
            assert real.status_code == 200
            assert real.headers["ratelimit-limit"] == "7"
        forged = await other.get(f"{API}/auth/me", headers={"X-API-Key": "pwk_forged"})
        assert forged.status_code == 401
        assert forged.headers["ratelimit-limit"] == "3"
        expired_token = await other.get(
            f"{API}/auth/me", headers={"Authorization": "Bearer not.a.token"}
        )
        assert expired_token.headers["ratelimit-limit"] == "3"
