"""Extraction through MCP: any MCP client finds documents, has one's tables extracted as a job,
finds the tables it found and reads one, as the caller and only in the caller's workspace."""

from __future__ import annotations

import httpx

from paperworks.extraction import tools
from paperworks.jobs.models import JobStatus
from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database
from tests.accounts import Account
from tests.extraction.test_documents_api import uploaded
from tests.extraction.test_extraction_api import ROWS, configuration, ruled_pdf
from tests.job_runs import run_next
from tests.mcp_sessions import McpClient, call, call_failing

TOOLS = {"list_documents", "extract_tables", "list_tables", "get_table"}


async def test_the_extraction_tools_are_listed_for_any_mcp_client(
    mcp_client: McpClient, anna: Account
) -> None:
    async with mcp_client(anna.headers) as mcp:
        listed = {tool.name: tool for tool in (await mcp.list_tools()).tools}
    assert set(listed) >= TOOLS
    assert listed["extract_tables"].input_schema["required"] == ["document_id"]
    assert "configuration_id" in listed["extract_tables"].input_schema["properties"]
    assert listed["get_table"].input_schema["required"] == ["table_id"]


async def test_a_client_finds_extracts_and_reads_a_table(
    mcp_client: McpClient,
    anna: Account,
    client: httpx.AsyncClient,
    db: Database,
    runner: LocalRunner,
) -> None:
    pdf = await uploaded(client, anna.headers, "fruit.pdf", ruled_pdf(ROWS))
    csv = await uploaded(client, anna.headers, "plain.csv", b"Name,Score\nAda,3\nBob,5\n")
    config_id = await configuration(client, anna.headers)

    async with mcp_client(anna.headers) as mcp:
        documents = await call(mcp, "list_documents")
        queued = await call(
            mcp, "extract_tables", document_id=pdf["id"], configuration_id=config_id
        )
        waiting = await call(mcp, "list_tables", job_id=queued["jobId"])
        assert await run_next(db, runner) == JobStatus.succeeded
        done = await call(mcp, "list_tables", job_id=queued["jobId"])
        by_document = await call(mcp, "list_tables", document_id=pdf["id"])
        table = await call(mcp, "get_table", table_id=done["tables"][0]["id"])
        plain = await call(mcp, "extract_tables", document_id=csv["id"])
        assert await run_next(db, runner) == JobStatus.succeeded
        (csv_table,) = (await call(mcp, "list_tables", job_id=plain["jobId"]))["tables"]
        csv_read = await call(mcp, "get_table", table_id=csv_table["id"])
        neither = await call_failing(mcp, "list_tables")

    assert documents == {
        "documents": [
            {
                "id": pdf["id"],
                "name": "fruit.pdf",
                "kind": "pdf",
                "pageCount": 1,
                "status": "uploaded",
            },
            {
                "id": csv["id"],
                "name": "plain.csv",
                "kind": "csv",
                "pageCount": None,
                "status": "uploaded",
            },
        ],
        "more": False,
    }
    assert queued == {"documentId": pdf["id"], "jobId": queued["jobId"], "status": "queued"}
    assert waiting == {"jobId": queued["jobId"], "status": "queued", "tables": [], "more": False}
    assert done["status"] == "succeeded"
    assert [(t["page"], t["index"], t["nRows"], t["nCols"]) for t in done["tables"]] == [
        (1, 0, 4, 3)
    ]
    assert by_document == {"tables": done["tables"], "more": False}
    assert table == {
        **done["tables"][0],
        "jobId": queued["jobId"],
        "documentId": pdf["id"],
        "header": ["Item", "Qty", "Price"],
        "rows": [
            {"Item": "Apples", "Qty": 3, "Price": "1.20"},
            {"Item": "Pears", "Qty": 12, "Price": "0.85"},
            {"Item": "Plums", "Qty": 7, "Price": "2.10"},
        ],
        "truncated": False,
        "issues": [],
    }
    assert csv_read["header"] == ["Name", "Score"]
    assert [row["Name"] for row in csv_read["rows"]] == ["Ada", "Bob"]
    assert "exactly one of job_id and document_id" in neither


async def test_a_long_table_is_cut_to_its_first_rows(
    mcp_client: McpClient,
    anna: Account,
    client: httpx.AsyncClient,
    db: Database,
    runner: LocalRunner,
) -> None:
    lines = ["N,Square"] + [f"{n},{n * n}" for n in range(tools.ROW_LIMIT + 5)]
    document = await uploaded(client, anna.headers, "long.csv", "\n".join(lines).encode())
    async with mcp_client(anna.headers) as mcp:
        queued = await call(mcp, "extract_tables", document_id=document["id"])
        assert await run_next(db, runner) == JobStatus.succeeded
        (found,) = (await call(mcp, "list_tables", job_id=queued["jobId"]))["tables"]
        table = await call(mcp, "get_table", table_id=found["id"])
    assert found["nRows"] == tools.ROW_LIMIT + 6
    assert len(table["rows"]) == tools.ROW_LIMIT
    assert table["truncated"] is True


async def test_anothers_document_job_or_table_is_a_clear_tool_error(
    mcp_client: McpClient,
    anna: Account,
    bob: Account,
    client: httpx.AsyncClient,
    db: Database,
    runner: LocalRunner,
) -> None:
    document = await uploaded(client, anna.headers, "fruit.pdf", ruled_pdf(ROWS))
    async with mcp_client(anna.headers) as mcp:
        queued = await call(mcp, "extract_tables", document_id=document["id"])
        assert await run_next(db, runner) == JobStatus.succeeded
        (found,) = (await call(mcp, "list_tables", job_id=queued["jobId"]))["tables"]
        unknown_configuration = await call_failing(
            mcp, "extract_tables", document_id=document["id"], configuration_id="nope"
        )
    assert "configuration.not_found" in unknown_configuration

    async with mcp_client(bob.headers) as mcp:
        assert await call(mcp, "list_documents") == {"documents": [], "more": False}
        extract = await call_failing(mcp, "extract_tables", document_id=document["id"])
        by_job = await call_failing(mcp, "list_tables", job_id=queued["jobId"])
        by_document = await call_failing(mcp, "list_tables", document_id=document["id"])
        table = await call_failing(mcp, "get_table", table_id=found["id"])
    assert "document.not_found" in extract
    assert "No extraction job" in by_job
    assert "document.not_found" in by_document
    assert "table.not_found" in table
