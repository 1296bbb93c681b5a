"""Single sign-on over OpenID Connect (authorization code flow with PKCE): the sign-in's steps
between the browser, the provider and the database, and the identities it links to accounts.

1. `start_login`: a pending sign-in is stored (the keyed hash of its `state`, its nonce and PKCE
   verifier, where to return, the keyed hash of the browser's cookie); the browser goes to the
   provider.
2. `finish_login`: the provider sends the browser back with `state` and `code`. The pending
   sign-in is found by its state, must come from the same browser, is spent (single use, 10
   minutes), the code is exchanged with the verifier, the ID token checked, and the account found,
   linked or created. The browser goes back to the sign-in's redirectUrl with a one-time code.
3. `exchange_code`: the front end trades that code (60 seconds, single use) for the usual token
   pair, in a POST body: tokens never travel in a URL.

An account is found deterministically: the identity `(provider, sub)` already linked signs its
user in; else the account with the same email, when the provider says the address is verified,
is linked; else a new account is created, when the provider allows sign-up. An unverified address
links nothing and creates nothing: whoever controls an account at the provider could otherwise
take over, or squat, the account of an address they do not own.

Plain async functions taking the request's `session`; they never commit (the request does).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeGuard
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.identity import exceptions as errors
from paperworks.identity import service
from paperworks.identity.models import SsoCode, SsoLogin, User, UserIdentity, Workspace
from paperworks.identity.oidc import OidcClient, ProviderIdentity
from paperworks.identity.roles import Role
from paperworks.kit import security
from paperworks.kit.logging import get_logger
from paperworks.kit.pagination import fetch_page
from paperworks.settings import OidcProvider

log = get_logger(__name__)

LOGIN_TTL = timedelta(minutes=10)
CODE_TTL = timedelta(seconds=60)
# Pending sign-ins and codes are deleted this long after they expire (by the next sign-in).
KEPT_AFTER_EXPIRY = timedelta(days=1)
BROWSER_COOKIE = "paperworks_sso"
# The web console's page a sign-in it started comes back to (see `console_return_url`).
CONSOLE_RETURN_PATH = "/sign-in/sso/done"
# What security.random_token() makes: 32 random bytes in base64url.
_BROWSER_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")


def _now() -> datetime:
    return datetime.now(UTC)


def _hash(config: service.IdentityConfig, purpose: str, value: str) -> str:
    return security.keyed_hash(config.secret_key, f"sso-{purpose}:{value}")


def with_params(url: str, **params: str) -> str:
    """`url` with `params` added to its query (what it already asks for is kept)."""
    parts = urlsplit(url)
    query = f"{parts.query}&" if parts.query else ""
    return urlunsplit(parts._replace(query=query + urlencode(params)))


def console_return_url(config: service.IdentityConfig) -> str:
    """Where a sign-in the web console started comes back to: always allowed, being the
    service's own page."""
    return f"{config.public_url}{CONSOLE_RETURN_PATH}"


def allowed_redirect(config: service.IdentityConfig, redirect_url: str) -> str:
    if redirect_url not in config.allowed_redirects and redirect_url != console_return_url(config):
        raise errors.RedirectNotAllowed(
            "redirectUrl must be one of the configured PAPERWORKS_ALLOWED_REDIRECTS."
        )
    return redirect_url


# --- 1. to the provider ------------------------------------------------------------------------


@dataclass(frozen=True)
class StartedLogin:
    authorization_url: str
    browser_secret: str  # the cookie's value: this browser's, kept if it already had one


def _well_formed_secret(value: str | None) -> TypeGuard[str]:
    return value is not None and _BROWSER_SECRET.fullmatch(value) is not None


async def start_login(
    session: AsyncSession,
    config: service.IdentityConfig,
    http: httpx.AsyncClient,
    *,
    provider: str,
    redirect_url: str,
    browser_secret: str | None,
) -> StartedLogin:
    """Store a pending sign-in and say where to send the browser. A browser that already has a
    cookie keeps it, so sign-ins started in two of its tabs both work."""
    client = config.sso.get(provider)
    allowed_redirect(config, redirect_url)
    browser = browser_secret if _well_formed_secret(browser_secret) else security.random_token()
    state = security.random_token()
    nonce = security.random_token()
    code_verifier = security.random_token(48)  # 64 characters; RFC 7636 asks for 43 to 128
    authorization_url = await client.authorization_url(
        http, state=state, nonce=nonce, code_verifier=code_verifier
    )
    now = _now()
    await session.execute(delete(SsoLogin).where(SsoLogin.expires_at < now - KEPT_AFTER_EXPIRY))
    await session.execute(delete(SsoCode).where(SsoCode.expires_at < now - KEPT_AFTER_EXPIRY))
    session.add(
        SsoLogin(
            state_hash=_hash(config, "state", state),
            provider=client.name,
            nonce=nonce,
            code_verifier=code_verifier,
            redirect_url=redirect_url,
            browser_hash=_hash(config, "browser", browser),
            created_at=now,
            expires_at=now + LOGIN_TTL,
        )
    )
    await session.flush()
    return StartedLogin(authorization_url=authorization_url, browser_secret=browser)


