"""Files on the timeline: uploads, products' outputs and deletions, each with its actor."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from paperworks.files import service
from paperworks.kit.db import Database
from tests.accounts import Account
from tests.files import samples
from tests.files.conftest import API, uploaded


async def timeline(client: httpx.AsyncClient, who: Account, file_id: str) -> list[dict[str, Any]]:
    response = await client.get(
        f"{API}/events", params={"resourceType": "file", "resourceId": file_id}, headers=who.headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_an_upload_and_its_deletion_are_on_the_files_timeline(
    client: httpx.AsyncClient, anna: Account, bob: Account
) -> None:
    file = await uploaded(client, anna.headers, "report.pdf", samples.pdf())
    deleted = await client.delete(f"{API}/files/{file['id']}", headers=anna.headers)
    assert deleted.status_code == 204

    events = await timeline(client, anna, file["id"])
    assert [event["type"] for event in events] == ["file.uploaded", "file.deleted"]
    assert events[0]["payload"] == {
        "filename": "report.pdf",
        "contentType": "application/pdf",
        "size": file["size"],
    }
    assert {event["actor"]["userId"] for event in events} == {anna.id}
    assert await timeline(client, bob, file["id"]) == []


async def test_an_upload_with_an_api_key_names_the_key(
    client: httpx.AsyncClient, anna: Account
) -> None:
    key = (
        await client.post(f"{API}/api-keys", json={"name": "scanner"}, headers=anna.headers)
    ).json()
    file = await uploaded(client, {"X-API-Key": key["key"]}, "notes.txt", samples.TEXT)
    (event,) = await timeline(client, anna, file["id"])
    assert event["actor"] == {"type": "apiKey", "userId": anna.id, "apiKeyId": key["id"]}


async def test_a_products_output_is_created_not_uploaded(
    client: httpx.AsyncClient, app: FastAPI, db: Database, anna: Account
) -> None:
    async with db.session_scope() as session:
        record = await service.store_bytes(
            session,
            app.state.services.storage,
            anna.caller,
            filename="deck.pptx",
            data=samples.pptx(),
        )
    (event,) = await timeline(client, anna, record.id)
    assert event["type"] == "file.created"
    assert event["actor"]["type"] == "user"
