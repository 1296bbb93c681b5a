"""Console dependencies: the signed-in `Console` (else a redirect to sign in) and forms whose
CSRF token matches the session's."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from starlette.datastructures import FormData

from paperworks.console import session as cookie
from paperworks.console.pages import Console
from paperworks.identity import service as identity
from paperworks.identity.exceptions import WorkspaceNotFound
from paperworks.identity.models import User
from paperworks.kit.errors import AppError
from paperworks.services import ServicesDep, SessionDep


def local_path(path: str | None) -> str:
    """Where a form says to go next: a path on this site only, never another site."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


class SignInRequired(Exception):
    """No console session: the page answers with a redirect to the sign-in page."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.location = f"/sign-in?next={quote(path, safe='/')}"


class CsrfRejected(AppError):
    status_code = 403
    code = "console.csrf"
    title = "The form's security token does not match"


async def get_console(request: Request, session: SessionDep, services: ServicesDep) -> Console:
    found = cookie.read(request, services.identity.secret_key)
    user = await session.get(User, found.user_id) if found else None
    if found is None or user is None:
        raise SignInRequired(request.url.path)
    if not await identity.console_sign_in_active(session, found.sign_in_id, user.id):
        raise SignInRequired(request.url.path)  # signed out (elsewhere), or expired
    try:
        caller = await identity.caller_in(session, user, None, found.workspace_id)
    except WorkspaceNotFound:  # removed from it meanwhile: back to their own
        caller = await identity.caller_in(session, user, None, None)
    workspaces = await identity.memberships_of(session, user)
    return Console(user=user, caller=caller, session=found, workspaces=workspaces)


SignedInConsole = Annotated[Console, Depends(get_console)]


async def get_checked_form(request: Request, console: SignedInConsole) -> FormData:
    """The posted form, once its CSRF token (or `X-CSRF-Token`) matches the session's."""
    form = await request.form()
    presented = form.get("csrf") or request.headers.get("x-csrf-token")
    if not cookie.csrf_matches(console.session, presented if isinstance(presented, str) else None):
        raise CsrfRejected("Reload the page and try again.")
    return form


CheckedForm = Annotated[FormData, Depends(get_checked_form)]


async def same_site_post(request: Request) -> None:
    """Refuse a post another site's page made, where no session (so no CSRF token) exists yet:
    signing in, asking for or spending a sign-in link (login CSRF would sign a visitor in as the
    attacker). Browsers say where a request comes from (`Sec-Fetch-Site`, `Origin`); a client
    that says neither is no browser another site could drive."""
    fetched_from = request.headers.get("sec-fetch-site")
    if fetched_from is not None and fetched_from not in ("same-origin", "none"):
        raise CsrfRejected("Sign in from this site's own page.")
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        raise CsrfRejected("Sign in from this site's own page.")


SameSitePost = Depends(same_site_post)
