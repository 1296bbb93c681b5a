"""`CurrentActor`: who a route's events are attributed to."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from paperworks.events.hub import EventHub
from paperworks.events.service import Actor
from paperworks.identity.dependencies import CurrentPrincipal


async def get_actor(principal: CurrentPrincipal) -> Actor:
    api_key_id = principal.api_key.id if principal.api_key is not None else None
    return Actor(user_id=principal.user.id, api_key_id=api_key_id)


CurrentActor = Annotated[Actor, Depends(get_actor)]


def get_event_hub(request: Request) -> EventHub:
    hub: EventHub = request.app.state.event_hub
    return hub


Hub = Annotated[EventHub, Depends(get_event_hub)]
