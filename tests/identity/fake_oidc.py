"""An OpenID provider faked with respx at the HTTP layer the service's client uses: discovery,
JWKS and a token endpoint that checks the PKCE verifier and answers with an ID token the test
shapes (its claims, its key, its algorithm). The browser's side is the test's client over ASGI."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import respx
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

ISSUER = "https://id.example.com"
CLIENT_ID = "paperworks-test"
CLIENT_SECRET = "client-secret-0123456789-abcdefghijklmnop"
PROVIDER = "acme"
APP = "https://app.example.com/sso/done"
TOKEN_URL = f"{ISSUER}/oauth/token"
JWKS_URL = f"{ISSUER}/oauth/jwks"


def rsa_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned_token(claims: dict[str, Any]) -> str:
    """A JWT with `alg: none`: no signature at all."""
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


@dataclass
class AuthorizationRequest:
    """What the login route sent the browser to the provider with."""

    url: str
    params: dict[str, str]

    @property
    def state(self) -> str:
        return self.params["state"]

    @property
    def nonce(self) -> str:
        return self.params["nonce"]


@dataclass
class FakeProvider:
    router: respx.MockRouter
    keys: list[RSAKey] = field(default_factory=lambda: [rsa_key("key-1")])
    signing_key: RSAKey | None = None  # None: the first of `keys`
    claims: dict[str, Any] = field(default_factory=dict)  # override the ID token's defaults
    signer: Callable[[dict[str, Any]], str] | None = None  # sign it some other way
    token_status: int = 200
    token_error: dict[str, Any] | None = None
    authorizations: list[AuthorizationRequest] = field(default_factory=list)
    token_requests: list[httpx.Request] = field(default_factory=list)
    jwks_requests: int = 0

    def __post_init__(self) -> None:
        self.router.get(f"{ISSUER}/.well-known/openid-configuration").mock(
            return_value=httpx.Response(
                200,
                json={
                    "issuer": ISSUER,
                    "authorization_endpoint": f"{ISSUER}/oauth/authorize",
                    "token_endpoint": TOKEN_URL,
                    "jwks_uri": JWKS_URL,
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                },
            )
        )
        self.router.get(JWKS_URL).mock(side_effect=self._jwks)
        self.router.post(TOKEN_URL).mock(side_effect=self._token)

    def _jwks(self, request: httpx.Request) -> httpx.Response:
        self.jwks_requests += 1
        return httpx.Response(200, json={"keys": [key.as_dict(private=False) for key in self.keys]})

    def id_token_claims(self) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "sub": "subject-1",
            "email": "ada@example.com",
            "email_verified": True,
            "name": "Ada",
            "iat": now,
            "exp": now + 300,
            "nonce": self.authorizations[-1].nonce,
        }
        claims.update(self.claims)
        return {name: value for name, value in claims.items() if value is not None}

    def _token(self, request: httpx.Request) -> httpx.Response:
        self.token_requests.append(request)
        form = {name: values[0] for name, values in parse_qs(request.content.decode()).items()}
        authorization = self.authorizations[-1]
        # PKCE S256: the verifier sent now hashes to the challenge sent with the browser.
        digest = hashlib.sha256(form["code_verifier"].encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        assert challenge == authorization.params["code_challenge"]
        assert form["grant_type"] == "authorization_code"
        if self.token_error is not None:
            return httpx.Response(self.token_status, json=self.token_error)
        claims = self.id_token_claims()
        if self.signer is not None:
            id_token = self.signer(claims)
        else:
            key = self.signing_key or self.keys[0]
            id_token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
        return httpx.Response(
            200,
            json={
                "access_token": "provider-access-token",
                "token_type": "Bearer",
                "id_token": id_token,
            },
        )

    def hs256_with_client_secret(self, claims: dict[str, Any]) -> str:
        key = OctKey.import_key(CLIENT_SECRET)
        return jwt.encode({"alg": "HS256", "kid": self.keys[0].kid}, claims, key)


def provider_settings(**overrides: Any) -> dict[str, Any]:
    return {
        "name": PROVIDER,
        "display_name": "Acme ID",
        "issuer": ISSUER,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        **overrides,
    }


async def start_login(
    client: httpx.AsyncClient, fake: FakeProvider, *, provider: str = PROVIDER
) -> AuthorizationRequest:
    response = await client.get(f"/api/v1/auth/sso/{provider}/login", params={"redirectUrl": APP})
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    params = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
    authorization = AuthorizationRequest(url=location, params=params)
    fake.authorizations.append(authorization)
    return authorization


async def callback(
    client: httpx.AsyncClient,
    params: dict[str, str],
    *,
    provider: str = PROVIDER,
) -> httpx.Response:
    return await client.get(f"/api/v1/auth/sso/{provider}/callback", params=params)


def redirected_to_app(response: httpx.Response) -> dict[str, str]:
    """The query the browser was sent back to the app with."""
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(APP + "?"), location
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def refused_with(response: httpx.Response, code: str) -> None:
    query = redirected_to_app(response)
    assert query.get("error") == code, query
    assert "code" not in query
