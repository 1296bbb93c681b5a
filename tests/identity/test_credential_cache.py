"""Who credentials stand for, remembered a few seconds, and forgotten when access is taken."""

import httpx
import pytest
from fastapi import FastAPI

from paperworks.identity.caller import Credentials
from paperworks.kit.errors import AppError
from tests.identity.conftest import Account

API = "/api/v1"


async def test_a_revoked_key_is_refused_at_once_not_after_the_cache_forgets(
    app: FastAPI, client: httpx.AsyncClient, anna: Account
) -> None:
    callers = app.state.services.callers
    created = await client.post(f"{API}/api-keys", json={"name": "ci"}, headers=anna.headers)
    key = created.json()
    credentials = Credentials(api_key=key["key"])
    assert (await callers.caller(credentials)).api_key_id == key["id"]  # now remembered
    revoked = await client.delete(f"{API}/api-keys/{key['id']}", headers=anna.headers)
    assert revoked.status_code == 204
    with pytest.raises(AppError) as refused:
        await callers.caller(credentials)
    assert refused.value.status_code == 401


async def test_a_caller_is_remembered_between_requests(
    app: FastAPI, client: httpx.AsyncClient, anna: Account
) -> None:
    callers = app.state.services.callers
    credentials = Credentials(bearer=anna.access_token)
    first = await callers.caller(credentials)
    assert await callers.caller(credentials) is first
