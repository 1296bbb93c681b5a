"""Extraction jobs through the API: a CSV file, a workbook and a ruled PDF extracted by the job
runner, their tables listed and read (as found and as shaped), exported as CSV, XLSX and JSON
files and streamed directly; a corrupt PDF fails its job with the engine's code; another
workspace's jobs and tables do not exist."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

import httpx
import openpyxl
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from paperworks.events.hub import EventHub
from paperworks.jobs.models import JobStatus
from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database
from tests.accounts import Account
from tests.extraction.test_documents_api import API, uploaded
from tests.job_runs import run_next
from tests.live_events import drained
from tests.problems import assert_problem

ROWS = [
    ["Item", "Qty", "Price"],
    ["Apples", "3", "1.20"],
    ["Pears", "12", "0.85"],
    ["Plums", "7", "2.10"],
]
WIDTHS = [120.0, 60.0, 80.0]
ROW_HEIGHT = 22.0
SETTINGS = {
    "columns": [
        {"name": "Item"},
        {"name": "Qty", "type": "integer"},
        {"name": "Price", "aliases": ["Unit price"], "type": "decimal"},
    ]
}


def draw_ruled(drawing: canvas.Canvas, rows: list[list[str]]) -> None:
    """A fully ruled grid of `rows` on the canvas's page."""
    left, top = 72.0, 700.0
    xs = [left]
    for width in WIDTHS[: len(rows[0])]:
        xs.append(xs[-1] + width)
    ys = [top - ROW_HEIGHT * r for r in range(len(rows) + 1)]
    drawing.setLineWidth(0.5)
    for y in ys:
        drawing.line(xs[0], y, xs[-1], y)
    for x in xs:
        drawing.line(x, ys[0], x, ys[-1])
    drawing.setFont("Helvetica", 9)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            drawing.drawString(xs[c] + 3, ys[r] - 14, text)


def ruled_pdf(*pages: list[list[str]]) -> bytes:
    """A page with a fully ruled grid for each of `pages` (its rows)."""
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    for rows in pages:
        draw_ruled(drawing, rows)
        drawing.showPage()
    drawing.save()
    return buffer.getvalue()


