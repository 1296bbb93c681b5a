"""Single sign-on against a provider faked at the HTTP layer (respx): the browser's way through
login and callback, the accounts it finds, links and creates, and every way it can fail."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import delete, func, select, update

from paperworks.app import create_app
from paperworks.identity import sso
from paperworks.identity.models import SsoCode, SsoLogin, User, UserIdentity
from paperworks.kit.db import Database
from paperworks.settings import Settings
from tests.accounts import Account, SignUp
from tests.conftest import make_settings
from tests.identity.fake_oidc import (
    APP,
    CLIENT_ID,
    ISSUER,
    PROVIDER,
    FakeProvider,
    callback,
    provider_settings,
    redirected_to_app,
    refused_with,
    rsa_key,
    start_login,
    unsigned_token,
)
from tests.problems import assert_problem

CALLBACK_URL = f"http://testserver/api/v1/auth/sso/{PROVIDER}/callback"


@pytest.fixture
def provider_options() -> dict[str, Any]:
    """What a test changes in the provider's settings (parametrize it)."""
    return {}


@pytest.fixture
def settings(tmp_path: Any, database_url: str, provider_options: dict[str, Any]) -> Settings:
    return make_settings(
        tmp_path / "data",
        database_url=database_url,
        public_url="http://testserver",
        allowed_redirects=[APP],
        oidc_providers=[provider_settings(**provider_options)],
    )


@pytest.fixture
def fake(fake_http: Any) -> FakeProvider:
    return FakeProvider(fake_http)


async def sign_in(client: httpx.AsyncClient, fake: FakeProvider) -> httpx.Response:
    """Login, the provider's redirect back with a code, and our callback's answer."""
    authorization = await start_login(client, fake)
    return await callback(client, {"state": authorization.state, "code": "provider-code"})


async def tokens(client: httpx.AsyncClient, response: httpx.Response) -> dict[str, Any]:
    code = redirected_to_app(response)["code"]
    exchanged = await client.post("/api/v1/auth/sso/exchange", json={"code": code})
    assert exchanged.status_code == 200, exchanged.text
    body: dict[str, Any] = exchanged.json()
    return body


async def me(client: httpx.AsyncClient, access_token: str) -> dict[str, Any]:
    response = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {access_token}"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def identities(client: httpx.AsyncClient, access_token: str) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/v1/me/identities", headers={"Authorization": f"Bearer {access_token}"}
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def count(db: Database, model: Any) -> int:
    async with db.session_scope() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# --- the way there ------------------------------------------------------------------------------


async def test_the_providers_are_listed_with_their_login_url(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/auth/sso")

    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {
                "name": PROVIDER,
                "displayName": "Acme ID",
                "loginUrl": f"http://testserver/api/v1/auth/sso/{PROVIDER}/login",
            }
        ]
    }


async def test_login_sends_the_browser_to_the_provider_with_state_nonce_and_pkce(
    client: httpx.AsyncClient, fake: FakeProvider
) -> None:
    response = await client.get(f"/api/v1/auth/sso/{PROVIDER}/login", params={"redirectUrl": APP})

    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{ISSUER}/oauth/authorize"
    params = {name: values[0] for name, values in parse_qs(location.query).items()}
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == CALLBACK_URL
    assert params["scope"] == "openid email profile"
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43  # base64url of a SHA-256
    assert len(params["state"]) >= 32
    assert len(params["nonce"]) >= 32
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{sso.BROWSER_COOKIE}=")
    for attribute in ("HttpOnly", "SameSite=lax", "Path=/api/v1/auth/sso", "Max-Age=600"):
        assert attribute in cookie, cookie
    assert response.headers["cache-control"] == "no-store"

    again = await client.get(f"/api/v1/auth/sso/{PROVIDER}/login", params={"redirectUrl": APP})
    second = parse_qs(urlsplit(again.headers["location"]).query)
    assert second["state"][0] != params["state"]
    assert second["nonce"][0] != params["nonce"]


async def test_login_refuses_an_unknown_provider_and_a_redirect_not_allowed(
    client: httpx.AsyncClient, fake: FakeProvider
) -> None:
    unknown = await client.get("/api/v1/auth/sso/nobody/login", params={"redirectUrl": APP})
    assert_problem(unknown, 404, "sso.unknown_provider")

    elsewhere = await client.get(
        f"/api/v1/auth/sso/{PROVIDER}/login", params={"redirectUrl": "https://evil.example/"}
    )
    assert_problem(elsewhere, 422, "auth.redirect_not_allowed")
    assert "set-cookie" not in elsewhere.headers


