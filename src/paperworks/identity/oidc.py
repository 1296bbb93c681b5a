"""The relying party's side of OpenID Connect, one configured provider at a time: discovery
(cached for the process), the authorization URL with PKCE (S256), the code exchange, and the ID
token's validation against the provider's published keys. No database here: `identity.sso` runs
the sign-in around it.

Authlib does the protocol: its `AsyncOAuth2Client` builds the authorization URL and exchanges the
code with the verifier (client authentication as the provider asks for it), and its
`CodeIDToken` rules check the claims. The signature is checked with joserfc (Authlib's own JOSE
library, which its OpenID client uses the same way): against the provider's JWKS, fetched again
once when a token names a key id it does not know (the provider rotated its keys), and only with
the asymmetric algorithms the provider advertises, so `alg: none` and an HS256 token signed with
the client secret are refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import httpx2
from authlib.integrations.httpx_client import (  # type: ignore[import-untyped]
    AsyncOAuth2Client,
    OAuthError,
)
from authlib.oidc.core import CodeIDToken  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import (
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet

from paperworks.identity import exceptions as errors
from paperworks.kit.logging import get_logger
from paperworks.settings import OidcProvider

log = get_logger(__name__)

DISCOVERY_PATH = "/.well-known/openid-configuration"
CALLBACK_PATH = "/api/v1/auth/sso/{provider}/callback"
# Signatures a provider's public keys can check. A symmetric one (HS256) would be checked with the
# client secret, which is no proof the provider signed; `none` is no signature at all.
ASYMMETRIC_ALGORITHMS = frozenset(
    {
        "RS256",
        "RS384",
        "RS512",
        "PS256",
        "PS384",
        "PS512",
        "ES256",
        "ES384",
        "ES512",
        "EdDSA",
        "Ed25519",
    }
)
CLOCK_SKEW_SECONDS = 60  # between the provider's clock and ours, for `exp`, `iat` and `nbf`
HTTP_TIMEOUT_SECONDS = 10.0
# Response headers that described the body as the provider sent it; httpx has decoded it.
_TRANSFER_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


@dataclass(frozen=True)
class ProviderMetadata:
    """What discovery says about a provider, as far as this sign-in needs it."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    signing_algorithms: tuple[str, ...]
    token_auth_methods: tuple[str, ...]

    @classmethod
    def from_document(cls, document: Any, issuer: str) -> ProviderMetadata:
        if not isinstance(document, dict):
            raise errors.SsoProviderUnavailable("The provider's discovery is not a JSON object.")
        # OpenID Connect Discovery 1.0, 4.3: the issuer it names must be the one asked for.
        if document.get("issuer") != issuer:
            raise errors.SsoProviderUnavailable(
                f"The provider's discovery names the issuer {document.get('issuer')!r}, "
                f"not the configured {issuer!r}."
            )
        endpoints = {}
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            value = document.get(name)
            if not isinstance(value, str) or not value.startswith(("https://", "http://")):
                raise errors.SsoProviderUnavailable(f"The provider's discovery has no {name}.")
            endpoints[name] = value
        advertised = document.get("id_token_signing_alg_values_supported") or ["RS256"]
        methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        return cls(
            issuer=issuer,
            signing_algorithms=tuple(alg for alg in advertised if alg in ASYMMETRIC_ALGORITHMS),
            token_auth_methods=tuple(str(method) for method in methods),
            **endpoints,
        )


@dataclass(frozen=True)
class ProviderIdentity:
    """Who the provider says signed in: the claims of a valid ID token that matter here."""

    subject: str
    email: str | None
    email_verified: bool
    name: str | None


