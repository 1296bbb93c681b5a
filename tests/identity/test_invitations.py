"""Joining a workspace by invitation: mailed over SMTP, pending until the invited account accepts,
revocable, expiring, single use, and silent about whether an address has an account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from paperworks.app import create_app
from paperworks.identity.models import Invitation, User
from paperworks.kit.db import Database
from paperworks.kit.security import keyed_hash
from paperworks.settings import Settings
from tests.accounts import SignUp, add_member, create_workspace
from tests.conftest import TEST_SECRET, make_settings
from tests.identity.conftest import Account
from tests.mailbox import Inbox, SmtpSink
from tests.problems import assert_problem

API = "/api/v1"
ACCEPT = f"{API}/invitations/accept"
PUBLIC_URL = "https://paperworks.example"
UNKNOWN_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
INVITATION_KEYS = {"id", "workspaceId", "email", "role", "status", "expiresAt", "createdAt"}


@pytest.fixture
def inbox(smtp: SmtpSink) -> Inbox:
    return smtp.inbox


@pytest.fixture
def settings(tmp_path: Path, database_url: str, smtp: SmtpSink) -> Settings:
    """Overrides the shared `settings`: invitations go out over SMTP."""
    return make_settings(
        tmp_path / "data",
        database_url=database_url,
        smtp_url=f"smtp://127.0.0.1:{smtp.port}?starttls=false",
        public_url=PUBLIC_URL,
    )


async def invite(
    client: httpx.AsyncClient, owner: Account, workspace_id: str, email: str, **extra: Any
) -> httpx.Response:
    return await client.post(
        f"{API}/workspaces/{workspace_id}/invitations",
        json={"email": email, **extra},
        headers=owner.headers,
    )


async def invited_token(
    client: httpx.AsyncClient,
    inbox: Inbox,
    owner: Account,
    workspace_id: str,
    email: str,
    **extra: Any,
) -> str:
    """Invite `email` and return the token its mail carries."""
    response = await invite(client, owner, workspace_id, email, **extra)
    assert response.status_code == 201, response.text
    return inbox.messages[-1].token


async def accept(client: httpx.AsyncClient, account: Account, token: str) -> httpx.Response:
    return await client.post(ACCEPT, json={"token": token}, headers=account.headers)


async def my_workspaces(client: httpx.AsyncClient, account: Account) -> dict[str, str]:
    me = await client.get(f"{API}/auth/me", headers=account.headers)
    assert me.status_code == 200, me.text
    return {ws["id"]: ws["role"] for ws in me.json()["workspaces"]}


async def member_emails(client: httpx.AsyncClient, owner: Account, workspace_id: str) -> set[str]:
    response = await client.get(f"{API}/workspaces/{workspace_id}/members", headers=owner.headers)
    assert response.status_code == 200, response.text
    return {member["email"] for member in response.json()["items"]}


async def invitations(
    client: httpx.AsyncClient, owner: Account, workspace_id: str
) -> list[dict[str, Any]]:
    response = await client.get(
        f"{API}/workspaces/{workspace_id}/invitations", headers=owner.headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# --- inviting discloses nothing and adds nobody ----------------------------------------------


async def test_inviting_an_account_answers_as_for_any_address_and_adds_nobody(
    client: httpx.AsyncClient, db: Database, anna: Account, bob: Account
) -> None:
    team = await create_workspace(client, anna, "Team")

    known = await invite(client, anna, team, "BOB@example.com")  # matched case-insensitively
    unknown = await invite(client, anna, team, "carol@example.com")

    assert known.status_code == unknown.status_code == 201, known.text
    for response, email in ((known, bob.email), (unknown, "carol@example.com")):
        body = response.json()
        assert body.keys() == INVITATION_KEYS  # no user id, no name: nothing about an account
        assert body["email"] == email
        assert body["workspaceId"] == team
        assert body["role"] == "member"  # the default
        assert body["status"] == "pending"
        assert body["createdAt"].endswith("Z")
        expires = datetime.fromisoformat(body["expiresAt"])
        assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)
    # Nobody joined: not in bob's /auth/me, not among the members, and no account for carol.
    assert await my_workspaces(client, bob) == {bob.personal_workspace_id: "owner"}
    assert await member_emails(client, anna, team) == {anna.email}
    assert (await client.get(f"{API}/workspaces/{team}", headers=bob.headers)).status_code == 404
    async with db.session_scope() as session:
        carols = await session.scalar(
            select(func.count()).select_from(User).where(User.email == "carol@example.com")
        )
    assert carols == 0
    listed = await invitations(client, anna, team)
    assert {item["email"]: item["status"] for item in listed} == {
        bob.email: "pending",
        "carol@example.com": "pending",
    }


async def test_the_invitation_is_mailed_over_smtp_with_a_one_time_link(
    client: httpx.AsyncClient, db: Database, inbox: Inbox, anna: Account, bob: Account
) -> None:
    team = await create_workspace(client, anna, "Team")

    response = await invite(client, anna, team, bob.email, role="admin")

    assert response.status_code == 201, response.text
    mail = inbox.only()
    assert mail.rcpt_tos == [bob.email]
    assert "Team" in mail.message["Subject"]
    assert "Anna" in mail.text
    assert "admin" in mail.text
    assert mail.link.startswith(f"{PUBLIC_URL}/invitations/accept?token=")
    # The token is stored only as its keyed hash.
    async with db.session_scope() as session:
        stored = await session.get_one(Invitation, response.json()["id"])
    assert stored.token_hash == keyed_hash(TEST_SECRET, mail.token)
    assert mail.token not in {stored.token_hash, stored.email, stored.id}
    # The link opens a page that accepts it for a signed-in account.
    page = await client.get(f"/invitations/accept?token={mail.token}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"


# --- accepting ---------------------------------------------------------------------------------


async def test_the_invited_account_accepts_and_joins_with_the_role(
    client: httpx.AsyncClient, inbox: Inbox, anna: Account, bob: Account
) -> None:
    team = await create_workspace(client, anna, "Team")
    token = await invited_token(client, inbox, anna, team, bob.email, role="admin")

    joined = await accept(client, bob, token)

    assert joined.status_code == 200, joined.text
    assert joined.json()["id"] == team
    assert joined.json()["name"] == "Team"
    assert joined.json()["role"] == "admin"
    assert await my_workspaces(client, bob) == {bob.personal_workspace_id: "owner", team: "admin"}
    assert await member_emails(client, anna, team) == {anna.email, bob.email}
    (listed,) = await invitations(client, anna, team)
    assert listed["status"] == "accepted"
    # Single use.
    assert_problem(await accept(client, bob, token), 410, "invitation.used")


async def test_a_new_address_signs_up_then_accepts(
    client: httpx.AsyncClient, inbox: Inbox, anna: Account, sign_up: SignUp
) -> None:
    team = await create_workspace(client, anna, "Team")
    token = await invited_token(client, inbox, anna, team, "Carol@Example.com", role="owner")

    carol = await sign_up("carol@example.com")
    joined = await accept(client, carol, token)

    assert joined.status_code == 200, joined.text
    assert await my_workspaces(client, carol) == {
        carol.personal_workspace_id: "owner",
        team: "owner",
    }


async def test_another_account_cannot_accept_someone_elses_invitation(
    client: httpx.AsyncClient, inbox: Inbox, anna: Account, bob: Account, sign_up: SignUp
) -> None:
    mallory = await sign_up("mallory@example.com")
    team = await create_workspace(client, anna, "Team")
    token = await invited_token(client, inbox, anna, team, bob.email)

    refused = await accept(client, mallory, token)
    by_the_inviter = await accept(client, anna, token)

    assert_problem(refused, 403, "invitation.wrong_account")
    assert_problem(by_the_inviter, 403, "invitation.wrong_account")
    assert await my_workspaces(client, mallory) == {mallory.personal_workspace_id: "owner"}
    assert await member_emails(client, anna, team) == {anna.email}
    # The invitation is untouched: bob can still accept it.
    assert (await accept(client, bob, token)).status_code == 200


async def test_accepting_needs_a_signed_in_account_and_a_known_token(
    client: httpx.AsyncClient, inbox: Inbox, anna: Account, bob: Account
) -> None:
    team = await create_workspace(client, anna, "Team")
    token = await invited_token(client, inbox, anna, team, bob.email)

    anonymous = await client.post(ACCEPT, json={"token": token})
    unknown = await accept(client, bob, "not-a-token")
    malformed = await client.post(ACCEPT, json={}, headers=bob.headers)

    assert anonymous.status_code == 401
    assert_problem(unknown, 404, "invitation.not_found")
    assert_problem(malformed, 422, "request.validation_failed")
    assert await member_emails(client, anna, team) == {anna.email}


async def test_an_expired_invitation_is_refused(
    client: httpx.AsyncClient, db: Database, inbox: Inbox, anna: Account, bob: Account
) -> None:
    team = await create_workspace(client, anna, "Team")
    token = await invited_token(client, inbox, anna, team, bob.email)
    async with db.session_scope() as session:
        await session.execute(
            update(Invitation).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )

    assert_problem(await accept(client, bob, token), 410, "invitation.expired")
    assert await my_workspaces(client, bob) == {bob.personal_workspace_id: "owner"}
    (listed,) = await invitations(client, anna, team)
    assert listed["status"] == "expired"


async def test_the_expiry_is_a_setting(db: Database, settings: Settings, anna: Account) -> None:
    shorter = settings.model_copy(update={"invitation_seconds": 3600})
    transport = httpx.ASGITransport(app=create_app(shorter, db=db))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        team = await create_workspace(client, anna, "Team")
        response = await invite(client, anna, team, "carol@example.com")

    assert response.status_code == 201, response.text
    expires = datetime.fromisoformat(response.json()["expiresAt"])
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)


async def test_a_revoked_invitation_is_refused(
    client: httpx.AsyncClient, inbox: Inbox, anna: Account, bob: Account
) -> None:
    team = await create_workspace(client, anna, "Team")
    token = await invited_token(client, inbox, anna, team, bob.email)
    (pending,) = await invitations(client, anna, team)
    url = f"{API}/workspaces/{team}/invitations/{pending['id']}"

    revoked = await client.delete(url, headers=anna.headers)

    assert revoked.status_code == 204
    assert_problem(await accept(client, bob, token), 410, "invitation.revoked")
    assert (await client.delete(url, headers=anna.headers)).status_code == 204  # no change
    (listed,) = await invitations(client, anna, team)
    assert listed["status"] == "revoked"
    assert await my_workspaces(client, bob) == {bob.personal_workspace_id: "owner"}


async def test_an_accepted_invitation_cannot_be_revoked(
    client: httpx.AsyncClient, inbox: Inbox, anna: Account, bob: Account
) -> None:
    team = await create_workspace(client, anna, "Team")
    token = await invited_token(client, inbox, anna, team, bob.email)
    assert (await accept(client, bob, token)).status_code == 200
    (accepted,) = await invitations(client, anna, team)

    response = await client.delete(
        f"{API}/workspaces/{team}/invitations/{accepted['id']}", headers=anna.headers
    )

    assert_problem(response, 409, "invitation.accepted")


async def test_inviting_again_replaces_the_pending_invitation(
    client: httpx.AsyncClient, inbox: Inbox, anna: Account, bob: Account
) -> None:
    team = await create_workspace(client, anna, "Team")
    first = await invited_token(client, inbox, anna, team, bob.email)
    second = await invited_token(client, inbox, anna, team, bob.email, role="admin")

    (listed,) = await invitations(client, anna, team)
    assert listed["role"] == "admin"
    assert listed["status"] == "pending"
    assert_problem(await accept(client, bob, first), 404, "invitation.not_found")
    joined = await accept(client, bob, second)
    assert joined.status_code == 200, joined.text
    assert joined.json()["role"] == "admin"


async def test_a_revoked_or_expired_address_can_be_invited_again(
    client: httpx.AsyncClient, inbox: Inbox, anna: Account, bob: Account
) -> None:
    team = await create_workspace(client, anna, "Team")
    await invited_token(client, inbox, anna, team, bob.email)
    (first,) = await invitations(client, anna, team)
    await client.delete(f"{API}/workspaces/{team}/invitations/{first['id']}", headers=anna.headers)

    token = await invited_token(client, inbox, anna, team, bob.email)

    (listed,) = await invitations(client, anna, team)
    assert listed["status"] == "pending"
    assert (await accept(client, bob, token)).status_code == 200


async def test_members_are_not_invited(
    client: httpx.AsyncClient, db: Database, inbox: Inbox, anna: Account, bob: Account
) -> None:
    team = await create_workspace(client, anna, "Team")
    await add_member(db, team, bob.email)

    again = await invite(client, anna, team, bob.email, role="owner")
    myself = await invite(client, anna, team, anna.email)

    assert_problem(again, 409, "member.already_member")
    assert_problem(myself, 409, "member.already_member")
    assert inbox.messages == []
    assert await invitations(client, anna, team) == []


@pytest.mark.parametrize(
    "body", [{"email": "not-an-address"}, {"email": "x@example.com", "role": "superuser"}, {}]
)
async def test_an_invitation_validates_its_body(
    client: httpx.AsyncClient, anna: Account, body: dict[str, str]
) -> None:
    team = await create_workspace(client, anna, "Team")

    response = await client.post(
        f"{API}/workspaces/{team}/invitations", json=body, headers=anna.headers
    )

    assert_problem(response, 422, "request.validation_failed")


# --- who may invite -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["member", "admin"])
async def test_only_owners_manage_invitations(
    client: httpx.AsyncClient, db: Database, inbox: Inbox, anna: Account, bob: Account, role: str
) -> None:
    team = await create_workspace(client, anna, "Team")
    await add_member(db, team, bob.email, role=role)
    await invited_token(client, inbox, anna, team, "carol@example.com")
    (pending,) = await invitations(client, anna, team)
    base = f"{API}/workspaces/{team}/invitations"

    attempts = [
        await invite(client, bob, team, "dave@example.com"),
        await client.get(base, headers=bob.headers),
        await client.delete(f"{base}/{pending['id']}", headers=bob.headers),
    ]

    for response in attempts:
        assert_problem(response, 403, "auth.missing_permission")
    assert len(inbox.messages) == 1
    assert [item["status"] for item in await invitations(client, anna, team)] == ["pending"]


async def test_another_workspaces_invitations_are_not_found(
    client: httpx.AsyncClient, inbox: Inbox, anna: Account, bob: Account
) -> None:
    team = await create_workspace(client, anna, "Team")
    other = await create_workspace(client, anna, "Other")
    await invited_token(client, inbox, anna, team, "carol@example.com")
    (pending,) = await invitations(client, anna, team)
    base = f"{API}/workspaces/{team}/invitations"

    # Someone outside the workspace: it does not exist.
    for response in (
        await client.get(base, headers=bob.headers),
        await invite(client, bob, team, "dave@example.com"),
        await client.delete(f"{base}/{pending['id']}", headers=bob.headers),
    ):
        assert_problem(response, 404, "workspace.not_found")
    # An owner of two workspaces: one's invitation is not found through the other.
    through_other = await client.delete(
        f"{API}/workspaces/{other}/invitations/{pending['id']}", headers=anna.headers
    )
    unknown = await client.delete(f"{base}/{UNKNOWN_ID}", headers=anna.headers)
    assert_problem(through_other, 404, "invitation.not_found")
    assert_problem(unknown, 404, "invitation.not_found")
    assert await invitations(client, anna, other) == []
    assert [item["status"] for item in await invitations(client, anna, team)] == ["pending"]


async def test_members_can_no_longer_be_added_directly(
    client: httpx.AsyncClient, anna: Account, bob: Account
) -> None:
    team = await create_workspace(client, anna, "Team")

    response = await client.post(
        f"{API}/workspaces/{team}/members", json={"email": bob.email}, headers=anna.headers
    )

    assert response.status_code == 405
    assert await my_workspaces(client, bob) == {bob.personal_workspace_id: "owner"}
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert "post" not in paths[f"{API}/workspaces/{{workspace_id}}/members"]
    assert set(paths[f"{API}/workspaces/{{workspace_id}}/invitations"]) == {"get", "post"}
    assert "post" in paths[ACCEPT]