async def test_a_provider_that_cannot_be_reached_sends_the_browser_back_with_an_error(
    client: httpx.AsyncClient, fake_http: Any
) -> None:
    fake_http.get(f"{ISSUER}/.well-known/openid-configuration").mock(
        return_value=httpx.Response(503)
    )

    response = await client.get(f"/api/v1/auth/sso/{PROVIDER}/login", params={"redirectUrl": APP})

    refused_with(response, "sso.provider_unavailable")


# --- accounts: found, linked, created ---------------------------------------------------------


async def test_a_new_verified_identity_creates_an_account_and_its_code_buys_tokens_once(
    client: httpx.AsyncClient, fake: FakeProvider
) -> None:
    response = await sign_in(client, fake)

    query = redirected_to_app(response)
    assert set(query) == {"code"}
    assert response.headers["referrer-policy"] == "no-referrer"
    signed_in = await tokens(client, response)
    assert signed_in["user"]["email"] == "ada@example.com"
    assert signed_in["user"]["name"] == "Ada"
    account = await me(client, signed_in["accessToken"])
    assert [w["role"] for w in account["workspaces"]] == ["owner"]  # a personal workspace
    (identity,) = await identities(client, signed_in["accessToken"])
    assert identity["provider"] == PROVIDER
    assert identity["subject"] == "subject-1"
    assert identity["email"] == "ada@example.com"
    # The token request authenticated the client and sent the code and the verifier.
    (token_request,) = fake.token_requests
    assert token_request.headers["authorization"].startswith("Basic ")
    assert b"code=provider-code" in token_request.content

    again = await client.post("/api/v1/auth/sso/exchange", json={"code": query["code"]})
    assert_problem(again, 401, "sso.invalid_code")


async def test_an_identity_already_linked_signs_in_to_its_account(
    client: httpx.AsyncClient, fake: FakeProvider, db: Database
) -> None:
    first = await tokens(client, await sign_in(client, fake))
    fake.claims = {"email": "ada.lovelace@example.com", "email_verified": False}

    second = await tokens(client, await sign_in(client, fake))

    assert second["user"]["id"] == first["user"]["id"]
    assert await count(db, User) == 1
    (identity,) = await identities(client, second["accessToken"])
    assert identity["email"] == "ada.lovelace@example.com"  # as the provider says it now


async def test_a_verified_email_links_the_account_that_has_it(
    client: httpx.AsyncClient, fake: FakeProvider, sign_up: SignUp
) -> None:
    ada = await sign_up("ada@example.com")

    signed_in = await tokens(client, await sign_in(client, fake))

    assert signed_in["user"]["id"] == ada.id
    assert [i["subject"] for i in await identities(client, ada.access_token)] == ["subject-1"]
    # Her password still works.
    login = await client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": "correct horse battery"}
    )
    assert login.status_code == 200


