"""Identity's operations: sign-up and sign-in, sessions, magic links, workspaces, members and
invitations, API keys.

Plain async functions taking the request's `session`; they never commit (the request does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.identity import exceptions as errors
from paperworks.identity.access import AccessChange, access_changed
from paperworks.identity.caller import Caller, Credentials
from paperworks.identity.models import (
    ApiKey,
    ConsoleSignIn,
    Invitation,
    MagicLink,
    Membership,
    RefreshToken,
    User,
    Workspace,
)
from paperworks.identity.oidc import SsoProviders
from paperworks.identity.roles import Role
from paperworks.kit import security
from paperworks.kit.errors import Unauthenticated
from paperworks.kit.ids import new_id
from paperworks.kit.mail import Mail, Mailer, OutboxMailer, SmtpMailer, SmtpServer
from paperworks.kit.pagination import fetch_page
from paperworks.settings import Settings

ACCESS = "access"
REFRESH = "refresh"
API_KEY_PREFIX = "pwk_"
API_KEY_SHOWN_CHARS = 12  # "pwk_" and 8 characters of the secret: enough to tell keys apart
LAST_USED_GRANULARITY = timedelta(minutes=1)


@dataclass(frozen=True)
class IdentityConfig:
    """What identity needs from the settings, built once per app."""

    secret_key: str
    access_ttl: timedelta
    refresh_ttl: timedelta
    magic_link_ttl: timedelta
    invitation_ttl: timedelta
    public_url: str
    allowed_redirects: frozenset[str]
    hasher: security.PasswordHasher
    mailer: Mailer
    sso: SsoProviders  # the single sign-on providers, with their discovery cached

    @classmethod
    def from_settings(cls, settings: Settings) -> IdentityConfig:
        smtp = settings.smtp_url.get_secret_value() if settings.smtp_url else None
        mailer: Mailer = (
            SmtpMailer(SmtpServer.from_url(smtp), settings.mail_from)
            if smtp
            else OutboxMailer(settings.data_dir)
        )
        return cls(
            secret_key=settings.secret_key.get_secret_value(),
            access_ttl=timedelta(seconds=settings.access_token_seconds),
            refresh_ttl=timedelta(seconds=settings.refresh_token_seconds),
            magic_link_ttl=timedelta(seconds=settings.magic_link_seconds),
            invitation_ttl=timedelta(seconds=settings.invitation_seconds),
            public_url=settings.public_url,
            allowed_redirects=frozenset(settings.allowed_redirects),
            hasher=security.PasswordHasher(settings.password_hash_rounds),
            mailer=mailer,
            sso=SsoProviders(
                settings.oidc_providers,
                public_url=settings.public_url,
                discovery_ttl=settings.oidc_discovery_seconds,
            ),
        )


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int


def _now() -> datetime:
    return datetime.now(UTC)


# --- accounts ---------------------------------------------------------------------------------


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email.lower()))


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    password_hash: str | None,
    name: str | None = None,
    is_admin: bool = False,
) -> User:
    """A new account and the personal workspace every account has."""
    taken = errors.EmailTaken(f"An account with {email} already exists.")
    if await user_by_email(session, email) is not None:
        raise taken
    user = User(email=email.lower(), name=name, password_hash=password_hash, is_admin=is_admin)
    try:
        # A savepoint: a request creating the same address at the same moment and committing
        # first makes this insert fail on the unique address; the transaction can still go on.
        async with session.begin_nested():
            session.add(user)
            await session.flush()
    except IntegrityError as exc:
        raise taken from exc
    label = name or email.split("@", 1)[0]
    workspace = Workspace(name=f"{label}'s workspace", personal_for_user_id=user.id)
    session.add(workspace)
    await session.flush()
    session.add(Membership(workspace_id=workspace.id, user_id=user.id, role=Role.owner))
    await session.flush()
    return user


async def register(
    session: AsyncSession, config: IdentityConfig, *, email: str, password: str, name: str | None
) -> User:
    return await create_user(
        session, email=email, password_hash=await config.hasher.hash(password), name=name
    )


async def authenticate(
    session: AsyncSession, config: IdentityConfig, *, email: str, password: str
) -> User:
    """The user with this email and password; one error for every kind of mismatch."""
    user = await user_by_email(session, email)
    matches, new_hash = await config.hasher.verify(password, user.password_hash if user else None)
    if user is None or not matches:
        raise errors.InvalidCredentials("The email or password is wrong.")
    if new_hash is not None:  # hashed with other parameters (e.g. a lower cost): upgrade it
        user.password_hash = new_hash
    return user


# --- sessions ---------------------------------------------------------------------------------


async def issue_tokens(
    session: AsyncSession, config: IdentityConfig, user: User, *, family_id: str | None = None
) -> IssuedTokens:
    """An access token and a refresh token; the refresh token joins `family_id` or starts one."""
    refresh = RefreshToken(
        id=new_id(),
        family_id=family_id or new_id(),
        user_id=user.id,
        expires_at=_now() + config.refresh_ttl,
    )
    session.add(refresh)
    await session.flush()
    return IssuedTokens(
        access_token=security.encode_token(
            config.secret_key,
            subject=user.id,
            token_type=ACCESS,
            ttl=config.access_ttl,
            jti=new_id(),
        ),
        refresh_token=security.encode_token(
            config.secret_key,
            subject=user.id,
            token_type=REFRESH,
            ttl=config.refresh_ttl,
            jti=refresh.id,
        ),
        expires_in=int(config.access_ttl.total_seconds()),
    )


def _refresh_claims(config: IdentityConfig, token: str) -> dict[str, str]:
    try:
        return security.decode_token(config.secret_key, token, token_type=REFRESH)
    except security.InvalidToken as exc:
        raise errors.InvalidToken("The refresh token is invalid or expired.") from exc


async def _revoke_family(session: AsyncSession, family_id: str) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=_now())
    )


async def rotate_refresh_token(
    session: AsyncSession, config: IdentityConfig, token: str
) -> tuple[User, IssuedTokens]:
    """Spend a refresh token for a new pair. A token spent twice revokes its whole family:
    one of the two presenters is not who they claim to be."""
    claims = _refresh_claims(config, token)
    spent = await session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.id == claims["jti"],
            RefreshToken.spent_at.is_(None),
            RefreshToken.revoked_at.is_(None),
        )
        .values(spent_at=_now())
        .returning(RefreshToken.family_id)
    )
    family_id = spent.scalar_one_or_none()
    if family_id is None:
        known = await session.get(RefreshToken, claims["jti"])
        if known is None:
            raise errors.InvalidToken("The refresh token is not known.")
        if known.spent_at is None:  # never used, but revoked: its session was ended
            raise errors.SignedOut(
                "This session was signed out (by a logout, or when a copy of one of its tokens "
                "was used twice); sign in again."
            )
        await _revoke_family(session, known.family_id)
        raise errors.RefreshTokenReused(
            "This refresh token was already used; every session it belongs to is now signed out."
        )
    user = await session.get(User, claims["sub"])
    if user is None:
        raise errors.InvalidToken("The account no longer exists.")
    return user, await issue_tokens(session, config, user, family_id=family_id)


async def sign_out(session: AsyncSession, config: IdentityConfig, token: str) -> None:
    claims = _refresh_claims(config, token)
    known = await session.get(RefreshToken, claims["jti"])
    if known is None:
        raise errors.InvalidToken("The refresh token is not known.")
    await _revoke_family(session, known.family_id)


async def start_console_sign_in(
    session: AsyncSession, user: User, *, lifetime: timedelta
) -> ConsoleSignIn:
    """A browser signed in to the web console, for `lifetime`; the user's sign-ins that have
    expired are cleared on the way."""
    now = _now()
    await session.execute(
        delete(ConsoleSignIn).where(
            ConsoleSignIn.user_id == user.id, ConsoleSignIn.expires_at <= now
        )
    )
    sign_in = ConsoleSignIn(user_id=user.id, expires_at=now + lifetime)
    session.add(sign_in)
    await session.flush()
    return sign_in


async def console_sign_in_active(session: AsyncSession, sign_in_id: str, user_id: str) -> bool:
    sign_in = await session.get(ConsoleSignIn, sign_in_id)
    return sign_in is not None and sign_in.user_id == user_id and sign_in.expires_at > _now()


async def end_console_sign_in(session: AsyncSession, sign_in_id: str) -> None:
    await session.execute(delete(ConsoleSignIn).where(ConsoleSignIn.id == sign_in_id))


def _access_subject(config: IdentityConfig, token: str) -> str:
    """The user id a valid access token names."""
    try:
        claims = security.decode_token(config.secret_key, token, token_type=ACCESS)
    except security.InvalidToken as exc:
        raise errors.InvalidToken("The access token is invalid or expired.") from exc
    return str(claims["sub"])


def _account_gone() -> errors.InvalidToken:
    return errors.InvalidToken("The account no longer exists.")


async def user_from_access_token(session: AsyncSession, config: IdentityConfig, token: str) -> User:
    user = await session.get(User, _access_subject(config, token))
    if user is None:
        raise _account_gone()
    return user


# --- magic links ------------------------------------------------------------------------------


def _link_target(config: IdentityConfig, redirect_url: str | None, page: str) -> str:
    if redirect_url is None:
        return f"{config.public_url}{page}"
    if redirect_url not in config.allowed_redirects:
        raise errors.RedirectNotAllowed(
            "redirectUrl must be one of the configured PAPERWORKS_ALLOWED_REDIRECTS."
        )
    return redirect_url


def _with_token(url: str, token: str) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&" if parts.query else ""
    return urlunsplit(parts._replace(query=query + urlencode({"token": token})))


async def send_magic_link(
    session: AsyncSession,
    config: IdentityConfig,
    *,
    email: str,
    redirect_url: str | None,
    page: str = "/auth/magic",
) -> None:
    """Mail a one-time sign-in link to `redirect_url`, else to this service's `page` (the API's
    token page, or the console's). Known or not, the address gets the same treatment: the
    first use of a link for a new address creates the account."""
    target = _link_target(config, redirect_url, page)
    token = security.random_token()
    session.add(
        MagicLink(
            email=email.lower(),
            token_hash=security.keyed_hash(config.secret_key, token),
            redirect_url=redirect_url,
            expires_at=_now() + config.magic_link_ttl,
        )
    )
    await session.flush()
    minutes = int(config.magic_link_ttl.total_seconds() // 60)
    await config.mailer.send(
        Mail(
            to=email,
            subject="Your Paperworks sign-in link",
            text=(
                f"Sign in to Paperworks with this link:\n\n{_with_token(target, token)}\n\n"
                f"It works once, for {minutes} minutes. If you did not ask for it, ignore "
                "this message.\n"
            ),
        )
    )


async def redeem_magic_link(session: AsyncSession, config: IdentityConfig, token: str) -> User:
    used = await session.execute(
        update(MagicLink)
        .where(
            MagicLink.token_hash == security.keyed_hash(config.secret_key, token),
            MagicLink.used_at.is_(None),
            MagicLink.expires_at > _now(),
        )
        .values(used_at=_now())
        .returning(MagicLink.email)
    )
    email = used.scalar_one_or_none()
    if email is None:
        raise errors.InvalidMagicLink("This sign-in link is invalid, used or expired.")
    user = await user_by_email(session, email)
    return user or await create_user(session, email=email, password_hash=None)


# --- workspaces -------------------------------------------------------------------------------


async def memberships_of(session: AsyncSession, user: User) -> list[tuple[Workspace, Role]]:
    rows = await session.execute(
        select(Workspace, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user.id)
        .order_by(Workspace.id)
    )
    return [(workspace, Role(role)) for workspace, role in rows.all()]


async def list_workspaces(
    session: AsyncSession, user: User, *, limit: int, cursor: str | None
) -> tuple[list[tuple[Workspace, Role]], str | None]:
    query = (
        select(Workspace, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user.id)
    )
    rows, next_cursor = await fetch_page(session, query, Workspace.id, limit=limit, cursor=cursor)
    return [(workspace, Role(role)) for workspace, role in rows], next_cursor


async def role_in(session: AsyncSession, user: User, workspace_id: str) -> Role | None:
    role = await session.scalar(
        select(Membership.role).where(
            Membership.workspace_id == workspace_id, Membership.user_id == user.id
        )
    )
    return Role(role) if role else None


async def workspace_for(
    session: AsyncSession, user: User, workspace_id: str
) -> tuple[Workspace, Role | None]:
    """The workspace and the user's role in it. Not a member (and no admin): it does not exist."""
    workspace = await session.get(Workspace, workspace_id)
    role = await role_in(session, user, workspace_id) if workspace else None
    if workspace is None or (role is None and not user.is_admin):
        raise errors.WorkspaceNotFound(f"No workspace {workspace_id}.")
    return workspace, role


