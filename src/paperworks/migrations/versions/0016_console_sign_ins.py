"""console sign-ins

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 07:30:00.000000

`console_sign_ins`: one row per browser signed in to the web console, named by its cookie, so
signing out ends it on the server (a copied cookie stops working). A user's go with the user.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_sign_ins",
        sa.Column("user_id", sa.String(length=26), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_console_sign_ins_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sign_ins")),
    )
    op.create_index(
        op.f("ix_console_sign_ins_user_id"), "console_sign_ins", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_console_sign_ins_user_id"), table_name="console_sign_ins")
    op.drop_table("console_sign_ins")
