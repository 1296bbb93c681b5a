"""Booklets: what making booklets costs, against the libraries and tools underneath.

Every figure is the median of several repeats after a warm-up, printed as a ratio to an anchor
measured in the same run.

(a) Making `--booklets` booklets (default 100), each: 2 static pages, 1 real form
    (`tests/booklets/forms/`, every fillable field filled, then flattened) and 1 page chosen by
    the customer's tier. Ours: the job's engines as the job calls them (`fill_form`, then
    `assemble` of titled `Part`s), bytes in, bytes out. Anchor: the same work done directly with
    pikepdf (qpdf's appearance generation and flattening, pages copied, a bookmark per part,
    a title), then the same with pypdf. Each contender's first booklet is checked first (4 pages,
    the customer's name on the form's page, no live form). Goal: ours at most 2x pikepdf.
(b) Merging 1,000 pages (`--parts` PDFs of `--pages` pages) with `assemble`, against the anchor
    `qpdf --empty --pages a.pdf b.pdf ... -- out.pdf` (Debian's qpdf, a subprocess on files),
    pikepdf copying the bare pages, and pypdf's `append` plus a bookmark per part. Goal: at most
    2x qpdf. Without qpdf on the PATH, `assemble` is the anchor.
(c) An Excel tab of `--rows` rows (default 1,000; header, dates, numbers with formats, fit to
    width, title row repeated), rendered by `render_sheet` (openpyxl + ReportLab), against the
    anchor `soffice --headless --convert-to pdf` of the same workbook (a profile kept warm), and
    our LibreOffice engine `render_sheet_with_libreoffice` (a fresh profile per call, as in a job).
    Without LibreOffice on the PATH, the LibreOffice lines are skipped and `render_sheet` is alone.
(d) A batch of `--booklets` customers through the real app in-process (SQLite in a temporary
    directory, the local job runner with its default slots, API calls over ASGI): from
    `POST /books/{id}/generate-batch` until `GET /booklet-batches/{id}` shows every booklet made
    and its ZIP, polling every POLL_SECONDS. Anchor: the pure pikepdf work of (a) for as many
    booklets, from this run; our engines' own time from (a) is shown beside it.

Run: .venv/bin/python bench/booklets.py [--quick] [--sections abcd] [--rounds N] [--booklets N]
     [--form NAME] [--parts P] [--pages M] [--rows R] [--sheet-rounds N] [--batch-rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pikepdf
import pypdf
from asgi_lifespan import LifespanManager
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.properties import PageSetupProperties
from pikepdf.form import CheckboxField, ChoiceField, Form, RadioButtonGroup, TextField
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from paperworks import migrations
from paperworks.app import create_app
from paperworks.booklets.excel_render import render_sheet, render_sheet_with_libreoffice
from paperworks.booklets.pdf_assembly import Part, assemble
from paperworks.booklets.pdf_forms import FormField, fill_form, read_fields
from paperworks.settings import Settings
from support import report

FORMS = Path(__file__).resolve().parent.parent / "tests" / "booklets" / "forms"
API = "/api/v1"
TITLES = ("Cover", "Introduction", "Details", "Offer")
SHEET = "Sales"
# How often (d) asks for the batch, as a page showing its progress would. The answer holds every
# booklet with its link, so asking costs the runner's event loop: at 1 s the batch ends sooner.
POLL_SECONDS = 0.2

Work = Callable[[], object]


def measure(rounds: int, contenders: list[tuple[str, Work]]) -> list[tuple[str, list[float]]]:
    """Milliseconds per call of each contender, `rounds` times, after one warm-up call each
    (imports, fonts, caches). The contenders take turns in every round, so a busy spell of the
    machine slows them all rather than one."""
    for _, work in contenders:
        work()
    samples: list[list[float]] = [[] for _ in contenders]
    for _ in range(rounds):
        for (_, work), times in zip(contenders, samples, strict=True):
            started = time.perf_counter()
            work()
            times.append((time.perf_counter() - started) * 1000)
    return [(name, times) for (name, _), times in zip(contenders, samples, strict=True)]


def make_pdf(heading: str, pages: int = 1) -> bytes:
    """A ReportLab PDF of `pages` pages, each a heading and 30 lines of text."""
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    for page in range(1, pages + 1):
        drawing.setFont("Helvetica", 18)
        drawing.drawString(72, 760, f"{heading}, page {page}")
        drawing.setFont("Helvetica", 11)
        for line in range(30):
            drawing.drawString(72, 720 - 20 * line, f"Line {line}: lorem ipsum dolor sit amet.")
        drawing.showPage()
    drawing.save()
    return buffer.getvalue()


# --- (a) one booklet: 2 static pages, a filled and flattened form, a chosen page ----------------


@dataclass(frozen=True)
class Customer:
    number: int

    @property
    def name(self) -> str:
        return f"Acme {self.number} GmbH"

    @property
    def tier(self) -> str:
        return "gold" if self.number % 3 == 0 else "silver"


@dataclass(frozen=True)
class Inputs:
    cover: bytes
    intro: bytes
    form: bytes
    fields: list[FormField]
    gold: bytes
    standard: bytes

    def offer(self, customer: Customer) -> bytes:
        """The choosable page: the condition itself is trivial."""
        return self.gold if customer.tier == "gold" else self.standard

    def values(self, customer: Customer) -> dict[str, str]:
        """Every fillable field: text gets the customer's name, a checkbox is ticked, a radio
        group or a choice gets an option picked by the customer."""
        values = {}
        for field in self.fields:
            if field.type == "text":
                values[field.name] = customer.name
            elif field.type == "checkbox":
                values[field.name] = field.options[0] if field.options else "true"
            elif field.type in ("radio", "choice") and field.options:
                values[field.name] = field.options[customer.number % len(field.options)]
        return values


Maker = Callable[[Inputs, Customer], bytes]


def booklet_inputs(form_name: str) -> Inputs:
    form = (FORMS / form_name).read_bytes()
    return Inputs(
        cover=make_pdf("Cover"),
        intro=make_pdf("Introduction"),
        form=form,
        fields=read_fields(form),
        gold=make_pdf("Gold offer"),
        standard=make_pdf("Standard offer"),
    )


def ours(inputs: Inputs, customer: Customer) -> bytes:
    """As the `booklets.generate` job makes a booklet: each page's bytes, then `assemble`."""
    return assembled(inputs, customer, fill_form(inputs.form, inputs.values(customer)))


