"""Bad input through the booklets API: every file a user can upload that the engines cannot or must
not use is a clear 4xx problem when the page is saved, with nothing stored; what only generation
can find fails the job naming the page, with no booklet stored. Files that are merely risky
(scripts, embedded files, owner-password restrictions) are accepted and made harmless, and text
from customers is shown as text, never run as a template or markup."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import httpx
import pdfplumber
import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, String
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from paperworks.jobs.models import JobStatus
from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database
from tests.accounts import Account
from tests.booklets.conftest import API, form, make_pdf, make_xlsx, upload
from tests.files import samples
from tests.job_runs import run_next
from tests.problems import assert_problem

FORM = "pypdf-pdflatex-forms.pdf"  # fields Name (text), Check (checkbox), Submit (button)


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


def edited(data: bytes, change: Callable[[pikepdf.Pdf], None], **save: Any) -> bytes:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        change(pdf)
        buffer = io.BytesIO()
        pdf.save(buffer, **save)
        return buffer.getvalue()


def encrypted(data: bytes, *, user: str) -> bytes:
    """`data` with an owner password and, unless `user` is empty, a password to open it."""
    restricted = pikepdf.Permissions(extract=False, modify_form=False, modify_other=False)
    return edited(
        data,
        lambda pdf: None,
        encryption=pikepdf.Encryption(owner="o", user=user, allow=restricted),
    )


def without_pages() -> bytes:
    buffer = io.BytesIO()
    with pikepdf.new() as pdf:
        pdf.save(buffer)
    return buffer.getvalue()


def with_page_tree_loop(pdf: pikepdf.Pdf) -> None:
    pdf.Root.Pages.Kids.append(pdf.Root.Pages)


async def new_book(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    book_id: str = (await post(client, headers, "/books", {"name": "Book"}))["id"]
    return book_id


async def pages_of(client: httpx.AsyncClient, headers: dict[str, str], book_id: str) -> Any:
    return await get(client, headers, f"/books/{book_id}/pages")


async def booklet_files(client: httpx.AsyncClient, headers: dict[str, str]) -> Any:
    return (await get(client, headers, "/files", purpose="booklet"))["items"]


async def generate(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    db: Database,
    runner: LocalRunner,
    book_id: str,
    body: dict[str, Any],
) -> tuple[JobStatus, dict[str, Any]]:
    accepted = await post(client, headers, f"/books/{book_id}/generate", body)
    status = await run_next(db, runner)
    return status, await get(client, headers, f"/booklets/{accepted['bookletId']}")


async def download(client: httpx.AsyncClient, booklet: dict[str, Any]) -> bytes:
    assert booklet["status"] == "succeeded", booklet
    response = await client.get(booklet["downloadUrl"])
    assert response.status_code == 200
    return response.content


async def assert_failed_naming_the_page(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    status: JobStatus,
    booklet: dict[str, Any],
    title: str,
    code: str,
) -> str:
    """The job failed with `code`, its error and the booklet's name the page; no booklet file
    was stored."""
    assert status == JobStatus.failed
    assert booklet["status"] == "failed"
    assert booklet["fileId"] is None
    assert booklet["downloadUrl"] is None
    error: str = booklet["error"]
    assert f"'{title}'" in error
    job = await get(client, headers, f"/jobs/{booklet['jobId']}")
    assert job["error"] == {"code": code, "message": error}
    assert await booklet_files(client, headers) == []
    return error


# --- corrupt and truncated PDFs ----------------------------------------------------------------


CORRUPT_PDFS = {
    "truncated": make_pdf("Hello", "World")[:300],
    "cut in half": form(FORM)[: len(form(FORM)) // 2],
    "only a header": b"%PDF-1.7\n",
    "no pages": without_pages(),
    "a page tree that loops": edited(make_pdf("a", "b"), with_page_tree_loop),
}


@pytest.mark.parametrize("data", CORRUPT_PDFS.values(), ids=CORRUPT_PDFS.keys())
async def test_a_corrupt_pdf_is_refused_for_every_kind_of_page(
    client: httpx.AsyncClient, anna: Account, data: bytes
) -> None:
    headers = anna.headers
    book_id = await new_book(client, headers)
    file_id = await upload(client, headers, "broken.pdf", data)
    attempts = [
        {"type": "static", "title": "Static", "fileId": file_id},
        {
            "type": "pdf_form",
            "title": "Form",
            "fileId": file_id,
            "config": {"fields": {"Name": "{{ customer.name }}"}},
        },
        {"type": "choosable", "title": "Offer", "config": {"defaultFileId": file_id}},
    ]
    for body in attempts:
        response = await client.post(f"{API}/books/{book_id}/pages", json=body, headers=headers)
        problem = assert_problem(response, 422, "booklets.corrupt_pdf")
        assert "PDF" in problem["detail"]
        assert "BytesIO" not in problem["detail"]  # qpdf's stream name is no help to anyone
        assert " at 0x" not in problem["detail"]
    assert await pages_of(client, headers, book_id) == []

    fields = await client.get(f"{API}/files/{file_id}/form-fields", headers=headers)
    assert_problem(fields, 422, "booklets.corrupt_pdf")


async def test_a_page_cannot_be_changed_to_a_corrupt_pdf(
    client: httpx.AsyncClient, anna: Account
) -> None:
    headers = anna.headers
    book_id = await new_book(client, headers)
    good = await upload(client, headers, "good.pdf", make_pdf("Good"))
    broken = await upload(client, headers, "broken.pdf", CORRUPT_PDFS["truncated"])
    page = await post(
        client,
        headers,
        f"/books/{book_id}/pages",
        {"type": "static", "title": "Cover", "fileId": good},
    )
    response = await client.put(
        f"{API}/books/{book_id}/pages/{page['id']}", json={"fileId": broken}, headers=headers
    )
    assert_problem(response, 422, "booklets.corrupt_pdf")
    assert [p["fileId"] for p in await pages_of(client, headers, book_id)] == [good]


# --- encrypted PDFs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [encrypted(make_pdf("Secret"), user="u"), encrypted(form(FORM), user="u")],
    ids=["page", "form"],
)
async def test_a_pdf_that_needs_a_password_to_open_is_refused(
    client: httpx.AsyncClient, anna: Account, data: bytes
) -> None:
    headers = anna.headers
    book_id = await new_book(client, headers)
    file_id = await upload(client, headers, "locked.pdf", data)
    attempts = [
        {"type": "static", "title": "Static", "fileId": file_id},
        {
            "type": "pdf_form",
            "title": "Form",
            "fileId": file_id,
            "config": {"fields": {"Name": "{{ customer.name }}"}},
        },
        {"type": "choosable", "title": "Offer", "config": {"defaultFileId": file_id}},
    ]
    for body in attempts:
        response = await client.post(f"{API}/books/{book_id}/pages", json=body, headers=headers)
        problem = assert_problem(response, 422, "booklets.encrypted_pdf")
        assert "password" in problem["detail"]
    assert await pages_of(client, headers, book_id) == []
    fields = await client.get(f"{API}/files/{file_id}/form-fields", headers=headers)
    assert_problem(fields, 422, "booklets.encrypted_pdf")


async def test_a_pdf_with_only_an_owner_password_is_opened_and_used(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    headers = anna.headers
    restricted_cover = encrypted(make_pdf("Restricted cover"), user="")
    with pikepdf.open(io.BytesIO(restricted_cover)) as source:
        assert source.is_encrypted
        assert not source.allow.extract
    book_id = await new_book(client, headers)
    cover = await upload(client, headers, "cover.pdf", restricted_cover)
    the_form = await upload(client, headers, "form.pdf", encrypted(form(FORM), user=""))
    fields = await get(client, headers, f"/files/{the_form}/form-fields")
    assert "Name" in [field["name"] for field in fields]
    path = f"/books/{book_id}/pages"
    await post(client, headers, path, {"type": "static", "title": "Cover", "fileId": cover})
    await post(
        client,
        headers,
        path,
        {
            "type": "pdf_form",
            "title": "Details",
            "fileId": the_form,
            "config": {"fields": {"Name": "{{ customer.name }}"}},
        },
    )
    customer = await post(client, headers, "/customers", {"name": "Acme"})

    status, booklet = await generate(
        client, headers, db, runner, book_id, {"customerId": customer["id"]}
    )
    assert status == JobStatus.succeeded
    pdf = await download(client, booklet)
    texts = pdf_texts(pdf)
    assert "Restricted cover" in texts[0]
    assert "Acme" in texts[1]
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert not document.is_encrypted  # the restrictions are not carried into the booklet


# --- scripts and embedded files ----------------------------------------------------------------


def _script(code: str) -> Dictionary:
    return Dictionary(S=Name.JavaScript, JS=String(code))


def _arm(pdf: pikepdf.Pdf) -> None:
    """Every place a viewer runs a script from or offers a file to open, filled."""
    root = pdf.Root
    first = pdf.pages[0]
    # Open the document at its first page, then run a script.
    root.OpenAction = Dictionary(
        S=Name.GoTo, D=Array([first.obj, Name.Fit]), Next=_script("app.alert('open')")
    )
    root.AA = Dictionary(WC=_script("app.alert('close')"), DP=_script("app.alert('print')"))
    scripts = pikepdf.NameTree.new(pdf)
    scripts["startup"] = pdf.make_indirect(_script("app.launchURL('https://evil.example')"))
    names = root.get("/Names")
    if not isinstance(names, Dictionary):
        names = root.Names = Dictionary()
    names.JavaScript = scripts.obj
    pdf.attachments["payload.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ not a program")
    for page in pdf.pages:
        page.obj.AA = Dictionary(O=_script("app.alert('page')"))
        annots = page.obj.get("/Annots")
        annots = Array(list(annots)) if isinstance(annots, Array) else Array()
        for annot in annots:
            if annot.get("/Subtype") == Name.Widget:
                annot.AA = Dictionary(E=_script("app.alert('enter')"))
        attached = pikepdf.AttachedFileSpec(pdf, b"attached", filename="note.txt")
        annots.append(
            pdf.make_indirect(
                Dictionary(
                    Type=Name.Annot,
                    Subtype=Name.FileAttachment,
                    Rect=Array([10, 10, 30, 30]),
                    FS=attached.obj,
                    Contents=String("open me"),
                )
            )
        )
        link = Dictionary(
            S=Name.URI, URI=String("https://example.com"), Next=_script("app.alert('link')")
        )
        annots.append(
            pdf.make_indirect(
                Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=Array([40, 10, 90, 30]), A=link)
            )
        )
        page.obj.Annots = annots
    acroform = root.get("/AcroForm")
    if isinstance(acroform, Dictionary):
        for field in acroform.Fields:
            field.AA = Dictionary(
                K=_script("app.alert('keystroke')"), C=_script("event.value = 'computed'")
            )
        acroform.CO = Array([acroform.Fields[0]])


def _active_content(data: bytes) -> list[str]:
    """What in the PDF could run a script or hand over an embedded file, by where it is."""
    found = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for key in ("/OpenAction", "/AA"):
            if key in pdf.Root:
                found.append(f"catalog {key}")
        names = pdf.Root.get("/Names")
        if isinstance(names, Dictionary):
            found += [f"names {key}" for key in ("/JavaScript", "/EmbeddedFiles") if key in names]
        if len(pdf.attachments):
            found.append("attachments")
        for obj in pdf.objects:
            if not isinstance(obj, Dictionary | pikepdf.Stream):
                continue
            found += [f"object with {key}" for key in ("/JS", "/AA", "/EF", "/AF") if key in obj]
            if obj.get("/S") == Name.JavaScript:
                found.append("JavaScript action")
            if obj.get("/Type") == Name.EmbeddedFile:
                found.append("embedded file stream")
            if obj.get("/Subtype") == Name.FileAttachment:
                found.append("file attachment annotation")
        for page in pdf.pages:
            if "/AA" in page.obj:
                found.append("page /AA")
    return found


async def test_scripts_and_embedded_files_are_not_carried_into_the_booklet(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    headers = anna.headers
    armed_page = edited(make_pdf("Armed page"), _arm)
    armed_form = edited(form(FORM), _arm)
    assert {"catalog /OpenAction", "names /JavaScript", "names /EmbeddedFiles"} <= set(
        _active_content(armed_form)
    )
    assert "object with /AA" in _active_content(armed_form)  # the fields' own scripts
    page_id = await upload(client, headers, "armed.pdf", armed_page)
    form_id = await upload(client, headers, "armed-form.pdf", armed_form)
    book_id = await new_book(client, headers)
    path = f"/books/{book_id}/pages"
    await post(client, headers, path, {"type": "static", "title": "Static", "fileId": page_id})
    for title, flatten in (("Flattened", True), ("Live", False)):
        await post(
            client,
            headers,
            path,
            {
                "type": "pdf_form",
                "title": title,
                "fileId": form_id,
                "config": {"fields": {"Name": "{{ customer.name }}"}, "flatten": flatten},
            },
        )
    await post(client, headers, path, {"type": "choosable", "title": "Offer", "config": {}})
    offer = (await pages_of(client, headers, book_id))[-1]
    await post(
        client,
        headers,
        f"{path}/{offer['id']}/conditions",
        {"attributeKey": "tier", "operator": "exists", "targetFileId": page_id},
    )
    customer = await post(client, headers, "/customers", {"name": "Acme"})
    await post(
        client, headers, f"/customers/{customer['id']}/attributes", {"key": "tier", "value": "gold"}
    )

    status, booklet = await generate(
        client, headers, db, runner, book_id, {"customerId": customer["id"]}
    )
    assert status == JobStatus.succeeded
    pdf = await download(client, booklet)
    assert _active_content(pdf) == []
    texts = pdf_texts(pdf)
    assert len(texts) == 4
    assert "Armed page" in texts[0]
    assert "Armed page" in texts[3]
    assert "Acme" in texts[1]
    with pikepdf.open(io.BytesIO(pdf)) as document:
        # The live copy of the form stays a form, its fields renamed below the part.
        acroform = document.Root.AcroForm
        assert "/CO" not in acroform
        assert "/XFA" not in acroform
        links = [
            annot
            for page in document.pages
            for annot in page.obj.get("/Annots", Array())
            if annot.get("/Subtype") == Name.Link
        ]
        # The links stay where they were, inert: their chained scripts made the actions unsafe.
        assert links
        assert all("/A" not in link for link in links)


# --- workbooks that are zip bombs or no workbooks at all ---------------------------------------


def _zip(members: dict[str, bytes], *, base: bytes | None = None) -> bytes:
    """A zip of `members`, after the members of the zip `base` when given."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if base is not None:
            with zipfile.ZipFile(io.BytesIO(base)) as source:
                for info in source.infolist():
                    if info.filename not in members:
                        archive.writestr(info, source.read(info))
        for name, body in members.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def _damaged_member(data: bytes, member: str) -> bytes:
    """The zip with bytes of `member`'s compressed data scrambled (its directory intact)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    damaged = bytearray(data)
    for index in range(start + 2, start + min(info.compress_size, 40)):
        damaged[index] ^= 0x55
    return bytes(damaged)


def _encrypted_member(data: bytes, member: str) -> bytes:
    """The zip with `member` flagged as encrypted (as `zip -e` leaves it), in its local header
    and in its entry in the central directory, which comes after every part's data."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        local = archive.getinfo(member).header_offset
    central = data.index(member.encode(), data.index(b"PK\x01\x02")) - 46
    flagged = bytearray(data)
    for flags in (local + 6, central + 8):
        flagged[flags] |= 1
    return bytes(flagged)