async def personal_workspace(session: AsyncSession, user: User) -> Workspace:
    workspace = await session.scalar(
        select(Workspace).where(Workspace.personal_for_user_id == user.id)
    )
    if workspace is None:  # every account is created with one: a data bug, not a client error
        raise RuntimeError(f"user {user.id} has no personal workspace")
    return workspace


async def create_workspace(session: AsyncSession, user: User, *, name: str) -> Workspace:
    workspace = Workspace(name=name)
    session.add(workspace)
    await session.flush()
    session.add(Membership(workspace_id=workspace.id, user_id=user.id, role=Role.owner))
    await session.flush()
    return workspace


async def rename_workspace(session: AsyncSession, workspace: Workspace, *, name: str) -> Workspace:
    workspace.name = name
    await session.flush()
    await session.refresh(workspace)  # updated_at, as the database now has it
    return workspace


async def delete_workspace(session: AsyncSession, workspace: Workspace) -> None:
    if workspace.personal_for_user_id is not None:
        raise errors.PersonalWorkspace("A personal workspace lives as long as its account.")
    await session.delete(workspace)
    await session.flush()
    access_changed(session, AccessChange(workspace_id=workspace.id))


# --- members ----------------------------------------------------------------------------------


async def list_members(
    session: AsyncSession, workspace: Workspace, *, limit: int, cursor: str | None
) -> tuple[list[tuple[Membership, User]], str | None]:
    query = (
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.workspace_id == workspace.id)
    )
    rows, next_cursor = await fetch_page(session, query, User.id, limit=limit, cursor=cursor)
    return [(membership, user) for membership, user in rows], next_cursor


