"""Booklets through MCP: any MCP client finds books and customers, sees what a customer would get
for a period, and has the booklet made as a job, as the caller and only in the caller's
workspace."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from paperworks.jobs.models import JobStatus
from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database
from tests.accounts import Account
from tests.booklets.conftest import make_pdf, upload
from tests.booklets.test_booklets_api import pdf_texts, post, quarterly_book
from tests.job_runs import run_next
from tests.mcp_sessions import McpClient, call, call_failing

TOOLS = {"list_books", "list_customers", "resolve_booklet", "generate_booklet", "get_booklet"}


async def test_the_booklet_tools_are_listed_for_any_mcp_client(
    mcp_client: McpClient, anna: Account
) -> None:
    async with mcp_client(anna.headers) as mcp:
        tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}
    assert set(tools) >= TOOLS
    assert tools["resolve_booklet"].input_schema["required"] == ["book_id", "customer_id"]
    assert "quarter" in tools["generate_booklet"].input_schema["properties"]


async def test_a_client_finds_resolves_and_generates_a_booklet(
    mcp_client: McpClient,
    anna: Account,
    client: httpx.AsyncClient,
    db: Database,
    runner: LocalRunner,
) -> None:
    made = await quarterly_book(client, anna.headers)
    acme = await post(client, anna.headers, "/customers", {"name": "Acme", "externalRef": "A-1"})
    await post(client, anna.headers, "/customers", {"name": "Globex"})
    await post(
        client,
        anna.headers,
        f"/customers/{acme['id']}/attributes",
        [
            {"key": "revenue", "value": "980", "year": 2026},
            {"key": "tier", "value": "gold", "year": 2026, "quarter": 2},
        ],
    )
    book_id = made["book"]["id"]

    async with mcp_client(anna.headers) as mcp:
        books = await call(mcp, "list_books")
        found = await call(mcp, "list_customers", q="a-1")
        q1 = await call(mcp, "resolve_booklet", book_id=book_id, customer_id=acme["id"], year=2026)
        q2 = await call(
            mcp, "resolve_booklet", book_id=book_id, customer_id=acme["id"], year=2026, quarter=2
        )
        queued = await call(
            mcp, "generate_booklet", book_id=book_id, customer_id=acme["id"], year=2026, quarter=2
        )
        assert await run_next(db, runner) == JobStatus.succeeded
        ready = await call(mcp, "get_booklet", booklet_id=queued["id"])

    assert books == {
        "books": [
            {
                "id": book_id,
                "name": "Quarterly",
                "pages": [
                    {"title": "Cover", "type": "static"},
                    {"title": "Details", "type": "pdf_form"},
                    {"title": "Offer", "type": "choosable"},
                    {"title": "Figures", "type": "excel"},
                ],
            }
        ],
        "more": False,
    }
    assert found == {
        "customers": [{"id": acme["id"], "name": "Acme", "externalRef": "A-1"}],
        "more": False,
    }
    assert [page["sourceFileId"] for page in q1["pages"]][2] == made["standard"]
    assert q2["pages"][2]["sourceFileId"] == made["gold"]
    assert q2["pages"][1]["formValues"]["Name"] == "Acme: 980.00 (2026 Q2)"
    assert (queued["status"], queued["year"], queued["quarter"]) == ("queued", 2026, 2)
    assert queued["jobId"]
    assert ready["status"] == "succeeded"
    link = urlsplit(ready["downloadUrl"])
    texts = pdf_texts((await client.get(f"{link.path}?{link.query}")).content)
    assert "Gold offer" in texts[2]


async def test_a_missing_attribute_or_anothers_book_is_a_clear_tool_error(
    mcp_client: McpClient, anna: Account, bob: Account, client: httpx.AsyncClient
) -> None:
    made = await quarterly_book(client, anna.headers)
    acme = await post(client, anna.headers, "/customers", {"name": "Acme"})
    bobs = await post(client, bob.headers, "/customers", {"name": "Bob's customer"})
    book_id = made["book"]["id"]

    async with mcp_client(anna.headers) as mcp:
        missing = await call(mcp, "resolve_booklet", book_id=book_id, customer_id=acme["id"])
        refused = await call_failing(
            mcp, "generate_booklet", book_id=book_id, customer_id=acme["id"]
        )
    assert missing["missingAttributes"] == ["revenue"]
    assert "revenue" in refused

    async with mcp_client(bob.headers) as mcp:
        assert (await call(mcp, "list_books"))["books"] == []
        not_found = await call_failing(
            mcp, "resolve_booklet", book_id=book_id, customer_id=bobs["id"]
        )
        listed = await call(mcp, "list_customers")
    assert "No book" in not_found
    assert [c["name"] for c in listed["customers"]] == ["Bob's customer"]


async def test_a_failed_booklet_says_why(
    mcp_client: McpClient,
    anna: Account,
    client: httpx.AsyncClient,
    db: Database,
    runner: LocalRunner,
) -> None:
    page = await upload(client, anna.headers, "page.pdf", make_pdf("Only page"))
    book = await post(client, anna.headers, "/books", {"name": "Thin"})
    await post(
        client,
        anna.headers,
        f"/books/{book['id']}/pages",
        {"type": "static", "title": "Page", "fileId": page},
    )
    customer = await post(client, anna.headers, "/customers", {"name": "Acme"})
    async with mcp_client(anna.headers) as mcp:
        queued = await call(mcp, "generate_booklet", book_id=book["id"], customer_id=customer["id"])
        deleted = await client.delete(f"/api/v1/files/{page}", headers=anna.headers)
        assert deleted.status_code == 204
        assert await run_next(db, runner) == JobStatus.failed
        failed = await call(mcp, "get_booklet", booklet_id=queued["id"])
    assert failed["status"] == "failed"
    assert failed["downloadUrl"] is None
    assert failed["error"] == "These pages have no file to make them from: Page."