NUMBERS = make_xlsx({"Data": [["Region", "Sales"], ["North", 1200]]})
# What an Office package declares its main part to be; a workbook's, unless it is a workbook.
_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'content-types"><Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.spreadsheetml.sheet.main+xml"/></Types>'
)


@cache
def zip_bombs() -> dict[str, bytes]:
    return {
        # 50 MB of one byte, about 50 KB packed: a ratio no spreadsheet has.
        "one member expands 1000 times": _zip(
            {"xl/media/image1.png": bytes(50 * 1024 * 1024)}, base=NUMBERS
        ),
        # 120 MB in all: past the limit of what a workbook may unpack to.
        "too large unpacked": _zip({"xl/media/image1.png": bytes(120 * 1024 * 1024)}, base=NUMBERS),
        "too many parts": _zip({f"xl/media/part{n}.xml": b"" for n in range(10_001)}, base=NUMBERS),
    }


@pytest.mark.parametrize(
    "name", ["one member expands 1000 times", "too large unpacked", "too many parts"]
)
async def test_a_workbook_that_is_a_zip_bomb_is_refused_when_the_page_is_saved(
    client: httpx.AsyncClient, anna: Account, name: str
) -> None:
    headers = anna.headers
    book_id = await new_book(client, headers)
    file_id = await upload(client, headers, "numbers.xlsx", zip_bombs()[name])
    response = await client.post(
        f"{API}/books/{book_id}/pages",
        json={"type": "excel", "title": "Numbers", "fileId": file_id, "config": {"sheet": "Data"}},
        headers=headers,
    )
    problem = assert_problem(response, 422, "booklets.bad_workbook")
    assert "workbook" in problem["detail"]
    assert await pages_of(client, headers, book_id) == []