async def add_membership(
    session: AsyncSession, workspace: Workspace, user: User, *, role: Role
) -> Membership:
    """Make `user` a member: what accepting an invitation ends with (and what tests and
    operators may call directly). Never a route of its own: nobody joins without consenting."""
    if await role_in(session, user, workspace.id) is not None:
        raise errors.AlreadyMember(f"{user.email} is already a member of this workspace.")
    membership = Membership(workspace_id=workspace.id, user_id=user.id, role=role)
    session.add(membership)
    await session.flush()
    return membership


async def _membership(session: AsyncSession, workspace: Workspace, user_id: str) -> Membership:
    membership = await session.get(Membership, (workspace.id, user_id))
    if membership is None:
        raise errors.MemberNotFound(f"No member {user_id} in this workspace.")
    return membership


def _ensure_not_personal_owner(workspace: Workspace, user_id: str) -> None:
    if workspace.personal_for_user_id == user_id:
        raise errors.PersonalWorkspace(
            "A personal workspace always belongs to its account's owner."
        )


async def _ensure_another_owner(session: AsyncSession, workspace: Workspace) -> None:
    owners = await session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.workspace_id == workspace.id, Membership.role == Role.owner)
    )
    if (owners or 0) <= 1:
        raise errors.LastOwner("Make someone else an owner first.")


