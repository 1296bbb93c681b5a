"""Events' HTTP surface: the workspace's event log and per-resource timelines."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from paperworks.events import service
from paperworks.events.schemas import EventOut
from paperworks.identity.dependencies import CurrentCaller
from paperworks.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from paperworks.services import SessionDep

router = APIRouter(prefix="/api/v1", tags=["events"])


@router.get("/events", summary="The active workspace's events in time order, or one timeline")
async def list_events(
    caller: CurrentCaller,
    session: SessionDep,
    resource_type: Annotated[
        str | None, Query(alias="resourceType", max_length=50, examples=["job"])
    ] = None,
    resource_id: Annotated[str | None, Query(alias="resourceId", max_length=64)] = None,
    type: Annotated[str | None, Query(max_length=100, examples=["job.succeeded"])] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[EventOut]:
    events, next_cursor = await service.timeline(
        session,
        caller,
        resource_type=resource_type,
        resource_id=resource_id,
        type=type,
        limit=limit,
        cursor=cursor,
    )
    return Page(items=[EventOut.of(event) for event in events], next_cursor=next_cursor)