async def test_a_zip_bomb_given_at_generation_is_refused_naming_the_page(
    client: httpx.AsyncClient, anna: Account
) -> None:
    headers = anna.headers
    book_id = await new_book(client, headers)
    template = await upload(client, headers, "template.xlsx", NUMBERS)
    await post(
        client,
        headers,
        f"/books/{book_id}/pages",
        {"type": "excel", "title": "Numbers", "fileId": template, "config": {"sheet": "Data"}},
    )
    bomb = await upload(client, headers, "q1.xlsx", zip_bombs()["one member expands 1000 times"])
    customer = await post(client, headers, "/customers", {"name": "Acme"})

    response = await client.post(
        f"{API}/books/{book_id}/generate",
        json={"customerId": customer["id"], "spreadsheetFileId": bomb},
        headers=headers,
    )
    problem = assert_problem(response, 422, "booklets.bad_workbook")
    assert problem["detail"].startswith("Page 1 'Numbers': ")
    assert "too large when unpacked" in problem["detail"]
    assert (await get(client, headers, "/booklets"))["items"] == []


async def test_a_workbook_whose_xml_expands_entities_is_refused_when_the_page_is_saved(
    client: httpx.AsyncClient, anna: Account
) -> None:
    """A billion laughs: the sheet's XML is refused as it is read, before anything expands."""
    headers = anna.headers
    book_id = await new_book(client, headers)
    file_id = await upload(client, headers, "numbers.xlsx", samples.xlsx_with_billion_laughs())
    response = await client.post(
        f"{API}/books/{book_id}/pages",
        json={"type": "excel", "title": "Numbers", "fileId": file_id, "config": {"sheet": "Data"}},
        headers=headers,
    )
    problem = assert_problem(response, 422, "booklets.bad_workbook")
    assert "declares entities" in problem["detail"]
    assert await pages_of(client, headers, book_id) == []


