"""The console's own pages: signing in (password, a mailed link or single sign-on) and out,
switching workspace, the home page, and following a job live; each product adds its screens."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote, unquote, urlencode

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
from paperworks.identity import sso
from paperworks.identity.caller import Caller
from paperworks.identity.exceptions import InvalidCredentials, InvalidMagicLink, InvalidSsoCode
from paperworks.identity.models import User
from paperworks.identity.sso_router import REDIRECTED_ERRORS, SSO_PATH
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
# Marks the browser that started a single sign-on here, and holds where to go after it.
SSO_COOKIE = "paperworks_console_sso"
SSO_START = "/sign-in/with"  # /sign-in/with/{provider}: a provider's button
SSO_PAGES = "/sign-in"  # where the cookie is sent: the start and the return page
SSO_REFUSALS = {error.code: error.title for error in REDIRECTED_ERRORS}


async def _signed_in(
    request: Request, session: AsyncSession, user: User, services: ServicesDep, to: str
) -> Response:
    """A new console sign-in for `user`, its cookie, and off to the page `to`."""
    lifetime = timedelta(seconds=cookie.SESSION_SECONDS)
    sign_in = await identity.start_console_sign_in(session, user, lifetime=lifetime)
    expires_at = int(sign_in.expires_at.timestamp())
    response = RedirectResponse(local_path(to), status_code=303)
    started = cookie.ConsoleSession.start(user.id, sign_in.id, expires_at)
    cookie.keep(response, request, started, services.identity.secret_key)
    return response


@router.get("/")
async def home(request: Request, console: SignedInConsole) -> Response:
    return templates.render(request, "home.html", console)


def _sign_in_page(
    request: Request, services: ServicesDep, *, status_code: int = 200, **context: Any
) -> Response:
    """The sign-in page, with a button for each single sign-on provider configured."""
    providers = [(client.name, client.provider.label) for client in services.identity.sso]
    return templates.render(
        request, "sign_in.html", status_code=status_code, providers=providers, **context
    )


@router.get("/sign-in")
async def sign_in_page(
    request: Request, services: ServicesDep, next: str | None = None
) -> Response:
    return _sign_in_page(request, services, next=local_path(next))


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
        return _sign_in_page(
            request, services, status_code=401, error=error.detail, email=email, next=next
        )
    return await _signed_in(request, session, user, services, next)


@router.post("/sign-in/link", dependencies=[SameSitePost])
async def send_sign_in_link(
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    email: Annotated[str, Form(max_length=320)],
) -> Response:
    address = email.strip()
    if "@" not in address:
        return _sign_in_page(
            request, services, status_code=422, error="That is not an email address."
        )
    try:
        await identity.send_magic_link(
            session, services.identity, email=address, redirect_url=None, page=MAGIC_PAGE
        )
    except MailUnavailable:
        return _sign_in_page(
            request, services, status_code=503, error="Mail cannot be sent just now."
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
    return await _signed_in(request, session, user, services, "/")


@router.get(sso.CONSOLE_RETURN_PATH)
async def finish_single_sign_on(
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    code: Annotated[str | None, Query(max_length=200)] = None,
    error: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """The provider's answer, through the API's callback: the one-time code becomes a console
    session, in the browser that started the sign-in only."""
    started = request.cookies.get(SSO_COOKIE)
    if started is None:
        said = "This sign-in was not started in this browser; start it again here."
        return _sign_in_page(request, services, status_code=400, error=said)
    if error or not code:
        said = SSO_REFUSALS.get(error or "", "The provider did not sign you in")
        return _sign_in_page(request, services, status_code=401, error=f"{said}.")
    try:
        user = await sso.exchange_code(session, services.identity, code)
    except InvalidSsoCode as refused:
        return _sign_in_page(request, services, status_code=401, error=refused.detail)
    response = await _signed_in(request, session, user, services, unquote(started))
    response.delete_cookie(SSO_COOKIE, path=SSO_PAGES)
    return response


@router.get(f"{SSO_START}/{{provider}}")
async def start_single_sign_on(
    provider: Annotated[str, Path(max_length=100)],
    request: Request,
    services: ServicesDep,
    next: str | None = None,
) -> Response:
    """Off to the API's sign-in with the provider, to come back to the console's own page. The
    cookie set here is what that page asks for: a code brought by a link from elsewhere finds
    no cookie in the browser and signs nobody in (login CSRF)."""
    config = services.identity
    if provider not in config.sso:
        return _sign_in_page(request, services, status_code=404, error="No such sign-in provider.")
    query = urlencode({"redirectUrl": sso.console_return_url(config)})
    response = RedirectResponse(f"{SSO_PATH}/{provider}/login?{query}", status_code=303)
    response.set_cookie(
        SSO_COOKIE,
        quote(local_path(next), safe=""),
        max_age=int(sso.LOGIN_TTL.total_seconds()),
        path=SSO_PAGES,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",  # sent on the provider's top-level redirect back
    )
    return response


@router.post("/sign-out")
async def sign_out(console: SignedInConsole, session: SessionDep, form: CheckedForm) -> Response:
    """Ends the sign-in on the server too: a copy of the cookie no longer works."""
    await identity.end_console_sign_in(session, console.session.sign_in_id)
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
