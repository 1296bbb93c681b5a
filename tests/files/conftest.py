"""Helpers for files tests: uploading through the API, and where the bytes land."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from paperworks.files.models import StoredFile
from paperworks.kit.db import Database
from paperworks.settings import Settings

API = "/api/v1"


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    filename: str,
    data: bytes,
    *,
    purpose: str | None = None,
    content_type: str = "application/octet-stream",
) -> httpx.Response:
    form = {"purpose": purpose} if purpose is not None else None
    return await client.post(
        f"{API}/files", files={"file": (filename, data, content_type)}, data=form, headers=headers
    )


async def uploaded(
    client: httpx.AsyncClient, headers: dict[str, str], filename: str, data: bytes, **options: Any
) -> dict[str, Any]:
    response = await upload(client, headers, filename, data, **options)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def stored_paths(settings: Settings) -> list[Path]:
    """Every file under the storage root (temporary ones included)."""
    root = settings.data_dir / "files"
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


async def count_rows(db: Database) -> int:
    async with db.session_scope() as session:
        return int(await session.scalar(select(func.count()).select_from(StoredFile)) or 0)


@pytest.fixture
def files_root(settings: Settings) -> Path:
    return settings.data_dir / "files"
