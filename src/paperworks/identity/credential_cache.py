"""`CallerCache`: who a set of credentials stands for, remembered for a few seconds.

An MCP client's session is several requests in a row (discover, list, call...), and the rate
limiter names the caller of every request before routing: authenticating each of them took most of
their time (see bench/assistant.py). Both ask this one cache. A change that takes access away
(a revoked key, a removed membership) empties it in the process that made it (`Services.build`);
in other processes, and for an expired token, the refusal comes within `seconds`. A refusal is
remembered as long, so a client retrying with a bad key does not cost a database round trip each
time.
"""

from __future__ import annotations

import hashlib
import time

from paperworks.identity import service
from paperworks.identity.caller import Caller, Credentials
from paperworks.kit.db import Database
from paperworks.kit.errors import AppError

CACHE_SECONDS = 5.0
CACHE_SIZE = 10_000


class CallerCache:
    def __init__(
        self,
        db: Database,
        config: service.IdentityConfig,
        *,
        seconds: float = CACHE_SECONDS,
        size: int = CACHE_SIZE,
    ) -> None:
        self.db = db
        self.config = config
        self.seconds = seconds
        self.size = size
        self._known: dict[bytes, tuple[Caller | AppError, float]] = {}

    async def caller(self, credentials: Credentials) -> Caller:
        """The caller, or the `AppError` (401, 404 workspace) its credentials earn."""
        key = _digest(credentials)
        now = time.monotonic()
        known = self._known.get(key)
        if known is None or known[1] <= now:
            known = (await self._resolve(credentials), now + self.seconds)
            if len(self._known) >= self.size:
                self._known.clear()
            self._known[key] = known
        outcome = known[0]
        if isinstance(outcome, AppError):
            raise outcome.with_traceback(None)
        return outcome

    def forget(self) -> None:
        self._known.clear()

    async def _resolve(self, credentials: Credentials) -> Caller | AppError:
        try:
            async with self.db.session_scope() as session:
                return await service.caller_for(session, self.config, credentials)
        except AppError as exc:
            return exc


def _digest(credentials: Credentials) -> bytes:
    parts = (credentials.bearer or "", credentials.api_key or "", credentials.workspace_id or "")
    return hashlib.sha256("\0".join(parts).encode()).digest()
