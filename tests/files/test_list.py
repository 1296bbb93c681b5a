"""`GET /files`: the active workspace's files, oldest first, a page at a time, by purpose."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from paperworks.files import service
from paperworks.files.storage import LocalStorage
from paperworks.kit.db import Database
from paperworks.settings import Settings
from tests.accounts import Account, add_member, create_workspace
from tests.files import samples
from tests.files.conftest import API, uploaded
from tests.problems import assert_problem


async def all_pages(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(f"{API}/files", params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"items", "nextCursor"}
        pages.append(body["items"])
        cursor = body["nextCursor"]
        if cursor is None:
            return pages
        assert len(pages) < 20, "the cursor never ends"


async def test_files_are_listed_oldest_first_a_page_at_a_time(
    client: httpx.AsyncClient, anna: Account
) -> None:
    made = [
        await uploaded(client, anna.headers, f"report-{n}.pdf", samples.pdf()) for n in range(5)
    ]
    pages = await all_pages(client, anna.headers, limit=2)
    assert [len(page) for page in pages] == [2, 2, 1]
    listed = [item for page in pages for item in page]
    # Ids are ULIDs: their order is creation order (to the millisecond).
    assert [item["id"] for item in listed] == sorted(item["id"] for item in made)
    assert sorted(listed, key=lambda item: item["id"]) == sorted(made, key=lambda item: item["id"])

    (everything,) = await all_pages(client, anna.headers)  # 50 by default
    assert everything == listed


async def test_an_empty_workspace_has_an_empty_list(
    client: httpx.AsyncClient, anna: Account
) -> None:
    response = await client.get(f"{API}/files", headers=anna.headers)
    assert response.status_code == 200
    assert response.json() == {"items": [], "nextCursor": None}


async def test_the_list_can_be_narrowed_to_a_purpose(
    client: httpx.AsyncClient, anna: Account, db: Database, settings: Settings
) -> None:
    document = await uploaded(client, anna.headers, "report.pdf", samples.pdf())
    image = await uploaded(client, anna.headers, "pixel.png", samples.png(), purpose="image")
    async with db.session_scope() as session:
        output = await service.store_bytes(
            session,
            LocalStorage(settings.data_dir / "files"),
            anna.caller,
            filename="deck.pptx",
            data=samples.pptx(),
        )
    for purpose, expected in (
        ("document", [document["id"]]),
        ("image", [image["id"]]),
        ("output", [output.id]),
    ):
        (page,) = await all_pages(client, anna.headers, purpose=purpose)
        assert [item["id"] for item in page] == expected, purpose
    (page,) = await all_pages(client, anna.headers)
    assert len(page) == 3

    response = await client.get(f"{API}/files", params={"purpose": "avatar"}, headers=anna.headers)
    assert_problem(response, 422, "request.validation_failed")


async def test_only_the_active_workspaces_files_are_listed(
    client: httpx.AsyncClient, db: Database, anna: Account, bob: Account
) -> None:
    annas = await uploaded(client, anna.headers, "anna.pdf", samples.pdf())
    bobs = await uploaded(client, bob.headers, "bob.pdf", samples.pdf())
    team = await create_workspace(client, anna, "Team")
    await add_member(db, team, bob.email)
    shared = await uploaded(client, anna.in_workspace(team), "team.csv", samples.CSV)

    for headers, expected in (
        (anna.headers, [annas["id"]]),
        (bob.headers, [bobs["id"]]),
        (anna.in_workspace(team), [shared["id"]]),
        (bob.in_workspace(team), [shared["id"]]),
    ):
        (page,) = await all_pages(client, headers)
        assert [item["id"] for item in page] == expected

    # Naming a workspace one is not in lists nothing: it is a 404.
    response = await client.get(
        f"{API}/files", headers=bob.in_workspace(anna.personal_workspace_id)
    )
    assert_problem(response, 404, "workspace.not_found")


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"cursor": "x" * 65}, "cursor")],
)
async def test_limits_and_cursors_are_checked(
    client: httpx.AsyncClient, anna: Account, params: dict[str, Any], field: str
) -> None:
    response = await client.get(f"{API}/files", params=params, headers=anna.headers)
    body = assert_problem(response, 422, "request.validation_failed")
    assert body["errors"][0]["field"] == field


async def test_listing_needs_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{API}/files"), 401, "auth.unauthenticated")


async def test_the_list_is_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    operation = (await client.get("/openapi.json")).json()["paths"]["/api/v1/files"]["get"]
    assert operation["summary"] == "Files of the active workspace, oldest first"
    assert {parameter["name"] for parameter in operation["parameters"]} >= {
        "purpose",
        "limit",
        "cursor",
    }
