"""Telling whoever holds long-lived connections that someone's access changed.

A REST request is authorised when it arrives; a live connection (socket.io) is authorised once,
when it connects, and would go on hearing a workspace's events after its user left it or its API
key was revoked. So each change that takes access away calls `access_changed` in its request;
once that commits, the process's listener (the event hub, which carries it to the live servers
of every process) makes them check again the connections of that user, or of that workspace.
Identity knows nothing of the listener: the process shares one with its sessions (`LISTENER`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.kit.db import on_commit

LISTENER = "paperworks_access_listener"  # `Database.share` key: a callable taking an AccessChange


@dataclass(frozen=True, slots=True)
class AccessChange:
    """Whose connections to check again: a user's (removed from a workspace, a key of theirs
    revoked), or, without a user, everyone in a workspace (deleted)."""

    user_id: str | None = None
    workspace_id: str | None = None

    def as_data(self) -> dict[str, str | None]:
        return {"userId": self.user_id, "workspaceId": self.workspace_id}

    @classmethod
    def from_data(cls, data: object) -> AccessChange | None:
        if not isinstance(data, dict):
            return None
        user_id, workspace_id = data.get("userId"), data.get("workspaceId")
        if not isinstance(user_id, str | None) or not isinstance(workspace_id, str | None):
            return None
        if user_id is None and workspace_id is None:
            return None
        return cls(user_id=user_id, workspace_id=workspace_id)


def access_changed(session: AsyncSession, change: AccessChange) -> None:
    """Once `session` commits, have live connections affected by `change` authorised again."""
    listener = session.info.get(LISTENER)
    if callable(listener):
        announce: Callable[[AccessChange], None] = listener
        on_commit(session, lambda: announce(change))
