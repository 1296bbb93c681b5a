"""The page a sign-in link opens when PUBLIC_URL is the service itself."""

import json
import re

import httpx

from paperworks.settings import Settings


async def test_opening_the_link_does_not_spend_the_token(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await client.post("/api/v1/auth/magic-link", json={"email": "new@example.com"})
    mail = json.loads((settings.data_dir / "outbox.jsonl").read_text().splitlines()[-1])
    link = re.search(r"http://\S+", mail["text"])
    assert link is not None
    assert link.group().startswith(f"{settings.public_url}/auth/magic?token=")

    page = await client.get(link.group().removeprefix(settings.public_url))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "../api/v1/auth/magic-link/verify" in page.text

    # A mail scanner opening the page must not have used the link up.
    token = link.group().split("token=", 1)[1]
    verify = await client.post("/api/v1/auth/magic-link/verify", json={"token": token})
    assert verify.status_code == 200
    assert verify.json()["user"]["email"] == "new@example.com"
