"""Booklets in the web console over HTTP: books and pages (reordered, a form mapped from its own
field list, a workbook's sheet picked, a choosable page's rules), customers with values per period
and a CSV import, the resolve preview, one booklet and a batch generated and downloaded, and a
member who may generate but not change books."""

from __future__ import annotations

import html
import io
import re

import httpx
import pypdf

from paperworks.jobs.models import JobStatus
from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database
from tests.accounts import Account, add_member
from tests.booklets.conftest import form, make_pdf, make_xlsx
from tests.console.test_console import csrf_of, signed_in
from tests.job_runs import run_next

PDF = "application/pdf"


def location_id(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"].rstrip("/").split("/")[-1].split("#")[0]


def links(page: str, pattern: str) -> list[str]:
    return [html.unescape(found) for found in re.findall(pattern, page)]


async def new_book(client: httpx.AsyncClient, csrf: str, name: str = "Quarterly report") -> str:
    return location_id(await client.post("/booklets/books", data={"csrf": csrf, "name": name}))


async def add_page(
    client: httpx.AsyncClient,
    csrf: str,
    book: str,
    title: str,
    page_type: str,
    file: tuple[str, bytes] | None,
    **extra: str,
) -> httpx.Response:
    files = {"fileUpload": (file[0], file[1], "application/octet-stream")} if file else None
    return await client.post(
        f"/booklets/books/{book}/pages",
        data={"csrf": csrf, "title": title, "type": page_type, **extra},
        files=files,
    )


async def new_customer(client: httpx.AsyncClient, csrf: str, name: str, ref: str = "") -> str:
    response = await client.post(
        "/booklets/customers", data={"csrf": csrf, "name": name, "externalRef": ref}
    )
    return location_id(response)


async def test_a_book_of_two_pages_makes_a_customers_booklet_to_download(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    csrf = await signed_in(client, anna)
    book = await new_book(client, csrf)
    cover = await add_page(client, csrf, book, "Cover", "static", ("cover.pdf", make_pdf("COVER")))
    assert cover.status_code == 303
    letter = await add_page(
        client, csrf, book, "Letter", "pdf_form", ("letter.pdf", form("pypdf-form.pdf"))
    )
    letter_id = location_id(letter)

    # The form's own fields are listed, each with its type, for the mapping.
    editor = await client.get(f"/booklets/books/{book}/pages/{letter_id}")
    assert editor.status_code == 200
    assert 'name="field:foo"' in editor.text
    assert "(text; page 1)" in editor.text
    assert "{{ customer.name }}" in html.unescape(editor.text)
    saved = await client.post(
        f"/booklets/books/{book}/pages/{letter_id}",
        data={
            "csrf": csrf,
            "action": "save",
            "title": "Letter",
            "field:foo": "{{ customer.name }}: {{ attr.revenue }}",
            "flatten": "on",
        },
    )
    assert saved.status_code == 303, saved.text

    customer = await new_customer(client, csrf, "ACME GmbH", "C-1")
    preview = await client.get(
        f"/booklets/books/{book}/preview", params={"customer": customer, "year": "2026"}
    )
    assert preview.status_code == 200
    assert "has no value for 2026 for: revenue" in html.unescape(preview.text)
    assert "disabled" in preview.text

    await client.post(
        f"/booklets/customers/{customer}/attributes",
        data={"csrf": csrf, "key": "revenue", "value": "1,200", "year": "2026", "quarter": ""},
    )
    preview = await client.get(
        f"/booklets/books/{book}/preview", params={"customer": customer, "year": "2026"}
    )
    assert "ACME GmbH: 1,200" in html.unescape(preview.text)
    assert "cover.pdf" in preview.text

    made = await client.post(
        f"/booklets/books/{book}/generate",
        data={"csrf": csrf, "customer": customer, "year": "2026", "quarter": ""},
    )
    booklet_path = made.headers["location"]
    assert booklet_path.startswith("/booklets/made/")
    assert "data-job-stream" in (await client.get(booklet_path)).text
    assert await run_next(db, runner) == JobStatus.succeeded

    page = await client.get(booklet_path)
    assert "succeeded" in page.text
    assert "2 pages" in page.text
    (download,) = links(page.text, r'href="([^"]+)" download')
    pdf = await client.get(download)
    assert pdf.status_code == 200
    reader = pypdf.PdfReader(io.BytesIO(pdf.content))
    assert len(reader.pages) == 2
    assert "COVER" in reader.pages[0].extract_text()
    assert "ACME GmbH: 1,200" in reader.pages[1].extract_text()
    # The book, the customer and the list show it too.
    assert "ACME GmbH" in (await client.get(f"/booklets/books/{book}")).text
    assert booklet_path in (await client.get(f"/booklets/customers/{customer}")).text


async def test_pages_are_reordered_by_the_posted_order_or_one_step_at_a_time(
    client: httpx.AsyncClient, anna: Account
) -> None:
    csrf = await signed_in(client, anna)
    book = await new_book(client, csrf)
    for title in ("One", "Two", "Three"):
        await add_page(client, csrf, book, title, "static", (f"{title}.pdf", make_pdf(title)))
    page = (await client.get(f"/booklets/books/{book}")).text
    ids = re.findall(r'name="pageId" value="([^"]+)"', page)
    assert len(ids) == 3

    def titles(text: str) -> list[str]:
        return re.findall(r"<strong>(One|Two|Three)</strong>", text)

    dragged = await client.post(
        f"/booklets/books/{book}/order",
        data={"csrf": csrf, "action": "save", "pageId": [ids[2], ids[0], ids[1]]},
    )
    assert dragged.status_code == 303
    assert titles((await client.get(f"/booklets/books/{book}")).text) == ["Three", "One", "Two"]
    stepped = await client.post(
        f"/booklets/books/{book}/order",
        data={"csrf": csrf, "action": "down:0", "pageId": [ids[2], ids[0], ids[1]]},
    )
    assert stepped.status_code == 303
    assert titles((await client.get(f"/booklets/books/{book}")).text) == ["One", "Three", "Two"]
    # An order that leaves a page out is refused on the page, and changes nothing.
    wrong = await client.post(
        f"/booklets/books/{book}/order", data={"csrf": csrf, "pageId": [ids[0]]}
    )
    assert wrong.status_code == 422
    assert "List every page of the book exactly once." in wrong.text


async def test_a_worksheet_page_offers_the_workbooks_sheets(
    client: httpx.AsyncClient, anna: Account
) -> None:
    csrf = await signed_in(client, anna)
    book = await new_book(client, csrf)
    workbook = make_xlsx({"Summary": [["Total", 3]], "Detail": [["a", 1], ["b", 2]]})
    added = await add_page(client, csrf, book, "Figures", "excel", ("figures.xlsx", workbook))
    page_path = f"/booklets/books/{book}/pages/{location_id(added)}"
    editor = (await client.get(page_path)).text
    assert "<option selected>Summary</option>" in editor
    assert "<option >Detail</option>" in editor

    saved = await client.post(
        page_path,
        data={"csrf": csrf, "title": "Figures", "sheet": "Detail", "orientation": "landscape"},
    )
    assert saved.status_code == 303
    assert "<option selected>Detail</option>" in (await client.get(page_path)).text
    missing = await client.post(page_path, data={"csrf": csrf, "title": "Figures", "sheet": "Nope"})
    assert missing.status_code == 422
    assert "Nope" in missing.text
    assert "Choose from: Summary, Detail." in missing.text


async def test_a_choosable_pages_rules_are_added_previewed_and_removed(
    client: httpx.AsyncClient, anna: Account
) -> None:
    csrf = await signed_in(client, anna)
    book = await new_book(client, csrf)
    page_path = f"/booklets/books/{book}/pages/" + location_id(
        await add_page(client, csrf, book, "Offer", "choosable", None)
    )
    rule = await client.post(
        page_path + "/conditions",
        data={"csrf": csrf, "attributeKey": "segment", "operator": "eq", "value": "gold"},
        files={"targetUpload": ("gold.pdf", make_pdf("GOLD OFFER"), PDF)},
    )
    assert rule.status_code == 303, rule.text
    editor = (await client.get(page_path)).text
    assert "gold.pdf" in editor
    assert "<code>segment</code> is “gold”" in editor
    # A rule without a file to choose is refused with the reason.
    refused = await client.post(
        page_path + "/conditions",
        data={"csrf": csrf, "attributeKey": "segment", "operator": "in", "value": "a, b"},
    )
    assert refused.status_code == 422
    assert "targetFileId" in refused.text

    gold = await new_customer(client, csrf, "Gold Ltd")
    await client.post(
        f"/booklets/customers/{gold}/attributes",
        data={"csrf": csrf, "key": "segment", "value": "gold"},
    )
    other = await new_customer(client, csrf, "Plain Ltd")
    chosen = await client.get(f"/booklets/books/{book}/preview", params={"customer": gold})
    assert "gold.pdf" in chosen.text
    skipped = await client.get(f"/booklets/books/{book}/preview", params={"customer": other})
    assert "left out" in skipped.text

    (remove,) = re.findall(r'action="([^"]+/delete)"', editor)
    assert (await client.post(remove, data={"csrf": csrf})).status_code == 303
    assert "No rules yet." in (await client.get(page_path)).text


async def test_customers_values_per_period_and_a_csv_import(
    client: httpx.AsyncClient, anna: Account
) -> None:
    csrf = await signed_in(client, anna)
    customer = await new_customer(client, csrf, "Beta AG", "B-7")
    for year, quarter, value in (("", "", "base"), ("2026", "", "y"), ("2026", "2", "q")):
        done = await client.post(
            f"/booklets/customers/{customer}/attributes",
            data={"csrf": csrf, "key": "tier", "value": value, "year": year, "quarter": quarter},
        )
        assert done.status_code == 303
    page = (await client.get(f"/booklets/customers/{customer}")).text
    for caption in ("Undated", "2026", "2026 Q2"):
        assert f"<caption>{caption}</caption>" in page
    bad = await client.post(
        f"/booklets/customers/{customer}/attributes",
        data={"csrf": csrf, "key": "tier", "value": "x", "year": "", "quarter": "3"},
    )
    assert bad.status_code == 422
    assert "a quarter needs a year" in bad.text

    csv = (
        "name,external_ref,key,value,year\nBeta AG,B-7,region,North,\nGamma,G-1,region,South,2026\n"
    )
    imported = await client.post(
        "/booklets/customers/import",
        data={"csrf": csrf},
        files={"file": ("customers.csv", csv.encode(), "text/csv")},
    )
    assert imported.status_code == 200
    assert "1 customers added, 1 updated, 2 values set" in imported.text
    assert "Gamma" in imported.text
    broken = await client.post(
        "/booklets/customers/import",
        data={"csrf": csrf},
        files={"file": ("c.csv", b"name,key,value,year\nX,k,v,soon\n", "text/csv")},
    )
    assert broken.status_code == 422
    assert "line 2, year" in broken.text
    found = await client.get("/booklets/customers", params={"q": "gam"})
    assert "Gamma" in found.text
    assert "Beta AG" not in found.text


async def test_a_batch_for_every_customer_shows_its_progress_and_a_zip(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    csrf = await signed_in(client, anna)
    book = await new_book(client, csrf)
    await add_page(client, csrf, book, "Cover", "static", ("cover.pdf", make_pdf("COVER")))
    for name in ("One", "Two"):
        await new_customer(client, csrf, name)

    started = await client.post(
        f"/booklets/books/{book}/generate", data={"csrf": csrf, "year": "2026", "quarter": "1"}
    )
    batch_path = started.headers["location"]
    assert batch_path.startswith("/booklets/batches/")
    panel = (await client.get(batch_path + "/panel")).text
    assert "0 of 2 finished" in panel
    assert "data-final" not in panel
    for _ in range(2):
        assert await run_next(db, runner) == JobStatus.succeeded
    panel = (await client.get(batch_path + "/panel")).text
    assert "2 of 2 finished" in panel
    assert "data-final" in panel
    (archive,) = links(panel, r'href="([^"]+)" download>Download all')
    assert (await client.get(archive)).content[:2] == b"PK"


async def test_a_member_generates_but_cannot_change_books(
    client: httpx.AsyncClient, anna: Account, bob: Account, db: Database
) -> None:
    csrf = await signed_in(client, anna)
    book = await new_book(client, csrf)
    await add_page(client, csrf, book, "Cover", "static", ("cover.pdf", make_pdf("COVER")))
    await add_member(db, anna.personal_workspace_id, bob.email)
    client.cookies.clear()
    csrf = await signed_in(client, bob)
    await client.post("/workspace", data={"csrf": csrf, "workspace": anna.personal_workspace_id})

    page = (await client.get(f"/booklets/books/{book}")).text
    assert "Add a page" not in page
    assert "Make booklets" in page
    refused = await add_page(client, csrf, book, "Sneaky", "static", ("s.pdf", make_pdf("S")))
    assert refused.status_code == 422
    assert "Your role in this workspace does not allow" in refused.text
    made = await client.post("/booklets/books", data={"csrf": csrf, "name": "X"})
    assert made.status_code == 422


async def test_another_workspaces_book_is_not_found_and_forms_need_the_token(
    client: httpx.AsyncClient, anna: Account, bob: Account
) -> None:
    csrf = await signed_in(client, anna)
    book = await new_book(client, csrf)
    assert (await client.post("/booklets/books", data={"name": "No token"})).status_code == 403
    client.cookies.clear()
    await signed_in(client, bob)
    missing = await client.get(f"/booklets/books/{book}")
    assert missing.status_code == 404
    assert "No such book" in missing.text
    assert book not in (await client.get("/booklets")).text
    assert csrf_of((await client.get("/booklets")).text) != csrf
