"""`PAPERWORKS_EXCEL_RENDERER=libreoffice`: booklets draw workbook tabs with LibreOffice, which
computes formulas no application saved a result for (the built-in renderer refuses those)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import httpx
import openpyxl
import pytest

from paperworks.jobs.models import JobStatus
from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database
from paperworks.settings import Settings
from tests.accounts import Account
from tests.booklets.conftest import upload
from tests.booklets.test_booklets_api import get, pdf_texts, post
from tests.conftest import make_settings
from tests.job_runs import run_next

pytestmark = pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed"
)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "data", database_url=database_url, excel_renderer="libreoffice")


def unsaved_formulas() -> bytes:
    """A workbook as a script writes it: a formula with no saved result."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Totals"
    for row in (["Region", "Sales"], ["North", 1200], ["South", 834], ["Total", "=SUM(B2:B3)"]):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def test_a_tab_with_unsaved_formulas_is_computed_by_libreoffice(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    headers = anna.headers
    workbook = await upload(client, headers, "totals.xlsx", unsaved_formulas())
    book = await post(client, headers, "/books", {"name": "Figures"})
    await post(
        client,
        headers,
        f"/books/{book['id']}/pages",
        {"type": "excel", "title": "Totals", "fileId": workbook, "config": {"sheet": "Totals"}},
    )
    customer = await post(client, headers, "/customers", {"name": "Acme"})
    accepted = await post(
        client, headers, f"/books/{book['id']}/generate", {"customerId": customer["id"]}
    )

    assert await run_next(db, runner) == JobStatus.succeeded

    booklet = await get(client, headers, f"/booklets/{accepted['bookletId']}")
    (text,) = pdf_texts((await client.get(booklet["downloadUrl"])).content)
    assert text.split()[-2:] == ["Total", "2034"]