def workbook(sheets: dict[str, list[list[Any]]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def extract(
    client: httpx.AsyncClient, headers: dict[str, str], document_id: str, **body: Any
) -> str:
    answer = await ok(
        await client.post(f"{API}/documents/{document_id}/extract", json=body, headers=headers),
        202,
    )
    job_id: str = answer["jobId"]
    return job_id


async def configuration(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    body = {"name": "Fruit", "settings": SETTINGS}
    created = await ok(await client.post(f"{API}/configurations", json=body, headers=headers), 201)
    configuration_id: str = created["id"]
    return configuration_id


async def test_a_ruled_pdf_is_extracted_read_and_exported(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    headers = anna.headers
    document = await uploaded(client, headers, "fruit.pdf", ruled_pdf(ROWS))
    config_id = await configuration(client, headers)
    job_id = await extract(client, headers, document["id"], configurationId=config_id)

    # Queued, not run yet: nothing listed.
    empty = await ok(await client.get(f"{API}/documents/{document['id']}/tables", headers=headers))
    assert empty == {"items": [], "nextCursor": None}

    assert await run_next(db, runner) == JobStatus.succeeded
    job = await ok(await client.get(f"{API}/jobs/{job_id}", headers=headers))
    assert job["status"] == "succeeded"

    listed = await ok(await client.get(f"{API}/jobs/{job_id}/tables", headers=headers))
    assert [(t["page"], t["index"], t["nRows"], t["nCols"]) for t in listed["items"]] == [
        (1, 0, 4, 3)
    ]
    assert listed["nextCursor"] is None
    assert len(listed["items"][0]["bbox"]) == 4
    by_document = await ok(
        await client.get(f"{API}/documents/{document['id']}/tables", headers=headers)
    )
    assert by_document["items"] == listed["items"]

    table_id = listed["items"][0]["id"]
    table = await ok(await client.get(f"{API}/tables/{table_id}", headers=headers))
    assert (table["jobId"], table["documentId"], table["sheet"]) == (job_id, document["id"], None)
    assert table["grid"] == ROWS
    assert table["header"] == ["Item", "Qty", "Price"]
    assert table["rows"] == [
        {"Item": "Apples", "Qty": 3, "Price": "1.20"},
        {"Item": "Pears", "Qty": 12, "Price": "0.85"},
        {"Item": "Plums", "Qty": 7, "Price": "2.10"},
    ]
    first = table["cells"][0]
    assert (first["row"], first["col"], first["rowSpan"], first["colSpan"], first["text"]) == (
        0,
        0,
        1,
        1,
        "Item",
    )
    assert first["page"] == 1
    assert len(first["bbox"]) == 4
    assert [(m["column"], m["method"]) for m in table["mapping"]] == [
        ("Item", "exact"),
        ("Qty", "exact"),
        ("Price", "exact"),
    ]
    assert table["issues"] == []

    # The document says how its latest job went; the timelines tell the story.
    assert (await ok(await client.get(f"{API}/documents/{document['id']}", headers=headers)))[
        "status"
    ] == "extracted"
    job_events = await ok(await client.get(f"{API}/jobs/{job_id}/events", headers=headers))
    types = [e["type"] for e in job_events["items"]]
    for wanted in ("job.created", "job.started", "job.outputs.persisted", "job.succeeded"):
        assert wanted in types

    # Exports: CSV read back, XLSX opened, JSON.
    exported = await ok(
        await client.post(f"{API}/jobs/{job_id}/exports", json={"format": "csv"}, headers=headers),
        201,
    )
    assert len(exported) == 1
    assert (exported[0]["format"], exported[0]["tableId"]) == ("csv", table_id)
    download = await client.get(exported[0]["downloadUrl"])
    assert download.status_code == 200
    read = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert read == [
        ["Item", "Qty", "Price"],
        ["Apples", "3", "1.20"],
        ["Pears", "12", "0.85"],
        [
            "Plums",
            "7",
            "2.10",
        ],
    ]

    xlsx = await ok(
        await client.post(
            f"{API}/jobs/{job_id}/exports",
            json={"format": "xlsx", "tableIds": [table_id]},
            headers=headers,
        ),
        201,
    )
    data = (await client.get(xlsx[0]["downloadUrl"])).content
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == ["Item", "Qty", "Price"]
    assert values[1][:2] == ["Apples", 3]
    assert float(values[1][2]) == 1.2

    as_json = await ok(
        await client.post(f"{API}/jobs/{job_id}/exports", json={"format": "json"}, headers=headers),
        201,
    )
    document_json = json.loads((await client.get(as_json[0]["downloadUrl"])).content)
    assert document_json["tables"][0]["rows"][1] == {"Item": "Pears", "Qty": 12, "Price": "0.85"}
    assert document_json["tables"][0]["columns"][1] == {"key": "Qty", "type": "integer"}

    job_events = await ok(await client.get(f"{API}/jobs/{job_id}/events", headers=headers))
    assert [e["type"] for e in job_events["items"]].count("export.created") == 3

    # One table streamed directly.
    streamed = await client.get(
        f"{API}/tables/{table_id}/export", params={"format": "csv"}, headers=headers
    )
    assert streamed.status_code == 200
    assert streamed.headers["content-type"].startswith("text/csv")
    assert "attachment" in streamed.headers["content-disposition"]
    assert streamed.content.decode("utf-8-sig").splitlines()[1] == "Apples,3,1.20"
    streamed_xlsx = await client.get(
        f"{API}/tables/{table_id}/export", params={"format": "xlsx"}, headers=headers
    )
    assert openpyxl.load_workbook(io.BytesIO(streamed_xlsx.content)).worksheets[0]["A2"].value == (
        "Apples"
    )


async def test_every_record_leads_back_to_the_row_and_cells_it_came_from(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    # A table continued on the next page, without its header there: one table of five records.
    more = [["Kiwis", "5", "0.40"], ["Limes", "9", "0.35"]]
    headers = anna.headers
    document = await uploaded(client, headers, "fruit.pdf", ruled_pdf(ROWS, more))
    job_id = await extract(
        client, headers, document["id"], configurationId=await configuration(client, headers)
    )
    assert await run_next(db, runner) == JobStatus.succeeded
    listed = await ok(await client.get(f"{API}/jobs/{job_id}/tables", headers=headers))
    assert len(listed["items"]) == 1
    table = await ok(await client.get(f"{API}/tables/{listed['items'][0]['id']}", headers=headers))
    assert [r["Item"] for r in table["rows"]] == ["Apples", "Pears", "Plums", "Kiwis", "Limes"]
    assert table["rowSources"] == [
        {"page": 1, "index": 0, "row": 1, "gridRow": 1},
        {"page": 1, "index": 0, "row": 2, "gridRow": 2},
        {"page": 1, "index": 0, "row": 3, "gridRow": 3},
        {"page": 2, "index": 0, "row": 0, "gridRow": 4},
        {"page": 2, "index": 0, "row": 1, "gridRow": 5},
    ]
    # Every value leads to its cell: the record's source row, the mapping's source column.
    cells = {(c["row"], c["col"]): c for c in table["cells"]}
    for record, source in zip(table["rows"], table["rowSources"], strict=True):
        for match in table["mapping"]:
            cell = cells[(source["gridRow"], match["sourceCol"])]
            assert cell["page"] == source["page"]
            assert table["grid"][source["gridRow"]][match["sourceCol"]] == cell["text"]
            assert cell["text"] == str(record[match["key"]])
            assert len(cell["bbox"]) == 4

    exported = await ok(
        await client.post(f"{API}/jobs/{job_id}/exports", json={"format": "json"}, headers=headers),
        201,
    )
    as_json = json.loads((await client.get(exported[0]["downloadUrl"])).content)
    assert as_json["tables"][0]["pages"] == [1, 2]
    assert as_json["tables"][0]["rowSources"] == [
        {key: source[key] for key in ("page", "index", "row")} for source in table["rowSources"]
    ]


async def test_a_csv_file_and_a_workbook_are_extracted_with_default_settings(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    headers = anna.headers
    csv_document = await uploaded(
        client, headers, "export.csv", b"Date;Amount\n2026-03-31;12,50\n2026-04-01;=1+1\n"
    )
    csv_job = await extract(client, headers, csv_document["id"])
    assert await run_next(db, runner) == JobStatus.succeeded
    listed = await ok(await client.get(f"{API}/jobs/{csv_job}/tables", headers=headers))
    assert [(t["page"], t["index"], t["nRows"], t["nCols"]) for t in listed["items"]] == [
        (1, 0, 3, 2)
    ]
    table = await ok(await client.get(f"{API}/tables/{listed['items'][0]['id']}", headers=headers))
    assert table["grid"] == [["Date", "Amount"], ["2026-03-31", "12,50"], ["2026-04-01", "=1+1"]]
    assert table["bbox"] is None
    # A formula is escaped in exports.
    streamed = await client.get(
        f"{API}/tables/{table['id']}/export", params={"format": "csv"}, headers=headers
    )
    assert "'=1+1" in streamed.content.decode("utf-8-sig")

    xlsx_document = await uploaded(
        client,
        headers,
        "ledger.xlsx",
        workbook(
            {
                "Income": [["Month", "Total"], ["Jan", 10], ["Feb", 20]],
                "Costs": [["Month", "Total"], ["Jan", 4]],
            }
        ),
    )
    xlsx_job = await extract(client, headers, xlsx_document["id"], configurationId=None)
    assert await run_next(db, runner) == JobStatus.succeeded
    listed = await ok(
        await client.get(f"{API}/documents/{xlsx_document['id']}/tables", headers=headers)
    )
    assert [(t["page"], t["index"], t["sheet"]) for t in listed["items"]] == [
        (1, 0, "Income"),
        (2, 0, "Costs"),
    ]
    page = await ok(
        await client.get(f"{API}/jobs/{xlsx_job}/tables", params={"limit": 1}, headers=headers)
    )
    assert [t["sheet"] for t in page["items"]] == ["Income"]
    rest = await ok(
        await client.get(
            f"{API}/jobs/{xlsx_job}/tables",
            params={"limit": 1, "cursor": page["nextCursor"]},
            headers=headers,
        )
    )
    assert [t["sheet"] for t in rest["items"]] == ["Costs"]
    assert rest["nextCursor"] is None
    income = await ok(await client.get(f"{API}/tables/{listed['items'][0]['id']}", headers=headers))
    assert income["grid"] == [["Month", "Total"], ["Jan", "10"], ["Feb", "20"]]
    assert income["rows"] == [{"Month": "Jan", "Total": "10"}, {"Month": "Feb", "Total": "20"}]

    # Several tables as CSV: one ZIP of a CSV each; as XLSX: a sheet each.
    zipped = await ok(
        await client.post(
            f"{API}/jobs/{xlsx_job}/exports", json={"format": "csv"}, headers=headers
        ),
        201,
    )
    assert zipped[0]["tableId"] is None
    assert zipped[0]["filename"].endswith(".zip")
    archive = zipfile.ZipFile(io.BytesIO((await client.get(zipped[0]["downloadUrl"])).content))
    assert sorted(archive.namelist()) == ["Costs.csv", "Income.csv"]
    assert archive.read("Costs.csv").decode("utf-8-sig").splitlines() == ["Month,Total", "Jan,4"]
    book_export = await ok(
        await client.post(
            f"{API}/jobs/{xlsx_job}/exports", json={"format": "xlsx"}, headers=headers
        ),
        201,
    )
    book = openpyxl.load_workbook(
        io.BytesIO((await client.get(book_export[0]["downloadUrl"])).content)
    )
    assert book.sheetnames == ["Income", "Costs"]

    # A table of another job is refused.
    foreign = await client.post(
        f"{API}/jobs/{xlsx_job}/exports",
        json={"format": "csv", "tableIds": [table["id"]]},
        headers=headers,
    )
    assert_problem(foreign, 422, "export.table_not_of_job")


async def test_a_csv_saved_in_windows_1252_is_uploaded_and_read(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    # What Excel saves as CSV on a German Windows: Windows-1252, semicolons, decimal commas.
    data = (
        "Name;Straße;Betrag\nMüller;Hauptstraße 5;€ 1.234,50\nÖztürk;Fußweg 2;-7,25 €\n"
    ).encode("cp1252")
    assert b"\x80" in data  # the euro sign, where Windows-1252 and Latin-1 differ
    headers = anna.headers
    document = await uploaded(client, headers, "buchungen.csv", data)
    assert document["kind"] == "csv"
    settings = {
        "numberLocale": "1.234,56",
        "columns": [
            {"name": "Name"},
            {"name": "Straße"},
            {"name": "Betrag", "type": "currency"},
        ],
    }
    created = await ok(
        await client.post(
            f"{API}/configurations",
            json={"name": "Buchungen", "settings": settings},
            headers=headers,
        ),
        201,
    )
    job_id = await extract(client, headers, document["id"], configurationId=created["id"])
    assert await run_next(db, runner) == JobStatus.succeeded
    listed = await ok(await client.get(f"{API}/jobs/{job_id}/tables", headers=headers))
    table = await ok(await client.get(f"{API}/tables/{listed['items'][0]['id']}", headers=headers))
    assert table["grid"] == [
        ["Name", "Straße", "Betrag"],
        ["Müller", "Hauptstraße 5", "€ 1.234,50"],
        ["Öztürk", "Fußweg 2", "-7,25 €"],
    ]
    assert table["rows"] == [
        {"Name": "Müller", "Straße": "Hauptstraße 5", "Betrag": "1234.50"},
        {"Name": "Öztürk", "Straße": "Fußweg 2", "Betrag": "-7.25"},
    ]
    assert table["issues"] == []


async def test_a_corrupt_pdf_fails_its_job_with_the_engines_code(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    headers = anna.headers
    broken = await uploaded(client, headers, "broken.pdf", b"%PDF-1.7\nnot really a pdf\n")
    job_id = await extract(client, headers, broken["id"])
    assert await run_next(db, runner) == JobStatus.failed
    job = await ok(await client.get(f"{API}/jobs/{job_id}", headers=headers))
    assert job["status"] == "failed"
    assert job["error"]["code"] == "extraction.corrupt_pdf"
    assert job["error"]["message"].startswith("The PDF cannot be read")
    document = await ok(await client.get(f"{API}/documents/{broken['id']}", headers=headers))
    assert document["status"] == "failed"
    assert (await ok(await client.get(f"{API}/jobs/{job_id}/tables", headers=headers)))[
        "items"
    ] == []
    refused = await client.post(
        f"{API}/jobs/{job_id}/exports", json={"format": "csv"}, headers=headers
    )
    assert_problem(refused, 409, "export.job_not_succeeded")


async def test_an_archived_or_unknown_configuration_is_refused(
    client: httpx.AsyncClient, anna: Account, bob: Account
) -> None:
    document = await uploaded(client, anna.headers, "fruit.pdf", ruled_pdf(ROWS))
    path = f"{API}/documents/{document['id']}/extract"
    archived = await configuration(client, anna.headers)
    await ok(await client.delete(f"{API}/configurations/{archived}", headers=anna.headers))
    answer = await client.post(path, json={"configurationId": archived}, headers=anna.headers)
    assert_problem(answer, 422, "configuration.archived")
    bobs = await configuration(client, bob.headers)
    answer = await client.post(path, json={"configurationId": bobs}, headers=anna.headers)
    assert_problem(answer, 404, "configuration.not_found")
    answer = await client.post(path, json={"configurationId": "nope"}, headers=anna.headers)
    assert_problem(answer, 404, "configuration.not_found")
    answer = await client.post(path, json={"configuration": "typo"}, headers=anna.headers)
    assert answer.status_code == 422


async def test_another_workspaces_jobs_and_tables_do_not_exist(
    client: httpx.AsyncClient, anna: Account, bob: Account, db: Database, runner: LocalRunner
) -> None:
    document = await uploaded(client, anna.headers, "fruit.pdf", ruled_pdf(ROWS))
    job_id = await extract(client, anna.headers, document["id"])
    assert await run_next(db, runner) == JobStatus.succeeded
    listed = await ok(await client.get(f"{API}/jobs/{job_id}/tables", headers=anna.headers))
    table_id = listed["items"][0]["id"]

    bob_h = bob.headers
    assert_problem(
        await client.post(f"{API}/documents/{document['id']}/extract", json={}, headers=bob_h),
        404,
        "document.not_found",
    )
    assert_problem(
        await client.get(f"{API}/documents/{document['id']}/tables", headers=bob_h),
        404,
        "document.not_found",
    )
    assert_problem(
        await client.get(f"{API}/jobs/{job_id}/tables", headers=bob_h), 404, "job.not_found"
    )
    assert_problem(
        await client.post(f"{API}/jobs/{job_id}/exports", json={"format": "csv"}, headers=bob_h),
        404,
        "job.not_found",
    )
    assert_problem(
        await client.get(f"{API}/tables/{table_id}", headers=bob_h), 404, "table.not_found"
    )
    assert_problem(
        await client.get(f"{API}/tables/{table_id}/export", headers=bob_h),
        404,
        "table.not_found",
    )
    # Still there for their owner.
    assert (await client.get(f"{API}/tables/{table_id}", headers=anna.headers)).status_code == 200


async def test_a_page_without_text_is_told_as_needing_ocr(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    drawing.rect(100, 100, 200, 200, fill=1)  # a "scan": no text layer
    drawing.showPage()
    drawing.save()
    document = await uploaded(client, anna.headers, "scan.pdf", buffer.getvalue())
    job_id = await extract(client, anna.headers, document["id"])
    assert await run_next(db, runner) == JobStatus.succeeded
    job = await ok(await client.get(f"{API}/jobs/{job_id}", headers=anna.headers))
    assert job["result"]["tables"] == []
    assert [(i["page"], i["code"]) for i in job["result"]["issues"]] == [(1, "needs_ocr")]
    timeline = await ok(
        await client.get(f"{API}/documents/{document['id']}/events", headers=anna.headers)
    )
    extracted = [e for e in timeline["items"] if e["type"] == "document.extracted"]
    assert extracted[0]["payload"]["issues"][0]["code"] == "needs_ocr"


async def test_each_page_is_told_live_as_it_is_read(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner, hub: EventHub
) -> None:
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    for _ in range(3):
        drawing.setFont("Helvetica", 9)
        drawing.drawString(72, 700, "Item    Qty")
        drawing.showPage()
    drawing.save()
    document = await uploaded(client, anna.headers, "three.pdf", buffer.getvalue())
    job_id = await extract(client, anna.headers, document["id"])
    with hub.subscribe(f"job:{job_id}") as live:
        assert await run_next(db, runner) == JobStatus.succeeded
        heard = drained(live)
    pages = [
        (m.data["page"], m.data["done"], m.data["total"])
        for m in heard
        if m.name == "extraction:progress"
    ]
    assert pages == [(1, 1, 3), (2, 2, 3), (3, 3, 3)]
    names = [m.name for m in heard]
    assert names.index("extraction:completed") > max(
        i for i, name in enumerate(names) if name == "extraction:progress"
    )
