"""Download links: a file id and an expiry, signed with the app's secret key (HMAC-SHA256).

A token reads `<file id>.<expiry, Unix seconds>.<signature>`. It needs no table: it is valid until
it expires, or until the file is deleted or the secret key changes.
"""

from __future__ import annotations

import hmac
import re
from datetime import UTC, datetime

from paperworks.files.exceptions import InvalidDownloadSignature
from paperworks.kit.security import keyed_hash

# Binds the signature to this use, so no other keyed hash made with the secret can pass for one.
_CONTEXT = "paperworks.files.download"
_TOKEN = re.compile(r"([0-9A-Za-z]{26})\.(\d{1,12})\.([0-9a-f]{64})")


def _signature(secret: str, file_id: str, expires: int) -> str:
    return keyed_hash(secret, f"{_CONTEXT}:{file_id}:{expires}")


def sign_download(secret: str, file_id: str, expires_at: datetime) -> str:
    expires = int(expires_at.timestamp())
    return f"{file_id}.{expires}.{_signature(secret, file_id, expires)}"


def verify_download(secret: str, token: str, *, now: datetime | None = None) -> str:
    """The file id a genuine, unexpired token names; anything else raises
    `InvalidDownloadSignature` (one error: a client learns nothing about why)."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise InvalidDownloadSignature("This download link is malformed.")
    file_id, expires, signature = match.groups()
    expected = _signature(secret, file_id, int(expires))
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise InvalidDownloadSignature("This download link's signature does not match.")
    if int(expires) <= (now or datetime.now(UTC)).timestamp():
        raise InvalidDownloadSignature("This download link has expired.")
    return file_id