class _ThroughHttpx(httpx2.AsyncBaseTransport):
    """Authlib's client is built on httpx2; this sends its requests through the service's httpx
    client, so the provider is reached with the same pool, timeouts and tracing as every other
    outbound call (and faked the same way in tests)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self._http.request(
            request.method,
            str(request.url),
            headers=list(request.headers.multi_items()),
            content=await request.aread(),
            timeout=HTTP_TIMEOUT_SECONDS,
        )
        headers = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in _TRANSFER_HEADERS
        ]
        return httpx2.Response(
            response.status_code, headers=headers, content=response.content, request=request
        )


class OidcClient:
    """One configured provider. Its discovery document is kept for `discovery_ttl` seconds and
    its keys with it, until a token names a key they lack."""

    def __init__(
        self,
        provider: OidcProvider,
        *,
        public_url: str,
        discovery_ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.provider = provider
        self.redirect_uri = public_url + CALLBACK_PATH.format(provider=provider.name)
        self._discovery_ttl = discovery_ttl
        self._clock = clock
        self._metadata: ProviderMetadata | None = None
        self._fetched_at = 0.0
        self._keys: KeySet | None = None

    @property
    def name(self) -> str:
        return self.provider.name

    async def metadata(self, http: httpx.AsyncClient) -> ProviderMetadata:
        now = self._clock()
        if self._metadata is None or now - self._fetched_at >= self._discovery_ttl:
            issuer = self.provider.issuer
            document = await _get_json(http, issuer.rstrip("/") + DISCOVERY_PATH, "discovery")
            self._metadata = ProviderMetadata.from_document(document, issuer)
            self._fetched_at = now
            self._keys = None  # the keys are fetched again with the new document
        return self._metadata

    def _oauth_client(self, http: httpx.AsyncClient, metadata: ProviderMetadata) -> Any:
        secret = self.provider.client_secret
        if secret is None:
            auth_method = "none"  # a public client: PKCE is its proof
        elif "client_secret_basic" in metadata.token_auth_methods:
            auth_method = "client_secret_basic"
        else:
            auth_method = "client_secret_post"
        return AsyncOAuth2Client(
            client_id=self.provider.client_id,
            client_secret=secret.get_secret_value() if secret is not None else None,
            token_endpoint_auth_method=auth_method,
            scope=" ".join(self.provider.scopes),
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            transport=_ThroughHttpx(http),
        )

    async def authorization_url(
        self, http: httpx.AsyncClient, *, state: str, nonce: str, code_verifier: str
    ) -> str:
        metadata = await self.metadata(http)
        async with self._oauth_client(http, metadata) as client:
            url, _ = client.create_authorization_url(
                metadata.authorization_endpoint,
                state=state,
                code_verifier=code_verifier,
                nonce=nonce,
            )
        return str(url)

    async def exchange_code(
        self, http: httpx.AsyncClient, *, code: str, code_verifier: str
    ) -> dict[str, Any]:
        """The provider's token response for `code` (with the PKCE verifier)."""
        metadata = await self.metadata(http)
        try:
            async with self._oauth_client(http, metadata) as client:
                token = await client.fetch_token(
                    metadata.token_endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                )
        except OAuthError as exc:
            raise errors.SsoCodeExchangeFailed(
                f"The provider refused the authorization code ({exc.error})."
            ) from exc
        except (httpx.HTTPError, httpx2.HTTPError, ValueError) as exc:
            raise errors.SsoCodeExchangeFailed(
                f"The provider's token endpoint failed: {type(exc).__name__}."
            ) from exc
        return dict(token)

    async def _key_set(self, http: httpx.AsyncClient, *, refresh: bool) -> KeySet:
        metadata = await self.metadata(http)
        if self._keys is None or refresh:
            document = await _get_json(http, metadata.jwks_uri, "keys (JWKS)")
            try:
                self._keys = KeySet.import_key_set(document)
            except (JoseError, KeyError, TypeError, ValueError) as exc:
                raise errors.SsoProviderUnavailable(
                    "The provider's JWKS holds no usable key."
                ) from exc
        return self._keys

    async def verify_id_token(
        self,
        http: httpx.AsyncClient,
        id_token: str,
        *,
        nonce: str,
        access_token: str | None,
    ) -> ProviderIdentity:
        metadata = await self.metadata(http)
        if not metadata.signing_algorithms:
            raise errors.SsoBadSignature(
                "The provider advertises no asymmetric signing algorithm for ID tokens."
            )
        keys = await self._key_set(http, refresh=False)
        try:
            try:
                token = jwt.decode(id_token, keys, algorithms=metadata.signing_algorithms)
            except InvalidKeyIdError:
                # A key id the cached set lacks: the provider may have rotated; ask once more.
                keys = await self._key_set(http, refresh=True)
                token = jwt.decode(id_token, keys, algorithms=metadata.signing_algorithms)
        except JoseError as exc:
            raise errors.SsoBadSignature(
                f"The ID token's signature does not check out ({exc.error})."
            ) from exc
        except (TypeError, ValueError) as exc:  # not even shaped like a JWT
            raise errors.SsoBadSignature("The ID token is not a signed JWT.") from exc
        claims = CodeIDToken(
            token.claims,
            token.header,
            {
                "iss": {"essential": True, "value": metadata.issuer},
                "aud": {"essential": True, "values": [self.provider.client_id]},
                "sub": {"essential": True},
                "exp": {"essential": True},
                "iat": {"essential": True},
            },
            {"nonce": nonce, "client_id": self.provider.client_id, "access_token": access_token},
        )
        try:
            claims.validate(leeway=CLOCK_SKEW_SECONDS)
        except ClaimError as exc:
            raise _claim_problem(exc) from exc
        except (JoseError, TypeError, ValueError) as exc:
            raise errors.SsoInvalidIdToken("The ID token's claims are malformed.") from exc
        email = claims.get("email")
        name = claims.get("name")
        return ProviderIdentity(
            subject=str(claims["sub"]),
            email=email.lower() if isinstance(email, str) and email else None,
            email_verified=claims.get("email_verified") is True,
            name=name if isinstance(name, str) and name.strip() else None,
        )


