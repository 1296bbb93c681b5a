"""Extraction on the wire: documents and configurations (their `settings` are
`ExtractionSettings`, checked on every save)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from paperworks.extraction.models import DocumentKind, DocumentStatus, ExportFormat
from paperworks.extraction.settings_model import ExtractionSettings
from paperworks.kit.schemas import ApiModel, NotBlank, PlainText, UtcDateTime

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NotBlank
]
Description = Annotated[str, Field(max_length=2000), PlainText]


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


# --- extraction jobs, tables, exports -----------------------------------------------------------


class ExtractRequest(Strict):
    configuration_id: str | None = Field(
        default=None, max_length=64, description="Shape the tables by it; default settings without"
    )


class ExtractAccepted(ApiModel):
    job_id: str


class TableSummary(ApiModel):
    id: str
    page: int = Field(description="1-based: the PDF page, or a workbook's sheet number")
    index: int = Field(description="0-based position on its page")
    sheet: str | None = None
    bbox: list[float] | None
    n_rows: int
    n_cols: int


class TableOut(TableSummary):
    job_id: str
    document_id: str
    grid: list[list[str]] = Field(
        description="The table as found: rows of cell texts, header rows included, a spanning "
        "cell's text at its top-left position (blank elsewhere)"
    )
    header: list[str] = Field(description="The keys of `rows`, in order")
    rows: list[dict[str, Any]] = Field(description="The records shaped by the configuration")
    row_sources: list[dict[str, int]] = Field(
        description="Where each record of `rows` came from (one each, in order): `page` and "
        "`index` of the table as found on that page, `row` in that table, and `gridRow`, the "
        "same row in `grid` and `cells` (a table continued over pages has its parts' rows one "
        "under the other there). With `mapping`'s `sourceCol`, every value leads to its cell; "
        "empty for tables extracted before sources were kept"
    )
    cells: list[dict[str, Any]] = Field(
        description="Each found cell: row, col, rowSpan, colSpan, text, bbox on its page, page"
    )
    mapping: list[dict[str, Any]]
    issues: list[dict[str, Any]]


class ExportRequest(Strict):
    format: ExportFormat
    table_ids: list[Annotated[str, Field(max_length=64)]] | None = Field(
        default=None, max_length=1000, description="Only these tables of the job; all without"
    )


class ExportOut(ApiModel):
    id: str
    job_id: str
    table_id: str | None
    format: ExportFormat
    file_id: str
    filename: str
    download_url: str
    expires_at: UtcDateTime
    created_at: UtcDateTime
