"""The page a sign-in link opens when PUBLIC_URL is the service itself."""

import httpx


async def test_the_link_opens_a_page_that_does_not_spend_the_token(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/auth/magic", params={"token": "abc"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert "../api/v1/auth/magic-link/verify" in response.text
    # Opening the page verifies nothing: the same token still reaches the API untouched.
    verify = await client.post("/api/v1/auth/magic-link/verify", json={"token": "abc"})
    assert verify.json()["code"] == "auth.invalid_magic_link"
