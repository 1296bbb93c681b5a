"""Configurations through the API: created with settings checked field by field, saved with a
new version each time, archived (hidden from the list, still readable), each with its timeline;
another workspace's configurations do not exist."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.accounts import Account
from tests.problems import assert_problem

API = "/api/v1"

STATEMENT = {
    "name": "Bank statement",
    "description": "Booking lines of our bank's monthly PDF",
    "settings": {
        "pages": "1-3,7",
        "detectionMode": "ruled",
        "columns": [
            {"name": "Date", "aliases": ["Booking date"], "type": "date", "required": True},
            {"name": "Amount", "type": "currency", "required": True},
            {"name": "Text"},
        ],
        "numberLocale": "1.234,56",
        "dateFormats": ["DD.MM.YYYY"],
        "keepUnmappedColumns": True,
    },
}


async def create(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(f"{API}/configurations", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_a_configuration_keeps_its_settings_with_defaults_filled_in(
    client: httpx.AsyncClient, anna: Account
) -> None:
    configuration = await create(client, anna.headers, STATEMENT)
    assert configuration["version"] == 1
    assert configuration["archivedAt"] is None
    assert configuration["createdAt"].endswith("Z")
    settings = configuration["settings"]
    assert settings["pages"] == "1-3,7"
    assert settings["columns"][0] == {
        "name": "Date",
        "aliases": ["Booking date"],
        "type": "date",
        "required": True,
    }
    assert settings["columns"][2] == {
        "name": "Text",
        "aliases": [],
        "type": "text",
        "required": False,
    }
    assert settings["detectHeader"] is True  # a default, stated
    assert settings["dropRepeatedHeaders"] is True

    bare = await create(client, anna.headers, {"name": "Anything"})
    assert bare["settings"]["pages"] == "all"
    assert bare["settings"]["detectionMode"] == "auto"
    assert bare["description"] == ""

    read = await client.get(f"{API}/configurations/{configuration['id']}", headers=anna.headers)
    assert read.json() == configuration


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"pages": "3-1"}, "settings.pages"),
        ({"pages": "first"}, "settings.pages"),
        ({"detectionMode": "magic"}, "settings.detectionMode"),
        ({"numberLocale": "1 234,56"}, "settings.numberLocale"),
        ({"columns": [{"name": "Amount", "type": "money"}]}, "settings.columns.0.type"),
        ({"columns": [{"name": "  "}]}, "settings.columns.0.name"),
        ({"columns": [{"name": "A"}, {"name": "a"}]}, "settings"),
        ({"dateFormats": ["whenever"]}, "settings.dateFormats"),
        ({"detectHeaders": False}, "settings.detectHeaders"),  # a typo is no silent default
        # JSON booleans only: 0 and "yes" were taken for false and true.
        ({"keepUnmappedColumns": 0}, "settings.keepUnmappedColumns"),
        ({"columns": [{"name": "A", "required": "yes"}]}, "settings.columns.0.required"),
    ],
)
async def test_invalid_settings_are_a_422_naming_the_field(
    client: httpx.AsyncClient, anna: Account, given: dict[str, Any], field: str
) -> None:
    response = await client.post(
        f"{API}/configurations", json={"name": "Bad", "settings": given}, headers=anna.headers
    )
    problem = assert_problem(response, 422, "request.validation_failed")
    assert field in [error["field"] for error in problem["errors"]], problem["errors"]

    existing = await create(client, anna.headers, {"name": "Good"})
    saved = await client.put(
        f"{API}/configurations/{existing['id']}", json={"settings": given}, headers=anna.headers
    )
    problem = assert_problem(saved, 422, "request.validation_failed")
    assert field in [error["field"] for error in problem["errors"]]
    unchanged = await client.get(f"{API}/configurations/{existing['id']}", headers=anna.headers)
    assert unchanged.json()["version"] == 1


async def test_a_name_is_required_and_unknown_fields_are_refused(
    client: httpx.AsyncClient, anna: Account
) -> None:
    for body in ({}, {"name": " "}, {"name": "X", "colour": "red"}):
        response = await client.post(f"{API}/configurations", json=body, headers=anna.headers)
        assert_problem(response, 422, "request.validation_failed")


async def test_every_save_bumps_the_version(client: httpx.AsyncClient, anna: Account) -> None:
    configuration = await create(client, anna.headers, STATEMENT)
    path = f"{API}/configurations/{configuration['id']}"

    renamed = (await client.put(path, json={"name": "Statements"}, headers=anna.headers)).json()
    assert (renamed["name"], renamed["version"]) == ("Statements", 2)
    assert renamed["settings"] == configuration["settings"]  # not sent, not changed
    assert renamed["description"] == configuration["description"]

    new_settings = {"columns": [{"name": "Total", "type": "decimal"}]}
    saved = (await client.put(path, json={"settings": new_settings}, headers=anna.headers)).json()
    assert saved["version"] == 3
    assert saved["name"] == "Statements"
    assert [c["name"] for c in saved["settings"]["columns"]] == ["Total"]
    assert saved["settings"]["pages"] == "all"  # settings are replaced whole

    again = (await client.put(path, json={}, headers=anna.headers)).json()
    assert again["version"] == 4  # a save is a save
    assert (await client.get(path, headers=anna.headers)).json()["version"] == 4
    assert again["updatedAt"] >= configuration["updatedAt"]


async def test_deleting_archives(client: httpx.AsyncClient, anna: Account) -> None:
    kept = await create(client, anna.headers, {"name": "Kept"})
    old = await create(client, anna.headers, {"name": "Old"})
    path = f"{API}/configurations/{old['id']}"

    archived = await client.delete(path, headers=anna.headers)
    assert archived.status_code == 200
    assert archived.json() == {"ok": True, "message": f"Configuration {old['id']} archived."}
    twice = await client.delete(path, headers=anna.headers)
    assert twice.json() == {
        "ok": True,
        "message": f"Configuration {old['id']} was already archived.",
    }

    listed = (await client.get(f"{API}/configurations", headers=anna.headers)).json()
    assert [c["id"] for c in listed["items"]] == [kept["id"]]
    everything = await client.get(
        f"{API}/configurations", params={"archived": "true"}, headers=anna.headers
    )
    assert [c["id"] for c in everything.json()["items"]] == [kept["id"], old["id"]]

    read = (await client.get(path, headers=anna.headers)).json()
    assert read["archivedAt"] is not None
    assert read["archivedAt"].endswith("Z")
    assert read["name"] == "Old"


async def test_configurations_are_listed_a_page_at_a_time(
    client: httpx.AsyncClient, anna: Account
) -> None:
    names = [f"Config {n}" for n in range(5)]
    for name in names:
        await create(client, anna.headers, {"name": name})
    first = (
        await client.get(f"{API}/configurations", params={"limit": 3}, headers=anna.headers)
    ).json()
    assert [c["name"] for c in first["items"]] == names[:3]
    rest = await client.get(
        f"{API}/configurations",
        params={"limit": 3, "cursor": first["nextCursor"]},
        headers=anna.headers,
    )
    assert [c["name"] for c in rest.json()["items"]] == names[3:]
    assert rest.json()["nextCursor"] is None


async def test_a_configurations_timeline_shows_each_version(
    client: httpx.AsyncClient, anna: Account
) -> None:
    configuration = await create(client, anna.headers, {"name": "Invoices"})
    path = f"{API}/configurations/{configuration['id']}"
    await client.put(path, json={"name": "Supplier invoices"}, headers=anna.headers)
    await client.delete(path, headers=anna.headers)

    timeline = (await client.get(f"{path}/events", headers=anna.headers)).json()
    assert [(e["type"], e["payload"]["version"]) for e in timeline["items"]] == [
        ("configuration.created", 1),
        ("configuration.updated", 2),
        ("configuration.archived", 2),
    ]
    assert timeline["items"][1]["payload"]["fields"] == ["name"]
    assert {e["actor"]["userId"] for e in timeline["items"]} == {anna.id}


async def test_another_workspaces_configuration_does_not_exist(
    client: httpx.AsyncClient, anna: Account, bob: Account
) -> None:
    configuration = await create(client, anna.headers, STATEMENT)
    path = f"{API}/configurations/{configuration['id']}"
    attempts = [
        await client.get(path, headers=bob.headers),
        await client.put(path, json={"name": "Mine now"}, headers=bob.headers),
        await client.delete(path, headers=bob.headers),
        await client.get(f"{path}/events", headers=bob.headers),
    ]
    for response in attempts:
        assert_problem(response, 404, "configuration.not_found")
    for archived in ("false", "true"):
        listed = await client.get(
            f"{API}/configurations", params={"archived": archived}, headers=bob.headers
        )
        assert listed.json()["items"] == []

    untouched = (await client.get(path, headers=anna.headers)).json()
    assert (untouched["name"], untouched["version"], untouched["archivedAt"]) == (
        "Bank statement",
        1,
        None,
    )
