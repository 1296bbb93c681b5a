"""Booklets' tables: customers with attributes per period, books of ordered pages, the rules that
choose a page's source, and one row per generated booklet.

Every row carries its workspace (`WorkspaceOwned`), pages and rules included, so every read goes
through `scoped` and no query needs to remember a join to find out whose a row is.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from paperworks.identity.tenancy import WorkspaceOwned
from paperworks.kit.db import Base, IdMixin, TimestampMixin, utcnow


class PageType(StrEnum):
    static = "static"  # a PDF's pages as they are
    pdf_form = "pdf_form"  # a PDF form filled with the customer's values
    choosable = "choosable"  # a PDF chosen by rules over the customer's attributes
    excel = "excel"  # one worksheet rendered to PDF


class Operator(StrEnum):
    eq = "eq"
    ne = "ne"
    in_ = "in"
    gte = "gte"
    lte = "lte"
    exists = "exists"


class Customer(IdMixin, TimestampMixin, WorkspaceOwned, Base):
    __tablename__ = "customers"
    __table_args__ = (
        # NULLs are distinct in both databases: many customers may have no reference.
        Index("uq_customers_external_ref", "workspace_id", "external_ref", unique=True),
    )

    name: Mapped[str] = mapped_column(String(200))
    external_ref: Mapped[str | None] = mapped_column(String(100))


class CustomerAttribute(IdMixin, WorkspaceOwned, Base):
    """One value of a customer's: undated, for a year, or for a quarter of a year."""

    __tablename__ = "customer_attributes"
    __table_args__ = (
        CheckConstraint("quarter IS NULL OR (quarter BETWEEN 1 AND 4)", name="quarter_range"),
        CheckConstraint("quarter IS NULL OR year IS NOT NULL", name="quarter_needs_year"),
    )

    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(String(4000))
    year: Mapped[int | None] = mapped_column(Integer)
    quarter: Mapped[int | None] = mapped_column(Integer)


# One value per customer, key and period. An undated value is (NULL, NULL), and NULLs never clash
# in a unique index: compare them as 0, which no real year or quarter is.
Index(
    "uq_customer_attributes_period",
    CustomerAttribute.customer_id,
    CustomerAttribute.key,
    func.coalesce(CustomerAttribute.year, 0),
    func.coalesce(CustomerAttribute.quarter, 0),
    unique=True,
)


class Book(IdMixin, TimestampMixin, WorkspaceOwned, Base):
    __tablename__ = "books"

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")


class Page(IdMixin, WorkspaceOwned, Base):
    __tablename__ = "pages"
    __table_args__ = (Index("uq_pages_position", "book_id", "position", unique=True),)

    book_id: Mapped[str] = mapped_column(ForeignKey("books.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    file_id: Mapped[str | None] = mapped_column(ForeignKey("files.id", ondelete="SET NULL"))


class PageCondition(IdMixin, WorkspaceOwned, Base):
    """A rule of a choosable page: when the customer's attribute matches, use `target_file_id`."""

    __tablename__ = "page_conditions"

    page_id: Mapped[str] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"), index=True)
    attribute_key: Mapped[str] = mapped_column(String(100))
    operator: Mapped[str] = mapped_column(String(10))
    # A string; for `in` a list of strings; for `exists` nothing.
    attribute_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    target_file_id: Mapped[str | None] = mapped_column(ForeignKey("files.id", ondelete="SET NULL"))
    priority: Mapped[int] = mapped_column(Integer, default=0)


class BookletBatch(IdMixin, WorkspaceOwned, Base):
    """Booklets of one book for many customers and one period, asked for at once."""

    __tablename__ = "booklet_batches"

    book_id: Mapped[str] = mapped_column(ForeignKey("books.id", ondelete="CASCADE"), index=True)
    year: Mapped[int | None] = mapped_column(Integer)
    quarter: Mapped[int | None] = mapped_column(Integer)
    # The ZIP of its finished booklets, made when first asked for once all have finished.
    file_id: Mapped[str | None] = mapped_column(ForeignKey("files.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Booklet(IdMixin, WorkspaceOwned, Base):
    """One generation for one customer and period. Its status is its job's (joined, never copied,
    so the two cannot disagree); `resolution` says where each page came from and why."""

    __tablename__ = "booklets"

    book_id: Mapped[str] = mapped_column(ForeignKey("books.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    year: Mapped[int | None] = mapped_column(Integer)
    quarter: Mapped[int | None] = mapped_column(Integer)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    batch_id: Mapped[str | None] = mapped_column(
        ForeignKey("booklet_batches.id", ondelete="SET NULL"), index=True
    )
    file_id: Mapped[str | None] = mapped_column(ForeignKey("files.id", ondelete="SET NULL"))
    page_count: Mapped[int | None] = mapped_column(Integer)
    resolution: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
