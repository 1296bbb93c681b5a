"""What S3 checks on a presigned URL, done here: moto serves presigned URLs without verifying
their signature or expiry (moto 5.2), so the tests verify them the way S3 does (SigV4 query
authentication, https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, urlsplit


def _quote(value: str) -> str:
    return quote(value, safe="-_.~")


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def signed_at(url: str) -> datetime:
    stamp = dict(parse_qsl(urlsplit(url).query))["X-Amz-Date"]
    return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def expires_at(url: str) -> datetime:
    return signed_at(url) + timedelta(
        seconds=int(dict(parse_qsl(urlsplit(url).query))["X-Amz-Expires"])
    )


def s3_would_accept(url: str, secret_key: str, *, now: datetime) -> bool:
    """Whether S3 would serve this presigned GET at `now`: unexpired, and signed with the secret
    over exactly this bucket, key and query (response headers included)."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    signature = params.pop("X-Amz-Signature", "")
    if (
        params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256"
        or params.get("X-Amz-SignedHeaders") != "host"
    ):
        return False
    if now >= expires_at(url):
        return False
    query = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(params.items()))
    canonical = "\n".join(
        ["GET", parts.path, query, f"host:{parts.netloc}\n", "host", "UNSIGNED-PAYLOAD"]
    )
    scope = params["X-Amz-Credential"].split("/", 1)[1]
    date, region, service, terminal = scope.split("/")
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            params["X-Amz-Date"],
            scope,
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = _hmac(f"AWS4{secret_key}".encode(), date)
    for part in (region, service, terminal):
        key = _hmac(key, part)
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)