async def change_role(
    session: AsyncSession, workspace: Workspace, *, user_id: str, role: Role
) -> tuple[Membership, User]:
    membership = await _membership(session, workspace, user_id)
    if membership.role == Role.owner and role != Role.owner:
        _ensure_not_personal_owner(workspace, user_id)
        await _ensure_another_owner(session, workspace)
    membership.role = role
    await session.flush()
    user = await session.get_one(User, user_id)
    return membership, user


async def remove_member(session: AsyncSession, workspace: Workspace, *, user_id: str) -> None:
    membership = await _membership(session, workspace, user_id)
    _ensure_not_personal_owner(workspace, user_id)
    if membership.role == Role.owner:
        await _ensure_another_owner(session, workspace)
    await session.delete(membership)
    await session.flush()
    access_changed(session, AccessChange(user_id=user_id, workspace_id=workspace.id))


# --- invitations ------------------------------------------------------------------------------

InvitationStatus = Literal["pending", "accepted", "revoked", "expired"]
INVITATION_PATH = "/invitations/accept"


def invitation_status(invitation: Invitation, now: datetime | None = None) -> InvitationStatus:
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= (now or _now()):
        return "expired"
    return "pending"


async def invite(
    session: AsyncSession,
    config: IdentityConfig,
    workspace: Workspace,
    *,
    email: str,
    role: Role,
    invited_by: User,
) -> Invitation:
    """Mail `email` a one-time link to join `workspace` as `role`. Nothing changes for the
    address until someone signed in with it accepts, and the answer is the same whether or not
    it has an account. Inviting an address again replaces its earlier invitation (a new token and
    expiry; the old link stops working)."""
    email = email.lower()
    member = await session.scalar(
        select(Membership.user_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.workspace_id == workspace.id, User.email == email)
    )
    if member is not None:  # the inviter sees the members anyway: nothing is disclosed
        raise errors.AlreadyMember(f"{email} is already a member of this workspace.")
    earlier = await session.scalar(
        select(Invitation).where(Invitation.workspace_id == workspace.id, Invitation.email == email)
    )
    if earlier is not None:
        await session.delete(earlier)
        await session.flush()
    token = security.random_token()
    invitation = Invitation(
        workspace_id=workspace.id,
        email=email,
        role=role,
        token_hash=security.keyed_hash(config.secret_key, token),
        invited_by_user_id=invited_by.id,
        expires_at=_now() + config.invitation_ttl,
    )
    session.add(invitation)
    await session.flush()
    link = _with_token(f"{config.public_url}{INVITATION_PATH}", token)
    until = invitation.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    await config.mailer.send(
        Mail(
            to=email,
            subject=f"You are invited to {workspace.name} on Paperworks",
            text=(
                f"{invited_by.name or invited_by.email} invited you to the workspace "
                f'"{workspace.name}" on Paperworks as {role}.\n\n'
                f"To join, sign in to Paperworks as {email} (with a password or a sign-in "
                f"link) and accept with this link:\n\n{link}\n\n"
                f"It works once, until {until}. If you did not expect it, ignore this "
                "message: nothing changes unless you accept.\n"
            ),
        )
    )
    return invitation


