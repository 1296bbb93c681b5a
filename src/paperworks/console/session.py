"""The console's cookie session: who is signed in to the web console, in which workspace, and
the CSRF token its forms carry. The cookie names its sign-in's row on the server
(`identity.ConsoleSignIn`), which signing out deletes: a copy of the cookie then stops working.

Separate from the API's credentials: only console routes read the cookie (never `/api/v1`), so a
forged cross-site request cannot reach the API with it. The cookie is HttpOnly, SameSite=Lax and,
over https, Secure; it is a JWT signed with a key derived from the service's secret for this use
alone, so neither an access token nor a console cookie passes for the other. Every request that
changes something carries the session's CSRF token (a form field, or `X-CSRF-Token`): SameSite
already keeps other sites' posts from sending the cookie in current browsers, the token covers
the rest.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, replace

import jwt
from fastapi import Request, Response
from starlette.requests import cookie_parser
from starlette.types import Scope

COOKIE = "paperworks_console"
SESSION_SECONDS = 12 * 3600
_AUDIENCE = "paperworks-console"
_ALGORITHM = "HS256"


@dataclass(frozen=True)
class ConsoleSession:
    user_id: str
    sign_in_id: str  # its row on the server
    workspace_id: str | None  # None: the user's personal workspace
    csrf: str
    expires_at: int

    @classmethod
    def start(cls, user_id: str, sign_in_id: str, expires_at: int) -> ConsoleSession:
        return cls(user_id, sign_in_id, None, secrets.token_urlsafe(24), expires_at)

    def in_workspace(self, workspace_id: str) -> ConsoleSession:
        return replace(self, workspace_id=workspace_id)


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"console session", hashlib.sha256).digest()


def encode(session: ConsoleSession, secret: str) -> str:
    claims = {
        "sub": session.user_id,
        "sid": session.sign_in_id,
        "ws": session.workspace_id,
        "csrf": session.csrf,
        "exp": session.expires_at,
        "aud": _AUDIENCE,
    }
    return jwt.encode(claims, _key(secret), algorithm=_ALGORITHM)


def decode(token: str, secret: str) -> ConsoleSession | None:
    """The session a cookie holds; None when it is forged, expired or not a console cookie."""
    try:
        claims = jwt.decode(
            token,
            _key(secret),
            algorithms=[_ALGORITHM],
            audience=_AUDIENCE,
            options={"require": ["sub", "sid", "csrf", "exp"]},
        )
    except jwt.PyJWTError:
        return None
    return ConsoleSession(
        user_id=str(claims["sub"]),
        sign_in_id=str(claims["sid"]),
        workspace_id=claims.get("ws"),
        csrf=str(claims["csrf"]),
        expires_at=int(claims["exp"]),
    )


def read(request: Request, secret: str) -> ConsoleSession | None:
    token = request.cookies.get(COOKIE)
    return decode(token, secret) if token else None


def keep(response: Response, request: Request, session: ConsoleSession, secret: str) -> None:
    response.set_cookie(
        COOKIE,
        encode(session, secret),
        max_age=max(0, session.expires_at - int(time.time())),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def end(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")


def csrf_matches(session: ConsoleSession, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(session.csrf, presented or "")


class RateLimitPrincipal:
    """Names the console's user for the rate limiter (`user:<id>`, the API's name for them, so a
    user's pages and API calls share one budget): a signed cookie is enough here; whether its
    sign-in still stands is each page's to check."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    async def __call__(self, scope: Scope) -> str | None:
        for name, value in scope["headers"]:
            if name == b"cookie":
                token = cookie_parser(value.decode("latin-1")).get(COOKIE)
                found = decode(token, self.secret) if token else None
                if found is not None:
                    return f"user:{found.user_id}"
        return None
