"""Tasks' dependencies: whose tasks a request is about."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from paperworks.events.dependencies import CurrentActor
from paperworks.identity.dependencies import ActiveWorkspace
from paperworks.tasks.service import TaskOwner


async def get_task_owner(ws: ActiveWorkspace, actor: CurrentActor) -> TaskOwner:
    """The caller's tasks in the active workspace (an API key's own workspace)."""
    return TaskOwner(workspace_id=ws.workspace.id, user_id=ws.user.id, api_key_id=actor.api_key_id)


CurrentOwner = Annotated[TaskOwner, Depends(get_task_owner)]
