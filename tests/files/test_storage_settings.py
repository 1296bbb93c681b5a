"""The storage settings: where files go, and what an S3 backend needs."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from paperworks.settings import Settings


def test_files_stay_on_local_disk_by_default(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.storage_url == ""
    assert settings.s3_endpoint_url is None
    assert settings.s3_region == "us-east-1"
    assert settings.s3_access_key_id is None
    assert settings.s3_secret_access_key is None


def test_s3_settings_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERWORKS_STORAGE_URL", "s3://my-bucket/paperworks/prod/")
    monkeypatch.setenv("PAPERWORKS_S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("PAPERWORKS_S3_REGION", "eu-central-1")
    monkeypatch.setenv("PAPERWORKS_S3_ACCESS_KEY_ID", "minio")
    monkeypatch.setenv("PAPERWORKS_S3_SECRET_ACCESS_KEY", "minio-secret-123")
    settings = Settings(data_dir=tmp_path)
    assert settings.storage_url == "s3://my-bucket/paperworks/prod"
    assert settings.s3_endpoint_url == "http://127.0.0.1:9000"
    assert settings.s3_region == "eu-central-1"
    assert settings.s3_access_key_id == "minio"
    assert settings.s3_secret_access_key is not None
    assert settings.s3_secret_access_key.get_secret_value() == "minio-secret-123"
    assert "minio-secret-123" not in repr(settings)


def test_empty_s3_variables_mean_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ENDPOINT_URL", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY"):
        monkeypatch.setenv(f"PAPERWORKS_S3_{name}", "")
    settings = Settings(data_dir=tmp_path, storage_url="s3://my-bucket")
    assert settings.s3_endpoint_url is None
    assert settings.s3_access_key_id is None
    assert settings.s3_secret_access_key is None


@pytest.mark.parametrize(
    "url",
    [
        "file:///srv/files",
        "/srv/files",
        "s3:/my-bucket",
        "s3://",
        "s3://My_Bucket",
        "s3://ab",
        "s3://my-bucket/../escape",
        "s3://my-bucket//double",
        "s3://my-bucket/a b",
        "s3://my-bucket/prefix?x=1",
        "gs://my-bucket",
    ],
)
def test_a_storage_url_must_be_s3_with_a_bucket(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValidationError, match=r"s3://bucket\[/prefix\]"):
        Settings(data_dir=tmp_path, storage_url=url)


def test_an_s3_endpoint_is_an_http_url(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="http"):
        Settings(data_dir=tmp_path, s3_endpoint_url="127.0.0.1:9000")


@pytest.mark.parametrize(
    "keys",
    [{"s3_access_key_id": "minio"}, {"s3_secret_access_key": "minio-secret-123"}],
)
def test_s3_keys_come_in_pairs(tmp_path: Path, keys: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="go together"):
        Settings(data_dir=tmp_path, storage_url="s3://my-bucket", **keys)