async def list_invitations(
    session: AsyncSession, workspace: Workspace, *, limit: int, cursor: str | None
) -> tuple[list[Invitation], str | None]:
    query = select(Invitation).where(Invitation.workspace_id == workspace.id)
    return await fetch_page(session, query, Invitation.id, limit=limit, cursor=cursor)


async def revoke_invitation(
    session: AsyncSession, workspace: Workspace, invitation_id: str
) -> None:
    """Its link stops working. Revoking one already revoked or expired changes nothing more."""
    invitation = await session.get(Invitation, invitation_id)
    if invitation is None or invitation.workspace_id != workspace.id:
        raise errors.InvitationNotFound(f"No invitation {invitation_id} in this workspace.")
    if invitation.accepted_at is not None:
        raise errors.InvitationAccepted("This invitation was accepted; remove the member instead.")
    if invitation.revoked_at is None:
        invitation.revoked_at = _now()
        await session.flush()


async def accept_invitation(
    session: AsyncSession, config: IdentityConfig, user: User, token: str
) -> tuple[Workspace, Role]:
    """Spend an invitation's token: `user`, signed in with the invited address, joins."""
    invitation = await session.scalar(
        select(Invitation).where(
            Invitation.token_hash == security.keyed_hash(config.secret_key, token)
        )
    )
    if invitation is None:
        raise errors.InvitationNotFound("This invitation link is invalid, or was replaced.")
    # Whoever holds another address's token learns nothing more about the invitation.
    if invitation.email != user.email.lower():
        raise errors.InvitationForAnotherAccount(
            "This invitation is for another address: sign in with the address it was sent to."
        )
    status = invitation_status(invitation)
    if status == "accepted":
        raise errors.InvitationUsed("This invitation was already accepted.")
    if status == "revoked":
        raise errors.InvitationRevoked("This invitation was revoked; ask for a new one.")
    if status == "expired":
        raise errors.InvitationExpired("This invitation has expired; ask for a new one.")
    now = _now()
    spent = await session.execute(  # single use, even when two requests race
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(accepted_at=now)
        .execution_options(synchronize_session="fetch")
    )
    if getattr(spent, "rowcount", 0) != 1:
        raise errors.InvitationUsed("This invitation was already accepted.")
    workspace = await session.get_one(Workspace, invitation.workspace_id)
    role = Role(invitation.role)
    await add_membership(session, workspace, user, role=role)
    return workspace, role


