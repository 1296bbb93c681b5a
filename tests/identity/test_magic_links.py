"""Sign-in links: mailed through a real SMTP server on loopback, spent once, stored as a hash."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select, update

from paperworks.app import create_app
from paperworks.identity.models import MagicLink, User
from paperworks.kit.db import Database
from paperworks.kit.security import keyed_hash
from paperworks.settings import Settings
from tests.conftest import TEST_SECRET, make_settings
from tests.identity.conftest import PASSWORD, Account
from tests.mailbox import Inbox, SmtpSink, free_port, token_of
from tests.problems import assert_problem

MAGIC_LINK = "/api/v1/auth/magic-link"
VERIFY = "/api/v1/auth/magic-link/verify"
PUBLIC_URL = "https://paperworks.example"
MAIL_FROM = "Paperworks <sign-in@paperworks.example>"
WELCOME = "https://app.example/welcome"
CALLBACK_WITH_QUERY = "https://app.example/cb?x=1"
SUBJECT = "Your Paperworks sign-in link"
PROBLEM = "application/problem+json"


@pytest.fixture
def inbox(smtp: SmtpSink) -> Inbox:
    return smtp.inbox


@pytest.fixture
def settings(tmp_path: Path, database_url: str, smtp: SmtpSink) -> Settings:
    """Overrides the shared `settings`: `app`, `client` and `sign_up` then mail over SMTP."""
    return make_settings(
        tmp_path / "data",
        database_url=database_url,
        smtp_url=f"smtp://127.0.0.1:{smtp.port}?starttls=false",
        mail_from=MAIL_FROM,
        public_url=PUBLIC_URL,
        allowed_redirects=f"{WELCOME},{CALLBACK_WITH_QUERY}",
    )


@asynccontextmanager
async def client_for(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, db=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


# --- helpers ----------------------------------------------------------------------------------


async def request_link(
    client: httpx.AsyncClient, address: str, redirect_url: str | None = None
) -> httpx.Response:
    body: dict[str, str] = {"email": address}
    if redirect_url is not None:
        body["redirectUrl"] = redirect_url
    return await client.post(MAGIC_LINK, json=body)


async def verify(client: httpx.AsyncClient, token: Any) -> httpx.Response:
    return await client.post(VERIFY, json={"token": token})


async def magic_links_for(db: Database, address: str) -> list[MagicLink]:
    async with db.sessionmaker() as session:
        return list(await session.scalars(select(MagicLink).where(MagicLink.email == address)))


async def count_magic_links(db: Database) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(MagicLink)) or 0)


async def count_users(db: Database, address: str) -> int:
    async with db.sessionmaker() as session:
        query = select(func.count()).select_from(User).where(User.email == address)
        return int(await session.scalar(query) or 0)


# --- sign in ----------------------------------------------------------------------------------


async def test_sign_in_link_arrives_by_smtp_and_signs_in_the_user(
    client: httpx.AsyncClient, anna: Account, inbox: Inbox, settings: Settings
) -> None:
    response = await request_link(client, anna.email)

    assert response.status_code == 202, response.text
    assert response.json() == {
        "detail": "If this address can receive mail, a sign-in link is on its way."
    }
    received = inbox.only()
    assert received.rcpt_tos == [anna.email]
    assert received.message["To"] == anna.email
    assert received.message["From"] == settings.mail_from == MAIL_FROM
    assert received.message["Subject"] == SUBJECT
    assert received.link.startswith(f"{PUBLIC_URL}/auth/magic?token=")
    assert "15 minutes" in received.text

    signed_in = await verify(client, received.token)

    assert signed_in.status_code == 200, signed_in.text
    body = signed_in.json()
    assert body["user"]["id"] == anna.id
    assert body["user"]["email"] == anna.email
    assert body["accessToken"]
    assert body["refreshToken"]
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {body['accessToken']}"}
    )
    assert me.status_code == 200
    assert me.json()["id"] == anna.id
    assert [w["id"] for w in me.json()["workspaces"]] == [anna.personal_workspace_id]


async def test_address_is_matched_case_insensitively(
    client: httpx.AsyncClient, anna: Account, inbox: Inbox
) -> None:
    assert (await request_link(client, "ANNA@Example.COM")).status_code == 202

    received = inbox.only()
    assert received.rcpt_tos == ["anna@example.com"]
    signed_in = await verify(client, received.token)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["id"] == anna.id


async def test_each_link_signs_in_the_address_it_was_sent_to(
    client: httpx.AsyncClient, anna: Account, bob: Account, inbox: Inbox
) -> None:
    await request_link(client, anna.email)
    await request_link(client, bob.email)
    to_anna, to_bob = inbox.messages
    assert to_anna.rcpt_tos == [anna.email]
    assert to_bob.rcpt_tos == [bob.email]
    assert to_anna.token != to_bob.token

    assert (await verify(client, to_bob.token)).json()["user"]["id"] == bob.id
    assert (await verify(client, to_anna.token)).json()["user"]["id"] == anna.id


# --- passwordless sign-up ---------------------------------------------------------------------


async def test_first_link_for_a_new_address_creates_a_passwordless_account(
    client: httpx.AsyncClient, inbox: Inbox, db: Database
) -> None:
    address = "newcomer@example.com"
    assert (await request_link(client, address)).status_code == 202
    received = inbox.only()
    assert received.rcpt_tos == [address]
    assert await count_users(db, address) == 0  # the account waits for the link to be used

    signed_in = await verify(client, received.token)

    assert signed_in.status_code == 200, signed_in.text
    user = signed_in.json()["user"]
    assert user["email"] == address
    assert user["isAdmin"] is False
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {signed_in.json()['accessToken']}"}
    )
    assert me.status_code == 200
    assert me.json()["id"] == user["id"]
    (workspace,) = me.json()["workspaces"]
    assert workspace["role"] == "owner"
    assert await count_users(db, address) == 1

    # No password was ever set: none signs in.
    login = await client.post("/api/v1/auth/login", json={"email": address, "password": PASSWORD})
    assert_problem(login, 401, "auth.invalid_credentials")

    # A second link signs in to the same account rather than making another.
    await request_link(client, address)
    again = await verify(client, inbox.messages[-1].token)
    assert again.status_code == 200, again.text
    assert again.json()["user"]["id"] == user["id"]
    assert await count_users(db, address) == 1


# --- one use, expiry, storage -----------------------------------------------------------------


async def test_a_token_works_once(client: httpx.AsyncClient, anna: Account, inbox: Inbox) -> None:
    await request_link(client, anna.email)
    token = inbox.only().token

    assert (await verify(client, token)).status_code == 200
    assert_problem(await verify(client, token), 401, "auth.invalid_magic_link")
    assert_problem(await verify(client, token), 401, "auth.invalid_magic_link")


async def test_a_link_expires_after_magic_link_seconds(
    client: httpx.AsyncClient, anna: Account, inbox: Inbox, db: Database, settings: Settings
) -> None:
    await request_link(client, anna.email)
    (link,) = await magic_links_for(db, anna.email)
    ttl = link.expires_at - link.created_at
    assert abs(ttl - timedelta(seconds=settings.magic_link_seconds)) < timedelta(seconds=5)

    async with db.sessionmaker() as session:
        await session.execute(
            update(MagicLink)
            .where(MagicLink.id == link.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()

    assert_problem(await verify(client, inbox.only().token), 401, "auth.invalid_magic_link")
    (unused,) = await magic_links_for(db, anna.email)
    assert unused.used_at is None


async def test_a_used_link_is_marked_used(
    client: httpx.AsyncClient, anna: Account, inbox: Inbox, db: Database
) -> None:
    await request_link(client, anna.email)
    (before,) = await magic_links_for(db, anna.email)
    assert before.used_at is None

    await verify(client, inbox.only().token)

    (after,) = await magic_links_for(db, anna.email)
    assert after.used_at is not None
    assert after.created_at <= after.used_at <= after.expires_at


async def test_the_token_is_stored_only_as_a_keyed_hash(
    client: httpx.AsyncClient, anna: Account, inbox: Inbox, db: Database
) -> None:
    await request_link(client, anna.email)
    token = inbox.only().token
    assert len(token) >= 32

    (row,) = await magic_links_for(db, anna.email)
    assert row.token_hash != token
    assert row.token_hash == keyed_hash(TEST_SECRET, token)
    for column in MagicLink.__table__.columns:
        value = getattr(row, column.key)
        assert token not in str(value), f"magic_links.{column.name} holds the raw token"


async def test_the_token_never_reaches_the_logs(
    client: httpx.AsyncClient, anna: Account, inbox: Inbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    await request_link(client, anna.email)
    token = inbox.only().token
    await verify(client, token)

    assert any("mail_sent" in str(record.msg) for record in caplog.records)
    assert token not in caplog.text


# --- no enumeration ---------------------------------------------------------------------------


async def test_known_and_unknown_addresses_get_the_same_answer_and_a_mail(
    client: httpx.AsyncClient, anna: Account, inbox: Inbox
) -> None:
    known = await request_link(client, anna.email)
    unknown = await request_link(client, "stranger@example.com")

    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert known.headers["content-type"] == unknown.headers["content-type"]
    to_known, to_unknown = inbox.messages
    assert to_known.rcpt_tos == [anna.email]
    assert to_unknown.rcpt_tos == ["stranger@example.com"]
    assert to_known.message["Subject"] == to_unknown.message["Subject"] == SUBJECT
    # The mails differ only in their token.
    assert to_known.text.replace(to_known.token, "T") == to_unknown.text.replace(
        to_unknown.token, "T"
    )


# --- redirects --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("redirect_url", "prefix"),
    [
        (WELCOME, f"{WELCOME}?token="),
        (CALLBACK_WITH_QUERY, f"{CALLBACK_WITH_QUERY}&token="),
    ],
)
async def test_an_allowed_redirect_becomes_the_link(
    client: httpx.AsyncClient,
    anna: Account,
    inbox: Inbox,
    db: Database,
    redirect_url: str,
    prefix: str,
) -> None:
    response = await request_link(client, anna.email, redirect_url)

    assert response.status_code == 202, response.text
    received = inbox.only()
    assert received.link.startswith(prefix)
    query = parse_qs(urlsplit(received.link).query)
    assert set(query) == set(parse_qs(urlsplit(redirect_url).query)) | {"token"}
    (row,) = await magic_links_for(db, anna.email)
    assert row.redirect_url == redirect_url

    signed_in = await verify(client, received.token)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["id"] == anna.id


@pytest.mark.parametrize(
    "redirect_url",
    [
        "https://evil.example/welcome",
        "https://app.example/welcome/",
        "https://app.example/welcome?next=https://evil.example",
        "https://app.example/welcome.evil.example",
        "http://app.example/welcome",
        "https://app.example/cb",
        "https://app.example/cb?x=2",
        f"{PUBLIC_URL}/auth/magic",
        "",
    ],
)
async def test_a_redirect_not_allowed_is_refused_and_nothing_is_mailed(
    client: httpx.AsyncClient, anna: Account, inbox: Inbox, db: Database, redirect_url: str
) -> None:
    response = await request_link(client, anna.email, redirect_url)

    assert_problem(response, 422, "auth.redirect_not_allowed")
    assert inbox.messages == []
    assert await magic_links_for(db, anna.email) == []


# --- mail failures and the outbox -------------------------------------------------------------


async def test_mail_server_down_answers_503_and_keeps_no_link(
    tmp_path: Path, database_url: str, db: Database
) -> None:
    closed = free_port()
    settings = make_settings(
        tmp_path / "down",
        database_url=database_url,
        smtp_url=f"smtp://127.0.0.1:{closed}?starttls=false",
    )
    async with client_for(settings, db) as client:
        before = await count_magic_links(db)
        response = await request_link(client, "anna@example.com")

    assert_problem(response, 503, "mail.unavailable")
    assert "token" not in response.text
    assert await count_magic_links(db) == before
    assert await magic_links_for(db, "anna@example.com") == []


async def test_without_smtp_the_link_goes_to_the_outbox_file(
    tmp_path: Path, database_url: str, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path / "data", database_url=database_url)
    assert settings.smtp_url is None
    outbox = settings.data_dir / "outbox.jsonl"
    async with client_for(settings, db) as client:
        caplog.set_level(logging.DEBUG)
        response = await request_link(client, "Outbox@Example.com")
        assert response.status_code == 202, response.text

        (line,) = outbox.read_text(encoding="utf-8").splitlines()
        record = json.loads(line)
        assert record["to"] == "outbox@example.com"
        assert record["subject"] == SUBJECT
        assert record["sentAt"].endswith("Z")
        (link,) = re.findall(r"https?://\S+", record["text"])
        assert link.startswith(f"{settings.public_url}/auth/magic?token=")
        # The log says where the mail went, never what it says.
        assert any("mail_written_to_outbox" in str(r.msg) for r in caplog.records)
        assert token_of(link) not in caplog.text

        signed_in = await verify(client, token_of(link))

        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["user"]["email"] == "outbox@example.com"

        await request_link(client, "second@example.com")
        assert len(outbox.read_text(encoding="utf-8").splitlines()) == 2


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "",
        " ",
        "x" * 256,
        "\u00e9\u00e8\u4e2d\u6587",
        "' OR 1=1 --",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig",
    ],
)
async def test_a_garbage_token_is_401(client: httpx.AsyncClient, token: str) -> None:
    assert_problem(await verify(client, token), 401, "auth.invalid_magic_link")


@pytest.mark.parametrize("token", ["x" * 257, "x" * 10_000, None, 12345, ["a"], {"a": "b"}])
async def test_a_too_long_or_non_string_token_is_422(client: httpx.AsyncClient, token: Any) -> None:
    assert_problem(await verify(client, token), 422, "request.validation_failed")


async def test_a_missing_token_is_422(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post(VERIFY, json={}), 422, "request.validation_failed")


async def test_a_token_with_a_nul_byte_is_not_a_500(client: httpx.AsyncClient) -> None:
    assert_problem(await verify(client, "abc\u0000def"), 401, "auth.invalid_magic_link")


@pytest.mark.parametrize(
    "address",
    [
        "not-an-email",
        "",
        "anna@",
        "@example.com",
        "anna@@example.com",
        "anna example@example.com",
        "anna@example.com\r\nBcc: victim@example.com",
        "anna@example.com\nSubject: hijacked",
        "anna@example.com, bob@example.com",
        "a" * 300 + "@example.com",
        "anna\u0000@example.com",
    ],
)
async def test_a_malformed_email_is_422_and_nothing_is_mailed(
    client: httpx.AsyncClient, inbox: Inbox, db: Database, address: str
) -> None:
    before = await count_magic_links(db)

    response = await request_link(client, address)

    assert_problem(response, 422, "request.validation_failed")
    assert response.json()["errors"][0]["field"] == "email"
    assert inbox.messages == []
    assert await count_magic_links(db) == before


@pytest.mark.parametrize("body", [{}, {"email": None}, {"email": 42}, {"redirectUrl": WELCOME}])
async def test_a_request_without_a_usable_email_is_422(
    client: httpx.AsyncClient, inbox: Inbox, body: dict[str, Any]
) -> None:
    assert_problem(await client.post(MAGIC_LINK, json=body), 422, "request.validation_failed")
    assert inbox.messages == []


async def test_an_overlong_redirect_url_is_422(client: httpx.AsyncClient, inbox: Inbox) -> None:
    response = await request_link(client, "anna@example.com", WELCOME + "?" + "x" * 2000)

    assert_problem(response, 422, "request.validation_failed")
    assert inbox.messages == []
