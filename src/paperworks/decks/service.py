"""Decks' operations: create a deck from a plan or a prompt, edit its plan, start its builds, and
record what a build made. Plain async functions taking the request's (or the job's) session;
they never commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.decks import exceptions as errors
from paperworks.decks.models import Deck, DeckStatus
from paperworks.decks.plan import SlidePlan
from paperworks.decks.schemas import OutlineOptions
from paperworks.decks.themes import DEFAULT_THEME, THEMES
from paperworks.events import service as events
from paperworks.events.service import Resource
from paperworks.identity.caller import SYSTEM, Caller
from paperworks.identity.tenancy import get_scoped, scoped
from paperworks.jobs import service as jobs_service
from paperworks.jobs.idempotency import Idempotency
from paperworks.jobs.models import FINISHED, Job
from paperworks.jobs.queue import JobQueue
from paperworks.kit.pagination import fetch_page

BUILD_KIND = "decks.build"


def _resource(deck: Deck) -> Resource:
    return Resource("deck", deck.id, deck.workspace_id)


def checked_theme(name: str | None) -> str:
    if name is None:
        return DEFAULT_THEME
    if name not in THEMES:
        raise errors.UnknownTheme(f"No theme {name!r}; there are: {', '.join(sorted(THEMES))}.")
    return name


def plan_of(deck: Deck) -> SlidePlan | None:
    return SlidePlan.model_validate(deck.slide_plan) if deck.slide_plan is not None else None


async def create_deck(
    session: AsyncSession,
    caller: Caller,
    *,
    content: SlidePlan | OutlineOptions,
    theme: str | None,
    include_images: bool,
    model: str | None = None,
) -> Deck:
    """A deck of the caller's workspace from a plan, or from a prompt its first build will plan.
    `model`: who wrote the plan (a model's name, "offline"); by default the user did."""
    plan, outline = (content, None) if isinstance(content, SlidePlan) else (None, content)
    title = (
        content.title if isinstance(content, SlidePlan) else content.prompt.splitlines()[0][:300]
    )
    deck = Deck(
        workspace_id=caller.workspace,
        user_id=caller.user_id,
        title=title,
        theme=checked_theme(theme),
        include_images=include_images,
        slide_plan=plan.model_dump(mode="json") if plan else None,
        outline_request=outline.model_dump(mode="json") if outline else None,
        model=(model or "user") if plan else None,
        status=DeckStatus.draft,
        images={},
    )
    session.add(deck)
    await session.flush()
    await events.publish(session, "deck.created", _resource(deck), {"title": title}, actor=caller)
    return deck


async def get_deck(session: AsyncSession, caller: Caller, deck_id: str) -> Deck:
    """The workspace's deck; another workspace's is as missing as one that never existed."""
    deck = await get_scoped(session, caller, Deck, deck_id)
    if deck is None:
        raise errors.DeckNotFound(f"No deck {deck_id}.")
    return deck


async def list_decks(
    session: AsyncSession, caller: Caller, *, limit: int, cursor: str | None
) -> tuple[list[tuple[Deck, str | None]], str | None]:
    """One page of the workspace's decks, oldest first, each with its last build job's status."""
    query = scoped(select(Deck, Job.status).outerjoin(Job, Job.id == Deck.job_id), caller, Deck)
    return await fetch_page(session, query, Deck.id, limit=limit, cursor=cursor)


async def build_job_status(session: AsyncSession, deck: Deck) -> str | None:
    return (
        await session.scalar(select(Job.status).where(Job.id == deck.job_id))
        if deck.job_id
        else None
    )


def current_status(deck: Deck, job_status: str | None) -> DeckStatus:
    """A deck left `building` by a job that ended without saying so (cancelled, or out of
    attempts while the model was unreachable) has failed."""
    if deck.status == DeckStatus.building and job_status in FINISHED:
        return DeckStatus.failed
    return DeckStatus(deck.status)


async def _ensure_idle(session: AsyncSession, deck: Deck) -> None:
    if current_status(deck, await build_job_status(session, deck)) == DeckStatus.building:
        raise errors.DeckBusy(f"Deck {deck.id} is being built; wait for job {deck.job_id}.")


async def replace_plan(
    session: AsyncSession,
    deck: Deck,
    plan: SlidePlan,
    *,
    theme: str | None,
    actor: Caller,
) -> Deck:
    """Edit the plan (and maybe the theme) of a deck that is not being built; it is a draft
    until built again."""
    await _ensure_idle(session, deck)
    deck.slide_plan = plan.model_dump(mode="json")
    deck.title = plan.title
    deck.theme = checked_theme(theme or deck.theme)
    deck.model = "user"
    deck.status = DeckStatus.draft
    deck.error = None
    await session.flush()
    payload = {"slides": len(plan.slides)}
    await events.publish(session, "deck.plan_updated", _resource(deck), payload, actor=actor)
    return deck


async def start_build(
    session: AsyncSession,
    jobs: JobQueue,
    caller: Caller,
    deck: Deck,
    *,
    idempotency_key: Idempotency | None = None,
    regenerate: dict[str, Any] | None = None,
) -> Job:
    """Queue a build of the deck for the caller (after regenerating one slide, if asked).

    A repeat of an earlier request to this deck (its `Idempotency-Key`) gets that request's job
    back, busy or not; anything else is a 409 while the deck is being built, whatever its key.
    Two requests that both found the deck idle cannot both start a build: the deck's build job
    is swapped only if it is still the one they found, and the loser's job is rolled back."""
    if idempotency_key is not None:
        earlier = await jobs_service.job_for_key(session, caller, idempotency_key)
        if earlier is not None:
            return earlier
    await _ensure_idle(session, deck)
    if regenerate is not None:
        plan = plan_of(deck)
        if plan is None:
            raise errors.DeckNotPlanned(f"Deck {deck.id} has no plan yet; build it first.")
        if not 0 <= regenerate["index"] < len(plan.slides):
            raise errors.SlideNotFound(
                f"Deck {deck.id} has slides 0 to {len(plan.slides) - 1}, not {regenerate['index']}."
            )
    payload: dict[str, Any] = {"deckId": deck.id}
    if regenerate is not None:
        payload["regenerate"] = regenerate
    found_job_id = deck.job_id
    job = await jobs.enqueue(
        session, caller, kind=BUILD_KIND, payload=payload, idempotency_key=idempotency_key
    )
    still_found = Deck.job_id.is_(None) if found_job_id is None else Deck.job_id == found_job_id
    swapped = await session.execute(
        update(Deck)
        .where(Deck.id == deck.id, still_found)
        .values(job_id=job.id, status=DeckStatus.building, error=None)
        .execution_options(synchronize_session="fetch")
    )
    if swapped.rowcount != 1:  # type: ignore[attr-defined]
        raise errors.DeckBusy(f"Deck {deck.id} is being built; another build started just now.")
    await events.publish(
        session, "deck.build_started", _resource(deck), {"jobId": job.id}, actor=caller
    )
    return job


# -- what a build job records --


async def record_plan(session: AsyncSession, deck: Deck, plan: SlidePlan, model: str) -> None:
    deck.slide_plan = plan.model_dump(mode="json")
    deck.title = plan.title
    deck.model = model
    await session.flush()


async def record_built(session: AsyncSession, deck: Deck, *, file_id: str, slides: int) -> None:
    deck.file_id = file_id
    deck.status = DeckStatus.ready
    deck.error = None
    await session.flush()
    payload = {"fileId": file_id, "slides": slides}
    await events.publish(session, "deck.built", _resource(deck), payload, actor=SYSTEM)


async def record_failed(session: AsyncSession, deck: Deck, message: str) -> None:
    deck.status = DeckStatus.failed
    deck.error = message
    await session.flush()
    await events.publish(
        session, "deck.build_failed", _resource(deck), {"message": message}, actor=SYSTEM
    )


async def delete_deck(session: AsyncSession, deck: Deck, *, actor: Caller) -> None:
    await _ensure_idle(session, deck)
    await session.delete(deck)
    await session.flush()
    await events.publish(
        session, "deck.deleted", _resource(deck), {"title": deck.title}, actor=actor
    )
