"""Booklets through the API as a team uses them: customers with attributes per period, a book of
the four page types shaped by owners and admins, `resolve`, generating one booklet and a batch
through the job runner, and the PDFs that come out, read back page by page."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import httpx
import pdfplumber
import pikepdf
import pytest

from paperworks.jobs.models import JobStatus
from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database
from tests.accounts import Account, SignUp, add_member, create_workspace
from tests.booklets.conftest import API, form, make_pdf, make_xlsx, upload
from tests.job_runs import run_next
from tests.problems import assert_problem


async def post(client: httpx.AsyncClient, headers: dict[str, str], path: str, body: Any) -> Any:
    response = await client.post(f"{API}{path}", json=body, headers=headers)
    assert response.status_code in (200, 201, 202), response.text
    return response.json()


async def get(client: httpx.AsyncClient, headers: dict[str, str], path: str, **params: Any) -> Any:
    response = await client.get(f"{API}{path}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def pdf_texts(data: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


# --- customers --------------------------------------------------------------------------------


async def test_customers_are_created_found_changed_and_deleted(
    client: httpx.AsyncClient, anna: Account
) -> None:
    headers = anna.headers
    acme = await post(client, headers, "/customers", {"name": "Acme GmbH", "externalRef": "A-1"})
    await post(client, headers, "/customers", {"name": "Globex"})
    assert acme["externalRef"] == "A-1"
    assert acme["createdAt"].endswith("Z")

    found = await get(client, headers, "/customers", q="acme")
    assert [c["name"] for c in found["items"]] == ["Acme GmbH"]
    assert [c["name"] for c in (await get(client, headers, "/customers", q="a-1"))["items"]] == [
        "Acme GmbH"
    ]
    first = await get(client, headers, "/customers", limit=1)
    assert len(first["items"]) == 1
    assert first["nextCursor"]

    taken = await client.post(
        f"{API}/customers", json={"name": "Other", "externalRef": "A-1"}, headers=headers
    )
    assert_problem(taken, 409, "customer.external_ref_taken")

    renamed = await client.put(
        f"{API}/customers/{acme['id']}", json={"name": "Acme AG"}, headers=headers
    )
    assert renamed.json()["name"] == "Acme AG"
    assert renamed.json()["externalRef"] == "A-1"
    assert (
        await client.delete(f"{API}/customers/{acme['id']}", headers=headers)
    ).status_code == 204
    gone = await client.get(f"{API}/customers/{acme['id']}", headers=headers)
    assert_problem(gone, 404, "customer.not_found")


async def test_attributes_are_upserted_per_period(client: httpx.AsyncClient, anna: Account) -> None:
    customer = await post(client, anna.headers, "/customers", {"name": "Acme"})
    path = f"/customers/{customer['id']}/attributes"
    await post(client, anna.headers, path, {"key": "tier", "value": "silver"})
    await post(
        client,
        anna.headers,
        path,
        [
            {"key": "revenue", "value": "100", "year": 2026},
            {"key": "revenue", "value": "30", "year": 2026, "quarter": 1},
            {"key": "tier", "value": "gold"},
        ],
    )
    rows = await get(client, anna.headers, path)
    assert {(r["key"], r["year"], r["quarter"]): r["value"] for r in rows} == {
        ("tier", None, None): "gold",
        ("revenue", 2026, None): "100",
        ("revenue", 2026, 1): "30",
    }
    bad = await client.post(
        f"{API}{path}", json={"key": "x", "value": "1", "quarter": 2}, headers=anna.headers
    )
    assert_problem(bad, 422, "request.validation_failed")
    bad = await client.post(
        f"{API}{path}",
        json={"key": "x", "value": "1", "year": 2026, "quarter": 5},
        headers=anna.headers,
    )
    assert_problem(bad, 422, "request.validation_failed")
    # Periods are JSON numbers: "2026" and `true` were taken for 2026 and the first quarter.
    bad = await client.post(
        f"{API}{path}",
        json={"key": "x", "value": "1", "year": "2026", "quarter": True},
        headers=anna.headers,
    )
    body = assert_problem(bad, 422, "request.validation_failed")
    wrong = {error["field"].rsplit(".", 1)[-1] for error in body["errors"]}
    assert wrong >= {"year", "quarter"}, body["errors"]


# --- roles and isolation ----------------------------------------------------------------------


async def test_owners_and_admins_shape_books_members_do_not(
    client: httpx.AsyncClient, db: Database, anna: Account, bob: Account, sign_up: SignUp
) -> None:
    carol = await sign_up("carol@example.com")
    team = await create_workspace(client, anna, "Team")
    await add_member(db, team, bob.email, role="admin")
    await add_member(db, team, carol.email)
    as_anna, as_bob, as_carol = (a.in_workspace(team) for a in (anna, bob, carol))

    book = await post(client, as_bob, "/books", {"name": "Quarterly report"})
    file_id = await upload(client, as_anna, "cover.pdf", make_pdf("Cover"))
    page = await post(
        client,
        as_bob,
        f"/books/{book['id']}/pages",
        {"type": "static", "title": "Cover", "fileId": file_id},
    )

    attempts = [
        await client.post(f"{API}/books", json={"name": "Mine"}, headers=as_carol),
        await client.put(f"{API}/books/{book['id']}", json={"name": "X"}, headers=as_carol),
        await client.post(
            f"{API}/books/{book['id']}/pages",
            json={"type": "static", "title": "X", "fileId": file_id},
            headers=as_carol,
        ),
        await client.delete(f"{API}/books/{book['id']}/pages/{page['id']}", headers=as_carol),
        await client.delete(f"{API}/books/{book['id']}", headers=as_carol),
    ]
    for response in attempts:
        assert_problem(response, 403, "auth.forbidden")

    # A member reads books, manages customers and generates.
    assert (await get(client, as_carol, f"/books/{book['id']}"))["pages"][0]["title"] == "Cover"
    customer = await post(client, as_carol, "/customers", {"name": "Acme"})
    accepted = await post(
        client, as_carol, f"/books/{book['id']}/generate", {"customerId": customer["id"]}
    )
    assert accepted["jobId"]
    assert accepted["bookletId"]

    # Another workspace's book, customer and booklet do not exist for Anna's personal one.
    for path in (
        f"/books/{book['id']}",
        f"/customers/{customer['id']}",
        f"/booklets/{accepted['bookletId']}",
    ):
        response = await client.get(f"{API}{path}", headers=anna.headers)
        assert response.status_code == 404, path


# --- pages checked against their files --------------------------------------------------------


async def test_a_page_is_checked_against_its_file_when_saved(
    client: httpx.AsyncClient, anna: Account
) -> None:
    headers = anna.headers
    book = await post(client, headers, "/books", {"name": "Book"})
    pages = f"{API}/books/{book['id']}/pages"
    pdf_form = await upload(client, headers, "form.pdf", form("pypdf-pdflatex-forms.pdf"))
    workbook = await upload(client, headers, "data.xlsx", make_xlsx({"Summary": [["a", 1]]}))
    two_pages = await upload(client, headers, "two.pdf", make_pdf("one", "two"))

    unknown_field = await client.post(
        pages,
        json={
            "type": "pdf_form",
            "title": "Form",
            "fileId": pdf_form,
            "config": {"fields": {"Nmae": "{{ customer.name }}"}},
        },
        headers=headers,
    )
    body = assert_problem(unknown_field, 422, "booklets.unknown_field")
    assert "Name" in body["errors"][0]["choices"]

    unknown_sheet = await client.post(
        pages,
        json={
            "type": "excel",
            "title": "Numbers",
            "fileId": workbook,
            "config": {"sheet": "Sheet9"},
        },
        headers=headers,
    )
    assert assert_problem(unknown_sheet, 422, "booklets.unknown_sheet")["errors"][0]["choices"] == [
        "Summary"
    ]

    not_pdf = await client.post(
        pages, json={"type": "static", "title": "X", "fileId": workbook}, headers=headers
    )
    assert_problem(not_pdf, 422, "booklets.wrong_file_type")
    beyond = await client.post(
        pages,
        json={"type": "static", "title": "X", "fileId": two_pages, "config": {"pages": "3"}},
        headers=headers,
    )
    assert_problem(beyond, 422, "booklets.bad_page_range")
    typo = await client.post(
        pages,
        json={
            "type": "excel",
            "title": "X",
            "fileId": workbook,
            "config": {"sheet": "Summary", "fitToWidht": False},
        },
        headers=headers,
    )
    assert_problem(typo, 422, "request.validation_failed")
    no_file = await client.post(pages, json={"type": "static", "title": "X"}, headers=headers)
    assert_problem(no_file, 422, "page.file_required")
    assert (await get(client, headers, f"/books/{book['id']}"))["pages"] == []


async def test_pages_are_inserted_reordered_and_removed(
    client: httpx.AsyncClient, anna: Account
) -> None:
    headers = anna.headers
    book = await post(client, headers, "/books", {"name": "Book"})
    file_id = await upload(client, headers, "p.pdf", make_pdf("p"))
    path = f"/books/{book['id']}/pages"
    a = await post(client, headers, path, {"type": "static", "title": "A", "fileId": file_id})
    b = await post(client, headers, path, {"type": "static", "title": "B", "fileId": file_id})
    c = await post(
        client, headers, path, {"type": "static", "title": "C", "fileId": file_id, "position": 1}
    )

    def order(book: dict[str, Any]) -> list[tuple[int, str]]:
        return [(p["position"], p["title"]) for p in book["pages"]]

    assert order(await get(client, headers, f"/books/{book['id']}")) == [
        (1, "C"),
        (2, "A"),
        (3, "B"),
    ]
    response = await client.put(
        f"{API}{path}/order", json={"pageIds": [a["id"], b["id"], c["id"]]}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert order(await get(client, headers, f"/books/{book['id']}")) == [
        (1, "A"),
        (2, "B"),
        (3, "C"),
    ]
    incomplete = await client.put(
        f"{API}{path}/order", json={"pageIds": [a["id"]]}, headers=headers
    )
    assert_problem(incomplete, 422, "book.bad_page_order")

    assert (await client.delete(f"{API}{path}/{a['id']}", headers=headers)).status_code == 204
    assert order(await get(client, headers, f"/books/{book['id']}")) == [(1, "B"), (2, "C")]


# --- a whole book: resolve, generate, download ------------------------------------------------


async def quarterly_book(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    """A book of one page of each type: a cover, a filled form, a page chosen by tier, a sheet."""
    cover = await upload(client, headers, "cover.pdf", make_pdf("Quarterly cover", "Contents"))
    the_form = await upload(client, headers, "form.pdf", form("pypdf-pdflatex-forms.pdf"))
    gold = await upload(client, headers, "gold.pdf", make_pdf("Gold offer"))
    standard = await upload(client, headers, "standard.pdf", make_pdf("Standard offer"))
    workbook = await upload(
        client,
        headers,
        "numbers.xlsx",
        make_xlsx(
            {
                "Intro": [["nothing"]],
                "Figures": [["Region", "Sales"], ["North", 1200], ["South", 800]],
            }
        ),
    )
    book = await post(client, headers, "/books", {"name": "Quarterly"})
    path = f"/books/{book['id']}/pages"
    await post(
        client,
        headers,
        path,
        {"type": "static", "title": "Cover", "fileId": cover, "config": {"pages": "1"}},
    )
    await post(
        client,
        headers,
        path,
        {
            "type": "pdf_form",
            "title": "Details",
            "fileId": the_form,
            "config": {
                "fields": {
                    "Name": "{{ customer.name }}: {{ attr.revenue | number(2) }} ({{ period }})",
                    "Check": "true",
                }
            },
        },
    )
    chosen = await post(
        client,
        headers,
        path,
        {"type": "choosable", "title": "Offer", "config": {"defaultFileId": standard}},
    )
    await post(
        client,
        headers,
        f"{path}/{chosen['id']}/conditions",
        {"attributeKey": "tier", "operator": "eq", "attributeValue": "gold", "targetFileId": gold},
    )
    await post(
        client,
        headers,
        path,
        {"type": "excel", "title": "Figures", "fileId": workbook, "config": {"sheet": "Figures"}},
    )
    return {"book": book, "chosen": chosen, "gold": gold, "standard": standard}


async def test_resolve_says_what_a_customer_would_get_and_why(
    client: httpx.AsyncClient, anna: Account
) -> None:
    headers = anna.headers
    made = await quarterly_book(client, headers)
    customer = await post(client, headers, "/customers", {"name": "Acme"})
    await post(
        client,
        headers,
        f"/customers/{customer['id']}/attributes",
        [
            {"key": "tier", "value": "gold", "year": 2026, "quarter": 1},
            {"key": "tier", "value": "silver"},
        ],
    )
    resolve = f"/books/{made['book']['id']}/resolve"

    q1 = await post(
        client, headers, resolve, {"customerId": customer["id"], "year": 2026, "quarter": 1}
    )
    offer = q1["pages"][2]
    assert offer["sourceFileId"] == made["gold"]
    assert offer["rule"]["attributeKey"] == "tier"
    assert offer["rule"]["actualValue"] == "gold"
    assert q1["missingAttributes"] == ["revenue"]
    assert q1["pages"][1]["missingAttributes"] == ["revenue"]

    q2 = await post(
        client, headers, resolve, {"customerId": customer["id"], "year": 2026, "quarter": 2}
    )
    assert q2["pages"][2]["sourceFileId"] == made["standard"]
    assert q2["pages"][2]["rule"] is None
    assert "default" in q2["pages"][2]["reason"]

    refused = await client.post(
        f"{API}/books/{made['book']['id']}/generate",
        json={"customerId": customer["id"], "year": 2026, "quarter": 1},
        headers=headers,
    )
    body = assert_problem(refused, 422, "booklets.missing_attributes")
    assert "revenue" in body["detail"]


async def test_a_booklet_is_generated_with_every_page_type(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    headers = anna.headers
    made = await quarterly_book(client, headers)
    customer = await post(client, headers, "/customers", {"name": "Ωmega Жук & Co"})
    await post(
        client,
        headers,
        f"/customers/{customer['id']}/attributes",
        [
            {"key": "tier", "value": "gold", "year": 2026, "quarter": 1},
            {"key": "revenue", "value": "1234.5", "year": 2026},
        ],
    )
    accepted = await post(
        client,
        headers,
        f"/books/{made['book']['id']}/generate",
        {"customerId": customer["id"], "year": 2026, "quarter": 1},
    )
    queued = await get(client, headers, f"/booklets/{accepted['bookletId']}")
    assert queued["status"] == "queued"
    assert queued["downloadUrl"] is None

    assert await run_next(db, runner) == JobStatus.succeeded

    booklet = await get(client, headers, f"/booklets/{accepted['bookletId']}")
    assert booklet["status"] == "succeeded"
    assert booklet["pageCount"] == 4
    assert [entry["sourceFileId"] for entry in booklet["resolution"]][2] == made["gold"]
    assert booklet["resolution"][2]["rule"]["attributeKey"] == "tier"
    job = await get(client, headers, f"/jobs/{accepted['jobId']}")
    assert job["message"] == "Made a booklet of 4 pages."

    download = await client.get(booklet["downloadUrl"])
    assert download.status_code == 200
    pdf = download.content
    texts = pdf_texts(pdf)
    assert "Quarterly cover" in texts[0]
    assert "Contents" not in "".join(texts)
    assert "Ωmega Жук & Co: 1,234.50 (2026 Q1)" in texts[1]
    assert "Gold offer" in texts[2]
    assert "North" in texts[3]
    assert "1200" in texts[3].replace(",", "")
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert "/AcroForm" not in document.Root  # flattened: no live form left
        with document.open_outline() as outline:
            assert [item.title for item in outline.root] == ["Cover", "Details", "Offer", "Figures"]

    listed = await get(client, headers, "/booklets", customerId=customer["id"], year=2026)
    assert [b["id"] for b in listed["items"]] == [booklet["id"]]
    assert (await get(client, headers, "/booklets", year=2025))["items"] == []


async def test_a_batch_makes_one_booklet_per_customer_and_a_zip(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    headers = anna.headers
    cover = await upload(client, headers, "cover.pdf", make_pdf("Hello"))
    book = await post(client, headers, "/books", {"name": "Letter"})
    await post(
        client,
        headers,
        f"/books/{book['id']}/pages",
        {"type": "static", "title": "Letter", "fileId": cover},
    )
    for name in ("Acme", "Globex", "Initech"):
        await post(client, headers, "/customers", {"name": name})

    batch = await post(client, headers, f"/books/{book['id']}/generate-batch", {"year": 2026})
    assert len(batch["jobs"]) == 3
    progress = await get(client, headers, f"/booklet-batches/{batch['batchId']}")
    assert progress["queued"] == 3
    assert progress["downloadUrl"] is None

    for _ in range(3):
        assert await run_next(db, runner) == JobStatus.succeeded
    done = await get(client, headers, f"/booklet-batches/{batch['batchId']}")
    assert done["succeeded"] == 3
    assert done["downloadUrl"]
    archive = zipfile.ZipFile(io.BytesIO((await client.get(done["downloadUrl"])).content))
    names = sorted(archive.namelist())
    assert len(names) == 3
    assert all(name.endswith(".pdf") for name in names)
    assert all("Hello" in pdf_texts(archive.read(name))[0] for name in names)
    again = await get(client, headers, f"/booklet-batches/{batch['batchId']}")
    assert again["booklets"]
    assert linked_file(again["downloadUrl"]) == linked_file(done["downloadUrl"])  # the same ZIP


def linked_file(url: str) -> str:
    """The file a signed download link names: its token is `<file id>.<expiry>.<signature>`, and
    the expiry moves with the clock."""
    return url.rsplit("/", 1)[1].split(".", 1)[0]


async def test_a_page_that_cannot_be_made_fails_the_job_naming_it(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    headers = anna.headers
    book = await post(client, headers, "/books", {"name": "Book"})
    workbook = make_xlsx({"Data": [["x"]]})
    file_id = await upload(client, headers, "data.xlsx", workbook)
    await post(
        client,
        headers,
        f"/books/{book['id']}/pages",
        {"type": "excel", "title": "Data", "fileId": file_id, "config": {"sheet": "Data"}},
    )
    customer = await post(client, headers, "/customers", {"name": "Acme"})
    other = await upload(client, headers, "other.xlsx", make_xlsx({"Elsewhere": [["y"]]}))
    refused = await client.post(
        f"{API}/books/{book['id']}/generate",
        json={"customerId": customer["id"], "spreadsheetFileId": other},
        headers=headers,
    )
    problem = assert_problem(refused, 422, "booklets.unknown_sheet")
    assert problem["detail"] == "Page 1 'Data': The workbook has no sheet 'Data'."
    assert problem["errors"] == [{"choices": ["Elsewhere"]}]

    # A formula no application saved a result for shows only when the sheet is drawn.
    unsaved = await upload(
        client, headers, "unsaved.xlsx", make_xlsx({"Data": [[1], [2], ["=SUM(A1:A2)"]]})
    )
    accepted = await post(
        client,
        headers,
        f"/books/{book['id']}/generate",
        {"customerId": customer["id"], "spreadsheetFileId": unsaved},
    )
    assert await run_next(db, runner) == JobStatus.failed

    booklet = await get(client, headers, f"/booklets/{accepted['bookletId']}")
    assert booklet["status"] == "failed"
    assert booklet["downloadUrl"] is None
    assert booklet["error"].startswith("Page 1 'Data': Cell A3 on sheet 'Data' has a formula")
    job = await get(client, headers, f"/jobs/{accepted['jobId']}")
    assert job["error"]["code"] == "booklets.uncached_formula"
    events = await get(client, headers, "/events", resourceType="booklet", resourceId=booklet["id"])
    assert [event["type"] for event in events["items"]] == ["booklet.failed"]


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("broken.pdf", make_pdf("x")[:300], "booklets.corrupt_pdf"),
    ],
)
async def test_bad_pdfs_are_refused_when_a_page_is_saved(
    client: httpx.AsyncClient, anna: Account, name: str, data: bytes, code: str
) -> None:
    book = await post(client, anna.headers, "/books", {"name": "Book"})
    file_id = await upload(client, anna.headers, name, data)
    response = await client.post(
        f"{API}/books/{book['id']}/pages",
        json={"type": "static", "title": "X", "fileId": file_id},
        headers=anna.headers,
    )
    assert_problem(response, 422, code)
