"""extraction row sources

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 09:15:00.000000

`extracted_tables.row_sources`: for each shaped record, the found table and row it came from.
Tables stored before it get an empty list (their sources were not kept).

Plain ALTER TABLE on both databases (SQLite has had ADD and DROP COLUMN since 3.35), never a batch
copy of the table: on SQLite, with foreign keys on, dropping the old copy would cascade to the
exports made from its tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "extracted_tables",
        sa.Column("row_sources", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )


def downgrade() -> None:
    op.drop_column("extracted_tables", "row_sources")
