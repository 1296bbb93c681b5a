"""Extraction's tables: documents uploaded, the configurations that shape their tables, one row
per extraction job (beside the platform's job row), the tables found and the exports made.

Every row carries its workspace (`WorkspaceOwned`), so every read goes through `scoped`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from paperworks.identity.tenancy import WorkspaceOwned
from paperworks.kit.db import Base, IdMixin, TimestampMixin, utcnow


class DocumentKind(StrEnum):
    pdf = "pdf"
    xlsx = "xlsx"
    csv = "csv"


class DocumentStatus(StrEnum):
    uploaded = "uploaded"  # stored, not extracted yet
    extracting = "extracting"  # a job is working on it
    extracted = "extracted"  # its latest job finished
    failed = "failed"  # its latest job failed


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    json = "json"


class Document(IdMixin, WorkspaceOwned, Base):
    """An uploaded PDF, workbook or CSV; its bytes are a file of the workspace (it goes with
    the file)."""

    __tablename__ = "documents"

    file_id: Mapped[str] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(10))
    page_count: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=DocumentStatus.uploaded)
    uploaded_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Configuration(IdMixin, TimestampMixin, WorkspaceOwned, Base):
    """Which pages, how to find tables and which columns a user wants (`ExtractionSettings`).
    Each save bumps `version`; deleting archives it, so jobs keep pointing at it."""

    __tablename__ = "configurations"

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    archived_at: Mapped[datetime | None] = mapped_column()


class ExtractionJob(WorkspaceOwned, Base):
    """What an extraction job is about, beside the platform's job row: it shares that row's id
    (so `/jobs/{id}` and `/jobs/{id}/tables` speak of one job) and goes with it. Its status,
    progress and outcome are the platform job's, joined, never copied."""

    __tablename__ = "extraction_jobs"

    id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    document_id: Mapped[str] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    # None: the default settings. Configurations are archived, not deleted; SET NULL is for a
    # row removed by hand.
    configuration_id: Mapped[str | None] = mapped_column(
        ForeignKey("configurations.id", ondelete="SET NULL"), index=True
    )
    configuration_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExtractedTable(IdMixin, WorkspaceOwned, Base):
    """One table a job found. `cells`: each cell's text, row/col and spans and bbox on the page;
    `header`/`rows`: the records shaped by the configuration; `row_sources`: for each record, the
    found table (page, index) and row it came from, and that row in `cells` (`gridRow`);
    `mapping`: which source column fed which configured column and how (exact, alias, fuzzy
    score); `issues`: what did not parse."""

    __tablename__ = "extracted_tables"
    __table_args__ = (Index("ix_extracted_tables_position", "job_id", "page", "index"),)

    job_id: Mapped[str] = mapped_column(ForeignKey("extraction_jobs.id", ondelete="CASCADE"))
    document_id: Mapped[str] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    page: Mapped[int] = mapped_column(Integer)  # 1-based; a workbook's sheet number
    index: Mapped[int] = mapped_column(Integer)  # 0-based position on its page
    sheet: Mapped[str | None] = mapped_column(String(255), nullable=True)  # a workbook's tab
    bbox: Mapped[list[float] | None] = mapped_column(JSON, nullable=True)
    n_rows: Mapped[int] = mapped_column(Integer)
    n_cols: Mapped[int] = mapped_column(Integer)
    header: Mapped[list[str]] = mapped_column(JSON, default=list)
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The server default is what 0011 gave the tables stored before it.
    row_sources: Mapped[list[dict[str, int]]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )
    cells: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    mapping: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    issues: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Export(IdMixin, WorkspaceOwned, Base):
    """A CSV, XLSX or JSON file made from one table (`table_id`) or from a job's tables."""

    __tablename__ = "exports"

    table_id: Mapped[str | None] = mapped_column(
        ForeignKey("extracted_tables.id", ondelete="CASCADE"), index=True
    )
    job_id: Mapped[str] = mapped_column(
        ForeignKey("extraction_jobs.id", ondelete="CASCADE"), index=True
    )
    format: Mapped[str] = mapped_column(String(10))
    file_id: Mapped[str] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