# --- API keys ---------------------------------------------------------------------------------


async def create_api_key(
    session: AsyncSession,
    config: IdentityConfig,
    caller: Caller,
    *,
    name: str,
    expires_at: datetime | None,
) -> tuple[ApiKey, str]:
    """A new key of the caller's in their workspace, and its secret, which is returned this once
    and stored only as a keyed hash."""
    secret = API_KEY_PREFIX + security.random_token()
    api_key = ApiKey(
        user_id=caller.user_id,
        workspace_id=caller.workspace,
        name=name,
        prefix=secret[:API_KEY_SHOWN_CHARS],
        secret_hash=security.keyed_hash(config.secret_key, secret),
        expires_at=expires_at,
    )
    session.add(api_key)
    await session.flush()
    return api_key, secret


async def list_api_keys(
    session: AsyncSession, caller: Caller, *, limit: int, cursor: str | None
) -> tuple[list[ApiKey], str | None]:
    query = select(ApiKey).where(
        ApiKey.user_id == caller.user_id,
        ApiKey.workspace_id == caller.workspace,
        ApiKey.revoked_at.is_(None),
    )
    return await fetch_page(session, query, ApiKey.id, limit=limit, cursor=cursor)


async def revoke_api_key(session: AsyncSession, caller: Caller, key_id: str) -> None:
    api_key = await session.get(ApiKey, key_id)
    if (
        api_key is None
        or api_key.user_id != caller.user_id
        or api_key.workspace_id != caller.workspace
        or api_key.revoked_at is not None
    ):
        raise errors.ApiKeyNotFound(f"No API key {key_id}.")
    api_key.revoked_at = _now()
    await session.flush()
    access_changed(
        session, AccessChange(user_id=api_key.user_id, workspace_id=api_key.workspace_id)
    )


async def authenticate_api_key(
    session: AsyncSession, config: IdentityConfig, secret: str
) -> tuple[User, ApiKey]:
    """The user and key behind a secret; revoked, expired, or its maker gone from the workspace
    (unless an admin, who may act in any): not a key any more."""
    user, api_key, _ = await _api_key_row(session, config, secret)
    return user, api_key


