"""Identity tables: users, workspaces and memberships, invitations, sessions, magic links, API
keys, and single sign-on (linked identities, pending sign-ins, one-time codes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from paperworks.kit.db import Base, IdMixin, TimestampMixin, utcnow
from paperworks.kit.ids import ID_LENGTH

EMAIL_LENGTH = 320
NAME_LENGTH = 200


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), unique=True)  # stored lower-case
    name: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    password_hash: Mapped[str | None] = mapped_column(String(255))  # None: passwordless account
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)


class Workspace(IdMixin, TimestampMixin, Base):
    __tablename__ = "workspaces"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    # Set on the workspace every user gets at sign-up; that one cannot be deleted.
    personal_for_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )


class Membership(TimestampMixin, Base):
    __tablename__ = "memberships"

    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(20))


class RefreshToken(IdMixin, Base):
    """One refresh token (its `jti`). Rotation spends it; a family shares one sign-in."""

    __tablename__ = "refresh_tokens"

    family_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    spent_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ConsoleSignIn(IdMixin, Base):
    """A browser signed in to the web console. Its cookie names this row, so signing out (which
    deletes it) ends the sign-in here, not only in that browser: a copy of the cookie stops
    working too."""

    __tablename__ = "console_sign_ins"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class MagicLink(IdMixin, Base):
    __tablename__ = "magic_links"

    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    redirect_url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ApiKey(IdMixin, TimestampMixin, Base):
    __tablename__ = "api_keys"
    __table_args__ = (UniqueConstraint("secret_hash"),)

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class Invitation(IdMixin, TimestampMixin, Base):
    """An address asked to join a workspace. It joins only when someone signed in with that
    address spends the mailed token, which is stored as a keyed hash. One row per address and
    workspace: inviting again replaces it."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("workspace_id", "email"),)

    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))  # stored lower-case
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


# --- single sign-on ---------------------------------------------------------------------------

PROVIDER_NAME_LENGTH = 40


class UserIdentity(IdMixin, TimestampMixin, Base):
    """An account at an OpenID provider linked to a user: `(provider, subject)` signs them in."""

    __tablename__ = "user_identities"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(PROVIDER_NAME_LENGTH))  # the settings' name
    subject: Mapped[str] = mapped_column(String(255))  # the ID token's `sub`
    email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))  # as the provider said last


class SsoLogin(IdMixin, Base):
    """A sign-in sent to a provider and not back yet: what its callback needs, found by the
    keyed hash of its `state`, and only from the browser whose cookie hashes to `browser_hash`.
    Single use: `used_at` is set by the first callback that presents its state."""

    __tablename__ = "sso_logins"

    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    provider: Mapped[str] = mapped_column(String(PROVIDER_NAME_LENGTH))
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    redirect_url: Mapped[str] = mapped_column(String(2000))
    browser_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class SsoCode(IdMixin, Base):
    """The one-time code a finished sign-in hands the front end, to trade for a token pair
    (tokens never travel in a URL). Stored as its keyed hash."""

    __tablename__ = "sso_codes"

    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
