"""The bad input the extraction issue lists, through the API: each is a 4xx problem at upload or a
failed job with the engine's code and a clear message, never a 500 and never a hang. The PDF caps
are the settings `EXTRACTION_MAX_PAGES` and `EXTRACTION_PAGE_SECONDS`, set low here."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from paperworks.jobs.models import JobStatus
from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database
from paperworks.settings import Settings
from tests.accounts import Account
from tests.conftest import make_settings
from tests.extraction.test_documents_api import API, make_pdf, upload, uploaded
from tests.extraction.test_extraction_api import ROWS, draw_ruled, extract, ok, ruled_pdf
from tests.files import samples
from tests.job_runs import run_next
from tests.problems import assert_problem

MAX_PAGES = 3
PAGE_SECONDS = 0.3  # a page of 100,000 text objects takes seconds; a ruled table, milliseconds
MIB = 1024 * 1024


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(
        tmp_path / "data",
        database_url=database_url,
        extraction_max_pages=MAX_PAGES,
        extraction_page_seconds=PAGE_SECONDS,
        # Room for a 50 MB CSV, so its job is what refuses it.
        max_upload_bytes=64 * MIB,
        max_body_bytes=80 * MIB,
    )


async def failed_job(
    client: httpx.AsyncClient,
    anna: Account,
    db: Database,
    runner: LocalRunner,
    document: dict[str, Any],
    **body: Any,
) -> dict[str, Any]:
    """Extract the document; its job must fail, and the document say so. The job's error."""
    job_id = await extract(client, anna.headers, document["id"], **body)
    assert await run_next(db, runner) == JobStatus.failed
    job = await ok(await client.get(f"{API}/jobs/{job_id}", headers=anna.headers))
    assert job["status"] == "failed"
    read = await ok(await client.get(f"{API}/documents/{document['id']}", headers=anna.headers))
    assert read["status"] == "failed"
    timeline = await ok(
        await client.get(f"{API}/documents/{document['id']}/events", headers=anna.headers)
    )
    failed = [e for e in timeline["items"] if e["type"] == "document.extraction_failed"]
    assert failed[-1]["payload"] == {"jobId": job_id, "error": job["error"]["message"]}
    error: dict[str, Any] = job["error"]
    return error


