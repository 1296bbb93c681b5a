"""Sign-up, sign-in, tokens and sessions over HTTP, as a user or an attacker sees them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from paperworks.app import create_app
from paperworks.identity import service
from paperworks.identity.models import User
from paperworks.kit.db import Database
from paperworks.kit.security import encode_token
from paperworks.settings import Settings
from tests.conftest import make_settings
from tests.identity.conftest import PASSWORD, Account, SignUp
from tests.problems import assert_problem

API = "/api/v1"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def claims_of(token: str) -> dict[str, Any]:
    """The payload of a token, unverified: what an attacker can read off any token."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


async def register(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> httpx.Response:
    return await client.post(f"{API}/auth/register", json={"email": email, "password": password})


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post(f"{API}/auth/login", json={"email": email, "password": password})


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(f"{API}/auth/refresh", json={"refreshToken": refresh_token})


ClientFor = Callable[[FastAPI], httpx.AsyncClient]


@pytest.fixture
async def client_for() -> AsyncIterator[ClientFor]:
    """Clients over other apps (other settings) sharing the test's database."""
    clients: list[httpx.AsyncClient] = []

    def make(app: FastAPI) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


# --- register ---------------------------------------------------------------------------------


async def test_register_returns_the_user_and_a_token_pair(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/auth/register",
        json={"email": "Anna.Smith@Example.COM", "password": PASSWORD, "name": "Anna"},
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["tokenType"] == "bearer"
    assert body["expiresIn"] == 900
    assert body["accessToken"]
    assert body["refreshToken"]
    assert body["accessToken"] != body["refreshToken"]
    user = body["user"]
    assert user["email"] == "anna.smith@example.com"
    assert user["name"] == "Anna"
    assert user["isAdmin"] is False
    assert {"id", "createdAt"} <= user.keys()
    assert not any("password" in key.lower() for key in user)


async def test_register_creates_a_personal_workspace_owned_by_the_user(
    client: httpx.AsyncClient,
) -> None:
    body = (await register(client, "anna@example.com")).json()

    me = await client.get(f"{API}/auth/me", headers=bearer(body["accessToken"]))

    assert me.status_code == 200, me.text
    assert me.json()["id"] == body["user"]["id"]
    assert me.json()["email"] == "anna@example.com"
    (workspace,) = me.json()["workspaces"]
    assert workspace["role"] == "owner"
    assert workspace["id"]


@pytest.mark.parametrize("email", ["anna@example.com", "ANNA@EXAMPLE.COM", "Anna@Example.com"])
async def test_an_email_is_taken_whatever_its_case(
    client: httpx.AsyncClient, anna: Account, email: str
) -> None:
    response = await register(client, email, "another password")

    assert_problem(response, 409, "user.email_taken")


async def test_an_address_registered_by_another_request_at_the_same_moment_is_taken(
    client: httpx.AsyncClient, anna: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The other request committed Anna's account just after this one looked for the address.
    monkeypatch.setattr(service, "user_by_email", _not_found_yet)

    response = await register(client, "anna@example.com", "another password")

    assert_problem(response, 409, "user.email_taken")


async def _not_found_yet(session: object, email: str) -> None:
    return None


# --- password limits --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        pytest.param("x" * 7, False, id="7-bytes"),
        pytest.param("x" * 8, True, id="8-bytes"),
        pytest.param("x" * 72, True, id="72-ascii-bytes"),
        pytest.param("x" * 73, False, id="73-ascii-bytes"),
        pytest.param("é" * 25, True, id="25-e-acute-50-bytes"),
        pytest.param("é" * 36, True, id="36-e-acute-72-bytes"),
        pytest.param("é" * 37, False, id="37-e-acute-74-bytes"),
        pytest.param("x" * 71 + "é", False, id="71-ascii-plus-e-acute-73-bytes"),
        pytest.param("🔑" * 19, False, id="19-emoji-76-bytes"),
    ],
)
async def test_passwords_are_limited_in_utf8_bytes(
    client: httpx.AsyncClient, password: str, accepted: bool
) -> None:
    response = await register(client, "limits@example.com", password)

    if accepted:
        assert response.status_code == 201, response.text
        assert (await login(client, "limits@example.com", password)).status_code == 200
    else:
        body = assert_problem(response, 422, "request.validation_failed")
        assert [error["field"] for error in body["errors"]] == ["password"]


async def test_a_password_over_72_bytes_is_refused_though_under_72_characters(
    client: httpx.AsyncClient,
) -> None:
    password = "é" * 37
    assert len(password) < 72

    response = await register(client, "accents@example.com", password)

    body = assert_problem(response, 422, "request.validation_failed")
    assert body["errors"][0]["field"] == "password"
    assert "72 bytes" in body["errors"][0]["message"]


def test_the_schema_says_the_password_rule_in_bytes_and_its_widest_character_bounds(
    app: FastAPI,
) -> None:
    schemas = app.openapi()["components"]["schemas"]
    password = schemas["RegisterRequest"]["properties"]["password"]
    assert "8 to 72 bytes" in password["description"]
    # Every password the byte rule accepts (2 four-byte characters to 72 ASCII ones) fits.
    assert (password["minLength"], password["maxLength"]) == (2, 72)


# --- login ------------------------------------------------------------------------------------


async def test_login_returns_a_fresh_token_pair(client: httpx.AsyncClient, anna: Account) -> None:
    response = await login(client, "anna@example.com")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"]["id"] == anna.id
    assert body["tokenType"] == "bearer"
    assert body["expiresIn"] == 900
    assert body["refreshToken"] != anna.refresh_token
    me = await client.get(f"{API}/auth/me", headers=bearer(body["accessToken"]))
    assert me.status_code == 200
    assert me.json()["id"] == anna.id


async def test_login_matches_the_email_whatever_its_case(
    client: httpx.AsyncClient, anna: Account
) -> None:
    response = await login(client, "ANNA@Example.Com")

    assert response.status_code == 200, response.text
    assert response.json()["user"]["id"] == anna.id


async def test_a_wrong_password_and_an_unknown_email_look_the_same(
    client: httpx.AsyncClient, anna: Account
) -> None:
    wrong_password = await login(client, "anna@example.com", "not her password")
    unknown_email = await login(client, "nobody@example.com", "not her password")

    assert_problem(wrong_password, 401, "auth.invalid_credentials")
    assert_problem(unknown_email, 401, "auth.invalid_credentials")
    assert wrong_password.json() == unknown_email.json()


async def test_login_with_a_password_that_was_never_acceptable_is_just_wrong(
    client: httpx.AsyncClient, anna: Account
) -> None:
    response = await login(client, "anna@example.com", "short")

    assert_problem(response, 401, "auth.invalid_credentials")


@pytest.mark.parametrize("email", ["anna@example.com", "nobody@example.com"])
async def test_login_with_a_password_over_72_bytes_is_invalid_credentials(
    client: httpx.AsyncClient, anna: Account, email: str
) -> None:
    response = await login(client, email, "x" * 73)

    assert_problem(response, 401, "auth.invalid_credentials")


async def test_token_form_with_a_password_over_72_bytes_is_invalid_credentials(
    client: httpx.AsyncClient, anna: Account
) -> None:
    response = await client.post(
        f"{API}/auth/token", data={"username": "anna@example.com", "password": "x" * 100}
    )

    assert_problem(response, 401, "auth.invalid_credentials")


async def test_login_upgrades_a_hash_made_with_other_parameters(
    client: httpx.AsyncClient, anna: Account, tmp_path: Path, database_url: str, db: Database
) -> None:
    async def stored_hash() -> str:
        async with db.sessionmaker() as session:
            password_hash = await session.scalar(
                select(User.password_hash).where(User.id == anna.id)
            )
        assert password_hash is not None
        return password_hash

    assert (await stored_hash()).startswith("$2b$04$")
    stronger = create_app(
        make_settings(tmp_path, database_url=database_url, password_hash_rounds=5), db=db
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=stronger), base_url="http://testserver"
    ) as stronger_client:
        response = await login(stronger_client, "anna@example.com")

    assert response.status_code == 200, response.text
    assert (await stored_hash()).startswith("$2b$05$")
    # The upgraded hash still checks out, at either cost.
    assert (await login(client, "anna@example.com")).status_code == 200


