"""`Product`: what a product brings to the platform, declared once in its own `product.py`.

    DECKS = Product(
        name="decks",
        routers=(router,),
        job_handlers=(build_deck_job,),
        tools=DECK_TOOLS,
        live_events=("slide:progress", "slide:completed", "error"),
        settings=("llm_api_key", "runware_api_key", ...),
    )

`paperworks.products.PRODUCTS` lists them; `create_app`, the Celery worker and the CLI read that
one list, so adding a product is one package and one line there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter

from paperworks.console.pages import ConsolePages
from paperworks.jobs.handlers import JobHandler, JobHandlers
from paperworks.mcp.family import ToolFamily
from paperworks.settings import Settings
from paperworks.webhooks.jobs import PLATFORM_JOB_HANDLERS


@dataclass(frozen=True)
class Product:
    name: str
    routers: Sequence[APIRouter] = ()
    job_handlers: Sequence[JobHandler] = ()
    tools: ToolFamily | None = None  # its MCP tools, for any MCP client and for the assistant
    # The socket.io events its jobs emit to their followers besides `job:*` (documented).
    live_events: Sequence[str] = ()
    # The settings it reads (`Settings` field names): what an operator configures for it.
    settings: Sequence[str] = ()
    console: ConsolePages | None = None  # its screens in the web console at `/`

    def __post_init__(self) -> None:
        unknown = sorted(set(self.settings) - set(Settings.model_fields))
        if unknown:  # a typo in a declaration fails at import, not in production
            raise ValueError(f"product {self.name!r} names unknown settings: {unknown}")
        for handler in self.job_handlers:
            if not handler.kind.startswith(f"{self.name}."):
                raise ValueError(
                    f"product {self.name!r}: job kind {handler.kind!r} must start with "
                    f"'{self.name}.' so kinds of different products never collide"
                )


def job_handlers(products: Sequence[Product], settings: Settings) -> JobHandlers:
    """Every job handler a process runs: the platform's own (webhook deliveries, which every
    product's events cause), its products', and a deployment's own kinds from the modules
    `PAPERWORKS_JOB_MODULES` names."""
    return JobHandlers(
        [
            *PLATFORM_JOB_HANDLERS,
            *(handler for product in products for handler in product.job_handlers),
            *JobHandlers.in_modules(settings.job_modules),
        ]
    )
