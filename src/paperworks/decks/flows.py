"""Decks' multi-step flows: starting a build from a request (and answering its repeats), and
showing decks with their download links."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.decks import schemas, service
from paperworks.decks.models import Deck
from paperworks.decks.outline import OutlinePlanner
from paperworks.decks.plan import Slide, SlidePlan
from paperworks.files import service as files
from paperworks.files.models import StoredFile
from paperworks.identity.caller import Caller
from paperworks.jobs import service as jobs_service
from paperworks.jobs.idempotency import Idempotency
from paperworks.services import Services


def plan_from(slides: list[Slide], title: str | None) -> SlidePlan:
    """A plan from edited slides; untitled, it is named after its first slide."""
    return SlidePlan(title=title or slides[0].title, slides=slides)


async def draft_planned(
    session: AsyncSession,
    services: Services,
    caller: Caller,
    options: schemas.OutlineOptions,
    *,
    theme: str | None,
    include_images: bool = True,
) -> Deck:
    """A draft deck with a plan made now (by the model, else offline), to read and edit before
    it is built."""
    outline = await OutlinePlanner.of(services).plan(options.request())
    return await service.create_deck(
        session,
        caller,
        content=outline.plan,
        theme=theme,
        include_images=include_images,
        model=outline.model,
    )


async def build_requested(
    session: AsyncSession,
    services: Services,
    caller: Caller,
    body: schemas.BuildRequest,
    idempotency_key: Idempotency | None,
) -> schemas.BuildAccepted:
    """A new deck from the plan sent, or from the prompt (planned inside the job), and its first
    build. A repeat with the same `Idempotency-Key` gets the first answer back, makes nothing."""
    if idempotency_key is not None:
        earlier = await jobs_service.job_for_key(session, caller, idempotency_key)
        if earlier is not None and earlier.kind == service.BUILD_KIND:
            return schemas.BuildAccepted(job_id=earlier.id, deck_id=earlier.payload["deckId"])
    content = plan_from(body.slide_plan, body.title) if body.slide_plan else body.outline_options()
    deck = await service.create_deck(
        session,
        caller,
        content=content,
        theme=body.theme,
        include_images=body.include_images,
    )
    job = await service.start_build(
        session, services.jobs, caller, deck, idempotency_key=idempotency_key
    )
    return schemas.BuildAccepted(job_id=job.id, deck_id=deck.id)


async def deck_views(
    session: AsyncSession,
    services: Services,
    caller: Caller,
    rows: Sequence[tuple[Deck, str | None]],
) -> list[schemas.DeckOut]:
    """Decks (each with its build job's status) as the API shows them: their files found in one
    query, whatever the number of decks."""
    built = await files.files_by_id(session, caller, (deck.file_id for deck, _ in rows))
    return [
        await _view(services, deck, job_status, built.get(deck.file_id or ""))
        for deck, job_status in rows
    ]


async def deck_view(
    session: AsyncSession, services: Services, caller: Caller, deck: Deck
) -> schemas.DeckOut:
    (view,) = await deck_views(
        session, services, caller, [(deck, await service.build_job_status(session, deck))]
    )
    return view


async def _view(
    services: Services, deck: Deck, job_status: str | None, built: StoredFile | None
) -> schemas.DeckOut:
    download_url = None
    if built is not None:
        download_url, _ = await files.download_url(services.files, services.storage, built)
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
        file_id=built.id if built else None,
        download_url=download_url,
        error=deck.error,
        created_at=deck.created_at,
        updated_at=deck.updated_at,
    )