async def _api_key_row(
    session: AsyncSession, config: IdentityConfig, secret: str
) -> tuple[User, ApiKey, Role | None]:
    """`authenticate_api_key`, with the maker's role in the key's workspace (one query)."""
    now = _now()
    row = (
        await session.execute(
            select(ApiKey, User, Membership.role)
            .join(User, User.id == ApiKey.user_id)
            .outerjoin(
                Membership,
                (Membership.workspace_id == ApiKey.workspace_id)
                & (Membership.user_id == ApiKey.user_id),
            )
            .where(
                ApiKey.secret_hash == security.keyed_hash(config.secret_key, secret),
                ApiKey.revoked_at.is_(None),
                Membership.user_id.is_not(None) | User.is_admin,
            )
        )
    ).one_or_none()
    if row is None or (row[0].expires_at is not None and row[0].expires_at <= now):
        raise errors.InvalidApiKey("The API key is invalid, expired or revoked.")
    api_key, user, role = row
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_GRANULARITY:
        api_key.last_used_at = now
    return user, api_key, Role(role) if role else None


# --- callers ----------------------------------------------------------------------------------


async def signed_in_user(
    session: AsyncSession, config: IdentityConfig, credentials: Credentials
) -> tuple[User, ApiKey | None]:
    """The user behind an API key or an access token (the key wins), and the key if any."""
    if credentials.api_key:
        user, key = await authenticate_api_key(session, config, credentials.api_key)
        return user, key
    if credentials.bearer:
        return await user_from_access_token(session, config, credentials.bearer), None
    raise _no_credentials()


def _no_credentials() -> Unauthenticated:
    return Unauthenticated(
        "Send an access token (Authorization: Bearer ...) or an API key (X-API-Key)."
    )


async def caller_in(
    session: AsyncSession, user: User, api_key: ApiKey | None, workspace_id: str | None
) -> Caller:
    """The user acting in a workspace: the API key's, else the one asked for, else their own.
    Not a member (and no admin) of the one asked for: it does not exist."""
    if api_key is not None:
        workspace_id = api_key.workspace_id
    if workspace_id is None:
        workspace_id = (await personal_workspace(session, user)).id
    workspace, role = await workspace_for(session, user, workspace_id)
    return _caller(user, workspace.id, role, api_key)


async def caller_for(
    session: AsyncSession, config: IdentityConfig, credentials: Credentials
) -> Caller:
    """Who `credentials` stand for, in the workspace they ask for (see `caller_in`). One query:
    every authenticated request asks this, and it was three (user, workspace, role)."""
    if credentials.api_key:
        user, api_key, role = await _api_key_row(session, config, credentials.api_key)
        return _caller(user, api_key.workspace_id, role, api_key)
    if not credentials.bearer:
        raise _no_credentials()
    subject = _access_subject(config, credentials.bearer)
    asked = credentials.workspace_id
    row = (
        await session.execute(
            select(User, Workspace, Membership.role)
            .select_from(User)
            .outerjoin(
                Workspace,
                Workspace.id == asked if asked else Workspace.personal_for_user_id == User.id,
            )
            .outerjoin(
                Membership,
                (Membership.workspace_id == Workspace.id) & (Membership.user_id == User.id),
            )
            .where(User.id == subject)
        )
    ).one_or_none()
    if row is None:
        raise _account_gone()
    user, workspace, membership = row
    if workspace is None and asked is None:  # every account is created with one: a data bug
        raise RuntimeError(f"user {user.id} has no personal workspace")
    if workspace is None or (membership is None and not user.is_admin):
        raise errors.WorkspaceNotFound(f"No workspace {asked}.")
    return _caller(user, workspace.id, Role(membership) if membership else None, None)


def _caller(user: User, workspace_id: str, role: Role | None, api_key: ApiKey | None) -> Caller:
    return Caller(
        workspace_id=workspace_id,
        user_id=user.id,
        role=role,
        api_key_id=api_key.id if api_key is not None else None,
        is_admin=user.is_admin,
    )