@pytest.mark.parametrize(
    ("filename", "data", "code"),
    [
        ("numbers.xlsx", b"Region,Sales\nNorth,1200\n", "file.extension_mismatch"),
        ("numbers.xlsx", _zip({"data.csv": b"Region,Sales\n"}), "file.extension_mismatch"),
        ("numbers.xlsx", NUMBERS[: len(NUMBERS) - 40], "file.unsupported_type"),
    ],
    ids=["plain text", "a zip of other files", "a truncated workbook"],
)
async def test_a_file_that_is_not_a_workbook_is_refused_when_uploaded(
    client: httpx.AsyncClient, anna: Account, filename: str, data: bytes, code: str
) -> None:
    """Sniffing reads the bytes, not the name: these never become files an excel page can use."""
    response = await client.post(
        f"{API}/files",
        files={"file": (filename, data, "application/octet-stream")},
        data={"purpose": "document"},
        headers=anna.headers,
    )
    assert_problem(response, 415, code)
    assert (await get(client, anna.headers, "/files"))["items"] == []


NOT_WORKBOOKS = {
    # An Office package with a spreadsheet folder but no workbook declared.
    "no workbook declared": (
        "numbers.xlsx",
        _zip({"[Content_Types].xml": b"<Types/>", "xl/sheet.xml": b"<x/>"}),
        "booklets.bad_workbook",
    ),
    # A workbook declared, but not there.
    "workbook missing": (
        "numbers.xlsx",
        _zip({"[Content_Types].xml": _TYPES, "xl/sheet.xml": b"<x/>"}),
        "booklets.bad_workbook",
    ),
    "workbook not xml": (
        "numbers.xlsx",
        _zip({"[Content_Types].xml": _TYPES, "xl/workbook.xml": b"Region,Sales"}),
        "booklets.bad_workbook",
    ),
    "content types damaged": (
        "numbers.xlsx",
        _damaged_member(NUMBERS, "[Content_Types].xml"),
        "booklets.bad_workbook",
    ),
    "content types encrypted": (
        "numbers.xlsx",
        _encrypted_member(NUMBERS, "[Content_Types].xml"),
        "booklets.bad_workbook",
    ),
    "workbook damaged": (
        "numbers.xlsx",
        _damaged_member(NUMBERS, "xl/workbook.xml"),
        "booklets.bad_workbook",
    ),
    "plain text": ("numbers.txt", b"Region,Sales\nNorth,1200\n", "booklets.wrong_file_type"),
    "a pdf": ("numbers.pdf", make_pdf("Region Sales"), "booklets.wrong_file_type"),
}


