"""Signed-up accounts as a client sees them, for every test package (a pytest plugin)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

PASSWORD = "correct horse battery"


@dataclass
class Account:
    """A signed-up user as a client sees it."""

    id: str
    email: str
    access_token: str
    refresh_token: str
    personal_workspace_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def in_workspace(self, workspace_id: str) -> dict[str, str]:
        return {**self.headers, "X-Workspace-ID": workspace_id}


SignUp = Callable[..., Awaitable[Account]]


@pytest.fixture
def sign_up(client: httpx.AsyncClient) -> SignUp:
    """Register an account through the API and return it."""

    async def sign_up(email: str, password: str = PASSWORD, **extra: Any) -> Account:
        response = await client.post(
            "/api/v1/auth/register", json={"email": email, "password": password, **extra}
        )
        assert response.status_code == 201, response.text
        body = response.json()
        me = await client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {body['accessToken']}"}
        )
        (personal,) = me.json()["workspaces"]
        return Account(
            id=body["user"]["id"],
            email=body["user"]["email"],
            access_token=body["accessToken"],
            refresh_token=body["refreshToken"],
            personal_workspace_id=personal["id"],
        )

    return sign_up


@pytest.fixture
async def anna(sign_up: SignUp) -> Account:
    return await sign_up("anna@example.com", name="Anna")


@pytest.fixture
async def bob(sign_up: SignUp) -> Account:
    return await sign_up("bob@example.com", name="Bob")
