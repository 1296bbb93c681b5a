"""The `decks.build` job: plan (if the deck came from a prompt), regenerate a slide (if asked),
fetch its pictures, draw the .pptx in a worker thread and store it as the deck's file.

Live, on the job's room besides `job:*`: `slide:progress {jobId, deckId, slide, total, progress}`
as slides are drawn, `slide:completed {jobId, deckId, fileId, url}` with a signed download link,
and `error {jobId, deckId, message}` when the build fails.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from paperworks.decks import service
from paperworks.decks.models import Deck
from paperworks.decks.outline import OutlinePlanner
from paperworks.decks.pictures import slide_picture
from paperworks.decks.placeholder_image import PLACEHOLDER
from paperworks.decks.plan import Layout, Slide, SlidePlan
from paperworks.decks.pptx_builder import build_deck
from paperworks.decks.schemas import OutlineOptions
from paperworks.decks.themes import get_theme, palette
from paperworks.files import service as files
from paperworks.files.purposes import Purpose
from paperworks.identity.caller import SYSTEM
from paperworks.jobs.handlers import JobCancelled, JobContext, RetryableError, job_handler
from paperworks.jobs.models import Job, JobStatus
from paperworks.kit.logging import get_logger
from paperworks.llm.exceptions import LLMError
from paperworks.llm.images import GeneratedImage
from paperworks.services import Services

log = get_logger(__name__)

IMAGE_SIZE = (1024, 1024)  # the picture beside bullets: about square on a 16:9 slide
IMAGES_AT_ONCE = 4
# Progress, in points: planning, then pictures, then drawing, then storing.
PLANNED, PICTURED, DRAWN = 10, 40, 90


async def build_ended(job: Job, services: Services) -> list[tuple[str, dict[str, Any]]]:
    """A finished build's own end, told again to a client that follows it late: the deck's
    download link (signed afresh) or why it failed."""
    deck_id = job.payload.get("deckId")
    if job.status == JobStatus.succeeded and job.result:
        async with services.db.sessionmaker() as session:
            caller = SYSTEM.within(job.workspace_id)
            record = await files.get_file_or_none(session, caller, job.result.get("fileId"))
        if record is None:  # deleted since: nothing to download any more
            return []
        url, _ = await files.download_url(services.files, services.storage, record)
        return [("slide:completed", {"deckId": deck_id, "fileId": record.id, "url": url})]
    if job.status == JobStatus.failed:
        async with services.db.sessionmaker() as session:
            deck = await session.get(Deck, deck_id) if deck_id else None
        message = (deck.error if deck else None) or job.error_message or "The build failed."
        return [("error", {"deckId": deck_id, "message": message})]
    return []


@job_handler(service.BUILD_KIND, max_attempts=3, end_events=build_ended)
async def build_deck_job(ctx: JobContext) -> dict[str, Any]:
    deck_id: str = ctx.payload["deckId"]
    try:
        return await _build(ctx, deck_id)
    except JobCancelled:
        raise
    except LLMError as exc:
        if exc.code == "llm.unavailable" and not ctx.last_attempt:
            raise RetryableError(exc.detail) from exc
        await _failed(ctx, deck_id, exc.detail)
        raise
    except RetryableError as exc:
        if ctx.last_attempt:
            await _failed(ctx, deck_id, str(exc))
        raise
    except Exception:
        await _failed(ctx, deck_id, "The deck could not be built; the job's error says why.")
        raise


async def _build(ctx: JobContext, deck_id: str) -> dict[str, Any]:
    services, planner = ctx.services, OutlinePlanner.of(ctx.services)
    async with ctx.db.session_scope() as session:
        deck = await session.get_one(Deck, deck_id)
        plan, theme_name = service.plan_of(deck), deck.theme
        outline, include_images = deck.outline_request, deck.include_images
        known_images = dict(deck.images or {})

    changed_model: str | None = None
    if plan is None:
        await ctx.report(2, "planning the slides")
        assert outline is not None, "a deck without a plan was made from a prompt"
        made = await planner.plan(OutlineOptions.model_validate(outline).request())
        plan, changed_model = made.plan, made.model
    regenerate = ctx.payload.get("regenerate")
    if regenerate is not None:
        index = int(regenerate["index"])
        await ctx.report(2, f"rewriting slide {index + 1}")
        slide, changed_model = await planner.regenerate_slide(
            plan, index, regenerate.get("instruction")
        )
        slides = list(plan.slides)
        slides[index] = slide.model_copy(update={"index": index})
        plan = SlidePlan(title=plan.title, slides=slides)
    if changed_model is not None:
        async with ctx.db.session_scope() as session:
            deck = await session.get_one(Deck, deck_id)
            await service.record_plan(session, deck, plan, changed_model)
    await ctx.report(PLANNED, "planned")

    theme = get_theme(theme_name)
    pictures = await _pictures(ctx, plan, palette(theme), include_images, known_images)
    await ctx.report(PICTURED, "pictures ready")

    loop = asyncio.get_running_loop()
    total = len(plan.slides)  # the plan's; a slide too full to fit is drawn as several

    def drawn(done: int, of: int) -> None:  # called from the builder's thread
        nonlocal total
        total = of
        progress = PICTURED + (DRAWN - PICTURED) * done // max(of, 1)
        data = {"deckId": deck_id, "slide": done, "total": of, "progress": progress}
        loop.call_soon_threadsafe(ctx.emit, "slide:progress", data)

    content = await ctx.run_blocking(
        build_deck,
        plan,
        theme=theme,
        images=pictures.data,
        placeholders=pictures.placeholders,
        on_slide=drawn,
    )
    await ctx.report(DRAWN, "storing the deck")

    async with ctx.db.session_scope() as session:
        deck = await session.get_one(Deck, deck_id)
        previous = await files.get_file_or_none(session, ctx.caller, deck.file_id)
        record = await files.store_bytes(
            session,
            services.storage,
            ctx.caller,
            filename=f"{_file_stem(plan.title)}.pptx",
            data=content,
            purpose=Purpose.output,
        )
        deck.images = {**known_images, **pictures.stored}
        await service.record_built(session, deck, file_id=record.id, slides=total)
        if previous is not None:
            await files.delete_file(session, previous)
    if previous is not None:  # its row is gone for good: now its bytes
        await services.storage.delete(previous.storage_key)
    url, _ = await files.download_url(services.files, services.storage, record)
    ctx.emit("slide:completed", {"deckId": deck_id, "fileId": record.id, "url": url})
    ctx.summary = f"Built {total} slides." if total != 1 else "Built 1 slide."
    return {"deckId": deck_id, "fileId": record.id, "slides": total, "model": changed_model}


@dataclass
class Pictures:
    data: dict[int, bytes]  # by slide index, for the builder
    stored: dict[str, str]  # prompt digest -> file id, for pictures made (and kept) this time
    placeholders: set[int] = field(default_factory=set)  # slides whose picture shows the title


async def _pictures(
    ctx: JobContext,
    plan: SlidePlan,
    colours: tuple[str, str, str],
    include_images: bool,
    known: dict[str, str],
) -> Pictures:
    """A picture for every slide laid out beside one: the kept file when its prompt is
    unchanged, else a new one (a provider's is kept as a file; a placeholder is not worth it).
    Only the providers are asked at once; the database is used one step at a time."""
    services = ctx.services
    result = Pictures({}, {})
    wanted = [s for s in plan.slides if s.layout == Layout.bullets_image] if include_images else []
    missing = []
    for slide in wanted:
        kept = await _kept_picture(ctx, known.get(_digest(slide)))
        if kept is not None:
            result.data[slide.index] = kept
        else:
            missing.append(slide)
    limit = asyncio.Semaphore(IMAGES_AT_ONCE)

    async def generate(slide: Slide) -> GeneratedImage:
        async with limit:
            return await slide_picture(
                services.images,
                slide.image_prompt,
                title=slide.title,
                palette=colours,
                width=IMAGE_SIZE[0],
                height=IMAGE_SIZE[1],
            )

    made = await asyncio.gather(*(generate(slide) for slide in missing))
    for slide, image in zip(missing, made, strict=True):
        result.data[slide.index] = image.data
        if image.provider == PLACEHOLDER:
            result.placeholders.add(slide.index)
            continue
        async with ctx.db.session_scope() as session:
            record = await files.store_bytes(
                session,
                services.storage,
                ctx.caller,
                filename=f"slide-{slide.index + 1}.{image.content_type.split('/')[-1]}",
                data=image.data,
                purpose=Purpose.image,
            )
        result.stored[_digest(slide)] = record.id
    return result


async def _kept_picture(ctx: JobContext, file_id: str | None) -> bytes | None:
    if file_id is None:
        return None
    async with ctx.db.session_scope() as session:
        record = await files.get_file_or_none(session, ctx.caller, file_id)
    if record is None:  # deleted by the user meanwhile: make a new one
        return None
    return await files.read_bytes(ctx.services.storage, record)


async def _failed(ctx: JobContext, deck_id: str, message: str) -> None:
    async with ctx.db.session_scope() as session:
        deck = await session.get(Deck, deck_id)
        if deck is not None:
            await service.record_failed(session, deck, message)
    ctx.emit("error", {"deckId": deck_id, "message": message})


def _digest(slide: Slide) -> str:
    """What a kept picture was made for: its prompt (or, without one, the slide's title)."""
    prompt = (slide.image_prompt or slide.title).strip()
    return hashlib.sha256(prompt.encode()).hexdigest()[:32]


def _file_stem(title: str) -> str:
    """A file name from the title: letters of any script kept, the rest dashes."""
    stem = re.sub(r"[^\w]+", "-", title, flags=re.UNICODE).strip("-_")[:80]
    return stem or "deck"
