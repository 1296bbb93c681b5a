"""Single sign-on against a real OpenID provider: the npm `oidc-provider` (tests/js/
oidc_provider.js) in a Node process on a loopback port. The browser is an httpx client that
keeps its cookies and follows redirects: our login, the provider's login and consent forms, our
callback, and back to the app with a code. Our service runs in this process over ASGI, reachable
by the provider only through the browser's redirects; its own calls to the provider (discovery,
token, keys) go over real HTTP."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from paperworks.app import create_app
from paperworks.kit.db import Database
from tests.conftest import make_settings
from tests.node import JS_DIR, RunNode

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BASE_URL = "http://testserver"
PROVIDER = "local"
CALLBACK = f"{BASE_URL}/api/v1/auth/sso/{PROVIDER}/callback"
APP = "https://app.example.com/signed-in"
CLIENT_SECRET = "live-client-secret-0123456789abcdefghij"
STARTUP_SECONDS = 60  # how long to wait for Node to import the provider and listen, at most
FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"[^>]*method="post"', re.IGNORECASE)


@dataclass
class LiveProvider:
    issuer: str
    client_id: str
    log: Path

    def settings(self, **overrides: Any) -> dict[str, Any]:
        return {
            "name": PROVIDER,
            "display_name": "Local provider",
            "issuer": self.issuer,
            "client_id": self.client_id,
            "client_secret": CLIENT_SECRET,
            **overrides,
        }


@pytest.fixture(scope="module")
def oidc_provider(
    node: RunNode, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveProvider]:
    """`node tests/js/oidc_provider.js` on a free loopback port (0: the kernel picks one, so
    no other process can take it first), until the module's tests are done. `node` (the
    fixture) skips, or with PAPERWORKS_TEST_NODE=required fails, where Node is missing."""
    executable = shutil.which("node")
    assert executable is not None
    log = tmp_path_factory.mktemp("oidc-provider") / "stderr.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [executable, str(JS_DIR / "oidc_provider.js"), "0", CALLBACK, CLIENT_SECRET],
            cwd=JS_DIR,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        first_line: list[str] = []
        reader = threading.Thread(
            target=lambda: first_line.append(process.stdout.readline() if process.stdout else ""),
            daemon=True,
        )
        reader.start()
        reader.join(STARTUP_SECONDS)
        if not first_line or not first_line[0].strip():
            pytest.fail(f"oidc_provider.js did not start:\n{log.read_text()}", pytrace=False)
        started = json.loads(first_line[0])
        yield LiveProvider(issuer=started["issuer"], client_id=started["clientId"], log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - only if shutdown hangs
            process.kill()
            process.wait()


def _app_page(request: httpx.Request) -> httpx.Response:
    """The front end the sign-in returns to: here it only has to answer."""
    return httpx.Response(200, text="the app")


@pytest.fixture
def service(
    oidc_provider: LiveProvider, tmp_path: Path, database_url: str, db: Database
) -> FastAPI:
    """Our service, configured with the live provider; public at http://testserver."""
    settings = make_settings(
        tmp_path / "data",
        database_url=database_url,
        public_url=BASE_URL,
        allowed_redirects=[APP],
        oidc_providers=[oidc_provider.settings()],
    )
    return create_app(settings, db=db)


@asynccontextmanager
async def open_browser(service: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A browser with cookies of its own: our service at http://testserver (in this process),
    the provider over real HTTP, the app's page answered here; redirects followed."""
    mounts = {
        BASE_URL: httpx.ASGITransport(app=service),
        "https://app.example.com": httpx.MockTransport(_app_page),
        "all://": httpx.AsyncHTTPTransport(),
    }
    async with httpx.AsyncClient(
        mounts=mounts, base_url=BASE_URL, follow_redirects=True, timeout=30
    ) as client:
        yield client


@pytest.fixture
async def browser(service: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with open_browser(service) as client:
        yield client


async def _submit(
    browser: httpx.AsyncClient, page: httpx.Response, **fields: str
) -> httpx.Response:
    """Fill in the page's form and post it, as a browser does."""
    assert page.status_code == 200, page.text
    match = FORM_ACTION.search(page.text)
    assert match is not None, f"no form on {page.url}:\n{page.text}"
    return await browser.post(urljoin(str(page.url), match.group(1)), data=fields)


async def _sign_in_at_the_provider(browser: httpx.AsyncClient, login: str) -> httpx.Response:
    """Our login route, then the provider's login form and consent form; the last answer is
    where the browser ended up."""
    login_page = await browser.get(
        f"/api/v1/auth/sso/{PROVIDER}/login", params={"redirectUrl": APP}
    )
    assert login_page.url.host == "127.0.0.1", login_page.url  # the provider's own page
    consent_page = await _submit(
        browser, login_page, prompt="login", login=login, password="any password"
    )
    assert 'value="consent"' in consent_page.text, consent_page.text
    return await _submit(browser, consent_page, prompt="consent")


def _app_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    assert str(response.url).startswith(APP + "?"), response.url
    return {name: values[0] for name, values in parse_qs(urlsplit(str(response.url)).query).items()}


async def test_a_browser_signs_in_through_a_real_provider(
    browser: httpx.AsyncClient, oidc_provider: LiveProvider
) -> None:
    landed = await _sign_in_at_the_provider(browser, "ada")

    query = _app_query(landed)
    assert set(query) == {"code"}
    # The way it went: our login, the provider, our callback, the app; no token in any URL.
    hops = [str(response.url) for response in landed.history]
    assert hops[-1].startswith(CALLBACK + "?")
    assert all("access" not in hop.lower() and "id_token" not in hop for hop in hops)

    exchanged = await browser.post("/api/v1/auth/sso/exchange", json={"code": query["code"]})
    assert exchanged.status_code == 200, exchanged.text
    headers = {"Authorization": f"Bearer {exchanged.json()['accessToken']}"}
    me = await browser.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "ada@example.com"
    assert me.json()["name"] == "Ada Lovelace"
    linked = await browser.get("/api/v1/me/identities", headers=headers)
    (identity,) = linked.json()["items"]
    assert (identity["provider"], identity["subject"]) == (PROVIDER, "ada")

    # The same callback, replayed (the state is spent, and it is this browser's).
    replayed = await browser.get(hops[-1])
    assert _app_query(replayed) == {"error": "sso.state_used"}


async def test_a_callback_replayed_in_another_browser_is_refused(
    browser: httpx.AsyncClient, service: FastAPI
) -> None:
    landed = await _sign_in_at_the_provider(browser, "ada")
    callback = str(landed.history[-1].url)
    async with open_browser(service) as other:
        replayed = await other.get(callback)

    assert _app_query(replayed) == {"error": "sso.browser_missing"}


async def test_an_unverified_address_signs_no_one_in(browser: httpx.AsyncClient) -> None:
    landed = await _sign_in_at_the_provider(browser, "grace")  # email_verified: false

    assert _app_query(landed) == {"error": "sso.email_not_verified"}


async def test_refusing_consent_at_the_provider_comes_back_as_its_error(
    browser: httpx.AsyncClient,
) -> None:
    login_page = await browser.get(
        f"/api/v1/auth/sso/{PROVIDER}/login", params={"redirectUrl": APP}
    )
    consent_page = await _submit(browser, login_page, prompt="login", login="ada", password="x")
    abort = re.search(r'href="([^"]*/abort)"', consent_page.text)
    assert abort is not None, consent_page.text

    landed = await browser.get(urljoin(str(consent_page.url), abort.group(1)))

    assert _app_query(landed) == {"error": "sso.provider_error", "providerError": "access_denied"}
