"""Decks' HTTP surface under /api/v1: outlines, builds, decks and their plans, themes."""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from paperworks.decks import exceptions as errors
from paperworks.decks import flows, schemas, service
from paperworks.decks.dependencies import Planner, WorkspaceDeck
from paperworks.decks.plan import MAX_SLIDES
from paperworks.decks.themes import THEMES, theme_preview_png
from paperworks.identity.dependencies import CurrentCaller
from paperworks.jobs.dependencies import IdempotencyKey
from paperworks.kit.errors import problem_responses
from paperworks.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from paperworks.llm.exceptions import LLMError
from paperworks.services import ServicesDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["decks"])

THEME_PREVIEW_PATH = "/api/v1/slides/themes/{name}/preview.png"


@router.post(
    "/chat/generate",
    summary="Plan a deck from a prompt: a slide plan to read, edit and build",
    responses=problem_responses(LLMError),
)
async def generate_outline(
    options: schemas.OutlineOptions, caller: CurrentCaller, planner: Planner
) -> schemas.OutlineOut:
    outline = await planner.plan(options.request())
    return schemas.OutlineOut(
        title=outline.plan.title,
        slide_plan=outline.plan.slides,
        model=outline.model,
        cached=outline.cached,
    )


@router.post(
    "/slides/build",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Build a deck from a slide plan, or from a prompt (planned in the job); follow the "
    "job live",
    responses=problem_responses(errors.UnknownTheme),
)
async def build_slides(
    body: schemas.BuildRequest,
    caller: CurrentCaller,
    session: SessionDep,
    services: ServicesDep,
    key: IdempotencyKey,
) -> schemas.BuildAccepted:
    return await flows.build_requested(session, services, caller, body, key)


@router.get("/slides/themes", summary="The themes a deck can be built in, with previews")
async def list_themes() -> list[schemas.ThemeOut]:
    return [
        schemas.ThemeOut(
            name=theme.name,
            label=theme.label,
            preview_url=THEME_PREVIEW_PATH.format(name=theme.name),
        )
        for theme in THEMES.values()
    ]


@functools.cache
def _preview(name: str) -> bytes:
    return theme_preview_png(THEMES[name])


@router.get(
    THEME_PREVIEW_PATH.removeprefix("/api/v1"),
    summary="A PNG of a theme's title slide",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **problem_responses(errors.ThemeNotFound)},
)
async def theme_preview(name: Annotated[str, Path(max_length=50)]) -> Response:
    if name not in THEMES:
        raise errors.ThemeNotFound(f"No theme {name!r}; there are: {', '.join(sorted(THEMES))}.")
    return Response(
        _preview(name), media_type="image/png", headers={"Cache-Control": "public, max-age=86400"}
    )


@router.get("/decks", summary="Decks of the active workspace, oldest first")
async def list_decks(
    caller: CurrentCaller,
    session: SessionDep,
    services: ServicesDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[schemas.DeckOut]:
    rows, next_cursor = await service.list_decks(session, caller, limit=limit, cursor=cursor)
    items = await flows.deck_views(session, services, caller, rows)
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/decks/{deck_id}",
    summary="A deck: its plan, status and, once built, a signed download link",
    responses=problem_responses(errors.DeckNotFound),
)
async def get_deck(
    deck: WorkspaceDeck, caller: CurrentCaller, session: SessionDep, services: ServicesDep
) -> schemas.DeckOut:
    return await flows.deck_view(session, services, caller, deck)


@router.put(
    "/decks/{deck_id}/plan",
    summary="Replace a deck's slide plan (and theme) before building it again",
    responses=problem_responses(errors.DeckNotFound, errors.DeckBusy, errors.UnknownTheme),
)
async def replace_plan(
    body: schemas.PlanUpdate,
    deck: WorkspaceDeck,
    caller: CurrentCaller,
    session: SessionDep,
    services: ServicesDep,
) -> schemas.DeckOut:
    plan = flows.plan_from(body.slide_plan, body.title or deck.title)
    await service.replace_plan(session, deck, plan, theme=body.theme, actor=caller)
    return await flows.deck_view(session, services, caller, deck)


@router.post(
    "/decks/{deck_id}/build",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Build the deck again from its current plan",
    responses=problem_responses(errors.DeckNotFound, errors.DeckBusy),
)
async def rebuild_deck(
    deck: WorkspaceDeck,
    caller: CurrentCaller,
    session: SessionDep,
    services: ServicesDep,
    key: IdempotencyKey,
) -> schemas.BuildAccepted:
    job = await service.start_build(session, services.jobs, caller, deck, idempotency_key=key)
    return schemas.BuildAccepted(job_id=job.id, deck_id=deck.id)


@router.post(
    "/decks/{deck_id}/slides/{index}/regenerate",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Rewrite one slide (and its picture), then rebuild the deck",
    responses=problem_responses(
        errors.DeckNotFound, errors.DeckBusy, errors.SlideNotFound, errors.DeckNotPlanned
    ),
)
async def regenerate_slide(
    index: Annotated[int, Path(ge=0, lt=MAX_SLIDES, description="The slide's index, from 0")],
    body: schemas.RegenerateRequest,
    deck: WorkspaceDeck,
    caller: CurrentCaller,
    session: SessionDep,
    services: ServicesDep,
    key: IdempotencyKey,
) -> schemas.BuildAccepted:
    job = await service.start_build(
        session,
        services.jobs,
        caller,
        deck,
        idempotency_key=key,
        regenerate={"index": index, "instruction": body.instruction},
    )
    return schemas.BuildAccepted(job_id=job.id, deck_id=deck.id)


@router.delete(
    "/decks/{deck_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a deck (its built file stays in the workspace's files)",
    responses=problem_responses(errors.DeckNotFound, errors.DeckBusy),
)
async def delete_deck(deck: WorkspaceDeck, caller: CurrentCaller, session: SessionDep) -> Response:
    await service.delete_deck(session, deck, actor=caller)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
