"""Decks on the wire: outline requests and answers, build requests, decks, themes."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, StrictBool, StrictInt, StringConstraints, model_validator

from paperworks.decks.models import DeckStatus
from paperworks.decks.plan import MAX_SLIDES, OutlineRequest, Slide
from paperworks.kit.schemas import ApiModel, NotBlank, PlainText, UtcDateTime

DEFAULT_SLIDE_COUNT = 5
# A pasted document (a meeting note, a report) fits, not only a topic.
MAX_PROMPT_CHARS = 20_000
SLIDE_COUNT_DOC = (
    "How many slides: a model writes this many; offline, only as many as the prompt has "
    "material for, up to this"
)


# Stripped first: a prompt of spaces (or of control characters) is as empty as no prompt at all.
Prompt = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_PROMPT_CHARS),
    NotBlank,
    Field(description="What the deck is about"),
]
DeckTitle = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), NotBlank
]


class OutlineOptions(ApiModel):
    prompt: Prompt
    slide_count: StrictInt = Field(
        default=DEFAULT_SLIDE_COUNT, ge=1, le=MAX_SLIDES, description=SLIDE_COUNT_DOC
    )
    language: Annotated[str, PlainText] | None = Field(
        default=None,
        max_length=50,
        examples=["English", "de", "Deutsch"],
        description="The deck's language (a code or a name); by default, the prompt's",
    )
    tone: Annotated[str, PlainText] | None = Field(
        default=None, max_length=100, examples=["friendly", "formal"]
    )
    audience: Annotated[str, PlainText] | None = Field(
        default=None, max_length=200, examples=["new customers"]
    )

    def request(self) -> OutlineRequest:
        """What the planner is asked."""
        return OutlineRequest(
            prompt=self.prompt,
            slide_count=self.slide_count,
            language=self.language,
            tone=self.tone,
            audience=self.audience,
        )


class OutlineOut(ApiModel):
    title: str
    slide_plan: list[Slide]
    model: str = Field(description='Who wrote it: the model\'s name, or "offline"')
    cached: bool = Field(description="Served from the outline cache")


class BuildRequest(ApiModel):
    """Either a plan (as `POST /chat/generate` answered, maybe edited) or a prompt to plan from."""

    slide_plan: list[Slide] | None = Field(default=None, min_length=1, max_length=MAX_SLIDES)
    title: DeckTitle | None = None
    theme: str | None = Field(default=None, description="See `GET /slides/themes`")
    include_images: StrictBool = True
    prompt: Prompt | None = None
    slide_count: StrictInt = Field(
        default=DEFAULT_SLIDE_COUNT, ge=1, le=MAX_SLIDES, description=SLIDE_COUNT_DOC
    )
    language: Annotated[str, PlainText] | None = Field(default=None, max_length=50)
    tone: Annotated[str, PlainText] | None = Field(default=None, max_length=100)
    audience: Annotated[str, PlainText] | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _plan_or_prompt(self) -> Self:
        if (self.slide_plan is None) == (self.prompt is None):
            raise ValueError("send either slidePlan or prompt, not both or neither")
        return self

    def outline_options(self) -> OutlineOptions:
        """The prompt and options to plan from (for a request without a slide plan)."""
        return OutlineOptions.model_validate(
            {
                "prompt": self.prompt,
                "slide_count": self.slide_count,
                "language": self.language,
                "tone": self.tone,
                "audience": self.audience,
            }
        )


class BuildAccepted(ApiModel):
    job_id: str
    deck_id: str


class PlanUpdate(ApiModel):
    slide_plan: list[Slide] = Field(min_length=1, max_length=MAX_SLIDES)
    title: DeckTitle | None = None
    theme: str | None = None


class RegenerateRequest(ApiModel):
    instruction: Annotated[str, PlainText] | None = Field(
        default=None, max_length=500, examples=["shorter, with one concrete example"]
    )


class DeckOut(ApiModel):
    id: str
    title: str
    theme: str
    slide_plan: list[Slide] | None = Field(description="null until a prompt's plan is made")
    status: DeckStatus
    include_images: bool
    model: str | None
    job_id: str | None = Field(description="The last build's job")
    file_id: str | None
    download_url: str | None = Field(
        default=None, description="A signed link to the .pptx, while it is valid"
    )
    error: str | None
    created_at: UtcDateTime
    updated_at: UtcDateTime


class ThemeOut(ApiModel):
    name: str
    label: str
    preview_url: str = Field(description="A PNG of the theme's title slide")
