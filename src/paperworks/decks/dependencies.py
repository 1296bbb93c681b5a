"""Decks' dependencies: the outline planner and a deck of the active workspace."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from paperworks.decks import service
from paperworks.decks.models import Deck
from paperworks.decks.outline import OutlinePlanner
from paperworks.identity.dependencies import ActiveWorkspace
from paperworks.kit.dependencies import SessionDep


def get_planner(request: Request) -> OutlinePlanner:
    planner: OutlinePlanner = request.app.state.outline_planner
    return planner


Planner = Annotated[OutlinePlanner, Depends(get_planner)]


async def valid_deck(
    deck_id: Annotated[str, Path(max_length=64)], ws: ActiveWorkspace, session: SessionDep
) -> Deck:
    return await service.get_deck(session, workspace_id=ws.workspace.id, deck_id=deck_id)


WorkspaceDeck = Annotated[Deck, Depends(valid_deck)]
