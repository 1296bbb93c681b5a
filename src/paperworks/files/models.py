"""Files' table: one row per stored file; the bytes live in a `Storage` under `storage_key`."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from paperworks.identity.tenancy import WorkspaceOwned
from paperworks.kit.db import Base, IdMixin, TimestampMixin

FILENAME_LENGTH = 255


class StoredFile(IdMixin, TimestampMixin, WorkspaceOwned, Base):
    __tablename__ = "files"

    # Who uploaded it; None for a product's output made without a user, or a deleted account.
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    filename: Mapped[str] = mapped_column(String(FILENAME_LENGTH))  # sanitised, never a path
    content_type: Mapped[str] = mapped_column(String(100))  # sniffed from the bytes
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(20))
    storage_key: Mapped[str] = mapped_column(String(200))