@pytest.mark.parametrize(
    ("filename", "data", "code"), NOT_WORKBOOKS.values(), ids=NOT_WORKBOOKS.keys()
)
async def test_a_file_that_is_not_a_workbook_is_refused_when_the_page_is_saved(
    client: httpx.AsyncClient, anna: Account, filename: str, data: bytes, code: str
) -> None:
    headers = anna.headers
    book_id = await new_book(client, headers)
    file_id = await upload(client, headers, filename, data)
    response = await client.post(
        f"{API}/books/{book_id}/pages",
        json={"type": "excel", "title": "Numbers", "fileId": file_id, "config": {"sheet": "Data"}},
        headers=headers,
    )
    assert_problem(response, 422, code)
    assert await pages_of(client, headers, book_id) == []


async def test_a_workbook_damaged_where_saving_does_not_look_fails_the_job_naming_the_page(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    """Saving a page reads the workbook's sheet list; a damaged part only rendering reads (its
    document properties here) is found by the job, which says so rather than failing blind."""
    headers = anna.headers
    book_id = await new_book(client, headers)
    workbook = make_xlsx({"Data": [["Region", "Sales"], ["North", 1200]], "Notes": [["n"]]})
    file_id = await upload(
        client, headers, "numbers.xlsx", _damaged_member(workbook, "docProps/app.xml")
    )
    await post(
        client,
        headers,
        f"/books/{book_id}/pages",
        {"type": "excel", "title": "Numbers", "fileId": file_id, "config": {"sheet": "Data"}},
    )
    customer = await post(client, headers, "/customers", {"name": "Acme"})
    status, booklet = await generate(
        client, headers, db, runner, book_id, {"customerId": customer["id"]}
    )
    error = await assert_failed_naming_the_page(
        client, headers, status, booklet, "Numbers", "booklets.bad_workbook"
    )
    assert "workbook cannot be read" in error


# --- a sheet too large to print ----------------------------------------------------------------


def _rows(count: int) -> Iterator[bytes]:
    for row in range(1, count + 1):
        yield (
            f'<row r="{row}"><c r="A{row}" t="inlineStr"><is><t>Item {row}</t></is></c>'
            f'<c r="B{row}"><v>{row}</v></c></row>'
        ).encode()


@cache
def sheet_of_rows(count: int) -> bytes:
    """A workbook (openpyxl's own package) whose sheet Data has `count` rows, written directly:
    openpyxl takes seconds to write 100,000 rows."""
    sheet = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + f'<dimension ref="A1:B{count}"/>'.encode()
        + b"<sheetData>"
        + b"".join(_rows(count))
        + b"</sheetData></worksheet>"
    )
    return _zip({"xl/worksheets/sheet1.xml": sheet}, base=make_xlsx({"Data": [["x"]]}))


