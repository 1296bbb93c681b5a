"""An app on the session's database used for real, for tests of concurrent requests.

The per-test connection (`db`) hosts one transaction, rolled back at the end; concurrent
requests each need their own connection and transaction, as in production. Accounts signed up
here are removed afterwards, and with their workspaces everything made there.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from paperworks.app import create_app
from paperworks.identity.models import User
from paperworks.kit.db import Database
from paperworks.settings import Settings


@dataclass
class Committing:
    client: httpx.AsyncClient
    user_ids: list[str] = field(default_factory=list)

    async def sign_up(self) -> dict[str, str]:
        """A new account's authorization headers."""
        email = f"race-{uuid.uuid4().hex[:8]}@example.com"
        response = await self.client.post(
            "/api/v1/auth/register", json={"email": email, "password": "correct horse battery"}
        )
        assert response.status_code == 201, response.text
        body = response.json()
        self.user_ids.append(body["user"]["id"])
        return {"Authorization": f"Bearer {body['accessToken']}"}


@pytest.fixture
async def committing(settings: Settings, database_url: str) -> AsyncIterator[Committing]:
    real = Database.from_url(database_url)
    transport = httpx.ASGITransport(app=create_app(settings, db=real))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        committing = Committing(client)
        try:
            yield committing
        finally:
            async with real.session_scope() as session:
                for user_id in committing.user_ids:
                    await session.delete(await session.get_one(User, user_id))
            await real.dispose()
