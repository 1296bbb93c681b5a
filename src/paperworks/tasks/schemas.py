"""Tasks on the wire: what a client sends to create or change a task, and what it gets back."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import BeforeValidator, Field, StrictBool, StringConstraints, field_validator
from pydantic.json_schema import SkipJsonSchema

from paperworks.kit.schemas import ApiModel, NotBlank, PlainText, UtcDateTime
from paperworks.tasks.models import TaskPriority

TITLE_MAX = 200
DESCRIPTION_MAX = 2000
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _calendar_day(value: object) -> object:
    # Pydantic would also take a Unix timestamp or a midnight datetime as a date; a due date is
    # a calendar day, written one way.
    if (isinstance(value, str) and ISO_DATE.fullmatch(value)) or type(value) is date:
        return value
    raise ValueError("a date must be written YYYY-MM-DD")


Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX),
    NotBlank,
    Field(
        description="Leading and trailing spaces are dropped; not blank; no control characters",
        examples=["Buy milk"],
    ),
]
Description = Annotated[str, Field(max_length=DESCRIPTION_MAX), PlainText]
DueDate = Annotated[
    date,
    BeforeValidator(_calendar_day),
    Field(description="A calendar day, YYYY-MM-DD", examples=["2026-12-24"]),
]


class TaskCreate(ApiModel):
    title: Title
    description: Description | None = None
    priority: TaskPriority = TaskPriority.medium
    due_date: DueDate | None = None


class TaskUpdate(ApiModel):
    """Only the fields sent change; `null` clears `description` and `dueDate`."""

    # `SkipJsonSchema[None]`: may be left out (None inside), but `null` is no value for them.
    title: Title | SkipJsonSchema[None] = None
    description: Description | None = None
    priority: TaskPriority | SkipJsonSchema[None] = None
    due_date: DueDate | None = None
    completed: StrictBool | SkipJsonSchema[None] = Field(
        default=None, description="true sets `completedAt`, false clears it"
    )

    @field_validator("title", "priority", "completed")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Defaults are not validated, so this only refuses a `null` the client sent: these
        # fields can be left out, not cleared.
        if value is None:
            raise ValueError("may be left out, but not null")
        return value


class TaskOut(ApiModel):
    id: str
    title: str
    description: str | None
    completed: bool
    priority: TaskPriority
    due_date: date | None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    completed_at: UtcDateTime | None
