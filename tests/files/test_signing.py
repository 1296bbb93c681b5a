"""Download tokens: valid until they expire, for the file they name, under the key that signed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from paperworks.files.exceptions import InvalidDownloadSignature
from paperworks.files.signing import sign_download, verify_download
from paperworks.kit.ids import new_id

SECRET = "a-secret-key-of-reasonable-length-0123456789"


def test_a_fresh_token_names_its_file() -> None:
    file_id = new_id()
    token = sign_download(SECRET, file_id, datetime.now(UTC) + timedelta(minutes=5))
    assert verify_download(SECRET, token) == file_id


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token[:-1] + ("0" if token[-1] != "0" else "1"),  # signature altered
        lambda token: new_id() + token[26:],  # another file
        lambda token: token.replace(".", ".9", 1),  # a later expiry
        lambda token: token.upper(),
        lambda token: token + "0",
        lambda token: token.split(".")[0],
        lambda token: "",
        lambda token: "ü" * 100,
    ],
)
def test_any_change_breaks_the_signature(forge: Callable[[str], str]) -> None:
    token = sign_download(SECRET, new_id(), datetime.now(UTC) + timedelta(minutes=5))
    with pytest.raises(InvalidDownloadSignature):
        verify_download(SECRET, forge(token))


def test_another_key_does_not_verify() -> None:
    token = sign_download(SECRET, new_id(), datetime.now(UTC) + timedelta(minutes=5))
    with pytest.raises(InvalidDownloadSignature):
        verify_download(SECRET + "x", token)


def test_an_expired_token_is_refused() -> None:
    now = datetime.now(UTC)
    token = sign_download(SECRET, new_id(), now + timedelta(seconds=10))
    verify_download(SECRET, token, now=now + timedelta(seconds=9))
    with pytest.raises(InvalidDownloadSignature, match="expired"):
        verify_download(SECRET, token, now=now + timedelta(seconds=10))
