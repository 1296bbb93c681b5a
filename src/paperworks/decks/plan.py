"""The slide plan: what a deck says, slide by slide, before it is drawn.

The model (or the offline planner) writes it, a user may edit it, and `pptx_builder` draws it.
The same shape travels as JSON (camelCase) in the API and is the JSON schema asked of the model.
`OutlineRequest` is what a plan is asked for with: the prompt and its options.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StrictInt, model_validator

from paperworks.kit.schemas import ApiModel, PlainText

MAX_SLIDES = 30
MAX_BULLETS = 12
# What the planners write (a user's or a model's plan may say more, up to the schema's limits):
# a title that fits a slide's title placeholder, a bullet of a line or two, notes of a minute.
MAX_TITLE_CHARS = 80
MAX_BULLET_CHARS = 220
MAX_NOTES_CHARS = 4000


class Layout(StrEnum):
    # The wire name wins over str.title, which a member of this name hides (on purpose).
    title = "title"  # type: ignore[assignment]  # the deck's title, a subtitle (bullets[0])
    agenda = "agenda"  # the content slides' titles, as a list
    bullets = "bullets"
    bullets_image = "bullets_image"  # bullets beside an image (imagePrompt)
    two_columns = "two_columns"  # bullets split in two columns, first half left
    section = "section"  # a divider: a big title, an optional line under it
    quote = "quote"  # bullets[0] as a quotation, bullets[1] as its attribution
    closing = "closing"  # thanks / questions / next steps


class Slide(ApiModel):
    # Strict: `false` is not slide 0, nor "1" slide 1 (Pydantic's lax mode took them so).
    index: StrictInt = Field(ge=0, description="Position in the deck, from 0")
    layout: Layout = Layout.bullets
    # No control characters: a .pptx is XML, which cannot hold them.
    title: Annotated[str, PlainText] = Field(min_length=1, max_length=300)
    bullets: list[Annotated[str, PlainText]] = Field(default_factory=list, max_length=MAX_BULLETS)
    notes: Annotated[str, PlainText] = Field(
        default="", max_length=5000, description="Speaker notes"
    )
    image_prompt: Annotated[str, PlainText] | None = Field(
        default=None, max_length=1000, description="What the slide's image should show"
    )


class SlidePlan(ApiModel):
    title: Annotated[str, PlainText] = Field(min_length=1, max_length=300)
    slides: list[Slide] = Field(min_length=1, max_length=MAX_SLIDES)

    @model_validator(mode="after")
    def _numbered_in_order(self) -> SlidePlan:
        # Indexes are positions: whatever a model or an editor sent, they read 0..n-1.
        for position, slide in enumerate(self.slides):
            slide.index = position
        return self


@dataclass(frozen=True)
class OutlineRequest:
    prompt: str
    slide_count: int = 5
    language: str | None = None
    tone: str | None = None
    audience: str | None = None

    def __post_init__(self) -> None:
        if not self.prompt.strip():
            raise ValueError("an outline needs a prompt")
        if not 1 <= self.slide_count <= MAX_SLIDES:
            raise ValueError(f"slide_count must be between 1 and {MAX_SLIDES}")
