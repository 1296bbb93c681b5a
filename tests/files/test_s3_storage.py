"""S3Storage against moto's S3 over real HTTP, what only it does: multipart uploads, objects per
prefix, taking back an upload whose write was cancelled, presigned URLs' signatures, and the
client the settings make. (What every storage promises is in test_storage_contract.py, run on
this backend too.)"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from botocore.exceptions import ClientError

from paperworks.files.storage import (
    InvalidKey,
    LocalStorage,
    ObjectNotFound,
    S3Storage,
    s3_client,
    storage_from_settings,
)
from paperworks.kit.logging import configure_logging
from tests.conftest import make_settings
from tests.files.conftest import (
    S3_ACCESS_KEY,
    S3_REGION,
    S3_SECRET_KEY,
    chunks_of,
    eventually,
    object_keys,
    read_all,
    s3_settings,
)
from tests.files.sigv4 import expires_at, s3_would_accept, signed_at

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIB = 1024 * 1024


@pytest.fixture
def storage(s3: S3Client, s3_bucket: str) -> S3Storage:
    return S3Storage(s3, s3_bucket, "paperworks/test")


async def test_a_large_write_is_a_multipart_upload(s3: S3Client, s3_bucket: str) -> None:
    storage = S3Storage(s3, s3_bucket, "p", part_size=5 * MIB)  # S3's smallest part
    data = hashlib.sha256(b"seed").digest() * (6 * MIB // 32 + 1)
    stored = await storage.write(
        "ws/big", chunks_of(*(data[i : i + 65536] for i in range(0, len(data), 65536)))
    )
    assert stored.size == len(data)
    head = s3.head_object(Bucket=s3_bucket, Key="p/ws/big")
    assert head["ETag"].endswith('-2"')  # two parts
    assert (
        await read_all(storage, "ws/big", start=5 * MIB - 2, end=5 * MIB + 2)
        == data[5 * MIB - 2 : 5 * MIB + 2]
    )


async def test_a_missing_bucket_is_an_error_not_a_missing_object(s3: S3Client) -> None:
    storage = S3Storage(s3, "no-such-bucket-here")
    with pytest.raises(ClientError, match="NoSuchBucket"):
        await storage.open("ws/a")


async def test_each_prefix_and_workspace_keeps_its_own_objects(
    s3: S3Client, s3_bucket: str
) -> None:
    prod = S3Storage(s3, s3_bucket, "/prod/")
    staging = S3Storage(s3, s3_bucket, "staging")
    bare = S3Storage(s3, s3_bucket)
    await prod.write("ws1/f", chunks_of(b"prod 1"))
    await prod.write("ws2/f", chunks_of(b"prod 2"))
    await staging.write("ws1/f", chunks_of(b"staging 1"))
    await bare.write("ws1/f", chunks_of(b"bare 1"))
    assert object_keys(s3, s3_bucket) == ["prod/ws1/f", "prod/ws2/f", "staging/ws1/f", "ws1/f"]
    assert await read_all(prod, "ws1/f") == b"prod 1"
    assert await read_all(staging, "ws1/f") == b"staging 1"
    assert await read_all(bare, "ws1/f") == b"bare 1"
    with pytest.raises(ObjectNotFound):
        await staging.open("ws2/f")


@pytest.mark.parametrize("prefix", ["..", "a/../b", "a b", "a//b"])
def test_a_prefix_is_checked_like_a_key(s3: S3Client, prefix: str) -> None:
    with pytest.raises(InvalidKey):
        S3Storage(s3, "bucket", prefix)


# --- cancellation: the upload runs in a thread that cannot be stopped ----------------------------


class GatedClient:
    """The real client, except that an upload waits for the test once its bytes are in S3."""

    def __init__(self, client: S3Client) -> None:
        self.client = client
        self.uploaded = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def upload_fileobj(self, *args: Any, **kwargs: Any) -> None:
        self.client.upload_fileobj(*args, **kwargs)
        self.uploaded.set()
        assert self.release.wait(10)


def exists(s3: S3Client, bucket: str, key: str) -> bool:
    return key in object_keys(s3, bucket)


async def test_a_write_cancelled_during_its_upload_takes_the_object_back(
    s3: S3Client, s3_bucket: str
) -> None:
    client = GatedClient(s3)
    storage = S3Storage(client, s3_bucket, "p")  # type: ignore[arg-type]
    task = asyncio.create_task(storage.write("ws/a", chunks_of(b"data")))
    assert await asyncio.to_thread(client.uploaded.wait, 10)
    assert exists(s3, s3_bucket, "p/ws/a")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    client.release.set()
    await eventually(lambda: not exists(s3, s3_bucket, "p/ws/a"))


async def test_a_failed_take_back_is_logged_not_raised(s3: S3Client, s3_bucket: str) -> None:
    client = GatedClient(s3)

    def refuse_delete(**kwargs: Any) -> None:
        raise ConnectionError("S3 went away")

    client.delete_object = refuse_delete  # type: ignore[method-assign]
    storage = S3Storage(client, s3_bucket, "p")  # type: ignore[arg-type]
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    try:
        task = asyncio.create_task(storage.write("ws/a", chunks_of(b"data")))
        assert await asyncio.to_thread(client.uploaded.wait, 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        client.release.set()
        await eventually(lambda: "s3_delete_failed" in stream.getvalue())
    finally:
        configure_logging("WARNING", "json")
    (line,) = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert line["s3_object"] == "p/ws/a"
    assert "S3 went away" in line["error"]


async def test_a_write_cancelled_just_after_its_upload_takes_the_object_back(
    s3: S3Client, s3_bucket: str
) -> None:
    loop = asyncio.get_running_loop()
    client = GatedClient(s3)
    client.release.set()
    task: asyncio.Task[Any]

    def cancel_late() -> None:
        # Holds the event loop while the thread finishes, so the task learns of its
        # cancellation only after the upload was published.
        time.sleep(0.3)
        task.cancel()

    def upload_then_cancel(*args: Any, **kwargs: Any) -> None:
        GatedClient.upload_fileobj(client, *args, **kwargs)
        loop.call_soon_threadsafe(cancel_late)

    client.upload_fileobj = upload_then_cancel  # type: ignore[method-assign]
    storage = S3Storage(client, s3_bucket, "p")  # type: ignore[arg-type]
    task = asyncio.create_task(storage.write("ws/a", chunks_of(b"data")))
    with pytest.raises(asyncio.CancelledError):
        await task
    await eventually(lambda: not exists(s3, s3_bucket, "p/ws/a"))


# --- presigned URLs -----------------------------------------------------------------------------


async def test_a_presigned_url_names_the_object_under_the_prefix_and_is_signed_now(
    storage: S3Storage,
) -> None:
    await storage.write("ws/a", chunks_of(b"data"))
    before = datetime.now(UTC).replace(microsecond=0)
    url = await storage.presigned_url(
        "ws/a", filename="a.csv", content_type="text/csv", expires_in=timedelta(minutes=5)
    )
    assert url is not None
    assert urlsplit(url).path.endswith("/paperworks/test/ws/a")
    assert before <= signed_at(url) <= datetime.now(UTC)
    assert expires_at(url) == signed_at(url) + timedelta(minutes=5)


async def test_a_presigned_url_is_good_for_that_object_name_and_time_only(
    storage: S3Storage,
) -> None:
    await storage.write("ws/a", chunks_of(b"data"))
    url = await storage.presigned_url(
        "ws/a", filename="a.txt", content_type="text/plain", expires_in=timedelta(minutes=5)
    )
    assert url is not None
    now = datetime.now(UTC)
    assert s3_would_accept(url, S3_SECRET_KEY, now=now)
    assert not s3_would_accept(url, "another secret", now=now)
    end = expires_at(url)
    assert s3_would_accept(url, S3_SECRET_KEY, now=end - timedelta(seconds=1))
    assert not s3_would_accept(url, S3_SECRET_KEY, now=end)
    query = dict(parse_qsl(urlsplit(url).query))
    for forged in (
        url.replace("/ws/a?", "/ws/b?"),  # another object
        url.replace("filename%3D%22a.txt", "filename%3D%22a.exe"),  # another name
        url.replace("X-Amz-Expires=300", "X-Amz-Expires=3000"),  # a longer life
        url.replace(query["X-Amz-Signature"], "0" * 64),
    ):
        assert forged != url
        assert not s3_would_accept(forged, S3_SECRET_KEY, now=now)


# --- from the settings --------------------------------------------------------------------------


def test_without_a_storage_url_files_go_to_the_data_dir(tmp_path: Path) -> None:
    storage = storage_from_settings(make_settings(tmp_path / "data"))
    assert isinstance(storage, LocalStorage)
    assert storage.root == (tmp_path / "data" / "files").absolute()


async def test_an_s3_storage_url_names_the_bucket_and_prefix(
    tmp_path: Path, s3_endpoint: str, s3_bucket: str, s3: S3Client
) -> None:
    settings = s3_settings(tmp_path, "sqlite+aiosqlite://", s3_endpoint, s3_bucket)
    storage = storage_from_settings(settings)
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix) == (s3_bucket, "paperworks")
    await storage.write("ws/a", chunks_of(b"data"))
    assert object_keys(s3, s3_bucket) == ["paperworks/ws/a"]


async def test_without_keys_boto3_finds_credentials_its_own_way(
    tmp_path: Path,
    s3_endpoint: str,
    s3_bucket: str,
    s3: S3Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3_SECRET_KEY)
    settings = make_settings(
        tmp_path, storage_url=f"s3://{s3_bucket}", s3_endpoint_url=s3_endpoint, s3_region=S3_REGION
    )
    storage = storage_from_settings(settings)
    assert isinstance(storage, S3Storage)
    assert storage.prefix == ""
    await storage.write("ws/a", chunks_of(b"data"))
    assert object_keys(s3, s3_bucket) == ["ws/a"]
    url = await storage.presigned_url(
        "ws/a", filename="a.txt", content_type="text/plain", expires_in=timedelta(minutes=1)
    )
    assert url is not None
    assert s3_would_accept(url, S3_SECRET_KEY, now=datetime.now(UTC))


def test_the_client_speaks_to_aws_unless_told_otherwise(
    tmp_path: Path, no_aws_environment: None
) -> None:
    aws = s3_client(make_settings(tmp_path, storage_url="s3://bucket", s3_region="eu-west-1"))
    assert aws.meta.region_name == "eu-west-1"
    assert aws.meta.endpoint_url == "https://s3.eu-west-1.amazonaws.com"
    assert aws.meta.config.s3 == {"addressing_style": "auto"}
    minio = s3_client(
        make_settings(
            tmp_path,
            storage_url="s3://bucket",
            s3_endpoint_url="http://127.0.0.1:9000",
            s3_access_key_id=S3_ACCESS_KEY,
            s3_secret_access_key=S3_SECRET_KEY,
        )
    )
    assert minio.meta.endpoint_url == "http://127.0.0.1:9000"
    assert minio.meta.config.s3 == {"addressing_style": "path"}
    assert minio.meta.config.request_checksum_calculation == "when_required"