def assembled(inputs: Inputs, customer: Customer, filled: bytes) -> bytes:
    """The job's last step: the pages, the form already filled, merged by `assemble`."""
    pages = (inputs.cover, inputs.intro, filled, inputs.offer(customer))
    return assemble(
        [Part(title, pdf) for title, pdf in zip(TITLES, pages, strict=True)],
        title=f"Quarterly — {customer.name}",
        subject=customer.name,
        creation_date=datetime(2026, 1, 1, tzinfo=UTC),
    )


def with_pikepdf(inputs: Inputs, customer: Customer) -> bytes:
    """The same booklet with pikepdf alone: the form filled, qpdf's appearances generated and
    the annotations flattened in place, then the pages copied, one bookmark each, a title."""
    values = inputs.values(customer)
    with pikepdf.open(io.BytesIO(inputs.form)) as form, pikepdf.new() as out:
        for name, field in Form(form).items():
            if name not in values:
                continue
            if isinstance(field, TextField | ChoiceField):
                field.value = values[name]
            elif isinstance(field, CheckboxField):
                field.checked = True
            elif isinstance(field, RadioButtonGroup):
                field.value = pikepdf.Name(f"/{values[name]}")
        form.generate_appearance_streams()
        form.flatten_annotations("all")
        others = [pikepdf.open(io.BytesIO(data)) for data in (inputs.cover, inputs.intro)]
        offer = pikepdf.open(io.BytesIO(inputs.offer(customer)))
        for source in (*others, form, offer):
            out.pages.extend(source.pages)
        with out.open_outline() as outline:
            outline.root.extend(pikepdf.OutlineItem(title, n) for n, title in enumerate(TITLES))
        out.docinfo["/Title"] = f"Quarterly — {customer.name}"
        buffer = io.BytesIO()
        out.save(buffer)
        for source in (*others, offer):
            source.close()
    return buffer.getvalue()


