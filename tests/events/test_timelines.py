"""Publishing events and reading them back: heard live only after a commit, listed in time order,
never across workspaces, private ones only to their owner."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

import httpx
import pytest

from paperworks.events import service as events
from paperworks.events.hub import EventHub, LiveMessage
from paperworks.events.service import Resource
from paperworks.identity.caller import SYSTEM, Caller
from paperworks.kit.db import Database
from tests.accounts import Account, add_member, create_workspace
from tests.live_events import drained
from tests.problems import assert_problem

API = "/api/v1"


async def publish(
    db: Database,
    type: str,
    resource: Resource,
    payload: dict[str, Any] | None = None,
    *,
    actor: Caller = SYSTEM,
) -> str:
    """Publish one event in its own unit of work, as a request or a runner would."""
    async with db.session_scope() as session:
        event = await events.publish(session, type, resource, payload, actor=actor)
        return event.id


async def listed(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str | int
) -> dict[str, Any]:
    response = await client.get(f"{API}/events", params=params, headers=headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


# --- publishing -------------------------------------------------------------------------------


async def test_nothing_is_heard_or_kept_when_the_transaction_rolls_back(
    client: httpx.AsyncClient, db: Database, hub: EventHub, anna: Account
) -> None:
    workspace = anna.personal_workspace_id
    room = f"workspace:{workspace}"
    with hub.subscribe(room) as heard:
        with pytest.raises(RuntimeError, match="the request failed"):  # noqa: PT012
            async with db.session_scope() as session:
                await events.publish(session, "doc.created", Resource("doc", "d1", workspace))
                events.announce(session, LiveMessage("doc:typing", {}, (room,)))
                raise RuntimeError("the request failed")
        assert drained(heard) == []
    assert (await listed(client, anna.headers))["items"] == []


async def test_a_committed_event_is_heard_in_its_workspace_as_the_api_lists_it(
    client: httpx.AsyncClient, db: Database, hub: EventHub, anna: Account
) -> None:
    workspace = anna.personal_workspace_id
    room = f"workspace:{workspace}"
    ready = LiveMessage("doc:ready", {"docId": "d1"}, ("doc:d1",))
    with hub.subscribe(room) as heard, hub.subscribe("doc:d1") as followers:
        async with db.session_scope() as session:
            await events.publish(
                session,
                "doc.created",
                Resource("doc", "d1", workspace),
                {"title": "Q3 report"},
                actor=anna.caller,
                live=ready,
            )
            assert drained(heard) == []  # not before the commit
            assert drained(followers) == []
        (message,) = drained(heard)
        assert drained(followers) == [ready]

    (item,) = (await listed(client, anna.headers))["items"]
    assert (message.name, message.rooms) == ("doc.created", (room,))
    assert message.data == item  # the same JSON a client reads from the API
    assert item["type"] == "doc.created"
    assert (item["resourceType"], item["resourceId"], item["workspaceId"]) == (
        "doc",
        "d1",
        workspace,
    )
    assert item["actor"] == {"type": "user", "userId": anna.id, "apiKeyId": None}
    assert item["payload"] == {"title": "Q3 report"}
    assert item["createdAt"].endswith("Z")


async def test_a_private_event_is_heard_in_its_owners_room_only(
    db: Database, hub: EventHub, anna: Account
) -> None:
    workspace = anna.personal_workspace_id
    task = Resource("task", "t1", workspace, private_to_user_id=anna.id)
    with (
        hub.subscribe(f"workspace:{workspace}") as everyone,
        hub.subscribe(f"user:{anna.id}") as own,
    ):
        await publish(db, "task.created", task, {"title": "call the printer"})
        assert drained(everyone) == []
        (message,) = drained(own)
    assert message.name == "task.created"
    assert message.rooms == (f"user:{anna.id}",)
    assert message.data["payload"] == {"title": "call the printer"}
    assert message.data["actor"] == {"type": "system", "userId": None, "apiKeyId": None}


async def test_an_announcement_is_heard_after_commit_and_never_stored(
    client: httpx.AsyncClient, db: Database, hub: EventHub, anna: Account
) -> None:
    tick = LiveMessage("slide:rendered", {"slide": 3}, (f"workspace:{anna.personal_workspace_id}",))
    with hub.subscribe(f"workspace:{anna.personal_workspace_id}") as heard:
        async with db.session_scope() as session:
            events.announce(session, tick)
            assert drained(heard) == []
        assert drained(heard) == [tick]
    assert (await listed(client, anna.headers))["items"] == []


async def test_a_savepoint_neither_loses_nor_leaks_what_is_heard(
    db: Database, hub: EventHub, anna: Account
) -> None:
    workspace = anna.personal_workspace_id
    with hub.subscribe(f"workspace:{workspace}") as heard:
        async with db.session_scope() as session:
            await events.publish(session, "doc.created", Resource("doc", "kept", workspace))
            with contextlib.suppress(LookupError):
                async with session.begin_nested():
                    await events.publish(session, "doc.tried", Resource("doc", "undone", workspace))
                    raise LookupError("this part failed, the rest goes on")
        assert [message.name for message in drained(heard)] == ["doc.created"]

        with contextlib.suppress(LookupError):
            async with db.session_scope() as session:
                async with session.begin_nested():
                    await events.publish(session, "doc.saved", Resource("doc", "gone", workspace))
                raise LookupError("the request failed after all")
        assert drained(heard) == []


# --- GET /api/v1/events -----------------------------------------------------------------------


async def test_events_are_listed_in_time_order_a_page_at_a_time(
    client: httpx.AsyncClient, db: Database, anna: Account
) -> None:
    workspace = anna.personal_workspace_id
    ids = [await publish(db, f"doc.step{n}", Resource("doc", "d1", workspace)) for n in range(5)]
    async with db.session_scope() as session:  # several in one transaction keep their order too
        for n in range(5, 8):
            ids.append(
                (await events.publish(session, f"doc.step{n}", Resource("doc", "d1", workspace))).id
            )

    pages = [await listed(client, anna.headers, limit=3)]
    while pages[-1]["nextCursor"] is not None:
        cursor = pages[-1]["nextCursor"]
        pages.append(await listed(client, anna.headers, limit=3, cursor=cursor))
    assert [len(page["items"]) for page in pages] == [3, 3, 2]
    seen = [item for page in pages for item in page["items"]]
    assert [item["id"] for item in seen] == ids
    assert [item["type"] for item in seen] == [f"doc.step{n}" for n in range(8)]
    stamps = [datetime.fromisoformat(item["createdAt"]) for item in seen]
    assert stamps == sorted(stamps)

    whole = await listed(client, anna.headers, limit=8)
    assert (len(whole["items"]), whole["nextCursor"]) == (8, None)


async def test_events_can_be_narrowed_to_a_resource_or_a_type(
    client: httpx.AsyncClient, db: Database, anna: Account
) -> None:
    workspace = anna.personal_workspace_id
    await publish(db, "doc.created", Resource("doc", "d1", workspace))
    await publish(db, "doc.renamed", Resource("doc", "d1", workspace))
    await publish(db, "doc.created", Resource("doc", "d2", workspace))
    await publish(db, "file.uploaded", Resource("file", "d1", workspace))  # same id, other type

    async def narrowed(**params: str) -> list[tuple[str, str, str]]:
        page = await listed(client, anna.headers, **params)
        return [(i["type"], i["resourceType"], i["resourceId"]) for i in page["items"]]

    assert await narrowed(resourceType="doc") == [
        ("doc.created", "doc", "d1"),
        ("doc.renamed", "doc", "d1"),
        ("doc.created", "doc", "d2"),
    ]
    assert await narrowed(resourceType="doc", resourceId="d1") == [
        ("doc.created", "doc", "d1"),
        ("doc.renamed", "doc", "d1"),
    ]
    assert await narrowed(resourceId="d1") == [
        ("doc.created", "doc", "d1"),
        ("doc.renamed", "doc", "d1"),
        ("file.uploaded", "file", "d1"),
    ]
    assert await narrowed(type="doc.created") == [
        ("doc.created", "doc", "d1"),
        ("doc.created", "doc", "d2"),
    ]
    assert await narrowed(resourceType="doc", type="file.uploaded") == []
    assert await narrowed(resourceType="nothing") == []


async def test_another_workspaces_events_are_never_listed(
    client: httpx.AsyncClient, db: Database, anna: Account, bob: Account
) -> None:
    await publish(db, "doc.created", Resource("doc", "annas", anna.personal_workspace_id))
    await publish(db, "doc.created", Resource("doc", "bobs", bob.personal_workspace_id))

    annas = await listed(client, anna.headers)
    assert [item["resourceId"] for item in annas["items"]] == ["annas"]
    assert (await listed(client, anna.headers, resourceId="bobs"))["items"] == []
    bobs = await listed(client, bob.headers)
    assert [item["resourceId"] for item in bobs["items"]] == ["bobs"]

    elsewhere = await client.get(
        f"{API}/events", headers=anna.in_workspace(bob.personal_workspace_id)
    )
    assert_problem(elsewhere, 404, "workspace.not_found")


async def test_private_events_are_listed_to_their_owner_only(
    client: httpx.AsyncClient, db: Database, anna: Account, bob: Account
) -> None:
    team = await create_workspace(client, anna, "Team")
    await add_member(db, team, bob.email)
    await publish(db, "doc.created", Resource("doc", "shared", team))
    await publish(db, "task.created", Resource("task", "annas", team, private_to_user_id=anna.id))
    await publish(db, "task.created", Resource("task", "bobs", team, private_to_user_id=bob.id))

    annas = await listed(client, anna.in_workspace(team))
    assert [item["resourceId"] for item in annas["items"]] == ["shared", "annas"]
    bobs = await listed(client, bob.in_workspace(team))
    assert [item["resourceId"] for item in bobs["items"]] == ["shared", "bobs"]
    narrowed = await listed(client, anna.in_workspace(team), resourceId="bobs")
    assert narrowed["items"] == []


async def test_the_workspace_header_selects_whose_events_are_listed(
    client: httpx.AsyncClient, db: Database, anna: Account
) -> None:
    team = await create_workspace(client, anna, "Team")
    await publish(db, "doc.created", Resource("doc", "personal", anna.personal_workspace_id))
    await publish(db, "doc.created", Resource("doc", "team", team))

    personal = await listed(client, anna.headers)
    assert [item["resourceId"] for item in personal["items"]] == ["personal"]
    in_team = await listed(client, anna.in_workspace(team))
    assert [(item["resourceId"], item["workspaceId"]) for item in in_team["items"]] == [
        ("team", team)
    ]


async def test_listing_events_needs_credentials(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{API}/events"), 401, "auth.unauthenticated")


@pytest.mark.parametrize("limit", ["0", "101", "-1", "many"])
async def test_a_bad_limit_is_a_422_problem(
    client: httpx.AsyncClient, anna: Account, limit: str
) -> None:
    response = await client.get(f"{API}/events", params={"limit": limit}, headers=anna.headers)
    assert_problem(response, 422, "request.validation_failed")
