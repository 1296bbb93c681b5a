"""Extraction on the wire: documents and configurations (their `settings` are
`ExtractionSettings`, checked on every save)."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from paperworks.extraction.models import DocumentKind, DocumentStatus
from paperworks.extraction.settings_model import ExtractionSettings
from paperworks.kit.schemas import ApiModel, UtcDateTime

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=2000)]


class Strict(ApiModel):
    """A body whose unknown fields are errors: a misspelt field must not pass silently."""

    model_config = ConfigDict(extra="forbid")


class DocumentOut(ApiModel):
    id: str
    file_id: str
    name: str
    kind: DocumentKind
    page_count: int | None = Field(description="A PDF's pages; null for workbooks and CSV files")
    status: DocumentStatus
    uploaded_by: str | None
    created_at: UtcDateTime


class ConfigurationCreate(Strict):
    name: Name
    description: Description = ""
    settings: ExtractionSettings = Field(default_factory=ExtractionSettings)


class ConfigurationUpdate(Strict):
    """Only the fields sent change (`settings` is replaced whole); every save bumps `version`."""

    name: Name | None = None
    description: Description | None = None
    settings: ExtractionSettings | None = None


class ConfigurationOut(ApiModel):
    id: str
    name: str
    description: str
    version: int = Field(description="Bumped on every save; a job records the one it used")
    settings: ExtractionSettings
    archived_at: UtcDateTime | None
    created_at: UtcDateTime
    updated_at: UtcDateTime
