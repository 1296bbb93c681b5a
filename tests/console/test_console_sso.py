"""Single sign-on in the web console, against the provider faked at the HTTP layer: the sign-in
page's button, the API's login and callback, and the console's own return page that turns the
one-time code into a console session, in the browser that started it only."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from paperworks.console import session as console_session
from paperworks.settings import Settings
from tests.conftest import make_settings
from tests.identity.fake_oidc import (
    APP,
    PROVIDER,
    AuthorizationRequest,
    FakeProvider,
    callback,
    provider_settings,
)


@pytest.fixture
def settings(tmp_path: Any, database_url: str) -> Settings:
    return make_settings(
        tmp_path / "data",
        database_url=database_url,
        public_url="http://testserver",
        allowed_redirects=[APP],
        oidc_providers=[provider_settings()],
    )


@pytest.fixture
def fake(fake_http: Any) -> FakeProvider:
    return FakeProvider(fake_http)


async def to_provider(client: httpx.AsyncClient, fake: FakeProvider, path: str) -> dict[str, str]:
    """Follows the console's button to the provider; the authorization request's query."""
    started = await client.get(path)
    assert started.status_code == 303, started.text
    login = await client.get(started.headers["location"])
    assert login.status_code == 302, login.text
    location = login.headers["location"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    fake.authorizations.append(AuthorizationRequest(url=location, params=query))
    return query


async def test_the_providers_button_signs_in_and_lands_on_the_page_asked_for(
    client: httpx.AsyncClient, fake: FakeProvider
) -> None:
    page = (await client.get("/sign-in?next=/decks")).text
    button = f'href="/sign-in/with/{PROVIDER}?next=/decks"'
    assert button in page
    assert "Sign in with" in page

    query = await to_provider(client, fake, f"/sign-in/with/{PROVIDER}?next=/decks")
    back = await callback(client, {"state": query["state"], "code": "provider-code"})
    assert back.status_code == 302
    landing = back.headers["location"]
    assert landing.startswith("http://testserver/sign-in/sso/done?code=")

    done = await client.get(landing)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/decks"
    assert console_session.COOKIE in done.headers.get("set-cookie", "")
    assert "Decks in" in (await client.get("/decks")).text
    # The code is spent: coming back with it again signs nobody in.
    again = await client.get(landing)
    assert again.status_code in (400, 401)


async def test_a_code_brought_by_a_link_from_elsewhere_signs_nobody_in(
    client: httpx.AsyncClient, fake: FakeProvider, settings: Settings
) -> None:
    query = await to_provider(client, fake, f"/sign-in/with/{PROVIDER}")
    back = await callback(client, {"state": query["state"], "code": "provider-code"})
    landing = back.headers["location"]

    # Another browser (the victim's) opens the attacker's landing URL: it started nothing.
    async with httpx.AsyncClient(
        transport=client._transport, base_url="http://testserver"
    ) as other:
        refused = await other.get(landing)
    assert refused.status_code == 400
    assert "not started in this browser" in refused.text
    assert console_session.COOKIE not in refused.headers.get("set-cookie", "")


async def test_a_provider_that_refuses_is_said_on_the_sign_in_page(
    client: httpx.AsyncClient, fake: FakeProvider
) -> None:
    query = await to_provider(client, fake, f"/sign-in/with/{PROVIDER}")
    back = await callback(client, {"state": query["state"], "error": "access_denied"})
    refused = await client.get(back.headers["location"])
    assert refused.status_code == 401
    assert 'role="alert"' in refused.text
    assert (await client.get("/decks")).status_code == 303  # still signed out
    unknown = await client.get("/sign-in/with/nobody")
    assert unknown.status_code == 404
    assert "No such sign-in provider." in unknown.text
