"""Files over HTTP with S3 storage (moto on loopback): uploads land in the bucket under the
workspace's prefix, content and ranges come back through us, download links are presigned URLs
that work with nothing but the URL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import pytest

from paperworks.kit.db import Database
from paperworks.settings import Settings
from tests.accounts import Account
from tests.files import samples
from tests.files.conftest import (
    S3_SECRET_KEY,
    count_rows,
    object_keys,
    s3_settings,
    upload,
    uploaded,
)
from tests.files.sigv4 import expires_at as url_expires_at
from tests.files.sigv4 import s3_would_accept
from tests.problems import assert_problem

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

API = "/api/v1"
LIMIT = 64 * 1024


@pytest.fixture
def settings(tmp_path: Path, database_url: str, s3_endpoint: str, s3_bucket: str) -> Settings:
    return s3_settings(
        tmp_path / "data", database_url, s3_endpoint, s3_bucket, max_upload_bytes=LIMIT
    )


async def test_an_upload_is_stored_in_the_bucket_under_its_workspace(
    client: httpx.AsyncClient,
    anna: Account,
    bob: Account,
    settings: Settings,
    s3: S3Client,
    s3_bucket: str,
) -> None:
    data = samples.pdf()
    mine = await uploaded(client, anna.headers, "report.pdf", data)
    theirs = await uploaded(client, bob.headers, "pixel.png", samples.png(), purpose="image")
    assert object_keys(s3, s3_bucket) == sorted(
        [
            f"paperworks/{anna.personal_workspace_id}/{mine['id']}",
            f"paperworks/{bob.personal_workspace_id}/{theirs['id']}",
        ]
    )
    assert not (settings.data_dir / "files").exists()  # nothing on local disk

    content = await client.get(f"{API}/files/{mine['id']}/content", headers=anna.headers)
    assert content.status_code == 200
    assert content.content == data
    part = await client.get(
        f"{API}/files/{mine['id']}/content", headers={**anna.headers, "Range": "bytes=-6"}
    )
    assert part.status_code == 206
    assert part.content == data[-6:] == b"%%EOF\n"


async def test_the_download_url_is_presigned_and_works_with_the_url_alone(
    client: httpx.AsyncClient, anna: Account, settings: Settings, s3_endpoint: str
) -> None:
    data = samples.CSV
    body = await uploaded(client, anna.headers, "Zprávy 2024.csv", data)
    before = datetime.now(UTC).replace(microsecond=0)
    response = await client.get(f"{API}/files/{body['id']}/download-url", headers=anna.headers)
    assert response.status_code == 200
    link = response.json()
    url = link["url"]
    assert url.startswith(f"{s3_endpoint}/")
    assert urlsplit(url).path.endswith(f"/paperworks/{anna.personal_workspace_id}/{body['id']}")

    # expiresAt is what the link promises, and the presigned URL lives at least that long.
    expires = datetime.fromisoformat(link["expiresAt"])
    ttl = timedelta(seconds=settings.signed_url_ttl_seconds)
    assert before + ttl <= expires <= datetime.now(UTC) + ttl
    assert expires <= url_expires_at(url) < expires + timedelta(seconds=2)
    assert s3_would_accept(url, S3_SECRET_KEY, now=expires - timedelta(seconds=1))
    assert not s3_would_accept(url, S3_SECRET_KEY, now=url_expires_at(url))

    async with httpx.AsyncClient() as browser:  # a real HTTP request, no credentials
        download = await browser.get(url)
    assert download.status_code == 200
    assert download.content == data
    assert download.headers["content-type"] == "text/csv"
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"Zpr_vy 2024.csv\"; filename*=UTF-8''Zpr%C3%A1vy%202024.csv"
    )


async def test_a_tampered_presigned_url_fails_s3s_checks(
    client: httpx.AsyncClient, anna: Account
) -> None:
    mine = await uploaded(client, anna.headers, "mine.csv", samples.CSV)
    other = await uploaded(client, anna.headers, "other.csv", samples.CSV)
    link = (await client.get(f"{API}/files/{mine['id']}/download-url", headers=anna.headers)).json()
    url = link["url"]
    now = datetime.now(UTC)
    assert s3_would_accept(url, S3_SECRET_KEY, now=now)
    # moto serves presigned URLs without checking their signature or expiry, so these are
    # checked as S3 checks them (tests/files/sigv4.py).
    for forged in (
        url.replace(mine["id"], other["id"]),
        url.replace("mine.csv", "mine.exe"),
        url.replace("X-Amz-Expires=3600", "X-Amz-Expires=7200"),
    ):
        assert forged != url
        assert not s3_would_accept(forged, S3_SECRET_KEY, now=now)


async def test_a_deleted_file_is_gone_from_the_bucket_and_its_link_is_dead(
    client: httpx.AsyncClient, anna: Account, db: Database, s3: S3Client, s3_bucket: str
) -> None:
    body = await uploaded(client, anna.headers, "report.pdf", samples.pdf())
    kept = await uploaded(client, anna.headers, "kept.pdf", samples.pdf())
    link = (await client.get(f"{API}/files/{body['id']}/download-url", headers=anna.headers)).json()
    response = await client.delete(f"{API}/files/{body['id']}", headers=anna.headers)
    assert response.status_code == 204
    assert object_keys(s3, s3_bucket) == [f"paperworks/{anna.personal_workspace_id}/{kept['id']}"]
    assert await count_rows(db) == 1
    async with httpx.AsyncClient() as browser:
        gone = await browser.get(link["url"])
    # What moto does enforce: the object must exist. (S3 answers 404, or 403 to a signer who may
    # not list the bucket; moto answers 403.)
    assert gone.status_code in {403, 404}


async def test_refused_uploads_leave_nothing_in_the_bucket(
    client: httpx.AsyncClient, anna: Account, db: Database, s3: S3Client, s3_bucket: str
) -> None:
    assert_problem(
        await upload(client, anna.headers, "report.png", samples.pdf()),
        415,
        "file.extension_mismatch",
    )
    assert_problem(await upload(client, anna.headers, "empty.pdf", b""), 422, "file.empty")
    assert_problem(
        await upload(client, anna.headers, "big.csv", b"a,b\n" * (LIMIT // 4 + 1)),
        413,
        "file.too_large",
    )
    assert object_keys(s3, s3_bucket) == []
    assert await count_rows(db) == 0


async def test_a_file_whose_object_vanished_is_a_404(
    client: httpx.AsyncClient, anna: Account, s3: S3Client, s3_bucket: str
) -> None:
    body = await uploaded(client, anna.headers, "report.pdf", samples.pdf())
    (key,) = object_keys(s3, s3_bucket)
    s3.delete_object(Bucket=s3_bucket, Key=key)  # behind our back
    response = await client.get(f"{API}/files/{body['id']}/content", headers=anna.headers)
    assert_problem(response, 404, "file.not_found")
