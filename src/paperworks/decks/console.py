"""Decks in the web console: the deck list with status; a prompt form (slide count, theme,
language) that plans a deck to edit first or builds it at once; a deck's page with its plan as an
editable list (reorder, edit titles, bullets and notes, rewrite one slide), its live progress bar
and its download. Every change goes through the same services as the API."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from paperworks.console.dependencies import CheckedForm, SignedInConsole
from paperworks.console.pages import Console, ConsolePages, ResourceMissing, Templates
from paperworks.decks import flows, schemas, service
from paperworks.decks.exceptions import DeckBusy, DeckNotFound, UnknownTheme
from paperworks.decks.models import Deck, DeckStatus
from paperworks.decks.phrasebook import PHRASEBOOK
from paperworks.decks.plan import MAX_SLIDES, SlidePlan
from paperworks.decks.themes import THEMES
from paperworks.kit.languages import NAMES
from paperworks.kit.pagination import DEFAULT_LIMIT
from paperworks.services import ServicesDep, SessionDep

router = APIRouter(include_in_schema=False)
templates = Templates(Path(__file__).parent / "templates")
# The languages the offline planner writes in; "" is the prompt's own.
LANGUAGES = ("", *(NAMES[code] for code in PHRASEBOOK))


async def _list_page(
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
    *,
    status_code: int = 200,
    errors: list[str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    rows, _ = await service.list_decks(session, console.caller, limit=DEFAULT_LIMIT, cursor=None)
    decks = await flows.deck_views(session, services, console.caller, rows)
    return templates.render(
        request,
        "decks.html",
        console,
        status_code=status_code,
        decks=list(reversed(decks)),
        themes=list(THEMES.values()),
        languages=LANGUAGES,
        max_slides=MAX_SLIDES,
        errors=errors or [],
        form=form or {},
    )


@router.get("/decks")
async def deck_list(
    request: Request, console: SignedInConsole, session: SessionDep, services: ServicesDep
) -> Response:
    return await _list_page(request, console, session, services)


@router.post("/decks")
async def build_deck(
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
    form: CheckedForm,
) -> Response:
    sent = {key: str(value) for key, value in form.items() if key != "csrf"}
    try:
        body = schemas.BuildRequest.model_validate(
            {
                "prompt": sent.get("prompt", ""),
                "slideCount": int(sent.get("slideCount") or 5),
                "theme": sent.get("theme") or None,
                "language": sent.get("language") or None,
                "includeImages": sent.get("includeImages") == "on",
            }
        )
        if sent.get("action") == "plan":
            deck = await flows.draft_planned(
                session,
                services,
                console.caller,
                body.outline_options(),
                theme=body.theme,
                include_images=body.include_images,
            )
            return RedirectResponse(f"/decks/{deck.id}", status_code=303)
        accepted = await flows.build_requested(session, services, console.caller, body, None)
    except ValueError as error:  # ValidationError and a slide count that is no number
        problems = (
            [e["msg"].removeprefix("Value error, ") for e in error.errors()]
            if isinstance(error, ValidationError)
            else ["The number of slides must be a whole number."]
        )
        return await _list_page(
            request, console, session, services, status_code=422, errors=problems, form=sent
        )
    except UnknownTheme as error:
        return await _list_page(
            request,
            console,
            session,
            services,
            status_code=422,
            errors=[error.detail or ""],
            form=sent,
        )
    return RedirectResponse(f"/decks/{accepted.deck_id}", status_code=303)


async def _deck(request: Request, session: SessionDep, console: Console, deck_id: str) -> Deck:
    try:
        return await service.get_deck(session, console.caller, deck_id)
    except DeckNotFound:
        raise ResourceMissing(request, console, "deck", "/decks", "All decks") from None


@router.get("/decks/{deck_id}")
async def deck_page(
    deck_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    deck = await _deck(request, session, console, deck_id)
    return await _deck_page(request, console, session, services, deck)


async def _deck_page(
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
    deck: Deck,
    *,
    status_code: int = 200,
    errors: list[str] | None = None,
) -> Response:
    view = await flows.deck_view(session, services, console.caller, deck)
    return templates.render(
        request,
        "deck.html",
        console,
        status_code=status_code,
        deck=view,
        building=view.status is DeckStatus.building,
        themes=list(THEMES.values()),
        errors=errors or [],
    )


@router.post("/decks/{deck_id}/plan")
async def edit_plan(
    deck_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
    form: CheckedForm,
) -> Response:
    """Save the edited plan, then do what the pressed button says: move a slide up or down,
    rewrite one slide (a build that rewrites it first, as the API's regenerate), or build."""
    deck = await _deck(request, session, console, deck_id)
    action, _, target = str(form.get("action", "save")).partition(":")
    try:
        plan = _edited_plan(form)
        plan = _moved(plan, action, int(target)) if action in ("up", "down") else plan
        await service.replace_plan(
            session, deck, plan, theme=str(form.get("theme") or ""), actor=console.caller
        )
        if action in ("build", "rewrite"):
            rewrite = None
            if action == "rewrite":
                instruction = str(form.get(f"instruction-{target}", "")).strip() or None
                rewrite = {"index": int(target), "instruction": instruction}
            await service.start_build(
                session, services.jobs, console.caller, deck, regenerate=rewrite
            )
    except (ValueError, UnknownTheme, DeckBusy) as error:
        said = _said(error)
        return await _deck_page(
            request, console, session, services, deck, status_code=422, errors=said
        )
    return RedirectResponse(f"/decks/{deck_id}", status_code=303)


def _edited_plan(form: CheckedForm) -> SlidePlan:
    """The plan as the page's form sends it: per slide its title, bullets (one a line), notes,
    and, unchanged, its layout and image prompt."""
    count = min(int(str(form.get("slides") or 0)), MAX_SLIDES)
    slides = [_edited_slide(form, number) for number in range(count)]
    return SlidePlan.model_validate(
        {"title": str(form.get("title") or "").strip(), "slides": slides}
    )


def _edited_slide(form: CheckedForm, number: int) -> dict[str, object]:
    def field(name: str) -> str:
        return str(form.get(f"{name}-{number}") or "")

    return {
        "index": number,
        "layout": field("layout") or "bullets",
        "title": field("title").strip(),
        "bullets": [line.strip() for line in field("bullets").splitlines() if line.strip()],
        "notes": field("notes").strip(),
        "imagePrompt": field("imagePrompt") or None,
    }


def _moved(plan: SlidePlan, direction: str, index: int) -> SlidePlan:
    other = index - 1 if direction == "up" else index + 1
    if not (0 <= index < len(plan.slides) and 0 <= other < len(plan.slides)):
        return plan
    slides = list(plan.slides)
    slides[index], slides[other] = slides[other], slides[index]
    return SlidePlan(title=plan.title, slides=slides)


def _said(error: Exception) -> list[str]:
    if isinstance(error, ValidationError):
        return [
            f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}".removeprefix(": ")
            for e in error.errors()
        ]
    if isinstance(error, UnknownTheme | DeckBusy):
        return [error.detail or error.title]
    return ["The form was not complete; reload the page and try again."]


DECKS_CONSOLE = ConsolePages(
    label="Decks",
    path="/decks",
    router=router,
    summary="Turn a topic, notes or a document into a PowerPoint deck.",
)
