"""A customer's quarterly booklet, end to end: a real `paperworks serve`, a book of the four page
types built from uploaded files (a cover, a real AcroForm, two offers to choose from, a workbook),
a customer whose attributes differ by quarter, the `resolve` dry run, then generation followed
live with the real python-socketio client (`booklet:progress` for every page, then
`booklet:completed`). The PDF is downloaded by its signed link with no credentials and read back
page by page: the cover, the form filled with that quarter's values and flattened, the offer the
quarter's tier chose, the sheet's figures, and an outline entry per page."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pdfplumber
import pikepdf
import pytest
import socketio

from tests.booklets.conftest import API, form, make_pdf, make_xlsx, upload
from tests.e2e.servers import start

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CUSTOMER = "Nordwind Handel GmbH"
TITLES = ["Cover", "Details", "Offer", "Figures"]
# The quarter's revenue wins over the undated one; the tier is gold in Q2 only.
ATTRIBUTES = [
    {"key": "revenue", "value": "999"},
    {"key": "revenue", "value": "1000", "year": 2026, "quarter": 1},
    {"key": "revenue", "value": "2500.5", "year": 2026, "quarter": 2},
    {"key": "tier", "value": "standard"},
    {"key": "tier", "value": "gold", "year": 2026, "quarter": 2},
]
Q1_DETAILS = f"{CUSTOMER}: 1,000.00 (2026 Q1)"
Q2_DETAILS = f"{CUSTOMER}: 2,500.50 (2026 Q2)"
# Only there to keep the one job slot busy while the client subscribes to the booklet's job.
DECK_PROMPT = "Harbour logistics: cranes, containers, tides, pilots and the night shift."


def test_a_quarterly_booklet_is_generated_live_and_reads_back_page_by_page(
    tmp_path: Path,
) -> None:
    # One slot: a deck build queued first keeps the runner busy while the client subscribes to
    # the booklet's job, so it hears that job from its first page (only end events are replayed
    # to late followers).
    server = start(tmp_path, env={"PAPERWORKS_JOB_SLOTS": "1"})
    api = next(server)
    try:
        tokens = httpx.post(
            f"{api.url}/api/v1/auth/register",
            json={"email": "booklets@example.com", "password": "correct horse battery"},
        ).json()
        run = asyncio.run(generate_live(api.url, tokens["accessToken"]))
    finally:
        next(server, None)

    heard, booklet, ids = run["heard"], run["booklet"], run["ids"]
    names = [name for name, _ in heard]
    assert "error" not in names, heard
    progress = [data for name, data in heard if name == "booklet:progress"]
    assert [p["page"] for p in progress] == [1, 2, 3, 4]
    assert all(p["total"] == 4 and p["bookletId"] == booklet["id"] for p in progress)
    (completed,) = [data for name, data in heard if name == "booklet:completed"]
    assert completed["bookletId"] == booklet["id"]
    assert names.index("booklet:completed") > names.index("booklet:progress")
    assert names[-1] == "job:completed"

    assert booklet["status"] == "succeeded"
    assert booklet["pageCount"] == 4
    assert (booklet["year"], booklet["quarter"]) == (2026, 2)
    assert booklet["fileId"] == completed["fileId"]
    assert [entry["sourceFileId"] for entry in booklet["resolution"]] == [
        ids["cover"],
        ids["form"],
        ids["gold"],
        ids["workbook"],
    ]

    pdf = run["pdf"]
    assert pdf.startswith(b"%PDF-")
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        texts = [page.extract_text() or "" for page in document.pages]
    assert len(texts) == 4
    cover, details, offer, figures = texts
    assert "Quarterly review" in cover
    assert "Internal notes" not in "".join(texts)  # the cover page only ("pages": "1")
    assert Q2_DETAILS in details
    assert "1,000.00" not in details  # not Q1's revenue
    assert "999" not in details  # nor the undated one
    assert "Gold offer" in offer
    assert "Standard offer" not in offer
    assert {"North", "South", "1200", "1350", "800", "640"} <= set(figures.replace(",", "").split())
    assert "Not this sheet" not in figures

    with pikepdf.open(io.BytesIO(pdf)) as document:
        # Flattened: no form fields and no widget annotations anywhere.
        acroform = document.Root.get("/AcroForm")
        assert acroform is None or len(acroform.get("/Fields", pikepdf.Array())) == 0
        widgets = [
            annotation
            for page in document.pages
            for annotation in page.obj.get("/Annots", pikepdf.Array())
            if annotation.get("/Subtype") == pikepdf.Name.Widget
        ]
        assert widgets == []
        with document.open_outline() as outline:
            assert [item.title for item in outline.root] == TITLES
            for item, page in zip(outline.root, document.pages, strict=True):
                # Each entry opens its own page.
                assert isinstance(item.destination, pikepdf.Array), item.title
                assert item.destination[0].objgen == page.obj.objgen, item.title


async def generate_live(url: str, token: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        ids = await quarterly_book(http, headers)
        customer = await send(http, "POST", "/customers", {"name": CUSTOMER})
        await send(http, "POST", f"/customers/{customer['id']}/attributes", ATTRIBUTES)
        await check_resolve(http, ids, customer["id"])

        heard: list[tuple[str, Any]] = []
        followed: dict[str, str] = {}
        done = asyncio.Event()
        client = socketio.AsyncClient(request_timeout=30)

        @client.on("*")  # type: ignore[untyped-decorator]
        async def record(event: str, data: Any) -> None:
            if not isinstance(data, dict) or data.get("jobId") != followed.get("jobId"):
                return
            if event.startswith(("booklet:", "job:")) or event == "error":
                heard.append((event, data))
            if event in ("job:completed", "job:failed"):
                done.set()

        await client.connect(
            url, auth={"token": token}, socketio_path="/ws/socket.io", wait_timeout=30
        )
        try:
            busy = await http.post(
                f"{API}/slides/build", json={"prompt": DECK_PROMPT, "slideCount": 30}
            )
            assert busy.status_code == 202, busy.text
            followed.update(
                await send(
                    http,
                    "POST",
                    f"/books/{ids['book']}/generate",
                    {"customerId": customer["id"], "year": 2026, "quarter": 2},
                )
            )
            ack = await client.call("subscribe", {"jobId": followed["jobId"]}, timeout=5)
            assert ack["ok"], ack
            assert ack["job"]["status"] == "queued", ack  # so no progress can have been missed
            async with asyncio.timeout(90):
                await done.wait()
        finally:
            await client.disconnect()

        booklet = await send(http, "GET", f"/booklets/{followed['bookletId']}")
        link = next(urlsplit(data["url"]) for name, data in heard if name == "booklet:completed")
        # The signed link alone, no Authorization header (PUBLIC_URL is the default, so the link's
        # host is not this server's port: its path and query are what count).
        async with httpx.AsyncClient(timeout=30) as anonymous:
            download = await anonymous.get(f"{url}{link.path}?{link.query}")
        assert download.status_code == 200, download.text
    return {"heard": heard, "booklet": booklet, "ids": ids, "pdf": download.content}


async def quarterly_book(http: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, str]:
    """Uploads the files and builds a book with one page of each type; the ids of both."""
    ids = {
        "cover": await upload(
            http, headers, "cover.pdf", make_pdf("Quarterly review", "Internal notes")
        ),
        "form": await upload(http, headers, "details.pdf", form("pypdf-pdflatex-forms.pdf")),
        "gold": await upload(http, headers, "gold.pdf", make_pdf("Gold offer")),
        "standard": await upload(http, headers, "standard.pdf", make_pdf("Standard offer")),
        "workbook": await upload(
            http,
            headers,
            "figures.xlsx",
            make_xlsx(
                {
                    "Intro": [["Not this sheet"]],
                    "Figures": [["Region", "Q1", "Q2"], ["North", 1200, 1350], ["South", 800, 640]],
                }
            ),
        ),
    }
    fields = await send(http, "GET", f"/files/{ids['form']}/form-fields")
    by_name = {field["name"]: field for field in fields}
    assert by_name["Name"]["type"] == "text"
    assert by_name["Check"]["type"] == "checkbox"
    assert by_name["Check"]["options"] == ["Yes"]

    book = await send(http, "POST", "/books", {"name": "Quarterly review"})
    ids["book"] = book["id"]
    pages = f"/books/{book['id']}/pages"
    await send(
        http,
        "POST",
        pages,
        {"type": "static", "title": "Cover", "fileId": ids["cover"], "config": {"pages": "1"}},
    )
    await send(
        http,
        "POST",
        pages,
        {
            "type": "pdf_form",
            "title": "Details",
            "fileId": ids["form"],
            "config": {
                "fields": {
                    "Name": "{{ customer.name }}: {{ attr.revenue | number(2) }} ({{ period }})",
                    "Check": "true",
                }
            },
        },
    )
    offer = await send(
        http,
        "POST",
        pages,
        {"type": "choosable", "title": "Offer", "config": {"defaultFileId": ids["standard"]}},
    )
    await send(
        http,
        "POST",
        f"{pages}/{offer['id']}/conditions",
        {
            "attributeKey": "tier",
            "operator": "eq",
            "attributeValue": "gold",
            "targetFileId": ids["gold"],
        },
    )
    await send(
        http,
        "POST",
        pages,
        {
            "type": "excel",
            "title": "Figures",
            "fileId": ids["workbook"],
            "config": {"sheet": "Figures"},
        },
    )
    assert [p["title"] for p in (await send(http, "GET", f"/books/{book['id']}"))["pages"]] == (
        TITLES
    )
    return ids


async def check_resolve(http: httpx.AsyncClient, ids: dict[str, str], customer_id: str) -> None:
    """The dry run for Q2 picks the gold offer and Q2's revenue; for Q1, the standard offer (the
    undated tier) and Q1's revenue."""
    resolve = f"/books/{ids['book']}/resolve"
    q2 = await send(http, "POST", resolve, {"customerId": customer_id, "year": 2026, "quarter": 2})
    assert q2["missingAttributes"] == []
    assert [page["title"] for page in q2["pages"]] == TITLES
    assert [page["sourceFileId"] for page in q2["pages"]] == [
        ids["cover"],
        ids["form"],
        ids["gold"],
        ids["workbook"],
    ]
    assert not any(page["skipped"] for page in q2["pages"])
    assert q2["pages"][1]["formValues"]["Name"] == Q2_DETAILS
    rule = q2["pages"][2]["rule"]
    assert (rule["attributeKey"], rule["actualValue"]) == ("tier", "gold")

    q1 = await send(http, "POST", resolve, {"customerId": customer_id, "year": 2026, "quarter": 1})
    assert q1["pages"][1]["formValues"]["Name"] == Q1_DETAILS
    assert q1["pages"][2]["sourceFileId"] == ids["standard"]
    assert q1["pages"][2]["rule"] is None


async def send(http: httpx.AsyncClient, method: str, path: str, body: Any = None) -> Any:
    response = await http.request(method, f"{API}{path}", json=body)
    assert response.status_code in (200, 201, 202), response.text
    return response.json()
