"""Standard Webhooks signatures (https://www.standardwebhooks.com): secrets and headers.

The secret is `whsec_` + base64 of 32 random bytes. A message is signed over
`{webhook-id}.{webhook-timestamp}.{body}` with HMAC-SHA256 by the `standardwebhooks` package (the
reference implementation receivers verify with), and sent as `webhook-signature: v1,<base64>`;
while a rotated-out secret is still valid the header carries both signatures, space-separated,
as the specification allows, so a receiver holding either secret verifies it.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable
from datetime import datetime
from math import floor

from standardwebhooks.webhooks import Webhook

# What every secret starts with, not a secret itself.
SECRET_PREFIX = "whsec_"  # noqa: S105  # nosec B105
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def signed_headers(
    message_id: str, timestamp: datetime, body: bytes, signing_secrets: Iterable[str]
) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt at a message."""
    signatures = [Webhook(secret).sign(message_id, timestamp, body) for secret in signing_secrets]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(floor(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