# --- 2. back from the provider -----------------------------------------------------------------


@dataclass(frozen=True)
class CallbackParams:
    """What the provider's redirect brings (RFC 6749 4.1.2; `iss` as RFC 9207 adds it), and the
    browser's cookie."""

    state: str | None
    code: str | None
    error: str | None
    error_description: str | None
    browser_secret: str | None
    iss: str | None = None


async def finish_login(
    session: AsyncSession,
    config: service.IdentityConfig,
    http: httpx.AsyncClient,
    *,
    provider: str,
    params: CallbackParams,
) -> str:
    """Where to send the browser: the sign-in's redirectUrl with `code`, or with `error` (a
    stable code) once the sign-in it belongs to is known. Before that (an unknown provider, a
    state missing or of no sign-in here) it raises the problem."""
    client = config.sso.get(provider)
    if not params.state:
        raise errors.SsoStateMissing("The provider's redirect carries no `state`.")
    login = await session.scalar(
        select(SsoLogin).where(
            SsoLogin.state_hash == _hash(config, "state", params.state),
            SsoLogin.provider == client.name,
        )
    )
    if login is None:
        raise errors.SsoStateInvalid(
            f"No sign-in with {client.name} was started with this state; start again."
        )
    redirect_url = allowed_redirect(config, login.redirect_url)
    try:
        user = await _signed_in_user(session, config, http, client, login, params)
    except errors.SsoError as exc:
        log.info("sso.refused", provider=client.name, code=exc.code, detail=exc.detail)
        if isinstance(exc, errors.SsoProviderError) and params.error:
            return with_params(redirect_url, error=exc.code, providerError=params.error)
        return with_params(redirect_url, error=exc.code)
    code = security.random_token()
    now = _now()
    session.add(
        SsoCode(
            code_hash=_hash(config, "code", code),
            user_id=user.id,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    )
    await session.flush()
    log.info("sso.signed_in", provider=client.name, user_id=user.id)
    return with_params(redirect_url, code=code)


async def _signed_in_user(
    session: AsyncSession,
    config: service.IdentityConfig,
    http: httpx.AsyncClient,
    client: OidcClient,
    login: SsoLogin,
    params: CallbackParams,
) -> User:
    await _spend(session, config, login, params.browser_secret)
    if params.iss is not None and params.iss != client.provider.issuer:
        # RFC 9207: the answer comes from another provider than the one this sign-in went to
        # (a mix-up attack); its code must not reach this provider's token endpoint.
        raise errors.SsoWrongIssuer(f"The redirect comes from the issuer {params.iss!r}.")
    if params.error:
        raise errors.SsoProviderError(
            f"The provider answered {params.error}"
            + (f": {params.error_description}" if params.error_description else ".")
        )
    if not params.code:
        raise errors.SsoProviderError("The provider's redirect carries no `code`.")
    token = await client.exchange_code(http, code=params.code, code_verifier=login.code_verifier)
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise errors.SsoInvalidIdToken("The provider's token response has no ID token.")
    access_token = token.get("access_token")
    identity = await client.verify_id_token(
        http,
        id_token,
        nonce=login.nonce,
        access_token=access_token if isinstance(access_token, str) else None,
    )
    return await sign_in_identity(session, client.provider, identity)


async def _spend(
    session: AsyncSession,
    config: service.IdentityConfig,
    login: SsoLogin,
    browser_secret: str | None,
) -> None:
    """The pending sign-in is this browser's, unexpired and unused: spend it (once, even when
    two callbacks race). A callback from another browser spends nothing."""
    if not browser_secret:
        raise errors.SsoBrowserMissing(
            "This browser has no sign-in cookie: cookies may be blocked, or the sign-in was "
            "started in another browser."
        )
    if not hmac.compare_digest(login.browser_hash, _hash(config, "browser", browser_secret)):
        raise errors.SsoBrowserMismatch("This sign-in was started in another browser.")
    if login.used_at is not None:
        raise errors.SsoStateUsed("This sign-in was already completed; start again.")
    now = _now()
    if login.expires_at <= now:
        raise errors.SsoStateExpired("The sign-in was started more than 10 minutes ago.")
    spent = await session.execute(
        update(SsoLogin)
        .where(SsoLogin.id == login.id, SsoLogin.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session="fetch")
    )
    if getattr(spent, "rowcount", 0) != 1:
        raise errors.SsoStateUsed("This sign-in was already completed; start again.")


def _email_domain(email: str | None) -> str | None:
    return email.rsplit("@", 1)[1].lower() if email and "@" in email else None


async def sign_in_identity(
    session: AsyncSession, provider: OidcProvider, identity: ProviderIdentity
) -> User:
    """The account `identity` signs in to, found, linked or created (see the module's doc)."""
    try:
        async with session.begin_nested():
            return await _found_linked_or_created(session, provider, identity)
    except (IntegrityError, errors.EmailTaken):
        # Another callback linked or created this very account at the same moment and committed
        # first (the second insert waited on the unique index): it is there now, so look again.
        return await _found_linked_or_created(session, provider, identity)


async def _found_linked_or_created(
    session: AsyncSession, provider: OidcProvider, identity: ProviderIdentity
) -> User:
    linked = await session.scalar(
        select(UserIdentity).where(
            UserIdentity.provider == provider.name, UserIdentity.subject == identity.subject
        )
    )
    email = identity.email or (linked.email if linked is not None else None)
    if provider.allowed_domains and _email_domain(email) not in provider.allowed_domains:
        raise errors.SsoDomainNotAllowed(
            f"Only addresses at {', '.join(provider.allowed_domains)} may sign in with "
            f"{provider.label}."
        )
    if linked is not None:
        if identity.email is not None:
            linked.email = identity.email
        return await session.get_one(User, linked.user_id)
    if identity.email is None or not identity.email_verified:
        raise errors.SsoEmailNotVerified(
            f"{provider.label} has not verified this account's email address, so it can "
            "neither be linked to an account nor create one."
        )
    user = await service.user_by_email(session, identity.email)
    if user is None:
        if not provider.allow_signup:
            raise errors.SsoSignupNotAllowed(
                f"No account uses {identity.email}, and {provider.label} does not create accounts."
            )
        user = await service.create_user(
            session, email=identity.email, password_hash=None, name=identity.name
        )
    session.add(
        UserIdentity(
            user_id=user.id,
            provider=provider.name,
            subject=identity.subject,
            email=identity.email,
        )
    )
    await session.flush()
    await _join_provider_workspace(session, provider, user)
    return user


async def _join_provider_workspace(
    session: AsyncSession, provider: OidcProvider, user: User
) -> None:
    """A newly linked or created account joins the provider's workspace, if it names one (once:
    someone removed from it later is not put back by signing in again)."""
    if provider.workspace_id is None:
        return
    workspace = await session.get(Workspace, provider.workspace_id)
    if workspace is None:
        log.warning(
            "sso.workspace_missing", provider=provider.name, workspace_id=provider.workspace_id
        )
        return
    if await service.role_in(session, user, workspace.id) is None:
        await service.add_membership(session, workspace, user, role=Role(provider.default_role))


# --- 3. the code for tokens --------------------------------------------------------------------


async def exchange_code(session: AsyncSession, config: service.IdentityConfig, code: str) -> User:
    spent = await session.execute(
        update(SsoCode)
        .where(
            SsoCode.code_hash == _hash(config, "code", code),
            SsoCode.used_at.is_(None),
            SsoCode.expires_at > _now(),
        )
        .values(used_at=_now())
        .returning(SsoCode.user_id)
    )
    user_id = spent.scalar_one_or_none()
    user = await session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise errors.InvalidSsoCode("This sign-in code is invalid, used or expired.")
    return user


# --- linked identities -------------------------------------------------------------------------


async def list_identities(
    session: AsyncSession, user: User, *, limit: int, cursor: str | None
) -> tuple[list[UserIdentity], str | None]:
    query = select(UserIdentity).where(UserIdentity.user_id == user.id)
    return await fetch_page(session, query, UserIdentity.id, limit=limit, cursor=cursor)


async def unlink_identity(
    session: AsyncSession, config: service.IdentityConfig, user: User, identity_id: str
) -> None:
    """Unlink one of the user's identities, unless it is their last way to sign in. The ways
    that count: a password, and an identity at a provider that is configured now. A sign-in link
    by mail is not counted: it depends on mail being delivered, and on no one else reading it."""
    identity = await session.get(UserIdentity, identity_id)
    if identity is None or identity.user_id != user.id:
        raise errors.IdentityNotFound(f"No linked identity {identity_id}.")
    configured = [client.name for client in config.sso]
    others = await session.scalar(
        select(func.count())
        .select_from(UserIdentity)
        .where(
            UserIdentity.user_id == user.id,
            UserIdentity.id != identity.id,
            UserIdentity.provider.in_(configured),
        )
    )
    if user.password_hash is None and not others:
        raise errors.LastSignInMethod(
            "Without it this account could not sign in: link it with another provider first."
        )
    await session.delete(identity)
    await session.flush()
