"""Signed-up accounts as a client sees them, for every test package (a pytest plugin)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from paperworks.identity import service as identity
from paperworks.identity.caller import Caller
from paperworks.identity.models import Workspace
from paperworks.identity.roles import Role
from paperworks.kit.db import Database
from paperworks.kit.security import encode_token
from paperworks.settings import Settings

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

    @property
    def caller(self) -> Caller:
        """As services see them, in their personal workspace (which they own)."""
        return Caller(workspace_id=self.personal_workspace_id, user_id=self.id, role=Role.owner)


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


@pytest.fixture
async def admin_headers(db: Database, settings: Settings) -> dict[str, str]:
    """The bearer header of an admin (made as `paperworks users create --admin` would)."""
    async with db.session_scope() as session:
        admin = await identity.create_user(
            session, email="admin@example.com", password_hash=None, is_admin=True
        )
    token = encode_token(
        settings.secret_key.get_secret_value(),
        subject=admin.id,
        token_type="access",
        ttl=timedelta(minutes=5),
        jti=admin.id,
    )
    return {"Authorization": f"Bearer {token}"}


async def create_workspace(client: httpx.AsyncClient, account: Account, name: str) -> str:
    response = await client.post("/api/v1/workspaces", json={"name": name}, headers=account.headers)
    assert response.status_code == 201, response.text
    workspace_id: str = response.json()["id"]
    return workspace_id


async def add_member(db: Database, workspace_id: str, email: str, role: str = "member") -> None:
    """Make the account with `email` a member at once, as accepting an invitation ends (the
    invitation itself is tested in tests/identity/test_invitations.py)."""
    async with db.session_scope() as session:
        user = await identity.user_by_email(session, email)
        assert user is not None, f"sign {email} up first: only accounts accept invitations"
        workspace = await session.get_one(Workspace, workspace_id)
        await identity.add_membership(session, workspace, user, role=Role(role))
