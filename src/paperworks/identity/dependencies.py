"""Who is calling, in which workspace, and may they: dependencies every route reads as a sentence.

async def route(user: CurrentUser, ws: ActiveWorkspace,
                _: Annotated[None, Depends(require("members:manage"))]) -> ...
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Scope

from paperworks.identity import service
from paperworks.identity.exceptions import InvalidApiKey, MissingPermission
from paperworks.identity.models import ApiKey, User, Workspace
from paperworks.identity.roles import Role, allows
from paperworks.kit import security
from paperworks.kit.db import Database
from paperworks.kit.dependencies import SessionDep
from paperworks.kit.errors import Unauthenticated

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


def get_identity_config(request: Request) -> service.IdentityConfig:
    config: service.IdentityConfig = request.app.state.identity
    return config


IdentityConfigDep = Annotated[service.IdentityConfig, Depends(get_identity_config)]


@dataclass(frozen=True)
class Principal:
    """The caller: a user, and the API key they called with, if any."""

    user: User
    api_key: ApiKey | None = None


async def authenticate(
    session: AsyncSession,
    config: service.IdentityConfig,
    *,
    bearer: str | None,
    api_key: str | None,
) -> Principal:
    """The caller behind an API key or an access token; routes and the MCP endpoint share it."""
    if api_key:
        user, key = await service.authenticate_api_key(session, config, api_key)
        return Principal(user, key)
    if bearer:
        return Principal(await service.user_from_access_token(session, config, bearer))
    raise Unauthenticated(
        "Send an access token (Authorization: Bearer ...) or an API key (X-API-Key)."
    )


async def get_principal(
    session: SessionDep,
    config: IdentityConfigDep,
    bearer: Annotated[str | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    return await authenticate(session, config, bearer=bearer, api_key=api_key)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def get_current_user(principal: CurrentPrincipal) -> User:
    return principal.user


CurrentUser = Annotated[User, Depends(get_current_user)]


@dataclass(frozen=True)
class WorkspaceAccess:
    """A workspace and what the caller may do in it."""

    workspace: Workspace
    role: Role | None  # None: an admin who is not a member
    user: User

    def allows(self, permission: str) -> bool:
        return allows(self.role, permission, is_admin=self.user.is_admin)

    def require(self, permission: str) -> None:
        if not self.allows(permission):
            raise MissingPermission(f"Your role in this workspace does not allow {permission}.")


async def get_active_workspace(
    session: SessionDep,
    principal: CurrentPrincipal,
    workspace_id: Annotated[
        str | None,
        Header(
            alias="X-Workspace-ID",
            max_length=26,
            description="Act in this workspace (default: the API key's, else your personal one)",
        ),
    ] = None,
) -> WorkspaceAccess:
    return await workspace_access(session, principal, workspace_id)


async def workspace_access(
    session: AsyncSession, principal: Principal, workspace_id: str | None
) -> WorkspaceAccess:
    """The workspace a caller acts in: the API key's, else the one asked for, else their own."""
    user = principal.user
    if principal.api_key is not None:
        workspace_id = principal.api_key.workspace_id  # a key is bound to its workspace
    if workspace_id is None:
        workspace_id = (await service.personal_workspace(session, user)).id
    workspace, role = await service.workspace_for(session, user, workspace_id)
    return WorkspaceAccess(workspace, role, user)


ActiveWorkspace = Annotated[WorkspaceAccess, Depends(get_active_workspace)]


def require(permission: str) -> Callable[[WorkspaceAccess], Awaitable[None]]:
    """A dependency that admits callers whose role in the active workspace grants `permission`."""
    allows(None, permission)  # fail at import time on a misspelt permission

    async def check(ws: ActiveWorkspace) -> None:
        ws.require(permission)

    return check


async def get_path_workspace(
    workspace_id: str, session: SessionDep, user: CurrentUser
) -> WorkspaceAccess:
    workspace, role = await service.workspace_for(session, user, workspace_id)
    return WorkspaceAccess(workspace, role, user)


PathWorkspace = Annotated[WorkspaceAccess, Depends(get_path_workspace)]


# --- rate limiting ----------------------------------------------------------------------------

# These keep the anonymous per-address budget even when a token is sent: they are where
# credentials are guessed, and a stolen token must not buy a bigger guessing budget.
ANONYMOUS_BUDGET_PATHS = frozenset(
    {"/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/auth/token", "/api/v1/auth/magic-link"}
)
API_KEY_CACHE_SECONDS = 60.0
API_KEY_CACHE_SIZE = 10_000


class RateLimitPrincipal:
    """Names the caller for the rate limiter before routing: `user:<id>` for a valid access token
    or API key, None (count by address) otherwise. A forged credential must not buy a fresh
    budget, so API keys are checked against the database, remembered for a minute."""

    def __init__(self, config: service.IdentityConfig, db: Database) -> None:
        self.config = config
        self.db = db
        self._keys: dict[str, tuple[str | None, float]] = {}

    async def __call__(self, scope: Scope) -> str | None:
        if scope["path"] in ANONYMOUS_BUDGET_PATHS:
            return None
        for name, value in scope["headers"]:
            if name == b"x-api-key":
                return await self._api_key_principal(value.decode("latin-1"))
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                return self._token_principal(value[7:].decode("latin-1").strip())
        return None

    def _token_principal(self, token: str) -> str | None:
        try:
            claims = security.decode_token(self.config.secret_key, token, token_type=service.ACCESS)
        except security.InvalidToken:
            return None
        return f"user:{claims['sub']}"

    async def _api_key_principal(self, secret: str) -> str | None:
        now = time.monotonic()
        cached = self._keys.get(secret)
        if cached is not None and cached[1] > now:
            return cached[0]
        async with self.db.session_scope() as session:
            try:
                user, _ = await service.authenticate_api_key(session, self.config, secret)
                principal: str | None = f"user:{user.id}"
            except InvalidApiKey:
                principal = None
        if len(self._keys) >= API_KEY_CACHE_SIZE:
            self._keys.clear()
        self._keys[secret] = (principal, now + API_KEY_CACHE_SECONDS)
        return principal
