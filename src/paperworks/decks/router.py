"""Decks' HTTP surface under /api/v1: outlines, builds, decks and their plans, themes."""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.decks import exceptions as errors
from paperworks.decks import jobs as _handlers  # noqa: F401 - registers `decks.build`
from paperworks.decks import schemas, service
from paperworks.decks.dependencies import Planner, WorkspaceDeck
from paperworks.decks.models import Deck
from paperworks.decks.plan import MAX_SLIDES, OutlineRequest, Slide, SlidePlan
from paperworks.decks.themes import THEMES, theme_preview_png
from paperworks.events.dependencies import CurrentActor
from paperworks.files import service as files
from paperworks.files.dependencies import FilesConfigDep, StorageDep
from paperworks.files.storage import Storage
from paperworks.identity.dependencies import ActiveWorkspace
from paperworks.jobs import service as jobs_service
from paperworks.jobs.dependencies import IdempotencyKey, Jobs
from paperworks.kit.dependencies import SessionDep
from paperworks.kit.errors import problem_responses
from paperworks.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from paperworks.llm.exceptions import LLMError

router = APIRouter(prefix="/api/v1", tags=["decks"])

THEME_PREVIEW_PATH = "/api/v1/slides/themes/{name}/preview.png"


async def _deck_out(
    session: AsyncSession,
    storage: Storage,
    config: files.FilesConfig,
    deck: Deck,
    job_status: str | None,
) -> schemas.DeckOut:
    download_url = None
    record = await files.get_file_or_none(session, deck.workspace_id, deck.file_id)
    if record is not None:
        download_url, _ = await files.download_url(config, storage, record)
    plan = service.plan_of(deck)
    return schemas.DeckOut(
        id=deck.id,
        title=deck.title,
        theme=deck.theme,
        slide_plan=plan.slides if plan else None,
        status=service.current_status(deck, job_status),
        include_images=deck.include_images,
        model=deck.model,
        job_id=deck.job_id,
        file_id=record.id if record else None,
        download_url=download_url,
        error=deck.error,
        created_at=deck.created_at,
        updated_at=deck.updated_at,
    )


def _plan(slides: list[Slide], title: str | None) -> SlidePlan:
    return SlidePlan(title=title or slides[0].title, slides=slides)


@router.post(
    "/chat/generate",
    summary="Plan a deck from a prompt: a slide plan to read, edit and build",
    responses=problem_responses(LLMError),
)
async def generate_outline(
    options: schemas.OutlineOptions, ws: ActiveWorkspace, planner: Planner
) -> schemas.OutlineOut:
    outline = await planner.plan(
        OutlineRequest(
            prompt=options.prompt,
            slide_count=options.slide_count,
            language=options.language,
            tone=options.tone,
            audience=options.audience,
        )
    )
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
    ws: ActiveWorkspace,
    session: SessionDep,
    jobs: Jobs,
    actor: CurrentActor,
    key: IdempotencyKey,
) -> schemas.BuildAccepted:
    if key is not None:
        earlier = await jobs_service.job_for_key(session, ws.workspace.id, key)
        if earlier is not None and earlier.kind == service.BUILD_KIND:
            return schemas.BuildAccepted(job_id=earlier.id, deck_id=earlier.payload["deckId"])
    deck = await service.create_deck(
        session,
        workspace_id=ws.workspace.id,
        user_id=ws.user.id,
        content=_plan(body.slide_plan, body.title) if body.slide_plan else body.outline_options(),
        theme=body.theme,
        include_images=body.include_images,
        actor=actor,
    )
    job = await service.start_build(
        session, jobs, deck, user_id=ws.user.id, actor=actor, idempotency_key=key
    )
    return schemas.BuildAccepted(job_id=job.id, deck_id=deck.id)


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
    ws: ActiveWorkspace,
    session: SessionDep,
    storage: StorageDep,
    config: FilesConfigDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[schemas.DeckOut]:
    rows, next_cursor = await service.list_decks(
        session, workspace_id=ws.workspace.id, limit=limit, cursor=cursor
    )
    items = [await _deck_out(session, storage, config, deck, job) for deck, job in rows]
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/decks/{deck_id}",
    summary="A deck: its plan, status and, once built, a signed download link",
    responses=problem_responses(errors.DeckNotFound),
)
async def get_deck(
    deck: WorkspaceDeck, session: SessionDep, storage: StorageDep, config: FilesConfigDep
) -> schemas.DeckOut:
    job_status = await service.build_job_status(session, deck)
    return await _deck_out(session, storage, config, deck, job_status)


@router.put(
    "/decks/{deck_id}/plan",
    summary="Replace a deck's slide plan (and theme) before building it again",
    responses=problem_responses(errors.DeckNotFound, errors.DeckBusy, errors.UnknownTheme),
)
async def replace_plan(
    body: schemas.PlanUpdate,
    deck: WorkspaceDeck,
    session: SessionDep,
    storage: StorageDep,
    config: FilesConfigDep,
    actor: CurrentActor,
) -> schemas.DeckOut:
    plan = _plan(body.slide_plan, body.title or deck.title)
    await service.replace_plan(session, deck, plan, theme=body.theme, actor=actor)
    return await _deck_out(session, storage, config, deck, None)


@router.post(
    "/decks/{deck_id}/build",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Build the deck again from its current plan",
    responses=problem_responses(errors.DeckNotFound, errors.DeckBusy),
)
async def rebuild_deck(
    deck: WorkspaceDeck,
    ws: ActiveWorkspace,
    session: SessionDep,
    jobs: Jobs,
    actor: CurrentActor,
    key: IdempotencyKey,
) -> schemas.BuildAccepted:
    job = await service.start_build(
        session, jobs, deck, user_id=ws.user.id, actor=actor, idempotency_key=key
    )
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
    ws: ActiveWorkspace,
    session: SessionDep,
    jobs: Jobs,
    actor: CurrentActor,
    key: IdempotencyKey,
) -> schemas.BuildAccepted:
    job = await service.start_build(
        session,
        jobs,
        deck,
        user_id=ws.user.id,
        actor=actor,
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
async def delete_deck(deck: WorkspaceDeck, session: SessionDep, actor: CurrentActor) -> Response:
    await service.delete_deck(session, deck, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
