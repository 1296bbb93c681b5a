"""Files' response bodies."""

from __future__ import annotations

from paperworks.files.purposes import Purpose
from paperworks.kit.schemas import ApiModel, UtcDateTime


class FileOut(ApiModel):
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    purpose: Purpose
    created_at: UtcDateTime


class DownloadUrl(ApiModel):
    url: str
    expires_at: UtcDateTime
