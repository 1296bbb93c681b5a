"""Extraction, end to end: a real `paperworks serve`, a CSV file and a generated two-page ruled PDF
uploaded, a configuration saying which columns are wanted, the PDF's extraction followed live with
the real python-socketio client (`extraction:progress` for each page, then
`extraction:completed`), its tables listed and read, and the job's tables exported as XLSX,
downloaded by the signed link with no credentials and opened with openpyxl."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import openpyxl
import pytest
import socketio
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from tests.e2e.servers import start

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

API = "/api/v1"
FRUIT = [
    ["Item", "Qty", "Unit price"],
    ["Apples", "3", "1.20"],
    ["Pears", "12", "0.85"],
    ["Plums", "7", "2.10"],
]
REGIONS = [["Region", "Sales"], ["North", "1,200"], ["South", "800"]]
SETTINGS = {
    "columns": [
        {"name": "Item"},
        {"name": "Qty", "type": "integer"},
        {"name": "Price", "aliases": ["Unit price"], "type": "decimal"},
    ],
    "keepUnmappedColumns": True,
}
CSV = b"Date;Amount\n2026-03-31;12,50\n2026-04-30;7,25\n"
# Only there to keep the one job slot busy while the client subscribes to the extraction's job.
DECK_PROMPT = "Harbour logistics: cranes, containers, tides, pilots and the night shift."


def ruled_pdf(pages: list[list[list[str]]]) -> bytes:
    """A page per table, each a fully ruled grid."""
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    for rows in pages:
        left, top, width, height = 72.0, 700.0, 100.0, 22.0
        xs = [left + width * c for c in range(len(rows[0]) + 1)]
        ys = [top - height * r for r in range(len(rows) + 1)]
        drawing.setLineWidth(0.5)
        for y in ys:
            drawing.line(xs[0], y, xs[-1], y)
        for x in xs:
            drawing.line(x, ys[0], x, ys[-1])
        drawing.setFont("Helvetica", 9)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                drawing.drawString(xs[c] + 3, ys[r] - 14, text)
        drawing.showPage()
    drawing.save()
    return buffer.getvalue()


def test_a_pdf_is_extracted_live_and_its_tables_exported_as_a_workbook(tmp_path: Path) -> None:
    # One slot: a deck build queued first keeps the runner busy while the client subscribes to
    # the extraction's job, so it hears that job from its first page (only end events are
    # replayed to late followers).
    server = start(tmp_path, env={"PAPERWORKS_JOB_SLOTS": "1"})
    api = next(server)
    try:
        tokens = httpx.post(
            f"{api.url}{API}/auth/register",
            json={"email": "extraction@example.com", "password": "correct horse battery"},
        ).json()
        run = asyncio.run(extract_live(api.url, tokens["accessToken"]))
    finally:
        next(server, None)

    heard, job_id = run["heard"], run["jobId"]
    names = [name for name, _ in heard]
    assert "error" not in names, heard
    progress = [data for name, data in heard if name == "extraction:progress"]
    assert [(p["page"], p["total"]) for p in progress] == [(1, 2), (2, 2)]
    (completed,) = [data for name, data in heard if name == "extraction:completed"]
    assert names.index("extraction:completed") > names.index("extraction:progress")
    assert names[-1] == "job:completed"
    assert [(t["page"], t["index"]) for t in completed["tables"]] == [(1, 0), (2, 0)]

    tables = run["tables"]
    assert [(t["page"], t["nRows"], t["nCols"]) for t in tables] == [(1, 4, 3), (2, 3, 2)]
    fruit = run["fruit"]
    assert (fruit["jobId"], fruit["grid"]) == (job_id, FRUIT)
    assert fruit["rows"] == [
        {"Item": "Apples", "Qty": 3, "Price": "1.20"},
        {"Item": "Pears", "Qty": 12, "Price": "0.85"},
        {"Item": "Plums", "Qty": 7, "Price": "2.10"},
    ]
    assert [(m["column"], m["method"]) for m in fruit["mapping"]][:3] == [
        ("Item", "exact"),
        ("Qty", "exact"),
        ("Price", "alias"),
    ]

    # The CSV file (semicolons, decimal commas) became one table of its own job.
    (csv_table,) = run["csvTables"]
    assert (csv_table["nRows"], csv_table["nCols"]) == (3, 2)

    book = openpyxl.load_workbook(io.BytesIO(run["xlsx"]))
    assert book.sheetnames == ["Page 1 Table 1", "Page 2 Table 1"]
    first, second = book.worksheets
    assert [[cell.value for cell in row] for row in first.iter_rows()] == [
        ["Item", "Qty", "Price"],
        ["Apples", 3, 1.2],
        ["Pears", 12, 0.85],
        ["Plums", 7, 2.1],
    ]
    assert first["C2"].number_format == "#,##0.00"
    # The second table has none of the configured columns; kept unmapped, its own are there.
    header, *records = [[cell.value for cell in row] for row in second.iter_rows()]
    assert header[-2:] == ["Region", "Sales"]
    assert [record[-2:] for record in records] == [["North", "1,200"], ["South", "800"]]


async def extract_live(url: str, token: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        pdf = await upload(http, "statement.pdf", ruled_pdf([FRUIT, REGIONS]))
        csv = await upload(http, "ledger.csv", CSV)
        assert (pdf["kind"], pdf["pageCount"], csv["kind"]) == ("pdf", 2, "csv")
        configuration = await send(
            http, "POST", "/configurations", {"name": "Fruit", "settings": SETTINGS}
        )

        heard: list[tuple[str, Any]] = []
        followed: dict[str, str] = {}
        done = asyncio.Event()
        finished: dict[str, str] = {}
        csv_done = asyncio.Event()
        client = socketio.AsyncClient(request_timeout=30)

        @client.on("*")  # type: ignore[untyped-decorator]
        async def record(event: str, data: Any) -> None:
            if not isinstance(data, dict):
                return
            if event in ("job:completed", "job:failed"):
                finished[data.get("jobId", "")] = event
                csv_done.set()
            if data.get("jobId") != followed.get("jobId"):
                return
            if event.startswith(("extraction:", "job:")) or event == "error":
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
                    f"/documents/{pdf['id']}/extract",
                    {"configurationId": configuration["id"]},
                )
            )
            ack = await client.call("subscribe", {"jobId": followed["jobId"]}, timeout=5)
            assert ack["ok"], ack
            assert ack["job"]["status"] == "queued", ack  # so no progress can have been missed
            async with asyncio.timeout(60):
                await done.wait()

            # The CSV file's job, followed the same way (its end is told even if it came first).
            csv_job = (await send(http, "POST", f"/documents/{csv['id']}/extract", {}))["jobId"]
            ack = await client.call("subscribe", {"jobId": csv_job}, timeout=5)
            assert ack["ok"], ack
            async with asyncio.timeout(30):
                while csv_job not in finished:
                    csv_done.clear()
                    await csv_done.wait()
        finally:
            await client.disconnect()

        assert finished[csv_job] == "job:completed"
        job_id = followed["jobId"]
        assert (await send(http, "GET", f"/jobs/{job_id}"))["status"] == "succeeded"
        tables = (await send(http, "GET", f"/jobs/{job_id}/tables"))["items"]
        fruit = await send(http, "GET", f"/tables/{tables[0]['id']}")
        csv_tables = (await send(http, "GET", f"/documents/{csv['id']}/tables"))["items"]

        (export,) = await send(http, "POST", f"/jobs/{job_id}/exports", {"format": "xlsx"})
        assert export["filename"].endswith(".xlsx")
        link = urlsplit(export["downloadUrl"])
        # The signed link alone, no Authorization header (the link's host is PUBLIC_URL's, not
        # this server's port: its path and query are what count).
        async with httpx.AsyncClient(timeout=30) as anonymous:
            download = await anonymous.get(f"{url}{link.path}?{link.query}")
        assert download.status_code == 200, download.text
    return {
        "heard": heard,
        "jobId": job_id,
        "tables": tables,
        "fruit": fruit,
        "csvTables": csv_tables,
        "xlsx": download.content,
    }


async def upload(http: httpx.AsyncClient, filename: str, data: bytes) -> Any:
    response = await http.post(
        f"{API}/documents", files={"file": (filename, data, "application/octet-stream")}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def send(http: httpx.AsyncClient, method: str, path: str, body: Any = None) -> Any:
    response = await http.request(method, f"{API}{path}", json=body)
    assert response.status_code in (200, 201, 202), response.text
    return response.json()