def _claim_problem(exc: ClaimError) -> errors.SsoInvalidIdToken:
    claim = exc.claim
    detail = f"The ID token's `{claim}` claim is not acceptable ({exc.description})."
    if isinstance(exc, ExpiredTokenError) or claim in {"exp", "iat", "nbf"}:
        return errors.SsoTokenExpired(detail)
    if claim == "iss":
        return errors.SsoWrongIssuer(detail)
    if claim in {"aud", "azp"}:
        return errors.SsoWrongAudience(detail)
    if claim == "nonce":
        return errors.SsoNonceMismatch(detail)
    if isinstance(exc, MissingClaimError):
        return errors.SsoInvalidIdToken(f"The ID token lacks claims it must have ({claim}).")
    return errors.SsoInvalidIdToken(detail)


async def _get_json(http: httpx.AsyncClient, url: str, what: str) -> Any:
    try:
        response = await http.get(url, timeout=HTTP_TIMEOUT_SECONDS)
        response.raise_for_status()
        return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("sso.provider_unavailable", url=url, what=what, error=type(exc).__name__)
        raise errors.SsoProviderUnavailable(
            f"The provider's {what} could not be read ({type(exc).__name__})."
        ) from exc


class SsoProviders:
    """The configured providers of this process, by name, each with its cached discovery."""

    def __init__(
        self, providers: list[OidcProvider], *, public_url: str, discovery_ttl: float
    ) -> None:
        self._clients = {
            provider.name: OidcClient(provider, public_url=public_url, discovery_ttl=discovery_ttl)
            for provider in providers
        }

    def __iter__(self) -> Iterator[OidcClient]:
        return iter(self._clients.values())

    def __contains__(self, name: object) -> bool:
        return name in self._clients

    def get(self, name: str) -> OidcClient:
        client = self._clients.get(name)
        if client is None:
            raise errors.UnknownProvider(f"No single sign-on provider is called {name!r}.")
        return client