async def test_a_pdf_of_more_pages_than_the_cap_fails_its_job_and_says_what_to_do(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    document = await uploaded(client, anna.headers, "long.pdf", make_pdf(5))
    assert document["pageCount"] == 5

    error = await failed_job(client, anna, db, runner, document)
    assert error["code"] == "extraction.pdf_too_large"
    assert error["message"] == (
        "5 pages asked for; at most 3 are read. A configuration's pages setting chooses which "
        'to read (e.g. "1-3").'
    )

    # As the message says: a configuration that reads three of its pages extracts it.
    body = {"name": "First pages", "settings": {"pages": "1-3"}}
    created = await ok(
        await client.post(f"{API}/configurations", json=body, headers=anna.headers), 201
    )
    job_id = await extract(client, anna.headers, document["id"], configurationId=created["id"])
    assert await run_next(db, runner) == JobStatus.succeeded
    read = await ok(await client.get(f"{API}/documents/{document['id']}", headers=anna.headers))
    assert read["status"] == "extracted"
    job = await ok(await client.get(f"{API}/jobs/{job_id}", headers=anna.headers))
    assert job["result"]["issues"] == []


def crowded_then_ruled() -> bytes:
    """Page 1: 100,000 tiny text objects; page 2: a ruled table of ROWS."""
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    drawing.setFont("Helvetica", 1)
    for n in range(100_000):
        drawing.drawString(20 + (n % 250) * 2, 20 + (n // 250) * 2 % 800, "x")
    drawing.showPage()
    draw_ruled(drawing, ROWS)
    drawing.showPage()
    drawing.save()
    return buffer.getvalue()


async def test_a_page_over_its_time_is_an_issue_and_the_other_page_is_still_extracted(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    document = await uploaded(client, anna.headers, "crowded.pdf", crowded_then_ruled())
    job_id = await extract(client, anna.headers, document["id"])
    assert await run_next(db, runner) == JobStatus.succeeded

    job = await ok(await client.get(f"{API}/jobs/{job_id}", headers=anna.headers))
    assert [(i["page"], i["code"]) for i in job["result"]["issues"]] == [(1, "page_timeout")]
    assert job["result"]["issues"][0]["message"] == (
        "Page 1 took more than 0.3 s to read; its tables are not extracted."
    )
    listed = await ok(await client.get(f"{API}/jobs/{job_id}/tables", headers=anna.headers))
    assert [t["page"] for t in listed["items"]] == [2]
    table = await ok(
        await client.get(f"{API}/tables/{listed['items'][0]['id']}", headers=anna.headers)
    )
    assert table["grid"] == ROWS
    read = await ok(await client.get(f"{API}/documents/{document['id']}", headers=anna.headers))
    assert read["status"] == "extracted"


def encrypted_pdf() -> bytes:
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pagesize=A4, invariant=1, encrypt="secret")
    draw_ruled(drawing, ROWS)
    drawing.showPage()
    drawing.save()
    return buffer.getvalue()


def truncated_pdf() -> bytes:
    whole = ruled_pdf(ROWS)
    return whole[: len(whole) // 3]


def xlsx_zip_bomb() -> bytes:
    """A workbook's parts, one of which expands 20 MB of zeros from a few KB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("[Content_Types].xml", "<Types/>")
        bomb.writestr("xl/workbook.xml", "<workbook/>")
        bomb.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * MIB))
    return out.getvalue()


@pytest.mark.parametrize(
    ("filename", "make", "code", "says"),
    [
        ("locked.pdf", encrypted_pdf, "extraction.encrypted_pdf", "password"),
        ("cut.pdf", truncated_pdf, "extraction.corrupt_pdf", "cannot be read"),
        ("bomb.xlsx", xlsx_zip_bomb, "extraction.workbook_too_large", "expands"),
        # A billion laughs: refused as the sheet's XML is read, before anything expands.
        (
            "laughs.xlsx",
            samples.xlsx_with_billion_laughs,
            "extraction.bad_workbook",
            "declares entities",
        ),
    ],
)
async def test_an_unreadable_document_fails_its_job_with_a_clear_message(
    client: httpx.AsyncClient,
    anna: Account,
    db: Database,
    runner: LocalRunner,
    filename: str,
    make: Any,
    code: str,
    says: str,
) -> None:
    document = await uploaded(client, anna.headers, filename, make())
    error = await failed_job(client, anna, db, runner, document)
    assert error["code"] == code
    assert says in error["message"]


async def test_a_csv_of_one_50_mb_line_is_a_413_or_a_failed_job(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner, app: FastAPI
) -> None:
    one_line = b"a," * (25 * 1000 * 1000) + b"a\n"
    assert len(one_line) > 50 * 1000 * 1000

    # Over the upload cap (the default, 25 MiB): refused as it streams in.
    services = app.state.services
    roomy = services.files
    services.files = dataclasses.replace(roomy, max_upload_bytes=25 * MIB)
    assert_problem(await upload(client, anna.headers, "line.csv", one_line), 413, "file.too_large")

    # Under a cap raised for it: taken, and its job refuses the line.
    services.files = roomy
    document = await uploaded(client, anna.headers, "line.csv", one_line)
    error = await failed_job(client, anna, db, runner, document)
    assert error["code"] == "extraction.csv_too_large"
    assert error["message"].startswith("The CSV has a line of 48828 KB; the limit is 1024 KB.")


async def test_a_csv_in_utf_16_is_refused_at_upload(
    client: httpx.AsyncClient, anna: Account
) -> None:
    for encoding in ("utf-16", "utf-16-le", "utf-16-be"):
        data = "Name;Betrag\nMüller;12,50\n".encode(encoding)
        problem = assert_problem(
            await upload(client, anna.headers, "wide.csv", data), 415, "file.unsupported_type"
        )
        assert "application/pdf" in problem["detail"]  # it says what is taken
    documents = await ok(await client.get(f"{API}/documents", headers=anna.headers))
    assert documents["items"] == []