async def test_a_sheet_of_100000_rows_is_refused_unless_a_range_fits(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    """Checked by streaming through the sheet, when the page is saved and when a workbook is
    given at generation: a job would only fail later."""
    headers = anna.headers
    book_id = await new_book(client, headers)
    ledger = await upload(client, headers, "ledger.xlsx", sheet_of_rows(100_000))
    path = f"{API}/books/{book_id}/pages"
    whole = {"type": "excel", "title": "Ledger", "fileId": ledger, "config": {"sheet": "Data"}}
    problem = assert_problem(
        await client.post(path, json=whole, headers=headers), 422, "booklets.sheet_too_large"
    )
    assert "smaller range" in problem["detail"]
    assert await pages_of(client, headers, book_id) == []

    top = {**whole, "config": {"sheet": "Data", "range": "A1:B40"}}
    await post(client, headers, f"/books/{book_id}/pages", top)
    small = await upload(client, headers, "small.xlsx", make_xlsx({"Data": [["x"]]}))
    await post(
        client,
        headers,
        f"/books/{book_id}/pages",
        {"type": "excel", "title": "All", "fileId": small, "config": {"sheet": "Data"}},
    )
    customer = await post(client, headers, "/customers", {"name": "Acme"})
    refused = await client.post(
        f"{API}/books/{book_id}/generate",
        json={"customerId": customer["id"], "spreadsheetFileId": ledger},
        headers=headers,
    )
    problem = assert_problem(refused, 422, "booklets.sheet_too_large")
    assert problem["detail"].startswith("Page 2 'All': ")

    status, booklet = await generate(
        client, headers, db, runner, book_id, {"customerId": customer["id"]}
    )
    assert status == JobStatus.succeeded
    texts = pdf_texts(await download(client, booklet))
    assert len(texts) == 2
    assert "40" in texts[0].split()


# --- customers' text is text -------------------------------------------------------------------

HOSTILE_TEXT = {
    "name": "{{ 7*7 }} <script>alert(1)</script>",
    "loop": "{% for x in range(3) %}x{% endfor %}",
    "dunder": "{{ ''.__class__.__mro__ }}",
    "markup": "<b>bold</b> & <i>{# comment #}</i>",
    "pdf": "a) Tj ET (b \\ c",
}


def text_form(names: list[str]) -> bytes:
    """A one-page form with a wide text field per name, one below the other."""
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    for index, name in enumerate(names):
        drawing.acroForm.textfield(
            name=name, x=40, y=740 - 40 * index, width=520, height=24, fontSize=10, borderWidth=0
        )
    drawing.showPage()
    drawing.save()
    return buffer.getvalue()


async def test_markup_and_template_syntax_from_customers_is_shown_as_text(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    headers = anna.headers
    keys = [key for key in HOSTILE_TEXT if key != "name"]
    file_id = await upload(client, headers, "form.pdf", text_form(["Name", *keys]))
    book_id = await new_book(client, headers)
    fields = {"Name": "{{ customer.name }}"} | {key: f"{{{{ attr.{key} }}}}" for key in keys}
    await post(
        client,
        headers,
        f"/books/{book_id}/pages",
        {"type": "pdf_form", "title": "Details", "fileId": file_id, "config": {"fields": fields}},
    )
    customer = await post(client, headers, "/customers", {"name": HOSTILE_TEXT["name"]})
    await post(
        client,
        headers,
        f"/customers/{customer['id']}/attributes",
        [{"key": key, "value": HOSTILE_TEXT[key]} for key in keys],
    )

    resolved = await post(
        client, headers, f"/books/{book_id}/resolve", {"customerId": customer["id"]}
    )
    assert resolved["pages"][0]["formValues"] == {
        "Name": HOSTILE_TEXT["name"],
        **{key: HOSTILE_TEXT[key] for key in keys},
    }

    status, booklet = await generate(
        client, headers, db, runner, book_id, {"customerId": customer["id"]}
    )
    assert status == JobStatus.succeeded
    pdf = await download(client, booklet)
    lines = pdf_texts(pdf)[0].splitlines()
    assert lines == list(HOSTILE_TEXT.values())
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert str(document.docinfo["/Title"]) == f"Book — {HOSTILE_TEXT['name']}"


# --- what a rule chooses is checked when it is saved ---------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (CORRUPT_PDFS["truncated"], "booklets.corrupt_pdf"),
        (encrypted(make_pdf("Secret"), user="u"), "booklets.encrypted_pdf"),
    ],
    ids=["corrupt", "encrypted"],
)
async def test_a_rule_choosing_a_pdf_that_cannot_be_opened_is_refused(
    client: httpx.AsyncClient, anna: Account, data: bytes, code: str
) -> None:
    headers = anna.headers
    book_id = await new_book(client, headers)
    page = await post(
        client,
        headers,
        f"/books/{book_id}/pages",
        {"type": "choosable", "title": "Offer", "config": {}},
    )
    target = await upload(client, headers, "offer.pdf", data)
    path = f"{API}/books/{book_id}/pages/{page['id']}/conditions"
    response = await client.post(
        path,
        json={"attributeKey": "tier", "operator": "exists", "targetFileId": target},
        headers=headers,
    )
    assert_problem(response, 422, code)
    assert (await client.get(path, headers=headers)).json() == []


