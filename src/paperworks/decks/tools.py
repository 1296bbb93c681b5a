"""Decks as MCP tools: any MCP client (the assistant included) can plan a deck, build it and fetch
the link to the .pptx, acting as the caller in their workspace.

A build is a job: `build_deck` answers at once with the deck and its job, and `get_deck` says
when it is ready, with a signed download link. Answers use the REST API's shapes (camelCase), the
plan's slides shortened to their titles: a model needs to know what is there, not every note.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from paperworks.decks import flows, service
from paperworks.decks.offline_commands import DeckCommands
from paperworks.decks.plan import MAX_SLIDES
from paperworks.decks.schemas import DEFAULT_SLIDE_COUNT, OutlineOptions
from paperworks.decks.themes import THEMES
from paperworks.mcp.family import ToolFamily
from paperworks.mcp.server import ToolScope, tool_session

LIST_LIMIT = 50

Brief = Annotated[str, Field(description="What the deck is about: a topic, notes, an outline")]
SlideCount = Annotated[
    int, Field(ge=1, le=MAX_SLIDES, description=f"How many slides, 1 to {MAX_SLIDES}")
]
DeckId = Annotated[str, Field(description="The deck's id, from create_outline or list_decks")]
Theme = Annotated[str | None, Field(description=f"One of: {', '.join(sorted(THEMES))}")]
Language = Annotated[str | None, Field(description="The deck's language, e.g. English")]


async def _shown(scope: ToolScope, deck_id: str) -> dict[str, Any]:
    deck = await service.get_deck(scope.session, scope.caller, deck_id)
    view = await flows.deck_view(scope.session, scope.services, scope.caller, deck)
    shown = view.model_dump(mode="json", by_alias=True, exclude={"slide_plan"})
    shown["slides"] = [slide.title for slide in view.slide_plan or []]
    return shown


def register(server: MCPServer) -> None:
    @server.tool()
    async def create_outline(
        prompt: Brief,
        ctx: Context,
        slide_count: SlideCount = DEFAULT_SLIDE_COUNT,
        language: Language = None,
        tone: Annotated[str | None, Field(description="e.g. friendly, formal")] = None,
        audience: Annotated[str | None, Field(description="Who will watch it")] = None,
        theme: Theme = None,
    ) -> dict[str, Any]:
        """Plan a deck from a brief and keep it as a draft the user can read before it is built.
        Answers with the deck (its id, title and slide titles); build it with build_deck."""
        async with tool_session(ctx) as scope:
            options = OutlineOptions(
                prompt=prompt,
                slide_count=slide_count,
                language=language,
                tone=tone,
                audience=audience,
            )
            deck = await flows.draft_planned(
                scope.session, scope.services, scope.caller, options, theme=theme
            )
            return await _shown(scope, deck.id)

    @server.tool()
    async def build_deck(
        ctx: Context,
        deck_id: Annotated[str | None, Field(description="A draft from create_outline")] = None,
        prompt: Annotated[str | None, Field(description="Or: a brief to plan and build")] = None,
        slide_count: SlideCount = DEFAULT_SLIDE_COUNT,
        language: Language = None,
        theme: Theme = None,
        include_images: Annotated[bool, Field(description="A picture on some slides")] = True,
    ) -> dict[str, Any]:
        """Build a deck as a .pptx, in the background: a draft by its deck_id, or a new deck
        from a prompt. Answers at once with the deck (status "building") and its jobId; ask
        get_deck later for the download link."""
        async with tool_session(ctx) as scope:
            if (deck_id is None) == (prompt is None):
                raise ToolError("Give either deck_id (a draft) or prompt (a new deck), not both.")
            if deck_id is not None:
                deck = await service.get_deck(scope.session, scope.caller, deck_id)
            else:
                options = OutlineOptions(
                    prompt=prompt or "", slide_count=slide_count, language=language
                )
                deck = await service.create_deck(
                    scope.session,
                    scope.caller,
                    content=options,
                    theme=theme,
                    include_images=include_images,
                )
            await service.start_build(scope.session, scope.services.jobs, scope.caller, deck)
            return await _shown(scope, deck.id)

    @server.tool()
    async def get_deck(deck_id: DeckId, ctx: Context) -> dict[str, Any]:
        """A deck: its status (draft, building, ready, failed), slide titles, and once ready a
        downloadUrl, a signed link to the .pptx that works without signing in for a while."""
        async with tool_session(ctx) as scope:
            return await _shown(scope, deck_id)

    @server.tool()
    async def list_decks(ctx: Context) -> dict[str, Any]:
        """The workspace's decks, oldest first (up to 50, with `more` true if there are others):
        id, title and status of each."""
        async with tool_session(ctx) as scope:
            rows, next_cursor = await service.list_decks(
                scope.session, scope.caller, limit=LIST_LIMIT, cursor=None
            )
            decks = [
                {
                    "id": deck.id,
                    "title": deck.title,
                    "status": service.current_status(deck, job_status).value,
                    "createdAt": deck.created_at.isoformat().replace("+00:00", "Z"),
                }
                for deck, job_status in rows
            ]
            return {"decks": decks, "more": next_cursor is not None}


DECK_TOOLS = ToolFamily(
    name="decks",
    register=register,
    instructions="""Slide decks: create_outline plans a deck from a brief and keeps it as a draft
the user can read; build_deck builds a draft (deck_id) or a new deck straight from a prompt as a
background job and answers at once; get_deck tells whether it is ready and gives its download link;
list_decks lists them. A build takes seconds to minutes: say it has started, and check with
get_deck when asked. Give the user the downloadUrl as it is.""",
    offline=DeckCommands(),
)
