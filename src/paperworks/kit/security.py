"""Security primitives: password hashing, signed tokens, keyed hashes, random secrets.

No domain knowledge here: identity decides what a token means, this module only makes and checks
them. Blocking work (bcrypt) runs in a worker thread so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.bcrypt import BcryptHasher

JWT_ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("sub", "exp", "iat", "jti", "type")
PASSWORD_MIN_BYTES = 8
PASSWORD_MAX_BYTES = 72  # bcrypt ignores everything after the 72nd byte; we refuse it instead


class InvalidToken(Exception):
    """A token that is malformed, forged, expired or of the wrong type."""


def password_problem(password: str) -> str | None:
    """Why a password is unacceptable, or None. Counted in UTF-8 bytes, as bcrypt sees it."""
    size = len(password.encode("utf-8"))
    if size < PASSWORD_MIN_BYTES:
        return f"must be at least {PASSWORD_MIN_BYTES} bytes"
    if size > PASSWORD_MAX_BYTES:
        return f"must be at most {PASSWORD_MAX_BYTES} bytes of UTF-8 (bcrypt's limit)"
    return None


class PasswordHasher:
    def __init__(self, rounds: int) -> None:
        self._hash = PasswordHash((BcryptHasher(rounds=rounds),))
        # Checked against when the account does not exist, so an unknown email costs the same
        # time as a wrong password and timing tells an attacker nothing.
        self._decoy: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hash.hash, password)

    async def verify(self, password: str, stored: str | None) -> tuple[bool, str | None]:
        """(matches, new hash if the stored one was made with other parameters).

        A password we would never have accepted (bcrypt refuses more than 72 bytes) cannot
        match; it still costs one bcrypt check, like any other wrong password."""
        if stored is None or password_problem(password) is not None:
            await self._spend_a_check()
            return False, None
        return await asyncio.to_thread(self._hash.verify_and_update, password, stored)

    async def _spend_a_check(self) -> None:
        if self._decoy is None:
            self._decoy = await self.hash(secrets.token_urlsafe(16))
        await asyncio.to_thread(self._hash.verify, "not the password", self._decoy)


def encode_token(secret: str, *, subject: str, token_type: str, ttl: timedelta, jti: str) -> str:
    now = datetime.now(UTC)
    claims = {"sub": subject, "type": token_type, "jti": jti, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM)


def decode_token(secret: str, token: str, *, token_type: str) -> dict[str, Any]:
    """The claims of a valid token of `token_type`; anything else raises `InvalidToken`.

    The algorithm is pinned: `alg: none` and tokens signed with another algorithm are refused.
    """
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[JWT_ALGORITHM], options={"require": list(REQUIRED_CLAIMS)}
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    if claims.get("type") != token_type:
        raise InvalidToken(f"not an {token_type} token")
    return claims


def keyed_hash(secret: str, value: str) -> str:
    """HMAC-SHA256: what we store instead of API keys and one-time tokens."""
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)
