"""Documents through the API: a PDF, a workbook and a CSV file uploaded (anything else refused,
nothing kept), listed a page at a time, read, deleted with their file, each with its timeline;
another workspace's documents do not exist."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import httpx
import openpyxl
from fastapi import FastAPI
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from tests.accounts import Account
from tests.problems import assert_problem

API = "/api/v1"


def make_pdf(pages: int) -> bytes:
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    for number in range(1, pages + 1):
        drawing.drawString(72, 760, f"Statement page {number}")
        drawing.showPage()
    drawing.save()
    return buffer.getvalue()


def make_xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Date", "Amount"])
    sheet.append(["2026-03-31", 12.5])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


CSV = b"Date,Amount\n2026-03-31,12.50\n"


async def upload(
    client: httpx.AsyncClient, headers: dict[str, str], filename: str, data: bytes
) -> httpx.Response:
    return await client.post(
        f"{API}/documents",
        files={"file": (filename, data, "application/octet-stream")},
        headers=headers,
    )


async def uploaded(
    client: httpx.AsyncClient, headers: dict[str, str], filename: str, data: bytes
) -> dict[str, Any]:
    response = await upload(client, headers, filename, data)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_pdf_a_workbook_and_a_csv_file_become_documents(
    client: httpx.AsyncClient, anna: Account
) -> None:
    pdf = await uploaded(client, anna.headers, "statement.pdf", make_pdf(3))
    xlsx = await uploaded(client, anna.headers, "ledger.xlsx", make_xlsx())
    csv = await uploaded(client, anna.headers, "export.csv", CSV)

    assert (pdf["kind"], pdf["pageCount"], pdf["name"]) == ("pdf", 3, "statement.pdf")
    assert (xlsx["kind"], xlsx["pageCount"]) == ("xlsx", None)
    assert (csv["kind"], csv["pageCount"]) == ("csv", None)
    for document in (pdf, xlsx, csv):
        assert document["status"] == "uploaded"
        assert document["uploadedBy"] == anna.id
        assert document["createdAt"].endswith("Z")

    # The bytes are a file of the workspace, listed apart from other documents.
    file = (await client.get(f"{API}/files/{pdf['fileId']}", headers=anna.headers)).json()
    assert (file["contentType"], file["purpose"]) == ("application/pdf", "extraction")
    content = await client.get(f"{API}/files/{csv['fileId']}/content", headers=anna.headers)
    assert content.content == CSV

    one = await client.get(f"{API}/documents/{xlsx['id']}", headers=anna.headers)
    assert one.status_code == 200
    assert one.json() == xlsx


async def test_other_kinds_are_refused_and_nothing_is_kept(
    client: httpx.AsyncClient, anna: Account
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    assert_problem(
        await upload(client, anna.headers, "logo.png", png), 415, "file.unsupported_type"
    )
    text = await upload(client, anna.headers, "notes.txt", b"just some notes\n")
    assert_problem(text, 415, "file.unsupported_type")
    utf16 = "Date,Amount\n2026-03-31,1\n".encode("utf-16")
    assert_problem(
        await upload(client, anna.headers, "wide.csv", utf16), 415, "file.unsupported_type"
    )
    lying = await upload(client, anna.headers, "statement.pdf", make_xlsx())
    assert_problem(lying, 415, "file.extension_mismatch")
    assert_problem(await upload(client, anna.headers, "empty.csv", b""), 422, "file.empty")

    documents = (await client.get(f"{API}/documents", headers=anna.headers)).json()
    assert documents == {"items": [], "nextCursor": None}
    files = (await client.get(f"{API}/files", headers=anna.headers)).json()
    assert files["items"] == []


async def test_an_upload_over_the_size_limit_is_refused(
    client: httpx.AsyncClient, anna: Account, app: FastAPI
) -> None:
    services = app.state.services
    services.files = dataclasses.replace(services.files, max_upload_bytes=100)
    response = await upload(client, anna.headers, "big.csv", b"a,b\n" + b"1,2\n" * 100)
    assert_problem(response, 413, "file.too_large")
    assert (await client.get(f"{API}/documents", headers=anna.headers)).json()["items"] == []


async def test_documents_are_listed_oldest_first_a_page_at_a_time(
    client: httpx.AsyncClient, anna: Account
) -> None:
    names = [f"part-{n}.csv" for n in range(5)]
    for name in names:
        await uploaded(client, anna.headers, name, CSV)
    await uploaded(client, anna.headers, "scan.pdf", make_pdf(1))

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"{API}/documents", params=params, headers=anna.headers)).json()
        assert len(page["items"]) <= 2
        seen += [document["name"] for document in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == [*names, "scan.pdf"]

    pdfs = await client.get(f"{API}/documents", params={"kind": "pdf"}, headers=anna.headers)
    assert [d["name"] for d in pdfs.json()["items"]] == ["scan.pdf"]
    bad = await client.get(f"{API}/documents", params={"limit": 0}, headers=anna.headers)
    assert_problem(bad, 422, "request.validation_failed")


async def test_deleting_a_document_deletes_its_file(
    client: httpx.AsyncClient, anna: Account
) -> None:
    document = await uploaded(client, anna.headers, "statement.pdf", make_pdf(1))
    deleted = await client.delete(f"{API}/documents/{document['id']}", headers=anna.headers)
    assert deleted.status_code == 200
    assert deleted.json() == {"ok": True, "message": f"Document {document['id']} deleted."}

    gone = await client.get(f"{API}/documents/{document['id']}", headers=anna.headers)
    assert_problem(gone, 404, "document.not_found")
    again = await client.delete(f"{API}/documents/{document['id']}", headers=anna.headers)
    assert_problem(again, 404, "document.not_found")
    file = await client.get(f"{API}/files/{document['fileId']}", headers=anna.headers)
    assert_problem(file, 404, "file.not_found")


async def test_a_documents_timeline_tells_its_story(
    client: httpx.AsyncClient, anna: Account
) -> None:
    document = await uploaded(client, anna.headers, "statement.pdf", make_pdf(2))
    path = f"{API}/documents/{document['id']}/events"
    timeline = (await client.get(path, headers=anna.headers)).json()
    (event,) = timeline["items"]
    assert event["type"] == "document.uploaded"
    assert event["payload"] == {
        "name": "statement.pdf",
        "kind": "pdf",
        "fileId": document["fileId"],
        "pageCount": 2,
    }
    assert event["actor"]["userId"] == anna.id

    await client.delete(f"{API}/documents/{document['id']}", headers=anna.headers)
    # The document is gone, so is its timeline's route; the workspace's log keeps the story.
    assert_problem(await client.get(path, headers=anna.headers), 404, "document.not_found")
    log = await client.get(
        f"{API}/events",
        params={"resourceType": "document", "resourceId": document["id"]},
        headers=anna.headers,
    )
    assert [e["type"] for e in log.json()["items"]] == ["document.uploaded", "document.deleted"]


async def test_another_workspaces_document_does_not_exist(
    client: httpx.AsyncClient, anna: Account, bob: Account
) -> None:
    document = await uploaded(client, anna.headers, "statement.pdf", make_pdf(1))
    path = f"{API}/documents/{document['id']}"
    attempts = [
        await client.get(path, headers=bob.headers),
        await client.get(f"{path}/events", headers=bob.headers),
        await client.delete(path, headers=bob.headers),
    ]
    for response in attempts:
        assert_problem(response, 404, "document.not_found")
    assert (await client.get(f"{API}/documents", headers=bob.headers)).json()["items"] == []
    # Still there for its owner.
    assert (await client.get(path, headers=anna.headers)).status_code == 200


async def test_a_pdf_pdfium_cannot_open_is_kept_without_a_page_count(
    client: httpx.AsyncClient, anna: Account
) -> None:
    # Whether it can be read is the extraction job's to say, with a problem detail.
    broken = await uploaded(client, anna.headers, "broken.pdf", b"%PDF-1.7\nnot really a pdf\n")
    assert (broken["kind"], broken["pageCount"]) == ("pdf", None)
