"""the offline assistant's memory of a conversation

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 01:30:00.000000

`conversation_messages.memory`: with no model, the offline engine keeps, with each reply, the task
it last acted on and the tasks of the last list it showed, so "delete it" and "complete 2" in the
next message mean what the user saw.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversation_messages") as batch:
        batch.add_column(sa.Column("memory", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversation_messages") as batch:
        batch.drop_column("memory")
