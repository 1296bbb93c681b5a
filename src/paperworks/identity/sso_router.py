"""Single sign-on's HTTP surface under /api/v1: the providers, the browser's way to and back from
one, the code for tokens, and the identities linked to my account."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Query, Response, status
from fastapi.responses import RedirectResponse

from paperworks.identity import exceptions as errors
from paperworks.identity import schemas, service, sso
from paperworks.identity.dependencies import CurrentUser, IdentityConfigDep
from paperworks.identity.router import AUTH, NO_STORE, signed_in
from paperworks.kit.errors import AppError, problem_responses
from paperworks.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from paperworks.services import ServicesDep, SessionDep

router = APIRouter(prefix="/api/v1")

SSO_PATH = "/api/v1/auth/sso"
BrowserCookie = Annotated[
    str | None,
    Cookie(
        alias=sso.BROWSER_COOKIE,
        max_length=100,
        description="Set by the login route: binds the sign-in to this browser",
    ),
]
# What the provider's redirect carries; generous bounds, none of it is stored as sent.
ProviderParam = Annotated[str | None, Query(max_length=2048)]

# The errors a sign-in that is under way ends with: the browser is sent back to its redirectUrl
# with `?error=<code>`.
REDIRECTED_ERRORS: tuple[type[AppError], ...] = (
    errors.SsoBrowserMissing,
    errors.SsoBrowserMismatch,
    errors.SsoStateExpired,
    errors.SsoStateUsed,
    errors.SsoProviderError,
    errors.SsoProviderUnavailable,
    errors.SsoCodeExchangeFailed,
    errors.SsoInvalidIdToken,
    errors.SsoBadSignature,
    errors.SsoWrongIssuer,
    errors.SsoWrongAudience,
    errors.SsoTokenExpired,
    errors.SsoNonceMismatch,
    errors.SsoEmailNotVerified,
    errors.SsoDomainNotAllowed,
    errors.SsoSignupNotAllowed,
)


def _redirect_doc(description: str, *redirected: type[AppError]) -> dict[int | str, Any]:
    listed = "".join(f"\n- `{error.code}`: {error.title}" for error in redirected)
    return {
        status.HTTP_302_FOUND: {
            "description": description + (f" The error codes:{listed}" if listed else ""),
            "headers": {"Location": {"schema": {"type": "string"}}},
        }
    }


def _redirect(url: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=status.HTTP_302_FOUND)
    response.headers["Cache-Control"] = "no-store"
    # The URL may carry a state or a one-time code: no Referer to the next site.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _login_url(config: service.IdentityConfig, provider: str) -> str:
    return f"{config.public_url}{SSO_PATH}/{provider}/login"


@router.get(
    "/auth/sso",
    tags=[AUTH],
    summary="The single sign-on providers, each with its login URL",
)
async def list_providers(config: IdentityConfigDep) -> schemas.SsoProviderList:
    return schemas.SsoProviderList(
        items=[
            schemas.SsoProviderOut(
                name=client.name,
                display_name=client.provider.label,
                login_url=_login_url(config, client.name),
            )
            for client in config.sso
        ]
    )


@router.get(
    "/auth/sso/{provider}/login",
    tags=[AUTH],
    status_code=status.HTTP_302_FOUND,
    response_class=RedirectResponse,
    summary="Sign in with a provider: the browser goes there (OpenID Connect, PKCE)",
    description=(
        "Open in the browser (a navigation, not a fetch). It is sent to the provider with a "
        "single-use `state` (10 minutes), a `nonce` and a PKCE S256 challenge, and gets an "
        "HttpOnly cookie that binds the sign-in to it. The provider sends it back to the "
        "callback, which ends at `redirectUrl`."
    ),
    responses={
        **_redirect_doc(
            "To the provider's authorization endpoint; or, when the provider cannot be "
            "reached, back to `redirectUrl` with `?error=`.",
            errors.SsoProviderUnavailable,
        ),
        **problem_responses(errors.UnknownProvider, errors.RedirectNotAllowed),
    },
)
async def sso_login(
    provider: str,
    redirect_url: Annotated[str, Query(alias="redirectUrl", max_length=2000)],
    session: SessionDep,
    config: IdentityConfigDep,
    services: ServicesDep,
    browser: BrowserCookie = None,
) -> Response:
    try:
        started = await sso.start_login(
            session,
            config,
            services.http,
            provider=provider,
            redirect_url=redirect_url,
            browser_secret=browser,
        )
    except errors.SsoError as exc:  # only once redirectUrl is known to be allowed
        return _redirect(sso.with_params(redirect_url, error=exc.code))
    response = _redirect(started.authorization_url)
    response.set_cookie(
        sso.BROWSER_COOKIE,
        started.browser_secret,
        max_age=int(sso.LOGIN_TTL.total_seconds()),
        path=SSO_PATH,
        secure=config.public_url.startswith("https://"),
        httponly=True,
        samesite="lax",  # sent on the provider's top-level redirect back, not on its fetches
    )
    return response


@router.get(
    "/auth/sso/{provider}/callback",
    tags=[AUTH],
    status_code=status.HTTP_302_FOUND,
    response_class=RedirectResponse,
    summary="Where the provider sends the browser back; it ends at the sign-in's redirectUrl",
    description=(
        "Not called by clients: the provider redirects here. The sign-in is found by its "
        "`state`, must come back to the browser that started it, and is spent. The code is "
        "exchanged with the PKCE verifier and the ID token checked (signature by the "
        "provider's keys, issuer, audience, expiry, nonce). The browser is then sent to the "
        "sign-in's `redirectUrl` with `?code=` (for `POST /api/v1/auth/sso/exchange`, within 60 "
        "seconds) or `?error=`."
    ),
    responses={
        **_redirect_doc(
            "To the sign-in's `redirectUrl`, with `?code=` on success or `?error=<code>` (and "
            "`providerError` when the provider refused).",
            *REDIRECTED_ERRORS,
        ),
        **problem_responses(
            errors.SsoStateMissing,
            errors.SsoStateInvalid,
            errors.UnknownProvider,
            errors.RedirectNotAllowed,
        ),
    },
)
async def sso_callback(
    provider: str,
    session: SessionDep,
    config: IdentityConfigDep,
    services: ServicesDep,
    browser: BrowserCookie = None,
    state: ProviderParam = None,
    code: ProviderParam = None,
    error: ProviderParam = None,
    error_description: ProviderParam = None,
    iss: ProviderParam = None,
) -> Response:
    target = await sso.finish_login(
        session,
        config,
        services.http,
        provider=provider,
        params=sso.CallbackParams(
            state=state,
            code=code,
            error=error,
            error_description=error_description,
            browser_secret=browser,
            iss=iss,
        ),
    )
    return _redirect(target)


@router.post(
    "/auth/sso/exchange",
    tags=[AUTH],
    summary="Trade the one-time code of a single sign-on for a token pair",
    dependencies=[NO_STORE],
    responses=problem_responses(errors.InvalidSsoCode),
)
async def sso_exchange(
    body: schemas.SsoExchangeRequest, session: SessionDep, config: IdentityConfigDep
) -> schemas.SignedIn:
    user = await sso.exchange_code(session, config, body.code)
    return signed_in(user, await service.issue_tokens(session, config, user))


@router.get(
    "/me/identities",
    tags=[AUTH],
    summary="The single sign-on identities linked to my account",
)
async def list_identities(
    user: CurrentUser, session: SessionDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[schemas.IdentityOut]:
    rows, next_cursor = await sso.list_identities(session, user, limit=limit, cursor=cursor)
    return Page(
        items=[schemas.IdentityOut.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.delete(
    "/me/identities/{identity_id}",
    tags=[AUTH],
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Unlink an identity (not the account's last way to sign in)",
    description=(
        "Ways to sign in that count: a password, and an identity at a provider configured now. "
        "Sign-in links by mail do not: they depend on mail being delivered."
    ),
    responses=problem_responses(errors.IdentityNotFound, errors.LastSignInMethod),
)
async def unlink_identity(
    identity_id: str, user: CurrentUser, session: SessionDep, config: IdentityConfigDep
) -> Response:
    await sso.unlink_identity(session, config, user, identity_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
