"""API keys over HTTP: made once, shown once, bound to a workspace, revocable, stored as HMACs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from paperworks.identity.models import ApiKey
from paperworks.kit.db import Base, Database
from paperworks.kit.security import keyed_hash
from paperworks.settings import Settings
from tests.accounts import add_member, create_workspace
from tests.identity.conftest import Account
from tests.problems import assert_problem

API = "/api/v1"


def with_key(key: str, **headers: str) -> dict[str, str]:
    return {"X-API-Key": key, **headers}


async def create_key(
    client: httpx.AsyncClient, headers: dict[str, str], name: str = "ci", **body: Any
) -> dict[str, Any]:
    response = await client.post(f"{API}/api-keys", json={"name": name, **body}, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def listed_keys(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/api-keys", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# --- creating and using -----------------------------------------------------------------------


async def test_a_key_is_shown_once_and_authenticates(
    client: httpx.AsyncClient, anna: Account
) -> None:
    created = await create_key(client, anna.headers, name="Deploy bot")
    key = created["key"]

    assert key.startswith("pwk_")
    assert len(key) > 12
    assert created["prefix"] == key[:12]
    assert created["name"] == "Deploy bot"
    assert created["workspaceId"] == anna.personal_workspace_id  # the default workspace
    assert created["expiresAt"] is None
    assert created["createdAt"].endswith("Z")

    me = await client.get(f"{API}/auth/me", headers=with_key(key))
    assert me.status_code == 200, me.text
    assert me.json()["id"] == anna.id
    assert me.json()["email"] == anna.email
    assert key not in me.text

    via_key = await client.get(f"{API}/api-keys", headers=with_key(key))
    assert via_key.status_code == 200, via_key.text
    assert [item["id"] for item in via_key.json()["items"]] == [created["id"]]
    assert key not in via_key.text


async def test_keys_are_made_in_the_workspace_named_by_the_header(
    client: httpx.AsyncClient, anna: Account
) -> None:
    team = await create_workspace(client, anna, "Team")

    created = await create_key(client, anna.in_workspace(team))

    assert created["workspaceId"] == team
    assert [item["id"] for item in await listed_keys(client, anna.in_workspace(team))] == [
        created["id"]
    ]
    assert await listed_keys(client, anna.headers) == []  # not in the personal workspace


async def test_a_member_may_make_keys(
    client: httpx.AsyncClient, db: Database, anna: Account, bob: Account
) -> None:
    team = await create_workspace(client, anna, "Team")
    await add_member(db, team, bob.email)

    created = await create_key(client, bob.in_workspace(team))

    me = await client.get(f"{API}/auth/me", headers=with_key(created["key"]))
    assert me.status_code == 200
    assert me.json()["id"] == bob.id
    # Keys are personal: anna does not see bob's, though both are in the workspace.
    assert await listed_keys(client, anna.in_workspace(team)) == []


async def test_the_list_never_holds_the_secret(client: httpx.AsyncClient, anna: Account) -> None:
    first = await create_key(client, anna.headers, name="one")
    second = await create_key(client, anna.headers, name="two")

    response = await client.get(f"{API}/api-keys", headers=anna.headers)

    assert response.status_code == 200
    items = response.json()["items"]
    assert {item["id"] for item in items} == {first["id"], second["id"]}
    for item in items:
        assert "key" not in item
        assert set(item) == {
            "id",
            "name",
            "prefix",
            "workspaceId",
            "createdAt",
            "expiresAt",
            "lastUsedAt",
        }
    assert first["key"] not in response.text
    assert second["key"] not in response.text
    assert {item["prefix"] for item in items} == {first["prefix"], second["prefix"]}


async def test_keys_are_paginated(client: httpx.AsyncClient, anna: Account) -> None:
    made = {(await create_key(client, anna.headers, name=f"k{n}"))["id"] for n in range(3)}

    first = await client.get(f"{API}/api-keys", params={"limit": 2}, headers=anna.headers)
    page = first.json()
    rest = (
        await client.get(
            f"{API}/api-keys",
            params={"limit": 2, "cursor": page["nextCursor"]},
            headers=anna.headers,
        )
    ).json()

    assert len(page["items"]) == 2
    assert page["nextCursor"]
    assert len(rest["items"]) == 1
    assert rest["nextCursor"] is None
    assert {item["id"] for item in page["items"] + rest["items"]} == made


async def test_last_used_is_recorded_at_most_once_a_minute(
    client: httpx.AsyncClient, db: Database, anna: Account
) -> None:
    created = await create_key(client, anna.headers)
    key = created["key"]
    (before,) = await listed_keys(client, anna.headers)
    assert before["lastUsedAt"] is None

    assert (await client.get(f"{API}/auth/me", headers=with_key(key))).status_code == 200
    (after_first,) = await listed_keys(client, anna.headers)
    first_use = after_first["lastUsedAt"]
    assert first_use is not None
    assert first_use.endswith("Z")
    used_at = datetime.fromisoformat(first_use)
    assert abs(datetime.now(UTC) - used_at) < timedelta(minutes=1)

    assert (await client.get(f"{API}/auth/me", headers=with_key(key))).status_code == 200
    (after_second,) = await listed_keys(client, anna.headers)
    assert after_second["lastUsedAt"] == first_use  # within the minute: not written again

    # Once the last record is more than a minute old, a use records again.
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    async with db.sessionmaker() as session:
        await session.execute(
            update(ApiKey).where(ApiKey.id == created["id"]).values(last_used_at=long_ago)
        )
        await session.commit()
    assert (await client.get(f"{API}/auth/me", headers=with_key(key))).status_code == 200
    (after_third,) = await listed_keys(client, anna.headers)
    assert datetime.fromisoformat(after_third["lastUsedAt"]) > long_ago + timedelta(minutes=4)


@pytest.mark.parametrize("name", ["", "   ", None])
async def test_a_key_needs_a_name(
    client: httpx.AsyncClient, anna: Account, name: str | None
) -> None:
    response = await client.post(f"{API}/api-keys", json={"name": name}, headers=anna.headers)

    assert_problem(response, 422, "request.validation_failed")


async def test_keys_need_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    assert_problem(
        await client.post(f"{API}/api-keys", json={"name": "x"}), 401, "auth.unauthenticated"
    )
    assert_problem(await client.get(f"{API}/api-keys"), 401, "auth.unauthenticated")


async def test_keys_cannot_be_made_in_someone_elses_workspace(
    client: httpx.AsyncClient, anna: Account, bob: Account
) -> None:
    response = await client.post(
        f"{API}/api-keys",
        json={"name": "sneaky"},
        headers=bob.in_workspace(anna.personal_workspace_id),
    )

    assert_problem(response, 404, "workspace.not_found")
    assert await listed_keys(client, anna.headers) == []


# --- a key is bound to its workspace ----------------------------------------------------------


async def test_a_key_ignores_the_workspace_header(
    client: httpx.AsyncClient, anna: Account, bob: Account
) -> None:
    team_a = await create_workspace(client, anna, "A")
    team_b = await create_workspace(client, anna, "B")
    in_a = await create_key(client, anna.in_workspace(team_a), name="in A")
    await create_key(client, anna.in_workspace(team_b), name="in B")
    await create_key(client, anna.headers, name="personal")

    for other in (team_b, anna.personal_workspace_id, bob.personal_workspace_id):
        items = await listed_keys(client, with_key(in_a["key"], **{"X-Workspace-ID": other}))
        assert [item["id"] for item in items] == [in_a["id"]]
        assert {item["workspaceId"] for item in items} == {team_a}

    # A key made with a key lands in the key's workspace too.
    made_with_key = await create_key(
        client, with_key(in_a["key"], **{"X-Workspace-ID": team_b}), name="child"
    )
    assert made_with_key["workspaceId"] == team_a


# --- revoking ---------------------------------------------------------------------------------


async def test_a_revoked_key_stops_working(client: httpx.AsyncClient, anna: Account) -> None:
    created = await create_key(client, anna.headers)
    assert (await client.get(f"{API}/auth/me", headers=with_key(created["key"]))).status_code == 200

    revoked = await client.delete(f"{API}/api-keys/{created['id']}", headers=anna.headers)

    assert revoked.status_code == 204
    assert revoked.content == b""
    assert_problem(
        await client.get(f"{API}/auth/me", headers=with_key(created["key"])),
        401,
        "auth.invalid_api_key",
    )
    assert_problem(
        await client.get(f"{API}/api-keys", headers=with_key(created["key"])),
        401,
        "auth.invalid_api_key",
    )
    assert await listed_keys(client, anna.headers) == []
    again = await client.delete(f"{API}/api-keys/{created['id']}", headers=anna.headers)
    assert_problem(again, 404, "api_key.not_found")


async def test_a_key_can_revoke_itself(client: httpx.AsyncClient, anna: Account) -> None:
    created = await create_key(client, anna.headers)

    revoked = await client.delete(
        f"{API}/api-keys/{created['id']}", headers=with_key(created["key"])
    )

    assert revoked.status_code == 204
    assert_problem(
        await client.get(f"{API}/auth/me", headers=with_key(created["key"])),
        401,
        "auth.invalid_api_key",
    )


async def test_nobody_else_revokes_my_key(
    client: httpx.AsyncClient, db: Database, anna: Account, bob: Account
) -> None:
    team = await create_workspace(client, anna, "Team")
    await add_member(db, team, bob.email, role="owner")
    personal = await create_key(client, anna.headers)
    in_team = await create_key(client, anna.in_workspace(team))

    attempts = [
        await client.delete(f"{API}/api-keys/{personal['id']}", headers=bob.headers),
        # Even an owner of the key's workspace cannot revoke someone else's key.
        await client.delete(f"{API}/api-keys/{in_team['id']}", headers=bob.in_workspace(team)),
        # Nor can anna revoke it from another workspace than its own.
        await client.delete(f"{API}/api-keys/{in_team['id']}", headers=anna.headers),
        await client.delete(f"{API}/api-keys/01ARZ3NDEKTSV4RRFFQ69G5FAV", headers=anna.headers),
    ]

    for response in attempts:
        assert_problem(response, 404, "api_key.not_found")
    for created in (personal, in_team):
        me = await client.get(f"{API}/auth/me", headers=with_key(created["key"]))
        assert me.status_code == 200


# --- expiry -----------------------------------------------------------------------------------


async def test_an_expired_key_does_not_authenticate(
    client: httpx.AsyncClient, db: Database, anna: Account
) -> None:
    created = await create_key(client, anna.headers, expiresAt="2999-01-01T00:00:00Z")
    async with db.sessionmaker() as session:
        await session.execute(
            update(ApiKey)
            .where(ApiKey.id == created["id"])
            .values(expires_at=datetime(2000, 1, 1, tzinfo=UTC))
        )
        await session.commit()

    response = await client.get(f"{API}/auth/me", headers=with_key(created["key"]))
    assert_problem(response, 401, "auth.invalid_api_key")


@pytest.mark.parametrize(
    "expires_at",
    ["2000-01-01T00:00:00Z", "2000-01-01T00:00:00", "2000-01-01T02:00:00+02:00"],
)
async def test_a_key_that_would_be_born_expired_is_refused(
    client: httpx.AsyncClient, anna: Account, expires_at: str
) -> None:
    response = await client.post(
        f"{API}/api-keys", json={"name": "late", "expiresAt": expires_at}, headers=anna.headers
    )

    body = assert_problem(response, 422, "request.validation_failed")
    assert body["errors"][0]["field"] == "expiresAt"
    assert await listed_keys(client, anna.headers) == []


@pytest.mark.parametrize("expires_at", [4102444800, "2100-01-01"])
async def test_an_expiry_is_an_iso_8601_timestamp(
    client: httpx.AsyncClient, anna: Account, expires_at: int | str
) -> None:
    # A Unix time and a bare date were taken for timestamps, which the schema does not admit.
    response = await client.post(
        f"{API}/api-keys", json={"name": "late", "expiresAt": expires_at}, headers=anna.headers
    )

    body = assert_problem(response, 422, "request.validation_failed")
    assert body["errors"][0]["field"] == "expiresAt"
    assert await listed_keys(client, anna.headers) == []


@pytest.mark.parametrize("expires_at", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"])
async def test_an_expiry_beyond_the_calendar_in_utc_is_a_validation_error(
    client: httpx.AsyncClient, anna: Account, expires_at: str
) -> None:
    response = await client.post(
        f"{API}/api-keys", json={"name": "edge", "expiresAt": expires_at}, headers=anna.headers
    )

    body = assert_problem(response, 422, "request.validation_failed")
    assert body["errors"][0]["field"] == "expiresAt"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2999-01-01T00:00:00", "2999-01-01T00:00:00Z"),
        ("2999-01-01T02:00:00+02:00", "2999-01-01T00:00:00Z"),
        ("2999-01-01T00:00:00Z", "2999-01-01T00:00:00Z"),
    ],
)
async def test_expiry_is_kept_in_utc(
    client: httpx.AsyncClient, anna: Account, given: str, stored: str
) -> None:
    created = await create_key(client, anna.headers, expiresAt=given)

    assert created["expiresAt"] == stored
    (listed,) = await listed_keys(client, anna.headers)
    assert listed["expiresAt"] == stored
    assert (await client.get(f"{API}/auth/me", headers=with_key(created["key"]))).status_code == 200


async def test_a_key_that_expires_while_in_use_stops(
    client: httpx.AsyncClient, db: Database, anna: Account
) -> None:
    created = await create_key(client, anna.headers, expiresAt="2999-01-01T00:00:00Z")
    assert (await client.get(f"{API}/auth/me", headers=with_key(created["key"]))).status_code == 200

    async with db.sessionmaker() as session:
        await session.execute(
            update(ApiKey)
            .where(ApiKey.id == created["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()

    assert_problem(
        await client.get(f"{API}/auth/me", headers=with_key(created["key"])),
        401,
        "auth.invalid_api_key",
    )


# --- membership ends, keys end ----------------------------------------------------------------


async def test_a_key_stops_when_its_maker_is_removed_from_the_workspace(
    client: httpx.AsyncClient, db: Database, anna: Account, bob: Account
) -> None:
    team = await create_workspace(client, anna, "Team")
    await add_member(db, team, bob.email)
    created = await create_key(client, bob.in_workspace(team))
    assert (await client.get(f"{API}/auth/me", headers=with_key(created["key"]))).status_code == 200

    removed = await client.delete(f"{API}/workspaces/{team}/members/{bob.id}", headers=anna.headers)

    assert removed.status_code == 204
    assert_problem(
        await client.get(f"{API}/auth/me", headers=with_key(created["key"])),
        401,
        "auth.invalid_api_key",
    )


async def test_a_key_stops_when_its_maker_leaves(
    client: httpx.AsyncClient, db: Database, anna: Account, bob: Account
) -> None:
    team = await create_workspace(client, anna, "Team")
    await add_member(db, team, bob.email)
    created = await create_key(client, bob.in_workspace(team))

    left = await client.delete(f"{API}/workspaces/{team}/members/{bob.id}", headers=bob.headers)

    assert left.status_code == 204
    assert_problem(
        await client.get(f"{API}/auth/me", headers=with_key(created["key"])),
        401,
        "auth.invalid_api_key",
    )


async def test_a_key_stops_when_its_workspace_is_deleted(
    client: httpx.AsyncClient, db: Database, anna: Account
) -> None:
    team = await create_workspace(client, anna, "Team")
    created = await create_key(client, anna.in_workspace(team))

    deleted = await client.delete(f"{API}/workspaces/{team}", headers=anna.headers)

    assert deleted.status_code == 204
    assert_problem(
        await client.get(f"{API}/auth/me", headers=with_key(created["key"])),
        401,
        "auth.invalid_api_key",
    )
    async with db.sessionmaker() as session:
        assert await session.get(ApiKey, created["id"]) is None


# --- bad keys and storage ---------------------------------------------------------------------


@pytest.mark.parametrize("key", ["pwk_not-a-real-key", "garbage", "pwk_", "x" * 500])
async def test_an_unknown_key_is_refused(
    client: httpx.AsyncClient, anna: Account, key: str
) -> None:
    await create_key(client, anna.headers)  # a real key exists; these are not it

    response = await client.get(f"{API}/auth/me", headers=with_key(key))

    assert_problem(response, 401, "auth.invalid_api_key")


async def test_a_bad_key_is_not_rescued_by_a_good_token(
    client: httpx.AsyncClient, anna: Account
) -> None:
    response = await client.get(f"{API}/auth/me", headers=with_key("pwk_wrong", **anna.headers))

    assert_problem(response, 401, "auth.invalid_api_key")


async def test_only_an_hmac_of_the_secret_is_stored(
    client: httpx.AsyncClient, db: Database, settings: Settings, anna: Account
) -> None:
    created = await create_key(client, anna.headers)
    key = created["key"]

    async with db.sessionmaker() as session:
        stored = await session.get_one(ApiKey, created["id"])
        assert stored.secret_hash != key
        assert stored.secret_hash == keyed_hash(settings.secret_key.get_secret_value(), key)
        assert stored.prefix == key[:12]
        for column in ApiKey.__table__.columns:
            assert key not in str(getattr(stored, column.key)), column.key

        # Nor does the secret sit anywhere else in the database.
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                assert not any(key in str(value) for value in row), table.name


# --- found bugs -------------------------------------------------------------------------------


async def test_a_key_an_admin_makes_in_a_foreign_workspace_works(
    client: httpx.AsyncClient, admin_headers: dict[str, str], anna: Account
) -> None:
    created = await create_key(
        client, {**admin_headers, "X-Workspace-ID": anna.personal_workspace_id}
    )

    assert created["workspaceId"] == anna.personal_workspace_id
    # A secret the API hands out with a 201 must work.
    me = await client.get(f"{API}/auth/me", headers=with_key(created["key"]))
    assert me.status_code == 200, me.text


async def test_the_owner_of_a_personal_workspace_stays_its_owner(
    client: httpx.AsyncClient, db: Database, anna: Account, bob: Account
) -> None:
    await add_member(db, anna.personal_workspace_id, bob.email, role="owner")
    base = f"{API}/workspaces/{anna.personal_workspace_id}/members/{anna.id}"
    removed = await client.delete(base, headers=bob.headers)
    demoted = await client.patch(base, json={"role": "member"}, headers=bob.headers)
    assert_problem(removed, 409, "workspace.personal")
    assert_problem(demoted, 409, "workspace.personal")
    # Bob, a co-owner, can still be demoted and removed.
    bob_membership = f"{API}/workspaces/{anna.personal_workspace_id}/members/{bob.id}"
    assert (await client.delete(bob_membership, headers=anna.headers)).status_code == 204
