"""The web console over HTTP: signing in with a password or a mailed link, the cookie session
(HttpOnly, SameSite, separate from the API), CSRF on every change, switching workspace, and
a deck made from the console's form, built, and downloadable."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from paperworks.console import session as console_session
from paperworks.identity import service as identity
from paperworks.identity.models import User, Workspace
from paperworks.identity.roles import Role
from paperworks.jobs.models import JobStatus
from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database
from paperworks.settings import Settings
from tests.accounts import PASSWORD, Account, SignUp
from tests.extraction.test_extraction_api import ruled_pdf
from tests.job_runs import run_next

COOKIE = console_session.COOKIE


async def signed_in(client: httpx.AsyncClient, account: Account) -> str:
    """Signs `account` in through the form; the page's CSRF token."""
    response = await client.post(
        "/sign-in", data={"email": account.email, "password": PASSWORD, "next": "/decks"}
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/decks"
    return csrf_of((await client.get("/decks")).text)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


async def test_a_page_without_a_session_sends_you_to_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/decks")

    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/decks"
    page = await client.get("/sign-in")
    assert page.status_code == 200
    assert '<label for="email">Email</label>' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "<script>" not in page.text
    assert "<style>" not in page.text


async def test_signing_in_sets_an_httponly_samesite_cookie_the_api_ignores(
    client: httpx.AsyncClient, anna: Account
) -> None:
    response = await client.post("/sign-in", data={"email": anna.email, "password": PASSWORD})

    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    home = await client.get("/")
    assert home.status_code == 200
    assert "Welcome, Anna" in home.text
    assert "Turn a topic, notes or a document into a PowerPoint deck." in home.text
    # The cookie is the console's only: the API still wants a token or a key.
    assert (await client.get("/api/v1/decks")).status_code == 401


async def test_a_wrong_password_is_said_on_the_page_and_sets_nothing(
    client: httpx.AsyncClient, anna: Account
) -> None:
    response = await client.post("/sign-in", data={"email": anna.email, "password": "nope"})

    assert response.status_code == 401
    assert "The email or password is wrong." in response.text
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil"])
async def test_after_signing_in_you_never_leave_the_site(
    client: httpx.AsyncClient, anna: Account, target: str
) -> None:
    response = await client.post(
        "/sign-in", data={"email": anna.email, "password": PASSWORD, "next": target}
    )
    assert response.headers["location"] == "/"


async def test_a_mailed_link_signs_in_once_and_only_on_the_button(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    sent = await client.post("/sign-in/link", data={"email": "new@example.com"})
    assert sent.status_code == 200
    assert "new@example.com" in sent.text
    mail = json.loads((settings.data_dir / "outbox.jsonl").read_text().splitlines()[-1])
    link = re.search(r"https?://\S+", mail["text"]).group(0)  # type: ignore[union-attr]
    assert urlsplit(link).path == "/sign-in/magic"
    token = parse_qs(urlsplit(link).query)["token"][0]

    opened = await client.get(f"/sign-in/magic?token={token}")  # a mail scanner may do this
    assert opened.status_code == 200
    assert COOKIE not in opened.headers.get("set-cookie", "")
    spent = await client.post("/sign-in/magic", data={"token": token})
    assert spent.status_code == 303
    assert COOKIE in spent.headers["set-cookie"]
    assert "new@example.com" in (await client.get("/")).text
    again = await client.post("/sign-in/magic", data={"token": token})
    assert again.status_code == 400
    assert "invalid, used or expired" in again.text


async def test_a_change_without_the_csrf_token_is_refused(
    client: httpx.AsyncClient, anna: Account
) -> None:
    csrf = await signed_in(client, anna)

    forged = await client.post("/decks", data={"prompt": "Quarterly review", "slideCount": "3"})
    assert forged.status_code == 403
    assert forged.json()["code"] == "console.csrf"
    wrong = await client.post("/sign-out", data={"csrf": csrf + "x"})
    assert wrong.status_code == 403
    out = await client.post("/sign-out", data={"csrf": csrf})
    assert out.status_code == 303
    assert out.headers["location"] == "/sign-in"
    assert (await client.get("/decks")).status_code == 303  # signed out


async def test_signing_out_ends_the_sign_in_for_a_copy_of_the_cookie_too(
    client: httpx.AsyncClient, anna: Account
) -> None:
    csrf = await signed_in(client, anna)
    copied = client.cookies[COOKIE]
    second_browser = await signed_in_elsewhere(client, anna)

    await client.post("/sign-out", data={"csrf": csrf})
    client.cookies.set(COOKIE, copied)  # the cookie as it was, replayed
    assert (await client.get("/decks")).status_code == 303
    # Another browser's sign-in is its own and goes on.
    client.cookies.set(COOKIE, second_browser)
    assert (await client.get("/decks")).status_code == 200


async def signed_in_elsewhere(client: httpx.AsyncClient, account: Account) -> str:
    """A second sign-in of `account` (another browser); its cookie. The client keeps its own."""
    mine = client.cookies[COOKIE]
    await signed_in(client, account)
    theirs = client.cookies[COOKIE]
    client.cookies.set(COOKIE, mine)
    assert theirs != mine
    return theirs


async def test_a_forged_or_foreign_cookie_is_no_session(
    client: httpx.AsyncClient, anna: Account
) -> None:
    client.cookies.set(COOKIE, anna.access_token)  # an API token is not a console session
    assert (await client.get("/decks")).status_code == 303
    client.cookies.set(COOKIE, "not-a-token")
    assert (await client.get("/decks")).status_code == 303


async def test_the_workspace_switcher_acts_in_the_chosen_workspace_only_if_a_member(
    client: httpx.AsyncClient, anna: Account
) -> None:
    team = await client.post("/api/v1/workspaces", json={"name": "Team"}, headers=anna.headers)
    team_id = team.json()["id"]
    csrf = await signed_in(client, anna)
    page = (await client.get("/decks")).text
    assert "Team (owner)" in page

    switched = await client.post(
        "/workspace", data={"csrf": csrf, "workspace": team_id, "next": "/decks"}
    )
    assert switched.status_code == 303
    assert switched.headers["location"] == "/decks"
    assert "Decks in Team" in (await client.get("/decks")).text
    await client.post("/workspace", data={"csrf": csrf, "workspace": "01NOTMINE0000000000000000"})
    assert "Decks in Team" in (await client.get("/decks")).text


async def test_a_deck_made_in_the_console_is_built_and_downloadable(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    csrf = await signed_in(client, anna)

    made = await client.post(
        "/decks",
        data={
            "csrf": csrf,
            "prompt": "Quarterly review\nResults:\n- Revenue up 12%\n- Churn down\nNext:\n"
            "- Launch the plan\n- Hire two engineers",
            "slideCount": "5",
            "theme": "midnight",
            "language": "",
            "includeImages": "on",
        },
    )
    assert made.status_code == 303
    deck_path = made.headers["location"]
    building = await client.get(deck_path)
    assert 'data-job-stream="/console/jobs/' in building.text
    stream = re.search(r'data-job-stream="([^"]+)"', building.text).group(1)  # type: ignore[union-attr]

    assert await run_next(db, runner) == JobStatus.succeeded
    async with client.stream("GET", stream) as events:
        assert events.headers["content-type"].startswith("text/event-stream")
        body = (await events.aread()).decode()
    assert "event: job:completed" in body
    ready = await client.get(deck_path)
    assert "ready" in ready.text
    download = re.search(r'href="([^"]+)" download', ready.text).group(1)  # type: ignore[union-attr]
    pptx = await client.get(download.replace("&amp;", "&"))
    assert pptx.status_code == 200
    assert pptx.content[:2] == b"PK"
    listed = await client.get("/decks")
    assert "Quarterly review" in listed.text
    assert "status-ready" in listed.text


async def test_a_bad_deck_form_is_said_on_the_page(
    client: httpx.AsyncClient, anna: Account
) -> None:
    csrf = await signed_in(client, anna)

    for data, said in (
        ({"prompt": "   ", "slideCount": "5"}, "prompt"),
        ({"prompt": "Topic", "slideCount": "99"}, "less than or equal to 30"),
        ({"prompt": "Topic", "slideCount": "many"}, "whole number"),
        ({"prompt": "Topic", "slideCount": "5", "theme": "neon"}, "neon"),
    ):
        response = await client.post("/decks", data={"csrf": csrf, **data})
        assert response.status_code == 422, data
        assert said in response.text, (data, response.text[-2000:])


def plan_form(page: str) -> dict[str, str]:
    """The plan form's fields as the page fills them (inputs and textareas)."""
    form = page[page.index('<form method="post" action="/decks/') :]
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form))
    fields |= {
        name: html.unescape(text)
        for name, text in re.findall(
            r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S
        )
    }
    fields["theme"] = "clean"
    return {name: html.unescape(value) for name, value in fields.items()}


async def test_a_deck_planned_first_is_edited_reordered_and_built(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    csrf = await signed_in(client, anna)
    planned = await client.post(
        "/decks",
        data={
            "csrf": csrf,
            "action": "plan",
            "prompt": "Team offsite\nDay one:\n- Arrival\n- Workshop\nDay two:\n- Hike\n- Retro",
            "slideCount": "6",
            "theme": "clean",
        },
    )
    assert planned.status_code == 303
    deck_path = planned.headers["location"]
    page = (await client.get(deck_path)).text
    assert "draft" in page
    assert 'value="Day one"' in page
    assert "data-job-stream" not in page  # nothing is building

    fields = plan_form(page)
    titles = [fields[f"title-{n}"] for n in range(int(fields["slides"]))]
    day_one = titles.index("Day one")
    fields[f"bullets-{day_one}"] = "Arrival by train\nWorkshop on goals\nDinner"
    fields[f"notes-{day_one}"] = "Keep it short."
    moved = await client.post(
        f"{deck_path}/plan", data={**fields, "csrf": csrf, "action": f"down:{day_one}"}
    )
    assert moved.status_code == 303

    api = await client.get(f"/api/v1{deck_path}", headers=anna.headers)
    plan = api.json()["slidePlan"]
    assert [s["title"] for s in plan].index("Day one") == day_one + 1
    edited = next(s for s in plan if s["title"] == "Day one")
    assert edited["bullets"] == ["Arrival by train", "Workshop on goals", "Dinner"]
    assert edited["notes"] == "Keep it short."
    assert api.json()["model"] == "user"

    fields = plan_form((await client.get(deck_path)).text)
    built = await client.post(f"{deck_path}/plan", data={**fields, "csrf": csrf, "action": "build"})
    assert built.status_code == 303
    assert "data-job-stream" in (await client.get(deck_path)).text
    assert await run_next(db, runner) == JobStatus.succeeded
    assert "Download the .pptx" in (await client.get(deck_path)).text


async def test_a_slide_is_rewritten_by_a_build_and_a_bad_plan_is_said(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    csrf = await signed_in(client, anna)
    planned = await client.post(
        "/decks",
        data={
            "csrf": csrf,
            "action": "plan",
            "prompt": "Budget:\n- Rent\n- Food\n- Travel",
            "slideCount": "3",
            "theme": "clean",
        },
    )
    deck_path = planned.headers["location"]
    fields = plan_form((await client.get(deck_path)).text)

    blank = await client.post(
        f"{deck_path}/plan", data={**fields, "title-0": "  ", "csrf": csrf, "action": "save"}
    )
    assert blank.status_code == 422
    assert "title" in blank.text

    rewrite = await client.post(
        f"{deck_path}/plan",
        data={**fields, "csrf": csrf, "action": "rewrite:1", "instruction-1": "shorter"},
    )
    assert rewrite.status_code == 303
    assert await run_next(db, runner) == JobStatus.succeeded
    page = (await client.get(deck_path)).text
    assert "Download the .pptx" in page


async def test_jobs_and_a_deck_s_timeline_are_listed_for_the_workspace(
    client: httpx.AsyncClient, anna: Account, sign_up: SignUp, db: Database, runner: LocalRunner
) -> None:
    bob = await sign_up("bob@example.com")
    bobs = await client.post(
        "/api/v1/slides/build",
        json={"prompt": "Bob's secret plan", "slideCount": 2},
        headers=bob.headers,
    )
    csrf = await signed_in(client, anna)
    made = await client.post(
        "/decks",
        data={
            "csrf": csrf,
            "action": "build",
            "prompt": "Budget:\n- Rent\n- Food",
            "slideCount": "3",
        },
    )
    deck_id = made.headers["location"].rsplit("/", 1)[1]

    running = (await client.get("/jobs")).text
    assert "decks.build" in running
    assert 'data-job-stream="/console/jobs/' in running  # queued: a live bar
    for _ in range(2):  # Bob's build, then Anna's
        assert await run_next(db, runner) == JobStatus.succeeded
    done = (await client.get("/jobs")).text
    assert "data-job-stream" not in done
    assert "succeeded" in done

    timeline = (await client.get(f"/timeline/deck/{deck_id}")).text
    for kind in ("deck.created", "deck.build_started", "deck.built"):
        assert kind in timeline
    assert f'href="/timeline/deck/{deck_id}"' in (await client.get(f"/decks/{deck_id}")).text
    # Another workspace's deck: an empty timeline, its jobs not listed; nothing leaks.
    other = (await client.get(f"/timeline/deck/{bobs.json()['deckId']}")).text
    assert "Nothing has happened" in other
    assert "secret" not in (await client.get("/jobs")).text + other


async def test_the_assistant_adds_a_task_and_the_panel_and_task_list_show_it(
    client: httpx.AsyncClient, anna: Account
) -> None:
    csrf = await signed_in(client, anna)
    assert "A new conversation" in (await client.get("/assistant")).text

    said = await client.post("/assistant", data={"csrf": csrf, "message": "add buy milk"})
    assert said.status_code == 303
    conversation = said.headers["location"].split("#")[0]
    page = (await client.get(conversation)).text
    assert "add buy milk" in page
    assert "Assistant (offline)" in page
    assert "add_task" in page  # the tool call is shown
    assert "buy milk" in (await client.get("/tasks/panel")).text

    conversation_id = conversation.rsplit("/", 1)[1]
    again = await client.post(
        "/assistant",
        data={"csrf": csrf, "message": "show my tasks", "conversation": conversation_id},
    )
    assert again.headers["location"].startswith(conversation)
    assert (await client.get(conversation)).text.count('class="message ') == 4

    empty = await client.post("/assistant", data={"csrf": csrf, "message": "   "})
    assert empty.status_code == 422
    assert "Write a message first." in empty.text

    tasks = (await client.get("/tasks")).text
    task_id = re.search(r'action="/tasks/([^"]+)"', tasks).group(1)  # type: ignore[union-attr]
    done = await client.post(f"/tasks/{task_id}", data={"csrf": csrf, "action": "complete"})
    assert done.headers["location"] == "/tasks"
    assert 'class="done"' in (await client.get("/tasks/panel")).text
    away = await client.post(
        f"/tasks/{task_id}", data={"csrf": csrf, "action": "delete", "next": "https://evil.example"}
    )
    assert away.headers["location"] == "/"
    assert "No tasks yet." in (await client.get("/tasks/panel")).text


async def test_a_reply_asked_for_as_a_stream_comes_as_server_sent_events(
    client: httpx.AsyncClient, anna: Account
) -> None:
    csrf = await signed_in(client, anna)
    streamed = await client.post(
        "/assistant",
        data={"csrf": csrf, "message": "add call the bank"},
        headers={"Accept": "text/event-stream"},
    )
    assert streamed.status_code == 200
    assert streamed.headers["content-type"].startswith("text/event-stream")
    events = [block for block in streamed.text.split("\n\n") if block]
    assert events[0].startswith("event: delta\n")
    assert events[-1].startswith("event: reply\n")
    reply = json.loads(events[-1].split("data: ", 1)[1])
    assert reply["toolCalls"][0]["name"] == "add_task"
    assert "call the bank" in (await client.get("/tasks/panel")).text
    # Without the form's token nothing streams: the CSRF check comes first.
    refused = await client.post(
        "/assistant", data={"message": "add x"}, headers={"Accept": "text/event-stream"}
    )
    assert refused.status_code == 403


async def test_another_users_conversation_is_not_shown(
    client: httpx.AsyncClient, anna: Account, sign_up: SignUp
) -> None:
    bob = await sign_up("bob@example.com")
    bobs = await client.post(
        "/api/v1/assistant/chat", json={"message": "add bob's secret"}, headers=bob.headers
    )
    await signed_in(client, anna)

    page = await client.get(f"/assistant/{bobs.json()['conversationId']}")
    assert page.status_code == 404
    assert "secret" not in page.text


async def test_settings_show_members_invite_and_make_an_api_key_shown_once(
    client: httpx.AsyncClient, anna: Account, settings: Settings
) -> None:
    csrf = await signed_in(client, anna)
    page = (await client.get("/settings")).text
    assert "anna@example.com" in page
    assert "owner" in page

    made = await client.post("/settings/api-keys", data={"csrf": csrf, "name": "CI"})
    assert made.status_code == 201
    assert made.headers["cache-control"] == "no-store"
    secret = re.search(r'id="new-key" value="([^"]+)"', made.text).group(1)  # type: ignore[union-attr]
    # The key works on the API, and is not shown again.
    assert (await client.get("/api/v1/decks", headers={"X-API-Key": secret})).status_code == 200
    again = (await client.get("/settings")).text
    assert secret not in again
    assert "Revoke “CI”" in again
    key_id = re.search(r'action="/settings/api-keys/([^/]+)/revoke"', again).group(1)  # type: ignore[union-attr]
    await client.post(f"/settings/api-keys/{key_id}/revoke", data={"csrf": csrf})
    assert (await client.get("/api/v1/decks", headers={"X-API-Key": secret})).status_code == 401

    unnamed = await client.post("/settings/api-keys", data={"csrf": csrf, "name": " "})
    assert unnamed.status_code == 422
    invited = await client.post(
        "/settings/invitations", data={"csrf": csrf, "email": "bea@example.com", "role": "admin"}
    )
    assert "Invited bea@example.com." in invited.text
    mail = json.loads((settings.data_dir / "outbox.jsonl").read_text().splitlines()[-1])
    assert mail["to"] == "bea@example.com"
    twice = await client.post(
        "/settings/invitations", data={"csrf": csrf, "email": "anna@example.com", "role": "member"}
    )
    assert twice.status_code == 422
    assert "already a member" in twice.text


async def test_a_member_sees_no_invite_form_and_cannot_invite(
    client: httpx.AsyncClient, anna: Account, sign_up: SignUp, db: Database
) -> None:
    team = await client.post("/api/v1/workspaces", json={"name": "Team"}, headers=anna.headers)
    team_id = team.json()["id"]
    bob = await sign_up("bob@example.com")
    async with db.session_scope() as session:  # what accepting an invitation ends with
        workspace = await session.get_one(Workspace, team_id)
        user = await session.get_one(User, bob.id)
        await identity.add_membership(session, workspace, user, role=Role.member)
    csrf = await signed_in(client, bob)
    await client.post("/workspace", data={"csrf": csrf, "workspace": team_id})

    page = (await client.get("/settings")).text
    assert "Settings of Team" in page
    assert "Invite by email" not in page
    refused = await client.post(
        "/settings/invitations", data={"csrf": csrf, "email": "eve@example.com"}
    )
    assert refused.status_code == 422
    assert "does not allow members:manage" in refused.text


async def test_a_pdf_uploaded_in_the_console_is_extracted_shown_and_exported(
    client: httpx.AsyncClient, anna: Account, sign_up: SignUp, db: Database, runner: LocalRunner
) -> None:
    csrf = await signed_in(client, anna)
    pdf = ruled_pdf([["Region", "Sales"], ["North", "120"], ["South", "95"]])

    sent = await client.post(
        "/extraction/documents",
        data={"csrf": csrf},
        files={"file": ("sales.pdf", pdf, "application/pdf")},
    )
    assert sent.status_code == 303
    page_path = sent.headers["location"]
    assert 'data-job-stream="/console/jobs/' in (await client.get(page_path)).text
    assert await run_next(db, runner) == JobStatus.succeeded

    page = (await client.get(page_path)).text
    assert "1 table" in page
    for cell in ("Region", "Sales", "North", "120", "South", "95"):
        assert re.search(rf"<td [^>]*>{cell}</td>", page), cell
    csv_link = re.search(r'href="(/extraction/tables/[^"]+/csv)"', page).group(1)  # type: ignore[union-attr]
    exported = await client.get(csv_link)
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    assert "North" in exported.text
    assert "120" in exported.text
    assert "sales.pdf" in (await client.get("/extraction")).text

    text = await client.post(
        "/extraction/documents",
        data={"csrf": csrf},
        files={"file": ("notes.txt", b"just text", "text/plain")},
    )
    assert text.status_code == 422
    assert "error" in text.text
    # Another workspace's document and table: not found, nothing shown.
    bob = await sign_up("bob@example.com")
    await client.post("/sign-out", data={"csrf": csrf})
    await signed_in(client, bob)
    assert (await client.get(page_path)).status_code == 404
    assert (await client.get(csv_link)).status_code == 404


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain is another site's page too
    ],
)
async def test_another_sites_page_cannot_sign_a_visitor_in(
    client: httpx.AsyncClient, anna: Account, headers: dict[str, str]
) -> None:
    for path, data in (
        ("/sign-in", {"email": anna.email, "password": PASSWORD}),
        ("/sign-in/link", {"email": anna.email}),
        ("/sign-in/magic", {"token": "whatever"}),
    ):
        response = await client.post(path, data=data, headers=headers)
        assert response.status_code == 403, path
        assert "set-cookie" not in response.headers
    # This site's own page (and a client that is no browser) signs in.
    own = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    signed = await client.post(
        "/sign-in", data={"email": anna.email, "password": PASSWORD}, headers=own
    )
    assert signed.status_code == 303
