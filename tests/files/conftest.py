"""Helpers for files tests: uploading through the API, where the bytes land, and an S3 endpoint
(moto in server mode on loopback, reached by real boto3 over HTTP)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import httpx
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer
from sqlalchemy import func, select

from paperworks.files.models import StoredFile
from paperworks.files.storage import Storage
from paperworks.kit.db import Database
from paperworks.settings import Settings
from tests.conftest import make_settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

API = "/api/v1"
S3_ACCESS_KEY = "moto-access-key"
S3_SECRET_KEY = "moto-secret-key"
S3_REGION = "eu-central-1"


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


async def chunks_of(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def read_all(storage: Storage, key: str, **span: int) -> bytes:
    return b"".join([chunk async for chunk in await storage.open(key, **span)])


async def eventually(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Wait until `condition` (blocking: run in a thread) holds."""
    deadline = time.monotonic() + seconds
    while not await asyncio.to_thread(condition):
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


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


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 as a real HTTP server on 127.0.0.1, on a port the system picked."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def s3(s3_endpoint: str) -> S3Client:
    """A plain boto3 client of the endpoint, to look at what the code under test stored."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=S3_REGION,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


@pytest.fixture
def no_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """boto3 finds no developer's credentials or profile, and never asks an instance-metadata
    address (tests reach nothing but loopback)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture
def s3_bucket(s3: S3Client, no_aws_environment: None) -> Iterator[str]:
    """A new, empty bucket for one test."""
    name = f"paperworks-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": S3_REGION})
    yield name
    for upload in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    for key in object_keys(s3, name):
        s3.delete_object(Bucket=name, Key=key)
    s3.delete_bucket(Bucket=name)


def object_keys(s3: S3Client, bucket: str) -> list[str]:
    """Every key in the bucket, multipart uploads in progress included."""
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    pending = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return sorted([item["Key"] for item in listed] + [item["Key"] for item in pending])


def s3_settings(
    data_dir: Path, database_url: str, endpoint: str, bucket: str, **extra: Any
) -> Settings:
    """Settings whose files go to `bucket` on `endpoint`, under the prefix `paperworks`."""
    return make_settings(
        data_dir,
        database_url=database_url,
        storage_url=f"s3://{bucket}/paperworks",
        s3_endpoint_url=endpoint,
        s3_region=S3_REGION,
        s3_access_key_id=S3_ACCESS_KEY,
        s3_secret_access_key=S3_SECRET_KEY,
        **extra,
    )
