"""`Caller`: who is acting, in which workspace, with what rights. Every service takes one.

A request's caller comes from its credentials (an access token or an API key, and the workspace
asked for); a job acts as `SYSTEM` within its workspace. Ids only, never rows: a caller may be
remembered between requests (the credential cache) and carried into jobs and MCP tool calls, and
nothing in it belongs to a database session.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from paperworks.identity.exceptions import MissingPermission
from paperworks.identity.roles import Role, allows


@dataclass(frozen=True, slots=True)
class Caller:
    workspace_id: str | None  # where it acts; None only for SYSTEM outside any workspace
    user_id: str | None  # who; None for the system (a job, a sweep)
    role: Role | None = None  # in that workspace; None for an admin who is not a member
    api_key_id: str | None = None  # the key the request came with, so events can name it
    is_admin: bool = False  # may act in every workspace

    @property
    def is_system(self) -> bool:
        return self.user_id is None

    @property
    def workspace(self) -> str:
        """The workspace id, for code that only runs inside one."""
        if self.workspace_id is None:
            raise RuntimeError("this caller acts outside any workspace")
        return self.workspace_id

    def allows(self, permission: str) -> bool:
        """The system may do anything; an admin anything anywhere; a member what the role lists."""
        return allows(self.role, permission, is_admin=self.is_admin or self.is_system)

    def require(self, permission: str) -> None:
        if not self.allows(permission):
            raise MissingPermission(f"Your role in this workspace does not allow {permission}.")

    def within(self, workspace_id: str) -> Caller:
        """The system acting in one workspace (a job's)."""
        if not self.is_system:
            raise RuntimeError("only the system changes workspace this way")
        return replace(self, workspace_id=workspace_id)


SYSTEM = Caller(workspace_id=None, user_id=None)
"""Nobody: what runners, sweeps and jobs act as. Events it causes name no actor."""


CREDENTIAL_HEADERS = frozenset({b"authorization", b"x-api-key", b"x-workspace-id"})


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a client presents: an access token or an API key, and the workspace it asks for."""

    bearer: str | None = None
    api_key: str | None = None
    workspace_id: str | None = None  # ignored with an API key: a key is bound to its workspace

    @classmethod
    def from_headers(cls, headers: Iterable[tuple[bytes, bytes]]) -> Credentials:
        """From raw ASGI headers: `Authorization: Bearer`, `X-API-Key`, `X-Workspace-ID`."""
        found = {
            name: value.decode("latin-1").strip()
            for name, value in headers
            if name in CREDENTIAL_HEADERS
        }
        authorization = found.get(b"authorization", "")
        bearer = authorization[7:].strip() if authorization[:7].lower() == "bearer " else None
        return cls(
            bearer=bearer or None,
            api_key=found.get(b"x-api-key") or None,
            workspace_id=found.get(b"x-workspace-id") or None,
        )

    def headers(self) -> dict[str, str]:
        """As HTTP headers again: how the assistant's tool calls carry the caller's own."""
        headers: dict[str, str] = {}
        if self.bearer:
            headers["Authorization"] = f"Bearer {self.bearer}"
        if self.api_key:
            headers["X-API-Key"] = self.api_key
        if self.workspace_id:
            headers["X-Workspace-ID"] = self.workspace_id
        return headers