# --- OAuth2 password form ---------------------------------------------------------------------


async def test_token_form_signs_in_with_rfc6749_field_names(
    client: httpx.AsyncClient, anna: Account
) -> None:
    response = await client.post(
        f"{API}/auth/token", data={"username": "anna@example.com", "password": PASSWORD}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body.keys() == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    me = await client.get(f"{API}/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == anna.id
    assert (await refresh(client, body["refresh_token"])).status_code == 200


async def test_token_form_refuses_a_wrong_password(
    client: httpx.AsyncClient, anna: Account
) -> None:
    response = await client.post(
        f"{API}/auth/token", data={"username": "anna@example.com", "password": "wrong password"}
    )

    assert_problem(response, 401, "auth.invalid_credentials")


# --- /auth/me and token attacks ---------------------------------------------------------------


async def test_me_without_credentials_asks_for_them(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/auth/me")

    assert_problem(response, 401, "auth.unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    middle = len(payload) // 2
    swapped = "A" if payload[middle] != "A" else "B"
    return ".".join([header, payload[:middle] + swapped + payload[middle + 1 :], signature])


def signed_with_other_secret(token: str) -> str:
    return jwt.encode(claims_of(token), "another-secret-0123456789-abcdefghijklmnopqrstu", "HS256")


def alg_none_pyjwt(token: str) -> str:
    return jwt.encode(claims_of(token), None, algorithm="none")


def alg_none_by_hand(token: str) -> str:
    _, payload, _ = token.split(".")
    return f"{b64url_json({'alg': 'none', 'typ': 'JWT'})}.{payload}."


def rs256_header_hmac_signed(token: str, secret: str) -> str:
    _, payload, _ = token.split(".")
    signing_input = f"{b64url_json({'alg': 'RS256', 'typ': 'JWT'})}.{payload}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


@pytest.mark.parametrize(
    "attack",
    [
        "tampered-payload",
        "other-secret",
        "alg-none-pyjwt",
        "alg-none-by-hand",
        "rs256-hs256-confusion",
        "expired",
        "refresh-as-access",
        "garbage",
        "empty-signature",
    ],
)
async def test_me_refuses_a_forged_or_unfit_token(
    client: httpx.AsyncClient, anna: Account, settings: Settings, attack: str
) -> None:
    secret = settings.secret_key.get_secret_value()
    token = anna.access_token
    forged = {
        "tampered-payload": lambda: tampered(token),
        "other-secret": lambda: signed_with_other_secret(token),
        "alg-none-pyjwt": lambda: alg_none_pyjwt(token),
        "alg-none-by-hand": lambda: alg_none_by_hand(token),
        "rs256-hs256-confusion": lambda: rs256_header_hmac_signed(token, secret),
        "expired": lambda: encode_token(
            secret, subject=anna.id, token_type="access", ttl=timedelta(seconds=-1), jti="x"
        ),
        "refresh-as-access": lambda: anna.refresh_token,
        "garbage": lambda: "not-a-jwt",
        "empty-signature": lambda: token.rsplit(".", 1)[0] + ".",
    }[attack]()
    assert forged != token

    response = await client.get(f"{API}/auth/me", headers=bearer(forged))

    assert_problem(response, 401, "auth.invalid_token")


async def test_me_accepts_the_untampered_token(
    client: httpx.AsyncClient, anna: Account, settings: Settings
) -> None:
    """The forgeries above fail for what was forged, not because every token does."""
    secret = settings.secret_key.get_secret_value()
    same_claims = jwt.encode(claims_of(anna.access_token), secret, algorithm="HS256")

    response = await client.get(f"{API}/auth/me", headers=bearer(same_claims))

    assert response.status_code == 200, response.text
    assert response.json()["id"] == anna.id


# --- refresh ----------------------------------------------------------------------------------


async def test_refresh_returns_a_new_working_pair(client: httpx.AsyncClient, anna: Account) -> None:
    response = await refresh(client, anna.refresh_token)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["accessToken"] != anna.access_token
    assert body["refreshToken"] != anna.refresh_token
    assert body["user"]["id"] == anna.id
    me = await client.get(f"{API}/auth/me", headers=bearer(body["accessToken"]))
    assert me.status_code == 200
    assert me.json()["id"] == anna.id


async def test_a_reused_refresh_token_revokes_its_whole_family(
    client: httpx.AsyncClient, anna: Account
) -> None:
    rotated = (await refresh(client, anna.refresh_token)).json()

    replay = await refresh(client, anna.refresh_token)
    assert_problem(replay, 401, "auth.refresh_token_reused")

    # The revocation outlived the 401: the legitimate holder's newer token is dead too.
    after = await refresh(client, rotated["refreshToken"])
    assert after.status_code == 401, after.text
    assert_problem(after, 401, "auth.signed_out")


async def test_another_sign_in_survives_a_revoked_family(
    client: httpx.AsyncClient, anna: Account
) -> None:
    other_session = (await login(client, "anna@example.com")).json()
    await refresh(client, anna.refresh_token)
    assert (await refresh(client, anna.refresh_token)).status_code == 401

    response = await refresh(client, other_session["refreshToken"])

    assert response.status_code == 200, response.text
    assert (await refresh(client, response.json()["refreshToken"])).status_code == 200


async def test_refresh_refuses_an_access_token(client: httpx.AsyncClient, anna: Account) -> None:
    response = await refresh(client, anna.access_token)

    assert_problem(response, 401, "auth.invalid_token")


async def test_refresh_refuses_a_forged_refresh_token(
    client: httpx.AsyncClient, anna: Account
) -> None:
    forged = signed_with_other_secret(anna.refresh_token)

    response = await refresh(client, forged)

    assert_problem(response, 401, "auth.invalid_token")
    # The forgery spent nothing: the real token still works.
    assert (await refresh(client, anna.refresh_token)).status_code == 200


# --- logout -----------------------------------------------------------------------------------


async def test_logout_revokes_the_session_and_only_that_one(
    client: httpx.AsyncClient, anna: Account
) -> None:
    other_session = (await login(client, "anna@example.com")).json()

    response = await client.post(f"{API}/auth/logout", json={"refreshToken": anna.refresh_token})

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert (await refresh(client, anna.refresh_token)).status_code == 401
    assert (await refresh(client, other_session["refreshToken"])).status_code == 200


async def test_a_refresh_after_logout_says_the_session_was_signed_out(
    client: httpx.AsyncClient, anna: Account
) -> None:
    await client.post(f"{API}/auth/logout", json={"refreshToken": anna.refresh_token})

    response = await refresh(client, anna.refresh_token)

    body = assert_problem(response, 401, "auth.signed_out")
    assert "signed out" in body["detail"]
    assert "already used" not in body["detail"]


async def test_logout_also_revokes_tokens_rotated_from_it(
    client: httpx.AsyncClient, anna: Account
) -> None:
    rotated = (await refresh(client, anna.refresh_token)).json()

    response = await client.post(
        f"{API}/auth/logout", json={"refreshToken": rotated["refreshToken"]}
    )

    assert response.status_code == 204
    assert (await refresh(client, rotated["refreshToken"])).status_code == 401


async def test_logout_refuses_an_access_token(client: httpx.AsyncClient, anna: Account) -> None:
    response = await client.post(f"{API}/auth/logout", json={"refreshToken": anna.access_token})

    assert_problem(response, 401, "auth.invalid_token")


# --- rate limiting per principal --------------------------------------------------------------


async def test_rate_limits_count_users_by_token_and_sign_in_by_address(
    tmp_path: Path, database_url: str, db: Database, client_for: ClientFor
) -> None:
    settings = make_settings(
        tmp_path,
        database_url=database_url,
        rate_limit_anonymous="2/minute",
        rate_limit_authenticated="50/minute",
    )
    limited = client_for(create_app(settings, db=db))

    signed_up = await register(limited, "carol@example.com")  # anonymous request 1 of 2
    assert signed_up.status_code == 201, signed_up.text
    assert signed_up.headers["ratelimit-limit"] == "2"
    headers = bearer(signed_up.json()["accessToken"])

    for _ in range(5):
        me = await limited.get(f"{API}/auth/me", headers=headers)
        assert me.status_code == 200, me.text
        assert me.headers["ratelimit-limit"] == "50"

    # A token does not buy sign-in attempts: login keeps the per-address budget.
    first = await limited.post(
        f"{API}/auth/login",
        json={"email": "carol@example.com", "password": PASSWORD},
        headers=headers,
    )
    assert first.status_code == 200, first.text
    assert first.headers["ratelimit-limit"] == "2"
    second = await limited.post(
        f"{API}/auth/login",
        json={"email": "carol@example.com", "password": PASSWORD},
        headers=headers,
    )
    assert_problem(second, 429, "rate_limit.exceeded")
    assert int(second.headers["retry-after"]) >= 1

    # The user's own budget is untouched by that.
    assert (await limited.get(f"{API}/auth/me", headers=headers)).status_code == 200


async def test_signed_up_sign_in_attempts_share_the_address_budget_without_a_token(
    tmp_path: Path, database_url: str, db: Database, client_for: ClientFor, sign_up: SignUp
) -> None:
    await sign_up("dave@example.com")  # on the default app: its own limiter
    settings = make_settings(tmp_path, database_url=database_url, rate_limit_anonymous="2/minute")
    limited = client_for(create_app(settings, db=db))

    statuses = [
        (await login(limited, "dave@example.com", f"guess number {n}")).status_code
        for n in range(3)
    ]

    assert statuses == [401, 401, 429]
