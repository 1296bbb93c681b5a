"""Settings in the web console over HTTP, beyond keys and invitations (test_console.py): changing a
member's role, removing a member or leaving, and the workspace's webhooks (made with the secret
shown once, changed, given a new secret, their deliveries sent again, deleted)."""

from __future__ import annotations

import re

import httpx

from paperworks.kit.db import Database
from tests.accounts import Account, add_member, create_workspace
from tests.console.test_console import signed_in


async def in_team(client: httpx.AsyncClient, anna: Account, bob: Account, db: Database) -> str:
    """Anna owns Team, Bob is a member; Anna is signed in there. Her page's CSRF token."""
    team = await create_workspace(client, anna, "Team")
    await add_member(db, team, bob.email)
    csrf = await signed_in(client, anna)
    await client.post("/workspace", data={"csrf": csrf, "workspace": team})
    return csrf


async def test_an_owner_changes_a_members_role_and_removes_them(
    client: httpx.AsyncClient, anna: Account, bob: Account, db: Database
) -> None:
    csrf = await in_team(client, anna, bob, db)
    page = (await client.get("/settings")).text
    assert f"Change the role of {bob.email}" in page
    assert f"Change the role of {anna.email}" in page

    promoted = await client.post(
        f"/settings/members/{bob.id}", data={"csrf": csrf, "action": "role", "role": "admin"}
    )
    assert promoted.status_code == 200
    assert f"{bob.email} is now admin." in promoted.text
    # The last owner cannot step down.
    alone = await client.post(
        f"/settings/members/{anna.id}", data={"csrf": csrf, "action": "role", "role": "member"}
    )
    assert alone.status_code == 422
    assert "Make someone else an owner first." in alone.text
    nonsense = await client.post(
        f"/settings/members/{bob.id}", data={"csrf": csrf, "action": "role", "role": "king"}
    )
    assert nonsense.status_code == 422

    removed = await client.post(
        f"/settings/members/{bob.id}", data={"csrf": csrf, "action": "remove"}
    )
    assert removed.status_code == 200
    assert bob.email not in removed.text


async def test_a_member_cannot_change_roles_but_can_leave(
    client: httpx.AsyncClient, anna: Account, bob: Account, db: Database
) -> None:
    team = await create_workspace(client, anna, "Team")
    await add_member(db, team, bob.email)
    csrf = await signed_in(client, bob)
    await client.post("/workspace", data={"csrf": csrf, "workspace": team})
    page = (await client.get("/settings")).text
    assert "Change the role" not in page
    assert "Leave Team" in page
    assert "/settings/webhooks" not in page

    refused = await client.post(
        f"/settings/members/{anna.id}", data={"csrf": csrf, "action": "remove"}
    )
    assert refused.status_code == 422
    assert (await client.get("/settings/webhooks")).status_code == 403

    left = await client.post(f"/settings/members/{bob.id}", data={"csrf": csrf, "action": "remove"})
    assert left.status_code == 303
    assert "Team" not in (await client.get("/")).text


async def test_a_webhook_is_made_changed_rotated_and_deleted_in_the_console(
    client: httpx.AsyncClient, anna: Account, bob: Account, db: Database
) -> None:
    csrf = await in_team(client, anna, bob, db)
    assert "/settings/webhooks" in (await client.get("/settings")).text
    listing = (await client.get("/settings/webhooks")).text
    assert 'value="booklet.generated"' in listing

    plain_http = await client.post(
        "/settings/webhooks",
        data={"csrf": csrf, "url": "http://hooks.example.com/in", "events": "deck.built"},
    )
    assert plain_http.status_code == 422
    assert "Only https:// endpoints" in plain_http.text
    assert 'value="http://hooks.example.com/in"' in plain_http.text  # the typing stays
    no_events = await client.post(
        "/settings/webhooks", data={"csrf": csrf, "url": "https://hooks.example.com/in"}
    )
    assert no_events.status_code == 422

    made = await client.post(
        "/settings/webhooks",
        data={
            "csrf": csrf,
            "url": "https://hooks.example.com/in",
            "events": ["deck.built", "booklet.generated"],
            "otherEvents": "job.*",
            "description": "CRM",
            "active": "on",
        },
    )
    assert made.status_code == 201
    secret = re.search(r'id="secret" value="(whsec_[^"]+)"', made.text)
    assert secret, made.text
    webhook_path = re.search(r'action="(/settings/webhooks/[^"]+)"', made.text).group(1)  # type: ignore[union-attr]
    page = (await client.get(webhook_path)).text
    assert secret.group(1) not in page  # shown once
    assert 'value="job.*"' in page
    assert 'value="deck.built" checked' in page

    # An event of the workspace is delivered; its delivery is listed and can be sent again.
    await client.post("/booklets/customers", data={"csrf": csrf, "name": "ACME"})
    await client.post(
        webhook_path,
        data={
            "csrf": csrf,
            "action": "save",
            "url": "https://hooks.example.com/in",
            "events": "customer.*",
            "active": "on",
        },
    )
    await client.post("/booklets/customers", data={"csrf": csrf, "name": "Beta"})
    page = (await client.get(webhook_path)).text
    assert "<code>customer.created</code>" in page
    delivery = re.search(r'value="(redeliver:[^"]+)"', page).group(1)  # type: ignore[union-attr]
    again = await client.post(webhook_path, data={"csrf": csrf, "action": delivery})
    assert again.status_code == 200
    assert "The delivery is being sent again." in again.text

    paused = await client.post(
        webhook_path,
        data={
            "csrf": csrf,
            "action": "save",
            "url": "https://hooks.example.com/v2",
            "events": "*",
        },
    )
    assert paused.status_code == 303
    page = (await client.get(webhook_path)).text
    assert "<h1>https://hooks.example.com/v2</h1>" in page
    assert "Off" in page
    rotated = await client.post(webhook_path, data={"csrf": csrf, "action": "rotate"})
    assert rotated.status_code == 200
    new_secret = re.search(r'id="secret" value="(whsec_[^"]+)"', rotated.text)
    assert new_secret
    assert new_secret.group(1) != secret.group(1)
    assert "the previous secret also signs until" in rotated.text

    deleted = await client.post(webhook_path, data={"csrf": csrf, "action": "delete"})
    assert deleted.status_code == 303
    assert (await client.get(webhook_path)).status_code == 404
