"""What browsers are told: nosniff on every answer, no caching of answers that carry tokens, a
Content-Security-Policy that forbids framing on HTML pages (and lets each page's own script run),
and a sandboxing one on downloads, so an uploaded HTML file or a PDF with JavaScript runs nothing
in our origin."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from pathlib import Path

import httpx
import pytest
from pypdf import PdfWriter
from pypdf.actions import JavaScript

from paperworks.app import create_app
from paperworks.kit.db import Database
from tests.accounts import PASSWORD, Account
from tests.conftest import make_settings
from tests.files.conftest import uploaded

API = "/api/v1"


def pdf_with_javascript() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_open_action(JavaScript("app.alert(document.cookie);"))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def directives(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


def inline_script_hashes(html: str) -> list[str]:
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"
        for block in re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    ]


async def test_every_answer_says_nosniff(client: httpx.AsyncClient, anna: Account) -> None:
    answers = [
        await client.get("/health"),
        await client.get("/openapi.json"),
        await client.get(f"{API}/nothing-here"),
        await client.get(f"{API}/auth/me"),
        await client.get(f"{API}/auth/me", headers=anna.headers),
        await client.post(f"{API}/tasks", json={}, headers=anna.headers),
    ]
    for response in answers:
        assert response.headers["x-content-type-options"] == "nosniff", response.request.url


async def test_answers_that_carry_tokens_are_not_stored(
    client: httpx.AsyncClient, anna: Account
) -> None:
    answers = {
        "register": await client.post(
            f"{API}/auth/register", json={"email": "new@example.com", "password": PASSWORD}
        ),
        "login": await client.post(
            f"{API}/auth/login", json={"email": anna.email, "password": PASSWORD}
        ),
        "token": await client.post(
            f"{API}/auth/token", data={"username": anna.email, "password": PASSWORD}
        ),
        "refresh": await client.post(
            f"{API}/auth/refresh", json={"refreshToken": anna.refresh_token}
        ),
        "api key": await client.post(f"{API}/api-keys", json={"name": "ci"}, headers=anna.headers),
    }
    for name, response in answers.items():
        assert response.status_code in (200, 201), (name, response.text)
        assert response.headers["cache-control"] == "no-store", name


async def test_a_magic_link_sign_in_is_not_stored(
    tmp_path: Path, database_url: str, db: Database
) -> None:
    settings = make_settings(tmp_path / "data", database_url=database_url)
    app = create_app(settings, db=db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        await client.post(f"{API}/auth/magic-link", json={"email": "magic@example.com"})
        (line,) = (settings.data_dir / "outbox.jsonl").read_text().splitlines()
        token = re.findall(r"token=([\w-]+)", json.loads(line)["text"])[0]

        response = await client.post(f"{API}/auth/magic-link/verify", json={"token": token})

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("page", ["/auth/magic", "/invitations/accept"])
async def test_a_sign_in_page_may_run_only_its_own_script_and_never_in_a_frame(
    client: httpx.AsyncClient, page: str
) -> None:
    response = await client.get(page, params={"token": "x"})

    assert response.status_code == 200
    policy = directives(response)
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == inline_script_hashes(response.text)
    assert policy["connect-src"] == ["'self'"]  # it posts the token to our API
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
async def test_the_api_docs_work_under_their_csp_and_are_never_framed(
    tmp_path: Path, database_url: str, db: Database, path: str
) -> None:
    settings = make_settings(tmp_path, database_url=database_url, expose_docs=True)
    app = create_app(settings, db=db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        response = await client.get(path)

    assert response.status_code == 200
    policy = directives(response)
    assert policy["frame-ancestors"] == ["'none'"]
    # The page's own inline script by hash, and the scripts it loads from its CDN.
    for allowed in inline_script_hashes(response.text):
        assert allowed in policy["script-src"]
    for src in re.findall(r'<script src="([^"]+)"', response.text):
        assert any(src.startswith(origin) for origin in policy["script-src"]), src
    if path != "/docs/oauth2-redirect":
        assert "'self'" in policy["connect-src"]  # it fetches /openapi.json


async def test_downloads_run_nothing_in_our_origin(
    client: httpx.AsyncClient, anna: Account
) -> None:
    pdf = pdf_with_javascript()
    file = await uploaded(client, anna.headers, "a.pdf", pdf, content_type="application/pdf")
    link = await client.get(f"{API}/files/{file['id']}/download-url", headers=anna.headers)
    url = link.json()["url"]

    answers = [
        await client.get(f"{API}/files/{file['id']}/content", headers=anna.headers),
        await client.get(url),
        await client.get(url, headers={"Range": "bytes=0-5"}),
    ]
    for response in answers:
        assert response.status_code in (200, 206), response.text
        assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"
        assert response.headers["x-content-type-options"] == "nosniff"
