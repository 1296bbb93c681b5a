"""`Idempotency`: an `Idempotency-Key` together with who sent it where.

A key means "this request again" only from the same caller to the same route and resource: the
key a client used to build deck D1, sent to build D2, is a new request (not D1's job back), and
another member's (or another API key's) same key is theirs. The job row keeps a digest of the
three, unique per workspace, so the database itself refuses a second job for one request.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from paperworks.identity.caller import Caller


@dataclass(frozen=True, slots=True)
class Idempotency:
    key: str  # as the client sent it
    target: str  # the method and the path: the route and the resource it names

    def stored_for(self, caller: Caller) -> str:
        """What `jobs.idempotency_key` holds for this request by `caller` (64 hex digits)."""
        who = f"{caller.user_id or 'system'}/{caller.api_key_id or '-'}"
        return hashlib.sha256(f"{who}\n{self.target}\n{self.key}".encode()).hexdigest()
