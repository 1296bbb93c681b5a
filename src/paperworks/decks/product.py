"""Decks, as the platform serves them: prompt → slide plan → .pptx, built as a live job."""

from paperworks.decks.console import DECKS_CONSOLE
from paperworks.decks.jobs import build_deck_job
from paperworks.decks.router import router
from paperworks.decks.tools import DECK_TOOLS
from paperworks.product import Product

DECKS = Product(
    name="decks",
    routers=(router,),
    job_handlers=(build_deck_job,),
    tools=DECK_TOOLS,
    live_events=("slide:progress", "slide:completed", "error"),
    console=DECKS_CONSOLE,
    settings=(
        "llm_api_key",
        "llm_base_url",
        "llm_model",
        "llm_cache_seconds",
        "runware_api_key",
        "image_api_base_url",
        "image_api_key",
        "image_model",
    ),
)
