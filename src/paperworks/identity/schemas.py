"""Identity's request and response bodies."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, EmailStr, Field, StringConstraints

from paperworks.identity.models import NAME_LENGTH
from paperworks.identity.roles import Role
from paperworks.kit.schemas import ApiModel, NotBlank, UtcDateTime
from paperworks.kit.security import PASSWORD_MAX_BYTES, PASSWORD_MIN_BYTES, password_problem


def _acceptable_password(value: str) -> str:
    if problem := password_problem(value):
        raise ValueError(f"password {problem}")
    return value


def _lower(value: str) -> str:
    return value.lower()


Password = Annotated[
    str,
    AfterValidator(_acceptable_password),
    Field(
        description=f"{PASSWORD_MIN_BYTES} to {PASSWORD_MAX_BYTES} bytes of UTF-8 (bcrypt reads "
        f"no more): {PASSWORD_MIN_BYTES} to {PASSWORD_MAX_BYTES} ASCII characters, fewer in "
        "other scripts, whose characters take 2 to 4 bytes each",
        # JSON Schema counts characters: these are the bounds any acceptable password keeps
        # (at least 8 bytes is at least 2 characters of 4 bytes; at most 72 bytes, at most 72
        # characters). The byte counts above are the rule.
        json_schema_extra={
            "format": "password",
            "minLength": -(-PASSWORD_MIN_BYTES // 4),
            "maxLength": PASSWORD_MAX_BYTES,
        },
    ),
]
Email = Annotated[EmailStr, AfterValidator(_lower)]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_LENGTH), NotBlank
]


# --- auth -----------------------------------------------------------------------------------


class RegisterRequest(ApiModel):
    email: Email
    password: Password
    name: Name | None = None


class LoginRequest(ApiModel):
    email: Email
    # Any length is accepted here: a login must fail as "invalid credentials", not say why.
    password: str = Field(max_length=1024)


class RefreshRequest(ApiModel):
    refresh_token: str = Field(max_length=2048)


class MagicLinkRequest(ApiModel):
    email: Email
    redirect_url: str | None = Field(default=None, max_length=2000)


class MagicLinkVerifyRequest(ApiModel):
    token: str = Field(max_length=256)


class MagicLinkSent(ApiModel):
    detail: str = "If this address can receive mail, a sign-in link is on its way."


class UserOut(ApiModel):
    id: str
    email: str
    name: str | None
    is_admin: bool
    created_at: UtcDateTime


class TokenPair(ApiModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a token kind, not a secret
    expires_in: int = Field(description="Seconds until the access token expires")


class SignedIn(TokenPair):
    user: UserOut


class OAuth2Token(ApiModel):
    """RFC 6749's own field names, which Swagger UI's "Authorize" reads."""

    model_config = ApiModel.model_config | {"alias_generator": None}

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a token kind, not a secret
    expires_in: int


class WorkspaceRole(ApiModel):
    id: str
    name: str
    role: Role


class Me(UserOut):
    workspaces: list[WorkspaceRole]


# --- workspaces -----------------------------------------------------------------------------


class WorkspaceCreate(ApiModel):
    name: Name


class WorkspaceUpdate(ApiModel):
    name: Name


class WorkspaceOut(ApiModel):
    id: str
    name: str
    personal: bool
    role: Role | None = Field(description="The caller's role; null for an admin who is no member")
    created_at: UtcDateTime
    updated_at: UtcDateTime


class InvitationCreate(ApiModel):
    email: Email
    role: Role = Role.member


class InvitationOut(ApiModel):
    """An invitation as its workspace's owners see it. It says nothing of whether the address
    has an account."""

    id: str
    workspace_id: str
    email: str
    role: Role
    status: Literal["pending", "accepted", "revoked", "expired"]
    expires_at: UtcDateTime
    created_at: UtcDateTime


class InvitationAccept(ApiModel):
    token: str = Field(max_length=256)


class MemberUpdate(ApiModel):
    role: Role


class MemberOut(ApiModel):
    user_id: str
    email: str
    name: str | None
    role: Role
    joined_at: UtcDateTime


# --- API keys -------------------------------------------------------------------------------


def _in_the_future(value: datetime | None) -> datetime | None:
    if value is not None and value <= datetime.now(UTC):
        raise ValueError("must be in the future: a key that has already expired is of no use")
    return value


_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _written_timestamp(value: object) -> object:
    # Pydantic would also take a Unix time or a bare date for a timestamp, which the schema's
    # `date-time` does not admit: a timestamp is written one way, with its time of day.
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str) and not _DATE_ONLY.fullmatch(value.strip()):
        return value
    raise ValueError("a timestamp is written in ISO 8601 with its time, like 2030-01-31T12:00Z")


class ApiKeyCreate(ApiModel):
    name: Name
    expires_at: Annotated[
        UtcDateTime | None, BeforeValidator(_written_timestamp), AfterValidator(_in_the_future)
    ] = Field(default=None, description="When the key stops working; in the future; none: never")


class ApiKeyOut(ApiModel):
    id: str
    name: str
    prefix: str
    workspace_id: str
    created_at: UtcDateTime
    expires_at: UtcDateTime | None
    last_used_at: UtcDateTime | None


class ApiKeyCreated(ApiModel):
    id: str
    name: str
    prefix: str
    key: str = Field(description="The secret. Shown this once; store it now")
    workspace_id: str
    created_at: UtcDateTime
    expires_at: UtcDateTime | None


# --- single sign-on -------------------------------------------------------------------------


class SsoProviderOut(ApiModel):
    name: str
    display_name: str
    login_url: str = Field(
        description="Open it in the browser with `?redirectUrl=` (one of the allowed redirects)"
    )


class SsoProviderList(ApiModel):
    items: list[SsoProviderOut]


class SsoExchangeRequest(ApiModel):
    code: str = Field(max_length=256, description="The `code` the sign-in's redirect carried")


class IdentityOut(ApiModel):
    """An account at a single sign-on provider, linked to mine."""

    id: str
    provider: str
    subject: str = Field(description="The provider's id for the account (the ID token's `sub`)")
    email: str | None = Field(description="The address the provider last gave for it")
    created_at: UtcDateTime
