"""Who is calling, in which workspace, and may they: dependencies every route reads as a sentence.

async def route(caller: CurrentCaller,
                _: Annotated[None, Depends(require("members:manage"))]) -> ...
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Header
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from starlette.types import Scope

from paperworks.identity import service
from paperworks.identity.caller import Caller, Credentials
from paperworks.identity.credential_cache import CallerCache
from paperworks.identity.models import ApiKey, User, Workspace
from paperworks.identity.roles import allows
from paperworks.kit import security
from paperworks.kit.errors import AppError
from paperworks.services import ServicesDep, SessionDep

# auto_error=False: a missing credential is our problem+json 401, not FastAPI's plain 403.
# OAuth2's password flow against /auth/token: the docs' "Authorize" button signs in with it.
bearer_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="An access token from /auth/login or /auth/token",
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="A key from POST /api/v1/api-keys"
)


async def get_identity_config(services: ServicesDep) -> service.IdentityConfig:
    return services.identity


IdentityConfigDep = Annotated[service.IdentityConfig, Depends(get_identity_config)]


async def get_credentials(
    bearer: Annotated[str | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
    # Not named `workspace_id`: routes with that path parameter use these credentials too.
    workspace_header: Annotated[
        str | None,
        Header(
            alias="X-Workspace-ID",
            max_length=26,
            description="Act in this workspace (default: the API key's, else your personal one)",
        ),
    ] = None,
) -> Credentials:
    return Credentials(bearer=bearer, api_key=api_key, workspace_id=workspace_header)


RequestCredentials = Annotated[Credentials, Depends(get_credentials)]


async def get_signed_in(
    session: SessionDep, config: IdentityConfigDep, credentials: RequestCredentials
) -> tuple[User, ApiKey | None]:
    return await service.signed_in_user(session, config, credentials)


SignedIn = Annotated[tuple[User, ApiKey | None], Depends(get_signed_in)]


async def get_current_user(signed_in: SignedIn) -> User:
    return signed_in[0]


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_caller(
    session: SessionDep, config: IdentityConfigDep, credentials: RequestCredentials
) -> Caller:
    # One query; it leaves the user in the session, so a CurrentUser after it costs none.
    return await service.caller_for(session, config, credentials)


CurrentCaller = Annotated[Caller, Depends(get_caller)]


def require(permission: str) -> Callable[[Caller], Awaitable[None]]:
    """A dependency that admits callers whose role in the active workspace grants `permission`."""
    allows(None, permission)  # fail at import time on a misspelt permission

    async def check(caller: CurrentCaller) -> None:
        caller.require(permission)

    return check


async def get_path_caller(workspace_id: str, session: SessionDep, signed_in: SignedIn) -> Caller:
    """The caller acting in the workspace the path names (any of theirs, whatever the key's)."""
    user, api_key = signed_in
    caller = await service.caller_in(session, user, None, workspace_id)
    return replace(caller, api_key_id=api_key.id if api_key is not None else None)


PathCaller = Annotated[Caller, Depends(get_path_caller)]


async def get_path_workspace(caller: PathCaller, session: SessionDep) -> Workspace:
    # Loaded by get_path_caller in this same session: the identity map answers, no query.
    return await session.get_one(Workspace, caller.workspace)


PathWorkspace = Annotated[Workspace, Depends(get_path_workspace)]


# --- rate limiting ----------------------------------------------------------------------------

# These keep the anonymous per-address budget even when a token is sent: they are where
# credentials are guessed, and a stolen token must not buy a bigger guessing budget.
ANONYMOUS_BUDGET_PATHS = frozenset(
    {"/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/auth/token", "/api/v1/auth/magic-link"}
)


class RateLimitPrincipal:
    """Names the caller for the rate limiter before routing: `user:<id>` for a valid access token
    or API key, None (count by address) otherwise. A forged credential must not buy a fresh
    budget, so API keys are checked against the database, through the credential cache."""

    def __init__(self, config: service.IdentityConfig, callers: CallerCache) -> None:
        self.config = config
        self.callers = callers

    async def __call__(self, scope: Scope) -> str | None:
        if scope["path"] in ANONYMOUS_BUDGET_PATHS:
            return None
        credentials = Credentials.from_headers(scope["headers"])
        if credentials.api_key:
            return await self._api_key_principal(credentials.api_key)
        if credentials.bearer:
            return self._token_principal(credentials.bearer)
        return None

    def _token_principal(self, token: str) -> str | None:
        try:
            claims = security.decode_token(self.config.secret_key, token, token_type=service.ACCESS)
        except security.InvalidToken:
            return None
        return f"user:{claims['sub']}"

    async def _api_key_principal(self, secret: str) -> str | None:
        try:
            caller = await self.callers.caller(Credentials(api_key=secret))
        except AppError:  # a revoked key, its maker gone from the workspace
            return None
        return f"user:{caller.user_id}"