async def test_an_account_created_by_another_callback_at_the_same_moment_is_signed_in_to(
    client: httpx.AsyncClient,
    fake: FakeProvider,
    sign_up: SignUp,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Ada's account is committed by another browser's callback just after this one looked for
    # it: both of this callback's look-ups (its own and create_user's) still find nothing, so it
    # creates her again and meets the unique address.
    ada = await sign_up("ada@example.com")
    real_lookup = sso.service.user_by_email
    missed = 0

    async def lookup_before_the_other_commit(session: Any, email: str) -> User | None:
        nonlocal missed
        if missed < 2:
            missed += 1
            return None
        return await real_lookup(session, email)

    monkeypatch.setattr(sso.service, "user_by_email", lookup_before_the_other_commit)

    signed_in = await tokens(client, await sign_in(client, fake))

    assert missed == 2
    assert signed_in["user"]["id"] == ada.id
    assert await count(db, User) == 1
    assert [i["subject"] for i in await identities(client, ada.access_token)] == ["subject-1"]


async def test_an_unverified_email_links_nothing(
    client: httpx.AsyncClient, fake: FakeProvider, sign_up: SignUp, db: Database
) -> None:
    ada = await sign_up("ada@example.com")
    fake.claims = {"email_verified": False}

    refused_with(await sign_in(client, fake), "sso.email_not_verified")

    assert await identities(client, ada.access_token) == []
    assert await count(db, UserIdentity) == 0


async def test_an_unverified_or_missing_email_creates_no_account(
    client: httpx.AsyncClient, fake: FakeProvider, db: Database
) -> None:
    fake.claims = {"email_verified": None}  # not said at all
    refused_with(await sign_in(client, fake), "sso.email_not_verified")
    fake.claims = {"email": None}
    refused_with(await sign_in(client, fake), "sso.email_not_verified")

    assert await count(db, User) == 0


async def test_a_new_account_joins_the_providers_workspace_with_its_role(
    tmp_path: Any, database_url: str, db: Database, fake: FakeProvider, anna: Account
) -> None:
    created = await _anna_workspace(db, anna)
    settings = make_settings(
        tmp_path / "provisioning",
        database_url=database_url,
        public_url="http://testserver",
        allowed_redirects=[APP],
        oidc_providers=[provider_settings(workspace_id=created, default_role="admin")],
    )
    app = create_app(settings, db=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        signed_in = await tokens(browser, await sign_in(browser, fake))
        workspaces = (await me(browser, signed_in["accessToken"]))["workspaces"]

    roles = {w["id"]: w["role"] for w in workspaces}
    assert roles[created] == "admin"
    assert len(roles) == 2  # and the personal one


async def _anna_workspace(db: Database, anna: Account) -> str:
    from paperworks.identity import service

    async with db.session_scope() as session:
        user = await session.get_one(User, anna.id)
        workspace = await service.create_workspace(session, user, name="Acme")
        return workspace.id


@pytest.mark.parametrize("provider_options", [{"allow_signup": False}])
async def test_a_provider_without_sign_up_only_signs_in_existing_accounts(
    client: httpx.AsyncClient, fake: FakeProvider, sign_up: SignUp, db: Database
) -> None:
    refused_with(await sign_in(client, fake), "sso.signup_not_allowed")
    assert await count(db, User) == 0

    ada = await sign_up("ada@example.com")
    assert (await tokens(client, await sign_in(client, fake)))["user"]["id"] == ada.id


@pytest.mark.parametrize("provider_options", [{"allowed_domains": ["acme.example"]}])
async def test_an_address_outside_the_allowed_domains_is_refused(
    client: httpx.AsyncClient, fake: FakeProvider, db: Database
) -> None:
    refused_with(await sign_in(client, fake), "sso.domain_not_allowed")
    assert await count(db, User) == 0

    fake.claims = {"email": "ada@ACME.example"}
    signed_in = await tokens(client, await sign_in(client, fake))
    assert signed_in["user"]["email"] == "ada@acme.example"


# --- the ID token ------------------------------------------------------------------------------


async def test_rotated_keys_are_fetched_again_once(
    client: httpx.AsyncClient, fake: FakeProvider
) -> None:
    first = await tokens(client, await sign_in(client, fake))
    assert fake.jwks_requests == 1
    await tokens(client, await sign_in(client, fake))
    assert fake.jwks_requests == 1  # the keys were kept

    fake.keys = [rsa_key("key-2")]  # the provider rotated
    second = await tokens(client, await sign_in(client, fake))

    assert second["user"]["id"] == first["user"]["id"]
    assert fake.jwks_requests == 2


async def test_a_key_unknown_even_after_fetching_the_keys_again_is_a_bad_signature(
    client: httpx.AsyncClient, fake: FakeProvider
) -> None:
    fake.signing_key = rsa_key("not-the-providers")

    refused_with(await sign_in(client, fake), "sso.bad_signature")
    assert fake.jwks_requests == 2


async def test_a_known_key_id_with_another_keys_signature_is_a_bad_signature(
    client: httpx.AsyncClient, fake: FakeProvider
) -> None:
    forger = rsa_key("key-1")  # the provider's key id, someone else's key
    fake.signing_key = forger

    refused_with(await sign_in(client, fake), "sso.bad_signature")


async def test_an_unsigned_token_is_refused(client: httpx.AsyncClient, fake: FakeProvider) -> None:
    fake.signer = unsigned_token

    refused_with(await sign_in(client, fake), "sso.bad_signature")


async def test_an_hs256_token_signed_with_the_client_secret_is_refused(
    client: httpx.AsyncClient, fake: FakeProvider
) -> None:
    fake.signer = fake.hs256_with_client_secret

    refused_with(await sign_in(client, fake), "sso.bad_signature")


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"aud": "another-client"}, "sso.wrong_audience"),
        ({"aud": ["another-client", "a-third"]}, "sso.wrong_audience"),
        ({"iss": "https://impostor.example.com"}, "sso.wrong_issuer"),
        (
            {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 4000},
            "sso.token_expired",
        ),
        ({"iat": int(time.time()) + 3600}, "sso.token_expired"),  # issued in the future
        ({"nonce": "the-nonce-of-another-sign-in"}, "sso.nonce_mismatch"),
        ({"nonce": None}, "sso.nonce_mismatch"),
        ({"sub": None}, "sso.invalid_id_token"),
    ],
)
async def test_an_id_token_for_someone_or_something_else_is_refused(
    client: httpx.AsyncClient, fake: FakeProvider, db: Database, claims: dict[str, Any], code: str
) -> None:
    fake.claims = claims

    refused_with(await sign_in(client, fake), code)
    assert await count(db, UserIdentity) == 0


