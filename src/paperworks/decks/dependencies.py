"""Decks' dependencies: the outline planner and a deck of the active workspace."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from paperworks.decks import service
from paperworks.decks.models import Deck
from paperworks.decks.outline import OutlinePlanner
from paperworks.identity.dependencies import CurrentCaller
from paperworks.services import ServicesDep, SessionDep


async def get_planner(services: ServicesDep) -> OutlinePlanner:
    return OutlinePlanner.of(services)


Planner = Annotated[OutlinePlanner, Depends(get_planner)]


async def valid_deck(
    deck_id: Annotated[str, Path(max_length=64)], caller: CurrentCaller, session: SessionDep
) -> Deck:
    return await service.get_deck(session, caller, deck_id)


WorkspaceDeck = Annotated[Deck, Depends(valid_deck)]
