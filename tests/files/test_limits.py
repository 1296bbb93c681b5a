"""The upload size limit: over it is a 413 that leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from paperworks.kit.db import Database
from paperworks.settings import Settings
from tests.accounts import Account
from tests.conftest import make_settings
from tests.files.conftest import count_rows, stored_paths, upload
from tests.problems import assert_problem

LIMIT = 1024


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "data", database_url=database_url, max_upload_bytes=LIMIT)


async def test_a_file_over_the_limit_is_a_413_and_leaves_nothing(
    client: httpx.AsyncClient, anna: Account, settings: Settings, db: Database
) -> None:
    response = await upload(client, anna.headers, "big.csv", b"a,b\n" * (LIMIT // 4 + 1))
    assert_problem(response, 413, "file.too_large")
    assert str(LIMIT) in response.json()["detail"]
    assert stored_paths(settings) == []  # no temporary file either
    assert await count_rows(db) == 0


async def test_a_file_of_exactly_the_limit_is_taken(
    client: httpx.AsyncClient, anna: Account
) -> None:
    response = await upload(client, anna.headers, "fits.csv", b"a,b\n" * (LIMIT // 4))
    assert response.status_code == 201, response.text
    assert response.json()["size"] == LIMIT