# --- ids and configs that are not the page's ---------------------------------------------------


async def test_a_choosable_page_keeps_no_file_id_that_is_not_a_file_of_the_workspace(
    client: httpx.AsyncClient, anna: Account
) -> None:
    """Was a 500: the id reached the database's foreign key unchecked."""
    book_id = await new_book(client, anna.headers)
    not_a_file = anna.personal_workspace_id
    response = await client.post(
        f"{API}/books/{book_id}/pages",
        json={"type": "choosable", "title": "Offer", "fileId": not_a_file},
        headers=anna.headers,
    )
    assert_problem(response, 422, "booklets.unknown_file")
    assert await pages_of(client, anna.headers, book_id) == []

    page = await post(
        client, anna.headers, f"/books/{book_id}/pages", {"type": "choosable", "title": "Offer"}
    )
    response = await client.put(
        f"{API}/books/{book_id}/pages/{page['id']}",
        json={"fileId": not_a_file},
        headers=anna.headers,
    )
    assert_problem(response, 422, "booklets.unknown_file")
    assert (await pages_of(client, anna.headers, book_id))[0]["fileId"] is None


async def test_a_config_sent_without_a_type_is_checked_against_the_page_s_type(
    client: httpx.AsyncClient, anna: Account
) -> None:
    """Was saved unchecked, and the page's next change was a 500 reading it back."""
    book_id = await new_book(client, anna.headers)
    page = await post(
        client, anna.headers, f"/books/{book_id}/pages", {"type": "choosable", "title": "Offer"}
    )
    path = f"{API}/books/{book_id}/pages/{page['id']}"

    response = await client.put(path, json={"config": {"sheet": "Data"}}, headers=anna.headers)
    body = assert_problem(response, 422, "request.validation_failed")
    assert "config.sheet" in body["detail"]

    response = await client.put(path, json={"config": {"flatten": False}}, headers=anna.headers)
    assert response.status_code == 200, response.text
    assert response.json()["config"] == {"fields": {}, "flatten": False}
    response = await client.put(path, json={"title": "Our offer"}, headers=anna.headers)
    assert response.status_code == 200, response.text
