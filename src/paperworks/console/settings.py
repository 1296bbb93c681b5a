"""Settings in the console: the workspace's members and invitations, and the user's API keys in
it. Each change is the API's: the same service call behind the same permission check."""

from __future__ import annotations

from contextlib import suppress

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from paperworks.console.dependencies import CheckedForm, SignedInConsole
from paperworks.console.pages import Templates
from paperworks.identity import schemas
from paperworks.identity import service as identity
from paperworks.identity.exceptions import (
    AlreadyMember,
    ApiKeyNotFound,
    LastOwner,
    MemberNotFound,
    MissingPermission,
    PersonalWorkspace,
)
from paperworks.identity.roles import Role
from paperworks.kit.mail import MailUnavailable
from paperworks.services import ServicesDep, SessionDep

router = APIRouter(include_in_schema=False)
templates = Templates()
SHOWN = 100


async def _page(
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    *,
    status_code: int = 200,
    error: str | None = None,
    new_key: str | None = None,
    notice: str | None = None,
) -> Response:
    caller = console.caller
    members = []
    if caller.allows("members:read"):
        rows, _ = await identity.list_members(session, console.workspace, limit=SHOWN, cursor=None)
        members = [(user, Role(membership.role)) for membership, user in rows]
    keys, _ = await identity.list_api_keys(session, caller, limit=SHOWN, cursor=None)
    return templates.render(
        request,
        "settings.html",
        console,
        status_code=status_code,
        members=members,
        keys=keys,
        roles=list(Role),
        can_invite=caller.allows("members:manage"),
        can_manage_webhooks=caller.allows("webhooks:manage"),
        can_make_keys=caller.allows("api_keys:manage"),
        error=error,
        new_key=new_key,
        notice=notice,
    )


@router.get("/settings")
async def settings_page(
    request: Request, console: SignedInConsole, session: SessionDep
) -> Response:
    return await _page(request, console, session)


@router.post("/settings/api-keys")
async def create_api_key(
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
    form: CheckedForm,
) -> Response:
    try:
        console.caller.require("api_keys:manage")
        body = schemas.ApiKeyCreate(name=str(form.get("name") or ""))
        _, secret = await identity.create_api_key(
            session, services.identity, console.caller, name=body.name, expires_at=None
        )
    except (ValidationError, MissingPermission) as error:
        said = "Give the key a name." if isinstance(error, ValidationError) else error.detail
        return await _page(request, console, session, status_code=422, error=said)
    # Shown on this page only, never again (the page is not cached: Cache-Control: no-store).
    return await _page(request, console, session, status_code=201, new_key=secret)


@router.post("/settings/api-keys/{key_id}/revoke")
async def revoke_api_key(
    key_id: str, console: SignedInConsole, session: SessionDep, form: CheckedForm
) -> Response:
    with suppress(ApiKeyNotFound):  # revoked meanwhile: the list shows what is left
        await identity.revoke_api_key(session, console.caller, key_id)
    return RedirectResponse("/settings", status_code=303)


@router.post("/settings/invitations")
async def invite(
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
    form: CheckedForm,
) -> Response:
    try:
        console.caller.require("members:manage")
        body = schemas.InvitationCreate.model_validate(
            {"email": str(form.get("email") or ""), "role": str(form.get("role") or "member")}
        )
        await identity.invite(
            session,
            services.identity,
            console.workspace,
            email=body.email,
            role=body.role,
            invited_by=console.user,
        )
    except ValidationError:
        return await _page(
            request, console, session, status_code=422, error="That is not an email address."
        )
    except (MissingPermission, AlreadyMember, MailUnavailable) as error:
        return await _page(request, console, session, status_code=422, error=error.detail)
    return await _page(request, console, session, notice=f"Invited {body.email}.")


@router.post("/settings/members/{user_id}")
async def change_member(
    user_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    form: CheckedForm,
) -> Response:
    """Give a member another role, or remove them (`action=remove`); anyone may leave."""
    workspace = console.workspace
    try:
        if form.get("action") == "remove":
            if user_id != console.user.id:
                console.caller.require("members:manage")
            await identity.remove_member(session, workspace, user_id=user_id)
            if user_id == console.user.id:
                return RedirectResponse("/", status_code=303)
            return await _page(request, console, session, notice="Removed from the workspace.")
        console.caller.require("members:manage")
        role = Role(str(form.get("role") or ""))
        _, user = await identity.change_role(session, workspace, user_id=user_id, role=role)
    except ValueError:
        return await _page(request, console, session, status_code=422, error="Pick a role.")
    except (MissingPermission, MemberNotFound, LastOwner, PersonalWorkspace) as error:
        return await _page(request, console, session, status_code=422, error=error.detail)
    return await _page(request, console, session, notice=f"{user.email} is now {role.value}.")
