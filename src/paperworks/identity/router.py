"""Identity's HTTP surface under /api/v1: auth, workspaces, members and invitations, API keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.responses import HTMLResponse
from fastapi.security import OAuth2PasswordRequestForm

from paperworks.identity import exceptions as errors
from paperworks.identity import schemas, service
from paperworks.identity.dependencies import (
    CurrentCaller,
    CurrentUser,
    IdentityConfigDep,
    PathCaller,
    PathWorkspace,
    get_caller,
    get_path_caller,
    get_signed_in,
)
from paperworks.identity.models import ApiKey, Invitation, Membership, User, Workspace
from paperworks.identity.roles import Role
from paperworks.kit.errors import Unauthenticated, declare_problems, problem_responses
from paperworks.kit.mail import MailUnavailable
from paperworks.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from paperworks.kit.security_headers import no_store, page_csp
from paperworks.services import SessionDep

router = APIRouter(prefix="/api/v1")
# Where sign-in links point when PAPERWORKS_PUBLIC_URL is this service itself.
pages = APIRouter()
TEMPLATES = Path(__file__).parent / "templates"
MAGIC_LINK_PAGE = (TEMPLATES / "magic_link.html").read_text()
MAGIC_LINK_PAGE_CSP = page_csp(MAGIC_LINK_PAGE)
# Answers that carry tokens or a new key's secret: no cache may keep them.
NO_STORE = Depends(no_store)
INVITATION_PAGE = (TEMPLATES / "invitation.html").read_text()
INVITATION_PAGE_CSP = page_csp(INVITATION_PAGE)

# What the dependencies that say who is calling answer with, in the OpenAPI operation of every
# route (of every product) that runs them.
SIGN_IN_PROBLEMS = (Unauthenticated, errors.InvalidToken, errors.InvalidApiKey)
declare_problems(get_signed_in, *SIGN_IN_PROBLEMS)
declare_problems(get_caller, *SIGN_IN_PROBLEMS, errors.WorkspaceNotFound)
declare_problems(get_path_caller, errors.WorkspaceNotFound)

AUTH = "auth"
WORKSPACES = "workspaces"
API_KEYS = "api keys"


def signed_in(user: User, tokens: service.IssuedTokens) -> schemas.SignedIn:
    return schemas.SignedIn(
        user=schemas.UserOut.model_validate(user),
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
    )


def _workspace_out(workspace: Workspace, role: Role | None) -> schemas.WorkspaceOut:
    return schemas.WorkspaceOut(
        id=workspace.id,
        name=workspace.name,
        personal=workspace.personal_for_user_id is not None,
        role=role,
        created_at=workspace.created_at,
        updated_at=workspace.updated_at,
    )


def _member_out(membership: Membership, user: User) -> schemas.MemberOut:
    return schemas.MemberOut(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=Role(membership.role),
        joined_at=membership.created_at,
    )


# --- auth -------------------------------------------------------------------------------------


@router.post(
    "/auth/register",
    tags=[AUTH],
    status_code=status.HTTP_201_CREATED,
    summary="Sign up with email and password",
    dependencies=[NO_STORE],
    responses=problem_responses(errors.EmailTaken),
)
async def register(
    body: schemas.RegisterRequest, session: SessionDep, config: IdentityConfigDep
) -> schemas.SignedIn:
    user = await service.register(
        session, config, email=body.email, password=body.password, name=body.name
    )
    return signed_in(user, await service.issue_tokens(session, config, user))


@router.post(
    "/auth/login",
    tags=[AUTH],
    summary="Sign in with email and password",
    dependencies=[NO_STORE],
    responses=problem_responses(errors.InvalidCredentials),
)
async def login(
    body: schemas.LoginRequest, session: SessionDep, config: IdentityConfigDep
) -> schemas.SignedIn:
    user = await service.authenticate(session, config, email=body.email, password=body.password)
    return signed_in(user, await service.issue_tokens(session, config, user))


@router.post(
    "/auth/token",
    tags=[AUTH],
    summary="Sign in with the OAuth2 password form (for the docs' Authorize button)",
    dependencies=[NO_STORE],
    responses=problem_responses(errors.InvalidCredentials),
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    config: IdentityConfigDep,
) -> schemas.OAuth2Token:
    user = await service.authenticate(session, config, email=form.username, password=form.password)
    tokens = await service.issue_tokens(session, config, user)
    return schemas.OAuth2Token(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
    )


@router.post(
    "/auth/refresh",
    tags=[AUTH],
    summary="Trade a refresh token for a new pair (the old one is spent)",
    dependencies=[NO_STORE],
    responses=problem_responses(errors.InvalidToken, errors.RefreshTokenReused, errors.SignedOut),
)
async def refresh(
    body: schemas.RefreshRequest, session: SessionDep, config: IdentityConfigDep
) -> schemas.SignedIn:
    user, tokens = await service.rotate_refresh_token(session, config, body.refresh_token)
    return signed_in(user, tokens)


@router.post(
    "/auth/logout",
    tags=[AUTH],
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Sign out: revoke this refresh token and every token rotated from it",
    responses=problem_responses(errors.InvalidToken),
)
async def logout(
    body: schemas.RefreshRequest, session: SessionDep, config: IdentityConfigDep
) -> Response:
    await service.sign_out(session, config, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/auth/magic-link",
    tags=[AUTH],
    status_code=status.HTTP_202_ACCEPTED,
    summary="Mail a one-time sign-in link (signs up a new address on first use)",
    responses=problem_responses(errors.RedirectNotAllowed),
)
async def magic_link(
    body: schemas.MagicLinkRequest, session: SessionDep, config: IdentityConfigDep
) -> schemas.MagicLinkSent:
    await service.send_magic_link(session, config, email=body.email, redirect_url=body.redirect_url)
    return schemas.MagicLinkSent()


@router.post(
    "/auth/magic-link/verify",
    tags=[AUTH],
    summary="Sign in with the token from a sign-in link",
    dependencies=[NO_STORE],
    responses=problem_responses(errors.InvalidMagicLink),
)
async def verify_magic_link(
    body: schemas.MagicLinkVerifyRequest, session: SessionDep, config: IdentityConfigDep
) -> schemas.SignedIn:
    user = await service.redeem_magic_link(session, config, body.token)
    return signed_in(user, await service.issue_tokens(session, config, user))


@pages.get(
    "/auth/magic",
    tags=[AUTH],
    summary="The page a sign-in link opens: one click spends the token",
    response_class=HTMLResponse,
)
async def magic_link_page() -> HTMLResponse:
    return HTMLResponse(
        MAGIC_LINK_PAGE,
        headers={"Cache-Control": "no-store", "Content-Security-Policy": MAGIC_LINK_PAGE_CSP},
    )


@router.get("/auth/me", tags=[AUTH], summary="Who am I, and in which workspaces")
async def me(user: CurrentUser, session: SessionDep) -> schemas.Me:
    memberships = await service.memberships_of(session, user)
    return schemas.Me(
        **schemas.UserOut.model_validate(user).model_dump(),
        workspaces=[
            schemas.WorkspaceRole(id=workspace.id, name=workspace.name, role=role)
            for workspace, role in memberships
        ],
    )


# --- workspaces -------------------------------------------------------------------------------


@router.get("/workspaces", tags=[WORKSPACES], summary="The workspaces I belong to")
async def list_workspaces(
    user: CurrentUser, session: SessionDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[schemas.WorkspaceOut]:
    rows, next_cursor = await service.list_workspaces(session, user, limit=limit, cursor=cursor)
    return Page(items=[_workspace_out(ws, role) for ws, role in rows], next_cursor=next_cursor)


@router.post(
    "/workspaces",
    tags=[WORKSPACES],
    status_code=status.HTTP_201_CREATED,
    summary="Create a workspace; I become its owner",
)
async def create_workspace(
    body: schemas.WorkspaceCreate, user: CurrentUser, session: SessionDep
) -> schemas.WorkspaceOut:
    workspace = await service.create_workspace(session, user, name=body.name)
    return _workspace_out(workspace, Role.owner)


@router.get(
    "/workspaces/{workspace_id}",
    tags=[WORKSPACES],
    summary="One of my workspaces",
    responses=problem_responses(errors.WorkspaceNotFound),
)
async def get_workspace(caller: PathCaller, workspace: PathWorkspace) -> schemas.WorkspaceOut:
    return _workspace_out(workspace, caller.role)


@router.patch(
    "/workspaces/{workspace_id}",
    tags=[WORKSPACES],
    summary="Rename a workspace (owners)",
    responses=problem_responses(errors.WorkspaceNotFound, errors.MissingPermission),
)
async def update_workspace(
    body: schemas.WorkspaceUpdate, caller: PathCaller, workspace: PathWorkspace, session: SessionDep
) -> schemas.WorkspaceOut:
    caller.require("workspace:update")
    workspace = await service.rename_workspace(session, workspace, name=body.name)
    return _workspace_out(workspace, caller.role)


@router.delete(
    "/workspaces/{workspace_id}",
    tags=[WORKSPACES],
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a workspace and everything in it (owners; not the personal one)",
    responses=problem_responses(
        errors.WorkspaceNotFound,
        errors.MissingPermission,
        errors.PersonalWorkspace,
    ),
)
async def delete_workspace(
    caller: PathCaller, workspace: PathWorkspace, session: SessionDep
) -> Response:
    caller.require("workspace:delete")
    await service.delete_workspace(session, workspace)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/workspaces/{workspace_id}/members",
    tags=[WORKSPACES],
    summary="Who is in a workspace",
    responses=problem_responses(errors.WorkspaceNotFound),
)
async def list_members(
    caller: PathCaller,
    workspace: PathWorkspace,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[schemas.MemberOut]:
    caller.require("members:read")
    rows, next_cursor = await service.list_members(session, workspace, limit=limit, cursor=cursor)
    return Page(items=[_member_out(m, u) for m, u in rows], next_cursor=next_cursor)


# --- invitations ------------------------------------------------------------------------------


def _invitation_out(invitation: Invitation) -> schemas.InvitationOut:
    return schemas.InvitationOut(
        id=invitation.id,
        workspace_id=invitation.workspace_id,
        email=invitation.email,
        role=Role(invitation.role),
        status=service.invitation_status(invitation),
        expires_at=invitation.expires_at,
        created_at=invitation.created_at,
    )


@router.post(
    "/workspaces/{workspace_id}/invitations",
    tags=[WORKSPACES],
    status_code=status.HTTP_201_CREATED,
    summary="Invite an address by mail (owners); it joins only when it accepts",
    description=(
        "Mails a one-time link, valid for `PAPERWORKS_INVITATION_SECONDS` (7 days by default). "
        "The answer is the same whether or not the address has an account, and the workspace "
        "reaches nobody until they accept. Inviting a pending address again replaces its "
        "invitation: a new link and expiry, and the old link stops working."
    ),
    responses=problem_responses(
        errors.WorkspaceNotFound,
        errors.MissingPermission,
        errors.AlreadyMember,
        MailUnavailable,
    ),
)
async def invite(
    body: schemas.InvitationCreate,
    caller: PathCaller,
    workspace: PathWorkspace,
    inviter: CurrentUser,
    session: SessionDep,
    config: IdentityConfigDep,
) -> schemas.InvitationOut:
    caller.require("members:manage")
    invitation = await service.invite(
        session, config, workspace, email=body.email, role=body.role, invited_by=inviter
    )
    return _invitation_out(invitation)


@router.get(
    "/workspaces/{workspace_id}/invitations",
    tags=[WORKSPACES],
    summary="A workspace's invitations, pending or not (owners)",
    responses=problem_responses(errors.WorkspaceNotFound, errors.MissingPermission),
)
async def list_invitations(
    caller: PathCaller,
    workspace: PathWorkspace,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[schemas.InvitationOut]:
    caller.require("members:manage")
    rows, next_cursor = await service.list_invitations(
        session, workspace, limit=limit, cursor=cursor
    )
    return Page(items=[_invitation_out(row) for row in rows], next_cursor=next_cursor)


@router.delete(
    "/workspaces/{workspace_id}/invitations/{invitation_id}",
    tags=[WORKSPACES],
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an invitation (owners): its link stops working",
    responses=problem_responses(
        errors.WorkspaceNotFound,
        errors.InvitationNotFound,
        errors.MissingPermission,
        errors.InvitationAccepted,
    ),
)
async def revoke_invitation(
    invitation_id: str, caller: PathCaller, workspace: PathWorkspace, session: SessionDep
) -> Response:
    caller.require("members:manage")
    await service.revoke_invitation(session, workspace, invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/invitations/accept",
    tags=[WORKSPACES],
    summary="Accept an invitation, signed in with the address it was sent to",
    responses=problem_responses(
        errors.InvalidToken,
        errors.InvitationForAnotherAccount,
        errors.InvitationNotFound,
        errors.AlreadyMember,
        errors.InvitationGone,
    ),
)
async def accept_invitation(
    body: schemas.InvitationAccept,
    user: CurrentUser,
    session: SessionDep,
    config: IdentityConfigDep,
) -> schemas.WorkspaceOut:
    workspace, role = await service.accept_invitation(session, config, user, body.token)
    return _workspace_out(workspace, role)


@pages.get(
    service.INVITATION_PATH,
    tags=[WORKSPACES],
    summary="The page an invitation link opens: accept it as the invited account",
    response_class=HTMLResponse,
)
async def invitation_page() -> HTMLResponse:
    return HTMLResponse(
        INVITATION_PAGE,
        headers={"Cache-Control": "no-store", "Content-Security-Policy": INVITATION_PAGE_CSP},
    )


@router.patch(
    "/workspaces/{workspace_id}/members/{user_id}",
    tags=[WORKSPACES],
    summary="Change a member's role (owners)",
    responses=problem_responses(errors.MemberNotFound, errors.MissingPermission, errors.LastOwner),
)
async def change_member_role(
    user_id: str,
    body: schemas.MemberUpdate,
    caller: PathCaller,
    workspace: PathWorkspace,
    session: SessionDep,
) -> schemas.MemberOut:
    caller.require("members:manage")
    membership, user = await service.change_role(
        session, workspace, user_id=user_id, role=body.role
    )
    return _member_out(membership, user)


@router.delete(
    "/workspaces/{workspace_id}/members/{user_id}",
    tags=[WORKSPACES],
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a member (owners), or leave (anyone)",
    responses=problem_responses(errors.MemberNotFound, errors.MissingPermission, errors.LastOwner),
)
async def remove_member(
    user_id: str, caller: PathCaller, workspace: PathWorkspace, session: SessionDep
) -> Response:
    if user_id != caller.user_id:
        caller.require("members:manage")
    await service.remove_member(session, workspace, user_id=user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- API keys ---------------------------------------------------------------------------------


def _api_key_out(api_key: ApiKey) -> schemas.ApiKeyOut:
    return schemas.ApiKeyOut.model_validate(api_key)


@router.post(
    "/api-keys",
    tags=[API_KEYS],
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key for the active workspace; the secret is shown this once",
    dependencies=[NO_STORE],
)
async def create_api_key(
    body: schemas.ApiKeyCreate,
    caller: CurrentCaller,
    session: SessionDep,
    config: IdentityConfigDep,
) -> schemas.ApiKeyCreated:
    caller.require("api_keys:manage")
    api_key, secret = await service.create_api_key(
        session, config, caller, name=body.name, expires_at=body.expires_at
    )
    return schemas.ApiKeyCreated(
        id=api_key.id,
        name=api_key.name,
        prefix=api_key.prefix,
        key=secret,
        workspace_id=api_key.workspace_id,
        created_at=api_key.created_at,
        expires_at=api_key.expires_at,
    )


@router.get("/api-keys", tags=[API_KEYS], summary="My API keys in the active workspace")
async def list_api_keys(
    caller: CurrentCaller, session: SessionDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[schemas.ApiKeyOut]:
    keys, next_cursor = await service.list_api_keys(session, caller, limit=limit, cursor=cursor)
    return Page(items=[_api_key_out(key) for key in keys], next_cursor=next_cursor)


@router.delete(
    "/api-keys/{key_id}",
    tags=[API_KEYS],
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an API key",
    responses=problem_responses(errors.ApiKeyNotFound),
)
async def revoke_api_key(key_id: str, caller: CurrentCaller, session: SessionDep) -> Response:
    await service.revoke_api_key(session, caller, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