async def test_a_token_response_without_an_id_token_is_refused(
    client: httpx.AsyncClient, fake: FakeProvider, fake_http: Any
) -> None:
    fake_http.post(f"{ISSUER}/oauth/token").mock(
        return_value=httpx.Response(200, json={"access_token": "a", "token_type": "Bearer"})
    )

    refused_with(await sign_in(client, fake), "sso.invalid_id_token")


# --- the callback's other failures -------------------------------------------------------------


async def test_a_code_the_provider_will_not_exchange_is_refused(
    client: httpx.AsyncClient, fake: FakeProvider
) -> None:
    fake.token_status, fake.token_error = 400, {"error": "invalid_grant"}

    refused_with(await sign_in(client, fake), "sso.code_exchange_failed")


async def test_a_token_endpoint_that_fails_is_a_failed_exchange(
    client: httpx.AsyncClient, fake: FakeProvider, fake_http: Any
) -> None:
    fake_http.post(f"{ISSUER}/oauth/token").mock(return_value=httpx.Response(502, text="down"))

    refused_with(await sign_in(client, fake), "sso.code_exchange_failed")


async def test_the_providers_refusal_is_passed_on(
    client: httpx.AsyncClient, fake: FakeProvider
) -> None:
    authorization = await start_login(client, fake)

    response = await callback(
        client,
        {
            "state": authorization.state,
            "error": "access_denied",
            "error_description": "The user said no",
        },
    )

    query = redirected_to_app(response)
    assert query == {"error": "sso.provider_error", "providerError": "access_denied"}
    assert fake.token_requests == []


async def test_an_answer_naming_another_issuer_is_refused_before_its_code_is_used(
    client: httpx.AsyncClient, fake: FakeProvider
) -> None:
    authorization = await start_login(client, fake)

    response = await callback(
        client, {"state": authorization.state, "code": "c", "iss": "https://impostor.example"}
    )

    refused_with(response, "sso.wrong_issuer")
    assert fake.token_requests == []


async def test_discovery_is_kept_between_sign_ins(
    client: httpx.AsyncClient, fake: FakeProvider, fake_http: Any
) -> None:
    await tokens(client, await sign_in(client, fake))
    await tokens(client, await sign_in(client, fake))

    discovery = fake_http.routes[0]
    assert discovery.call_count == 1


async def test_discovery_is_read_again_after_its_time(
    tmp_path: Any, database_url: str, db: Database, fake: FakeProvider, fake_http: Any
) -> None:
    settings = make_settings(
        tmp_path / "uncached",
        database_url=database_url,
        public_url="http://testserver",
        allowed_redirects=[APP],
        oidc_providers=[provider_settings()],
        oidc_discovery_seconds=0,
    )
    transport = httpx.ASGITransport(app=create_app(settings, db=db))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        await tokens(browser, await sign_in(browser, fake))
        await tokens(browser, await sign_in(browser, fake))

    assert fake_http.routes[0].call_count >= 4  # each login and each callback asks again
    assert fake.jwks_requests == 2  # and the keys come with the new document


async def test_a_state_is_spent_by_its_first_callback(
    client: httpx.AsyncClient, fake: FakeProvider
) -> None:
    authorization = await start_login(client, fake)
    params = {"state": authorization.state, "code": "provider-code"}
    await tokens(client, await callback(client, params))

    refused_with(await callback(client, params), "sso.state_used")
    assert len(fake.token_requests) == 1


async def test_a_state_expires(client: httpx.AsyncClient, fake: FakeProvider, db: Database) -> None:
    authorization = await start_login(client, fake)
    async with db.session_scope() as session:  # as if 10 minutes had gone by
        await session.execute(
            update(SsoLogin).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )

    response = await callback(client, {"state": authorization.state, "code": "provider-code"})

    refused_with(response, "sso.state_expired")
    assert fake.token_requests == []