def with_pypdf(inputs: Inputs, customer: Customer) -> bytes:
    """The same booklet with pypdf alone: parts appended with a bookmark each, the form's page
    filled and its appearances drawn into the page, the widgets and the form removed."""
    values = inputs.values(customer)
    button = {field.name for field in inputs.fields if field.type in ("checkbox", "radio")}
    writer = pypdf.PdfWriter()
    writer.append(io.BytesIO(inputs.cover), outline_item=TITLES[0])
    writer.append(io.BytesIO(inputs.intro), outline_item=TITLES[1])
    start = len(writer.pages)
    writer.append(io.BytesIO(inputs.form), outline_item=TITLES[2])
    writer.update_page_form_field_values(
        list(writer.pages[start:]),
        {name: f"/{value}" if name in button else value for name, value in values.items()},
        auto_regenerate=False,
        flatten=True,
    )
    writer.remove_annotations(subtypes="/Widget")
    del writer.root_object["/AcroForm"]
    writer.append(io.BytesIO(inputs.offer(customer)), outline_item=TITLES[3])
    writer.add_metadata({"/Title": f"Quarterly — {customer.name}"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def for_all(make: Maker, inputs: Inputs, customers: list[Customer]) -> Work:
    """One sample of (a): `make` a booklet for every customer."""
    return lambda: [make(inputs, customer) for customer in customers]


def check_booklet(name: str, pdf: bytes, inputs: Inputs, customer: Customer) -> None:
    """Each contender makes the same booklet: 4 pages, the form filled, no live form left."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == len(TITLES), f"{name}: {len(reader.pages)} pages"
    if any(field.type == "text" for field in inputs.fields):
        assert customer.name in reader.pages[2].extract_text(), f"{name}: the form is not filled"
    assert "/AcroForm" not in reader.root_object, f"{name}: a live form is left"


def booklets_section(args: argparse.Namespace) -> dict[str, float]:
    """(a); returns the medians in ms of pikepdf's and ours, which (d) shows beside its own."""
    inputs = booklet_inputs(args.form)
    customers = [Customer(n) for n in range(1, args.booklets + 1)]
    fillable = sum(1 for field in inputs.fields if field.type not in ("button", "signature"))
    contenders: list[tuple[str, Maker]] = [
        ("anchor: pikepdf directly", with_pikepdf),
        ("ours: fill_form + assemble", ours),
        ("pypdf directly", with_pypdf),
    ]
    for name, make in contenders:
        check_booklet(name, make(inputs, customers[0]), inputs, customers[0])
    # Where our time goes: filling the forms, then assembling booklets of filled forms.
    filled = [fill_form(inputs.form, inputs.values(c)) for c in customers]

    def forms_only() -> object:
        return [fill_form(inputs.form, inputs.values(c)) for c in customers]

    def assembly_only() -> object:
        return [assembled(inputs, c, form) for c, form in zip(customers, filled, strict=True)]

    rows = measure(
        args.rounds,
        [(name, for_all(make, inputs, customers)) for name, make in contenders]
        + [
            ("  ours, of which fill_form", forms_only),
            ("  ours, of which assemble", assembly_only),
        ],
    )
    report(
        f"(a) {args.booklets} booklets: 2 static pages + {args.form} ({fillable} fields filled, "
        "flattened) + 1 chosen page; ms for all",
        rows,
        anchor=0,
    )
    print("per booklet, and one booklet's size")
    for (name, samples), (_, make) in zip(rows, contenders, strict=False):
        size = len(make(inputs, customers[0]))
        per_booklet = statistics.median(samples) / args.booklets
        print(f"{name:<44}{per_booklet:>9.1f} ms{size / 1024:>9.0f} KiB")
    verdict(rows, 1, "ours", "pikepdf")
    return {"pikepdf": statistics.median(rows[0][1]), "ours": statistics.median(rows[1][1])}


def verdict(rows: list[tuple[str, list[float]]], ours_row: int, what: str, anchor: str) -> None:
    ratio = statistics.median(rows[ours_row][1]) / statistics.median(rows[0][1])
    print(f"{what} / {anchor}: {ratio:.2f}x ({'PASS' if ratio <= 2 else 'ABOVE'}: goal <= 2x)")


# --- (b) merging 1,000 pages ----------------------------------------------------------------------


def merge_with_assemble(parts: list[bytes]) -> bytes:
    return assemble(
        [Part(f"Part {n}", data) for n, data in enumerate(parts, start=1)],
        title="Bench booklet",
        subject="Customer X, 2026 Q1",
        creation_date=datetime(2026, 1, 1, tzinfo=UTC),
    )


def merge_with_pikepdf_pages(parts: list[bytes]) -> bytes:
    """pikepdf copying the pages only: what `assemble` adds on top of the bare copy."""
    sources = [pikepdf.open(io.BytesIO(data)) for data in parts]
    with pikepdf.new() as out:
        for source in sources:
            out.pages.extend(source.pages)
        buffer = io.BytesIO()
        out.save(buffer, deterministic_id=True)
    for source in sources:
        source.close()
    return buffer.getvalue()


def merge_with_pypdf(parts: list[bytes]) -> bytes:
    writer = pypdf.PdfWriter()
    for number, data in enumerate(parts, start=1):
        writer.append(io.BytesIO(data), outline_item=f"Part {number}")
    writer.add_metadata({"/Title": "Bench booklet", "/Producer": "Paperworks"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def merge_section(args: argparse.Namespace) -> None:
    total = args.parts * args.pages
    parts = [make_pdf(f"Part {n}", args.pages) for n in range(1, args.parts + 1)]
    contenders: list[tuple[str, Callable[[], bytes]]] = [
        ("assemble (pikepdf, everything)", lambda: merge_with_assemble(parts)),
        ("pikepdf: copy pages only", lambda: merge_with_pikepdf_pages(parts)),
        ("pypdf PdfWriter.append + bookmarks", lambda: merge_with_pypdf(parts)),
    ]
    qpdf = shutil.which("qpdf")
    with tempfile.TemporaryDirectory() as folder:
        if qpdf is None:
            print(
                "\n(b) qpdf is not on the PATH (apt-get install qpdf): the qpdf anchor is "
                "skipped; anchor: assemble"
            )
        else:
            paths = [Path(folder, f"{n}.pdf") for n in range(len(parts))]
            for path, data in zip(paths, parts, strict=True):
                path.write_bytes(data)
            out = Path(folder, "out.pdf")
            command = [qpdf, "--empty", "--pages", *map(str, paths), "--", str(out)]

            def cli() -> bytes:
                subprocess.run(command, check=True)
                return out.read_bytes()

            contenders.insert(0, ("anchor: qpdf --empty --pages (CLI)", cli))
        rows = measure(args.rounds, list(contenders))
        sizes = [(name, len(work())) for name, work in contenders]
    report(f"(b) merging {total} pages ({args.parts} PDFs x {args.pages} pages)", rows, anchor=0)
    print("output size")
    for name, size in sizes:
        print(f"{name:<44}{size / 1024:>9.0f} KiB")
    if qpdf is not None:
        verdict(rows, 1, "assemble", "qpdf")


# --- (c) an Excel tab ----------------------------------------------------------------------------


def make_workbook(rows: int) -> bytes:
    """One sheet: a bold, filled header row, then dates, text and numbers with formats; A4, fit
    to width, the header repeated on every page (so LibreOffice prints it as we do)."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = SHEET
    ws.append(["Date", "Customer", "Region", "Units", "Unit price", "Revenue", "Margin"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    regions = ("North", "South", "East", "West")
    for n in range(rows):
        units, price = 10 + n * 7 % 990, 4.5 + n % 37 * 1.25
        ws.append(
            [
                date(2026, 1, 1) + timedelta(days=n % 365),
                f"Customer {n:04d}",
                regions[n % 4],
                units,
                price,
                units * price,
                (n % 41) / 100,
            ]
        )
    for column, (width, number_format) in zip(
        "ABCDEFG",
        [
            (12, "yyyy-mm-dd"),
            (18, "General"),
            (10, "General"),
            (9, "#,##0"),
            (11, '#,##0.00 "€"'),
            (13, "#,##0.00;[Red]-#,##0.00"),
            (8, "0.0%"),
        ],
        strict=True,
    ):
        ws.column_dimensions[column].width = width
        for cell in ws[column][1:]:
            cell.number_format = number_format
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.print_title_rows = "1:1"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def page_count(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return len(document.pages)


def excel_section(args: argparse.Namespace) -> None:
    workbook = make_workbook(args.rows)
    contenders: list[tuple[str, Callable[[], bytes]]] = [
        ("render_sheet (openpyxl + ReportLab)", lambda: render_sheet(workbook, SHEET)),
    ]
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    with tempfile.TemporaryDirectory(prefix="pw-bench-soffice-") as folder:
        if soffice is None:
            print(
                "\n(c) LibreOffice (soffice) is not on the PATH (apt-get install "
                "libreoffice-calc): its lines are skipped; render_sheet alone, no anchor"
            )
        else:
            source = Path(folder, "sales.xlsx")
            source.write_bytes(workbook)
            profile = Path(folder, "profile").as_uri()
            command = [
                soffice,
                f"-env:UserInstallation={profile}",
                "--headless",
                "--norestore",
                "--convert-to",
                "pdf",
                "--outdir",
                folder,
                str(source),
            ]

            def cli() -> bytes:
                subprocess.run(command, check=True, capture_output=True)
                return Path(folder, "sales.pdf").read_bytes()

            contenders.insert(0, ("anchor: soffice --convert-to pdf (warm)", cli))
            contenders.append(
                (
                    "render_sheet_with_libreoffice (fresh)",
                    lambda: render_sheet_with_libreoffice(workbook, SHEET),
                )
            )
        rows = measure(args.sheet_rounds, list(contenders))
        outputs = [(name, work()) for name, work in contenders]
    report(f"(c) an Excel tab of {args.rows} rows x 7 columns to PDF", rows, anchor=0)
    print("output")
    for name, pdf in outputs:
        print(f"{name:<44}{page_count(pdf):>6} pages{len(pdf) / 1024:>9.0f} KiB")


# --- (d) a batch through the app and the local job runner ----------------------------------------


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    await migrations.upgrade(app.state.services.db.engine)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            yield client


async def call(client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> Any:
    response = await client.request(method, f"{API}{path}", **kwargs)
    assert response.status_code in (200, 201, 202), f"{method} {path}: {response.text}"
    return response.json()


async def upload(client: httpx.AsyncClient, filename: str, data: bytes) -> str:
    stored = await call(
        client,
        "POST",
        "/files",
        files={"file": (filename, data, "application/pdf")},
        data={"purpose": "document"},
    )
    file_id: str = stored["id"]
    return file_id


async def set_up_book(client: httpx.AsyncClient, inputs: Inputs) -> str:
    """The booklet of (a) as a book: two static pages, the form with a template for every
    fillable field, and an offer chosen by the customer's tier."""
    ids = {
        name: await upload(client, f"{name}.pdf", data)
        for name, data in (
            ("cover", inputs.cover),
            ("intro", inputs.intro),
            ("form", inputs.form),
            ("gold", inputs.gold),
            ("standard", inputs.standard),
        )
    }
    book = await call(client, "POST", "/books", json={"name": "Quarterly"})
    pages = f"/books/{book['id']}/pages"
    for title, key in (("Cover", "cover"), ("Introduction", "intro")):
        body = {"type": "static", "title": title, "fileId": ids[key]}
        await call(client, "POST", pages, json=body)
    text = {field.name for field in inputs.fields if field.type == "text"}
    templates = {
        name: "{{ customer.name }}" if name in text else value
        for name, value in inputs.values(Customer(1)).items()
    }
    await call(
        client,
        "POST",
        pages,
        json={
            "type": "pdf_form",
            "title": "Details",
            "fileId": ids["form"],
            "config": {"fields": templates},
        },
    )
    offer = await call(
        client,
        "POST",
        pages,
        json={"type": "choosable", "title": "Offer", "config": {"defaultFileId": ids["standard"]}},
    )
    await call(
        client,
        "POST",
        f"{pages}/{offer['id']}/conditions",
        json={
            "attributeKey": "tier",
            "operator": "eq",
            "attributeValue": "gold",
            "targetFileId": ids["gold"],
        },
    )
    book_id: str = book["id"]
    return book_id


async def run_batch(client: httpx.AsyncClient, book_id: str, customer_ids: list[str]) -> float:
    """Seconds from asking for the batch until it reports every booklet made, with its ZIP."""
    started = time.perf_counter()
    batch = await call(
        client,
        "POST",
        f"/books/{book_id}/generate-batch",
        json={"year": 2026, "customerIds": customer_ids},
    )
    while True:
        await asyncio.sleep(POLL_SECONDS)
        state = await call(client, "GET", f"/booklet-batches/{batch['batchId']}")
        if state["queued"] == state["running"] == 0:
            break
    elapsed = time.perf_counter() - started
    assert state["succeeded"] == len(customer_ids), state
    assert state["downloadUrl"], state
    return elapsed


async def batch_samples(args: argparse.Namespace) -> tuple[int, list[float]]:
    inputs = booklet_inputs(args.form)
    with tempfile.TemporaryDirectory(prefix="pw-bench-booklets-") as data:
        settings = Settings(
            data_dir=Path(data),
            password_hash_rounds=4,
            log_level="warning",
            rate_limit_authenticated="1000000/minute",
            rate_limit_anonymous="1000000/minute",
        )
        async with running_app(settings) as client:
            registered = await call(
                client,
                "POST",
                "/auth/register",
                json={"email": "bench@example.com", "password": "correct horse battery"},
            )
            client.headers["Authorization"] = f"Bearer {registered['accessToken']}"
            book_id = await set_up_book(client, inputs)
            customer_ids = []
            for n in range(1, args.booklets + 1):
                customer = Customer(n)
                made = await call(client, "POST", "/customers", json={"name": customer.name})
                await call(
                    client,
                    "POST",
                    f"/customers/{made['id']}/attributes",
                    json={"key": "tier", "value": customer.tier},
                )
                customer_ids.append(made["id"])
            await run_batch(client, book_id, customer_ids[:3])  # warm-up
            samples = [
                await run_batch(client, book_id, customer_ids) * 1000
                for _ in range(args.batch_rounds)
            ]
    return settings.job_slots, samples


def batch_section(args: argparse.Namespace, engines: dict[str, float]) -> None:
    inputs = booklet_inputs(args.form)
    customers = [Customer(n) for n in range(1, args.booklets + 1)]
    if "pikepdf" not in engines:  # (a) was not run: measure its anchor alone
        [(_, samples)] = measure(args.rounds, [("", for_all(with_pikepdf, inputs, customers))])
        engines = {"pikepdf": statistics.median(samples)}
    slots, samples = asyncio.run(batch_samples(args))
    lines = [(f"anchor: (a) pikepdf directly, {args.booklets}", engines["pikepdf"])]
    if "ours" in engines:
        lines.append((f"(a) ours, engines only, {args.booklets}", engines["ours"]))
    lines.append(
        (f"batch: POST until done + ZIP, median of {len(samples)}", statistics.median(samples))
    )
    print(f"\n(d) a batch of {args.booklets} booklets through the app (SQLite, {slots} job slots)")
    print(f"{'scenario':<44}{'s':>9}{'per bklt':>9}{'vs anchor':>15}")
    for name, ms in lines:
        per_booklet = f"{ms / args.booklets:.0f} ms"
        print(f"{name:<44}{ms / 1000:>9.2f}{per_booklet:>9}{ms / engines['pikepdf']:>14.2f}x")
    print("batch runs, s: " + ", ".join(f"{sample / 1000:.2f}" for sample in samples))


# --- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument("--sections", default="abcd", help="which sections to run, e.g. 'ad'")
    parser.add_argument("--rounds", type=int, default=5, help="repeats in (a) and (b)")
    parser.add_argument("--booklets", type=int, default=100, help="booklets in (a) and (d)")
    parser.add_argument(
        "--form", default="pypdf-pdflatex-forms.pdf", help="a form in " + str(FORMS)
    )
    parser.add_argument("--parts", type=int, default=100, help="(b): PDFs to merge")
    parser.add_argument("--pages", type=int, default=10, help="(b): pages in each PDF")
    parser.add_argument("--rows", type=int, default=1000, help="(c): rows of the sheet")
    parser.add_argument("--sheet-rounds", type=int, default=3, help="repeats in (c)")
    parser.add_argument("--batch-rounds", type=int, default=3, help="batches in (d)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.booklets, args.parts, args.rows = 3, 20, 20, 200
        args.sheet_rounds = args.batch_rounds = 1
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its flattening warns about radio XObjects
    print(
        f"paperworks booklets: sections {args.sections}, {args.rounds} rounds; "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{len(os.sched_getaffinity(0))} CPUs; pikepdf {pikepdf.__version__} "
        f"(qpdf {pikepdf.__libqpdf_version__}), pypdf {pypdf.__version__}, "
        f"openpyxl {openpyxl.__version__}"
    )
    engines = booklets_section(args) if "a" in args.sections else {}
    if "b" in args.sections:
        merge_section(args)
    if "c" in args.sections:
        excel_section(args)
    if "d" in args.sections:
        batch_section(args, engines)


if __name__ == "__main__":
    main()
