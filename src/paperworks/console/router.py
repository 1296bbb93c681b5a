"""The console's own pages: signing in (password or a mailed link) and out, switching
workspace, the home page, and following a job live; each product adds its screens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.console import session as cookie
from paperworks.console.dependencies import (
    CheckedForm,
    SameSitePost,
    SignedInConsole,
    local_path,
)
from paperworks.console.pages import Templates
from paperworks.events import service as events
from paperworks.events.schemas import EventOut
from paperworks.identity import service as identity
from paperworks.identity.caller import Caller
from paperworks.identity.exceptions import InvalidCredentials, InvalidMagicLink
from paperworks.identity.models import User
from paperworks.jobs import service as jobs
from paperworks.jobs.schemas import JobOut
from paperworks.jobs.stream import job_stream
from paperworks.kit.errors import Unauthenticated
from paperworks.kit.mail import MailUnavailable
from paperworks.services import ServicesDep, SessionDep

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
templates = Templates()
MAGIC_PAGE = "/sign-in/magic"


def _signed_in(request: Request, user: User, services: ServicesDep, to: str) -> Response:
    response = RedirectResponse(local_path(to), status_code=303)
    cookie.keep(
        response, request, cookie.ConsoleSession.start(user.id), services.identity.secret_key
    )
    return response


@router.get("/")
async def home(request: Request, console: SignedInConsole) -> Response:
    return templates.render(request, "home.html", console)


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str | None = None) -> Response:
    return templates.render(request, "sign_in.html", next=local_path(next))


@router.post("/sign-in", dependencies=[SameSitePost])
async def sign_in(
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        user = await identity.authenticate(
            session, services.identity, email=email.strip(), password=password
        )
    except InvalidCredentials as error:
        return templates.render(
            request, "sign_in.html", status_code=401, error=error.detail, email=email, next=next
        )
    return _signed_in(request, user, services, next)


@router.post("/sign-in/link", dependencies=[SameSitePost])
async def send_sign_in_link(
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    email: Annotated[str, Form(max_length=320)],
) -> Response:
    address = email.strip()
    if "@" not in address:
        return templates.render(
            request, "sign_in.html", status_code=422, error="That is not an email address."
        )
    try:
        await identity.send_magic_link(
            session, services.identity, email=address, redirect_url=None, page=MAGIC_PAGE
        )
    except MailUnavailable:
        return templates.render(
            request, "sign_in.html", status_code=503, error="Mail cannot be sent just now."
        )
    return templates.render(request, "link_sent.html", email=address)


@router.get(MAGIC_PAGE)
async def magic_link_page(
    request: Request, token: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    # Spent only by the button: mail scanners that open links must not use it up.
    return templates.render(request, "magic.html", token=token)


@router.post(MAGIC_PAGE, dependencies=[SameSitePost])
async def redeem_link(
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    token: Annotated[str, Form(max_length=200)],
) -> Response:
    try:
        user = await identity.redeem_magic_link(session, services.identity, token)
    except InvalidMagicLink as error:
        return templates.render(request, "magic.html", status_code=400, error=error.detail)
    return _signed_in(request, user, services, "/")


@router.post("/sign-out")
async def sign_out(form: CheckedForm) -> Response:
    response = RedirectResponse("/sign-in", status_code=303)
    cookie.end(response)
    return response


@router.post("/workspace")
async def switch_workspace(
    request: Request, console: SignedInConsole, services: ServicesDep, form: CheckedForm
) -> Response:
    chosen = str(form.get("workspace", ""))
    back = local_path(str(form.get("next", "/")))
    if not any(workspace.id == chosen for workspace, _ in console.workspaces):
        return RedirectResponse(back, status_code=303)  # not theirs (any more): nothing changes
    response = RedirectResponse(back, status_code=303)
    cookie.keep(
        response, request, console.session.in_workspace(chosen), services.identity.secret_key
    )
    return response


@router.get("/jobs")
async def job_list(
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Every job of the workspace, oldest first, those still running with a live bar."""
    found, next_cursor = await jobs.list_jobs(
        session, console.caller, kind=None, status=None, limit=PAGE_SIZE, cursor=cursor
    )
    shown = [(JobOut.of(job), jobs.is_finished(job)) for job in found]
    return templates.render(request, "jobs.html", console, jobs=shown, next_cursor=next_cursor)


@router.get("/timeline/{resource_type}/{resource_id}")
async def timeline(
    resource_type: Annotated[str, Path(max_length=50)],
    resource_id: Annotated[str, Path(max_length=64)],
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """What happened to one resource (a deck, a job, a book...), in order, and who did it."""
    found, next_cursor = await events.timeline(
        session,
        console.caller,
        resource_type=resource_type,
        resource_id=resource_id,
        limit=PAGE_SIZE,
        cursor=cursor,
    )
    return templates.render(
        request,
        "timeline.html",
        console,
        events=[EventOut.of(event) for event in found],
        resource=f"{resource_type} {resource_id}",
        next_cursor=next_cursor,
    )


@router.get("/console/jobs/{job_id}/stream")
async def follow_job(
    job_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
) -> StreamingResponse:
    """A job's progress for the console's progress bars, as the API's SSE stream gives it."""
    user_id, workspace_id = console.user.id, console.caller.workspace_id

    async def caller_now(poll: AsyncSession) -> Caller:
        user = await poll.get(User, user_id)
        if user is None:
            raise Unauthenticated("The account is gone.")
        return await identity.caller_in(poll, user, None, workspace_id)

    return await job_stream(
        session, services, console.caller, job_id, caller_now, request.is_disconnected
    )