async def test_a_callback_replayed_in_another_browser_fails_and_spends_nothing(
    app: Any, client: httpx.AsyncClient, fake: FakeProvider
) -> None:
    authorization = await start_login(client, fake)
    params = {"state": authorization.state, "code": "provider-code"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        refused_with(await callback(other, params), "sso.browser_missing")
        await start_login(other, fake)  # the other browser has a cookie of its own now
        fake.authorizations.insert(-1, fake.authorizations.pop())  # the first one's nonce
        refused_with(await callback(other, params), "sso.browser_mismatch")

    # The browser that started it still can finish it.
    signed_in = await tokens(client, await callback(client, params))
    assert signed_in["user"]["email"] == "ada@example.com"


async def test_two_sign_ins_started_in_one_browser_both_finish(
    client: httpx.AsyncClient, fake: FakeProvider
) -> None:
    first = await start_login(client, fake)
    second = await start_login(client, fake)  # another tab: the same cookie

    fake.authorizations.append(first)  # the token endpoint answers with the first's nonce
    await tokens(client, await callback(client, {"state": first.state, "code": "c1"}))
    fake.authorizations.append(second)
    await tokens(client, await callback(client, {"state": second.state, "code": "c2"}))


async def test_a_callback_without_a_state_or_with_an_unknown_one_is_a_problem(
    client: httpx.AsyncClient, fake: FakeProvider
) -> None:
    assert_problem(await callback(client, {"code": "c"}), 400, "sso.state_missing")
    assert_problem(
        await callback(client, {"state": "made-up", "code": "c"}), 400, "sso.state_invalid"
    )
    assert_problem(
        await callback(client, {"state": "made-up"}, provider="nobody"), 404, "sso.unknown_provider"
    )


async def test_a_state_of_another_provider_is_unknown_here(
    tmp_path: Any, database_url: str, db: Database, fake: FakeProvider
) -> None:
    settings = make_settings(
        tmp_path / "two",
        database_url=database_url,
        public_url="http://testserver",
        allowed_redirects=[APP],
        oidc_providers=[provider_settings(), provider_settings(name="other")],
    )
    transport = httpx.ASGITransport(app=create_app(settings, db=db))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        authorization = await start_login(browser, fake)
        response = await callback(
            browser, {"state": authorization.state, "code": "c"}, provider="other"
        )

    assert_problem(response, 400, "sso.state_invalid")


async def test_a_code_expires(
    client: httpx.AsyncClient, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sso, "CODE_TTL", timedelta(seconds=-1))
    code = redirected_to_app(await sign_in(client, fake))["code"]

    response = await client.post("/api/v1/auth/sso/exchange", json={"code": code})

    assert_problem(response, 401, "sso.invalid_code")


# --- linked identities -------------------------------------------------------------------------


async def test_the_last_way_to_sign_in_cannot_be_unlinked(
    client: httpx.AsyncClient, fake: FakeProvider
) -> None:
    signed_in = await tokens(client, await sign_in(client, fake))  # no password
    headers = {"Authorization": f"Bearer {signed_in['accessToken']}"}
    (identity,) = await identities(client, signed_in["accessToken"])

    response = await client.delete(f"/api/v1/me/identities/{identity['id']}", headers=headers)

    assert_problem(response, 409, "identity.last_sign_in_method")
    assert len(await identities(client, signed_in["accessToken"])) == 1


async def test_an_identity_beside_a_password_can_be_unlinked(
    client: httpx.AsyncClient, fake: FakeProvider, sign_up: SignUp
) -> None:
    ada = await sign_up("ada@example.com")
    await tokens(client, await sign_in(client, fake))
    (identity,) = await identities(client, ada.access_token)

    response = await client.delete(f"/api/v1/me/identities/{identity['id']}", headers=ada.headers)

    assert response.status_code == 204
    assert await identities(client, ada.access_token) == []


async def test_anothers_identity_is_not_found(
    client: httpx.AsyncClient, fake: FakeProvider, anna: Account
) -> None:
    signed_in = await tokens(client, await sign_in(client, fake))
    (identity,) = await identities(client, signed_in["accessToken"])

    response = await client.delete(f"/api/v1/me/identities/{identity['id']}", headers=anna.headers)

    assert_problem(response, 404, "identity.not_found")


async def test_a_deleted_user_takes_its_identities_and_codes_along(
    client: httpx.AsyncClient, fake: FakeProvider, db: Database
) -> None:
    response = await sign_in(client, fake)
    redirected_to_app(response)
    assert await count(db, UserIdentity) == 1
    assert await count(db, SsoCode) == 1

    async with db.session_scope() as session:
        await session.execute(delete(User))

    assert await count(db, UserIdentity) == 0
    assert await count(db, SsoCode) == 0
