"""Workspaces and their members over HTTP: listing, owners' actions, isolation, last owners."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from paperworks.kit.db import Database
from tests.accounts import add_member, create_workspace
from tests.identity.conftest import Account
from tests.problems import assert_problem

API = "/api/v1"
UNKNOWN_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"  # a well-formed ULID no row has


async def member_roles(
    client: httpx.AsyncClient, account: Account, workspace_id: str
) -> dict[str, str]:
    """email -> role of everyone in the workspace, as `account` sees it."""
    response = await client.get(f"{API}/workspaces/{workspace_id}/members", headers=account.headers)
    assert response.status_code == 200, response.text
    return {member["email"]: member["role"] for member in response.json()["items"]}


# --- listing and creating ---------------------------------------------------------------------


async def test_a_new_user_has_only_their_personal_workspace(
    client: httpx.AsyncClient, anna: Account, bob: Account
) -> None:
    response = await client.get(f"{API}/workspaces", headers=anna.headers)

    assert response.status_code == 200
    body = response.json()
    assert body["nextCursor"] is None
    (workspace,) = body["items"]
    assert workspace["id"] == anna.personal_workspace_id
    assert workspace["personal"] is True
    assert workspace["role"] == "owner"
    assert workspace["name"] == "Anna's workspace"
    assert {"createdAt", "updatedAt"} <= workspace.keys()


async def test_listing_workspaces_needs_a_credential(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/workspaces")

    assert_problem(response, 401, "auth.unauthenticated")


async def test_creating_a_workspace_makes_me_its_owner(
    client: httpx.AsyncClient, anna: Account, bob: Account
) -> None:
    response = await client.post(
        f"{API}/workspaces", json={"name": "  Team  "}, headers=anna.headers
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["name"] == "Team"  # surrounding blanks are trimmed
    assert created["role"] == "owner"
    assert created["personal"] is False

    listed = (await client.get(f"{API}/workspaces", headers=anna.headers)).json()["items"]
    assert {ws["id"]: ws["role"] for ws in listed} == {
        anna.personal_workspace_id: "owner",
        created["id"]: "owner",
    }
    # Nobody else sees it.
    bobs = (await client.get(f"{API}/workspaces", headers=bob.headers)).json()["items"]
    assert [ws["id"] for ws in bobs] == [bob.personal_workspace_id]


@pytest.mark.parametrize("name", ["", "   ", None, "x" * 201])
async def test_a_workspace_needs_a_sensible_name(
    client: httpx.AsyncClient, anna: Account, name: str | None
) -> None:
    response = await client.post(f"{API}/workspaces", json={"name": name}, headers=anna.headers)

    assert_problem(response, 422, "request.validation_failed")
    assert [error["field"] for error in response.json()["errors"]] == ["name"]


async def test_workspaces_are_paginated(client: httpx.AsyncClient, anna: Account) -> None:
    created = {await create_workspace(client, anna, f"Team {n}") for n in range(3)}

    first = await client.get(f"{API}/workspaces", params={"limit": 2}, headers=anna.headers)
    assert first.status_code == 200
    first_page = first.json()
    assert len(first_page["items"]) == 2
    assert first_page["nextCursor"]

    second = await client.get(
        f"{API}/workspaces",
        params={"limit": 2, "cursor": first_page["nextCursor"]},
        headers=anna.headers,
    )
    assert second.status_code == 200
    second_page = second.json()
    assert len(second_page["items"]) == 2
    assert second_page["nextCursor"] is None

    seen = [ws["id"] for ws in first_page["items"] + second_page["items"]]
    assert len(seen) == len(set(seen))
    assert set(seen) == created | {anna.personal_workspace_id}


@pytest.mark.parametrize("limit", [0, 101, "many"])
async def test_an_out_of_range_limit_is_refused(
    client: httpx.AsyncClient, anna: Account, limit: object
) -> None:
    response = await client.get(f"{API}/workspaces", params={"limit": limit}, headers=anna.headers)

    assert_problem(response, 422, "request.validation_failed")


# --- one workspace ----------------------------------------------------------------------------


async def test_an_owner_reads_and_renames_a_workspace(
    client: httpx.AsyncClient, anna: Account
) -> None:
    workspace_id = await create_workspace(client, anna, "Team")

    read = await client.get(f"{API}/workspaces/{workspace_id}", headers=anna.headers)
    assert read.status_code == 200
    assert read.json()["name"] == "Team"
    assert read.json()["role"] == "owner"

    renamed = await client.patch(
        f"{API}/workspaces/{workspace_id}", json={"name": "Renamed"}, headers=anna.headers
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Renamed"
    assert renamed.json()["role"] == "owner"
    assert datetime.fromisoformat(renamed.json()["updatedAt"]) >= datetime.fromisoformat(
        read.json()["updatedAt"]
    )

    again = await client.get(f"{API}/workspaces/{workspace_id}", headers=anna.headers)
    assert again.json()["name"] == "Renamed"


async def test_renaming_to_a_blank_name_is_refused(
    client: httpx.AsyncClient, anna: Account
) -> None:
    workspace_id = await create_workspace(client, anna, "Team")

    response = await client.patch(
        f"{API}/workspaces/{workspace_id}", json={"name": " "}, headers=anna.headers
    )

    assert_problem(response, 422, "request.validation_failed")


async def test_an_owner_deletes_a_workspace(
    client: httpx.AsyncClient, db: Database, anna: Account, bob: Account
) -> None:
    workspace_id = await create_workspace(client, anna, "Team")
    await add_member(db, workspace_id, bob.email)

    deleted = await client.delete(f"{API}/workspaces/{workspace_id}", headers=anna.headers)

    assert deleted.status_code == 204
    assert deleted.content == b""
    gone = await client.get(f"{API}/workspaces/{workspace_id}", headers=anna.headers)
    assert_problem(gone, 404, "workspace.not_found")
    # The memberships went with it.
    bobs = (await client.get(f"{API}/workspaces", headers=bob.headers)).json()["items"]
    assert [ws["id"] for ws in bobs] == [bob.personal_workspace_id]
    me = (await client.get(f"{API}/auth/me", headers=anna.headers)).json()
    assert [ws["id"] for ws in me["workspaces"]] == [anna.personal_workspace_id]


async def test_a_personal_workspace_cannot_be_deleted(
    client: httpx.AsyncClient, anna: Account
) -> None:
    response = await client.delete(
        f"{API}/workspaces/{anna.personal_workspace_id}", headers=anna.headers
    )

    assert_problem(response, 409, "workspace.personal")
    still = await client.get(f"{API}/workspaces/{anna.personal_workspace_id}", headers=anna.headers)
    assert still.status_code == 200


# --- isolation --------------------------------------------------------------------------------


async def test_someone_elses_workspace_does_not_exist_for_me(
    client: httpx.AsyncClient, anna: Account, bob: Account
) -> None:
    workspace_id = await create_workspace(client, anna, "Team")
    base = f"{API}/workspaces/{workspace_id}"
    attempts = [
        await client.get(base, headers=bob.headers),
        await client.patch(base, json={"name": "Mine now"}, headers=bob.headers),
        await client.delete(base, headers=bob.headers),
        await client.get(f"{base}/members", headers=bob.headers),
        await client.post(
            f"{base}/invitations", json={"email": bob.email, "role": "owner"}, headers=bob.headers
        ),
        await client.get(f"{base}/invitations", headers=bob.headers),
        await client.patch(
            f"{base}/members/{anna.id}", json={"role": "member"}, headers=bob.headers
        ),
        await client.delete(f"{base}/members/{anna.id}", headers=bob.headers),
    ]

    for response in attempts:
        assert_problem(response, 404, "workspace.not_found")
    # And nothing changed.
    read = (await client.get(base, headers=anna.headers)).json()
    assert read["name"] == "Team"
    assert await member_roles(client, anna, workspace_id) == {anna.email: "owner"}


async def test_someone_elses_personal_workspace_does_not_exist_for_me(
    client: httpx.AsyncClient, anna: Account, bob: Account
) -> None:
    base = f"{API}/workspaces/{anna.personal_workspace_id}"

    assert_problem(await client.get(base, headers=bob.headers), 404, "workspace.not_found")
    assert_problem(await client.delete(base, headers=bob.headers), 404, "workspace.not_found")


async def test_an_unknown_workspace_is_not_found(client: httpx.AsyncClient, anna: Account) -> None:
    base = f"{API}/workspaces/{UNKNOWN_ID}"

    assert_problem(await client.get(base, headers=anna.headers), 404, "workspace.not_found")
    assert_problem(
        await client.patch(base, json={"name": "x"}, headers=anna.headers),
        404,
        "workspace.not_found",
    )
    assert_problem(await client.delete(base, headers=anna.headers), 404, "workspace.not_found")
    assert_problem(
        await client.get(f"{base}/members", headers=anna.headers), 404, "workspace.not_found"
    )


async def test_acting_in_a_workspace_i_am_not_in_is_not_found(
    client: httpx.AsyncClient, anna: Account, bob: Account
) -> None:
    workspace_id = await create_workspace(client, anna, "Team")

    for foreign in (workspace_id, anna.personal_workspace_id, UNKNOWN_ID):
        response = await client.get(f"{API}/api-keys", headers=bob.in_workspace(foreign))
        assert_problem(response, 404, "workspace.not_found")


# --- members ----------------------------------------------------------------------------------


async def test_members_are_paginated(
    client: httpx.AsyncClient, db: Database, anna: Account, bob: Account, sign_up: Any
) -> None:
    await sign_up("carol@example.com")
    workspace_id = await create_workspace(client, anna, "Team")
    await add_member(db, workspace_id, bob.email)
    await add_member(db, workspace_id, "carol@example.com")
    url = f"{API}/workspaces/{workspace_id}/members"

    first = (await client.get(url, params={"limit": 2}, headers=anna.headers)).json()
    second = (
        await client.get(
            url, params={"limit": 2, "cursor": first["nextCursor"]}, headers=anna.headers
        )
    ).json()

    assert len(first["items"]) == 2
    assert first["nextCursor"]
    assert len(second["items"]) == 1
    assert second["nextCursor"] is None
    emails = {member["email"] for member in first["items"] + second["items"]}
    assert emails == {anna.email, bob.email, "carol@example.com"}


async def test_a_member_cannot_do_what_owners_do(
    client: httpx.AsyncClient, db: Database, anna: Account, bob: Account, sign_up: Any
) -> None:
    carol = await sign_up("carol@example.com")
    workspace_id = await create_workspace(client, anna, "Team")
    await add_member(db, workspace_id, bob.email)
    await add_member(db, workspace_id, carol.email)
    base = f"{API}/workspaces/{workspace_id}"

    attempts = [
        await client.patch(base, json={"name": "Bob's now"}, headers=bob.headers),
        await client.delete(base, headers=bob.headers),
        await client.post(
            f"{base}/invitations", json={"email": "dave@example.com"}, headers=bob.headers
        ),
        await client.get(f"{base}/invitations", headers=bob.headers),
        await client.patch(f"{base}/members/{bob.id}", json={"role": "owner"}, headers=bob.headers),
        await client.patch(
            f"{base}/members/{anna.id}", json={"role": "member"}, headers=bob.headers
        ),
        await client.delete(f"{base}/members/{carol.id}", headers=bob.headers),
        await client.delete(f"{base}/members/{anna.id}", headers=bob.headers),
    ]

    for response in attempts:
        assert_problem(response, 403, "auth.missing_permission")
    assert (await client.get(base, headers=anna.headers)).json()["name"] == "Team"
    assert await member_roles(client, anna, workspace_id) == {
        anna.email: "owner",
        bob.email: "member",
        carol.email: "member",
    }


# --- changing roles, removing, last owners ----------------------------------------------------


async def test_the_last_owner_can_neither_step_down_nor_leave(
    client: httpx.AsyncClient, db: Database, anna: Account, bob: Account
) -> None:
    workspace_id = await create_workspace(client, anna, "Team")
    await add_member(db, workspace_id, bob.email)
    base = f"{API}/workspaces/{workspace_id}/members"

    demote = await client.patch(f"{base}/{anna.id}", json={"role": "member"}, headers=anna.headers)
    leave = await client.delete(f"{base}/{anna.id}", headers=anna.headers)

    assert_problem(demote, 409, "member.last_owner")
    assert_problem(leave, 409, "member.last_owner")
    assert await member_roles(client, anna, workspace_id) == {
        anna.email: "owner",
        bob.email: "member",
    }


async def test_the_last_owner_of_a_personal_workspace_cannot_step_down(
    client: httpx.AsyncClient, anna: Account
) -> None:
    base = f"{API}/workspaces/{anna.personal_workspace_id}/members/{anna.id}"

    demote = await client.patch(base, json={"role": "member"}, headers=anna.headers)
    leave = await client.delete(base, headers=anna.headers)

    assert_problem(demote, 409, "workspace.personal")
    assert_problem(leave, 409, "workspace.personal")


async def test_owners_hand_over_and_step_down(
    client: httpx.AsyncClient, db: Database, anna: Account, bob: Account
) -> None:
    workspace_id = await create_workspace(client, anna, "Team")
    await add_member(db, workspace_id, bob.email)
    base = f"{API}/workspaces/{workspace_id}/members"

    promote = await client.patch(f"{base}/{bob.id}", json={"role": "owner"}, headers=anna.headers)
    assert promote.status_code == 200, promote.text
    assert promote.json()["userId"] == bob.id
    assert promote.json()["role"] == "owner"

    demote = await client.patch(f"{base}/{anna.id}", json={"role": "member"}, headers=anna.headers)
    assert demote.status_code == 200, demote.text
    assert demote.json()["role"] == "member"
    # Demoted, anna may no longer manage members.
    assert_problem(
        await client.patch(f"{base}/{anna.id}", json={"role": "owner"}, headers=anna.headers),
        403,
        "auth.missing_permission",
    )

    removed = await client.delete(f"{base}/{anna.id}", headers=bob.headers)
    assert removed.status_code == 204
    assert await member_roles(client, bob, workspace_id) == {bob.email: "owner"}
    assert_problem(
        await client.get(f"{API}/workspaces/{workspace_id}", headers=anna.headers),
        404,
        "workspace.not_found",
    )


async def test_one_of_two_owners_may_leave(
    client: httpx.AsyncClient, db: Database, anna: Account, bob: Account
) -> None:
    workspace_id = await create_workspace(client, anna, "Team")
    await add_member(db, workspace_id, bob.email, role="owner")

    leave = await client.delete(
        f"{API}/workspaces/{workspace_id}/members/{anna.id}", headers=anna.headers
    )

    assert leave.status_code == 204
    assert await member_roles(client, bob, workspace_id) == {bob.email: "owner"}


async def test_a_member_may_leave(
    client: httpx.AsyncClient, db: Database, anna: Account, bob: Account
) -> None:
    workspace_id = await create_workspace(client, anna, "Team")
    await add_member(db, workspace_id, bob.email)

    leave = await client.delete(
        f"{API}/workspaces/{workspace_id}/members/{bob.id}", headers=bob.headers
    )

    assert leave.status_code == 204
    assert await member_roles(client, anna, workspace_id) == {anna.email: "owner"}
    assert_problem(
        await client.get(f"{API}/workspaces/{workspace_id}", headers=bob.headers),
        404,
        "workspace.not_found",
    )


async def test_an_owner_removes_a_member(
    client: httpx.AsyncClient, db: Database, anna: Account, bob: Account
) -> None:
    workspace_id = await create_workspace(client, anna, "Team")
    await add_member(db, workspace_id, bob.email)

    removed = await client.delete(
        f"{API}/workspaces/{workspace_id}/members/{bob.id}", headers=anna.headers
    )

    assert removed.status_code == 204
    assert await member_roles(client, anna, workspace_id) == {anna.email: "owner"}
    bobs = (await client.get(f"{API}/workspaces", headers=bob.headers)).json()["items"]
    assert [ws["id"] for ws in bobs] == [bob.personal_workspace_id]


async def test_changing_or_removing_a_non_member_is_not_found(
    client: httpx.AsyncClient, anna: Account, bob: Account
) -> None:
    workspace_id = await create_workspace(client, anna, "Team")
    base = f"{API}/workspaces/{workspace_id}/members"

    for user_id in (bob.id, UNKNOWN_ID):
        change = await client.patch(
            f"{base}/{user_id}", json={"role": "owner"}, headers=anna.headers
        )
        remove = await client.delete(f"{base}/{user_id}", headers=anna.headers)
        assert_problem(change, 404, "member.not_found")
        assert_problem(remove, 404, "member.not_found")


async def test_changing_a_role_validates_it(client: httpx.AsyncClient, anna: Account) -> None:
    workspace_id = await create_workspace(client, anna, "Team")

    response = await client.patch(
        f"{API}/workspaces/{workspace_id}/members/{anna.id}",
        json={"role": "superuser"},
        headers=anna.headers,
    )

    assert_problem(response, 422, "request.validation_failed")


# --- admins -----------------------------------------------------------------------------------


async def test_an_admin_reaches_every_workspace(
    client: httpx.AsyncClient, admin_headers: dict[str, str], anna: Account, bob: Account
) -> None:
    headers = admin_headers
    workspace_id = await create_workspace(client, anna, "Team")
    base = f"{API}/workspaces/{workspace_id}"

    read = await client.get(base, headers=headers)
    assert read.status_code == 200, read.text
    assert read.json()["name"] == "Team"
    assert read.json()["role"] is None

    renamed = await client.patch(base, json={"name": "Audited"}, headers=headers)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Audited"
    assert renamed.json()["role"] is None
    assert (await client.get(base, headers=anna.headers)).json()["name"] == "Audited"

    assert await member_roles(client, anna, workspace_id) == {anna.email: "owner"}
    members = await client.get(f"{base}/members", headers=headers)
    assert members.status_code == 200
    assert [m["email"] for m in members.json()["items"]] == [anna.email]

    # An admin is not listed as a member of what they can reach.
    listed = (await client.get(f"{API}/workspaces", headers=headers)).json()["items"]
    assert workspace_id not in {ws["id"] for ws in listed}

    # A non-admin still cannot.
    assert_problem(await client.get(base, headers=bob.headers), 404, "workspace.not_found")
